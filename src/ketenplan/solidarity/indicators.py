"""Responsibility-sharing indicators for host countries worldwide (UNHCR stocks, World Bank)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan.errors import DataError, ScenarioError
from ketenplan.solidarity import data as sdata

MEASURES = ("refugees", "refugees_and_oip", "refugees_oip_and_asylum_seekers")


def per_thousand(hosted: float | np.ndarray, population: float | np.ndarray) -> np.ndarray:
    """Hosted persons per 1,000 inhabitants [persons/1,000 inhabitants]."""
    return np.asarray(hosted, float) / np.asarray(population, float) * 1000.0


def per_usd_gdp_per_capita(hosted, gdp_per_capita) -> np.ndarray:
    """Hosted persons per 1 USD of GDP per capita [persons/USD] (UNHCR uses GDP per capita, PPP)."""
    return np.asarray(hosted, float) / np.asarray(gdp_per_capita, float)


def per_million_usd_gdp(hosted, gdp) -> np.ndarray:
    """Hosted persons per USD 1 million of GDP [persons/USD million]."""
    return np.asarray(hosted, float) / (np.asarray(gdp, float) / 1e6)


def host_indicators(year: int, measure: str = "refugees_and_oip", min_hosted: int = 0) -> pd.DataFrame:
    """Indicators per country of asylum for ``year`` with ranks (1 = largest burden).

    Columns: ``iso3, name, region, hosted [persons], population [persons], gdp_current_usd [USD],
    gdp_pc_ppp [intl $ 2021 per person], per_1000_inhabitants, per_usd_gdp_pc_ppp,
    per_usd_million_gdp_ppp, per_usd_million_gdp_nominal`` and ``rank_*`` for the four ratios.
    ``measure``: ``refugees`` (UNHCR mandate refugees), ``refugees_and_oip`` (plus other people in
    need of international protection, UNHCR's hosting measure) or ``refugees_oip_and_asylum_seekers``.
    """
    if measure not in MEASURES:
        raise ScenarioError(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    h = sdata.hosted()
    w = sdata.world_population_gdp()
    hlo, hhi = sdata.year_span(h)
    wlo, whi = sdata.year_span(w)
    lo, hi = max(hlo, wlo), min(hhi, whi)
    if not lo <= int(year) <= hi:
        raise DataError(f"unhcr_hosted_by_country_2000_2024.csv / wdi_population_gdp_2000_2023.csv: year {year} "
                        f"is outside the data where both exist ({lo}-{hi}). Fix: choose a year in {lo}-{hi}")
    d = h[h.year == int(year)].copy()
    d["hosted"] = d.refugees
    if measure != "refugees":
        d["hosted"] += d.other_in_need_of_protection
    if measure == "refugees_oip_and_asylum_seekers":
        d["hosted"] += d.asylum_seekers
    d = d[d.hosted > max(0, min_hosted - 1)]
    d = d.merge(w[w.year == int(year)].drop(columns="year"), on="iso3", how="inner")
    c = sdata.countries().dropna(subset=["iso3"]).drop_duplicates("iso3").set_index("iso3")
    d["name"] = d.iso3.map(c["name"])
    d["region"] = d.iso3.map(c["unhcr_region"])
    d = d.rename(columns={"gdp_pc_ppp_const2021": "gdp_pc_ppp"})
    d["per_1000_inhabitants"] = per_thousand(d.hosted, d.population)
    d["per_usd_gdp_pc_ppp"] = per_usd_gdp_per_capita(d.hosted, d.gdp_pc_ppp)
    d["per_usd_million_gdp_ppp"] = per_million_usd_gdp(d.hosted, d.gdp_pc_ppp * d.population)
    d["per_usd_million_gdp_nominal"] = per_million_usd_gdp(d.hosted, d.gdp_current_usd)
    for col in ("per_1000_inhabitants", "per_usd_gdp_pc_ppp", "per_usd_million_gdp_ppp",
                "per_usd_million_gdp_nominal"):
        d["rank_" + col] = d[col].rank(ascending=False, method="min").astype("Int64")
    cols = ["iso3", "name", "region", "hosted", "population", "gdp_current_usd", "gdp_pc_ppp",
            "per_1000_inhabitants", "per_usd_gdp_pc_ppp", "per_usd_million_gdp_ppp", "per_usd_million_gdp_nominal",
            "rank_per_1000_inhabitants", "rank_per_usd_gdp_pc_ppp", "rank_per_usd_million_gdp_ppp",
            "rank_per_usd_million_gdp_nominal"]
    out = d[cols].sort_values("rank_per_1000_inhabitants").reset_index(drop=True)
    out.attrs.update(year=int(year), measure=measure,
                     source="UNHCR Refugee Population Statistics (refugees package 2025.12.1, CC BY 4.0); "
                            "World Bank WDI (population UN WPP 2024; GDP current USD; GDP per capita PPP const 2021)")
    return out
