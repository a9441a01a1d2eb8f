"""Calibrated h-month totals of the forecast sample paths, and their backtest (P3.8, P0.5).

A chain run sums a sample path over months. The paths' months carry calibrated intervals, but their
sums did not: the resampled error trajectories keep a path's months moving together, and the
adaptive calibration widens every step after the 2015 surge, so a year's sum inherited the widest
months (docs/forecast.md, "Sample paths as a year's inflow").

The mechanism (one, used by :func:`ketenplan.forecast.api.forecast`, so by
:func:`~ketenplan.forecast.api.inflow_sample_paths`, and by :func:`ketenplan.forecast.totals_backtest.totals_backtest`):

1. **Totals library.** For every (country, origin) of the shipped error library and every h = 1..24
   whose months 1..h are all observed, the log ratio of the actual h-month sum to the point
   forecast's h-month sum, ``log(1 + sum actual) - log(1 + sum point)`` (stored divided by the
   country scale sigma the monthly errors were standardised by; :data:`SCALE` says in which units
   the ratios are pooled, the log ratio itself by default). The point forecasts are
   recovered from the library itself: ``log(1 + point) = log(1 + actual) - sigma x u``.
2. **Calibration** of these ratios with the monthly intervals' machinery
   (:func:`ketenplan.forecast.backtest._interval_quantiles`, :data:`CALIBRATION` = ``"mixture"``:
   split-conformal quantiles per country of a mixture of the country's own and all countries'
   earlier ratios, C1 of the development log) and its no-look-ahead rule: at origin T only windows
   with origin + h <= T enter. The median is the median of the known ratios pooled over countries,
   kept inside the 80% interval. Why C1 on the log ratio: docs/forecast.md (T1-T6).
3. **Reconciliation** of the paths (:func:`reconcile_totals`): the paths are ranked by their own
   first-year total (months 1..12, or all months of a shorter forecast) and each total is mapped
   monotonically onto the calibrated distribution of that total (quantile mapping at 2.5/10/50/90/
   97.5%, linear between; beyond the outer quantiles the path keeps its own distance). The path's
   first-year months are multiplied by target / own total, so its monthly shape is kept. Months
   13..24 get a factor that starts at the first year's and moves linearly on the log scale to the
   value at which the cumulative 24-month total takes the calibrated 24-month quantile at the same
   rank (the second year follows the first year's rank; no jump at the year boundary); later months
   keep the factor of month 24, so the continuation starts from the level month 24 ends on.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from ketenplan.errors import DataError
from ketenplan.forecast import backtest as bt
from ketenplan.forecast import models as fm

log = logging.getLogger(__name__)

#: Levels of the calibrated total quantiles (the monthly intervals' 2.5/10/90/97.5% and the median).
LEVELS = (0.025, 0.10, 0.5, 0.90, 0.975)
#: Months of the first reconciled block (a year: what a chain run sums) and of the second.
FIRST_BLOCK = 12
SECOND_BLOCK = 24
#: Horizons [months] of the totals backtest written by ``ketenplan forecast-backtest``.
TOTAL_HORIZONS = (6, 12, 24)


class TotalsLibrary(NamedTuple):
    """The totals library (:func:`totals_library`)."""

    codes: tuple[str, ...]
    origins: tuple[str, ...]
    V: np.ndarray
    sigma: np.ndarray
    point: np.ndarray
    actual: np.ndarray


# --------------------------------------------------------------------------- totals library
@functools.lru_cache(maxsize=1)
def totals_library() -> "TotalsLibrary":
    """Standardised log ratios of the h-month totals: ``(codes, origins, V, sigma, point, actual)``.

    ``V`` [country, origin, 24]: ``(log(1 + sum of actual months 1..h) - log(1 + sum of point
    forecasts 1..h)) / sigma``; NaN where a month 1..h is not observed (after 2019-04) or the
    country had no forecast. ``sigma`` [country, origin] the country scale at the origin;
    ``point`` and ``actual`` [country, origin, 24] the monthly point forecasts and outcomes on the
    log scale (``log(1 + persons)``; NaN where unknown).
    """
    lib = bt.error_library()
    p = bt.Panel.load()  # the observed series to 2019-04, as the library was built on
    return _library_from_errors(lib, p)


def _library_from_errors(lib: pd.DataFrame, p: bt.Panel) -> "TotalsLibrary":
    codes = tuple(sorted(lib["geo"].unique()))
    origins = tuple(sorted(lib["origin"].unique()))
    C, J, H = len(codes), len(origins), bt.H_MAX
    U = np.full((C, J, H), np.nan)
    gi = lib["geo"].map({c: i for i, c in enumerate(codes)}).to_numpy()
    oi = lib["origin"].map({o: i for i, o in enumerate(origins)}).to_numpy()
    U[gi, oi, lib["h"].to_numpy() - 1] = lib["u"].to_numpy(float)
    A = np.full((C, J, H), np.nan)  # actual, log scale
    sig = np.full((C, J), np.nan)
    col = {m: t for t, m in enumerate(p.months)}
    for i, c in enumerate(codes):
        if c not in p.codes:
            raise DataError(f"{c}: in the error library but not in the shipped monthly series")
        r = p.codes.index(c)
        for j, o in enumerate(origins):
            T = col[pd.Period(o, freq="M")]
            x = p.X[r, :T + 1]
            ok = ~np.isnan(x)
            if ok.sum() < 36:
                continue
            sig[i, j] = bt.sigma_scale(x[ok])
            n = min(H, len(p.months) - 1 - T)
            A[i, j, :n] = p.X[r, T + 1:T + 1 + n]
    P = A - sig[:, :, None] * U  # point forecast, log scale
    point = fm.from_log(P)
    act = fm.from_log(A)
    known = np.isfinite(U) & np.isfinite(A)
    all_known = np.cumprod(known, axis=2).astype(bool)
    with np.errstate(invalid="ignore"):
        sa = np.cumsum(np.where(known, act, 0.0), axis=2)
        sp = np.cumsum(np.where(known, point, 0.0), axis=2)
        V = (np.log1p(sa) - np.log1p(sp)) / sig[:, :, None]
    V[~all_known] = np.nan
    return TotalsLibrary(codes, origins, V, sig, P, A)


#: Calibration of the totals' ratios (one of ``backtest.CALIBRATIONS``): ``"mixture"`` (C1 of the
#: development log): split-conformal quantiles per country of a mixture of its own earlier ratios
#: (weight n / (n + ``calibration_prior_errors``)) and all countries' (docs/forecast.md, T1-T6).
CALIBRATION = "mixture"
#: Units the ratios are pooled in: ``"log"`` (the log ratio itself, chosen) or ``"sigma"`` (divided
#: by the country scale at the origin, as the monthly errors are; after the 2015 surge that scale
#: multiplied already widened quantiles, T1 in docs/forecast.md).
SCALE = "log"
SCALES = ("sigma", "log")


@functools.lru_cache(maxsize=256)
def _total_quantiles_at(origin_ordinal: int, calibration: str, scale: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, bool]:
    """Calibrated quantiles of the h-month totals' ratios at one origin, in ``scale`` units.

    Returns ``(codes, Qc [country, 24, 4], Qp [24, 5], only_known)``: per country the
    ``calibration`` quantiles (2.5/10/90/97.5%) of the monthly intervals' calibration applied to the
    totals library, evaluated at this origin; pooled, the quantiles at :data:`LEVELS` of all ratios
    known at the origin (the whole library when fewer than ``interval_min_pool`` are known, then
    ``only_known`` is False).
    """
    return quantiles_from_library(totals_library(), origin_ordinal, calibration, scale)


def quantiles_from_library(lib: TotalsLibrary, origin_ordinal: int, calibration: str,
                           scale: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, bool]:
    """:func:`_total_quantiles_at` for any totals library (uncached; the calibration step itself)."""
    if scale not in SCALES:
        raise DataError(f"totals scale {scale!r}: expected one of {', '.join(SCALES)}")
    V = lib.V if scale == "sigma" else lib.V * lib.sigma[:, :, None]
    orig_t = np.asarray([pd.Period(o, freq="M").ordinal for o in lib.origins] + [origin_ordinal])
    Vx = np.concatenate([V, np.full((V.shape[0], 1, V.shape[2]), np.nan)], axis=1)
    from ketenplan.forecast.fitcache import cached_fit, fit_key

    key = fit_key(Vx, orig_t, what="total_quantiles", calibration=calibration)
    Qc = cached_fit(key, (Vx.shape[0], Vx.shape[2], 4), lambda: bt._interval_quantiles(Vx, orig_t, calibration)[:, -1],
                    allow_nan=True)
    Qp = np.full((V.shape[2], len(LEVELS)), np.nan)
    only_known = True
    for k in range(1, V.shape[2] + 1):
        prev = orig_t[:-1] + k <= origin_ordinal
        block = V[:, prev, k - 1]
        block = block[np.isfinite(block)]
        if block.size < bt.MIN_POOL:
            only_known = False
            block = V[:, :, k - 1][np.isfinite(V[:, :, k - 1])]
        Qp[k - 1] = np.quantile(block, LEVELS)
    lohi = bt.widen_long_horizons(Qp[:, [0, 1, 3, 4]])
    Qp[:, [0, 1, 3, 4]] = lohi
    Qp[:, 2] = np.clip(Qp[:, 2], lohi[:, 1], lohi[:, 2])
    return lib.codes, Qc, Qp, only_known


def total_quantiles(country: str | None, origin, sigma: float, *, calibration: str | None = None,
                    scale: str | None = None) -> tuple[np.ndarray, str]:
    """Calibrated quantiles [24, 5] (:data:`LEVELS`) of log(1 + actual h-month total) - log(1 + point total).

    In log units for a forecast whose country scale is ``sigma``. ``country``: its calibrated
    quantiles (:data:`CALIBRATION`, the monthly intervals' calibration applied to the totals),
    median pooled; None (or no calibration possible yet at that origin): pooled quantiles. The
    second value says which (``"country"``, ``"pooled"`` or ``"whole library"``).
    """
    calibration = CALIBRATION if calibration is None else calibration
    scale = SCALE if scale is None else scale
    f = float(sigma) if scale == "sigma" else 1.0
    origins = totals_library().origins
    last = pd.Period(origins[-1], freq="M")
    o = min(pd.Period(str(origin), freq="M"), last + bt.H_MAX)  # later origins know every window
    codes, Qc, Qp, only_known = _total_quantiles_at(int(o.ordinal), calibration, scale)
    if not only_known:
        return f * Qp, "whole library"
    if country is not None and country in codes:
        W = Qc[codes.index(country)]
        if np.all(np.isfinite(W)):
            med = np.clip(Qp[:, 2], W[:, 1], W[:, 2])
            return f * np.column_stack([W[:, 0], W[:, 1], med, W[:, 2], W[:, 3]]), "country"
    return f * Qp, "pooled"


# --------------------------------------------------------------------------- reconciliation
def map_to_quantiles(z: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Monotone map of values ``z`` [n] whose empirical quantiles at :data:`LEVELS` go to ``target`` [5].

    Linear between the quantiles; beyond the outer ones each value keeps its own distance from
    them (the calibration sets the intervals up to 95%, not the far tail). Ranks are kept.
    Degenerate input (ties at the quantiles, non-finite or decreasing targets) is returned unchanged.
    """
    z = np.asarray(z, float)
    x = np.quantile(z, LEVELS)
    y = np.asarray(target, float)
    if z.size < 2 or not (np.all(np.isfinite(y)) and np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)):
        return z.copy()
    return np.where(z < x[0], y[0] + (z - x[0]), np.where(z > x[-1], y[-1] + (z - x[-1]), np.interp(z, x, y)))


def reconcile_totals(Y: np.ndarray, point_log: np.ndarray, q: np.ndarray, cap: float = math.inf) -> np.ndarray:
    """Sample paths [path, month] whose first-year and 24-month totals follow the calibrated quantiles ``q``.

    ``Y`` [n, H] monthly applicants [persons/month]; ``point_log`` [H] the point forecast on the
    log scale (``log(1 + persons)``); ``q`` [24, 5] quantiles of log(1 + actual h-month total) -
    log(1 + point total) (:func:`total_quantiles`); ``cap`` the highest month a path may reach
    [persons/month]. Months 1..a (a = min(H, 12)) of a path are multiplied by one factor, months
    13..24 by a factor moving log-linearly from it to the one that meets the 24-month target, later
    months by the factor of month 24 (see the module docstring). With one path, or a degenerate distribution,
    the paths are returned unchanged.
    """
    Y = np.asarray(Y, float)
    n, H = Y.shape
    if n < 2 or H == 0:
        return Y.copy()
    out = Y.copy()
    a1 = min(H, FIRST_BLOCK)
    s1 = Y[:, :a1].sum(axis=1)
    P1 = float(np.log1p(fm.from_log(point_log[:a1]).sum()))
    z1 = np.log1p(s1) - P1
    T1 = fm.from_log(P1 + map_to_quantiles(z1, q[a1 - 1]))
    f1 = np.where(s1 > 0, T1 / np.where(s1 > 0, s1, 1.0), 1.0)
    out[:, :a1] *= f1[:, None]
    if H > a1:
        a2 = min(H, SECOND_BLOCK)
        P2 = float(np.log1p(fm.from_log(point_log[:a2]).sum()))
        T2 = fm.from_log(P2 + map_to_quantiles(z1, q[a2 - 1]))  # the same rank as the first year
        need = T2 - out[:, :a1].sum(axis=1)  # the second block's total [persons]
        ramp = np.arange(1, a2 - a1 + 1) / (a2 - a1)  # 1/12 .. 1 over months 13..24
        d = _ramp_slopes(Y[:, a1:a2], ramp, np.log(np.where(f1 > 0, f1, 1.0)), need)
        g = np.log(np.where(f1 > 0, f1, 1.0))[:, None] + d[:, None] * ramp[None, :]
        out[:, a1:a2] = Y[:, a1:a2] * np.exp(g)
        out[:, a2:] = Y[:, a2:] * np.exp(g[:, -1:])
    return np.minimum(out, cap)


def _ramp_slopes(Y2: np.ndarray, ramp: np.ndarray, g1: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Slopes d [path] with sum_k Y2[:, k] exp(g1 + d ramp[k]) = need (bisection on the log scale).

    The second block's factor starts where the first block's ends (g1, log) and moves linearly on the
    log scale to g1 + d at its last month, so a path does not jump at the block boundary. Paths with
    no second-block applicants keep d = 0; a target of zero or less gives the lower bound (-30).
    """
    lo = np.full(len(g1), -30.0)
    hi = np.full(len(g1), 30.0)
    has = Y2.sum(axis=1) > 0
    target = np.maximum(need, 0.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        with np.errstate(over="ignore"):
            tot = (Y2 * np.exp(g1[:, None] + mid[:, None] * ramp[None, :])).sum(axis=1)
        up = tot < target
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return np.where(has, (lo + hi) / 2, 0.0)


def path_months(horizon: int) -> int:
    """Months over which the paths of a ``horizon``-month forecast are drawn and reconciled before
    they are cut to ``horizon``: whole blocks (12, or at least 24 beyond a year), so that the first
    year of every forecast is reconciled on its 12-month total and the second on its 24-month total."""
    return FIRST_BLOCK if horizon <= FIRST_BLOCK else max(int(horizon), SECOND_BLOCK)


# --------------------------------------------------------------------------- backtest
