"""The integration post-processor's per-replicate path from the replicate's arrays (P0.1, P0.3).

:mod:`ketenplan.integration.post` runs this once per replicate: one compiled pass over the
replicate's cases builds the permit holders' cases (the definitions of
:func:`~ketenplan.integration.post.chain_cases`), the IND load (as
:func:`~ketenplan.integration.post.ind_load`) and every per-case sum of the models
(:func:`~ketenplan.integration.employment.employment_over_time`,
:func:`~ketenplan.integration.employment.employment_by_cohort`,
:func:`~ketenplan.integration.civic.civic_integration`,
:func:`~ketenplan.integration.civic.civic_by_cohort`); the models' curves are tabulated once per
scenario and grid (a per-process cache): the employment curve per (cohort, group) pair and per
month since the permit, the civic-integration terms per whole day from the permit to housing.
The tables come as NumPy columns (:func:`replicate_columns`, what the ensemble's workers use) or
as frames built from them (:func:`replicate_tables`).

Those model functions and ``chain_cases`` / ``ind_load`` on a journeys frame stay the reference:
tests/integration/test_integration_fast.py checks that this path gives their tables. The numbers
are the same up to the order of summation (sums per cohort and per month accumulate case by case
here; pandas and numpy sum by blocks): relative differences of order 1e-15.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import registry as R
from ketenplan.engine.index import unsigned as _u  # a[_u(i)]: no negative-index fix-up
from ketenplan.integration.cases import (DEFAULT_GROUP_NAMES, DEFAULT_STREAM_NAMES, IND_STREAMS, PERMIT_OUTCOMES,
                                         REGULAR_STREAMS, month_starts)
from ketenplan.integration.civic import monthly_from_histograms
from ketenplan.integration.curves import (benefit_share, cohort_t50, employment_share, lognormal_cdf, lognormal_mean,
                                          waiting_factor)
from ketenplan.integration.employment import YEAR_BUCKETS
from ketenplan.scenario.pillar6 import CivicIntegration, Employment

__all__ = ["replicate_tables", "replicate_columns", "ReplicateIntegration"]

_DAYS_PER_YEAR = 365.25
#: years after the permit of the cohort table's ``employed_<y>y`` columns (employment_by_cohort's default)
EMP_YEARS = (1.0, 2.0, 3.0, 5.0)
#: years within which the cohort table counts civic integration passed (civic_by_cohort's default)
CIVIC_WITHIN_YEARS = 3.0
_G = len(DEFAULT_GROUP_NAMES)  # the employment model's nationality groups (recognition bands)

# float parameters of the pass (indexes into its ``fp`` array)
(F_WA_SHARE, F_RAP_WEIGHT, F_REF_WAIT, F_WAIT_BASE, F_CAP, F_COST_SINGLE, F_COST_COUPLE, F_PLATEAU, F_TOP,
 F_FLOOR, F_POWER, F_OBLIGED, F_EARLY_SHARE, F_EXEMPT13, F_EXEMPT21, F_PASS13, F_BY13, F_MEAN13, F_WSUM,
 F_HORIZON3, N_F) = range(21)
# integer parameters (``ip``)
I_T, I_DAY0, I_MONTH0, I_N_MONTHS, I_YEAR0, I_N_YEARS, I_START, I_START21, I_JOINED, I_N_STREAMS, N_I = range(11)
# columns of the cohort sums: employment_by_cohort's, then civic_by_cohort's
EMP_SUMS = ("w", "wait", "f", "beyond") + tuple(f"employed_{y:g}y" for y in EMP_YEARS) + ("on_benefits_3y",)
CIV_SUMS = ("obliged", "wi2021", "exempt", "by", "t", "passers", "pip", "unhoused")
_N_SUMS = len(EMP_SUMS) + len(CIV_SUMS)


# ----------------------------------------------------------------------------------------------
# calendar arithmetic in the kernel
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _year_month(days: int) -> tuple[int, int]:
    """Calendar year and month (1..12) of a day counted from 1970-01-01 (proleptic Gregorian;
    H. Hinnant's ``civil_from_days``): numpy's datetime64 calendar, in integer arithmetic."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m


@njit(cache=True, nogil=True)
def calendar_of_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Years and months since 1970 (numpy's ``datetime64[Y]`` / ``[M]`` counts) of days since 1970."""
    ys = np.empty(days.size, np.int64)
    ms = np.empty(days.size, np.int64)
    for i in range(days.size):
        y, m = _year_month(days[i])
        ys[i] = y - 1970
        ms[i] = (y - 1970) * 12 + m - 1
    return ys, ms


@njit(cache=True, nogil=True, inline="always")
def _month(day: int, day0: int, month0: int, month_lut: np.ndarray) -> int:
    """Calendar month of a grid day counted from the grid's first month: from the grid's table
    (:func:`calendar_of_days` of its days and a margin), by the calendar outside it."""
    if 0 <= day < month_lut.size:
        return month_lut[_u(day)]
    y, m = _year_month(day0 + day)
    return (y - 1970) * 12 + m - 1 - month0


@njit(cache=True, nogil=True, inline="always")
def _kahan(s: np.ndarray, comp: np.ndarray, i: int, j: int, x: float) -> None:
    """``s[i, j] += x`` with a compensation term (as pandas' grouped sum)."""
    y = x - comp[_u(i), _u(j)]
    t = s[_u(i), _u(j)] + y
    comp[_u(i), _u(j)] = t - s[_u(i), _u(j)] - y
    s[_u(i), _u(j)] = t


@njit(cache=True, nogil=True, inline="always")
def _benefit_share(e: float, plateau: float, top: float, floor: float, power: float) -> float:
    """:func:`~ketenplan.integration.curves.benefit_share` of one employment share."""
    x = min(max(e / plateau, 0.0), 1.0)
    return floor + (top - floor) * (1.0 - x) ** power


# ----------------------------------------------------------------------------------------------
# the pass over the cases
# ----------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, _nrt=False)
def _case_loop(arrival, reg_day, dec_day, housed_day, outcome, exit_reason, stream, group, size, children,
               month_of_day, fp, ip, permit_outcome, stream_lut, asylum, ind_stream, regular, band_of_group,
               applies, pair_cell, emp_pair, early_round, late_round, by21, t21, pip, month_lut, year_lut,
               rap_days, f_tab, level_of_pair, b3_tab, b3_one, ind, kpi, kpi_comp, c_pm, c_rr, c_cell, c_w, c_f,
               c_cost, cell_used, sums, comp, n_year, civ_h):
    """:func:`_pass`' loop over the cases into the arrays it allocated; returns the number of permit
    holders noted. Without numba's reference counting (it allocates nothing): with it, the arrays
    handed to the inlined ``_kahan`` and ``_month`` were counted in and out with atomic calls at
    every use. The same sums."""
    T, day0, month0, n_m = ip[I_T], ip[I_DAY0], ip[I_MONTH0], ip[I_N_MONTHS]
    si, start21, joined_code, S = ip[I_START], ip[I_START21], ip[I_JOINED], ip[I_N_STREAMS]
    n = arrival.size
    k_ = 0
    for i in range(n):
        a = arrival[_u(i)]
        if a < 0 or a >= T:
            continue
        st = stream[_u(i)]
        reg, dec = reg_day[_u(i)], dec_day[_u(i)]
        if ind_stream[_u(st)] and reg >= 0:
            w = float(size[_u(i)])
            key = month_of_day[_u(reg)] * S + st
            ind[0, _u(key)] += 1.0
            ind[1, _u(key)] += w
            if dec >= 0:
                weeks = (dec - reg) / 7.0
                key = month_of_day[_u(dec)] * S + st
                ind[2, _u(key)] += 1.0
                ind[3, _u(key)] += w
                ind[4, _u(key)] += w * weeks
                if regular[_u(st)] and dec >= si:
                    _kahan(kpi, kpi_comp, 0, 0, w)
                    _kahan(kpi, kpi_comp, 0, 1, weeks * w)
        s4 = stream_lut[_u(st)]
        if not permit_outcome[_u(outcome[_u(i)])] or s4 < 0:
            continue
        # chain_cases: permit, housed, days in reception after the permit, wait
        permit = dec if dec >= 0 else a
        housed = housed_day[_u(i)]
        if exit_reason[_u(i)] == joined_code and housed < 0:
            housed = permit
        if housed >= 0 and housed < permit:
            housed = permit
        after = housed - permit if housed >= 0 else max(T - permit, 0)
        wait = max(permit - reg, 0) if (asylum[_u(st)] and reg >= 0) else 0
        adults = float(size[_u(i)] - children[_u(i)])
        band = band_of_group[_u(group[_u(i)])]
        pm = _month(permit, day0, month0, month_lut)
        yi = year_lut[_u(permit)]  # a grid day (permit < T)
        pair = yi * _G + band
        n_year[_u(yi)] += 1
        # employment: waiting factor, cohort sums and the (cell, permit month, months to housing) bins
        wa = adults * fp[F_WA_SHARE]
        if applies[_u(s4)]:
            x = wait + rap_days * after
            if 0 <= rap_days and x < f_tab.size:  # a whole-day weight: tabulated
                f = f_tab[_u(x)]
                b3 = b3_tab[_u(level_of_pair[_u(pair)]), _u(x)]
            else:
                extra = ((wait + fp[F_RAP_WEIGHT] * after) - fp[F_REF_WAIT]) / _DAYS_PER_YEAR
                f = min(fp[F_WAIT_BASE] ** extra, fp[F_CAP])
                b3 = _benefit_share(min(f * emp_pair[_u(pair), 2], 1.0), fp[F_PLATEAU], fp[F_TOP], fp[F_FLOOR],
                                    fp[F_POWER])  # EMP_YEARS[2] == 3
        else:
            f = 1.0
            b3 = b3_one[_u(pair)]
        _kahan(sums, comp, yi, 0, wa)
        _kahan(sums, comp, yi, 1, wa * wait)
        _kahan(sums, comp, yi, 2, wa * f)
        _kahan(sums, comp, yi, 3, wa * (1.0 if permit + fp[F_HORIZON3] >= T else 0.0))
        for q in range(emp_pair.shape[1]):
            _kahan(sums, comp, yi, 4 + q, wa * min(f * emp_pair[_u(pair), _u(q)], 1.0))
        _kahan(sums, comp, yi, 8, wa * b3)
        if permit >= si and wa > 0:
            _kahan(kpi, kpi_comp, 0, 2, f * wa)
            _kahan(kpi, kpi_comp, 0, 3, wa)
        if wa > 0 and pm < n_m:
            if housed >= 0:
                rr = min(max(_month(housed, day0, month0, month_lut) - pm, 0), n_m)
            else:
                rr = n_m
            cell = pair_cell[_u(pair)]
            cell_used[_u(cell)] = True
            c_pm[_u(k_)], c_rr[_u(k_)], c_cell[_u(k_)] = pm, rr, cell
            c_w[_u(k_)], c_f[_u(k_)] = wa, f
            c_cost[_u(k_)] = fp[F_COST_SINGLE] if adults <= 1.0 else fp[F_COST_COUPLE]
            k_ += 1
        # civic integration: monthly histograms and cohort sums
        nob = adults * fp[F_OBLIGED]
        is21 = permit >= start21
        d = housed - permit if housed >= 0 else after
        d = max(d, 0)
        if nob != 0 and pm < n_m:
            civ_h[0, _u(pm)] += nob
            if is21:
                civ_h[2, _u(pm)] += nob
            else:
                civ_h[1, _u(pm)] += nob
        if is21 and nob != 0:
            em = _month(permit + early_round[_u(d)], day0, month0, month_lut)
            if em < n_m:
                civ_h[3, _u(em)] += nob * fp[F_EARLY_SHARE]
            if housed >= 0:
                lm = _month(permit + late_round[_u(d)], day0, month0, month_lut)
                if lm < n_m:
                    civ_h[4, _u(lm)] += nob * (1.0 - fp[F_EARLY_SHARE])
        b = 9
        _kahan(sums, comp, yi, b, nob)
        if is21:
            passers = fp[F_WSUM] * nob
            _kahan(sums, comp, yi, b + 1, nob)
            _kahan(sums, comp, yi, b + 2, nob * fp[F_EXEMPT21])
            _kahan(sums, comp, yi, b + 3, nob * by21[_u(d)])
            _kahan(sums, comp, yi, b + 4, passers * t21[_u(d)])
            _kahan(sums, comp, yi, b + 6, nob * pip[_u(d)])
        else:
            passers = fp[F_PASS13] * nob
            _kahan(sums, comp, yi, b + 2, nob * fp[F_EXEMPT13])
            _kahan(sums, comp, yi, b + 3, nob * fp[F_BY13])
            _kahan(sums, comp, yi, b + 4, passers * fp[F_MEAN13])
        _kahan(sums, comp, yi, b + 5, passers)
        if housed < 0:
            _kahan(sums, comp, yi, b + 7, nob)

    return k_


@njit(cache=True, nogil=True)
def _pass(arrival, reg_day, dec_day, housed_day, outcome, exit_reason, stream, group, size, children, month_of_day,
          fp, ip, permit_outcome, stream_lut, asylum, ind_stream, regular, band_of_group, applies, pair_cell,
          n_cells, emp_pair, early_round, late_round, by21, t21, pip, month_lut, year_lut, rap_days, f_tab,
          level_of_pair, b3_tab, b3_one):
    """Everything the post-processor sums over cases: one loop over the cases (IND load, key-figure
    sums, cohort sums, civic-integration histograms; the permit holders' employment bins noted),
    then one over the noted permit holders into the employment bins of the cells they use. See
    :func:`replicate_tables`."""
    n_m, n_years, S = ip[I_N_MONTHS], ip[I_N_YEARS], ip[I_N_STREAMS]
    n = arrival.size
    # IND load per (grid month, stream): applications and decisions (count, persons, persons x weeks)
    ind = np.zeros((5, n_m * S))
    # key-figure sums (compensated: over all cases): regular decisions' persons and persons x weeks,
    # the waiting factor x working age and the working age
    kpi = np.zeros((1, 4))
    kpi_comp = np.zeros((1, 4))
    # the permit holders, in case order
    c_pm = np.empty(n, np.int64)
    c_rr = np.empty(n, np.int64)
    c_cell = np.empty(n, np.int64)
    c_w = np.empty(n)
    c_f = np.empty(n)
    c_cost = np.empty(n)
    cell_used = np.zeros(n_cells, np.bool_)
    sums = np.zeros((n_years, _N_SUMS))
    comp = np.zeros((n_years, _N_SUMS))
    n_year = np.zeros(n_years, np.int64)
    civ_h = np.zeros((5, n_m))  # obliged, wi2013, wi2021 by permit month; wi2021 early and late starts
    k_ = _case_loop(arrival, reg_day, dec_day, housed_day, outcome, exit_reason, stream, group, size, children,
                    month_of_day, fp, ip, permit_outcome, stream_lut, asylum, ind_stream, regular,
                    band_of_group, applies, pair_cell, emp_pair, early_round, late_round, by21, t21, pip,
                    month_lut, year_lut, rap_days, f_tab, level_of_pair, b3_tab, b3_one, ind, kpi, kpi_comp,
                    c_pm, c_rr, c_cell, c_w, c_f, c_cost, cell_used, sums, comp, n_year, civ_h)
    # employment over time: bins per used cell, then the sums over permit month + months since permit
    cell_of = np.full(n_cells, -1, np.int64)
    used = 0
    for c in range(n_cells):
        if cell_used[c]:
            cell_of[c] = used
            used += 1
    Rn = n_m + 1
    h = np.zeros((3, used, n_m, Rn))  # working age, x benefit cost, x waiting factor
    hf = np.zeros((used, n_m))
    for q in range(k_):
        j = cell_of[c_cell[q]]
        p, r, w = c_pm[q], c_rr[q], c_w[q]
        h[0, j, p, r] += w
        h[1, j, p, r] += w * c_cost[q]
        h[2, j, p, r] += w * c_f[q]
        hf[j, p] += w * c_f[q]
    return ind, kpi[0], sums, n_year, civ_h, cell_of, h, hf


@njit(cache=True, nogil=True)
def _over_time(h, hf, hw_p, curve, bucket, n_buckets, fp):
    """Employment over time of the used cells: working age and employed by years-since-permit
    bucket, housed working age, on benefits and benefit cost per output month (employment.py's
    ``_accumulate``: per cell the sum over permit month p and months since permit k = m - p)."""
    used, n_m = hf.shape
    res = np.zeros((2 * n_buckets + 3, n_m))
    part = np.zeros((2 * n_buckets + 3, n_m))
    for j in range(used):
        part[:] = 0.0
        any_row = False
        for p in range(n_m):
            if hw_p[_u(j), _u(p)] <= 0:
                continue
            any_row = True
            cw = 0.0
            cc = 0.0
            cf = 0.0
            for k in range(n_m - p):
                m = p + k
                b = bucket[_u(k)]
                e = curve[_u(j), _u(k)]
                part[_u(b), _u(m)] += hw_p[_u(j), _u(p)]
                part[_u(n_buckets + b), _u(m)] += hf[_u(j), _u(p)] * e
                cw += h[0, _u(j), _u(p), _u(k)]
                cc += h[1, _u(j), _u(p), _u(k)]
                cf += h[2, _u(j), _u(p), _u(k)]
                fbar = cf / cw if cw > 0 else 0.0
                e2 = min(fbar * e, 1.0)
                b2 = _benefit_share(e2, fp[F_PLATEAU], fp[F_TOP], fp[F_FLOOR], fp[F_POWER])
                part[_u(2 * n_buckets), _u(m)] += cw
                part[_u(2 * n_buckets + 1), _u(m)] += cw * b2
                part[_u(2 * n_buckets + 2), _u(m)] += cc * b2
        if any_row:
            res += part
    return res


# ----------------------------------------------------------------------------------------------
# tables per scenario and grid (cached per process)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tables:
    fp: np.ndarray
    ip: np.ndarray
    permit_outcome: np.ndarray
    stream_lut: np.ndarray
    asylum: np.ndarray
    ind_stream: np.ndarray
    regular: np.ndarray
    band_of_group: np.ndarray
    applies: np.ndarray
    pair_cell: np.ndarray
    cells: np.ndarray
    emp_pair: np.ndarray
    curve: np.ndarray
    bucket: np.ndarray
    early_round: np.ndarray
    late_round: np.ndarray
    by21: np.ndarray
    t21: np.ndarray
    pip: np.ndarray
    month_lut: np.ndarray
    year_lut: np.ndarray
    rap_days: int
    f_tab: np.ndarray
    level_of_pair: np.ndarray
    b3_tab: np.ndarray
    b3_one: np.ndarray
    months: pd.DatetimeIndex
    ind_months: pd.DatetimeIndex
    ind_first: int
    months_np: np.ndarray  # the months as datetime64[ns]
    ind_months_np: np.ndarray
    stream_order: np.ndarray  # the engine's streams by name
    stream_names: np.ndarray  # their names in that order (object)


def _table(names: tuple[str, ...], wanted) -> np.ndarray:
    return np.array([n in wanted for n in names], np.bool_)


_CACHE: dict = {}


def _tables(scenario, group_names: tuple[str, ...], grid) -> _Tables:
    """The scenario's and grid's tables, built once per process (at most 8 kept)."""
    emp, civ = scenario.employment, scenario.civic_integration
    bands = tuple((g.name, g.band) for g in scenario.groups)
    # every parameter read by name (a scenario view that records what is read sees them all)
    key = (repr([getattr(emp, n) for n in Employment.model_fields]),
           repr([getattr(civ, n) for n in CivicIntegration.model_fields]), bands, tuple(group_names), grid.day0,
           grid.start, grid.end, grid.T, grid.start_index)
    t = _CACHE.get(key)
    if t is None:
        if len(_CACHE) >= 8:
            _CACHE.clear()
        t = _CACHE[key] = _build_tables(emp, civ, dict(bands), tuple(group_names), grid)
    return t


def _build_tables(p, cp, bands: dict[str, str], group_names: tuple[str, ...], grid) -> _Tables:
    T = int(grid.T)
    d0 = np.datetime64(grid.day0, "D")
    day0 = int(d0.astype(np.int64))
    month0 = int(d0.astype("datetime64[M]").astype(np.int64))
    last = d0 + np.timedelta64(T - 1, "D")
    n_m = int(last.astype("datetime64[M]").astype(np.int64)) - month0 + 1  # Cases.n_months
    year0 = int(d0.astype("datetime64[Y]").astype(np.int64)) + 1970
    n_years = int(last.astype("datetime64[Y]").astype(np.int64)) + 1970 - year0 + 1
    start21 = int((np.datetime64(cp.wi2021_start, "D") - d0).astype(int))
    ip = np.zeros(N_I, np.int64)
    ip[[I_T, I_DAY0, I_MONTH0, I_N_MONTHS, I_YEAR0, I_N_YEARS, I_START, I_START21, I_JOINED, I_N_STREAMS]] = (
        T, day0, month0, n_m, year0, n_years, int(grid.start_index), start21, R.EXITS.index("joined_sponsor"),
        len(R.STREAM_NAMES))
    # employment: waiting factor, cost, curves per (cohort, band) pair and per cell of equal t50
    w = p.reception_after_permit_weight
    fp = np.zeros(N_F)
    fp[F_WA_SHARE] = p.working_age_share_of_adults
    fp[F_RAP_WEIGHT] = w
    fp[F_REF_WAIT] = p.reference_wait_days + w * p.reference_reception_after_permit_days
    fp[F_WAIT_BASE] = 1.0 - p.waiting_effect_per_year
    fp[F_CAP] = 1.0 / p.plateau
    fp[F_COST_SINGLE] = p.benefit_single_eur_month * (1.0 + p.holiday_allowance)
    fp[F_COST_COUPLE] = 0.5 * p.benefit_couple_eur_month * (1.0 + p.holiday_allowance)
    fp[F_PLATEAU], fp[F_TOP], fp[F_FLOOR], fp[F_POWER] = p.plateau, p.benefit_top, p.benefit_floor, p.benefit_power
    fp[F_HORIZON3] = 3 * _DAYS_PER_YEAR
    cohort = np.repeat(np.arange(year0, year0 + n_years), _G)
    speed = np.tile(np.array([p.group_speed.get(n, 1.0) for n in DEFAULT_GROUP_NAMES], dtype=float), n_years)
    t50 = cohort_t50(cohort, p.t50_years, p.cohort_speedup_per_year, p.cohort_first, p.cohort_last, speed)
    cells, pair_cell = np.unique(np.round(t50, 12), return_inverse=True)
    emp_pair = np.stack([employment_share(y, t50, p.shape, p.plateau) for y in EMP_YEARS], axis=1)
    assert EMP_YEARS[2] == 3.0  # the kernel's benefit share 3 years after the permit
    tau = (np.arange(n_m) + 0.5) / 12.0
    curve = np.stack([employment_share(tau, c, p.shape, p.plateau) for c in cells])
    bucket = np.minimum(np.arange(n_m) // 12, len(YEAR_BUCKETS) - 1).astype(np.int64)
    # the waiting factor and the benefit share 3 years after the permit by whole days waited (wait +
    # weight x days in reception after the permit) when the weight is a whole number, per t50 level
    # (the distinct t50 of the pairs); cases without the waiting effect per pair (f = 1)
    e3_pair = emp_pair[:, 2]
    b3_one = benefit_share(np.minimum(1.0 * e3_pair, 1.0), p.plateau, p.benefit_top, p.benefit_floor, p.benefit_power)
    levels, level_of_pair = np.unique(t50, return_inverse=True)
    rap_days = int(w) if float(w).is_integer() and 0 <= w <= 4 else -1
    if rap_days >= 0:
        xs = np.arange((1 + rap_days) * T + 1, dtype=float)
        f_tab = waiting_factor((xs - fp[F_REF_WAIT]) / _DAYS_PER_YEAR, p.waiting_effect_per_year, cap=1.0 / p.plateau)
        e3_level = np.array([e3_pair[level_of_pair.reshape(-1) == k][0] for k in range(len(levels))])
        b3_tab = benefit_share(np.minimum(f_tab[None, :] * e3_level[:, None], 1.0), p.plateau, p.benefit_top,
                               p.benefit_floor, p.benefit_power)
    else:
        f_tab, b3_tab = np.zeros(0), np.zeros((0, 0))
    # civic integration: the terms of a case by whole days from the permit to the (late) start
    y = CIVIC_WITHIN_YEARS
    delay = np.arange(T + 1, dtype=float)
    early = np.minimum(cp.koppeling_days, delay) + cp.intake_to_pip_days
    late = delay + cp.intake_to_pip_days
    de, dl = early / _DAYS_PER_YEAR, late / _DAYS_PER_YEAR
    se = cp.early_start_share
    by21 = np.zeros(T + 1)
    tsum = np.zeros(T + 1)
    wsum = 0.0
    for share, ok, median in ((cp.share_b1, cp.pass_b1, cp.median_years_b1),
                              (cp.share_onderwijs, cp.pass_onderwijs, cp.median_years_onderwijs),
                              (cp.share_z, cp.pass_z, cp.median_years_z)):
        m_r = lognormal_mean(median, cp.sigma_wi2021)
        by21 += share * ok * (se * lognormal_cdf(y - de, median, cp.sigma_wi2021)
                              + (1 - se) * lognormal_cdf(y - dl, median, cp.sigma_wi2021))
        tsum += share * ok * (se * de + (1 - se) * dl + m_r)
        wsum += share * ok
    t21 = tsum / wsum if wsum > 0 else np.full(T + 1, np.nan)
    pass13 = (1 - cp.wi2013_exempt_share) * cp.wi2013_pass_share
    fp[F_OBLIGED] = cp.obliged_share_of_adults
    fp[F_EARLY_SHARE] = se
    fp[F_EXEMPT13], fp[F_EXEMPT21] = cp.wi2013_exempt_share, cp.wi2021_exempt_share
    fp[F_PASS13] = pass13
    fp[F_BY13] = pass13 * lognormal_cdf(y, cp.wi2013_median_years, cp.wi2013_sigma)
    fp[F_MEAN13] = lognormal_mean(cp.wi2013_median_years, cp.wi2013_sigma)
    fp[F_WSUM] = wsum
    # calendar month (from the grid's first) and year (from the first year) of the grid's days and the
    # days a start of civic integration may fall on after them
    margin = int(np.ceil(max(cp.koppeling_days, 0.0) + cp.intake_to_pip_days)) + 2
    lut_y, lut_m = calendar_of_days(np.arange(T + margin, dtype=np.int64) + day0)
    gidx = {g: i for i, g in enumerate(DEFAULT_GROUP_NAMES)}
    stream_lut = np.array([DEFAULT_STREAM_NAMES.index(s) if s in DEFAULT_STREAM_NAMES else -1
                           for s in R.STREAM_NAMES], np.int64)
    months = month_starts(grid.day0, n_m)
    ind_months = grid.months().to_timestamp()
    if len(ind_months) != n_m:  # the grid's months are the calendar months of its days
        raise AssertionError(f"grid months {len(ind_months)} != calendar months {n_m}")
    arrays = dict(
        fp=fp, ip=ip, permit_outcome=_table(R.OUTCOMES, PERMIT_OUTCOMES), stream_lut=stream_lut,
        asylum=_table(R.STREAM_NAMES, ("first", "subsequent")), ind_stream=_table(R.STREAM_NAMES, IND_STREAMS),
        regular=_table(R.STREAM_NAMES, REGULAR_STREAMS),
        band_of_group=np.array([gidx[bands.get(g, "low")] for g in group_names], np.int64),
        applies=_table(DEFAULT_STREAM_NAMES, p.waiting_effect_streams), pair_cell=pair_cell.reshape(-1).astype(np.int64),
        cells=cells, emp_pair=np.ascontiguousarray(emp_pair), curve=curve, bucket=bucket,
        early_round=np.round(early).astype(np.int64), late_round=np.round(late).astype(np.int64), by21=by21, t21=t21,
        pip=se * de + (1 - se) * dl, month_lut=lut_m - month0, year_lut=lut_y + 1970 - year0, f_tab=f_tab,
        level_of_pair=level_of_pair.reshape(-1).astype(np.int64), b3_tab=np.ascontiguousarray(b3_tab), b3_one=b3_one)
    for a in arrays.values():
        a.setflags(write=False)
    # IND load: months starting on or after the first reported day
    ind_first = int(np.searchsorted(ind_months, pd.Timestamp(grid.start)))
    order = np.argsort(np.array(R.STREAM_NAMES, dtype=object), kind="stable")
    more = dict(months_np=months.to_numpy(copy=True), ind_months_np=ind_months.to_numpy(copy=True),
                stream_order=order, stream_names=np.array(R.STREAM_NAMES, dtype=object)[order])
    for a in more.values():
        a.setflags(write=False)
    return _Tables(months=months, ind_months=ind_months, ind_first=ind_first, rap_days=rap_days, **arrays, **more)


# ----------------------------------------------------------------------------------------------
# the replicate's tables
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplicateIntegration:
    """The post-processor's tables of one replicate, before the ``replicate`` column:

    ``monthly``: :func:`employment_over_time` beside :func:`civic_integration` (all grid months);
    ``cohorts``: :func:`employment_by_cohort` beside :func:`civic_by_cohort`; ``ind_load``:
    :func:`ind_load`; and the key-figure sums ``regular_decisions`` (persons, persons x weeks of
    regular decisions from the start on) and ``waiting`` (working age x waiting factor, working
    age of the permits from the start on). The tables are frames (:func:`replicate_tables`) or
    NumPy columns, {column: array} with the frames' columns, types and rows
    (:func:`replicate_columns`)."""

    monthly: pd.DataFrame | dict[str, np.ndarray]
    cohorts: pd.DataFrame | dict[str, np.ndarray]
    ind_load: pd.DataFrame | dict[str, np.ndarray]
    regular_decisions: tuple[float, float]
    waiting: tuple[float, float]
    permit_holders: int


def replicate_tables(out, scenario) -> ReplicateIntegration:
    """The integration tables of one replicate (see :class:`ReplicateIntegration`)."""
    rc = replicate_columns(out, scenario)
    return ReplicateIntegration(pd.DataFrame(rc.monthly, copy=False), pd.DataFrame(rc.cohorts, copy=False),
                                pd.DataFrame(rc.ind_load, copy=False), rc.regular_decisions, rc.waiting,
                                rc.permit_holders)


def replicate_columns(out, scenario) -> ReplicateIntegration:
    """:func:`replicate_tables` with the tables as NumPy columns ({column: array}): no frame built."""
    c, r = out.compiled, out.case
    g = c.grid
    t = _tables(scenario, tuple(c.group_names), g)
    ind, kpi, sums, n_year, civ_h, cell_of, h, hf = _pass(
        r["arrival_day"], r["reg_day"], r["decision_day"], r["housed_day"], r["outcome"], r["exit_reason"],
        c.case["stream"], c.case["group"], c.case["size"], c.case["children"],
        np.asarray(out.day_inputs["month_of_day"], dtype=np.int64), t.fp, t.ip, t.permit_outcome, t.stream_lut,
        t.asylum, t.ind_stream, t.regular, t.band_of_group, t.applies, t.pair_cell, len(t.cells), t.emp_pair,
        t.early_round, t.late_round, t.by21, t.t21, t.pip, t.month_lut, t.year_lut, t.rap_days, t.f_tab,
        t.level_of_pair, t.b3_tab, t.b3_one)
    n_m = int(t.ip[I_N_MONTHS])
    monthly = _monthly(t, h, hf, cell_of, civ_h, n_m, scenario.civic_integration)
    cohorts = _cohorts(t, sums, n_year)
    load = _ind_load(t, ind)
    return ReplicateIntegration(monthly, cohorts, load, (float(kpi[0]), float(kpi[1])),
                                (float(kpi[2]), float(kpi[3])), int(n_year.sum()))


def _monthly(t: _Tables, h, hf, cell_of, civ_h, n_m: int, cp) -> dict[str, np.ndarray]:
    nb = len(YEAR_BUCKETS)
    used = cell_of[cell_of >= 0]
    curve = np.ascontiguousarray(t.curve[np.flatnonzero(cell_of >= 0)]) if used.size else np.zeros((0, n_m))
    hw_p = h[0].sum(axis=2)
    res = _over_time(h, hf, hw_p, curve, t.bucket, nb, t.fp)
    emp: dict[str, np.ndarray] = {}
    wa_b = {f"working_age_y{b}": res[i] for i, b in enumerate(YEAR_BUCKETS)}
    em_b = {f"employed_y{b}": res[nb + i] for i, b in enumerate(YEAR_BUCKETS)}
    wa = sum(wa_b.values())
    emp_total = sum(em_b.values())
    wa = np.zeros(n_m) + wa
    emp_total = np.zeros(n_m) + emp_total
    emp["working_age"] = wa
    emp["employed"] = emp_total
    emp["employment_rate"] = np.divide(emp_total, wa, out=np.zeros(n_m), where=wa > 0)
    emp["housed_working_age"] = res[2 * nb]
    emp["on_benefits"] = res[2 * nb + 1]
    emp["benefit_cost_eur"] = res[2 * nb + 2]
    emp.update(wa_b)
    emp.update(em_b)
    # civic integration per month: civic.py's monthly stocks on the histograms of the one pass
    h_start = (civ_h[3] + civ_h[4]) * (1.0 - cp.wi2021_exempt_share)
    civ = monthly_from_histograms(civ_h[0], civ_h[1], civ_h[2], h_start, cp)
    data = {"month": t.months_np.copy()}
    data.update({k: emp[k] for k in _EMP_COLUMNS})
    data.update({k: civ[k] for k in _CIV_COLUMNS})
    return data  # the fresh arrays of this replicate


_EMP_COLUMNS = (("working_age", "employed", "employment_rate", "housed_working_age", "on_benefits", "benefit_cost_eur")
                + tuple(f"{k}_y{b}" for k in ("working_age", "employed") for b in YEAR_BUCKETS))
_CIV_COLUMNS = ("obliged", "exempt", "waiting_to_start", "in_progress", "passed", "passed_wi2013", "passed_b1",
                "passed_onderwijs", "passed_z", "routes_started", "route_cost_eur")


def _cohorts(t: _Tables, sums: np.ndarray, n_year: np.ndarray) -> dict[str, np.ndarray]:
    rows = np.flatnonzero(n_year > 0)
    s = {k: sums[rows, i] for i, k in enumerate(EMP_SUMS + CIV_SUMS)}
    year0 = int(t.ip[I_YEAR0])

    def ratio(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)

    w, ob = s["w"], s["obliged"]
    data = {"cohort": (rows + year0).astype(np.int64), "working_age": w, "mean_wait_days": ratio(s["wait"], w),
            "waiting_factor": ratio(s["f"], w)}
    for y in EMP_YEARS:
        data[f"employed_{y:g}y"] = ratio(s[f"employed_{y:g}y"], w)
    data["on_benefits_3y"] = ratio(s["on_benefits_3y"], w)
    data["beyond_horizon_3y"] = ratio(s["beyond"], w)
    data.update({"obliged": ob, "share_wi2021": ratio(s["wi2021"], ob), "exempt_share": ratio(s["exempt"], ob),
                 f"passed_within_{CIVIC_WITHIN_YEARS:g}y": ratio(s["by"], ob),
                 "years_to_pass": ratio(s["t"], s["passers"]), "years_to_pip": ratio(s["pip"], s["wi2021"]),
                 "unhoused_share": ratio(s["unhoused"], ob)})
    return data


def _ind_load(t: _Tables, ind: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`~ketenplan.integration.post.ind_load`'s table from the pass's sums: rows (month, stream)
    with an application or a decision from the start month on, by month, then stream name."""
    S = len(R.STREAM_NAMES)
    n_m = len(t.ind_months)
    first_month = t.ind_first
    order = t.stream_order
    napp, app, ndec, dec, pw = (x.reshape(n_m, S)[first_month:, order] for x in ind)
    hit = (napp > 0) | (ndec > 0)
    mi, si = np.nonzero(hit)
    with np.errstate(divide="ignore", invalid="ignore"):
        weeks = np.where(ndec[mi, si] > 0, pw[mi, si] / np.where(dec[mi, si] > 0, dec[mi, si], np.nan), np.nan)
    return {"month": t.ind_months_np[first_month + mi], "stream": t.stream_names[si],
            "applications": app[mi, si], "decisions": dec[mi, si], "decision_weeks": weeks}
