"""Forecasts with sample paths, the inflow function the chain simulation calls, and the
Dutch yearly table against the official forecasts.

What the series measures: monthly **asylum applicants** as Eurostat counts them
(``migr_asyappctzm``, ASY_APP = first-time plus subsequent applicants, persons/month). For
the Netherlands this leaves out most *nareizigers* (family members joining a permit holder);
:mod:`ketenplan.forecast.nareis` adds them through their link to positive decisions.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.errors import DataError, ScenarioError
from ketenplan.forecast import backtest as bt
from ketenplan.forecast import data as fdata
from ketenplan.forecast import models as fm
from ketenplan.forecast import nareis as fn

log = logging.getLogger(__name__)

LIBRARY_FILE = "combo_error_library.csv"
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


# --------------------------------------------------------------------------- error library
def build_error_library(n_jobs: int = 2) -> pd.DataFrame:
    """Standardised log errors of the combination model from the rolling-origin backtest on
    the observed series (to 2019-04): ``geo, origin, h, u``. Shipped as ``combo_error_library.csv``."""
    res = bt.run_backtest("all", horizons=(1,), models=(MODEL,), n_jobs=n_jobs)
    fc = res.forecasts[(res.forecasts["model"] == MODEL) & np.isfinite(res.forecasts["u"])]
    return fc[["geo", "origin", "h", "u"]].reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def error_library() -> pd.DataFrame:
    """The shipped error library (see :func:`build_error_library`)."""
    return pd.read_csv(data_path("forecast", LIBRARY_FILE))


def _trajectories(origin: pd.Period, H: int) -> np.ndarray:
    """Complete standardised error trajectories [n, min(H, 24)] known at ``origin``.

    Only trajectories whose last step was observed by ``origin`` are used; if fewer than 25
    exist (an origin before 2013) all trajectories are used and this is logged.
    """
    lib = error_library()
    Hc = min(H, bt.H_MAX)
    wide = lib[lib["h"] <= Hc].pivot_table(index=["geo", "origin"], columns="h", values="u")
    wide = wide.dropna()
    org = pd.PeriodIndex(wide.index.get_level_values("origin"), freq="M")
    known = np.asarray([(o + Hc) <= origin for o in org])
    if known.sum() >= bt.MIN_POOL:
        wide = wide[known]
    else:
        log.info("fewer than %d error trajectories known at %s; using the whole error library", bt.MIN_POOL, origin)
    return _widen_trajectories(wide.to_numpy(float))


def _widen_trajectories(traj: np.ndarray) -> np.ndarray:
    """Scale step k of the error trajectories so their quantiles follow :func:`backtest.widen_long_horizons`.

    Each step is multiplied by the largest factor (>= 1) by which the widening moved one of its
    2.5/10/90/97.5% quantiles, so the paths carry the same intervals as the backtest while
    keeping each trajectory's shape across months.
    """
    if traj.shape[0] == 0:
        return traj
    Q = np.quantile(traj, bt.QUANTILES, axis=0).T  # step, 4
    W = bt.widen_long_horizons(Q)
    with np.errstate(all="ignore"):
        r = np.where(np.abs(Q) > 1e-12, W / Q, 1.0)
    f = np.clip(np.nan_to_num(r, nan=1.0), 1.0, None).max(axis=1)
    return traj * f[None, :]


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


def forecast(country: str = "NL", horizon: int = 24, *, n_paths: int = 1000, seed=0,
             origin: str | None = None) -> Forecast:
    """Forecast monthly applicants [persons/month] with the combination model.

    ``origin`` (YYYY-MM, default the last month of the bridged series, 2024-12) is the last
    month the model sees. Intervals and paths add standardised errors of earlier backtest
    origins (rescaled to the country) to the point forecast on the log scale, so they carry
    the empirically measured uncertainty, including its correlation across months. Beyond 24
    months the point forecast repeats its second year and the errors continue as a random
    walk (``paths_long_horizon_pattern`` in parameters.csv); the table's ``interval_basis`` column
    says ``backtest`` for months 1-24 and ``extrapolated`` beyond. The command line accepts at most
    :data:`MAX_CLI_HORIZON` months; the function itself has no upper limit because the chain
    simulation asks for as many months as a scenario spans.
    """
    code = fdata.normalise_country(country)
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ScenarioError(f"forecast horizon: expected an integer >= 1 month, found {horizon!r}")
    if not isinstance(n_paths, (int, np.integer)) or n_paths < 1:
        raise ScenarioError(f"forecast n_paths: expected an integer >= 1, found {n_paths!r}")
    rng = _rng(seed)
    p = bridged_panel()
    r = p.codes.index(code)
    T = _origin_index(p, r, origin)
    x = p.X[r, :T + 1]
    ok = ~np.isnan(x)
    fdata.check_series(p.Y[r, :T + 1], f"{code} up to {p.months[T]}", index=[str(m) for m in p.months[:T + 1]])
    Hc = min(horizon, bt.H_MAX)
    pt = fm.forecast_origin(p.X, p.moy, T, Hc, p.agg, models=(MODEL,), rows=[r])[MODEL][r]
    if horizon > Hc:
        reps = [pt[Hc - 12 + (k % 12)] if Hc >= 12 else pt[-1] for k in range(horizon - Hc)]
        pt = np.r_[pt, reps]
    sig = bt.sigma_scale(x[ok])
    traj = _trajectories(p.months[T], horizon)
    pick = traj[rng.integers(0, len(traj), size=n_paths)]
    if horizon > traj.shape[1]:
        v12 = np.var(traj[:, min(11, traj.shape[1] - 1)])
        v24 = np.var(traj[:, -1])
        step_sd = np.sqrt(max(v24 - v12, 1e-6) / 12.0)
        steps = rng.normal(0.0, step_sd, size=(n_paths, horizon - traj.shape[1]))
        pick = np.hstack([pick, pick[:, -1:] + np.cumsum(steps, axis=1)])
    logpaths = pt[None, :] + sig * pick
    Yp = fm.from_log(logpaths)
    months = pd.period_range(p.months[T] + 1, periods=horizon, freq="M").strftime("%Y-%m")
    paths = pd.DataFrame({"path": np.repeat(np.arange(n_paths), horizon),
                          "month": np.tile(np.asarray(months), n_paths),
                          "applicants": Yp.ravel()})
    q = np.quantile(fm.from_log(pt[None, :] + sig * (traj if horizon <= traj.shape[1] else pick)),
                    [0.025, 0.10, 0.90, 0.975], axis=0)
    table = pd.DataFrame({"month": months, "point": fm.from_log(pt), "lo95": q[0], "lo80": q[1],
                          "hi80": q[2], "hi95": q[3],
                          "interval_basis": np.where(np.arange(1, horizon + 1) <= bt.H_MAX, "backtest",
                                                     "extrapolated")})
    hist = fdata.bridged_series(code)
    hist = hist[hist["month"] <= p.months[T]].assign(month=lambda d: d["month"].astype(str))
    meta = {"country": code, "origin": str(p.months[T]), "model": MODEL, "sigma": sig,
            "n_trajectories": int(len(traj)), "n_paths": int(n_paths), "horizon": int(horizon),
            "interval_backtested_months": int(bt.H_MAX),
            "series": "Eurostat migr_asyappctzm asylum applicants (first-time + subsequent) [persons/month]"}
    return Forecast(country=code, origin=str(p.months[T]), table=table, paths=paths, history=hist, meta=meta)


def _origin_index(p: bt.Panel, r: int, origin: str | None) -> int:
    ok = np.flatnonzero(~np.isnan(p.Y[r]))
    last = int(ok[-1])
    if origin is None:
        return last
    try:
        o = pd.Period(str(origin), freq="M")
    except (ValueError, TypeError):
        raise ScenarioError(f"forecast origin {origin!r}: expected a month 'YYYY-MM'") from None
    if o > p.months[last]:
        raise ScenarioError(f"forecast origin {o}: after the last month of the {p.codes[r]} series "
                            f"({p.months[last]})")
    T = int(np.flatnonzero(p.months == o)[0]) if o >= p.months[0] else -1
    if T < 0 or (T - int(ok[0]) + 1) < fdata.MIN_POINTS:
        raise DataError(f"forecast origin {o}: {p.codes[r]} has fewer than {fdata.MIN_POINTS} months of data "
                        f"up to it (series starts {p.months[ok[0]]})")
    return T


def inflow_sample_paths(country: str = "NL", start: str = "2025-01", months: int = 24, n_paths: int = 100,
                        seed=0) -> pd.DataFrame:
    """Monthly sample paths of asylum applicants for a chain simulation.

    Returns a DataFrame with columns ``path`` (int 0..n_paths-1), ``month`` ("YYYY-MM", from
    ``start`` on, ``months`` months) and ``applicants`` (float >= 0).

    **What it measures:** asylum applicants per month as Eurostat counts them
    (``migr_asyappctzm``, ASY_APP: first-time plus subsequent applicants). For the
    Netherlands most *nareizigers* are not included; add them with
    :func:`ketenplan.forecast.nareis.nareis_from_positive_decisions` if the chain needs the
    Dutch "asielinstroom".

    **Origin:** the paths are forecasts made at the month before ``start`` using only data up
    to then, so a start in the past gives an honest "as forecast then" inflow. Monthly
    figures are observed to 2019-04; for later origins the **bridge** is used: Eurostat yearly
    totals 2019-2024 spread over months by the country's mean seasonal profile of 2008-2018
    (named assumption ``bridge_seasonal_profile_last_year``). A ``start`` after the bridged
    series (after 2025-01) is forecast from 2024-12 and the months before ``start`` are
    dropped.

    **Randomness:** ``seed`` (int, SeedSequence or Generator); the same seed gives the same
    paths. Paths are the combination model's median forecast times resampled, standardised
    backtest error trajectories rescaled to the country (see :func:`forecast`).
    """
    try:
        st = pd.Period(str(start), freq="M")
    except (ValueError, TypeError):
        raise ScenarioError(f"inflow_sample_paths start {start!r}: expected a month 'YYYY-MM'") from None
    if not isinstance(months, (int, np.integer)) or months < 1:
        raise ScenarioError(f"inflow_sample_paths months: expected an integer >= 1, found {months!r}")
    code = fdata.normalise_country(country)
    last = pd.Period(last_month(code), freq="M")
    origin = min(st - 1, last)
    gap = (st.year - origin.year) * 12 + (st.month - origin.month) - 1
    fc = forecast(code, horizon=int(months) + gap, n_paths=n_paths, seed=seed, origin=str(origin))
    out = fc.paths[fc.paths["month"] >= str(st)].reset_index(drop=True)
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
            "actual_eurostat": actual, "error_pct_eurostat": 100 * (point - actual) / actual,
            "forecast_nareis": nar_fc, "actual_nareis": float(nareis.get(year, np.nan)),
            "forecast_chain_total": chain_fc, "actual_chain_total": chain_actual, "actual_chain_kind": chain_kind,
            "error_pct_chain_total": 100 * (chain_fc - chain_actual) / chain_actual,
            "official_forecasts": "; ".join(f"{int(v):,} ({w}, {m})" for v, w, m in
                                             zip(o["forecast_persons"], o["forecaster"], o["made"])),
            "official_error_pct": "; ".join(f"{100 * (v - chain_actual) / chain_actual:+.0f}%" for v in o["forecast_persons"]),
        })
    return pd.DataFrame(rows)
