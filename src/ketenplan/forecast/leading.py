"""Leading indicator from Frontex border detections (development log, third round: D7, D8).

Detections of illegal border crossings at the EU's external borders (Frontex, monthly, by route
and citizenship, 2009-01 to 2025-04) are re-directed to each destination country by the
citizenship mix of its asylum applicants:

    directed_c(t) = sum over citizenships g of detections_g(t) x share_{c,g}(y*)

``share_{c,g}(y*)`` is country c's share of the applicants of citizenship g in the shipped 32
countries in year y* (Eurostat ``migr_asyappctza``); detections of unknown or unmatched
citizenship are directed by c's share of all applicants. Only data available at the origin T are
used: detections up to month T - ``frontex_publication_lag_months`` and the yearly shares of
y* = the year before T's year once ``citizenship_year_available_month`` is reached, else the year
before that (parameters.csv). Origins without such a year (before 2012-04) have no indicator.

``frontex`` (D7) is the pooled direct ridge regression of :mod:`models` with two more features of
the deseasonalised log directed detections D (3-month mean ending a month before t): its 3-month
momentum and the "pipeline gap" (D minus the country's own 3-month level) relative to its mean over
the 24 months to t. ``combofx`` (D8) is the mean of ets, arima, theta and ``frontex``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.forecast import data as fdata
from ketenplan.forecast import models as fm

FRONTEX_FILE = "frontex_illegal_border_crossings_monthly_route_nat_2009_2025M04.csv"
GAP_WINDOW = 24  # months over which the pipeline gap's usual level is averaged (D7 specification)


def _param(name: str) -> float:
    from ketenplan.forecast.scenarios import param

    return param(name)


@functools.lru_cache(maxsize=1)
def detections() -> pd.DataFrame:
    """Frontex detections summed over routes and types: rows = month (Period), columns = citizenship [crossings/month]."""
    df = pd.read_csv(data_path("forecast", FRONTEX_FILE))
    wide = df.groupby(["month", "citizenship_iso3"])["detections"].sum().unstack(fill_value=0.0)
    wide.index = pd.PeriodIndex(wide.index, freq="M")
    full = pd.period_range(wide.index[0], wide.index[-1], freq="M")
    return wide.reindex(full, fill_value=0.0).astype(float)


def share_year(origin: pd.Period) -> int | None:
    """Latest year whose applicants by citizenship are published at ``origin`` (None before the data start)."""
    avail = int(_param("citizenship_year_available_month"))
    y = origin.year - 1 if origin.month >= avail else origin.year - 2
    first = int(fdata.annual_by_citizenship()["year"].min())
    return y if y >= first else None


@functools.lru_cache(maxsize=32)
def _shares(year: int, codes: tuple[str, ...], citizenships: tuple[str, ...]) -> np.ndarray:
    """Share [country, citizenship] of the applicants of each citizenship in ``year`` going to each country."""
    a = fdata.annual_by_citizenship()
    iso = {fdata.iso3(c): i for i, c in enumerate(codes)}
    a = a[(a["year"] == year) & a["geo_iso3"].isin(iso)]
    tab = a.pivot_table(index="geo_iso3", columns="citizen_iso3", values="persons", aggfunc="sum", fill_value=0.0)
    tab = tab.reindex(index=list(iso), fill_value=0.0)
    total = tab.sum(axis=1).to_numpy(float)
    overall = total / total.sum()  # unknown or unmatched citizenship: the country's share of all applicants
    S = np.repeat(overall[:, None], len(citizenships), axis=1)
    per = tab.reindex(columns=list(citizenships), fill_value=0.0).to_numpy(float)
    col = per.sum(axis=0)
    known = col > 0
    S[:, known] = per[:, known] / col[known]
    return S


def directed(months: pd.PeriodIndex, codes: list[str], T: int) -> np.ndarray:
    """Directed detections [country, month] on the grid ``months`` as known at origin column T.

    NaN where no detections were published by T (before 2009-01, or later than T minus the
    publication lag) and everywhere if no yearly citizenship shares were published by T.
    """
    out = np.full((len(codes), len(months)), np.nan)
    y = share_year(months[T])
    if y is None:
        return out
    det = detections()
    lag = int(_param("frontex_publication_lag_months"))
    last = months[T] - lag
    S = _shares(y, tuple(codes), tuple(det.columns))
    d = det[det.index <= last]
    cols = np.flatnonzero(np.isin(months, d.index))
    if cols.size:
        vals = d.reindex(months[cols]).to_numpy(float)  # month, citizenship
        out[:, cols] = S @ vals.T
    return out


def frontex_design(X: np.ndarray, moy: np.ndarray, T: int, agg: np.ndarray, months: pd.PeriodIndex,
                   codes: list[str]):
    """``pooled``'s design plus the two directed-detection features (f6 momentum, f7 pipeline gap)."""
    F, A, L, S, m = fm.pooled_design(X, moy, T, agg)
    dlog = np.log1p(directed(months, codes, T)[:, :T + 1])
    Dm = np.full(dlog.shape, np.nan)
    for c in range(dlog.shape[0]):
        ok = np.isfinite(dlog[c])
        if ok.sum() >= 36 and np.isfinite(A[c]).any():
            Dm[c] = dlog[c] - fm.seasonal_index(dlog[c, ok], m[ok])[m]
    D3 = fm._rolling_mean(Dm, 3)
    D = np.full(D3.shape, np.nan)  # the 3-month mean ending a month before t (detections ends at T - lag)
    D[:, 1:] = D3[:, :-1]
    mom = np.full(D.shape, np.nan)
    mom[:, 3:] = D[:, 3:] - D[:, :-3]
    gap = D - L
    gap = gap - fm._rolling_mean(gap, GAP_WINDOW)
    return np.concatenate([F, mom[..., None], gap[..., None]], axis=-1), A, L, S, m


def frontex(X: np.ndarray, moy: np.ndarray, T: int, h: int, agg: np.ndarray, months: pd.PeriodIndex,
            codes: list[str]) -> np.ndarray:
    """D7 point forecasts [country, step] on the log scale; rows without the indicator fall back to ``pooled``."""
    F, A, L, S, m = frontex_design(X, moy, T, agg, months, codes)
    out = fm.direct_ridge(F, A, L, S, m, T, h, fm.RIDGE)
    bad = ~np.all(np.isfinite(out), axis=1)
    if bad.any():
        out[bad] = fm.direct_ridge(F[..., :5], A, L, S, m, T, h, fm.RIDGE)[bad]
    return out
