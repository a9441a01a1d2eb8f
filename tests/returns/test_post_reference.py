"""The pillar-4 post-processor's tables against their pandas formulation (the per-mask numpy and
pandas-groupby code the compiled passes replaced, kept here as the reference): the same columns,
dtypes and rows, and the same numbers -- persons are whole numbers, so every sum is exact and the
tables must be equal, not merely close (P0.1, P4.1-P4.5)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine import registry as R
from ketenplan.engine.run import ReplicateOutput, run_replicate
from ketenplan.returns import post as P
from ketenplan.returns.post import (_EXIT_OF, _RETURN_OUTCOMES, POLICE_REGION_PROVINCE, REGION_KEY, _published_share,
                                    share_below_age)
from ketenplan.scenario.schema import Scenario


# ----------------------------------------------------------------------------------------------
# the reference: the pandas formulation
# ----------------------------------------------------------------------------------------------
def _days(out: ReplicateOutput) -> tuple[int, pd.DatetimeIndex]:
    g = out.compiled.grid
    return g.start_index, g.dates()


def _years_of(out: ReplicateOutput) -> np.ndarray:
    """Calendar year of each reported day."""
    si, dates = _days(out)
    return dates[si:].year.to_numpy()


def departures_table(out: ReplicateOutput) -> pd.DataFrame:
    """Departures by outcome and nationality group per year, and the still-present stock at year end."""
    si, dates = _days(out)
    c, r = out.compiled, out.case
    T = c.grid.T
    size = c.case["size"].astype(np.int64)
    group = c.case["group"].astype(np.int64)
    names = list(c.group_names)
    G = len(names)
    year_of_day = dates.year.to_numpy()
    years = np.unique(year_of_day[si:])
    y0 = int(years[0])
    exit_day, exit_reason = r["exit_day"], r["exit_reason"]
    ny = len(years)

    def grid_of(yi: np.ndarray, g: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.bincount(yi * G + g, weights=w, minlength=ny * G).reshape(ny, G)

    rows = []
    reported = np.flatnonzero((exit_day >= si) & (exit_day < T))  # exits in the reported period
    reason = exit_reason[reported]
    for outcome, ex in _EXIT_OF.items():
        m = reported[reason == R.EXITS.index(ex)]
        rows.append((outcome, grid_of(year_of_day[exit_day[m]] - y0, group[m], size[m]).astype(np.int64)))
    # still present at the end of each year: +persons from the year of the decision, -persons from
    # the year of the exit (years before the reported period count as its first year)
    ret = _is_return_outcome(r["outcome"]) & (r["decision_day"] >= 0)
    dec, ext = r["decision_day"][ret], exit_day[ret]
    g_ret, s_ret = group[ret], size[ret].astype(np.float64)
    yi_dec = np.clip(year_of_day[dec] - y0, 0, None)
    left = ext >= 0
    yi_ext = np.clip(year_of_day[ext[left]] - y0, 0, None)
    delta = grid_of(yi_dec, g_ret, s_ret) - grid_of(yi_ext, g_ret[left], s_ret[left])
    rows.append(("still_present", np.rint(np.cumsum(delta, axis=0)).astype(np.int64)))
    parts = []
    for outcome, grid in rows:
        parts.append(pd.DataFrame({"year": np.repeat(years, G), "group": np.tile(names, len(years)),
                                   "outcome": outcome, "persons": grid.reshape(-1)}))
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "replicate", np.int32(out.replicate))
    return df


def _is_return_outcome(outcome: np.ndarray) -> np.ndarray:
    """True where the outcome code is one of :data:`_RETURN_OUTCOMES` (a table over the registry's outcomes)."""
    table = np.zeros(len(R.OUTCOMES), bool)
    table[[R.OUTCOMES.index(o) for o in _RETURN_OUTCOMES]] = True
    return table[outcome]


def _per_year(values: np.ndarray, years: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    s = pd.Series(values).groupby(years)
    agg = getattr(s, how)()
    return agg.index.to_numpy(), agg.to_numpy()


def facilities_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Detention and LVV per year: occupancy (the stage stock), place-days, cost, entries, references."""
    si, _ = _days(out)
    yrs = _years_of(out)
    det, lvv = scenario.detention, scenario.lvv
    spec = (("detention", "detention", "detention_entries", det.places, det.cost_per_place_day,
             det.placements_per_year, det.occupancy_check),
            ("lvv", "lvv", "lvv_entries", lvv.places, lvv.cost_per_place_day, lvv.intake_per_year, float("nan")))
    parts = []
    for facility, stage, flow, places, cost, ref_entries, ref_occ in spec:
        stock = out.stage_stock[si:, R.STAGE[stage]].astype(np.float64)
        years, mean = _per_year(stock, yrs, "mean")
        _, peak = _per_year(stock, yrs, "max")
        _, pdays = _per_year(stock, yrs, "sum")
        _, entries = _per_year(out.flows[si:, R.FLOW[flow]].astype(np.float64), yrs, "sum")
        parts.append(pd.DataFrame({"year": years, "facility": facility, "places": float(places),
                                   "mean_occupancy": mean, "peak_occupancy": peak, "place_days": pdays,
                                   "cost_eur_million": pdays * cost / 1e6, "entries": entries,
                                   "reference_entries_per_year": float(ref_entries),
                                   "reference_occupancy": float(ref_occ)}))
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "replicate", np.int32(out.replicate))
    return df


def minors_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Unaccompanied minors per year: arrivals, decisions, guardianship, reception type, ageing out."""
    si, dates = _days(out)
    c, r = out.compiled, out.case
    mn = scenario.minors
    T = c.grid.T
    year_of_day = dates.year.to_numpy()
    yrs = year_of_day[si:]
    years = np.unique(yrs)
    size = c.case["size"].astype(np.float64)
    first = c.case["stream"] == R.STREAM["first"]
    uam = c.case["uam"].astype(bool)
    arr = c.case["arrival_day"]
    arrived = (arr >= si) & (arr < T)

    def by_year(mask: np.ndarray, day: np.ndarray) -> np.ndarray:
        m = mask & (day >= si) & (day < T)
        return np.bincount(year_of_day[day[m]] - int(years[0]), weights=size[m], minlength=len(years))

    uam_arrivals = by_year(first & uam & arrived, arr)
    first_arrivals = by_year(first & arrived, arr)
    out_code = r["outcome"]
    granted = by_year(uam & np.isin(out_code, [R.OUTCOMES.index("granted"), R.OUTCOMES.index("granted_on_appeal")]),
                      r["decision_day"])
    rejected = by_year(uam & _is_return_outcome(out_code), r["decision_day"])
    foster = share_below_age(float(mn.foster_family_below_age), mn.age_split)
    unit = 0.5 * (mn.small_unit_places[0] + mn.small_unit_places[1])
    _, waiting = _per_year(out.stage_stock[si:, R.STAGE["minor_until_18"]].astype(np.float64), yrs, "mean")
    _, aged_out = _per_year(out.flows[si:, R.FLOW["minors_aged_out"]].astype(np.float64), yrs, "sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(first_arrivals > 0, uam_arrivals / np.maximum(first_arrivals, 1), np.nan)
    df = pd.DataFrame({
        "replicate": np.int32(out.replicate), "year": years, "arrivals": uam_arrivals,
        "share_of_first_applications": share,
        "published_share": [_published_share(mn.share_by_period, int(y)) for y in years],
        "granted": granted, "rejected": rejected, "guardian": mn.guardianship,
        "foster_family": uam_arrivals * foster, "coa_small_units": uam_arrivals * (1 - foster),
        "small_units_filled": np.ceil(uam_arrivals * (1 - foster) / unit),
        "waiting_until_18_mean": waiting, "aged_out": aged_out,
        "reference_disappeared_per_year": float(mn.disappeared_per_year)})
    return df


def without_residence_tables(out: ReplicateOutput, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stock without a right of residence per month and its regional split at each year end."""
    si, dates = _days(out)
    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    d = dates[si:]
    awaiting = R.derived_stock("without_residence", ss, ls).astype(np.int64)
    lvv = ss[:, R.STAGE["lvv"]].astype(np.int64)
    minors = ss[:, R.STAGE["minor_until_18"]].astype(np.int64)
    unsup = np.cumsum(out.flows[si:, R.FLOW["departures_unsupervised"]].astype(np.int64))
    key = d.year.to_numpy() * 12 + d.month.to_numpy()
    last = np.r_[key[1:] != key[:-1], True]
    month = pd.DataFrame({"replicate": np.int32(out.replicate),
                          "date": d[last].to_period("M").to_timestamp(),
                          "awaiting_departure": awaiting[last], "in_lvv": lvv[last], "minors_waiting": minors[last],
                          "departed_unsupervised_cumulative": unsup[last],
                          "stock": awaiting[last] + lvv[last]})
    # regional split at each year end
    from ketenplan.data import data_path
    from ketenplan.returns.data import irregular_regions_2009
    from ketenplan.placement import load_municipalities

    wr = scenario.without_residence
    reg = irregular_regions_2009(data_path("returns", wr.regional_table))
    locs = list(scenario.lvv.locations)
    prov = load_municipalities().set_index("municipality")["province"]
    yend = np.r_[d.year.to_numpy()[1:] != d.year.to_numpy()[:-1], True]
    rows = []
    for i in np.flatnonzero(yend):
        y = int(d[i].year)
        for loc in locs:
            rows.append((y, f"LVV {loc}", prov.get(loc, ""), "lvv", lvv[i] / len(locs)))
        for _, rr in reg.iterrows():
            name = str(rr["police_region"])
            rows.append((y, name, POLICE_REGION_PROVINCE.get(name, "other"), "awaiting_departure",
                         awaiting[i] * float(rr["share_of_national"])))
    by_region = pd.DataFrame(rows, columns=["year", "region", "province", "part", "persons"])
    by_region.insert(0, "replicate", np.int32(out.replicate))
    by_region["key"] = REGION_KEY
    return month, by_region


# ----------------------------------------------------------------------------------------------
# the comparison
# ----------------------------------------------------------------------------------------------
def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def _check(out, sc) -> None:
    _same(P.departures_table(out), departures_table(out))
    _same(P.facilities_table(out, sc), facilities_table(out, sc))
    _same(P.minors_table(out, sc), minors_table(out, sc))
    for got, want in zip(P.without_residence_tables(out, sc), without_residence_tables(out, sc)):
        _same(got, want)


def test_the_tables_equal_the_pandas_formulation_on_a_baseline_replicate():
    from ketenplan.ensemble import replicate_seed
    from ketenplan.scenario import load_scenario

    sc = load_scenario("nl_baseline")
    out = run_replicate(sc, 1, replicate_seed(1, 1))
    dep = P.departures_table(out)
    assert dep.loc[dep.outcome == "still_present", "persons"].sum() > 0
    _check(out, sc)


@pytest.mark.parametrize("changes", [
    {},
    {"simulation.start": dt.date(2025, 3, 17), "simulation.end": dt.date(2027, 6, 30)},  # broken years
], ids=["small", "mid-year"])
def test_the_tables_equal_the_pandas_formulation_on_a_small_scenario(changes):
    from ketenplan.testing import small_scenario

    sc = small_scenario(**changes)
    out = run_replicate(sc, 0, np.random.SeedSequence(5))
    _check(out, sc)
