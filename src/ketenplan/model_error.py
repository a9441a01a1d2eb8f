"""Model error of the history replay: a log-scale discrepancy per quantity (P0.2, P0.5, P3.4).

The replay is an imperfect simulator. Following Kennedy & O'Hagan (2001, JRSS-B 63(3)) a fact is
read as the simulator's value times a discrepancy,

    observed = simulated(theta) * exp(b_g + e),   e ~ N(0, s_g^2),   b_g ~ N(0, TAU_B^2),

with one bias ``b_g`` and one scale ``s_g`` [log units; about relative errors] per discrepancy group
``g`` of quantities: ``b_g`` is the group's systematic error (shared by its facts), ``e`` the fact's
own. Wilkinson (2013, Stat. Appl. Genet. Mol. Biol. 12(2)) shows that ABC with an acceptance kernel
is exact inference when the kernel is read as the model error's distribution; here the kernel is
this Gaussian, with ``b_g`` and ``s_g`` inferred (not chosen): each prior draw of the parameters is
weighted by its marginal likelihood with ``b_g`` integrated out analytically and ``s_g`` on a grid.

Choices (named assumptions, docs/backtest.md):
- prior of ``b_g``: N(0, 0.5^2) (a systematic error within a factor e^(+-1) = 2.7 at two sd); with
  five or six facts the data dominate it, with one or two it shrinks the bias toward 0.
- prior of ``s_g``: log-uniform on [0.05, 2] (no fact is known to better than about 5%: rounding,
  unstated reference dates, one replicate's simulation noise in each residual), on a grid.
- the two IND facts (pending stock and decision time, both 2018-08) share one group, as both follow
  from the IND's backlog against its capacity (Little's law ties them); the UNHCR stock at all levels
  (IND stock plus appeals, out of sample only) takes that group too.
- the draws' own simulation noise (one replicate each) is part of the residuals, so ``s_g`` holds it
  too; a replay adds noise again, which makes the bands slightly wide rather than narrow.

A fact's predictive given a parameter set and ``s_g``: log observed ~ N(log simulated + m, s_g^2 + v),
with m, v the posterior mean and variance of ``b_g`` given ``s_g`` (b_g integrated exactly); a
parameter set stores m as ``model_error_bias:<quantity>`` and sqrt(s_g^2 + v) as
``model_error_sd:<quantity>``.

Functions are pure; randomness is an argument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import logsumexp
from scipy.stats import norm



class ModelErrorPrior(BaseModel):
    """The priors of the model error (named assumptions; docs/backtest.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bias_sd: float = Field(0.5, gt=0, le=2, description="prior sd of a group's bias b_g [log units]",
                           json_schema_extra={"unit": "log ratio", "source": "assumption: systematic error within "
                                              "a factor 2.7 at two sd", "note": "with 5-6 facts the data dominate; "
                                              "with 1-2 it pulls the bias toward 0", "years": "-"})
    sd_min: float = Field(0.05, gt=0, lt=1, description="lower bound of the log-uniform prior of s_g [log units]",
                          json_schema_extra={"unit": "log ratio", "source": "assumption: no fact better known than "
                                             "about 5%", "note": "permits rounded to thousands (3% at 16,000); COA "
                                             "year figures without reference date; one replicate's noise",
                                             "years": "2014-2019"})
    sd_max: float = Field(2.0, gt=0, le=5, description="upper bound of the log-uniform prior of s_g [log units]",
                          json_schema_extra={"unit": "log ratio", "source": "assumption: up to a 7-fold error at "
                                             "one sd", "note": "wide enough for the DT&V departures (2.4-fold)",
                                             "years": "-"})


PRIOR = ModelErrorPrior()
TAU_B = PRIOR.bias_sd  # prior sd of the bias b_g [log units]
SD_PRIOR = (PRIOR.sd_min, PRIOR.sd_max)  # log-uniform prior of s_g [log units]
SD_GRID = np.exp(np.linspace(np.log(SD_PRIOR[0]), np.log(SD_PRIOR[1]), 600))  # equal prior mass per point

# quantity -> discrepancy group (its scale s_g); quantities not listed carry no model error
GROUPS = {"coa_occupancy": "coa_occupancy", "permit_holders_in_reception": "permit_holders_in_reception",
          "ind_pending_asylum": "ind", "ind_avg_decision_time_weeks": "ind", "asylum_pending_all_levels": "ind",
          "permits_granted_asylum": "permits_granted_asylum", "departures_independent": "departures_independent",
          "departures_forced": "departures_forced", "departures_unsupervised": "departures_unsupervised",
          "departures_from_ind_intake": "departures_from_ind_intake"}
COLUMN = "model_error_sd:"  # parameter-set column prefix: ``model_error_sd:<quantity>`` [log units]
BIAS_COLUMN = "model_error_bias:"  # ``model_error_bias:<quantity>``: the bias's posterior mean [log units]



def sim_column(quantity: str, date: str) -> str:
    """The draws file's column of one fact's simulated value (``nl_history_abc_draws.csv``)."""
    return f"sim:{quantity}@{date}"


def with_derived_sims(draws: pd.DataFrame) -> pd.DataFrame:
    """Add simulated values of facts that are sums of recorded ones (departures_from_ind_intake: the
    three kinds of departure of the same year)."""
    out = draws.copy()
    kinds = ("departures_independent", "departures_forced", "departures_unsupervised")
    years = {c.split("@")[1] for c in draws.columns if c.startswith("sim:departures_forced@")}
    for y in sorted(years):
        out[sim_column("departures_from_ind_intake", y)] = sum(out[sim_column(k, y)] for k in kinds)
    return out

def log_residuals(simulated, observed) -> np.ndarray:
    """log(observed / simulated) per fact [log units]; a simulated value below 1 counts as 1."""
    return np.log(np.asarray(observed, float) / np.maximum(np.asarray(simulated, float), 1.0))


def log_likelihood_grid(r: np.ndarray, bias: bool = True) -> np.ndarray:
    """log p(r | s) for each s of ``SD_GRID``; with ``bias`` the bias integrated out,
    r ~ N(0, s^2 I + TAU_B^2 11'), else r ~ N(0, s^2 I). Shape (len(SD_GRID),)."""
    r = np.asarray(r, float)
    n = len(r)
    if n == 0:
        return np.zeros(len(SD_GRID))
    s2, t2 = SD_GRID ** 2, (TAU_B ** 2 if bias else 0.0)
    mean = float(np.mean(r))
    within = float(np.sum((r - mean) ** 2))
    return -0.5 * ((n - 1) * np.log(s2) + np.log(s2 + n * t2) + within / s2 + n * mean ** 2 / (s2 + n * t2)
                   + n * np.log(2 * np.pi))


def bias_posterior(r: np.ndarray, s) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of the bias given the residuals ``r`` and the scale(s) ``s``."""
    r = np.asarray(r, float)
    s2 = np.asarray(s, float) ** 2
    v = 1.0 / (len(r) / s2 + 1.0 / TAU_B ** 2)
    return v * float(np.sum(r)) / s2, v


def log_marginal_likelihood(r: np.ndarray, bias: bool = True) -> float:
    """log p(r) with s integrated out over its log-uniform prior (the grid points are equally likely),
    and the bias too if ``bias``."""
    return float(logsumexp(log_likelihood_grid(r, bias)) - np.log(len(SD_GRID)))


def posterior_sd(r: np.ndarray) -> np.ndarray:
    """Posterior probabilities of ``SD_GRID`` given the residuals ``r`` (sum 1)."""
    ll = log_likelihood_grid(r)
    return np.exp(ll - logsumexp(ll))


def posterior_sd_quantile(r: np.ndarray, u) -> np.ndarray:
    """Quantiles ``u`` (in [0, 1]) of the posterior of s given ``r`` [log units]."""
    cdf = np.cumsum(posterior_sd(r))
    return SD_GRID[np.minimum(np.searchsorted(cdf, np.asarray(u, float)), len(SD_GRID) - 1)]


def band(values, sds, q: float, bias=0.0) -> float:
    """The ``q`` quantile of the predictive distribution of a fact: an equal mixture over replicates k of
    ``values[k] * exp(N(bias[k], sds[k]^2))``. With every sd 0 it is the plain quantile of the values
    (noise and parameters only). Bisection on the log scale to 1e-6 relative."""
    v = np.maximum(np.asarray(values, float), 1e-9) * np.exp(np.broadcast_to(np.asarray(bias, float), np.shape(values)))
    s = np.broadcast_to(np.asarray(sds, float), np.shape(values))
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


def coverage(observed, simulated, sd: float, level: float = 0.8, bias: float = 0.0) -> float:
    """Share of facts inside the central ``level`` band of ``simulated * exp(N(bias, sd^2))``."""
    z = norm.ppf(0.5 + level / 2)
    r = log_residuals(simulated, observed)
    return float(np.mean(np.abs(r - bias) <= z * sd))


def calibrate(draws: pd.DataFrame, facts: pd.DataFrame, informing: list[str], keep: int,
              rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Joint posterior of the parameters and the scales from prior draws with their simulated facts.

    ``draws``: one row per prior draw, a column ``sim:<quantity>@<date>`` per fact of ``facts``
    (date, quantity, value). Each draw's weight is the product over the groups of the quantities in
    ``informing`` of the marginal likelihood (scale integrated out); ``keep`` draws are taken by
    systematic resampling, and each kept draw gets a scale per group from its conditional posterior
    (stratified quantiles, so that the kept rows span that posterior). Groups outside ``informing``
    get their scales the same way but do not weigh the parameters.

    Returns (the kept rows with ``draw``, ``weight`` and a ``model_error_bias:<quantity>`` and
    ``model_error_sd:<quantity>`` column per quantity of ``GROUPS`` whose group has facts (module
    docstring); a table per group: facts, posterior p10/p50/p90 of s and mean/sd of b over all draws,
    and the effective sample size of the weights).
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
    # weights without the bias (module docstring: modular calibration)
    lml = pd.DataFrame({g: [log_marginal_likelihood(r[(groups == g).to_numpy()], bias=False) for r in r_all]
                        for g in names})
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
        m, v = zip(*[bias_posterior(r_all[j][mask], sd[k]) for k, j in enumerate(idx)])
        for q in [q for q, gg in GROUPS.items() if gg == g]:
            kept[f"{BIAS_COLUMN}{q}"] = np.round(np.array(m, float), 4)
            kept[f"{COLUMN}{q}"] = np.round(np.sqrt(sd ** 2 + np.array(v, float)), 4)
        post_j = [posterior_sd(r_all[j][mask]) for j in range(len(w))]
        post = np.sum([w[j] * post_j[j] for j in range(len(w))], axis=0)
        p10, p50, p90 = SD_GRID[np.minimum(np.searchsorted(np.cumsum(post), [0.1, 0.5, 0.9]), len(SD_GRID) - 1)]
        bm = np.array([np.sum(post_j[j] * bias_posterior(r_all[j][mask], SD_GRID)[0]) for j in range(len(w))])
        b2 = np.array([np.sum(post_j[j] * (bias_posterior(r_all[j][mask], SD_GRID)[1]
                                           + bias_posterior(r_all[j][mask], SD_GRID)[0] ** 2)) for j in range(len(w))])
        b_mean = float(np.sum(w * bm))
        b_sd = float(np.sqrt(max(np.sum(w * b2) - b_mean ** 2, 0.0)))
        summary.append({"group": g, "facts": int(mask.sum()), "informs_parameters": g in inf_groups,
                        "sd_p10": round(float(p10), 3), "sd_p50": round(float(p50), 3),
                        "sd_p90": round(float(p90), 3), "bias_mean": round(b_mean, 3), "bias_sd": round(b_sd, 3),
                        "ess": round(ess, 1)})
    return kept, pd.DataFrame(summary)


def loo_coverage(draws: pd.DataFrame, facts: pd.DataFrame, kept: pd.DataFrame, level: float = 0.8) -> pd.DataFrame:
    """Leave-one-out check of the bands: each fact's band from the kept sets' simulated values (the
    ``sim:`` columns of ``draws``, rows ``kept.draw``) with its group's bias and scale inferred from
    the group's OTHER facts only (stratified scale quantiles over the kept rows). Facts alone in their
    group are left out. Returns date, quantity, observed, p_lo, p_hi, inside."""
    facts = facts[facts.quantity.isin(GROUPS)].reset_index(drop=True)
    groups = facts.quantity.map(GROUPS).to_numpy()
    u = (np.arange(len(kept)) + 0.5) / len(kept)
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    rows = []
    for i, r in facts.iterrows():
        others = facts[(groups == groups[i]) & (facts.index != i)]
        if others.empty:
            continue
        cols = [f"sim:{q}@{d}" for q, d in zip(others.quantity, others.date)]
        sds, bs = [], []
        for k, j in enumerate(kept.draw):
            res = log_residuals(draws.loc[j, cols].to_numpy(float), others.value.to_numpy(float))
            s = posterior_sd_quantile(res, u[k])[()]
            m, v = bias_posterior(res, s)
            sds.append(np.sqrt(s ** 2 + v))
            bs.append(m)
        vals = draws.loc[kept.draw, f"sim:{r.quantity}@{r.date}"].to_numpy(float)
        lo, hi = band(vals, np.array(sds), lo_q, np.array(bs)), band(vals, np.array(sds), hi_q, np.array(bs))
        rows.append((r.date, r.quantity, r.value, lo, hi, bool(lo <= r.value <= hi)))
    return pd.DataFrame(rows, columns=["date", "quantity", "observed", "p_lo", "p_hi", "inside"])
