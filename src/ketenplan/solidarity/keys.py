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
#: Accepted names of the GDP column, with their unit: the shipped inputs name the unit in the
#: column (relocation-2015: ``gdp_eur_million``; the WDI-based keys: ``gdp_usd``); a plain ``gdp``
#: column (any one currency) is accepted in user-supplied ``inputs``.
GDP_COLUMNS = {"gdp_eur_million": "million EUR (current prices)", "gdp_usd": "USD (current)",
               "gdp": "any one currency"}


def gdp_column(inputs: pd.DataFrame) -> str | None:
    """The name of the GDP column of a key's input table (see ``GDP_COLUMNS``), or None if absent."""
    found = [c for c in GDP_COLUMNS if c in inputs.columns]
    if len(found) > 1:
        raise DataError(f"key inputs have more than one GDP column {found}; expected exactly one of "
                        f"{list(GDP_COLUMNS)}")
    return found[0] if found else None


def key_shares(inputs: pd.DataFrame, weights: Mapping[str, float], cap: float | None = None,
               cap_basis: str = "sum") -> pd.Series:
    """Shares [1] of each row (state) under a weighted key.

    ``inputs`` has one row per state and the columns named in ``INPUT_COLUMN`` for every
    criterion with a weight: ``population`` [persons], GDP as ``gdp_eur_million``, ``gdp_usd`` or
    ``gdp`` [any one currency] (see ``GDP_COLUMNS``),
    ``past_applications_per_million`` [applications per million inhabitants per year],
    ``unemployment_rate`` [%].

    Population and GDP enter as shares of the total. Past applications and unemployment enter
    inversely: a state's criterion share is (1/x_i) / sum_k (1/x_k). With ``cap`` set, each inverse
    share is capped at ``cap`` times the state's population-and-GDP effect; whatever the caps leave
    of the inverse criteria's weight is given out by the population/GDP key (population and GDP
    shares with the relative weights of the scheme). The shares sum to 1.

    ``cap_basis`` says what "the population and GDP effect" is: ``"sum"`` (default) = population
    share + GDP share, the reading of the COM(2015) 450 Annex formula that reproduces the
    Commission's September 2015 key; ``"mean"`` = the weighted mean of the two shares (the
    population/GDP key itself), the reading ketenplan used before.
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
    if cap_basis not in ("sum", "mean"):
        raise ScenarioError(f"unknown cap_basis {cap_basis!r}; expected 'sum' or 'mean'")
    arrays: dict[str, np.ndarray] = {}
    for crit, w in weights.items():
        col = INPUT_COLUMN[crit]
        if w == 0:
            continue
        if crit == "gdp":
            col = gdp_column(inputs) or "gdp"
        if col not in inputs.columns:
            expected = " or ".join(f"'{c}'" for c in GDP_COLUMNS) if crit == "gdp" else f"'{col}'"
            raise DataError(f"key input column {expected} is missing; needed for criterion '{crit}'")
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
            effect = sum(shares.values()) if (cap_basis == "sum" and shares) else base
            eff = np.minimum(eff, cap * effect)
        key += w * eff
    key += (1.0 - key.sum()) * base
    return pd.Series(key / key.sum(), index=inputs.index, name="share")


# ----------------------------------------------------------------------------- inputs

def _relocation_2015_published_inputs(states: Sequence[str], variant: str = "sep-2015") -> pd.DataFrame:
    """Inputs of the 2015 key as the Commission computed them (ERR's worked example for Estonia,
    see ``parameters.csv``): Eurostat population 1 January 2014; GDP at current prices [million EUR]
    of 2013 (May 2015 proposal and resettlement key) or 2014 (September 2015 proposal), 2016
    extract; unemployment rate 2014; past applications = (applications + resettled refugees
    2010-2014) / 5 / population 1 January 2014, per million inhabitants."""
    sch = get_scheme("relocation-2015")
    key_suffix = variant.replace("-", "_")
    gdp_year = int(sch.figure(f"gdp_year_{key_suffix}"))
    pop_year = int(sch.figure("population_year"))
    unemp_year = int(sch.figure("unemployment_year"))
    window = int(sch.figure("past_applications_window_years"))
    raw = sdata.relocation_2015_inputs()
    name = "relocation_2015_inputs.csv"
    gdp_indicator = "gdp_current_prices_2016_extract"
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
        years = range(pop_year - window + 1, pop_year + 1)
        total, reported = 0.0, 0
        for y in years:
            a = d[(d.indicator == "asylum_applicants") & (d.year == y)].value
            if a.empty or not np.isfinite(a.iloc[0]):
                continue  # state not yet reporting (HR before accession): counts as none
            r = d[(d.indicator == "resettled_refugees") & (d.year == y)].value
            total += float(a.iloc[0]) + (float(r.iloc[0]) if not r.empty else 0.0)
            reported += 1
        if not reported:
            raise data_error(name, f"no asylum applications {years[0]}-{years[-1]} for {iso}", column="value")
        population = one("population_1jan", pop_year)
        rows.append({"iso3": iso, "population": population, "gdp_eur_million": one(gdp_indicator, gdp_year),
                     "unemployment_rate": one("unemployment_rate", unemp_year),
                     "past_applications_per_million": total / window / population * 1e6})
    df = pd.DataFrame(rows).set_index("iso3")
    df.attrs.update(year=pop_year, gdp_year=gdp_year, gdp_unit="million EUR (current prices)",
                    population_source=f"Eurostat demo_pjan, 1 January {pop_year}",
                    gdp_source=f"Eurostat nama_10_gdp {gdp_year}, current prices (2016 extract)",
                    unemployment_source=f"Eurostat une_rt_a {unemp_year}",
                    past_applications_source=f"Eurostat migr_asyappctzm {years[0]}-{years[-1]} + UNHCR resettlement: "
                                             f"total / {window} / population 1 January {pop_year}, per million")
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
        row = {"iso3": iso, "population": float(d.population.iloc[0]),
               "gdp_usd": float(d.gdp_current_usd.iloc[0]),
               "unemployment_rate": float(d.unemployment_rate_pct.iloc[0])}
        for col in ("population", "gdp_usd") + (("unemployment_rate",) if need_unemployment else ()):
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


def _relocation_variant(variant: str | None) -> str:
    """The 2015 proposal (``may-2015`` or ``sep-2015``, default the September one)."""
    v = variant or "sep-2015"
    if v not in ("may-2015", "sep-2015"):
        raise ScenarioError(f"unknown relocation-2015 proposal {v!r}; expected 'may-2015' or 'sep-2015'")
    return v


def check_state_codes(codes: Sequence[str], what: str) -> list[str]:
    """``codes`` as a list, after checking that each is a known EU+ ISO3 code given once.

    ``what`` names the option or argument in the error (e.g. ``"--states"``)."""
    codes = list(codes)
    known = state_names()
    unknown = [s for s in codes if s not in known]
    if unknown:
        raise ScenarioError(f"{what}: unknown state code(s) {unknown}; expected ISO3 codes of EU+ states, "
                            f"one of {', '.join(sorted(known))}")
    dup = sorted({s for s in codes if codes.count(s) > 1})
    if dup:
        raise ScenarioError(f"{what}: state code(s) {dup} given more than once; expected each state once "
                            f"(a repeated state would be counted twice in the key)")
    return codes


def _select_states(scheme: str, variant: str | None, states: Sequence[str] | None,
                   exclude: Sequence[str] | None, what: str = "key") -> list[str]:
    """The states of a key (or a replay, ``what="replay"``): given or the scheme's, minus ``exclude``."""
    chosen = check_state_codes(states, "states (--states)") if states else participants(scheme, variant)
    drop = check_state_codes(exclude or (), "exclude (--exclude)")
    absent = [s for s in drop if s not in chosen]
    if absent:
        raise ScenarioError(f"exclude (--exclude): {absent} not among the states of the {scheme} {what}, so "
                            f"there is nothing to leave out; expected some of {', '.join(chosen)}")
    chosen = [s for s in chosen if s not in drop]
    if len(chosen) < 2:
        raise ScenarioError(f"a {scheme} {what} needs at least two states, found {chosen}")
    return chosen


def check_variant(scheme: str, variant: str | None) -> None:
    """Reject a proposal ``variant`` for a scheme that has none (only relocation-2015 has)."""
    if variant is not None and scheme != "relocation-2015":
        raise ScenarioError(f"proposal (--proposal) {variant!r} applies to scheme relocation-2015 only "
                            f"(may-2015 | sep-2015); scheme {scheme} has no proposals. Fix: leave --proposal out")
    if variant is not None:
        _relocation_variant(variant)


def key_inputs(scheme: str, year: int | None = None, *, variant: str | None = None,
               states: Sequence[str] | None = None, exclude: Sequence[str] | None = None) -> pd.DataFrame:
    """The input table (one row per state) of a scheme's key for ``year``.

    ``relocation-2015`` without a year (or with 2014) uses the figures available in 2015 (Eurostat,
    see ``SOURCES.md``); any other year uses WDI and Eurostat annual data.
    """
    sch = get_scheme(scheme)
    check_variant(scheme, variant)
    chosen = _select_states(scheme, variant, states, exclude)
    if scheme == "relocation-2015" and year in (None, 2014):
        return _relocation_2015_published_inputs(chosen, _relocation_variant(variant))
    if year is None:
        raise ScenarioError(f"scheme '{scheme}' needs a year (the year of the population and GDP figures)")
    window = int(sch.figures.get("past_applications_window_years", 5))
    needs_past = sch.weights.get("past_applications", 0) > 0
    return _annual_inputs(chosen, int(year), window=window, need_past=needs_past,
                          need_unemployment=sch.weights.get("unemployment", 0) > 0)


def distribution_key(scheme: str | Scheme, year: int | None = None, *, variant: str | None = None,
                     states: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
                     weights: Mapping[str, float] | None = None, cap: float | None | str = "scheme",
                     inputs: pd.DataFrame | None = None, cap_basis: str = "sum") -> pd.DataFrame:
    """The key of ``scheme`` per state, with its inputs.

    Returns a DataFrame indexed by ISO3 with ``name, population, <gdp column>, unemployment_rate,
    past_applications_per_million, share`` and ``attrs`` (scheme, year, units, sources). The GDP
    column names its unit: ``gdp_eur_million`` [million EUR, current prices] for relocation-2015 with
    the 2015 figures, ``gdp_usd`` [USD, current] for the other keys (World Bank WDI); the unit is
    also in ``attrs["gdp_unit"]`` and the column name in ``attrs["gdp_column"]``.
    ``weights`` overrides the scheme's weights (they must sum to 1); ``cap`` overrides the
    2015 cap (``None`` = no cap; by default the cap applies to the September 2015 proposal only,
    see ``cap_applies_*`` in ``parameters.csv``); ``cap_basis`` see ``key_shares``.
    """
    sch = scheme if not isinstance(scheme, str) else get_scheme(scheme)
    check_variant(sch.name, variant)
    if weights is not None:
        sch = sch.replace(weights=dict(weights))
    if inputs is None:
        inputs = key_inputs(sch.name, year, variant=variant, states=states, exclude=exclude)
    if cap == "scheme":
        cap = sch.figures.get("cap_share_of_population_gdp_effect")
        if sch.name == "relocation-2015":
            applies = sch.figures.get(f"cap_applies_{_relocation_variant(variant).replace('-', '_')}", 1.0)
            cap = cap if applies else None
    share = key_shares(inputs, sch.weights, cap=cap, cap_basis=cap_basis)
    out = inputs.copy()
    out.insert(0, "name", [state_names().get(i, i) for i in out.index])
    out["share"] = share
    out.attrs = dict(inputs.attrs)
    gcol = gdp_column(out)
    if gcol is not None:
        out.attrs.setdefault("gdp_unit", GDP_COLUMNS[gcol])
        out.attrs["gdp_column"] = gcol
    out.attrs.update(scheme=sch.name, weights=dict(sch.weights), cap=cap, cap_basis=cap_basis,
                     variant=_relocation_variant(variant) if sch.name == "relocation-2015" else None)
    out.index.name = "iso3"
    log.debug("key %s %s over %d states", sch.name, out.attrs.get("year"), len(out))
    return out
