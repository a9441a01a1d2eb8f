"""Return outcomes by nationality group, fitted to Eurostat and DT&V figures up to 2018 (P4.1).

The model of one case that enters the return process (a DT&V case) in group ``g``:

* it ends in an aantoonbaar (verified) departure with probability ``rho_g = min(lam * r_g, 0.95)``,
  where ``r_g`` [returns per order to leave] is fitted per group to Eurostat ``migr_eiord`` and
  ``migr_eirtn`` (NL, 2012-2016) and ``lam`` [-] converts returns per order into returns per case
  (fitted to the Algemene Rekenkamer's 46.5% verified departure of the rejected 2014-2016 cohort);
* of the verified departures a share ``phi_g = sigmoid(g0 + g1 * logit(rho_g))`` is forced: forced
  removal needs a travel document and a country that takes its nationals back (DT&V's four
  conditions), so it rises with the group's return rate;
* of the cases without a verified departure a share ``kappa`` is recorded as departure without
  supervision and the rest is still present;
* departures happen after an exponential delay with mean ``tau`` [months] (one for all groups).

``kappa, g0, g1`` are fitted to the DT&V departures by type 2015-2018 (their shares of the year's
departures) plus the chain-wide forced share of Albanian departures in 2017; 2019 is held out and
checked. The mix of cases entering the return process in a year is proxied per group by UNHCR
first-instance and repeat decisions that end without a permit (rejected plus otherwise closed)
plus the group's mean non-asylum orders to leave 2012-2016 (Eurostat orders minus those decisions).
All functions are pure; units are in the docstrings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize

from ketenplan.returns.groups import GROUP_ORDER

RHO_CAP = 0.95
EUROSTAT_YEARS = (2012, 2016)
EUROSTAT_FIT_YEARS = (2013, 2015)   # fitted; 2016 is the Eurostat check year
DTV_FIT_YEARS = (2017, 2018)        # fitted (after return support for safe-country nationals
                                    # was withdrawn late 2016); 2019 is the DT&V check year
DTV_REPORT_YEARS = (2015, 2019)     # years shown in the check table
INTAKE_SCALE_YEAR = 2018            # DT&V intake by source that scales the entries proxy
DTV_CHECK_YEAR = 2019
COHORT_YEARS = (2014, 2016)         # Rekenkamer cohort of rejected first applications
COHORT_AANTOONBAAR = 0.465          # Algemene Rekenkamer 2018 (nl_chain.md D6)
ALBANIA_2017_FORCED_SHARE = 820 / (670 + 820)  # rijksoverheid.nl 2018-03-02: 1,490 departures
MAGHREB_COHORT_AANTOONBAAR = 0.18   # Algemene Rekenkamer 2018 via NOS (return_legal_integration R2)
#: Groups whose verified-departure probability is set by a cohort figure rather than lam * r_g.
RHO_ANCHORS = {"maghreb": MAGHREB_COHORT_AANTOONBAAR}


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def lag_kernel(tau_months: float, n_years: int = 6) -> np.ndarray:
    """Share of cases that started uniformly within a year and leave in that year (index 0) and
    in each following year (1, 2, ...) under an exponential delay with mean ``tau_months``;
    the last entry takes the remainder so that the kernel sums to 1 [-]."""
    a = 12.0 / max(tau_months, 1e-9)
    c = (1 - np.exp(-a)) / a
    k = np.empty(n_years)
    k[0] = 1 - c
    for j in range(1, n_years):
        k[j] = c * (1 - np.exp(-a)) * np.exp(-a * (j - 1))
    k[-1] = 1 - k[:-1].sum()
    return k


def convolve_years(series: pd.DataFrame, kernel: np.ndarray, years: range) -> pd.DataFrame:
    """``out[g, y] = sum_j kernel[j] * series[g, y - j]`` for the given years; before the
    first year of ``series`` the first year's value is carried back (a flat history)."""
    first = int(series.columns.min())
    out = {}
    for y in years:
        acc = np.zeros(len(series))
        for j, w in enumerate(kernel):
            yy = max(y - j, first)
            acc += w * series[yy].to_numpy(dtype=float)
        out[y] = acc
    return pd.DataFrame(out, index=series.index)


@dataclass(frozen=True)
class EurostatFit:
    """Returns per order to leave by group ``r`` [-] and the delay ``tau`` [months]."""

    r: pd.Series
    tau: float
    fit_years: tuple[int, int]


def fit_eurostat(orders: pd.DataFrame, returns: pd.DataFrame, fit_years: tuple[int, int]) -> EurostatFit:
    """Fit ``returns[g, y] = r_g * sum_j K_j(tau) * orders[g, y - j]`` by least squares on
    square-root counts over ``fit_years`` (inclusive). ``orders`` and ``returns`` are group x
    year tables [persons/year]."""
    years = range(fit_years[0], fit_years[1] + 1)
    groups = list(orders.index)

    def unpack(x):
        return np.exp(x[:-1]), float(np.exp(x[-1]))

    def loss(x):
        r, tau = unpack(x)
        lagged = convolve_years(orders, lag_kernel(tau), years)
        pred = lagged.mul(r, axis=0)
        obs = returns[list(years)]
        return float(((np.sqrt(pred.to_numpy() + 1) - np.sqrt(obs.to_numpy() + 1)) ** 2).sum())

    tot_r = returns[list(years)].sum(axis=1)
    tot_o = orders[list(years)].sum(axis=1).clip(lower=1)
    x0 = np.r_[np.log((tot_r / tot_o).clip(0.01, 2.0).to_numpy()), np.log(9.0)]
    bounds = [(np.log(0.005), np.log(3.0))] * len(groups) + [(np.log(1.0), np.log(60.0))]
    res = minimize(loss, x0, method="L-BFGS-B", bounds=bounds)
    r, tau = unpack(res.x)
    return EurostatFit(r=pd.Series(r, index=groups), tau=tau, fit_years=fit_years)


def predict_eurostat(fit: EurostatFit, orders: pd.DataFrame, years: range) -> pd.DataFrame:
    """Predicted returns [persons/year] by group for ``years``."""
    return convolve_years(orders, lag_kernel(fit.tau), years).mul(fit.r, axis=0)


@dataclass(frozen=True)
class OutcomeFit:
    """National parameters of the outcome model (see the module docstring)."""

    lam: float
    kappa: float
    g0: float
    g1: float


def verified_probability(r: pd.Series, lam: float, anchors: dict[str, float] | None = None) -> pd.Series:
    """``rho_g = min(lam * r_g, cap)`` [-], replaced by the cohort figure for anchored groups."""
    rho = pd.Series(np.minimum(lam * r.to_numpy(dtype=float), RHO_CAP), index=r.index)
    for g, v in (RHO_ANCHORS if anchors is None else anchors).items():
        if g in rho.index:
            rho[g] = v
    return rho


def outcome_probabilities(r: pd.Series, p: OutcomeFit) -> pd.DataFrame:
    """Per-case outcome probabilities [-] by group: ``independent, forced, unsupervised,
    still_present`` (sum 1) plus ``aantoonbaar`` and ``forced_share_of_aantoonbaar``."""
    rho = verified_probability(r, p.lam).to_numpy()
    phi = _sigmoid(p.g0 + p.g1 * _logit(rho))
    out = pd.DataFrame({
        "independent": rho * (1 - phi),
        "forced": rho * phi,
        "unsupervised": p.kappa * (1 - rho),
        "still_present": (1 - p.kappa) * (1 - rho),
        "aantoonbaar": rho,
        "forced_share_of_aantoonbaar": phi,
    }, index=r.index)
    return out


def departures(entries: pd.DataFrame, probs: pd.DataFrame, tau: float, years: range) -> dict[str, pd.DataFrame]:
    """Departures [cases/year] by type, group x year, from the entries into the return process
    (group x year [cases/year]) and the per-case probabilities."""
    lagged = convolve_years(entries, lag_kernel(tau), years)
    return {k: lagged.mul(probs[k], axis=0) for k in ("independent", "forced", "unsupervised")}


def national_shares(deps: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Shares [-] of the year's departures by type (rows: years)."""
    tot = {k: v.sum(axis=0) for k, v in deps.items()}
    df = pd.DataFrame(tot)
    return df.div(df.sum(axis=1), axis=0)


def fit_lambda(r: pd.Series, cohort_mix: pd.Series, target: float = COHORT_AANTOONBAAR) -> float:
    """``lam`` [-] such that the cohort-weighted verified departure ``sum_g w_g min(lam r_g, cap)``
    equals ``target`` [-]."""
    w = cohort_mix / cohort_mix.sum()

    def f(lam):
        return float((w * verified_probability(r, lam)).sum()) - target

    return float(brentq(f, 1e-3, 50.0))


def cohort_verified(r: pd.Series, lam: float, cohort_mix: pd.Series) -> float:
    """Verified departure [-] of a cohort with group mix ``cohort_mix``: ``sum_g w_g rho_g``."""
    w = cohort_mix / cohort_mix.sum()
    return float((w * verified_probability(r, lam)).sum())


def fit_outcomes(r: pd.Series, lam: float, entries: pd.DataFrame, tau: float, dtv: pd.DataFrame,
                 fit_years: tuple[int, int], albania_group: str = "west_balkans") -> OutcomeFit:
    """Fit ``lam, kappa, g0, g1`` (``lam`` starts from the given value) to the DT&V departures over ``fit_years`` (``dtv``: rows years,
    columns independent/forced/unsupervised [persons/year]): the shares by type, the total
    relative to the entries (which fixes the share still present) and the forced share of
    Albanian departures in 2017 (for ``albania_group``); squared errors, equal weights."""
    years = range(fit_years[0], fit_years[1] + 1)
    counts = dtv.loc[list(years), ["independent", "forced", "unsupervised"]]
    obs = counts.div(counts.sum(axis=1), axis=0)
    obs_total = counts.sum(axis=1)

    def unpack(x):
        return OutcomeFit(lam=float(np.exp(x[3])), kappa=float(_sigmoid(x[0])), g0=float(x[1]), g1=float(x[2]))

    def loss(x):
        p = unpack(x)
        probs = outcome_probabilities(r, p)
        deps = departures(entries, probs, tau, years)
        sh = national_shares(deps)
        err = ((sh[obs.columns] - obs) ** 2).to_numpy().sum()
        pred_total = sum(v.sum(axis=0) for v in deps.values())
        err += float((((pred_total - obs_total) / obs_total) ** 2).sum())
        err += (probs.loc[albania_group, "forced_share_of_aantoonbaar"] - ALBANIA_2017_FORCED_SHARE) ** 2
        return float(err)

    res = minimize(loss, np.array([0.0, -0.5, 0.5, np.log(lam)]), method="Nelder-Mead",
                   options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 20000, "maxfev": 20000})
    return unpack(res.x)


@dataclass(frozen=True)
class ReturnFit:
    """Everything the derived tables are written from."""

    eurostat: EurostatFit
    eurostat_check: EurostatFit
    outcome: OutcomeFit
    probs: pd.DataFrame
    entries: pd.DataFrame
    shares: pd.DataFrame            # predicted national shares by year (2015-2019)
    counts: pd.DataFrame            # predicted national departures by type, scaled (2015-2019)
    scale: float                    # DT&V departures per modelled departure (fit years)
    weights_2018_2019: pd.Series    # group shares of predicted departures 2018-2019
    cohort_verified: float          # predicted verified departure of the 2014-2016 rejected cohort


def entries_proxy(decisions: pd.DataFrame, orders: pd.DataFrame, years: range,
                  intake: pd.Series) -> pd.DataFrame:
    """Entries into the return process by group x year [cases/year].

    Asylum part: UNHCR decisions without a permit (``decisions``: group x year, rejected +
    otherwise closed, first instance and repeat) scaled so that their total in
    :data:`INTAKE_SCALE_YEAR` equals the DT&V intake from the IND that year. Non-asylum part: the
    group's mean non-asylum orders to leave 2012-2016 (Eurostat orders minus those decisions,
    floored at 0) scaled to the DT&V intake from police, KMar and other sources that year.
    ``intake``: the DT&V intake row of that year (``intake_ind, intake_police, intake_kmar,
    intake_other`` [cases/year])."""
    eu_years = [y for y in range(EUROSTAT_YEARS[0], EUROSTAT_YEARS[1] + 1)]
    non_asylum = (orders[eu_years] - decisions.reindex(columns=eu_years, fill_value=0)).clip(lower=0).mean(axis=1)
    asylum_factor = float(intake["intake_ind"]) / float(decisions[INTAKE_SCALE_YEAR].sum())
    other = float(intake["intake_police"] + intake["intake_kmar"] + intake["intake_other"])
    other_factor = other / float(non_asylum.sum())
    out = (decisions.reindex(columns=list(years), fill_value=0) * asylum_factor).add(non_asylum * other_factor, axis=0)
    return out


def fit_returns(orders: pd.DataFrame, returns: pd.DataFrame, no_permit: pd.DataFrame,
                cohort_mix: pd.Series, dtv: pd.DataFrame) -> ReturnFit:
    """Run the whole fit. Tables are group x year [persons/year] indexed by the groups of
    :data:`GROUP_ORDER`; ``dtv`` has rows years 2015-2019."""
    orders = orders.reindex(GROUP_ORDER).fillna(0)
    returns = returns.reindex(GROUP_ORDER).fillna(0)
    no_permit = no_permit.reindex(GROUP_ORDER).fillna(0)
    cohort_mix = cohort_mix.reindex(GROUP_ORDER).fillna(0)
    eu_check = fit_eurostat(orders, returns, EUROSTAT_FIT_YEARS)
    eu = fit_eurostat(orders, returns, (EUROSTAT_FIT_YEARS[0], EUROSTAT_YEARS[1]))
    lam0 = fit_lambda(eu.r, cohort_mix)
    all_years = range(2010, DTV_CHECK_YEAR + 1)
    entries = entries_proxy(no_permit, orders, all_years, dtv.loc[INTAKE_SCALE_YEAR])
    outcome = fit_outcomes(eu.r, lam0, entries, eu.tau, dtv, DTV_FIT_YEARS)
    probs = outcome_probabilities(eu.r, outcome)
    years = range(DTV_REPORT_YEARS[0], DTV_REPORT_YEARS[1] + 1)
    deps = departures(entries, probs, eu.tau, years)
    shares = national_shares(deps)
    fit_rows = list(range(DTV_FIT_YEARS[0], DTV_FIT_YEARS[1] + 1))
    model_tot = sum(v.sum(axis=0) for v in deps.values())
    obs_tot = dtv.loc[:, ["independent", "forced", "unsupervised"]].sum(axis=1)
    scale = float(obs_tot.loc[fit_rows].sum() / model_tot.loc[fit_rows].sum())
    counts = pd.DataFrame({k: v.sum(axis=0) * scale for k, v in deps.items()})
    dep_by_group = sum(v[[2018, 2019]].sum(axis=1) for v in deps.values())
    weights = dep_by_group / dep_by_group.sum()
    return ReturnFit(eurostat=eu, eurostat_check=eu_check, outcome=outcome, probs=probs,
                     entries=entries, shares=shares, counts=counts, scale=scale,
                     weights_2018_2019=weights,
                     cohort_verified=cohort_verified(eu.r, outcome.lam, cohort_mix))
