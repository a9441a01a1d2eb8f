"""Rolling-origin backtest of the inflow models on the shipped monthly series.

Protocol (fixed in advance, nothing is tuned on the evaluation):

* Origins are the ends of March, June, September and December. At each origin every model
  is refitted on the data up to that month only and forecasts steps 1..24.
* A country enters once it has 36 months of history (2010-12 for most, 2015-12 for Croatia).
* Origins before ``first_eval`` (default 2012-12) are a burn-in: their errors feed the
  prediction intervals of later origins but are not scored.
* Prediction intervals are empirical: at origin T the log-scale errors of the same model at
  the same step, from all earlier origins whose outcome was known at T (all countries
  pooled), are divided by each country's scale (mean absolute 12-month log difference over
  the last 60 training months) and their 2.5/10/90/97.5% quantiles are rescaled to the
  country. With fewer than 25 such errors at a step, the quantiles of the longest step with
  enough errors are widened by sqrt(step ratio); with no step having enough (early origins of a
  backtest on few countries) the row has no interval and is left out of the coverage, which
  is reported beside the count of rows that have one (``n_interval``). Intervals never narrow
  with the step, and beyond 12 months they are at least the 12-month quantiles times
  sqrt(step / 12) (:func:`widen_long_horizons`; the 24-month error pool lags a year behind the
  12-month pool).
* Scores per model and step h: MASE (absolute error over the in-sample mean absolute
  seasonal difference of the training window), sMAPE [%], coverage of the 80% and 95%
  intervals, and for h >= 12 the error of the 12-month total ending at step h (weighted
  absolute percentage error over all countries and the median APE).
* Beside the step scores, the M4 competition's reading over the forecast path 1..h (Makridakis,
  Spiliotis and Assimakopoulos 2020, IJF 36(1)): ``mase_path``, the mean of the scaled errors of
  steps 1..h, and ``coverage80_path`` / ``coverage95_path``, the share of steps 1..h whose outcome
  lies inside that step's interval; both per (country, origin) row with every step 1..h known (and,
  for coverage, every step with an interval; ``n_path_interval`` rows), then averaged over rows.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.errors import DataError
from ketenplan.forecast import data as fdata
from ketenplan.forecast import models as fm

log = logging.getLogger(__name__)

H_MAX = 24
ORIGIN_MONTHS = (3, 6, 9, 12)
FIRST_EVAL = "2012-12"
QUANTILES = (0.025, 0.10, 0.90, 0.975)
MIN_POOL = 25
SIGMA_WINDOW = 60
SIGMA_FLOOR = 0.05
ANCHOR_STEP = 12  # intervals beyond this step grow at least like sqrt(k / ANCHOR_STEP) times its quantiles
#: the combination's standardised errors at every rolling origin (``forecast.api.build_error_library``)
LIBRARY_FILE = "combo_error_library.csv"


@functools.lru_cache(maxsize=1)
def error_library() -> pd.DataFrame:
    """The shipped error library: ``geo, origin, h, u`` (built by ``forecast.api.build_error_library``)."""
    return pd.read_csv(data_path("forecast", LIBRARY_FILE))


@dataclass
class Panel:
    """All shipped monthly series on one grid, on the log scale."""

    Y: np.ndarray
    X: np.ndarray
    months: pd.PeriodIndex
    codes: list[str]
    moy: np.ndarray
    agg: np.ndarray

    @classmethod
    def load(cls, through: str | None = None, Y: np.ndarray | None = None,
             months: pd.PeriodIndex | None = None, codes: list[str] | None = None) -> "Panel":
        if Y is None:
            Y, months, codes = fdata.panel()
        if through is not None:
            keep = months <= pd.Period(through, freq="M")
            Y, months = Y[:, keep], months[keep]
        X = fm.to_log(Y)
        full = ~np.isnan(Y).any(axis=1)
        agg = np.log1p(Y[full].sum(axis=0))
        return cls(Y=Y, X=X, months=months, codes=list(codes), moy=np.asarray(months.month) - 1, agg=agg)


def sigma_scale(x: np.ndarray) -> float:
    """Scale of a log series for standardising errors: mean |x_t - x_{t-12}| over the last 60 months."""
    d = np.abs(x[12:] - x[:-12])[-SIGMA_WINDOW:]
    return float(max(d.mean() if d.size else SIGMA_FLOOR, SIGMA_FLOOR))


def mase_scale(y: np.ndarray) -> float:
    """In-sample MASE scale: mean |y_t - y_{t-12}| over the training window [persons/month]."""
    d = np.abs(y[12:] - y[:-12])
    return float(d.mean()) if d.size else float("nan")


_PANEL: Panel | None = None
_ROWS: list[int] | None = None
_MODELS: tuple[str, ...] = fm.MODELS


def _task(T: int) -> tuple[int, dict[str, np.ndarray]]:
    assert _PANEL is not None
    return T, fm.forecast_origin(_PANEL.X, _PANEL.moy, T, H_MAX, _PANEL.agg, models=_MODELS, rows=_ROWS)


def origins(p: Panel, rows: list[int]) -> list[int]:
    """Origin columns: quarter ends with 36 months of history for at least one selected country."""
    first = min(int(np.argmax(~np.isnan(p.X[r]))) for r in rows) + 35
    return [t for t in range(first, len(p.months) - 1) if p.months[t].month in ORIGIN_MONTHS]


@dataclass
class BacktestResult:
    """Forecast rows (one per model, country, origin and step) and the scores."""

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    metrics_by_country: pd.DataFrame
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0

    def ratio(self, model: str, h: int, baseline: str = "snaive") -> float:
        """MASE of ``model`` over the MASE of ``baseline`` at step h."""
        m = self.metrics.set_index(["model", "h"])["mase"]
        return float(m.loc[(model, h)] / m.loc[(baseline, h)])


def _interval_quantiles(U: np.ndarray, orig_t: np.ndarray, calibration: str | None = None,
                        prior: float | None = None, gamma: float | None = None,
                        sig: np.ndarray | None = None) -> np.ndarray:
    """Empirical quantiles [country, origin, step, 4] of standardised errors U [country, origin, step].

    ``calibration`` (default :data:`CALIBRATION`): ``"pooled"`` (the same quantiles for every
    country), ``"mixture"`` (C1), ``"scaled"`` (C2), ``"aci"`` (C3) or ``"mixture_aci"`` (C4) of
    the development log in docs/forecast.md; ``prior`` is n0 (default ``calibration_prior_errors``),
    ``gamma`` the adaptation step of C3/C4 (default ``calibration_aci_gamma``); ``sig`` [country,
    origin] the country scales the errors were standardised by (needed by ``"mixture_aci_log"``, C6). Only errors whose
    outcome is known at an origin (origin + step <= that origin) enter its quantiles, and C3/C4 adapt
    only to misses known there, so the calibration is itself out of sample.
    """
    calibration = CALIBRATION if calibration is None else calibration
    C, J, H = U.shape
    if calibration not in CALIBRATIONS:
        raise DataError(f"interval calibration {calibration!r}: expected one of {', '.join(CALIBRATIONS)}")
    n0 = _prior() if prior is None else float(prior)
    adaptive = "aci" in calibration.split("_")
    g = (_gamma() if gamma is None else float(gamma)) if adaptive else 0.0
    mixture = calibration.startswith("mixture")
    in_log = calibration.endswith("_log")
    if in_log and (sig is None or np.shape(sig) != (C, J)):
        raise DataError(f"interval calibration {calibration!r}: needs the country scales [country, origin]")
    Q = np.full((C, J, H, len(QUANTILES)), np.nan)
    for j in range(J):
        if calibration.startswith("scaled"):
            s = country_scale(U, orig_t, j, n0)  # C
            V = U / s[:, None, None]
        else:
            s, V = np.ones(C), U
        counts = np.zeros(H, int)
        qs = np.full((C, H, len(QUANTILES)), np.nan)
        for k in range(1, H + 1):
            prev = orig_t + k <= orig_t[j]
            block = V[:, prev, k - 1]  # C, n
            ok = np.isfinite(block)
            counts[k - 1] = int(ok.sum())
            if counts[k - 1] < MIN_POOL:
                continue
            levels = np.broadcast_to(np.asarray(QUANTILES, float), (C, len(QUANTILES)))
            if adaptive:  # the record is judged in the units the intervals are built in
                levels = aci_levels(V[:, prev, k - 1], Q[:, prev, k - 1] / s[:, None, None], g)
            if in_log:  # own errors in log units at today's scale: u x sigma(then) / sigma(now)
                ratio = sig[:, prev] / sig[:, j][:, None]
                qs[:, k - 1] = _mixture_quantiles_own(block, block * ratio, n0, levels)
            elif mixture:
                qs[:, k - 1] = _mixture_quantiles(block, n0, levels)
            else:
                qs[:, k - 1] = np.quantile(block[ok], levels.ravel()).reshape(levels.shape) * s[:, None]
        for k in range(1, H + 1):
            if counts[k - 1] >= MIN_POOL:
                Q[:, j, k - 1] = qs[:, k - 1]
            else:
                ok = np.flatnonzero(counts[:k - 1] >= MIN_POOL)
                if ok.size:
                    k2 = ok[-1] + 1
                    Q[:, j, k - 1] = qs[:, k2 - 1] * np.sqrt(k / k2)
        Q[:, j] = widen_long_horizons(Q[:, j])
    return Q


#: Nominal miss rates of the 95% and 80% intervals, and the bounds of C3/C4's adapted rates.
ACI_ALPHA = (0.05, 0.20)
ACI_CLIP = ((0.01, 0.1), (0.05, 0.5))


def aci_levels(U_prev: np.ndarray, Q_prev: np.ndarray, gamma: float) -> np.ndarray:
    """C3/C4: quantile levels [country, 4] adapted to each country's record (adaptive conformal inference).

    ``U_prev`` [country, n] standardised errors of earlier origins at this step (NaN = outcome not
    known), ``Q_prev`` [country, n, 4] the quantiles those intervals were issued with. For the 95% and
    80% intervals alpha_c = alpha + gamma x sum(alpha - miss) over the country's known intervals
    (Gibbs and Candès 2021), clipped; levels alpha_c/2 and 1 - alpha_c/2.
    """
    C = U_prev.shape[0]
    out = np.empty((C, 4))
    known = np.isfinite(U_prev) & np.all(np.isfinite(Q_prev), axis=-1)
    for i, (alpha, (lo, hi)) in enumerate(zip(ACI_ALPHA, ACI_CLIP)):
        with np.errstate(invalid="ignore"):
            miss = (U_prev < Q_prev[..., i]) | (U_prev > Q_prev[..., 3 - i])
        adj = np.where(known, alpha - miss, 0.0).sum(axis=1)
        a = np.clip(alpha + gamma * adj, lo, hi)
        out[:, i], out[:, 3 - i] = a / 2, 1 - a / 2
    out[:, 1] = np.maximum(out[:, 1], out[:, 0])  # the 80% interval inside the 95% one
    out[:, 2] = np.minimum(out[:, 2], out[:, 3])
    return out


CALIBRATIONS = ("pooled", "mixture", "scaled", "aci", "mixture_aci", "scaled_aci", "mixture_aci_log")
#: The interval calibration of the backtest and the forecasts (development log, third round).
CALIBRATION = "mixture_aci"


def _gamma() -> float:
    from ketenplan.forecast.scenarios import param

    return param("calibration_aci_gamma")


def _prior() -> float:
    from ketenplan.forecast.scenarios import param

    return param("calibration_prior_errors")


def _mixture_quantiles(block: np.ndarray, n0: float, levels: np.ndarray | None = None) -> np.ndarray:
    """C1: per-country weighted quantiles [country, 4] of the errors ``block`` [country, n] (NaN = unknown).

    Country c's own errors carry the total weight n_c / (n_c + n0), all other errors the rest, so a
    country without errors of its own gets the pooled quantiles. Inverse of the weighted empirical
    distribution function (the smallest error whose cumulative weight reaches the level).
    """
    C = block.shape[0]
    owner = np.repeat(np.arange(C), block.shape[1]).reshape(block.shape)
    ok = np.isfinite(block)
    v, who = block[ok], owner[ok]
    order = np.argsort(v, kind="stable")
    v, who = v[order], who[order]
    n = v.size
    own = np.zeros((C, n))
    own[who, np.arange(n)] = 1.0
    n_c = own.sum(axis=1)  # C
    cum_own = np.cumsum(own, axis=1)
    cum_other = np.arange(1, n + 1)[None, :] - cum_own
    w_own = np.where(n_c > 0, 1.0 / (n_c + n0), 0.0)  # per own error
    w_other = np.where(n - n_c > 0, (1.0 - n_c * w_own) / np.maximum(n - n_c, 1), 0.0)
    F = cum_own * w_own[:, None] + cum_other * w_other[:, None]
    F /= F[:, -1:]
    levels = np.broadcast_to(np.asarray(QUANTILES, float), (C, len(QUANTILES))) if levels is None else levels
    out = np.empty(levels.shape)
    for i in range(levels.shape[1]):
        idx = np.minimum((F < levels[:, i:i + 1] - 1e-12).sum(axis=1), n - 1)
        out[:, i] = v[idx]
    return out


def _mixture_quantiles_own(block: np.ndarray, own: np.ndarray, n0: float, levels: np.ndarray) -> np.ndarray:
    """C6: as :func:`_mixture_quantiles`, but country c's own errors are taken from row c of ``own``
    (its errors in today's units) while the other countries' come from ``block``."""
    C = block.shape[0]
    out = np.empty(levels.shape)
    for c in range(C):
        others = np.delete(block, c, axis=0)
        ov = others[np.isfinite(others)]
        mine = own[c][np.isfinite(own[c])]
        n_c = mine.size
        w_own = 1.0 / (n_c + n0) if n_c else 0.0
        w_oth = (1.0 - n_c * w_own) / ov.size if ov.size else 0.0
        v = np.r_[ov, mine]
        w = np.r_[np.full(ov.size, w_oth), np.full(n_c, w_own)]
        order = np.argsort(v, kind="stable")
        v, F = v[order], np.cumsum(w[order])
        F /= F[-1]
        idx = np.minimum((F[None, :] < levels[c][:, None] - 1e-12).sum(axis=1), v.size - 1)
        out[c] = v[idx]
    return out


def country_scale(U: np.ndarray, orig_t: np.ndarray, j: int, n0: float, steps: int = 12) -> np.ndarray:
    """C2: difficulty factor s_c [country] at origin j from the errors known there.

    r_c = mean |u| of c's own known errors at steps 1..``steps`` over the pooled mean |u| at the same
    steps (each step weighted by c's count at it); s_c = exp(w log r_c) with w = m_c / (m_c + n0),
    m_c = c's number of known step-1 errors. 1 for a country without known errors.
    """
    C = U.shape[0]
    num = np.zeros(C)
    den = np.zeros(C)
    for k in range(1, min(steps, U.shape[2]) + 1):
        prev = orig_t + k <= orig_t[j]
        a = np.abs(U[:, prev, k - 1])
        ok = np.isfinite(a)
        if not ok.any():
            continue
        pooled_mean = a[ok].mean()
        n = ok.sum(axis=1)
        num += np.where(ok, a, 0.0).sum(axis=1)
        den += n * pooled_mean
    m = np.isfinite(U[:, orig_t + 1 <= orig_t[j], 0]).sum(axis=1)
    with np.errstate(all="ignore"):
        r = np.where((den > 0) & (num > 0), num / den, 1.0)
    w = m / (m + n0)
    return np.exp(w * np.log(r))


def widen_long_horizons(Q: np.ndarray) -> np.ndarray:
    """Intervals that never narrow with the step, and beyond ``ANCHOR_STEP`` grow at least like a random walk.

    ``Q`` [..., step, 4] quantiles (2.5/10/90/97.5%). At every step the lower quantiles become the
    lowest of steps 1..k and the upper the highest; for k > ``ANCHOR_STEP`` they are moreover at
    least the (unwidened) step-12 quantiles times sqrt(k / 12). Reason: the pool of k-step errors
    known at an origin ends k months before it, so the 24-month pool is a year staler than the
    12-month pool (before 2017 it held no surge), and a 24-month error is the sum of two yearly
    changes. Uses only quantiles already computed from errors known at the origin.
    """
    Q = np.array(Q, dtype=float, copy=True)
    E = Q.copy()
    H = Q.shape[-2]
    with np.errstate(all="ignore"):
        for k in range(2, H + 1):
            lo = np.fmin(Q[..., k - 1, :2], Q[..., k - 2, :2])
            hi = np.fmax(Q[..., k - 1, 2:], Q[..., k - 2, 2:])
            if k > ANCHOR_STEP:
                f = np.sqrt(k / ANCHOR_STEP)
                lo = np.fmin(lo, f * E[..., ANCHOR_STEP - 1, :2])
                hi = np.fmax(hi, f * E[..., ANCHOR_STEP - 1, 2:])
            Q[..., k - 1, :2], Q[..., k - 1, 2:] = lo, hi
    return Q


def run_backtest(countries: list[str] | str | None = "all", horizons=(1, 3, 6, 12, 24), *,
                 models=fm.MODELS, first_eval: str = FIRST_EVAL, n_jobs: int = 2,
                 progress: Callable[[int, int], None] | None = None, panel: Panel | None = None) -> BacktestResult:
    """Run the rolling-origin backtest (protocol in the module docstring).

    ``countries``: ``"all"``/None or a list of Eurostat codes to score (the pooled model always
    learns from all shipped countries); repeated codes are scored once (first position kept), an
    empty list raises DataError. ``horizons``: steps (1..24) to report. ``n_jobs``:
    worker processes, an integer >= 1 (1 runs in this process). ``progress(done, total)`` is called per origin.
    """
    global _PANEL, _ROWS, _MODELS
    t0 = time.perf_counter()
    horizons = sorted({int(h) for h in horizons})
    if not horizons or horizons[0] < 1 or horizons[-1] > H_MAX:
        raise DataError(f"backtest horizons {horizons}: expected steps between 1 and {H_MAX} months")
    models = tuple(models)
    unknown = set(models) - set(fm.MODELS)
    if unknown:
        raise DataError(f"backtest models: unknown {sorted(unknown)}; expected some of {', '.join(fm.MODELS)}")
    for base in fm.BASELINES:
        if base not in models:
            models = models + (base,)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise DataError(f"backtest n_jobs: expected an integer >= 1 (worker processes), found {n_jobs!r}")
    p = panel or Panel.load()
    if countries in (None, "all") or countries == ["all"]:
        codes = list(p.codes)
    else:
        if isinstance(countries, str):
            countries = [countries]
        # normalise first (aliases such as GR -> EL), then drop repeats keeping the first
        codes = list(dict.fromkeys(fdata.normalise_country(c) for c in countries))
        if not codes:
            raise DataError(f"backtest countries: expected 'all' or at least one Eurostat code "
                            f"({', '.join(p.codes)}), found none")
    rows = [p.codes.index(c) for c in codes]
    orig = origins(p, rows)
    _PANEL, _ROWS, _MODELS = p, rows, models
    results: dict[int, dict[str, np.ndarray]] = {}
    try:
        if n_jobs > 1 and len(orig) > 1:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as ex:
                for i, (T, res) in enumerate(ex.map(_task, orig, chunksize=1)):
                    results[T] = res
                    if progress:
                        progress(i + 1, len(orig))
        else:
            for i, T in enumerate(orig):
                results[T] = _task(T)[1]
                if progress:
                    progress(i + 1, len(orig))
    finally:
        _PANEL, _ROWS = None, None
    fc = _assemble(p, rows, orig, results, models)
    metrics, by_country = _score(fc, horizons, first_eval)
    secs = time.perf_counter() - t0
    settings = {"countries": codes, "horizons": horizons, "models": list(models), "first_eval": first_eval,
                "origins": [str(p.months[t]) for t in orig], "origin_months": list(ORIGIN_MONTHS),
                "data_end": str(p.months[-1]), "calibration": CALIBRATION}
    log.info("backtest: %d countries, %d origins, %d models in %.1f s", len(codes), len(orig), len(models), secs)
    return BacktestResult(forecasts=fc, metrics=metrics, metrics_by_country=by_country, settings=settings,
                          seconds=secs)


def _assemble(p: Panel, rows: list[int], orig: list[int], results, models, calibration: str | None = None,
              prior: float | None = None) -> pd.DataFrame:
    N = len(p.months)
    orig_t = np.asarray(orig)
    frames = []
    sig = np.full((len(rows), len(orig)), np.nan)
    scl = np.full((len(rows), len(orig)), np.nan)
    for i, r in enumerate(rows):
        for j, T in enumerate(orig):
            x = p.X[r, :T + 1]
            ok = ~np.isnan(x)
            if ok.sum() >= 36:
                sig[i, j] = sigma_scale(x[ok])
                scl[i, j] = mase_scale(p.Y[r, :T + 1][ok])
    tgt = orig_t[None, :, None] + np.arange(1, H_MAX + 1)[None, None, :]  # 1, J, H
    inside = tgt < N
    act_x = np.where(inside, p.X[np.asarray(rows)][:, np.minimum(tgt[0], N - 1)], np.nan)  # C, J, H
    for name in models:
        F = np.stack([results[T][name][rows] for T in orig], axis=1)  # C, J, H
        U = (act_x - F) / sig[:, :, None]
        Q = _interval_quantiles(U, orig_t, calibration or CALIBRATION, prior, sig=sig)  # C, J, H, 4
        bounds = F[..., None] + sig[:, :, None, None] * Q
        C, J, H = F.shape
        ci, ji, hi = np.meshgrid(np.arange(C), np.arange(J), np.arange(H), indexing="ij")
        df = pd.DataFrame({
            "model": name,
            "geo": np.asarray(p.codes)[np.asarray(rows)][ci.ravel()],
            "origin": np.asarray([str(p.months[t]) for t in orig])[ji.ravel()],
            "h": hi.ravel() + 1,
            "month": np.asarray([str(m) for m in p.months] + [""] * (H_MAX + 1))[tgt[0][ji.ravel(), hi.ravel()]],
            "actual": fm.from_log(act_x.ravel()),
            "point": fm.from_log(F.ravel()),
            "lo95": fm.from_log(bounds[..., 0].ravel()),
            "lo80": fm.from_log(bounds[..., 1].ravel()),
            "hi80": fm.from_log(bounds[..., 2].ravel()),
            "hi95": fm.from_log(bounds[..., 3].ravel()),
            "u": U.ravel(),
            "sigma": sig[ci.ravel(), ji.ravel()],
            "scale": scl[ci.ravel(), ji.ravel()],
        })
        df.loc[~np.isfinite(F.ravel()), ["point", "lo95", "lo80", "hi80", "hi95"]] = np.nan
        frames.append(df[np.isfinite(F.ravel())])
    out = pd.concat(frames, ignore_index=True)
    out.loc[~np.isfinite(out["u"]), "actual"] = np.nan
    return out


def _smape(a: np.ndarray, f: np.ndarray) -> np.ndarray:
    den = np.abs(a) + np.abs(f)
    return np.where(den > 0, 200.0 * np.abs(a - f) / np.where(den > 0, den, 1.0), 0.0)


def _score(fc: pd.DataFrame, horizons: list[int], first_eval: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = fc[(fc["origin"] >= first_eval) & fc["actual"].notna()].copy()
    ev["ae"] = (ev["actual"] - ev["point"]).abs()
    ev["ase"] = np.where(ev["scale"] > 0, ev["ae"] / ev["scale"].where(ev["scale"] > 0), np.nan)
    ev["smape"] = _smape(ev["actual"].to_numpy(), ev["point"].to_numpy())
    has = ev["lo80"].notna()
    ev["in80"] = ((ev["actual"] >= ev["lo80"]) & (ev["actual"] <= ev["hi80"])).where(has)
    ev["in95"] = ((ev["actual"] >= ev["lo95"]) & (ev["actual"] <= ev["hi95"])).where(has)
    # 12-month totals ending at step h
    key = ["model", "geo", "origin"]
    ev = ev.sort_values(key + ["h"])
    g = ev.groupby(key)
    ev["tot_a"] = g["actual"].transform(lambda s: s.rolling(12).sum())
    ev["tot_f"] = g["point"].transform(lambda s: s.rolling(12).sum())
    ev["tot_n"] = g["h"].transform(lambda s: s.rolling(12).count())
    ev.loc[ev["tot_n"] < 12, ["tot_a", "tot_f"]] = np.nan
    # MASE of the forecast path 1..h (the M4 convention: mean of the scaled errors over the steps up
    # to h), beside the per-step MASE; only where every step 1..h is known
    ev["path_ase"] = g["ase"].transform(lambda s: s.expanding().mean())
    full_path = g["h"].cumcount() + 1 == ev["h"]
    ev.loc[~full_path, "path_ase"] = np.nan
    # coverage of the path 1..h (the M4 reading of interval coverage, beside the step coverage): the
    # share of steps 1..h whose outcome lies inside that step's interval; only where every step 1..h
    # is known and has an interval
    for lvl in ("80", "95"):
        inside = ev[f"in{lvl}"].astype(float)
        share = inside.groupby([ev[k] for k in key]).transform(lambda s: s.expanding().mean())
        n_int = inside.notna().astype(int).groupby([ev[k] for k in key]).cumsum()
        ev[f"path_in{lvl}"] = share.where(full_path & (n_int == ev["h"]))
    sel = ev[ev["h"].isin(horizons)]
    rows = []
    for (model, h), d in sel.groupby(["model", "h"]):
        tot = d.dropna(subset=["tot_a"])
        tot = tot[tot["tot_a"] > 0]
        ape = (tot["tot_f"] - tot["tot_a"]).abs() / tot["tot_a"]
        rows.append({"model": model, "h": h, "n": len(d), "n_interval": int(d["in80"].notna().sum()), "mase": d["ase"].mean(),
                     "mase_path": d["path_ase"].mean(), "smape": d["smape"].mean(),
                     "coverage80": d["in80"].astype(float).mean(), "coverage95": d["in95"].astype(float).mean(),
                     "annual_total_wape": (tot["tot_f"] - tot["tot_a"]).abs().sum() / tot["tot_a"].sum()
                     if len(tot) else np.nan,
                     "annual_total_mdape": ape.median() if len(tot) else np.nan,
                     "coverage80_path": d["path_in80"].mean(), "coverage95_path": d["path_in95"].mean(),
                     "n_path_interval": int(d["path_in80"].notna().sum())})
    metrics = pd.DataFrame(rows)
    base = metrics[metrics["model"] == "snaive"].set_index("h")["mase"]
    metrics["mase_ratio_snaive"] = metrics["mase"] / metrics["h"].map(base)
    base_path = metrics[metrics["model"] == "snaive"].set_index("h")["mase_path"]
    metrics["mase_path_ratio_snaive"] = metrics["mase_path"] / metrics["h"].map(base_path)
    rw = metrics[metrics["model"] == "naive"].set_index("h")["mase"]
    metrics["mase_ratio_naive"] = metrics["mase"] / metrics["h"].map(rw)
    order = {m: i for i, m in enumerate(fm.MODELS)}
    metrics = metrics.sort_values(["h", "model"], key=lambda s: s.map(order) if s.name == "model" else s)
    by_country = (sel.assign(in80=sel["in80"].astype(float)).groupby(["model", "geo", "h"])
                  .agg(n=("ase", "size"), mase=("ase", "mean"), coverage80=("in80", "mean"),
                       coverage80_path=("path_in80", "mean"), coverage95_path=("path_in95", "mean"),
                       n_path=("path_in80", "count"))
                  .reset_index())
    return metrics.reset_index(drop=True), by_country
