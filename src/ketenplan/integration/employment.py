"""Work over time (P6.4): expected employment, benefit dependency and benefit cost of permit
holders, per calendar month and per permit cohort.

For a working-age person of permit cohort ``c`` (calendar year of the permit) and nationality
group ``g``, the expected share in paid work ``tau`` years after the permit is::

    e = f * plateau / (1 + (tau / t50_cg) ** (-1 / shape))
    t50_cg = t50_2014 * exp(-speedup * (clip(c, first, last) - 2014)) * group_speed[g]
    f = (1 - waiting_effect) ** ((wait + w * reception_after_permit - reference) / 365.25)

fitted on the CBS cohort figures observed up to 2019 (:mod:`ketenplan.integration.fit`; the
defaults are in :class:`~ketenplan.scenario.pillar6.Employment`). ``f`` is the effect of waiting
(Hainmueller, Hangartner & Lawrence 2016): a faster chain raises later employment. It applies to
the asylum streams (``waiting_effect_streams``); nareis and resettled cases take ``f = 1``.

Housed working-age persons who are not in work depend on social assistance with share
``floor + (top - floor) * (1 - e / plateau) ** power``; before housing they live on the COA
allowance, which the chain costs as reception. Benefit cost is that share times the net
Participatiewet norm (single adult, or half the couple norm per adult) plus holiday allowance.

All results are expected values (shares x persons): no random draws. The monthly computation
bins cases by (cohort cell, permit month, months from permit to housing) and sums Toeplitz
products of the bins with the curve, so it costs O(cases) + O(cells x months^2). Benefits, which
are not linear in employment, use the mean waiting factor of the persons in one bin (exact when
waits are equal within a bin; otherwise off by a second-order term, under 1 % in the tests).
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ketenplan.integration.cases import Cases, as_cases, month_starts
from ketenplan.integration.curves import benefit_share, cohort_t50, employment_share, waiting_factor
from ketenplan.scenario.pillar6 import Employment, IntegrationParams

log = logging.getLogger(__name__)

__all__ = ["employment_over_time", "employment_by_cohort", "case_employment", "waiting_factors",
           "YEAR_BUCKETS"]

#: Years-since-permit buckets of the monthly table: [0,1), [1,2), [2,3), [3,4), [4,5), 5+.
YEAR_BUCKETS = ("0", "1", "2", "3", "4", "5plus")
_DAYS_PER_YEAR = 365.25


def _emp(params: Employment | IntegrationParams | None) -> Employment:
    if params is None:
        return Employment()
    return params.employment if isinstance(params, IntegrationParams) else params


def waiting_factors(c: Cases, p: Employment) -> np.ndarray:
    """Per-case employment multiplier for waiting beyond the fitted cohorts' reference [-]."""
    w = p.reception_after_permit_weight
    extra = ((c.wait_days + w * c.reception_days_after_permit)
             - (p.reference_wait_days + w * p.reference_reception_after_permit_days)) / _DAYS_PER_YEAR
    applies = np.array([n in p.waiting_effect_streams for n in c.stream_names], dtype=bool)[c.stream]
    return np.where(applies, waiting_factor(extra, p.waiting_effect_per_year, cap=1.0 / p.plateau), 1.0)


def _group_speed(c: Cases, p: Employment) -> np.ndarray:
    return np.array([p.group_speed.get(n, 1.0) for n in c.group_names], dtype=float)[c.group]


def _case_t50(c: Cases, p: Employment) -> np.ndarray:
    cohort = c.year_of(c.permit_day)
    return cohort_t50(cohort, p.t50_years, p.cohort_speedup_per_year, p.cohort_first, p.cohort_last, _group_speed(c, p))


def _benefit_eur_month(c: Cases, p: Employment) -> np.ndarray:
    """Net benefit per adult per month [EUR] by household: single norm, or half the couple norm."""
    per_adult = np.where(c.adults <= 1.0, p.benefit_single_eur_month, 0.5 * p.benefit_couple_eur_month)
    return per_adult * (1.0 + p.holiday_allowance)


def case_employment(cases: Mapping[str, Any] | Cases, params: Employment | IntegrationParams | None = None,
                    years_since_permit: float = 3.0, **grid: Any) -> np.ndarray:
    """Expected share in work of each case's working-age adults ``years_since_permit`` after the permit."""
    c = as_cases(cases, **grid)
    p = _emp(params)
    e = employment_share(years_since_permit, _case_t50(c, p), p.shape, p.plateau) * waiting_factors(c, p)
    return np.minimum(e, 1.0)


def employment_over_time(cases: Mapping[str, Any] | Cases, params: Employment | IntegrationParams | None = None,
                         **grid: Any) -> pd.DataFrame:
    """Per calendar month: working-age permit holders (in total and by years since permit), expected
    employed, housed, on benefits, and the monthly benefit cost.

    Columns: ``month`` (first day), ``working_age``, ``employed``, ``employment_rate``,
    ``housed_working_age``, ``on_benefits``, ``benefit_cost_eur`` [EUR in that month],
    ``working_age_y<b>`` and ``employed_y<b>`` for the buckets in :data:`YEAR_BUCKETS`.
    ``grid`` takes ``day0``, ``horizon_days``, ``group_names``, ``stream_names`` when they are not
    keys of ``cases``.
    """
    c = as_cases(cases, **grid)
    p = _emp(params)
    n_m = c.n_months
    out = {k: np.zeros(n_m) for k in ("working_age", "employed", "housed_working_age", "on_benefits",
                                      "benefit_cost_eur")}
    for b in YEAR_BUCKETS:
        out[f"working_age_y{b}"] = np.zeros(n_m)
        out[f"employed_y{b}"] = np.zeros(n_m)
    weight = c.adults * p.working_age_share_of_adults
    pm = c.month_of(c.permit_day)
    keep = (pm < n_m) & (weight > 0)
    if keep.any():
        _accumulate(c, p, keep, pm, weight, out, n_m)
    df = pd.DataFrame({"month": month_starts(c.day0, n_m), **out})
    wa = df["working_age"].to_numpy()
    df["employment_rate"] = np.divide(df["employed"].to_numpy(), wa, out=np.zeros(n_m), where=wa > 0)
    cols = ["month", "working_age", "employed", "employment_rate", "housed_working_age", "on_benefits",
            "benefit_cost_eur"] + [f"{k}_y{b}" for k in ("working_age", "employed") for b in YEAR_BUCKETS]
    return df[cols]


def _accumulate(c: Cases, p: Employment, keep: np.ndarray, pm: np.ndarray, weight: np.ndarray,
                out: dict[str, np.ndarray], n_m: int) -> None:
    """Fill ``out`` (arrays over the n_m output months) from the kept cases, cell by cell."""
    p0 = min(0, int(pm[keep].min()))                 # months before day0 with permits
    L = n_m - p0                                      # permit-month axis length
    K = L - 1                                         # largest months-since-permit offset
    pp = (pm[keep] - p0).astype(np.int64)
    hm = np.where(c.housed[keep], c.month_of(np.maximum(c.housed_day[keep], 0)) - pm[keep], K + 1)
    rr = np.clip(hm, 0, K + 1).astype(np.int64)      # months from permit to housing; K+1 = never
    w = weight[keep]
    f = waiting_factors(c, p)[keep]
    cost = _benefit_eur_month(c, p)[keep]
    t50 = _case_t50(c, p)[keep]
    cells, cell_id = _t50_cells(t50, c.year_of(c.permit_day)[keep], c.group[keep])
    n_cell = len(cells)
    tau = (np.arange(K + 1) + 0.5) / 12.0             # years since permit at each month offset
    bucket = np.minimum(np.arange(K + 1) // 12, len(YEAR_BUCKETS) - 1)
    R = K + 2
    flat = (cell_id * L + pp) * R + rr
    size = n_cell * L * R
    h_w = np.bincount(flat, weights=w, minlength=size).reshape(n_cell, L, R)
    h_c = np.bincount(flat, weights=w * cost, minlength=size).reshape(n_cell, L, R)
    h_f = np.bincount(flat, weights=w * f, minlength=size).reshape(n_cell, L, R)
    hf = np.bincount(cell_id * L + pp, weights=w * f, minlength=n_cell * L).reshape(n_cell, L)
    pk = np.arange(L)[:, None] + np.arange(K + 1)[None, :]    # output month index (shifted) per (p', k)
    for j in range(n_cell):
        hw_p = h_w[j].sum(axis=1)
        rows = np.flatnonzero(hw_p > 0)
        if rows.size == 0:
            continue
        T = employment_share(tau, cells[j], p.shape, p.plateau)
        # employed and working age by months since permit: Toeplitz sums over p' + k = m'
        for b in range(len(YEAR_BUCKETS)):
            ind = bucket == b
            out[f"working_age_y{YEAR_BUCKETS[b]}"] += _diag_sum(np.outer(hw_p[rows], ind), rows, pk, L, p0, n_m)
            out[f"employed_y{YEAR_BUCKETS[b]}"] += _diag_sum(np.outer(hf[j, rows], T * ind), rows, pk, L, p0, n_m)
        # housed persons by offset k: cumulative over months-to-housing r <= k
        housed_w = np.cumsum(h_w[j, rows, : K + 1], axis=1)
        housed_c = np.cumsum(h_c[j, rows, : K + 1], axis=1)
        # mean waiting factor of the persons housed by offset k (housing time and waiting correlate)
        housed_f = np.cumsum(h_f[j, rows, : K + 1], axis=1)
        fbar = np.divide(housed_f, housed_w, out=np.zeros_like(housed_f), where=housed_w > 0)
        e2 = np.minimum(fbar * T[None, :], 1.0)
        b2 = benefit_share(e2, p.plateau, p.benefit_top, p.benefit_floor, p.benefit_power)
        out["housed_working_age"] += _diag_sum(housed_w, rows, pk, L, p0, n_m)
        out["on_benefits"] += _diag_sum(housed_w * b2, rows, pk, L, p0, n_m)
        out["benefit_cost_eur"] += _diag_sum(housed_c * b2, rows, pk, L, p0, n_m)
    for k in ("working_age", "employed"):
        out[k] += sum(out[f"{k}_y{b}"] for b in YEAR_BUCKETS)


def _t50_cells(t50: np.ndarray, cohort: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(np.round(t50, 12), return_inverse=True)`` without sorting every case: a case's t50
    depends on its cohort and group only (:func:`_case_t50`), so the few (cohort, group) pairs are found
    by counting and only their values are sorted. The same cells and cell of each case."""
    if t50.size == 0:
        return np.unique(np.round(t50, 12), return_inverse=True)
    cohort = np.asarray(cohort, np.int64)
    group = np.asarray(group, np.int64)
    c0, n_g = int(cohort.min()), int(group.max()) + 1
    key = (cohort - c0) * n_g + group
    first = np.full(int(key.max()) + 1, -1, np.int64)
    first[key[::-1]] = np.arange(key.size - 1, -1, -1)  # the first case of every pair
    pairs = np.flatnonzero(first >= 0)
    cells, pair_cell = np.unique(np.round(t50[first[pairs]], 12), return_inverse=True)
    pair_of_key = np.zeros(first.size, np.int64)
    pair_of_key[pairs] = np.arange(pairs.size)
    return cells, pair_cell.reshape(-1)[pair_of_key[key]]


def _diag_sum(values: np.ndarray, rows: np.ndarray, pk: np.ndarray, L: int, p0: int, n_m: int) -> np.ndarray:
    """Sum ``values[i, k]`` (permit-month row ``rows[i]``, offset k) into output month ``rows[i] + k + p0``."""
    idx = pk[rows]
    s = np.bincount(idx.ravel(), weights=values.ravel(), minlength=L + pk.shape[1])
    return s[-p0: -p0 + n_m]


def employment_by_cohort(cases: Mapping[str, Any] | Cases, params: Employment | IntegrationParams | None = None,
                         years: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0), **grid: Any) -> pd.DataFrame:
    """Per permit cohort (calendar year of the permit): working-age persons, mean wait, mean
    waiting factor, expected share employed ``years`` after the permit (``employed_<y>y``) and
    the share on benefits 3 years after the permit if housed by then (``on_benefits_3y``).

    These are model expectations for the cohort, also where ``permit + years`` lies beyond the
    horizon; ``beyond_horizon_3y`` gives the share of the cohort's persons for which it does.
    """
    c = as_cases(cases, **grid)
    p = _emp(params)
    w = c.adults * p.working_age_share_of_adults
    cohort = c.year_of(c.permit_day)
    f = waiting_factors(c, p)
    t50 = _case_t50(c, p)
    data = {"cohort": cohort, "w": w, "wait": w * c.wait_days, "f": w * f,
            "beyond": w * (c.permit_day + 3 * _DAYS_PER_YEAR >= c.horizon_days)}
    for y in years:
        data[f"employed_{y:g}y"] = w * np.minimum(f * employment_share(y, t50, p.shape, p.plateau), 1.0)
    e3 = np.minimum(f * employment_share(3.0, t50, p.shape, p.plateau), 1.0)
    data["on_benefits_3y"] = w * benefit_share(e3, p.plateau, p.benefit_top, p.benefit_floor, p.benefit_power)
    g = pd.DataFrame(data).groupby("cohort").sum()
    res = pd.DataFrame({"working_age": g["w"]})
    denom = g["w"].where(g["w"] > 0)
    res["mean_wait_days"] = g["wait"] / denom
    res["waiting_factor"] = g["f"] / denom
    for y in years:
        res[f"employed_{y:g}y"] = g[f"employed_{y:g}y"] / denom
    res["on_benefits_3y"] = g["on_benefits_3y"] / denom
    res["beyond_horizon_3y"] = g["beyond"] / denom
    return res.reset_index()
