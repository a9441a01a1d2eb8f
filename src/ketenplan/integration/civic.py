"""Civic integration (P6.3): expected persons obliged, exempt, waiting to start, in a route and
passed, per calendar month and per permit cohort.

Two regimes, by permit date (:attr:`CivicIntegration.wi2021_start`, 1-1-2022):

- **Wi2013** (3-year term from the permit): a share is exempted; of the rest a share passes,
  with a lognormal time from the permit to passing, fitted to the 2014 cohort (6 % passed on
  1-10-2016, 58 % on 1-10-2018; CBS).
- **Wi2021** (term from the personal plan, PIP): the municipality starts the brede intake when
  the permit holder is housed -- or, for ``early_start_share`` of them, already in reception
  after linking (the law allows it) -- and sets the PIP ``intake_to_pip_days`` later. Obliged
  persons go to the B1 route, the education route (onderwijsroute) or the Z-route with given
  shares; each route has a share that complies and a lognormal time from the PIP to complying.

Obliged persons are the adults of each case (times ``obliged_share_of_adults``). All results are
expected values; the route cost is counted in the month the route starts (Wi2021) or the permit
month (Wi2013).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ketenplan.integration.cases import Cases, as_cases, month_starts
from ketenplan.integration.curves import lognormal_cdf, lognormal_mean
from ketenplan.scenario.pillar6 import CivicIntegration, IntegrationParams

__all__ = ["civic_integration", "civic_by_cohort", "ROUTES"]

ROUTES = ("b1", "onderwijs", "z")
_DAYS_PER_YEAR = 365.25


def _civ(params: CivicIntegration | IntegrationParams | None) -> CivicIntegration:
    if params is None:
        return CivicIntegration()
    return params.civic if isinstance(params, IntegrationParams) else params


def _routes(p: CivicIntegration) -> dict[str, tuple[float, float, float]]:
    """route -> (share of obliged, share complying, median years from PIP)."""
    return {"b1": (p.share_b1, p.pass_b1, p.median_years_b1),
            "onderwijs": (p.share_onderwijs, p.pass_onderwijs, p.median_years_onderwijs),
            "z": (p.share_z, p.pass_z, p.median_years_z)}


def monthly_from_histograms(h_perm: np.ndarray, h13: np.ndarray, h21: np.ndarray, h_start: np.ndarray,
                            p: CivicIntegration) -> dict[str, np.ndarray]:
    """The monthly civic-integration stocks and flows from the obliged per permit month (``h_perm``;
    of them Wi2013 ``h13`` and Wi2021 ``h21``) and the Wi2021 routes started per month, exempt
    persons taken out (``h_start``): each stock a convolution of its histogram with the share that
    has reached the state so many months on. Used by :func:`civic_integration` and by the compiled
    post-processor (``integration.fast``), which gathers the same histograms in one pass."""
    L = len(h_perm)
    tau = (np.arange(L) + 0.5) / 12.0
    ones = np.ones(L)

    def conv(h, kernel):
        return np.convolve(h, kernel)[:L]

    nonexempt21 = 1.0 - p.wi2021_exempt_share
    res = {"obliged": conv(h_perm, ones),
           "exempt": conv(h13, ones) * p.wi2013_exempt_share + conv(h21, ones) * p.wi2021_exempt_share}
    started21 = conv(h_start, ones)
    res["waiting_to_start"] = conv(h21, ones) * nonexempt21 - started21
    res["passed_wi2013"] = conv(h13, (1 - p.wi2013_exempt_share) * p.wi2013_pass_share
                                * lognormal_cdf(tau, p.wi2013_median_years, p.wi2013_sigma))
    passed21 = np.zeros(L)
    for name, (share, ok, median) in _routes(p).items():
        frac = share / nonexempt21 if nonexempt21 > 0 else 0.0
        res[f"passed_{name}"] = conv(h_start, frac * ok * lognormal_cdf(tau, median, p.sigma_wi2021))
        passed21 += res[f"passed_{name}"]
    res["passed"] = res["passed_wi2013"] + passed21
    res["in_progress"] = (conv(h13, ones) * (1 - p.wi2013_exempt_share) - res["passed_wi2013"]) + (started21 - passed21)
    res["routes_started"] = h_start + h13 * (1 - p.wi2013_exempt_share)
    res["route_cost_eur"] = res["routes_started"] * p.cost_per_route_eur
    return res


def _regime_2021(c: Cases, p: CivicIntegration) -> np.ndarray:
    start = (np.datetime64(p.wi2021_start, "D") - np.datetime64(c.day0, "D")).astype(int)
    return c.permit_day >= start


def _start_offsets(c: Cases, p: CivicIntegration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days from permit to PIP for an early and a late (after housing) start, and housed mask.

    Unhoused cases get the late start after their (censored) ``reception_days_after_permit``.
    """
    housed = c.housed
    delay = np.where(housed, c.housed_day - c.permit_day, c.reception_days_after_permit).astype(float)
    delay = np.maximum(delay, 0.0)
    early = np.minimum(p.koppeling_days, delay) + p.intake_to_pip_days
    late = delay + p.intake_to_pip_days
    return early, late, housed


def civic_integration(cases: Mapping[str, Any] | Cases, params: CivicIntegration | IntegrationParams | None = None,
                      **grid: Any) -> pd.DataFrame:
    """Per calendar month (stocks at month end, cumulative from the permits):

    ``obliged`` (adults with a permit so far), ``exempt``, ``waiting_to_start`` (obliged,
    Wi2021, no PIP yet), ``in_progress`` (route started or Wi2013 term running, not yet passed),
    ``passed`` (complied) and by route ``passed_wi2013``, ``passed_b1``, ``passed_onderwijs``,
    ``passed_z``; ``routes_started`` in the month and ``route_cost_eur`` in the month.
    """
    c = as_cases(cases, **grid)
    p = _civ(params)
    n_m = c.n_months
    n_obl = c.adults * p.obliged_share_of_adults
    pm = c.month_of(c.permit_day)
    is21 = _regime_2021(c, p)
    early, late, housed = _start_offsets(c, p)
    em = c.month_of(c.permit_day + np.round(early).astype(np.int64))
    lm = np.where(housed, c.month_of(c.permit_day + np.round(late).astype(np.int64)), n_m + 1)
    p0 = min(0, int(pm.min()) if len(pm) else 0)
    L = n_m - p0

    def hist(month, weight):
        ok = (month < n_m) & (weight != 0)
        return np.bincount((month[ok] - p0).astype(np.int64), weights=weight[ok], minlength=L)[:L]

    h_perm = hist(pm, n_obl)
    h13 = hist(pm, n_obl * ~is21)
    h21 = hist(pm, n_obl * is21)
    nonexempt21 = 1.0 - p.wi2021_exempt_share
    h_start = (hist(em, n_obl * is21 * p.early_start_share)
               + hist(lm, n_obl * is21 * (1.0 - p.early_start_share))) * nonexempt21
    res = monthly_from_histograms(h_perm, h13, h21, h_start, p)
    sl = slice(-p0, -p0 + n_m)
    df = pd.DataFrame({"month": month_starts(c.day0, n_m), **{k: v[sl] for k, v in res.items()}})
    cols = ["month", "obliged", "exempt", "waiting_to_start", "in_progress", "passed", "passed_wi2013", "passed_b1",
            "passed_onderwijs", "passed_z", "routes_started", "route_cost_eur"]
    return df[cols]


def civic_by_cohort(cases: Mapping[str, Any] | Cases, params: CivicIntegration | IntegrationParams | None = None,
                    within_years: float = 3.0, **grid: Any) -> pd.DataFrame:
    """Per permit cohort: ``obliged``, ``share_wi2021``, ``exempt_share``, ``passed_within_<y>y``
    (share of the obliged who pass within ``within_years`` of the permit), ``years_to_pass``
    (expected years from permit to passing, among those who pass), ``years_to_pip`` (Wi2021:
    expected years from permit to the PIP) and ``unhoused_share`` (obliged not housed within the
    horizon, whose PIP is timed from their censored stay: a lower bound).
    """
    c = as_cases(cases, **grid)
    p = _civ(params)
    n = c.adults * p.obliged_share_of_adults
    is21 = _regime_2021(c, p)
    early, late, housed = _start_offsets(c, p)
    de, dl = early / _DAYS_PER_YEAR, late / _DAYS_PER_YEAR
    se = p.early_start_share
    y = within_years
    # Wi2013
    pass13 = (1 - p.wi2013_exempt_share) * p.wi2013_pass_share
    by13 = pass13 * lognormal_cdf(y, p.wi2013_median_years, p.wi2013_sigma)
    mean13 = lognormal_mean(p.wi2013_median_years, p.wi2013_sigma)
    # Wi2021
    by21 = np.zeros(len(c))
    tsum = np.zeros(len(c))
    wsum = 0.0
    for share, ok, median in _routes(p).values():
        m_r = lognormal_mean(median, p.sigma_wi2021)
        by21 += share * ok * (se * lognormal_cdf(y - de, median, p.sigma_wi2021)
                              + (1 - se) * lognormal_cdf(y - dl, median, p.sigma_wi2021))
        tsum += share * ok * (se * de + (1 - se) * dl + m_r)
        wsum += share * ok
    t21 = tsum / wsum if wsum > 0 else np.full(len(c), np.nan)
    passers = np.where(is21, wsum, pass13) * n
    data = pd.DataFrame({
        "cohort": c.year_of(c.permit_day), "obliged": n, "wi2021": n * is21,
        "exempt": n * np.where(is21, p.wi2021_exempt_share, p.wi2013_exempt_share),
        "by": n * np.where(is21, by21, by13),
        "t": passers * np.where(is21, t21, mean13), "passers": passers,
        "pip": n * is21 * (se * de + (1 - se) * dl), "unhoused": n * ~housed})
    g = data.groupby("cohort").sum()
    d = g["obliged"].where(g["obliged"] > 0)
    res = pd.DataFrame({"obliged": g["obliged"], "share_wi2021": g["wi2021"] / d, "exempt_share": g["exempt"] / d,
                        f"passed_within_{y:g}y": g["by"] / d,
                        "years_to_pass": g["t"] / g["passers"].where(g["passers"] > 0),
                        "years_to_pip": g["pip"] / g["wi2021"].where(g["wi2021"] > 0),
                        "unhoused_share": g["unhoused"] / d})
    return res.reset_index()
