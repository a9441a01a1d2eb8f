"""Pillar-4 and border outputs of a run (P4.1-P4.5, P1.2): a post-processor on each replicate.

Tables (each with a ``replicate`` column; read them with ``Results.table(name)``):

* ``p4_departures``: year, group, outcome (independent, forced, unsupervised, still_present),
  persons. Departures come from the per-case exit (reason and day, persons = case size), so per
  outcome they sum to the engine's departure flows over the reported period. ``still_present``:
  persons of cases whose final outcome is a rejection (or inadmissibility), decided on or before
  31 December, with no recorded exit by then (in the return process, LVV, detention, waiting until
  18, outside reception; a case still in appeal counts too) [persons at year end].
* ``p4_facilities``: year, facility (detention, lvv), places, mean_occupancy, peak_occupancy
  [persons], place_days, cost_eur_million (occupied place-days x the section's
  ``cost_per_place_day``), entries [persons/year] and the published reference (detention
  placements, LVV intake, detention occupancy) beside them.
* ``p4_minors``: year, unaccompanied-minor (AMV) arrivals, their share of first applications and
  the published share of that period, decisions (granted, rejected), guardian, reception type
  (Nidos foster family below ``foster_family_below_age``, COA small living units above it), the
  rejected waiting in reception until 18, those ageing out, and the published disappearances.
* ``p4_without_residence``: month, the stock awaiting departure (the engine's derived stock
  ``without_residence``), in the LVV, minors waiting until 18, departures without supervision
  since the start (cumulative), and ``stock`` = awaiting + LVV [persons, last day of the month].
* ``p4_without_residence_by_region``: the year-end stock by region, with its key (see
  :data:`REGION_KEY`).
* ``p4_reference``: the published national estimates of people without a right of residence.
* ``border_waits``, ``border_staffing`` (first replicate only): the default Schiphol entry day of
  the ``border`` section and the desks and eGates per hour that keep the p90 wait under target.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import registry as R
from ketenplan.engine.index import unsigned as _u  # a[_u(i)]: no negative-index fix-up
from ketenplan.engine.results import KPI
from ketenplan.engine.run import ReplicateOutput
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)

OUTCOMES = ("independent", "forced", "unsupervised", "still_present")
_EXIT_OF = {"independent": "departed_independent", "forced": "departed_forced", "unsupervised": "departed_unsupervised"}
_FLOW_OF = {"independent": "departures_independent", "forced": "departures_forced",
            "unsupervised": "departures_unsupervised"}
#: Final outcomes after which a case enters the return process (still present until it leaves).
_RETURN_OUTCOMES = ("rejected", "inadmissible")

#: Named assumption 'regional key of the stock without residence': the LVV residents are spread
#: evenly over the LVV locations (no split per location was found, Lvv.places note); everyone else
#: awaiting departure is spread like the 2009 WODC estimate by police region (the only published
#: regional split, U3; U4: none for 2017-2018). Police regions are placed in their province.
REGION_KEY = ("assumption: regional key of the stock without residence - LVV residents evenly over the LVV "
              "locations; the others like the WODC 2009 estimate by police region (without_residence.regional_table)")
POLICE_REGION_PROVINCE = {"Utrecht": "Utrecht", "Rotterdam-Rijnmond": "Zuid-Holland",
                          "Amsterdam-Amstelland": "Noord-Holland", "Haaglanden": "Zuid-Holland"}

#: Replicate days of the border's default day in a run (the ``ketenplan border`` command uses 100)
BORDER_DAYS = 20
BORDER_STAFFING_DAYS = 10

KPIS = (
    KPI("detention_occupancy_mean", "P4", "persons", "Detention occupancy",
        "persons in immigration detention, mean over the days", ("dtv",)),
    KPI("detention_cost_per_year", "P4", "EUR million/year", "Detention cost",
        "occupied detention place-days x detention.cost_per_place_day", ("dtv",)),
    KPI("lvv_occupancy_mean", "P4", "persons", "LVV occupancy",
        "persons in the national aliens facilities (LVV), mean over the days", ("dtv", "municipalities")),
    KPI("lvv_cost_per_year", "P4", "EUR million/year", "LVV cost",
        "occupied LVV place-days x lvv.cost_per_place_day", ("dtv", "municipalities")),
    KPI("minors_aged_out_per_year", "P4", "persons/year", "Minors ageing out",
        "rejected unaccompanied minors who turn 18 in reception and enter the departure route", ("coa", "dtv")),
    KPI("without_residence_stock_end", "P4", "persons", "Without residence at the end",
        "awaiting departure (derived stock without_residence) plus LVV residents on the last day", ("dtv",)),
)


# ----------------------------------------------------------------------------------------------
# pieces (pure functions of the replicate's arrays)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Calendar:
    """A grid's days as the tables count them (built once per grid and process)."""

    year_of_day: np.ndarray  # calendar year of every grid day (int32, as DatetimeIndex.year)
    year_of_day64: np.ndarray  # the same as int64
    years: np.ndarray  # the reported years (int32)
    year_start: np.ndarray  # index of the first reported day of each reported year (from the start)
    month_end: np.ndarray  # indexes of the last reported day of each month (from the start)
    month_label: pd.DatetimeIndex  # the first day of each reported month
    year_end: np.ndarray  # indexes of the last reported day of each year (from the start)


@functools.lru_cache(maxsize=8)
def _calendar(grid) -> _Calendar:
    si, dates = grid.start_index, grid.dates()
    year_of_day = dates.year.to_numpy()
    d = dates[si:]
    yrs = year_of_day[si:]
    years, year_start = np.unique(yrs, return_index=True)
    key = d.year.to_numpy() * 12 + d.month.to_numpy()
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True])
    yend = np.flatnonzero(np.r_[yrs[1:] != yrs[:-1], True])
    cal = _Calendar(year_of_day, year_of_day.astype(np.int64), years, year_start, last,
                    d[last].to_period("M").to_timestamp(), yend)
    for a in (cal.year_of_day, cal.year_of_day64, years, year_start, last, yend):
        a.setflags(write=False)
    return cal


def _days(out: ReplicateOutput) -> tuple[int, pd.DatetimeIndex]:
    g = out.compiled.grid
    return g.start_index, g.dates()


def _years_of(out: ReplicateOutput) -> np.ndarray:
    """Calendar year of each reported day."""
    return _calendar(out.compiled.grid).year_of_day[out.compiled.grid.start_index:]


@njit(cache=True, nogil=True)
def _case_sums(size, group, exit_day, exit_reason, outcome, decision_day, stream, uam, arrival, year_of_day, si, T, y0,
               ny, G, exit_slot, n_exits, return_outcome, granted_outcome, first_stream):
    """One pass over the cases (persons summed exactly, as int64):

    * persons per (exit, year, group) leaving by each exit of ``exit_slot`` (the exit's index, -1
      for others; exits in the reported period), and entering (by decision) and leaving (by exit) the
      return process per (year, group) (years before the period count as its first);
    * unaccompanied minors' first arrivals, all first arrivals, and the minors' grants and
      rejections (by decision) per reported year."""
    dep = np.zeros((n_exits, ny, G), np.int64)
    ret_in = np.zeros((ny, G), np.int64)
    ret_out = np.zeros((ny, G), np.int64)
    minors = np.zeros((4, ny), np.int64)
    for i in range(size.size):
        w = np.int64(size[_u(i)])
        g = group[_u(i)]
        ex = exit_day[_u(i)]
        k = exit_slot[_u(exit_reason[_u(i)])]
        if k >= 0 and si <= ex < T:
            dep[_u(k), _u(year_of_day[_u(ex)] - y0), _u(g)] += w
        dec = decision_day[_u(i)]
        oc = outcome[_u(i)]
        if return_outcome[_u(oc)] and dec >= 0:
            ret_in[_u(max(year_of_day[_u(dec)] - y0, 0)), _u(g)] += w
            if ex >= 0:
                ret_out[_u(max(year_of_day[_u(ex)] - y0, 0)), _u(g)] += w
        a = arrival[_u(i)]
        if stream[_u(i)] == first_stream and si <= a < T:
            yi = year_of_day[_u(a)] - y0
            minors[1, _u(yi)] += w
            if uam[_u(i)]:
                minors[0, _u(yi)] += w
        if uam[_u(i)] and si <= dec < T:
            if granted_outcome[_u(oc)]:
                minors[2, _u(year_of_day[_u(dec)] - y0)] += w
            elif return_outcome[_u(oc)]:
                minors[3, _u(year_of_day[_u(dec)] - y0)] += w
    return dep, ret_in, ret_out, minors


def _outcome_table(names) -> np.ndarray:
    table = np.zeros(len(R.OUTCOMES), np.bool_)
    table[[R.OUTCOMES.index(o) for o in names]] = True
    return table


_EXIT_CODES = np.array([R.EXITS.index(ex) for ex in _EXIT_OF.values()], np.int64)
_EXIT_SLOT = np.full(len(R.EXITS), -1, np.int64)
_EXIT_SLOT[_EXIT_CODES] = np.arange(len(_EXIT_CODES))
_GRANTED = _outcome_table(("granted", "granted_on_appeal"))
_RETURN = _outcome_table(_RETURN_OUTCOMES)
for _a in (_EXIT_CODES, _EXIT_SLOT, _GRANTED, _RETURN):
    _a.setflags(write=False)


def _sums(out: ReplicateOutput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_case_sums` of a replicate: departures [exit, year, group], entering and leaving the
    return process [year, group], minors [4, year] (float64, whole persons)."""
    c, r = out.compiled, out.case
    cal = _calendar(c.grid)
    sums = _case_sums(c.case["size"], c.case["group"], r["exit_day"], r["exit_reason"], r["outcome"],
                      r["decision_day"], c.case["stream"], c.case["uam"], c.case["arrival_day"], cal.year_of_day64,
                      c.grid.start_index, c.grid.T, int(cal.years[0]), len(cal.years), len(c.group_names),
                      _EXIT_SLOT, len(_EXIT_CODES), _RETURN, _GRANTED, R.STREAM["first"])
    return tuple(x.astype(np.float64) for x in sums)


@functools.lru_cache(maxsize=8)
def _departure_labels(grid, group_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = _calendar(grid).years
    G, ny, n_out = len(group_names), len(years), len(OUTCOMES)
    year = np.tile(np.repeat(years, G), n_out)
    group = np.tile(np.array(group_names, dtype=object), ny * n_out)
    outcome = np.repeat(np.array(OUTCOMES, dtype=object), ny * G)
    for a in (year, group, outcome):
        a.setflags(write=False)
    return year, group, outcome


def departures_table(out: ReplicateOutput) -> pd.DataFrame:
    """Departures by outcome and nationality group per year, and the still-present stock at year end."""
    return pd.DataFrame(_departure_columns(out, _sums(out)))


def _departure_columns(out: ReplicateOutput, sums) -> dict[str, np.ndarray]:
    dep, ret_in, ret_out, _ = sums
    # still present at the end of each year: +persons from the year of the decision, -persons from
    # the year of the exit (years before the reported period count as its first year)
    still = np.rint(np.cumsum(ret_in - ret_out, axis=0)).astype(np.int64)
    persons = np.concatenate([dep.astype(np.int64).reshape(-1), still.reshape(-1)])
    year, group, outcome = _departure_labels(out.compiled.grid, tuple(out.compiled.group_names))
    return {"replicate": np.full(len(persons), out.replicate, np.int32), "year": year, "group": group,
            "outcome": outcome, "persons": persons}


def _per_year(values: np.ndarray, out: ReplicateOutput, how: str) -> np.ndarray:
    """Sum, mean or max of a reported-days array per reported year (days are in calendar order, so
    each year is one block)."""
    cal = _calendar(out.compiled.grid)
    if how == "max":
        return np.maximum.reduceat(values, cal.year_start)
    s = np.add.reduceat(values, cal.year_start)
    if how == "sum":
        return s
    return s / np.diff(np.r_[cal.year_start, len(values)])


@functools.lru_cache(maxsize=8)
def _facility_labels(grid) -> np.ndarray:
    ny = len(_calendar(grid).years)
    a = np.array(["detention"] * ny + ["lvv"] * ny, dtype=object)
    a.setflags(write=False)
    return a


def facilities_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Detention and LVV per year: occupancy (the stage stock), place-days, cost, entries, references."""
    return pd.DataFrame(_facility_columns(out, scenario))


def _facility_columns(out: ReplicateOutput, scenario: Scenario) -> dict[str, np.ndarray]:
    si = out.compiled.grid.start_index
    years = _calendar(out.compiled.grid).years
    det, lvv = scenario.detention, scenario.lvv
    spec = (("detention", "detention", "detention_entries", det.places, det.cost_per_place_day,
             det.placements_per_year, det.occupancy_check),
            ("lvv", "lvv", "lvv_entries", lvv.places, lvv.cost_per_place_day, lvv.intake_per_year, float("nan")))
    cols: dict[str, list] = {k: [] for k in ("year", "places", "mean_occupancy", "peak_occupancy",
                                             "place_days", "cost_eur_million", "entries", "reference_entries_per_year",
                                             "reference_occupancy")}
    ny = len(years)
    for facility, stage, flow, places, cost, ref_entries, ref_occ in spec:
        stock = out.stage_stock[si:, R.STAGE[stage]]
        pdays = _per_year(stock, out, "sum").astype(np.float64)  # whole persons: the sums are exact
        cols["year"].append(years)
        cols["places"].append(np.full(ny, float(places)))
        cols["mean_occupancy"].append(_per_year(stock.astype(np.float64), out, "mean"))
        cols["peak_occupancy"].append(_per_year(stock, out, "max").astype(np.float64))
        cols["place_days"].append(pdays)
        cols["cost_eur_million"].append(pdays * cost / 1e6)
        cols["entries"].append(_per_year(out.flows[si:, R.FLOW[flow]], out, "sum").astype(np.float64))
        cols["reference_entries_per_year"].append(np.full(ny, float(ref_entries)))
        cols["reference_occupancy"].append(np.full(ny, float(ref_occ)))
    year = np.concatenate(cols.pop("year"))
    out_cols = {"replicate": np.full(len(year), out.replicate, np.int32), "year": year,
                "facility": _facility_labels(out.compiled.grid)}
    out_cols.update({k: np.concatenate(v) for k, v in cols.items()})
    return out_cols


def share_below_age(age: float, age_split: tuple[float, float, float]) -> float:
    """Share of unaccompanied minors younger than ``age`` at arrival [-], with the age bands 16-17,
    14-15 and 12-13 of ``minors.age_split`` and ages uniform within a band (as the engine draws them)."""
    bands = ((16.0, age_split[0]), (14.0, age_split[1]), (12.0, age_split[2]))
    return float(sum(w * min(max((age - lo) / 2.0, 0.0), 1.0) for lo, w in bands))


def _published_share(periods: tuple[tuple[str, float], ...], year: int) -> float:
    """The published AMV share of a period covering ``year`` ('2022', '2014-01..2019-08'), else NaN."""
    for label, value in periods:
        a, _, b = label.partition("..")
        if int(a[:4]) <= year <= int((b or a)[:4]):
            return float(value)
    return float("nan")


def minors_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Unaccompanied minors per year: arrivals, decisions, guardianship, reception type, ageing out."""
    return pd.DataFrame(_minor_columns(out, scenario, _sums(out)))


def _minor_columns(out: ReplicateOutput, scenario: Scenario, sums) -> dict[str, np.ndarray]:
    si = out.compiled.grid.start_index
    mn = scenario.minors
    years = _calendar(out.compiled.grid).years
    uam_arrivals, first_arrivals, granted, rejected = sums[3]
    foster = share_below_age(float(mn.foster_family_below_age), mn.age_split)
    unit = 0.5 * (mn.small_unit_places[0] + mn.small_unit_places[1])
    waiting = _per_year(out.stage_stock[si:, R.STAGE["minor_until_18"]].astype(np.float64), out, "mean")
    aged_out = _per_year(out.flows[si:, R.FLOW["minors_aged_out"]], out, "sum").astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(first_arrivals > 0, uam_arrivals / np.maximum(first_arrivals, 1), np.nan)
    ny = len(years)
    published = _published_shares(mn.share_by_period, out.compiled.grid)
    return {
        "replicate": np.full(ny, out.replicate, np.int32), "year": years, "arrivals": uam_arrivals,
        "share_of_first_applications": share, "published_share": published,
        "granted": granted, "rejected": rejected, "guardian": _objects(mn.guardianship, ny),
        "foster_family": uam_arrivals * foster, "coa_small_units": uam_arrivals * (1 - foster),
        "small_units_filled": np.ceil(uam_arrivals * (1 - foster) / unit),
        "waiting_until_18_mean": waiting, "aged_out": aged_out,
        "reference_disappeared_per_year": np.full(ny, float(mn.disappeared_per_year))}


@functools.lru_cache(maxsize=8)
def _published_shares(periods, grid) -> np.ndarray:
    """:func:`_published_share` of every reported year (read-only)."""
    a = np.array([_published_share(periods, int(y)) for y in _calendar(grid).years], np.float64)
    a.setflags(write=False)
    return a


def _objects(value, n: int) -> np.ndarray:
    a = np.empty(n, dtype=object)
    a[:] = [value] * n
    return a


def without_residence_tables(out: ReplicateOutput, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stock without a right of residence per month and its regional split at each year end."""
    month, by_region = _without_residence_columns(out, scenario)
    return pd.DataFrame(month), pd.DataFrame(by_region)


def _without_residence_columns(out: ReplicateOutput, scenario: Scenario) -> tuple[dict, dict]:
    si = out.compiled.grid.start_index
    cal = _calendar(out.compiled.grid)
    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    awaiting = R.derived_stock("without_residence", ss, ls).astype(np.int64)
    lvv = ss[:, R.STAGE["lvv"]].astype(np.int64)
    minors = ss[:, R.STAGE["minor_until_18"]].astype(np.int64)
    unsup = np.cumsum(out.flows[si:, R.FLOW["departures_unsupervised"]].astype(np.int64))
    last = cal.month_end
    nm = len(last)
    month = {"replicate": np.full(nm, out.replicate, np.int32), "date": _month_dates(out.compiled.grid),
             "awaiting_departure": awaiting[last], "in_lvv": lvv[last], "minors_waiting": minors[last],
             "departed_unsupervised_cumulative": unsup[last], "stock": awaiting[last] + lvv[last]}
    # regional split at each year end: the LVV residents evenly over the locations, the others by the key
    year, region, province, part, n_loc, shares = _region_key(scenario.without_residence.regional_table,
                                                              tuple(scenario.lvv.locations), out.compiled.grid)
    ye = cal.year_end
    persons = np.concatenate([np.repeat(lvv[ye][:, None] / n_loc, n_loc, axis=1),
                              awaiting[ye][:, None] * shares[None, :]], axis=1).reshape(-1)
    by_region = {"replicate": np.full(len(persons), out.replicate, np.int32), "year": year, "region": region,
                 "province": province, "part": part, "persons": persons, "key": _region_key_column(len(persons))}
    return month, by_region


@functools.lru_cache(maxsize=8)
def _month_dates(grid) -> np.ndarray:
    """The first day of each reported month as datetime64[ns] (read-only)."""
    a = np.asarray(_calendar(grid).month_label.to_numpy())
    a.setflags(write=False)
    return a


@functools.lru_cache(maxsize=8)
def _region_key_column(n: int) -> np.ndarray:
    a = _objects(REGION_KEY, n)
    a.setflags(write=False)
    return a


@functools.lru_cache(maxsize=8)
def _region_key(regional_table: str, locations: tuple[str, ...], grid):
    """The row labels of the regional split (year, region, province, part per year end: the LVV
    locations, then the police regions), the number of LVV locations and the regions' shares."""
    from ketenplan.data import data_path
    from ketenplan.placement import load_municipalities
    from ketenplan.returns.data import irregular_regions_2009

    reg = irregular_regions_2009(data_path("returns", regional_table))
    prov = load_municipalities().set_index("municipality")["province"]
    names = [str(n) for n in reg["police_region"]]
    regions = [f"LVV {loc}" for loc in locations] + names
    provinces = [prov.get(loc, "") for loc in locations] + [POLICE_REGION_PROVINCE.get(n, "other") for n in names]
    parts = ["lvv"] * len(locations) + ["awaiting_departure"] * len(names)
    shares = reg["share_of_national"].to_numpy(float)
    cal = _calendar(grid)
    years = cal.year_of_day[grid.start_index:][cal.year_end].astype(np.int64)
    k = len(regions)
    labels = (np.repeat(years, k), np.tile(np.array(regions, dtype=object), len(years)),
              np.tile(np.array(provinces, dtype=object), len(years)), np.tile(np.array(parts, dtype=object), len(years)))
    for a in labels + (shares,):
        a.setflags(write=False)
    return labels + (len(locations), shares)


def reference_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """The published national estimates of people without a right of residence (WODC)."""
    wr = scenario.without_residence
    df = _reference(wr.estimate_2009, wr.estimate_2017_2018_poisson, wr.estimate_2017_2018_dse).copy()
    df.insert(0, "replicate", np.int32(out.replicate))
    return df


def _reference_columns(out: ReplicateOutput, scenario: Scenario) -> dict[str, np.ndarray] | pd.DataFrame:
    wr = scenario.without_residence
    cols = _reference_arrays(wr.estimate_2009, wr.estimate_2017_2018_poisson, wr.estimate_2017_2018_dse)
    if cols is None:  # a column of another type than NumPy's
        return reference_table(out, scenario)
    return {"replicate": np.full(3, out.replicate, np.int32), **cols}


@functools.lru_cache(maxsize=8)
def _reference_arrays(estimate_2009, poisson, dse) -> dict[str, np.ndarray] | None:
    """The columns of :func:`_reference` as read-only NumPy arrays (None where one is not NumPy's)."""
    df = _reference(estimate_2009, poisson, dse)
    if not all(isinstance(t, np.dtype) for t in df.dtypes):
        return None
    cols = {c: df[c].to_numpy().copy() for c in df.columns}
    for a in cols.values():
        a.setflags(write=False)
    return cols


@functools.lru_cache(maxsize=8)
def _reference(estimate_2009, poisson, dse) -> pd.DataFrame:
    return pd.DataFrame({
        "estimate": ["2009 (police records)", "2017-2018 Poisson", "2017-2018 dual systems"],
        "period_mid": pd.to_datetime(["2009-07-01", "2018-01-01", "2018-01-01"]),
        "persons": [estimate_2009, poisson, dse],
        "source": ["WODC 2009 estimate via Binnenlands Bestuur (U3)", "WODC 16-12-2020 (U1)", "WODC 16-12-2020 (U1)"]})


def border_tables(scenario: Scenario, seed: int) -> dict[str, pd.DataFrame]:
    """The default entry day of the scenario's ``border`` section and the staffing for its p90 target."""
    from ketenplan.border import day_from_params, run_day, staffing_table

    b = scenario.border
    # the hourly arrivals spelled out (BorderParams.arrivals_per_hour), so every field read is seen
    arrivals = tuple(b.daily_border_travellers * b.entry_share * s for s in b.hourly_profile)
    run = run_day(dataclasses.replace(day_from_params(b), arrivals=arrivals), BORDER_DAYS, seed)
    waits = run.waits_table()
    staff = staffing_table(run, b.target_p90_min, max_replications=BORDER_STAFFING_DAYS)
    waits.insert(0, "replicate", np.int32(0))
    staff.insert(0, "replicate", np.int32(0))
    return {"border_waits": waits, "border_staffing": staff}


def run(out: ReplicateOutput, scenario: Scenario, seed: int) -> dict:
    """All pillar-4 tables and key figures of one replicate (and the border day on replicate 0)."""
    return {k: pd.DataFrame(v) if isinstance(v, dict) and k != "kpis" else v
            for k, v in run_columns(out, scenario, seed).items()}


def run_columns(out: ReplicateOutput, scenario: Scenario, seed: int) -> dict:
    """:func:`run` with the pillar-4 tables as NumPy columns ({column: array}; the border's as frames)."""
    si = out.compiled.grid.start_index
    years = (out.compiled.grid.T - si) / 365.25
    fac = _facility_columns(out, scenario)
    month, by_region = _without_residence_columns(out, scenario)
    sums = _sums(out)
    minors = _minor_columns(out, scenario, sums)
    tables = {"p4_departures": _departure_columns(out, sums), "p4_facilities": fac, "p4_minors": minors,
              "p4_without_residence": month, "p4_without_residence_by_region": by_region,
              "p4_reference": _reference_columns(out, scenario)}
    ss = out.stage_stock[si:]
    cost = fac["cost_eur_million"]
    tables["kpis"] = {
        "detention_occupancy_mean": float(ss[:, R.STAGE["detention"]].mean()),
        "detention_cost_per_year": float(np.nansum(cost[fac["facility"] == "detention"]) / years),
        "lvv_occupancy_mean": float(ss[:, R.STAGE["lvv"]].mean()),
        "lvv_cost_per_year": float(np.nansum(cost[fac["facility"] == "lvv"]) / years),
        "minors_aged_out_per_year": float(out.flows[si:, R.FLOW["minors_aged_out"]].sum() / years),
        "without_residence_stock_end": float(month["stock"][-1]),
    }
    if out.replicate == 0:
        tables.update(border_tables(scenario, seed))
    return tables


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def _mean_over_replicates(df: pd.DataFrame, by: list[str], cols: list[str]) -> pd.DataFrame:
    return df.groupby(by, as_index=False)[cols].mean()


def report(res) -> dict[str, list]:
    """P4: departures by outcome and group, detention and LVV occupancy and cost, minors, the stock
    without residence with the national estimates and its regional split. P1: the border day."""
    import plotly.graph_objects as go

    out: dict[str, list] = {"P4": [], "P1": []}
    # departures summed by DuckDB over the stored replicates (440 rows a replicate: not read into pandas)
    has_dep = "p4_departures" in res.source.tables()
    counts = res.source.query("SELECT count(DISTINCT replicate) AS n, count(DISTINCT year) AS years "
                              "FROM p4_departures") if has_dep else None
    if has_dep and int(counts.n.iloc[0]):
        n, yrs = int(counts.n.iloc[0]), int(counts.years.iloc[0])
        tot = res.source.query("SELECT year, outcome, sum(persons) / ? AS persons FROM p4_departures "
                               "GROUP BY year, outcome ORDER BY year, outcome", [n])
        fig = go.Figure()
        for o in OUTCOMES:
            t = tot[tot.outcome == o]
            fig.add_bar(x=t.year, y=t.persons, name=o.replace("_", " "))
        fig.update_layout(title="Departures by outcome per year (still present: at year end; mean of replicates)",
                          barmode="group", template="plotly_white", yaxis_title="persons")
        out["P4"].append(fig)
        grp = res.source.query('SELECT "group", outcome, sum(persons) / ? / ? AS persons FROM p4_departures '
                               'GROUP BY "group", outcome ORDER BY "group", outcome', [n, yrs])
        fig = go.Figure()
        for o in OUTCOMES:
            t = grp[grp.outcome == o]
            fig.add_bar(x=t.group, y=t.persons, name=o.replace("_", " "))
        fig.update_layout(title="Departures by nationality group, mean per year (still present: mean year-end stock)",
                          barmode="stack", template="plotly_white", yaxis_title="persons/year")
        out["P4"].append(fig)
    fac = res.table("p4_facilities")
    if len(fac):
        m = _mean_over_replicates(fac, ["year", "facility"], ["mean_occupancy", "places", "cost_eur_million",
                                                              "entries", "reference_entries_per_year"])
        fig = go.Figure()
        for f in ("detention", "lvv"):
            t = m[m.facility == f]
            fig.add_scatter(x=t.year, y=t.mean_occupancy, name=f"{f}: mean occupancy", mode="lines+markers")
            fig.add_scatter(x=t.year, y=t.places, name=f"{f}: places", mode="lines", line={"dash": "dot"})
        fig.update_layout(title="Detention and LVV: occupancy and places", template="plotly_white",
                          yaxis_title="persons")
        out["P4"].append(fig)
        out["P4"].append("<b>Detention and LVV per year (mean of replicates)</b>"
                         + m.round(1).to_html(index=False, border=0, na_rep="n/a"))
    mn = res.table("p4_minors")
    if len(mn):
        cols = ["arrivals", "share_of_first_applications", "published_share", "granted", "rejected", "foster_family",
                "coa_small_units", "small_units_filled", "waiting_until_18_mean", "aged_out",
                "reference_disappeared_per_year"]
        t = mn.groupby("year", as_index=False)[cols].mean()
        share = lambda v: "n/a" if pd.isna(v) else f"{100 * v:.1f}%"  # noqa: E731
        persons = lambda v: "n/a" if pd.isna(v) else f"{v:,.0f}"  # noqa: E731
        fmt = {c: share if "share" in c else persons for c in cols}
        out["P4"].append("<b>Unaccompanied minors (guardian: " + str(mn.guardian.iloc[0]) + "; mean of replicates; "
                         "n/a: no published share for the year)</b>"
                         + t.to_html(index=False, border=0, formatters=fmt, na_rep="n/a"))
    tables = res.source.tables()
    # quantiles and sums over the replicates in DuckDB: the tables of every replicate are not read
    q = (res.band_quantiles("p4_without_residence", "date", "stock", q=(0.05, 0.5, 0.95))
         if "p4_without_residence" in tables else pd.DataFrame())
    if len(q):
        fig = go.Figure()
        fig.add_scatter(x=q.index, y=q[0.95], line={"width": 0}, showlegend=False)
        fig.add_scatter(x=q.index, y=q[0.05], fill="tonexty", line={"width": 0}, name="5-95%")
        fig.add_scatter(x=q.index, y=q[0.5], name="awaiting departure + LVV (median)")
        ref = res.table("p4_reference")
        for _, r in ref[ref.replicate == ref.replicate.min()].iterrows():
            fig.add_hline(y=r.persons, line={"dash": "dot"}, annotation_text=f"{r.estimate}: {r.persons:,.0f}")
        fig.update_layout(title="People without a right of residence in view of the chain, beside the national "
                                "estimates (which also count overstayers and those never in the chain)",
                          template="plotly_white", yaxis_title="persons")
        out["P4"].append(fig)
        if "p4_without_residence_by_region" in tables:
            t = res.source.query(
                "WITH last AS (SELECT * FROM p4_without_residence_by_region WHERE year = "
                "(SELECT max(year) FROM p4_without_residence_by_region)) "
                "SELECT region, province, sum(persons) / (SELECT count(DISTINCT replicate) FROM last) AS persons, "
                "any_value(year) AS year FROM last GROUP BY region, province ORDER BY region, province")
            if len(t):
                year = int(t.pop("year").iloc[0])
                out["P4"].append(f"<b>Stock without residence by region, end of {year}</b>"
                                 f"<p>Key: {REGION_KEY}.</p>" + t.round(0).to_html(index=False, border=0))
    bw = res.table("border_waits")
    if len(bw):
        from ketenplan.border import figure

        out["P1"].append(figure(bw, "Passport control at Schiphol, default entry day (border section)"))
        st = res.table("border_staffing")
        if len(st):
            bad = bw[bw.p90_wait_min > float(st.target_p90_min.iloc[0])]
            extra = (st.desks_needed - st.desks).clip(lower=0)
            out["P1"].append(
                f"<p>Border (P1.2): with the roster of the scenario the p90 wait exceeds the target of "
                f"{float(st.target_p90_min.iloc[0]):g} min in {len(bad)} of 24 hours"
                + (f" (hours {', '.join(str(h) for h in bad.hour)})" if len(bad) else "")
                + f". Keeping p90 under target needs at most {int(st.desks_needed.max())} desks and "
                f"{int(st.egates_needed.max())} eGates in an hour ({int(extra.sum())} extra desk-hours over "
                f"the day). {BORDER_DAYS} simulated days; <code>ketenplan border</code> gives the full run.</p>")
    return {k: v for k, v in out.items() if v}



#: The registered post-processor's fields: ``ketenplan.post.POST_PROCESSORS["returns"]`` is
#: ``PostProcessor("returns", **SPEC)`` (this module does not import ketenplan.post).
SPEC = dict(description="departures by outcome and nationality group, detention and LVV occupancy and cost, "
                        "unaccompanied minors, the stock without residence by region (P4.1-P4.5); the border's "
                        "default day and staffing (P1.2, first replicate)",
            run=run, replicates="all", kpis=KPIS, report=report, columns=run_columns)
