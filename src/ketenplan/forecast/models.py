"""Point-forecast models for monthly asylum applicants, on the log scale ``x = log(1 + y)``.

Every model maps the training history of one origin to point forecasts for steps 1..h.
Working on the log scale makes seasonal effects and shocks proportional to the level,
which is how asylum inflow behaves (a surge multiplies the usual numbers); the back-
transformed point forecast is the forecast median.

Models (names are used in tables and on the command line):

``snaive``    seasonal naive: the value of the same month a year earlier (baseline).
``naive``     random walk: the last observed value (baseline).
``ets``       exponential smoothing with additive level and season, no trend (ETS(A,N,A)
              on the log scale), statsforecast ``AutoETS``.
``arima``     seasonal ARIMA(1,0,0)(0,1,1)12: an AR(1) in the yearly log changes, which
              returns to last year's pattern rather than extrapolating a trend.
``theta``     the standard Theta method with additive seasonal decomposition, statsforecast.
``pooled``    one direct regression per step, pooled across all countries: the change of the
              deseasonalised level is explained by the country's own recent momentum, its
              gap to its three-year mean, and the momentum of the European total in the
              preceding months (the leading indicator).
``combo``     the mean of ets, arima, theta and pooled on the log scale (declared in advance,
              not selected on the backtest).
"""

from __future__ import annotations

import logging
import os
import warnings

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

import numpy as np

log = logging.getLogger(__name__)

SEASON = 12
BASELINES = ("snaive", "naive")
SINGLE_MODELS = ("ets", "arima", "theta")
MODELS = ("snaive", "naive", "ets", "arima", "theta", "pooled", "combo")
COMBO_MEMBERS = ("ets", "arima", "theta", "pooled")
RIDGE = 1.0  # ridge penalty of the pooled regression, in units of squared standardised features


def to_log(y: np.ndarray) -> np.ndarray:
    """``log(1 + y)`` for counts y >= 0 [persons/month]."""
    return np.log1p(y)


def from_log(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_log`, clipped at zero."""
    return np.clip(np.expm1(x), 0.0, None)


def snaive(x: np.ndarray, h: int) -> np.ndarray:
    """Seasonal naive forecast for steps 1..h."""
    k = np.arange(1, h + 1)
    back = SEASON * ((k - 1) // SEASON + 1)
    return x[len(x) - back + k - 1]


def naive(x: np.ndarray, h: int) -> np.ndarray:
    """Random-walk forecast for steps 1..h."""
    return np.full(h, x[-1])


def _sf_models():
    from statsforecast.models import ARIMA, AutoETS, Theta

    return {
        "ets": AutoETS(season_length=SEASON, model="ANA"),
        "arima": ARIMA(order=(1, 0, 0), seasonal_order=(0, 1, 1), season_length=SEASON),
        "theta": Theta(season_length=SEASON, decomposition_type="additive"),
    }


_SF = None


def single(name: str, x: np.ndarray, h: int) -> np.ndarray:
    """Forecast with one of the statsforecast models; falls back to seasonal naive on failure.

    A fit that fails or returns non-finite values (e.g. a country with months of zero
    applicants) is logged at DEBUG level and replaced by the
    seasonal naive forecast, so no NaN ever leaves this function.
    """
    global _SF
    if _SF is None:
        _SF = _sf_models()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                out = np.asarray(_SF[name].forecast(y=x.astype(float), h=h)["mean"], dtype=float)
    except Exception as exc:  # statsforecast raises assorted errors on degenerate series
        log.debug("%s fit failed (%s); using the seasonal naive forecast", name, exc)
        return snaive(x, h)
    if out.shape != (h,) or not np.all(np.isfinite(out)):
        log.debug("%s returned non-finite forecasts; using the seasonal naive forecast", name)
        return snaive(x, h)
    # keep the log forecast within a sane range (a factor e^6 ~ 400 above the record month)
    return np.clip(out, 0.0, x.max() + 6.0)


def seasonal_index(x: np.ndarray, moy: np.ndarray) -> np.ndarray:
    """Additive seasonal index (12 values, mean 0) of a log series by classical decomposition.

    ``moy`` is the month of year (0..11) of each element of ``x``. The trend is the centred
    2x12 moving average.
    """
    n = len(x)
    w = np.r_[0.5, np.ones(11), 0.5] / 12.0
    trend = np.convolve(x, w, mode="valid")  # length n - 12, centred on positions 6..n-7
    detr = x[6:n - 6] - trend
    m = moy[6:n - 6]
    idx = np.array([detr[m == k].mean() if np.any(m == k) else 0.0 for k in range(12)])
    return idx - idx.mean()


def _rolling_mean(a: np.ndarray, k: int) -> np.ndarray:
    """Trailing mean over k elements along the last axis (NaN for the first k-1)."""
    out = np.full(a.shape, np.nan)
    c = np.nancumsum(np.where(np.isnan(a), 0.0, a), axis=-1)
    c = np.concatenate([np.zeros(a.shape[:-1] + (1,)), c], axis=-1)
    out[..., k - 1:] = (c[..., k:] - c[..., :-k]) / k
    # invalidate windows that touch a NaN
    isn = np.isnan(a).astype(float)
    cn = np.concatenate([np.zeros(a.shape[:-1] + (1,)), np.cumsum(isn, axis=-1)], axis=-1)
    bad = np.zeros(a.shape, bool)
    bad[..., k - 1:] = (cn[..., k:] - cn[..., :-k]) > 0
    bad[..., :k - 1] = True
    out[bad] = np.nan
    return out


def pooled_design(X: np.ndarray, moy: np.ndarray, T: int, agg: np.ndarray):
    """Design of the pooled regression with data up to column T only: ``(F, A, L, S, m)``.

    ``F`` [country, month, 5] features (own 3- and 12-month momentum, the European total's
    3-month momentum, last-month deviation, gap to the 36-month mean), ``A`` deseasonalised log
    series, ``L`` its 3-month mean, ``S`` [country, 12] seasonal indices, ``m`` month of year.
    """
    C = X.shape[0]
    Xt = X[:, :T + 1]
    m = moy[:T + 1]
    S = np.zeros((C, 12))
    A = np.full(Xt.shape, np.nan)
    for c in range(C):
        ok = ~np.isnan(Xt[c])
        if ok.sum() >= 36:
            S[c] = seasonal_index(Xt[c, ok], m[ok])
            A[c] = Xt[c] - S[c, m]
    ga = agg[:T + 1]
    sa = seasonal_index(ga, m)
    GA = _rolling_mean((ga - sa[m])[None, :], 3)[0]
    L = _rolling_mean(A, 3)
    L36 = _rolling_mean(A, 36)
    Lsh3 = np.full(L.shape, np.nan)
    Lsh3[:, 3:] = L[:, :-3]
    Lsh12 = np.full(L.shape, np.nan)
    Lsh12[:, 12:] = L[:, :-12]
    G3 = np.full(GA.shape, np.nan)
    G3[3:] = GA[3:] - GA[:-3]
    F = np.stack([L - Lsh3, L - Lsh12, np.broadcast_to(G3, L.shape), A - L, L - L36], axis=-1)  # C, t, 5
    return F, A, L, S, m


def pooled(X: np.ndarray, moy: np.ndarray, T: int, h: int, agg: np.ndarray) -> np.ndarray:
    """Pooled direct regression across countries, fitted on data up to column T only.

    ``X`` [country, month] log series (NaN before a series starts), ``moy`` month of year of
    each column, ``agg`` log of the European total (countries observed throughout). Returns
    point forecasts [country, step] for steps 1..h (NaN rows for countries without a history
    of at least 36 months at T).
    """
    F, A, L, S, m = pooled_design(X, moy, T, agg)
    return direct_ridge(F, A, L, S, m, T, h, RIDGE)


def direct_ridge(F: np.ndarray, A: np.ndarray, L: np.ndarray, S: np.ndarray, m: np.ndarray, T: int, h: int,
                 ridge: float) -> np.ndarray:
    """Direct multi-step ridge forecasts pooled over countries [country, step] on the log scale.

    For each step k, the change of the deseasonalised level ``A[t+k] - L[t]`` is regressed on the
    features ``F[c, t, :]`` of every country and month whose outcome is known at origin T
    (standardised features, unpenalised intercept; fewer than 30 rows: the mean change).
    The forecast adds the fitted change to the level at T and the seasonal term ``S``.
    """
    out = np.full((F.shape[0], h), np.nan)
    valid_now = np.all(np.isfinite(F[:, T, :]), axis=1)
    for k in range(1, h + 1):
        tgt = np.full(L.shape, np.nan)
        tgt[:, :T + 1 - k] = A[:, k:T + 1] - L[:, :T + 1 - k]
        rows = np.all(np.isfinite(F), axis=-1) & np.isfinite(tgt)
        rows[:, T + 1 - k:] = False
        Fx, ty = F[rows], tgt[rows]
        if len(ty) < 30:
            beta = np.zeros(F.shape[-1] + 1)
            beta[0] = ty.mean() if len(ty) else 0.0
        else:
            mu, sd = Fx.mean(axis=0), Fx.std(axis=0) + 1e-9
            Z = np.column_stack([np.ones(len(ty)), (Fx - mu) / sd])
            P = ridge * np.eye(Z.shape[1])
            P[0, 0] = 0.0
            b = np.linalg.solve(Z.T @ Z + P, Z.T @ ty)
            beta = np.r_[b[0] - np.sum(b[1:] * mu / sd), b[1:] / sd]
        pred = L[:, T] + beta[0] + F[:, T, :] @ beta[1:] + S[:, (m[T] + k) % 12]
        out[:, k - 1] = np.where(valid_now, pred, np.nan)
    return out


def forecast_origin(X: np.ndarray, moy: np.ndarray, T: int, h: int, agg: np.ndarray,
                    models=MODELS, rows=None) -> dict[str, np.ndarray]:
    """Point forecasts of every model for every country with enough history at origin T.

    Returns ``{model: array [country, step]}`` on the log scale; rows of countries with fewer
    than 36 observations up to T (or not in ``rows``) are NaN.
    """
    C = X.shape[0]
    rows = range(C) if rows is None else rows
    res = {name: np.full((C, h), np.nan) for name in models}
    need_pooled = "pooled" in models or "combo" in models
    P = pooled(X, moy, T, h, agg) if need_pooled else None
    for c in rows:
        x = X[c, :T + 1]
        x = x[~np.isnan(x)]
        if len(x) < 36:
            continue
        fc = {}
        if "snaive" in models:
            fc["snaive"] = snaive(x, h)
        if "naive" in models:
            fc["naive"] = naive(x, h)
        for name in SINGLE_MODELS:
            if name in models or "combo" in models:
                fc[name] = single(name, x, h)
        if need_pooled:
            p = P[c]
            fc["pooled"] = p if np.all(np.isfinite(p)) else snaive(x, h)
        if "combo" in models:
            fc["combo"] = np.mean([fc[n] for n in COMBO_MEMBERS], axis=0)
        for name in models:
            res[name][c] = fc[name]
    return res
