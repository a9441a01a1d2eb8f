"""Forecasts with sample paths, the inflow function the chain simulation calls, and the
Dutch yearly table against the official forecasts.

What the series measures: monthly **asylum applicants** as Eurostat counts them
(``migr_asyappctzm``, ASY_APP = first-time plus subsequent applicants, persons/month). For
the Netherlands this leaves out most *nareizigers* (family members joining a permit holder);
:mod:`ketenplan.forecast.nareis` adds them through their link to positive decisions.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ketenplan.errors import DataError, ScenarioError
from ketenplan.forecast import backtest as bt
from ketenplan.forecast import data as fdata
from ketenplan.forecast import models as fm
from ketenplan.forecast import nareis as fn
from ketenplan.forecast import totals as ft
from ketenplan.forecast.backtest import LIBRARY_FILE, error_library  # noqa: F401 (part of this module's API)

log = logging.getLogger(__name__)

MODEL = "combo"
#: Longest horizon [months] of ``ketenplan forecast``: 24 months backtested, 25-60 extrapolated.
MAX_CLI_HORIZON = 60


# --------------------------------------------------------------------------- panel with bridge
@functools.lru_cache(maxsize=2)
def bridged_panel() -> bt.Panel:
    """All countries, observed to 2019-04 and bridged by yearly totals to December 2024."""
    codes = fdata.countries()
    series = {}
    for c in codes:
        b = fdata.bridged_series(c)
        series[c] = pd.Series(b["applicants"].to_numpy(float), index=pd.PeriodIndex(b["month"], freq="M"))
    start = min(s.index[0] for s in series.values())
    end = max(s.index[-1] for s in series.values())
    grid = pd.period_range(start, end, freq="M")
    Y = np.vstack([series[c].reindex(grid).to_numpy(float) for c in codes])
    return bt.Panel.load(Y=Y, months=grid, codes=codes)


def last_month(country: str = "NL") -> str:
    """Last month (YYYY-MM) of the bridged series of ``country``."""
    p = bridged_panel()
    r = p.codes.index(fdata.normalise_country(country))
    ok = np.flatnonzero(~np.isnan(p.Y[r]))
    return str(p.months[ok[-1]])


def latest_data_month() -> str:
    """Last month (YYYY-MM) with data in any country's bridged series."""
    p = bridged_panel()
    return str(p.months[int(np.flatnonzero(np.any(~np.isnan(p.Y), axis=0))[-1])])


def first_month(country: str = "NL") -> str:
    """First month (YYYY-MM) of the series of ``country``."""
    p = bridged_panel()
    r = p.codes.index(fdata.normalise_country(country))
    return str(p.months[int(np.flatnonzero(~np.isnan(p.Y[r]))[0])])


# --------------------------------------------------------------------------- error library
def build_error_library(n_jobs: int = 2) -> pd.DataFrame:
    """Standardised log errors of the combination model from the rolling-origin backtest on
    the observed series (to 2019-04): ``geo, origin, h, u``. Shipped as ``combo_error_library.csv``."""
    res = bt.run_backtest("all", horizons=(1,), models=(MODEL,), n_jobs=n_jobs)
    fc = res.forecasts[(res.forecasts["model"] == MODEL) & np.isfinite(res.forecasts["u"])]
    return fc[["geo", "origin", "h", "u"]].reset_index(drop=True)


#: Interval calibrations of :func:`forecast`: per country (the backtest's, development log C4) or pooled.
CALIBRATIONS = ("country", "pooled")


@functools.lru_cache(maxsize=64)
def _country_quantiles(origin_ordinal: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Calibrated standardised quantiles [country, 24, 4] (2.5/10/90/97.5%) at an origin.

    Exactly the backtest's calibration (``backtest.CALIBRATION``) of the combination's errors in the
    error library, evaluated at one more origin: only errors and misses known at ``origin`` enter.
    """
    lib = error_library()
    codes = tuple(sorted(lib["geo"].unique()))
    origins = sorted(lib["origin"].unique())
    U = np.full((len(codes), len(origins) + 1, bt.H_MAX), np.nan)
    gi = lib["geo"].map({c: i for i, c in enumerate(codes)}).to_numpy()
    oi = lib["origin"].map({o: i for i, o in enumerate(origins)}).to_numpy()
    U[gi, oi, lib["h"].to_numpy() - 1] = lib["u"].to_numpy(float)
    orig_t = np.asarray([pd.Period(o, freq="M").ordinal for o in origins] + [origin_ordinal])
    from ketenplan.forecast.fitcache import cached_fit, fit_key

    key = fit_key(U, orig_t, what="country_quantiles", calibration=bt.CALIBRATION)
    return codes, cached_fit(key, (len(codes), bt.H_MAX, 4), lambda: bt._interval_quantiles(U, orig_t)[:, -1],
                             allow_nan=True)


def country_quantiles(country: str, origin) -> np.ndarray:
    """Calibrated standardised quantiles [24, 4] of ``country`` at ``origin`` (NaN where no pool existed)."""
    lib_last = pd.Period(error_library()["origin"].max(), freq="M")
    o = min(pd.Period(str(origin), freq="M"), lib_last + bt.H_MAX)  # later origins know every error
    codes, Q = _country_quantiles(int(o.ordinal))
    return Q[codes.index(fdata.normalise_country(country))]


def _trajectories(origin: pd.Period, country: str | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Complete 24-step standardised error trajectories [n, 24] known at ``origin``, their
    2.5/10/50/90/97.5% quantiles [5, 24], and whether they are all known at the origin.

    With ``country`` the trajectories are mapped step by step so that their quantiles are the
    country's calibrated ones at the origin (:func:`country_quantiles`, the backtest's calibration);
    without it, or when the origin is too early for a calibration, the pooled quantiles as the
    backtest widens them (:func:`backtest.widen_long_horizons`).

    Always the full 24 steps, so the distribution of a month never depends on how far a
    forecast reaches. Only trajectories whose last step was observed by ``origin`` are used; if
    fewer than 25 exist (an origin before 2012-12) all trajectories are used, including errors of
    origins after ``origin`` (the third value is then False and the forecast's metadata says so).
    """
    wide, org = _library_wide()
    known = (org + bt.H_MAX) <= origin.ordinal
    only_known = bool(known.sum() >= bt.MIN_POOL)
    if only_known:
        wide = wide[known]
    else:
        log.debug("fewer than %d error trajectories known at %s; using the whole error library", bt.MIN_POOL, origin)
    raw = wide.to_numpy(float)
    med = np.median(raw, axis=0)
    W = None
    if country is not None and only_known:
        W = country_quantiles(country, origin)
        if not np.all(np.isfinite(W)):
            W = None
    if W is None:
        W = bt.widen_long_horizons(np.quantile(raw, bt.QUANTILES, axis=0).T)  # step, 4
    med = np.clip(med, W[:, 1], W[:, 2])
    q = np.vstack([W[:, 0], W[:, 1], med, W[:, 2], W[:, 3]])
    return _winsorise(_map_trajectories(raw, q)), q, only_known


@functools.lru_cache(maxsize=1)
def _library_wide() -> tuple[pd.DataFrame, np.ndarray]:
    """The error library as complete 24-step trajectories [(geo, origin), step] and their origins' ordinals."""
    wide = error_library().pivot_table(index=["geo", "origin"], columns="h", values="u").dropna()
    org = np.asarray([pd.Period(o, freq="M").ordinal for o in wide.index.get_level_values("origin")])
    return wide, org


def _winsorise(traj: np.ndarray) -> np.ndarray:
    """Clip each step's standardised errors at its ``paths_winsor_quantile`` quantiles.

    The most extreme errors of the library come from small, calm series hit by the 2015 surge
    (Finland 2015: u = 16.6, a 26-fold rise); rescaled to a larger country's scale they would
    make a month hundreds of times its level. Clipping at the 0.5% and 99.5% quantiles leaves
    every interval up to 99% unchanged.
    """
    from ketenplan.forecast.scenarios import param

    q = param("paths_winsor_quantile")
    lo, hi = np.quantile(traj, [q, 1.0 - q], axis=0)
    return np.clip(traj, lo[None, :], hi[None, :])


def _cap(y: np.ndarray) -> float:
    """Highest monthly figure a path may reach [persons/month]: ``paths_cap_ratio`` times the
    country's highest month up to the origin (the largest rise any country made within two years
    over its earlier record, Hungary 2013-2015, in the data to 2019)."""
    from ketenplan.forecast.scenarios import param

    return float(param("paths_cap_ratio") * max(np.nanmax(y), 1.0))


def _continue(traj: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """Continue error trajectories beyond their last step as a stationary AR(1) that keeps the last step's distribution.

    Month-to-month persistence is the library's lag-1 correlation at its last step
    (``paths_long_horizon_pattern`` in parameters.csv): nothing in the 2008-2019 data supports
    uncertainty that keeps growing beyond two years. The AR(1) runs on normal scores of the last
    step's values (ranks mapped to a standard normal) and each month is mapped back through the last
    step's empirical quantiles, so every later month has exactly the last step's spread and skew (a
    Gaussian AR(1) on the values themselves stretched the short lower tail of a skewed, calibrated
    distribution).
    """
    from scipy.special import ndtr, ndtri

    if extra <= 0:
        return traj
    last = traj[:, -1]
    n = traj.shape[0]
    sd = float(np.std(last))
    rho = float(np.clip(np.corrcoef(traj[:, -2], last)[0, 1], 0.0, 0.999)) if traj.shape[1] >= 2 and sd > 0 else 0.0
    prev = ndtri((np.argsort(np.argsort(last, kind="stable"), kind="stable") + 0.5) / n)
    eps = rng.standard_normal((n, extra)) * np.sqrt(1.0 - rho ** 2)
    srt = np.sort(last)
    out = np.empty((n, extra))
    for j in range(extra):
        prev = rho * prev + eps[:, j]
        out[:, j] = np.quantile(srt, ndtr(prev)) if n > 1 else srt[0]
    return np.hstack([traj, out])


def _map_trajectories(traj: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Map step k of the error trajectories so their 2.5/10/50/90/97.5% quantiles are ``target`` [5, step].

    A monotone, piecewise-linear map per step sends the empirical quantiles to the targets (the
    backtest's calibrated or widened quantiles); beyond the outer (2.5% and 97.5%) quantiles the
    library's own distances are kept, not stretched: the calibration sets the intervals up to 95%,
    and stretching the far tail by the calibration's factor made single Dutch paths reach 27 times
    the record month within a year. So the paths carry the backtest's intervals at every step, and
    each trajectory keeps its rank, and so its shape across months.
    """
    if traj.shape[0] == 0:
        return traj
    Q = np.quantile(traj, bt.QUANTILES, axis=0).T  # step, 4
    med = np.median(traj, axis=0)
    out = traj.copy()
    for k in range(traj.shape[1]):
        x = np.array([Q[k, 0], Q[k, 1], med[k], Q[k, 2], Q[k, 3]])
        y = target[:, k]
        if not (np.all(np.isfinite(y)) and np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)):
            continue  # degenerate step: leave it as it is
        v = traj[:, k]
        out[:, k] = np.where(v < x[0], y[0] + (v - x[0]), np.where(v > x[4], y[4] + (v - x[4]), np.interp(v, x, y)))
    return out


# --------------------------------------------------------------------------- forecast
@dataclass
class Forecast:
    """A forecast of monthly applicants for one country from one origin."""

    country: str
    origin: str
    table: pd.DataFrame  # month, point, lo80, hi80, lo95, hi95, kind
    paths: pd.DataFrame  # path, month, applicants
    history: pd.DataFrame  # month, applicants, kind (observed | bridged)
    meta: dict = field(default_factory=dict)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ScenarioError(f"forecast seed: expected an integer >= 0, a SeedSequence or a Generator, found {seed!r}")
    return np.random.default_rng(np.random.SeedSequence(int(seed)))


def _check_count(value, what: str) -> int:
    """An integer >= 1 (bools and non-integers rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ScenarioError(f"{what}: expected an integer >= 1, found {value!r}")
    return int(value)


#: Memory one sample path-month takes while a forecast is built and written [bytes], an upper
#: estimate: measured, 100,000 paths x 24 months make a paths table of 192 MB (80 bytes a
#: path-month: an integer, a month string object, a float); the rest covers the float trajectories
#: the table is built from, pandas' working copies and the CSV writer.
BYTES_PER_PATH_MONTH = 200


def available_memory() -> int | None:
    """Memory the operating system can give this process now [bytes] (None where it cannot be read)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_paths_memory(n_paths: int, months: int, option: str = "n_paths") -> None:
    """Refuse sample paths that cannot fit in memory, before anything is allocated.

    Estimate: ``n_paths x months x`` :data:`BYTES_PER_PATH_MONTH`; refused when it exceeds half the
    memory available now, with a message naming ``option``, the estimate and the largest count that fits.
    """
    need = int(n_paths) * int(months) * BYTES_PER_PATH_MONTH
    avail = available_memory()
    if avail is None or need <= avail // 2:
        return
    fit = max(int((avail // 2) // (max(int(months), 1) * BYTES_PER_PATH_MONTH)), 0)
    raise ScenarioError(f"{option} {n_paths}: {n_paths:,} sample paths x {months} months would need about "
                        f"{_gb(need)} of memory (~{BYTES_PER_PATH_MONTH} bytes per path-month) and {_gb(avail)} is "
                        f"available; at most {fit:,} paths fit at this horizon. Fix: choose {option} <= {fit:,}")


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


#: Seed of the extra trajectories that give the table's quantiles beyond 24 months, so the table
#: does not depend on the number of sample paths or their seed.
_QUANTILE_SEED = 20190430
_QUANTILE_COPIES = 5


def forecast(country: str = "NL", horizon: int = 24, *, n_paths: int = 1000, seed=0,
             origin: str | None = None, calibration: str = "country", reconcile: bool = True) -> Forecast:
    """Forecast monthly applicants [persons/month] with the combination model.

    ``origin`` (YYYY-MM; default or "latest": the last month of the bridged series, 2024-12) is the last
    month the model sees. Intervals and paths add standardised errors of earlier backtest
    origins (rescaled to the country, clipped at their 0.5% and 99.5% quantiles per step) to the
    point forecast on the log scale, so they carry the empirically measured uncertainty,
    including its correlation across months. The table's ``point`` is the model's forecast (the
    one scored in the backtest); ``median`` is the median of the forecast distribution, which
    differs where the backtest errors were not centred on zero. Beyond 24 months the point
    forecast repeats its second year and the errors continue with the persistence and spread of
    month 24 (``paths_long_horizon_pattern`` in parameters.csv); the table's ``interval_basis``
    column says ``backtest`` for months 1-24 and ``extrapolated`` beyond. ``calibration``:
    ``"country"`` (default) gives each step the country's calibrated quantiles, exactly as the
    backtest calibrates them at that origin (adaptive conformal on a country/pool mixture of earlier
    errors, development log C4); ``"pooled"`` the quantiles pooled over all countries (before C4).
    ``reconcile`` (default True): the paths' first-year and 24-month totals are mapped onto their
    calibrated distribution (:mod:`ketenplan.forecast.totals`); False gives the earlier paths, whose
    sums were not calibrated. The table's monthly intervals do not depend on it. The command line accepts
    at most :data:`MAX_CLI_HORIZON` months; the function itself has no upper limit because the
    chain simulation asks for as many months as a scenario spans.
    """
    code = fdata.normalise_country(country)
    horizon = _check_count(horizon, "forecast horizon [months]")
    n_paths = _check_count(n_paths, "forecast n_paths")
    if calibration not in CALIBRATIONS:
        raise ScenarioError(f"forecast calibration {calibration!r}: expected one of {', '.join(CALIBRATIONS)}")
    check_paths_memory(n_paths, horizon, "forecast n_paths")
    rng = _rng(seed)
    p = bridged_panel()
    r = p.codes.index(code)
    T = _origin_index(p, r, origin)
    x = p.X[r, :T + 1]
    ok = ~np.isnan(x)
    fdata.check_series(p.Y[r, :T + 1], f"{code} up to {p.months[T]}", index=[str(m) for m in p.months[:T + 1]])
    Hc = min(horizon, bt.H_MAX)
    # the paths are drawn over whole reconciliation blocks (12 months, or at least 24 beyond a year)
    # and cut to the horizon, so a month's path never depends on how far the forecast reaches
    Hp = ft.path_months(horizon) if reconcile else horizon
    Hf = min(Hp, bt.H_MAX)
    pt_paths = _point_forecast(p, r, T, Hf)
    if Hp > Hf:
        reps = [pt_paths[Hf - 12 + (k % 12)] if Hf >= 12 else pt_paths[-1] for k in range(Hp - Hf)]
        pt_paths = np.r_[pt_paths, reps]
    pt = pt_paths[:horizon]
    sig = bt.sigma_scale(x[ok])
    full, qfull, only_known = _trajectories(p.months[T], code if calibration == "country" else None)
    calibrated = calibration == "country" and only_known
    traj = full[:, :Hc]
    cap = _cap(p.Y[r, :T + 1])
    qtot, tot_basis = (ft.total_quantiles(code if calibration == "country" else None, p.months[T], sig)
                       if reconcile else (None, "none"))
    Yp = sample_paths(pt_paths, sig, full, n_paths, rng, cap, qtot)[:, :horizon]
    months = pd.period_range(p.months[T] + 1, periods=horizon, freq="M").strftime("%Y-%m")
    paths = pd.DataFrame({"path": np.repeat(np.arange(n_paths), horizon),
                          "month": np.tile(np.asarray(months), n_paths),
                          "applicants": Yp.ravel()})
    levels = [0.025, 0.10, 0.5, 0.90, 0.975]
    q = qfull[:, :Hc]  # months 1..24: the backtest's (widened) quantiles of the library itself
    if horizon > traj.shape[1]:  # later months: many continued copies, independent of n_paths and seed
        more = _continue(np.repeat(traj, _QUANTILE_COPIES, axis=0), horizon - traj.shape[1],
                         np.random.default_rng(_QUANTILE_SEED))[:, traj.shape[1]:]
        q = np.hstack([q, np.quantile(more, levels, axis=0)])
    q = np.minimum(fm.from_log(pt[None, :] + sig * q), cap)
    table = pd.DataFrame({"month": months, "point": fm.from_log(pt), "median": q[2], "lo95": q[0], "lo80": q[1],
                          "hi80": q[3], "hi95": q[4],
                          "interval_basis": np.where(np.arange(1, horizon + 1) <= bt.H_MAX, "backtest",
                                                     "extrapolated")})
    hist = fdata.bridged_series(code)
    hist = hist[hist["month"] <= p.months[T]].assign(month=lambda d: d["month"].astype(str))
    meta = {"country": code, "origin": str(p.months[T]), "model": MODEL, "sigma": sig,
            "n_trajectories": int(len(traj)), "n_paths": int(n_paths), "horizon": int(horizon),
            "cap_persons_per_month": cap,
            "interval_backtested_months": int(bt.H_MAX),
            "interval_calibration": (f"per country: adaptive conformal on a country/pool mixture of the errors known "
                                     f"at the origin ({bt.CALIBRATION}, docs/forecast.md)") if calibrated else
            "pooled over all countries",
            "error_library": "errors of origins whose outcome was known at the forecast origin" if only_known else
            "whole library: too few errors were known at this origin, so the intervals include errors of "
            "later origins (not an honest 'as forecast then' interval)",
            "total_calibration": (f"h-month totals reconciled to calibrated quantiles ({tot_basis}; "
                                  f"ketenplan.forecast.totals, docs/forecast.md)") if reconcile else
            "none: the paths' sums are not calibrated",
            "data_last_month": last_month(code), "latest_data_month": latest_data_month(),
            "series": "Eurostat migr_asyappctzm asylum applicants (first-time + subsequent) [persons/month]"}
    return Forecast(country=code, origin=str(p.months[T]), table=table, paths=paths, history=hist, meta=meta)


def _point_forecast(p: bt.Panel, r: int, T: int, h: int) -> np.ndarray:
    """The combination model's point forecast [h] on the log scale of country row ``r`` at origin
    index ``T``: fitted once per input and kept on disk (:mod:`ketenplan.forecast.fitcache`)."""
    from ketenplan.forecast.fitcache import cached_fit, fit_key

    key = fit_key(p.X[:, :T + 1], p.moy[:T + 1], p.agg[:T + 1], T=int(T), h=int(h), row=int(r), model=MODEL,
                  code=p.codes[r])
    return cached_fit(key, int(h), lambda: fm.forecast_origin(p.X, p.moy, T, h, p.agg, models=(MODEL,),
                                                              rows=[r])[MODEL][r])


def sample_paths(point_log: np.ndarray, sigma: float, traj: np.ndarray, n_paths: int, rng: np.random.Generator,
                 cap: float, q_totals: np.ndarray | None = None) -> np.ndarray:
    """Sample paths [n_paths, months] of applicants [persons/month] around a point forecast.

    ``point_log`` [months] the point forecast on the log scale; ``sigma`` the country scale;
    ``traj`` [n, 24] the calibrated standardised error trajectories (:func:`_trajectories`), drawn
    with replacement and continued beyond 24 months (:func:`_continue`); ``cap`` the highest
    month [persons/month]; ``q_totals`` [24, 5] the calibrated quantiles of the h-month totals' log ratios
    (:func:`ketenplan.forecast.totals.total_quantiles`): when given, the paths' totals are reconciled
    to them (:func:`ketenplan.forecast.totals.reconcile_totals`).
    """
    horizon = len(point_log)
    pick = _continue(traj[rng.integers(0, len(traj), size=n_paths)], horizon - traj.shape[1], rng)[:, :horizon]
    Yp = np.minimum(fm.from_log(point_log[None, :] + sigma * pick), cap)
    if q_totals is not None:
        Yp = ft.reconcile_totals(Yp, point_log, q_totals, cap)
    return Yp


def _month(value, what: str) -> pd.Period:
    """A month written 'YYYY-MM' (a pandas Period is accepted too); anything else is an error."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if isinstance(value, (pd.Timestamp, dt.date)):
        return pd.Period(pd.Timestamp(value), freq="M")
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}", text) or not 1 <= int(text[5:]) <= 12:
        raise ScenarioError(f"{what} {value!r}: expected a month 'YYYY-MM', e.g. 2024-12"
                            + (", or 'latest'" if "origin" in what else ""))
    return pd.Period(text, freq="M")


def _origin_index(p: bt.Panel, r: int, origin: str | None) -> int:
    ok = np.flatnonzero(~np.isnan(p.Y[r]))
    last = int(ok[-1])
    if origin is None or str(origin).strip().lower() == "latest":
        return last
    o = _month(origin, "forecast origin")
    if o > p.months[last]:
        raise ScenarioError(f"forecast origin {o}: after the last month of the {p.codes[r]} series "
                            f"({p.months[last]})")
    T = int(np.flatnonzero(p.months == o)[0]) if o >= p.months[0] else -1
    if T < 0 or (T - int(ok[0]) + 1) < fdata.MIN_POINTS:
        raise DataError(f"forecast origin {o}: {p.codes[r]} has fewer than {fdata.MIN_POINTS} months of data "
                        f"up to it (series starts {p.months[ok[0]]})")
    return T


def inflow_sample_paths(country: str = "NL", start: str = "2025-01", months: int = 24, n_paths: int = 100,
                        seed=0, origin: str | None = None, *, calibration: str = "country",
                        reconcile: bool = True) -> pd.DataFrame:
    """Monthly sample paths of asylum applicants for a chain simulation.

    Returns a DataFrame with columns ``path`` (int 0..n_paths-1), ``month`` ("YYYY-MM", from
    ``start`` on, ``months`` months) and ``applicants`` (float >= 0).

    **What it measures:** asylum applicants per month as Eurostat counts them
    (``migr_asyappctzm``, ASY_APP: first-time plus subsequent applicants). For the
    Netherlands most *nareizigers* are not included; add them with
    :func:`ketenplan.forecast.nareis.nareis_from_positive_decisions` if the chain needs the
    Dutch "asielinstroom".

    **Origin** (the last month the forecast sees):

    * ``origin=None`` (default): the month before ``start``, using only data up to then, so a
      start in the past gives an honest "as forecast then" inflow; a start after the data
      (after 2025-01) is forecast from the last data month (2024-12) and the months before
      ``start`` are dropped.
    * ``origin="latest"``: the last data month. Months up to it carry the data themselves (the
      same in every path); later months are forecast. This is what a chain run wants: its
      warm-up years replay the known inflow and the forecast starts where the data end.
    * ``origin="YYYY-MM"``: that month, with the same rule (data up to it, forecast after it).

    Monthly figures are observed to 2019-04; later months are the **bridge**: Eurostat yearly
    totals 2019-2024 spread over months by the country's mean seasonal profile of 2008-2018
    (named assumption ``bridge_seasonal_profile_last_year``).

    **Randomness:** ``seed`` (int, SeedSequence or Generator); the same seed gives the same
    paths. Paths are the combination model's forecast plus resampled, standardised backtest
    error trajectories rescaled to the country and mapped to its calibrated quantiles
    (``calibration="country"``, the default: for the Netherlands the intervals that covered 79% and
    86% of outcomes at 6 and 12 months in the backtest; ``"pooled"`` gives the earlier pooled
    intervals; see :func:`forecast`). ``reconcile`` (default True) maps each path's first-year and
    24-month totals onto their calibrated distribution (:mod:`ketenplan.forecast.totals`: the 80%
    range of the Dutch 12-month total covered 17 of 22 outcomes in the backtest 2012-2018), so a
    chain run that sums a path over months gets calibrated yearly totals.
    """
    st = _month(start, "inflow_sample_paths start")
    months = _check_count(months, "inflow_sample_paths months")
    n_paths = _check_count(n_paths, "inflow_sample_paths n_paths")
    code = fdata.normalise_country(country)
    last = pd.Period(last_month(code), freq="M")
    if origin is None:
        o = min(st - 1, last)
    elif str(origin).strip().lower() == "latest":
        o = last
    else:
        o = _month(origin, "inflow_sample_paths origin")
        if o > last:
            raise ScenarioError(f"inflow_sample_paths origin {o}: after the last data month of {code} ({last})")
    end = st + (months - 1)
    grid = pd.period_range(st, end, freq="M").strftime("%Y-%m")
    parts = []
    if st <= o:  # months up to the origin: the (bridged) data, identical in every path
        hist = fdata.bridged_series(code)
        hist = hist[(hist["month"] >= st) & (hist["month"] <= min(o, end))]
        if len(hist) and hist["month"].iloc[0] > st:
            raise DataError(f"inflow_sample_paths: {code} data start {hist['month'].iloc[0]}, after start {st}")
        known = hist["applicants"].to_numpy(float)
        parts.append(pd.DataFrame({"path": np.repeat(np.arange(n_paths), len(known)),
                                   "month": np.tile(hist["month"].astype(str).to_numpy(), n_paths),
                                   "applicants": np.tile(known, n_paths)}))
    if end > o:
        horizon = (end.year - o.year) * 12 + (end.month - o.month)
        fc = forecast(code, horizon=horizon, n_paths=n_paths, seed=seed, origin=str(o), calibration=calibration,
                      reconcile=reconcile)
        parts.append(fc.paths[fc.paths["month"] >= str(st)])
    out = pd.concat(parts).sort_values(["path", "month"], kind="stable").reset_index(drop=True)
    if len(out) != n_paths * len(grid):  # every path covers every month exactly once
        raise DataError(f"inflow_sample_paths: {code} has no data for part of {st}..{end}")
    out["path"] = out["path"].astype(int)
    out["applicants"] = out["applicants"].astype(float)
    return out


# --------------------------------------------------------------------------- NL yearly table
def nl_annual_table(n_paths: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Forecast of each Dutch calendar year, beside the official forecasts.

    For 2012-2019 the forecast is made in the previous autumn (origin September of the year
    before, monthly data to then). After 2019-04 only yearly totals exist, so for 2020-2024
    the origin is December of the year before on the bridged series (the previous year's
    total is known: more information than an autumn forecast had). The Eurostat-definition
    forecast is compared with the Eurostat yearly total; adding nareis (0.897 per positive
    first-instance decision of the year before) gives the chain total that the official
    forecasts (first + subsequent + nareis) refer to.
    """
    ann = fdata.annual_totals()
    ann = ann[ann["geo_iso3"] == "NLD"].set_index("year")["persons"]
    comp = fdata.nl_components()
    off = fdata.official_forecasts()
    ratio = fn.nareis_ratio()
    pos = fn.positive_decisions()
    nareis = comp[comp["component"] == "nareizigers"].set_index("year")["persons"]
    totals = fn.official_totals()
    rows = []
    for year in range(2012, 2025):
        origin = f"{year - 1}-09" if year <= 2019 else f"{year - 1}-12"
        fc = forecast("NL", horizon=15 if year <= 2019 else 12, n_paths=n_paths, seed=seed, origin=origin)
        yr = fc.paths[fc.paths["month"].str.startswith(str(year))]
        tot_paths = yr.groupby("path")["applicants"].sum().to_numpy()
        point = float(fc.table[fc.table["month"].str.startswith(str(year))]["point"].sum())
        actual = float(ann.get(year, np.nan))
        nar_fc = ratio * float(pos.get(year - 1, np.nan))
        chain_fc = point + nar_fc
        chain_actual = float(totals.get(year, np.nan))
        chain_kind = "published total"
        if not np.isfinite(chain_actual):
            chain_actual = actual + float(nareis.get(year, np.nan))
            chain_kind = "Eurostat + nareis"
        o = off[off["year"] == year]
        rows.append({
            "year": year, "origin": origin,
            "origin_kind": "previous autumn (monthly data)" if year <= 2019 else "previous December (yearly totals, bridged)",
            "forecast_eurostat": point,
            "lo80_eurostat": float(np.quantile(tot_paths, 0.10)), "hi80_eurostat": float(np.quantile(tot_paths, 0.90)),
            "interval_errors": "known at origin" if fc.meta["error_library"].startswith("errors of origins") else
            "whole library (includes later errors)",
            "actual_eurostat": actual, "error_pct_eurostat": 100 * (point - actual) / actual,
            "forecast_nareis": nar_fc, "actual_nareis": float(nareis.get(year, np.nan)),
            "forecast_chain_total": chain_fc, "actual_chain_total": chain_actual, "actual_chain_kind": chain_kind,
            "error_pct_chain_total": 100 * (chain_fc - chain_actual) / chain_actual,
            "official_forecasts": "; ".join(f"{int(v):,} ({w}, {m})" for v, w, m in
                                             zip(o["forecast_persons"], o["forecaster"], o["made"])),
            "official_error_pct": "; ".join(f"{100 * (v - chain_actual) / chain_actual:+.0f}%" for v in o["forecast_persons"]),
        })
    return pd.DataFrame(rows)
