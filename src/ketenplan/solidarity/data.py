"""Readers of the shipped solidarity data; they rename to canonical columns at this edge."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.errors import data_error

FOLDER = "solidarity"


def _read(name: str, required: list[str]) -> pd.DataFrame:
    path = data_path(FOLDER, name)
    df = pd.read_csv(path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise data_error(name, "missing columns", expected=", ".join(required), found=list(df.columns))
    return df


@lru_cache(maxsize=None)
def relocation_2015_inputs() -> pd.DataFrame:
    """Inputs of the 2015 relocation key as published-era Eurostat/UNHCR figures (long table).

    Columns: ``geo, iso3, year, indicator, value, unit, source``; indicators
    ``population_1jan`` [persons], ``asylum_applicants`` [persons/year], ``resettled_refugees``
    [persons/year] for 2010-2014, ``gdp_current_prices_2016_extract`` [million EUR] for 2013-2014
    (Eurostat extract of 2016, used by the key), ``gdp_current_prices`` [million EUR] for 2014 (a
    2018 extract, kept for comparison) and ``unemployment_rate`` [%] for 2013-2014.
    """
    return _read("relocation_2015_inputs.csv", ["geo", "iso3", "year", "indicator", "value", "unit", "source"])


@lru_cache(maxsize=None)
def population_gdp() -> pd.DataFrame:
    """EU27 + NO/CH/IS/LI: ``iso3, year, population [persons], gdp_current_usd [USD],
    unemployment_rate_pct [%]`` (World Bank WDI, population from UN WPP), 2010-2023."""
    return _read("euplus_population_gdp_2010_2023.csv",
                 ["iso3", "year", "population", "gdp_current_usd", "unemployment_rate_pct"])


@lru_cache(maxsize=None)
def applications() -> pd.DataFrame:
    """EU27 + NO/CH/IS/LI: ``iso3, year, asylum_applicants [persons/year] (Eurostat
    migr_asyappctza, all applicants), resettled_refugees [persons/year] (UNHCR)``, 2011-2024."""
    return _read("euplus_asylum_applicants_2011_2024.csv",
                 ["iso3", "year", "asylum_applicants", "resettled_refugees"])


@lru_cache(maxsize=None)
def hosted() -> pd.DataFrame:
    """UNHCR year-end stocks by country of asylum: ``year, iso3, refugees, asylum_seekers,
    other_in_need_of_protection`` [persons], 2000-2024."""
    return _read("unhcr_hosted_by_country_2000_2024.csv",
                 ["year", "iso3", "refugees", "asylum_seekers", "other_in_need_of_protection"])


@lru_cache(maxsize=None)
def world_population_gdp() -> pd.DataFrame:
    """World Bank WDI, all countries: ``iso3, year, population [persons], gdp_current_usd [USD],
    gdp_pc_ppp_const2021 [constant 2021 international $ per person]``, 2000-2023."""
    return _read("wdi_population_gdp_2000_2023.csv",
                 ["iso3", "year", "population", "gdp_current_usd", "gdp_pc_ppp_const2021"])


@lru_cache(maxsize=None)
def countries() -> pd.DataFrame:
    """UNHCR country list: ``iso3, name, unhcr_region``."""
    return _read("countries.csv", ["iso3", "name", "unhcr_region"])


def year_span(df: pd.DataFrame, column: str = "year") -> tuple[int, int]:
    """First and last year present in a table."""
    years = df[column].dropna()
    return int(years.min()), int(years.max())


def isfinite_positive(x: float) -> bool:
    return bool(np.isfinite(x) and x > 0)
