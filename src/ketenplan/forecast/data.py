"""Readers for the shipped inflow series, input checks, and the monthly bridge past 2019-04.

Series (all from ``ketenplan/data/forecast``, see the ``SOURCES.md`` there):

* ``applicants`` [persons/month]: Eurostat ``migr_asyappctzm`` asylum applicants (ASY_APP:
  first-time plus subsequent applicants, all citizenships), 32 European countries, 2008-01 to
  2019-04 (Croatia from 2013-01, United Kingdom from 2009-01). For the Netherlands this
  definition leaves out most *nareizigers* (family members following a permit holder).
* ``persons`` [persons/year]: Eurostat ``migr_asyappctza`` yearly applicants, 2011-2024, in
  total and by citizenship.
* Dutch components (first applications, nareis, subsequent), UNHCR first-instance decisions
  for the Netherlands and UNHCR year-end stocks.

Countries are named by their Eurostat code (``NL``, ``DE``, ``EL`` for Greece, ``UK``); the
ISO codes ``GR`` and ``GB`` are accepted as aliases.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.errors import DataError

log = logging.getLogger(__name__)

MONTHLY_FILE = "eurostat_monthly_applicants_2008_2019.csv"
ANNUAL_FILE = "eurostat_annual_applicants_2011_2024.csv"
CITIZEN_FILE = "eurostat_annual_applicants_by_citizenship_2011_2024.csv"
COMPONENTS_FILE = "nl_asylum_inflow_components_yearly.csv"
DECISIONS_FILE = "unhcr_nl_first_instance_decisions_2000_2025.csv"
STOCKS_FILE = "unhcr_stocks_europe_2000_2024.csv"
OFFICIAL_FILE = "nl_official_inflow_forecasts.csv"

#: Fewest monthly observations a model is fitted on (three seasonal cycles).
MIN_POINTS = 36

_ALIASES = {"GR": "EL", "GB": "UK"}


@functools.lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(data_path("forecast", name))


def load_monthly() -> pd.DataFrame:
    """Monthly applicants, long: ``geo, geo_iso3, country, month (YYYY-MM), applicants [persons/month]``."""
    return _read(MONTHLY_FILE).copy()


def countries() -> list[str]:
    """Eurostat codes of the countries with a shipped monthly series, sorted."""
    return sorted(_read(MONTHLY_FILE)["geo"].unique())


def normalise_country(country: str) -> str:
    """Canonical Eurostat code of ``country``; raise DataError naming the known codes."""
    code = str(country).strip().upper()
    code = _ALIASES.get(code, code)
    known = countries()
    if code not in known:
        raise DataError(f"{MONTHLY_FILE}: unknown country {country!r}; expected one of the Eurostat codes "
                        f"{', '.join(known)}")
    return code


def iso3(country: str) -> str:
    """ISO 3166 alpha-3 code of a country given by its Eurostat code."""
    code = normalise_country(country)
    df = _read(MONTHLY_FILE)
    return str(df.loc[df["geo"] == code, "geo_iso3"].iloc[0])


def check_series(values, name: str, *, index=None, min_points: int = MIN_POINTS) -> np.ndarray:
    """Validate a monthly count series and return it as a float array.

    Leading missing values are dropped (a series may start late); a gap after the first
    observation, a negative or infinite value, or fewer than ``min_points`` observations
    raise :class:`DataError` naming the series and the first offending position.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise DataError(f"series {name}: expected a one-dimensional monthly series, found shape {arr.shape}")
    labels = list(index) if index is not None else list(range(len(arr)))
    ok = ~np.isnan(arr)
    if ok.any():
        first = int(np.argmax(ok))
        arr, labels = arr[first:], labels[first:]
    else:
        arr, labels = arr[:0], []
    gaps = np.flatnonzero(np.isnan(arr))
    if gaps.size:
        raise DataError(f"series {name}: missing value at {labels[gaps[0]]} ({gaps.size} gap(s) after the first "
                        "observation); expected a complete monthly series. Fix: fill or cut the series so it has "
                        "no gaps")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise DataError(f"series {name}: value {arr[bad[0]]!r} at {labels[bad[0]]}; expected counts >= 0")
    if arr.size < min_points:
        raise DataError(f"series {name}: {arr.size} monthly observations; expected at least {min_points} "
                        "(three seasonal cycles) to fit a forecast model")
    return arr


def monthly_series(country: str) -> pd.Series:
    """Observed monthly applicants of one country, indexed by ``pandas.Period`` (freq M)."""
    code = normalise_country(country)
    df = _read(MONTHLY_FILE)
    d = df[df["geo"] == code].sort_values("month")
    s = pd.Series(d["applicants"].to_numpy(float), index=pd.PeriodIndex(d["month"], freq="M"), name=code)
    full = pd.period_range(s.index[0], s.index[-1], freq="M")
    s = s.reindex(full)
    check_series(s.to_numpy(), f"{MONTHLY_FILE}:{code}", index=[str(p) for p in full])
    return s


def panel(codes: list[str] | None = None) -> tuple[np.ndarray, pd.PeriodIndex, list[str]]:
    """All monthly series on one grid: ``(Y [country, month], months, codes)``; NaN before a series starts."""
    codes = countries() if codes is None else [normalise_country(c) for c in codes]
    series = [monthly_series(c) for c in codes]
    start = min(s.index[0] for s in series)
    end = max(s.index[-1] for s in series)
    grid = pd.period_range(start, end, freq="M")
    Y = np.vstack([s.reindex(grid).to_numpy(float) for s in series])
    return Y, grid, codes


def annual_totals() -> pd.DataFrame:
    """Yearly applicants: ``geo_iso3, year, persons [persons/year]``, 2011-2024."""
    return _read(ANNUAL_FILE).copy()


def annual_by_citizenship() -> pd.DataFrame:
    """Yearly applicants by citizenship: ``geo_iso3, year, citizen_iso3, persons``."""
    return _read(CITIZEN_FILE).copy()


def nl_components() -> pd.DataFrame:
    """Dutch inflow components by year: ``year, component, persons, qualifier, source_url, publisher_cited``."""
    return _read(COMPONENTS_FILE).copy()


def nl_decisions() -> pd.DataFrame:
    """UNHCR first-instance asylum decisions in the Netherlands by year (``positive`` = recognised + other)."""
    return _read(DECISIONS_FILE).copy()


def unhcr_stocks() -> pd.DataFrame:
    """UNHCR year-end stocks by country of asylum: ``asylum_iso3, year, group (asylum|refugee), persons``."""
    return _read(STOCKS_FILE).copy()


def official_forecasts() -> pd.DataFrame:
    """Published Dutch forecasts of total asylum inflow (first + subsequent + nareis), with sources."""
    return _read(OFFICIAL_FILE).copy()


def seasonal_shares(y: np.ndarray, months: pd.PeriodIndex) -> np.ndarray:
    """Share of each calendar month (Jan..Dec) in the yearly total, averaged over complete years.

    ``y`` [persons/month] and ``months`` align. Years with a zero total are skipped. Returns
    12 shares that sum to 1.
    """
    df = pd.DataFrame({"y": y, "year": months.year, "m": months.month}).dropna()
    full = df.groupby("year").filter(lambda g: len(g) == 12 and g["y"].sum() > 0)
    if full.empty:
        return np.full(12, 1 / 12)
    shares = full.pivot(index="year", columns="m", values="y")
    shares = shares.div(shares.sum(axis=1), axis=0).mean(axis=0).to_numpy()
    return shares / shares.sum()


def bridged_series(country: str = "NL", through: int | None = None) -> pd.DataFrame:
    """Monthly applicants from the first observed month to December of the last annual year.

    Observed months (to 2019-04) are kept. After them, the yearly Eurostat totals (to 2024)
    are spread over the months by the country's mean seasonal profile of the complete years
    up to 2018 (the named assumption ``bridge_seasonal_profile`` in parameters.csv). For 2019
    the months May-December receive the yearly total minus the observed January-April, in
    proportion to their seasonal shares. Columns: ``month`` (Period), ``applicants``, ``kind``
    (``observed`` or ``bridged``). ``through`` caps the last year used.
    """
    code = normalise_country(country)
    s = monthly_series(code)
    ann = _read(ANNUAL_FILE)
    ann = ann[ann["geo_iso3"] == iso3(code)].dropna(subset=["persons"]).set_index("year")["persons"]
    fit = s[s.index.year <= 2018]
    shares = seasonal_shares(fit.to_numpy(), fit.index)
    out = [pd.DataFrame({"month": s.index, "applicants": s.to_numpy(), "kind": "observed"})]
    last = s.index[-1]
    year = last.year
    last_year = int(ann.index.max()) if len(ann) else year
    if through is not None:
        last_year = min(last_year, int(through))
    while year <= last_year:
        if year not in ann.index:
            break
        total = float(ann.loc[year])
        months = pd.period_range(f"{year}-01", f"{year}-12", freq="M")
        observed = s[(s.index.year == year)]
        todo = months[months > last]
        if len(todo) == 0:
            year += 1
            continue
        rest = total - float(observed.sum())
        w = shares[[p.month - 1 for p in todo]]
        if rest < 0:
            raise DataError(f"{ANNUAL_FILE}: {code} {year}: yearly total {total:.0f} is below the observed monthly "
                            f"sum {observed.sum():.0f}; cannot bridge the remaining months")
        vals = rest * w / w.sum()
        out.append(pd.DataFrame({"month": todo, "applicants": vals, "kind": "bridged"}))
        year += 1
    return pd.concat(out, ignore_index=True)
