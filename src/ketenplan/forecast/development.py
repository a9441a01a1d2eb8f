"""Candidate models of the model development log (docs/forecast.md), kept to reproduce it.

None of these is used by the forecasts; they were specified in advance, compared on the
development half of the countries and confirmed once on the other half (see the log):

``pooledlr``   D1: pooled direct ridge regression with mean reversion toward the country's
               long-run (expanding-mean) level and the European total's 3- and 12-month
               momentum and gap to its long-run level.
``etsdamped``  D2: ETS(A,Ad,A) on the log scale (statsforecast AutoETS, damped trend).
``rwdrift``    D3: country level plus the European total's mean monthly change over 12 months.
``wcombo``     D4: members weighted by the inverse of their MASE at the same step over the
               rows whose outcome was known at the origin (equal weights below 25 rows).
``meanrev``    D5: pooled direct ridge regression on the gap to the 36-month mean and the
               last-month deviation only (mean reversion, no momentum).
``median``     D6: median of ets, arima, theta, pooled and meanrev on the log scale.
``frontex``    D7: ``pooled`` plus the Frontex leading indicator (:mod:`ketenplan.forecast.leading`).
``combofx``    D8: mean of ets, arima, theta and frontex on the log scale.
``oracle_eu``  not a forecast: the country's level moved by the *actual* future change of the
               deseasonalised European total, an upper bound for any model that uses the
               co-movement of European inflows.

``python -m ketenplan.forecast.development`` prints the tables of the log (about 2 minutes);
``python -m ketenplan.forecast.development leading`` only the third round's D7 and D8.
"""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from ketenplan.forecast import backtest as bt
from ketenplan.forecast import leading as ld
from ketenplan.forecast import models as fm

CANDIDATES = ("pooledlr", "etsdamped", "rwdrift", "meanrev")
MEDIAN_MEMBERS = ("ets", "arima", "theta", "pooled", "meanrev")
COMBOFX_MEMBERS = ("ets", "arima", "theta", "frontex")
WCOMBO_MEMBERS = ("ets", "arima", "theta", "pooled", "naive", "snaive", "pooledlr", "etsdamped", "rwdrift")


def split(codes: list[str]) -> tuple[list[str], list[str]]:
    """Development half (alphabetical odd positions 1, 3, ...) and confirmation half."""
    s = sorted(codes)
    return s[0::2], s[1::2]


def _lag(a: np.ndarray, k: int) -> np.ndarray:
    o = np.full(a.shape, np.nan)
    o[..., k:] = a[..., :-k]
    return o


def _expanding_mean(a: np.ndarray) -> np.ndarray:
    ok = np.isfinite(a)
    c = np.cumsum(np.where(ok, a, 0.0), axis=-1)
    n = np.cumsum(ok, axis=-1)
    out = np.where(n > 0, c / np.maximum(n, 1), np.nan)
    out[~ok] = np.nan
    return out


def _deseason(X, moy, T, agg):
    C = X.shape[0]
    Xt, m = X[:, :T + 1], moy[:T + 1]
    S, A = np.zeros((C, 12)), np.full(Xt.shape, np.nan)
    for c in range(C):
        ok = ~np.isnan(Xt[c])
        if ok.sum() >= 36:
            S[c] = fm.seasonal_index(Xt[c, ok], m[ok])
            A[c] = Xt[c] - S[c, m]
    ga = agg[:T + 1]
    return S, A, ga - fm.seasonal_index(ga, m)[m], m


def pooledlr(X, moy, T, h, agg) -> np.ndarray:
    """D1 point forecasts [country, step] on the log scale."""
    S, A, GAm, m = _deseason(X, moy, T, agg)
    GA = fm._rolling_mean(GAm[None, :], 3)[0]
    L = fm._rolling_mean(A, 3)
    LR = _expanding_mean(A)
    GLR = _expanding_mean(GAm[None, :])[0]
    B = lambda v: np.broadcast_to(v, L.shape)  # noqa: E731
    F = np.stack([L - _lag(L, 3), L - _lag(L, 12), A - L, L - LR, B(GA - _lag(GA, 3)), B(GA - _lag(GA, 12)),
                  B(GA - GLR)], axis=-1)
    return fm.direct_ridge(F, A, L, S, m, T, h, fm.RIDGE)


def meanrev(X, moy, T, h, agg) -> np.ndarray:
    """D5 point forecasts [country, step] on the log scale."""
    S, A, _, m = _deseason(X, moy, T, agg)
    L = fm._rolling_mean(A, 3)
    L36 = fm._rolling_mean(A, 36)
    F = np.stack([L - L36, A - L], axis=-1)
    return fm.direct_ridge(F, A, L, S, m, T, h, fm.RIDGE)


def rwdrift(X, moy, T, h, agg) -> np.ndarray:
    """D3 point forecasts [country, step] on the log scale."""
    S, A, GAm, m = _deseason(X, moy, T, agg)
    L = fm._rolling_mean(A, 3)
    k = np.arange(1, h + 1)
    return L[:, T][:, None] + (GAm[T] - GAm[T - 12]) / 12.0 * k[None, :] + S[:, (m[T] + k) % 12]


def oracle_eu(X, moy, T, h, agg) -> np.ndarray:
    """Infeasible bound: the country's level moved by the actual future European change."""
    N = X.shape[1]
    S, A, _, m = _deseason(X, moy, T, agg)
    _, _, GAfull, _ = _deseason(X, moy, N - 1, agg)
    L = fm._rolling_mean(A, 3)
    k = np.arange(1, h + 1)
    fut = GAfull[np.minimum(T + k, N - 1)] - fm._rolling_mean(GAfull[None, :T + 1], 3)[0][T]
    return L[:, T][:, None] + fut[None, :] + S[:, (m[T] + k) % 12]


_ED = None


def etsdamped(x: np.ndarray, h: int) -> np.ndarray:
    """D2 point forecasts for one log series (seasonal naive on failure)."""
    global _ED
    if _ED is None:
        from statsforecast.models import AutoETS
        _ED = AutoETS(season_length=fm.SEASON, model="AAA", damped=True)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = np.asarray(_ED.forecast(y=x.astype(float), h=h)["mean"], dtype=float)
    except Exception:  # noqa: BLE001 - as fm.single
        return fm.snaive(x, h)
    if out.shape != (h,) or not np.all(np.isfinite(out)):
        return fm.snaive(x, h)
    return np.clip(out, 0.0, x.max() + 6.0)


def _task(T: int):
    p = bt._PANEL
    res = fm.forecast_origin(p.X, p.moy, T, bt.H_MAX, p.agg)
    ok = np.isfinite(res["snaive"][:, :1])
    for name, f in (("pooledlr", pooledlr), ("rwdrift", rwdrift), ("meanrev", meanrev),
                    ("oracle_eu", oracle_eu)):
        v = f(p.X, p.moy, T, bt.H_MAX, p.agg)
        res[name] = np.where(ok & np.all(np.isfinite(v), axis=1, keepdims=True), v, res["snaive"])
    ed = np.full_like(res["snaive"], np.nan)
    for c in np.flatnonzero(ok[:, 0]):
        x = p.X[c, :T + 1]
        ed[c] = etsdamped(x[~np.isnan(x)], bt.H_MAX)
    res["etsdamped"] = ed
    res["median"] = np.median(np.stack([res[mm] for mm in MEDIAN_MEMBERS]), axis=0)
    _add_leading(p, T, res)
    return T, res


def _add_leading(p: bt.Panel, T: int, res: dict) -> None:
    """D7 ``frontex`` (falling back to seasonal naive where a country has no forecast) and D8 ``combofx``."""
    ok = np.isfinite(res["snaive"][:, :1])
    v = ld.frontex(p.X, p.moy, T, bt.H_MAX, p.agg, p.months, p.codes)
    res["frontex"] = np.where(ok & np.all(np.isfinite(v), axis=1, keepdims=True), v, res["snaive"])
    res["combofx"] = np.mean(np.stack([res[mm] for mm in COMBOFX_MEMBERS]), axis=0)


def _task_leading(T: int):
    p = bt._PANEL
    res = fm.forecast_origin(p.X, p.moy, T, bt.H_MAX, p.agg)
    _add_leading(p, T, res)
    return T, res


def forecasts_all(p: bt.Panel, n_jobs: int = 2, task=_task) -> tuple[list[int], dict]:
    """Point forecasts of all models and candidates at every backtest origin."""
    orig = bt.origins(p, list(range(len(p.codes))))
    bt._PANEL = p
    try:
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("fork")) as ex:
            return orig, dict(ex.map(task, orig))
    finally:
        bt._PANEL = None


def add_wcombo(p: bt.Panel, orig: list[int], res: dict, rows: list[int], members=WCOMBO_MEMBERS) -> None:
    """D4: inverse-past-MASE weighted mean (log scale), weights from ``rows`` and known outcomes only."""
    N, H, ot = len(p.months), bt.H_MAX, np.asarray(orig)
    tgt = ot[:, None] + np.arange(1, H + 1)[None, :]
    Ya = np.where(tgt < N, p.Y[:, np.minimum(tgt, N - 1)], np.nan)
    scl = np.full((len(p.codes), len(ot)), np.nan)
    for j, T in enumerate(ot):
        for c in rows:
            y = p.Y[c, :T + 1]
            y = y[~np.isnan(y)]
            if len(y) >= 36:
                scl[c, j] = bt.mase_scale(y)
    ase = {mm: (np.abs(fm.from_log(np.stack([res[T][mm] for T in ot], axis=1)) - Ya) / scl[:, :, None])[rows]
           for mm in members}
    for T in ot:
        W = np.ones((len(members), H))
        for k in range(1, H + 1):
            prev = ot + k <= T
            if np.isfinite(ase[members[0]][:, prev, k - 1]).sum() >= bt.MIN_POOL:
                W[:, k - 1] = [1.0 / np.nanmean(ase[mm][:, prev, k - 1]) for mm in members]
        W /= W.sum(axis=0)
        res[T]["wcombo"] = np.einsum("mh,mch->ch", W, np.stack([res[T][mm] for mm in members]))


def score(p, orig, res, codes, models, horizons=(1, 3, 6, 12, 24)) -> pd.DataFrame:
    rows = [p.codes.index(c) for c in codes]
    fc = bt._assemble(p, rows, orig, res, models)
    return bt._score(fc, list(horizons), bt.FIRST_EVAL)[0]


def main(n_jobs: int = 2) -> None:
    p = bt.Panel.load()
    orig, base = forecasts_all(p, n_jobs)
    dev, conf = split(p.codes)
    models = ("snaive", "naive", "combo") + CANDIDATES + ("median", "wcombo", "frontex", "combofx", "oracle_eu")
    for name, codes in (("development half", dev), ("confirmation half", conf), ("all countries", p.codes)):
        res = {T: dict(v) for T, v in base.items()}
        add_wcombo(p, orig, res, [p.codes.index(c) for c in codes])
        m = score(p, orig, res, codes, models)
        print(f"{name}: MASE / seasonal naive, 80% and 95% coverage")
        print(m.pivot_table(index="h", columns="model", values="mase_ratio_snaive").round(3).to_string())
        print(m.pivot_table(index="h", columns="model", values=["coverage80", "coverage95"]).round(3).to_string())


def leading_main(n_jobs: int = 2, halves=("development half", "confirmation half", "all countries")) -> None:
    """The third round's leading-indicator table: D7 and D8 beside the combination, step h and path 1..h."""
    p = bt.Panel.load()
    orig, res = forecasts_all(p, n_jobs, task=_task_leading)
    dev, conf = split(p.codes)
    models = ("snaive", "naive", "combo", "pooled", "frontex", "combofx")
    for name, codes in (("development half", dev), ("confirmation half", conf), ("all countries", p.codes)):
        if name not in halves:
            continue
        m = score(p, orig, res, codes, models)
        print(f"{name}: MASE / seasonal naive at step h, and over the path 1..h")
        print(m.pivot_table(index="h", columns="model", values="mase_ratio_snaive").round(3).to_string())
        print(m.pivot_table(index="h", columns="model", values="mase_path_ratio_snaive").round(3).to_string())


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["leading"]:
        leading_main(halves=tuple(sys.argv[2:]) or ("development half", "confirmation half", "all countries"))
    else:
        main()
