"""Distribution keys: the share of each state under a scheme, with the inputs it was computed from.

Pure functions at the bottom (``key_shares``), a data-aware ``distribution_key`` on top.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ketenplan.errors import DataError, ScenarioError, data_error
from ketenplan.solidarity import data as sdata
from ketenplan.solidarity.schemes import Scheme, get_scheme, participants, state_names

log = logging.getLogger(__name__)

INVERSE_CRITERIA = ("past_applications", "unemployment")
INPUT_COLUMN = {"population": "population", "gdp": "gdp", "past_applications": "past_applications_per_million",
                "unemployment": "unemployment_rate"}


def key_shares(inputs: pd.DataFrame, weights: Mapping[str, float], cap: float | None = None) -> pd.Series:
    """Shares [1] of each row (state) under a weighted key.

    ``inputs`` has one row per state and the columns named in ``INPUT_COLUMN`` for every
    criterion with a weight: ``population`` [persons], ``gdp`` [any one currency],
    ``past_applications_per_million`` [applications per million inhabitants per year],
    ``unemployment_rate`` [%].

    Population and GDP enter as shares of the total. Past applications and unemployment enter
    inversely: a state's criterion share is (1/x_i) / sum_k (1/x_k). With ``cap`` set, each inverse
    share is capped at ``cap`` times the state's population-and-GDP effect (the population/GDP key
    with the relative weights of the scheme); whatever the caps leave of the inverse criteria's
    weight is given out by that population-and-GDP effect. The shares sum to 1.
    """
    total_w = float(sum(weights.values()))
    if abs(total_w - 1.0) > 1e-9:
        raise ScenarioError(f"key weights must sum to 1, found {total_w!r} ({dict(weights)}). "
                            "Fix: rescale the weights")
    unknown = set(weights) - set(INPUT_COLUMN)
    if unknown:
        raise ScenarioError(f"unknown key criteria {sorted(unknown)}; expected some of {list(INPUT_COLUMN)}")
    if len(inputs) == 0:
        raise DataError("no states to distribute over")
    arrays: dict[str, np.ndarray] = {}
    for crit, w in weights.items():
        col = INPUT_COLUMN[crit]
        if w == 0:
            continue
        if col not in inputs.columns:
            raise DataError(f"key input column '{col}' is missing; needed for criterion '{crit}'")
        x = inputs[col].to_numpy(dtype=float)
        bad = ~np.isfinite(x) | (x <= 0)
        if bad.any():
            who = list(inputs.index[bad])
            raise DataError(f"key input '{col}' is missing, zero or negative for {who}; "
                            f"found {list(x[bad])}. Fix: supply positive figures for every state")
        arrays[crit] = x
    w_pop, w_gdp = weights.get("population", 0.0), weights.get("gdp", 0.0)
    shares = {c: arrays[c] / arrays[c].sum() for c in ("population", "gdp") if c in arrays}
    base_w = w_pop + w_gdp
    if base_w > 0:
        base = sum(weights[c] * shares[c] for c in shares) / base_w
    else:
        base = np.full(len(inputs), 1.0 / len(inputs))
    key = np.zeros(len(inputs))
    for c in shares:
        key += weights[c] * shares[c]
    for crit in INVERSE_CRITERIA:
        w = weights.get(crit, 0.0)
        if w == 0:
            continue
        inv = 1.0 / arrays[crit]
        eff = inv / inv.sum()
        if cap is not None:
            eff = np.minimum(eff, cap * base)
        key += w * eff
    key += (1.0 - key.sum()) * base
    return pd.Series(key / key.sum(), index=inputs.index, name="share")


# ----------------------------------------------------------------------------- inputs

def _relocation_2015_published_inputs(states: Sequence[str]) -> pd.DataFrame:
    """Inputs of the 2015 key as of 2015: Eurostat population 1 Jan 2014, GDP 2014 [million EUR],
    unemployment 2014, applications + resettled 2010-2014 per million inhabitants."""
    raw = sdata.relocation_2015_inputs()
    name = "relocation_2015_inputs.csv"
    rows = []
    for iso in states:
        d = raw[raw.iso3 == iso]
        if d.empty:
            raise data_error(name, f"no inputs for state {iso}", column="iso3",
                             expected="a row per state of the 2015 key", found=iso,
                             fix="choose states of the EU28 of 2015")
        def one(ind: str, year: int) -> float:
            v = d[(d.indicator == ind) & (d.year == year)].value
            if v.empty or not np.isfinite(v.iloc[0]):
                raise data_error(name, f"{ind} {year} missing for {iso}", column="value",
                                 expected="a number", found=None if v.empty else v.iloc[0])
            return float(v.iloc[0])
        per_million = []
        for y in range(2010, 2015):
            a = d[(d.indicator == "asylum_applicants") & (d.year == y)].value
            if a.empty or not np.isfinite(a.iloc[0]):
                continue  # state not yet reporting (HR before accession)
            r = d[(d.indicator == "resettled_refugees") & (d.year == y)].value
            per_million.append((a.iloc[0] + (r.iloc[0] if not r.empty else 0.0)) / one("population_1jan", y) * 1e6)
        if not per_million:
            raise data_error(name, f"no asylum applications 2010-2014 for {iso}", column="value")
        rows.append({"iso3": iso, "population": one("population_1jan", 2014), "gdp": one("gdp_current_prices", 2014),
                     "unemployment_rate": one("unemployment_rate", 2014),
                     "past_applications_per_million": float(np.mean(per_million))})
    df = pd.DataFrame(rows).set_index("iso3")
    df.attrs.update(year=2014, gdp_unit="million EUR (current prices)",
                    population_source="Eurostat demo_pjan, 1 January 2014",
                    gdp_source="Eurostat nama_10_gdp 2014, current prices",
                    unemployment_source="Eurostat une_rt_a 2014",
                    past_applications_source="Eurostat migr_asyappctzm 2010-2014 + UNHCR resettlement, "
                                             "per million inhabitants, mean of the yearly ratios")
    return df


def _annual_inputs(states: Sequence[str], year: int, window: int = 5, need_past: bool = False,
                   need_unemployment: bool = False) -> pd.DataFrame:
    """Inputs of year ``year`` from WDI (population, GDP in current USD, unemployment) and Eurostat
    applications + UNHCR resettlement per million over ``year-window+1 .. year``."""
    pg = sdata.population_gdp()
    lo, hi = sdata.year_span(pg)
    if not lo <= year <= hi:
        raise DataError(f"euplus_population_gdp_2010_2023.csv: year {year} is outside the data "
                        f"({lo}-{hi}). Fix: choose a year in {lo}-{hi}")
    apps = sdata.applications()
    alo, ahi = sdata.year_span(apps)
    rows = []
    for iso in states:
        d = pg[(pg.iso3 == iso) & (pg.year == year)]
        if d.empty:
            raise data_error("euplus_population_gdp_2010_2023.csv", f"no row for state {iso} in {year}",
                             column="iso3", expected="EU27 or NO/CH/IS/LI", found=iso)
        row = {"iso3": iso, "population": float(d.population.iloc[0]), "gdp": float(d.gdp_current_usd.iloc[0]),
               "unemployment_rate": float(d.unemployment_rate_pct.iloc[0])}
        for col in ("population", "gdp") + (("unemployment_rate",) if need_unemployment else ()):
            if not np.isfinite(row[col]):
                raise data_error("euplus_population_gdp_2010_2023.csv", f"{col} missing for {iso} in {year}",
                                 column=col, expected="a number", found=None,
                                 fix="leave the state out (--exclude) or choose another year")
        yrs = list(range(year - window + 1, year + 1))
        if need_past and (yrs[0] < alo or yrs[-1] > ahi):
            raise DataError(f"euplus_asylum_applicants_2011_2024.csv: the {window}-year window {yrs[0]}-{yrs[-1]} "
                            f"for past applications is outside the data ({alo}-{ahi}). "
                            f"Fix: choose a year in {alo + window - 1}-{min(ahi, hi)}")
        a = apps[(apps.iso3 == iso) & apps.year.isin(yrs)]
        popser = pg[(pg.iso3 == iso) & pg.year.isin(yrs)].set_index("year").population
        ratios = [(r.asylum_applicants + r.resettled_refugees) / popser.get(r.year, np.nan) * 1e6
                  for r in a.itertuples()]
        ratios = [x for x in ratios if np.isfinite(x)]
        row["past_applications_per_million"] = float(np.mean(ratios)) if ratios else np.nan
        if need_past and not ratios:
            raise data_error("euplus_asylum_applicants_2011_2024.csv", f"no applications {yrs[0]}-{yrs[-1]} for {iso}")
        rows.append(row)
    df = pd.DataFrame(rows).set_index("iso3")
    df.attrs.update(year=year, gdp_unit="USD (current)",
                    population_source=f"UN WPP via World Bank WDI, {year}",
                    gdp_source=f"World Bank WDI GDP current USD, {year}",
                    unemployment_source=f"World Bank WDI (ILO modelled), {year}",
                    past_applications_source=f"Eurostat migr_asyappctza + UNHCR resettlement {yrs[0]}-{yrs[-1]}, "
                                             "per million inhabitants, mean of the yearly ratios")
    return df


def _select_states(scheme: str, variant: str | None, states: Sequence[str] | None,
                   exclude: Sequence[str] | None) -> list[str]:
    chosen = list(states) if states else participants(scheme, variant)
    known = state_names()
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise ScenarioError(f"unknown state code(s) {unknown}; expected ISO3 codes of EU+ states, e.g. NLD, DEU")
    drop = set(exclude or ())
    chosen = [s for s in chosen if s not in drop]
    if len(chosen) < 2:
        raise ScenarioError(f"a key needs at least two states, found {chosen}")
    return chosen


def key_inputs(scheme: str, year: int | None = None, *, variant: str | None = None,
               states: Sequence[str] | None = None, exclude: Sequence[str] | None = None) -> pd.DataFrame:
    """The input table (one row per state) of a scheme's key for ``year``.

    ``relocation-2015`` without a year (or with 2014) uses the figures available in 2015 (Eurostat,
    see ``SOURCES.md``); any other year uses WDI and Eurostat annual data.
    """
    sch = get_scheme(scheme)
    chosen = _select_states(scheme, variant, states, exclude)
    if scheme == "relocation-2015" and year in (None, 2014):
        return _relocation_2015_published_inputs(chosen)
    if year is None:
        raise ScenarioError(f"scheme '{scheme}' needs a year (the year of the population and GDP figures)")
    window = int(sch.figures.get("past_applications_window_years", 5))
    needs_past = sch.weights.get("past_applications", 0) > 0
    return _annual_inputs(chosen, int(year), window=window, need_past=needs_past,
                          need_unemployment=sch.weights.get("unemployment", 0) > 0)


def distribution_key(scheme: str | Scheme, year: int | None = None, *, variant: str | None = None,
                     states: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
                     weights: Mapping[str, float] | None = None, cap: float | None | str = "scheme",
                     inputs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The key of ``scheme`` per state, with its inputs.

    Returns a DataFrame indexed by ISO3 with ``name, population, gdp, unemployment_rate,
    past_applications_per_million, share`` and ``attrs`` (scheme, year, units, sources).
    ``weights`` overrides the scheme's weights (they must sum to 1); ``cap`` overrides the
    2015 cap (``None`` = no cap).
    """
    sch = scheme if not isinstance(scheme, str) else get_scheme(scheme)
    if weights is not None:
        sch = sch.replace(weights=dict(weights))
    if inputs is None:
        inputs = key_inputs(sch.name, year, variant=variant, states=states, exclude=exclude)
    if cap == "scheme":
        cap = sch.figures.get("cap_share_of_population_gdp_effect")
    share = key_shares(inputs, sch.weights, cap=cap)
    out = inputs.copy()
    out.insert(0, "name", [state_names().get(i, i) for i in out.index])
    out["share"] = share
    out.attrs = dict(inputs.attrs)
    out.attrs.update(scheme=sch.name, weights=dict(sch.weights), cap=cap,
                     variant=variant if sch.name == "relocation-2015" else None)
    out.index.name = "iso3"
    log.debug("key %s %s over %d states", sch.name, out.attrs.get("year"), len(out))
    return out
