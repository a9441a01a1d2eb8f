"""Model error of the history replay: a log-scale discrepancy per quantity (P0.2, P0.5, P3.4).

The replay is an imperfect simulator. Following Kennedy & O'Hagan (2001, JRSS-B 63(3)) a fact is
read as the simulator's value times a discrepancy,

    observed = simulated(theta) * exp(e),   e ~ N(0, s_g^2),

with one scale ``s_g`` [log units; about a relative error] per discrepancy group ``g`` of quantities.
Wilkinson (2013, Stat. Appl. Genet. Mol. Biol. 12(2)) shows that ABC with an acceptance kernel is
exact inference when the kernel is read as this model error's distribution; here the kernel is the
Gaussian above, with ``s_g`` inferred (not chosen), so the calibration weights each prior draw of
the parameters by its marginal likelihood with ``s_g`` integrated out over its prior.

Choices (named assumptions, docs/backtest.md):
- ``b_q = 0``: no systematic bias term. With one to six facts per quantity, a bias term is not
  identified apart from the parameters that shift a level (the IND capacity factor moves the IND
  stock, the decision time and the permits) and would act as a correction factor fitted in sample;
  a systematic error therefore widens ``s_g`` instead of moving the point value.
- prior of ``s_g``: log-uniform on [0.01, 2] (scale-free between a 1% and a 7-fold error), on a grid.
- the two IND facts (pending stock and decision time, both 2018-08) share one scale, as both follow
  from the IND's backlog against its capacity (Little's law ties them); the UNHCR stock at all levels
  (IND stock plus appeals, out of sample only) takes that scale too.
- the draws' own simulation noise (one replicate each) is part of the residuals, so ``s_g`` holds it
  too; a replay adds noise again, which makes the bands slightly wide rather than narrow.

Functions are pure; randomness is an argument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import norm

SD_PRIOR = (0.05, 2.0)  # log-uniform prior of s_g [log units]
SD_GRID = np.exp(np.linspace(np.log(SD_PRIOR[0]), np.log(SD_PRIOR[1]), 600))  # equal prior mass per point

# quantity -> discrepancy group (its scale s_g); quantities not listed carry no model error
GROUPS = {"coa_occupancy": "coa_occupancy", "permit_holders_in_reception": "permit_holders_in_reception",
          "ind_pending_asylum": "ind", "ind_avg_decision_time_weeks": "ind", "asylum_pending_all_levels": "ind",
          "permits_granted_asylum": "permits_granted_asylum", "departures_independent": "departures_independent",
          "departures_forced": "departures_forced", "departures_unsupervised": "departures_unsupervised",
          "departures_from_ind_intake": "departures_from_ind_intake"}
COLUMN = "model_error_sd:"  # parameter-set column prefix: ``model_error_sd:<quantity>`` [log units]


def log_residuals(simulated, observed) -> np.ndarray:
    """log(observed / simulated) per fact [log units]; a simulated value below 1 counts as 1."""
    return np.log(np.asarray(observed, float) / np.maximum(np.asarray(simulated, float), 1.0))


def log_likelihood_grid(r: np.ndarray) -> np.ndarray:
    """log p(r | s) for each s of ``SD_GRID`` (the residuals independent N(0, s^2)); shape (len(SD_GRID),)."""
    r = np.asarray(r, float)
    n, ss = len(r), float(np.sum(r ** 2))
    return -n * np.log(SD_GRID) - ss / (2 * SD_GRID ** 2) - n / 2 * np.log(2 * np.pi)


def log_marginal_likelihood(r: np.ndarray) -> float:
    """log p(r) with s integrated out over its log-uniform prior (the grid points are equally likely)."""
    return float(logsumexp(log_likelihood_grid(r)) - np.log(len(SD_GRID)))


def posterior_sd(r: np.ndarray) -> np.ndarray:
    """Posterior probabilities of ``SD_GRID`` given the residuals ``r`` (sum 1)."""
    ll = log_likelihood_grid(r)
    return np.exp(ll - logsumexp(ll))


def posterior_sd_quantile(r: np.ndarray, u) -> np.ndarray:
    """Quantiles ``u`` (in [0, 1]) of the posterior of s given ``r`` [log units]."""
    cdf = np.cumsum(posterior_sd(r))
    return SD_GRID[np.minimum(np.searchsorted(cdf, np.asarray(u, float)), len(SD_GRID) - 1)]


def band(values, sds, q: float) -> float:
    """The ``q`` quantile of the predictive distribution of a fact: an equal mixture over replicates k of
    ``values[k] * exp(N(0, sds[k]^2))``. With every sd 0 it is the plain quantile of the values (noise
    and parameters only). Bisection on the log scale to 1e-6 relative."""
    v, s = np.maximum(np.asarray(values, float), 1e-9), np.broadcast_to(np.asarray(sds, float), np.shape(values))
    if not (s > 0).any():
        return float(np.quantile(v, q))
    lv = np.log(v)
    s = np.maximum(s, 1e-9)

    def cdf(x: float) -> float:
        return float(np.mean(norm.cdf((x - lv) / s)))

    lo, hi = float((lv - 9 * s).min()), float((lv + 9 * s).max())
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
    return float(np.exp((lo + hi) / 2))


def coverage(observed, simulated, sd: float, level: float = 0.8) -> float:
    """Share of facts inside the central ``level`` band of ``simulated * exp(N(0, sd^2))``."""
    z = norm.ppf(0.5 + level / 2)
    r = log_residuals(simulated, observed)
    return float(np.mean(np.abs(r) <= z * sd))


def calibrate(draws: pd.DataFrame, facts: pd.DataFrame, informing: list[str], keep: int,
              rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Joint posterior of the parameters and the scales from prior draws with their simulated facts.

    ``draws``: one row per prior draw, a column ``sim:<quantity>@<date>`` per fact of ``facts``
    (date, quantity, value). Each draw's weight is the product over the groups of the quantities in
    ``informing`` of the marginal likelihood (scale integrated out); ``keep`` draws are taken by
    systematic resampling, and each kept draw gets a scale per group from its conditional posterior
    (stratified quantiles, so that the kept rows span that posterior). Groups outside ``informing``
    get their scales the same way but do not weigh the parameters.

    Returns (the kept rows with ``draw``, ``weight`` and one ``model_error_sd:<quantity>`` column per
    quantity of ``GROUPS`` whose group has facts; a table per group: facts, posterior p10/p50/p90 of s
    over all draws, and the effective sample size of the weights).
    """
    facts = facts[facts.quantity.isin(GROUPS)].reset_index(drop=True)
    groups = facts.quantity.map(GROUPS)
    cols = [f"sim:{q}@{d}" for q, d in zip(facts.quantity, facts.date)]
    missing = [c for c in cols if c not in draws.columns]
    if missing:
        raise ValueError(f"the draws lack simulated facts: {', '.join(missing[:5])}")
    sim = draws[cols].to_numpy(float)
    r_all = log_residuals(sim, facts.value.to_numpy(float)[None, :])  # draws x facts
    names = list(dict.fromkeys(groups))
    lml = pd.DataFrame({g: [log_marginal_likelihood(r[(groups == g).to_numpy()]) for r in r_all] for g in names})
    inf_groups = sorted({GROUPS[q] for q in informing} & set(names))
    logw = lml[inf_groups].sum(axis=1).to_numpy()
    w = np.exp(logw - logw.max())
    w /= w.sum()
    ess = float(1 / np.sum(w ** 2))
    pos = (rng.uniform() + np.arange(keep)) / keep  # systematic resampling
    idx = np.minimum(np.searchsorted(np.cumsum(w), pos), len(w) - 1)
    kept = draws.drop(columns=[c for c in draws.columns if c.startswith("sim:")]).iloc[idx].reset_index(drop=True)
    kept.insert(0, "draw", idx)
    kept["weight"] = w[idx]
    summary = []
    for g in names:
        mask = (groups == g).to_numpy()
        u = rng.permutation((np.arange(keep) + rng.uniform(size=keep)) / keep)
        sd = np.array([posterior_sd_quantile(r_all[j][mask], u[k])[()] for k, j in enumerate(idx)])
        for q in [q for q, gg in GROUPS.items() if gg == g]:
            kept[f"{COLUMN}{q}"] = np.round(sd, 4)
        post = np.sum([w[j] * posterior_sd(r_all[j][mask]) for j in range(len(w))], axis=0)
        p10, p50, p90 = SD_GRID[np.minimum(np.searchsorted(np.cumsum(post), [0.1, 0.5, 0.9]), len(SD_GRID) - 1)]
        summary.append({"group": g, "facts": int(mask.sum()), "informs_parameters": g in inf_groups,
                        "sd_p10": round(float(p10), 3), "sd_p50": round(float(p50), 3),
                        "sd_p90": round(float(p90), 3), "ess": round(ess, 1)})
    return kept, pd.DataFrame(summary)
