"""Results: what a replicate is reduced to, and the labelled result tables of a run.

A worker reduces each replicate to what is kept (:func:`reduce_replicate`): key figures (KPIs),
stocks and flows per period (a month by default, or a day) per stage, location and derived
stock, the housing task's half-years, optional per-case journeys and the tables of the
post-processors. The reductions are stored as they arrive (``ensemble.store.PartitionStore``);
:class:`Results` reads them back, and quantiles come from the stored replicates (DuckDB), not
from objects held in memory. Every table has named dimensions (replicate, date, dimension,
category, ...); the object carries the package version, the scenario hash and the seed.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import registry as R
from ketenplan.engine.index import unsigned as _u  # a[_u(i)]: no negative-index fix-up
from ketenplan.engine.run import ReplicateOutput
from ketenplan.scenario.schema import Scenario

STREAM_FIRST, STREAM_SUBSEQUENT, STREAM_RESETTLEMENT = (R.STREAM[n] for n in ("first", "subsequent", "resettlement"))
TRACK_GENERAL, TRACK_SAFE, TRACK_DUBLIN = (R.TRACK[n] for n in ("general", "safe_country", "dublin"))
F = R.FLOW
S = R.STAGE


@dataclass(frozen=True)
class KPI:
    name: str
    pillar: str
    unit: str
    label: str
    description: str
    partners: tuple[str, ...] = ()


#: Key figures: the single mapping KPI -> pillar and chain partner that feeds the report, the
#: partner views, compare and the store.
KPIS: tuple[KPI, ...] = (
    KPI("arrivals_per_year", "P1", "persons/year", "Arrivals", "all arrivals (first, subsequent, nareis, resettlement)",
        ("police_kmar",)),
    KPI("first_applications_per_year", "P1", "persons/year", "First applications", "first asylum applications",
        ("ind",)),
    KPI("nareis_per_year", "P1", "persons/year", "Family reunification (nareis)",
        "family members arriving after a permit holder (follow grants)", ("municipalities",)),
    KPI("waiting_registration_peak", "P3", "persons", "Peak waiting for registration",
        "largest number waiting for identification and registration on a day", ("police_kmar",)),
    KPI("coa_occupancy_peak", "P3", "persons", "Peak COA occupancy", "largest number in COA reception on a day "
        "(emergency places included)", ("coa",)),
    KPI("coa_occupancy_mean", "P3", "persons", "Mean COA occupancy", "persons in COA reception, mean over the days",
        ("coa",)),
    KPI("emergency_occupancy_peak", "P3", "persons", "Peak in emergency places",
        "largest number in emergency places (no regular bed) on a day", ("coa",)),
    KPI("shortage_days", "P3", "days", "Shortage days", "days with anyone in an emergency place (no regular bed)",
        ("coa",)),
    KPI("without_place_peak", "P3", "persons", "Peak without a place",
        "largest number above the emergency limit on a day (reception_policy.emergency_limit; 0 without a limit)",
        ("coa",)),
    KPI("without_place_days", "P3", "days", "Days with people without a place",
        "days with anyone above the emergency limit", ("coa",)),
    KPI("reception_cost_per_year", "P3", "EUR million/year", "Reception cost",
        "occupied places at the regular and the emergency price", ("coa",)),
    KPI("ind_pending_end", "P3", "persons", "IND stock at the end", "first-instance applications without a decision "
        "on the last day", ("ind",)),
    KPI("decision_time_general_weeks", "P3", "weeks", "Decision time, general track",
        "registration to first-instance decision, decisions in the period", ("ind",)),
    KPI("decision_time_safe_weeks", "P3", "weeks", "Decision time, safe-country track",
        "registration to decision, decisions in the period", ("ind",)),
    KPI("decision_time_dublin_weeks", "P3", "weeks", "Decision time, Dublin track",
        "registration to transfer or absconding, outcomes in the period", ("ind",)),
    KPI("statutory_breach_share", "P3", "share", "Decisions after the statutory period",
        "share of first-instance decisions later than the statutory decision period", ("ind",)),
    KPI("moves_per_person", "P3", "moves/person", "Moves per person",
        "moves between reception locations per person, persons who left reception in the period", ("coa",)),
    KPI("moves_per_school_child", "P3", "moves/person", "Moves per school-age child",
        "the same, for children", ("coa",)),
    KPI("departures_independent_per_year", "P4", "persons/year", "Independent departures",
        "recorded independent departures", ("dtv",)),
    KPI("departures_forced_per_year", "P4", "persons/year", "Forced departures", "forced departures", ("dtv",)),
    KPI("departures_unsupervised_per_year", "P4", "persons/year", "Departures without supervision",
        "departures without supervision (Dublin absconding included)", ("dtv",)),
    KPI("without_residence_right_mean", "P4", "persons", "Rejected awaiting departure",
        "rejected persons outside reception or in detention whose departure is not yet recorded, mean over the "
        "days (the derived stock 'without_residence')", ("dtv",)),
    KPI("resettled_per_year", "P5", "persons/year", "Resettled refugees", "resettled refugees (straight to a "
        "municipality)", ("municipalities",)),
    KPI("permits_per_year", "P6", "persons/year", "Asylum permits", "asylum permits (first instance and appeal)",
        ("ind",)),
    KPI("housed_per_year", "P6", "persons/year", "Housed permit holders", "permit holders housed in a municipality "
        "(resettled refugees included)", ("municipalities",)),
    KPI("permit_holders_in_reception_mean", "P6", "persons", "Permit holders waiting in reception",
        "permit holders in reception waiting for a home, mean over the days", ("coa", "municipalities")),
    KPI("housing_wait_weeks", "P6", "weeks", "Wait for a home", "permit to housing, permit holders housed in the "
        "period", ("municipalities",)),
    KPI("housing_backlog_end", "P6", "persons", "Housing backlog at the end",
        "housing task not realised, carried into the next half-year", ("municipalities",)),
    KPI("days_over_application_centre_cap", "P3", "days", "Days over the application-centre cap",
        "days with more persons in central reception than reception.central_capacity", ("coa",)),
)
KPI_BY_NAME = {k.name: k for k in KPIS}
KPI_TABLE = [(k.name, k.pillar, k.unit, k.description) for k in KPIS]  # (name, pillar, unit, description)
KPI_PILLAR = {k.name: k.pillar for k in KPIS}

#: Chain partners (P0.6): the report's views list each partner's key figures
PARTNERS = {"ind": "IND (decisions)", "coa": "COA (reception)", "dtv": "DT&V (return)",
            "police_kmar": "Police and KMar (registration)", "municipalities": "Municipalities (housing)"}


# ----------------------------------------------------------------------------------------------
# what a replicate is reduced to
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Keep:
    """What each replicate keeps: stock and flow resolution ('month' or 'day') and per-case journeys
    ('first' replicate, 'all' or 'none')."""

    resolution: str = "month"
    journeys: str = "first"

    def __post_init__(self) -> None:
        from ketenplan.errors import ScenarioError

        if self.resolution not in ("month", "day"):
            raise ScenarioError(f"resolution must be 'month' or 'day', found {self.resolution!r}")
        if self.journeys not in ("first", "all", "none"):
            raise ScenarioError(f"keep_journeys (--journeys) must be 'first', 'all' or 'none', found {self.journeys!r}")

    def keeps_journeys(self, replicate: int) -> bool:
        return self.journeys == "all" or (self.journeys == "first" and replicate == 0)


def _reported(out: ReplicateOutput) -> tuple[int, pd.DatetimeIndex]:
    g = out.compiled.grid
    return g.start_index, g.dates()[g.start_index:]


def _periods(dates: pd.DatetimeIndex, resolution: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Period index of each reported day and the first day of each period."""
    if resolution == "day":
        return np.arange(len(dates)), dates
    key = dates.year.to_numpy() * 12 + dates.month.to_numpy() - 1
    change = np.r_[True, key[1:] != key[:-1]]
    return np.cumsum(change) - 1, dates[change]


@dataclass(frozen=True)
class _Layout:
    """The periods of a grid's reported days at one resolution (built once per grid and process)."""

    starts: np.ndarray  # the first day of each period (datetime64[ns])
    bounds: np.ndarray  # index of the first reported day of each period, then the number of days
    days: np.ndarray  # days per period (int64)


@functools.lru_cache(maxsize=16)
def _layout(grid, resolution: str) -> _Layout:
    """:func:`_periods` of the grid's reported days as period bounds (what the tables reduce by)."""
    _, dates = _reported_of(grid)
    pidx, starts = _periods(dates, resolution)
    bounds = np.r_[np.flatnonzero(np.r_[True, pidx[1:] != pidx[:-1]]), len(pidx)]
    lay = _Layout(starts.values, bounds, np.diff(bounds))
    for a in (lay.starts, lay.bounds, lay.days):
        a.setflags(write=False)
    return lay


def _reported_of(grid) -> tuple[int, pd.DatetimeIndex]:
    return grid.start_index, grid.dates()[grid.start_index:]


@functools.lru_cache(maxsize=32)
def _labels(grid, resolution: str, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The date and label columns of a table with one row per (period, name), periods first (built
    once per grid, resolution and names; read-only)."""
    lay = _layout(grid, resolution)
    n_p, n_k = len(lay.starts), len(names)
    date = np.repeat(lay.starts, n_k)
    label = np.tile(np.array(names, dtype=object), n_p)
    for a in (date, label):
        a.setflags(write=False)
    return date, label


def split_overflow(overflow: np.ndarray, policy) -> tuple[np.ndarray, np.ndarray]:
    """Persons in emergency places and persons without a place, per day, from the persons without a
    regular bed (the kernel's ``emergency`` location): emergency reception takes the overflow up to
    ``policy.emergency_limit`` (no limit when it is None); the rest stays in the chain without a place.
    The split is a count: who waits for a regular bed does not depend on where they sleep, so the
    kernel's first-come-first-served moves to regular places are the same either way."""
    overflow = np.asarray(overflow)
    limit = getattr(policy, "emergency_limit", None)
    if limit is None:
        return overflow, np.zeros_like(overflow)
    kept = np.minimum(overflow, float(limit)).astype(overflow.dtype, copy=False)  # a huge limit: no cast overflow
    return kept, overflow - kept


#: the stocks a run keeps, per dimension (the order of :func:`stock_series`): stages except
#: 'not_arrived', locations, derived stocks and 'without_place' (above the emergency limit: in COA
#: occupancy, without a place)
STOCK_LABELS: dict[str, tuple[str, ...]] = {
    "stage": tuple(n for k, n in enumerate(R.STAGE_NAMES) if k != S["not_arrived"]),
    "location": tuple(R.LOC_NAMES),
    "derived": tuple(R.DERIVED_STOCKS) + ("without_place",),
}
#: the value columns of the stocks table
STOCK_COLUMNS = ("persons", "persons_mean", "persons_max")


def stock_series(out: ReplicateOutput) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Every stock of the run per reported day: (dimension, category) labels (:data:`STOCK_LABELS`)
    and a [days, k] array."""
    si, _ = _reported(out)
    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    emergency, without = split_overflow(ls[:, R.LOC["emergency"]], out.compiled.policy)
    column = {"stage": lambda n: ss[:, S[n]],
              "location": lambda n: emergency if n == "emergency" else ls[:, R.LOC[n]],
              "derived": lambda n: without if n == "without_place" else R.derived_stock(n, ss, ls)}
    labels = [(d, n) for d, names in STOCK_LABELS.items() for n in names]
    return labels, np.column_stack([column[d](n) for d, n in labels]).astype(np.int64)


def _nearest(name: str, allowed) -> str:
    import difflib

    close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_stock(dimension: str, category: str, column: str = "persons") -> None:
    """Raise DataError unless (dimension, category) is a stock a run keeps and ``column`` one of its
    value columns, naming the argument, what was found and what is allowed."""
    from ketenplan.errors import DataError

    if dimension not in STOCK_LABELS:
        raise DataError(f"dimension: expected one of {', '.join(STOCK_LABELS)}, found {dimension!r}"
                        + _nearest(dimension, STOCK_LABELS))
    names = STOCK_LABELS[dimension]
    if category not in names:
        raise DataError(f"category: no {dimension} stock {category!r}" + _nearest(category, names)
                        + f"; the {dimension} stocks: {', '.join(names)}")
    if column not in STOCK_COLUMNS:
        raise DataError(f"column: expected one of {', '.join(STOCK_COLUMNS)}, found {column!r}"
                        + _nearest(column, STOCK_COLUMNS))


def tidy_stocks(out: ReplicateOutput, resolution: str = "month") -> pd.DataFrame:
    """replicate, date (first day of the period), dimension, category, persons (on the period's last
    day), persons_mean, persons_max (over the period's days)."""
    return pd.DataFrame(stock_columns(out, resolution))


_STOCK_SOURCES = ("stage", "location", "split")  # terms of a kept stock: a stage, a location, the overflow split


@functools.lru_cache(maxsize=1)
def _stock_terms() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stock of :data:`STOCK_LABELS` as a sum of terms (source, column): the source's
    :data:`_STOCK_SOURCES` index and column, and the first term of each stock (then the number of
    terms). 'split': column 0 the persons in emergency places, 1 those without a place
    (:func:`split_overflow`). The terms of a derived stock are those of :func:`registry.derived_stock`."""
    src: list[int] = []
    col: list[int] = []
    ptr = [0]
    for d, names in STOCK_LABELS.items():
        for n in names:
            if d == "stage":
                terms = [(0, S[n])]
            elif d == "location":
                terms = [(2, 0)] if n == "emergency" else [(1, R.LOC[n])]
            elif n == "without_place":
                terms = [(2, 1)]
            else:
                _, groups, kinds = R.DERIVED_STOCKS[n]
                terms = ([(0, i) for i in sorted({i for g in groups for i in R.stages_in(g)})]
                         + [(1, i) for i in sorted({i for k in kinds for i in R.locations_of(k)})])
            for a, b in terms:
                src.append(a)
                col.append(b)
            ptr.append(len(src))
    out = (np.array(src, np.int64), np.array(col, np.int64), np.array(ptr, np.int64))
    for a in out:
        a.setflags(write=False)
    return out


@njit(cache=True, nogil=True)
def _stock_periods(ss, ls, split, src, col, ptr, bounds, by_day):
    """The stocks of :func:`stock_series` per period from the reported days' stage and location
    stocks (and the overflow split): on the period's last day, the mean and the maximum over its
    days; the mean as :func:`tidy_stocks` takes it (differences of the running float64 sums over
    the reported days, divided by the days; by day: the day's value)."""
    n_p = bounds.size - 1
    n_k = ptr.size - 1
    end = np.empty((n_p, n_k), np.int64)
    mean = np.empty((n_p, n_k))
    mx = np.empty((n_p, n_k), np.int64)
    run = np.zeros(n_k)
    first = np.zeros(n_k)
    top = np.zeros(n_k, np.int64)
    for p in range(n_p):
        for k in range(n_k):
            first[_u(k)] = run[_u(k)]
        for t in range(bounds[_u(p)], bounds[_u(p + 1)]):
            for k in range(n_k):
                v = np.int64(0)
                for q in range(ptr[_u(k)], ptr[_u(k + 1)]):
                    s = src[_u(q)]
                    if s == 0:
                        v += np.int64(ss[_u(t), _u(col[_u(q)])])
                    elif s == 1:
                        v += np.int64(ls[_u(t), _u(col[_u(q)])])
                    else:
                        v += np.int64(split[_u(t), _u(col[_u(q)])])
                run[_u(k)] += float(v)
                if t == bounds[_u(p)] or v > top[_u(k)]:
                    top[_u(k)] = v
                if t == bounds[_u(p + 1)] - 1:
                    end[_u(p), _u(k)] = v
        for k in range(n_k):
            mx[_u(p), _u(k)] = top[_u(k)]
            if by_day:
                mean[_u(p), _u(k)] = float(end[_u(p), _u(k)])
            else:
                mean[_u(p), _u(k)] = (run[_u(k)] - first[_u(k)]) / (bounds[_u(p + 1)] - bounds[_u(p)])
    return end, mean, mx


def stock_columns(out: ReplicateOutput, resolution: str = "month") -> dict[str, np.ndarray]:
    """The columns of :func:`tidy_stocks` (NumPy arrays; the date and label columns read-only)."""
    g = out.compiled.grid
    si = g.start_index
    lay = _layout(g, resolution)
    ls = out.loc_stock[si:]
    emergency, without = split_overflow(ls[:, R.LOC["emergency"]], out.compiled.policy)
    split = np.empty((len(emergency), 2), np.int64)
    split[:, 0] = emergency
    split[:, 1] = without
    src, col, ptr = _stock_terms()
    end, mean, mx = _stock_periods(out.stage_stock[si:], ls, split, src, col, ptr, lay.bounds, resolution == "day")
    date, dims = _labels(g, resolution, tuple(d for d, names in STOCK_LABELS.items() for _ in names))
    _, cats = _labels(g, resolution, tuple(n for names in STOCK_LABELS.values() for n in names))
    return {"replicate": np.full(len(date), out.replicate, np.int32), "date": date, "dimension": dims,
            "category": cats, "persons": end.reshape(-1), "persons_mean": mean.reshape(-1),
            "persons_max": mx.reshape(-1)}


def tidy_flows(out: ReplicateOutput, resolution: str = "month") -> pd.DataFrame:
    """replicate, date (first day of the period), flow, persons (summed over the period)."""
    return pd.DataFrame(flow_columns(out, resolution))


def flow_columns(out: ReplicateOutput, resolution: str = "month") -> dict[str, np.ndarray]:
    """The columns of :func:`tidy_flows` (NumPy arrays; the date and label columns read-only)."""
    g = out.compiled.grid
    arr = out.flows[g.start_index:]
    if resolution != "day":
        arr = np.add.reduceat(arr, _layout(g, resolution).bounds[:-1], axis=0)
    date, flow = _labels(g, resolution, tuple(R.FLOWS))
    return {"replicate": np.full(len(date), out.replicate, np.int32), "date": date, "flow": flow,
            "persons": arr.reshape(-1).astype(np.int64)}


def tidy_capacity(out: ReplicateOutput, resolution: str = "month") -> pd.DataFrame:
    """replicate, date (first day of the period), resource, value: the capacities the run used (after
    hooks and policies), mean over the period: reception places [persons] and desks [persons/day]."""
    return pd.DataFrame(capacity_columns(out, resolution))


_RESOURCES = ("reception_regular", "reception_small_scale") + tuple(f"desk_{name}" for name in R.DESK_NAMES)


def capacity_columns(out: ReplicateOutput, resolution: str = "month") -> dict[str, np.ndarray]:
    """The columns of :func:`tidy_capacity` (NumPy arrays; the date and label columns read-only)."""
    g = out.compiled.grid
    si = g.start_index
    d = out.day_inputs
    arr = np.column_stack([d["cap_regular"][si:], d["cap_small"][si:]]
                          + [d["desk_cap"][k, si:] for k in range(len(R.DESK_NAMES))]).astype(np.float64)
    if resolution != "day":
        lay = _layout(g, resolution)
        arr = np.add.reduceat(arr, lay.bounds[:-1], axis=0) / lay.days[:, None]
    date, resource = _labels(g, resolution, _RESOURCES)
    return {"replicate": np.full(len(date), out.replicate, np.int32), "date": date, "resource": resource,
            "value": arr.reshape(-1)}


def tidy_housing(out: ReplicateOutput) -> pd.DataFrame:
    df = out.housing.copy()
    df.insert(0, "replicate", np.int32(out.replicate))
    start = out.compiled.grid.start
    first = f"{start.year}-H{1 if start.month <= 6 else 2}"
    return df[df.period >= first].reset_index(drop=True)


def journeys(out: ReplicateOutput) -> pd.DataFrame:
    """One row per case that arrived within the horizon (warm-up arrivals included, flagged)."""
    c = out.compiled
    r = out.case
    T = c.grid.T
    arrived = (r["arrival_day"] >= 0) & (r["arrival_day"] < T)
    idx = np.flatnonzero(arrived)
    day0 = np.datetime64(c.grid.day0, "D")

    def as_date(a):
        a = a[idx]
        return np.where(a >= 0, day0 + a.astype("timedelta64[D]"), np.datetime64("NaT"))

    size = c.case["size"][idx]
    kids = c.case["children"][idx]
    return pd.DataFrame({
        "replicate": np.int32(out.replicate), "case_id": idx.astype(np.int64),
        "case_key": c.case["case_key"][idx].astype(np.uint64) if "case_key" in c.case else idx.astype(np.uint64),
        "persons": size.astype(np.int16), "adults": (size - kids).astype(np.int16), "children": kids.astype(np.int16),
        "group": pd.Categorical.from_codes(c.case["group"][idx], categories=list(c.group_names)),
        "stream": pd.Categorical.from_codes(c.case["stream"][idx], categories=list(R.STREAM_NAMES)),
        "track": pd.Categorical.from_codes(c.case["track"][idx], categories=list(R.TRACKS)),
        "routed_small_scale": c.case["routed"][idx],
        "arrival_date": as_date(r["arrival_day"]), "registration_date": as_date(r["reg_day"]),
        "decision_date": as_date(r["decision_day"]),
        "outcome": pd.Categorical.from_codes(r["outcome"][idx], categories=list(R.OUTCOMES)),
        "housed_date": as_date(r["housed_day"]), "exit_date": as_date(r["exit_day"]),
        "exit_reason": pd.Categorical.from_codes(r["exit_reason"][idx], categories=list(R.EXITS)),
        "moves": r["moves"][idx].astype(np.int16), "reception_days": r["reception_days"][idx].astype(np.int32),
        "statutory_breach": r["breach"][idx].astype(bool),
        "warmup": r["arrival_day"][idx] < c.grid.start_index,
    })


# sums of _case_kpi_sums (whole numbers: persons, person-days, moves)
(K_FIRST, K_RESETTLED, K_GENERAL_DAYS, K_GENERAL, K_SAFE_DAYS, K_SAFE, K_DUBLIN_DAYS, K_DUBLIN, K_BREACH, K_DECIDED,
 K_MOVES, K_LEFT, K_MOVES_KIDS, K_LEFT_KIDS, K_HOUSING_DAYS, K_HOUSED, N_K) = range(17)


@njit(cache=True, nogil=True)
def _case_kpi_sums(arrival, reg, dec, housed, exit_day, reception_days, breach, moves, size, children, stream, track,
                   si, T):
    """The per-case sums of :func:`replicate_kpis` in one pass over the cases (int64, exact): persons
    of first applications and resettled arriving in the period; decisions from the start on (asylum
    streams for the general track and the statutory breach, all streams for the safe-country and
    Dublin tracks) as persons and person-days from registration to decision; moves of those who
    left the chain from the start on after a stay in reception (per person and per child); and
    person-days from the decision to housing of the housed (not resettled). Every condition is a
    0/1 factor of the sums (no branch per case: whole numbers, so the sums are the same)."""
    first = resettled = general_days = general = safe_days = safe = dublin_days = dublin = np.int64(0)
    breached = decided = moved = left = moved_kids = left_kids = housing_days = housed_n = np.int64(0)
    for i in range(arrival.size):
        w = np.int64(size[_u(i)])
        st = stream[_u(i)]
        a = arrival[_u(i)]
        arrived = np.int64((si <= a) & (a < T)) * w
        first += arrived * np.int64(st == STREAM_FIRST)
        resettled += arrived * np.int64(st == STREAM_RESETTLEMENT)
        d = dec[_u(i)]
        r = reg[_u(i)]
        on = np.int64((d >= si) & (r >= 0))  # decided from the start on
        days = (d - r) * w
        tr = track[_u(i)]
        asylum = on * np.int64((st == STREAM_FIRST) | (st == STREAM_SUBSEQUENT))
        breached += np.int64(breach[_u(i)]) * w * asylum
        decided += w * asylum
        gen = asylum * np.int64(tr == TRACK_GENERAL)
        general_days += days * gen
        general += w * gen
        sf = on * np.int64(tr == TRACK_SAFE)
        safe_days += days * sf
        safe += w * sf
        db = on * np.int64(tr == TRACK_DUBLIN)
        dublin_days += days * db
        dublin += w * db
        gone = np.int64((exit_day[_u(i)] >= si) & (reception_days[_u(i)] > 0))
        mv = np.int64(moves[_u(i)])
        ch = np.int64(children[_u(i)])
        moved += mv * w * gone
        left += w * gone
        moved_kids += mv * ch * gone
        left_kids += ch * gone
        h = housed[_u(i)]
        hs = np.int64((h >= si) & (d >= 0) & (st != STREAM_RESETTLEMENT))
        housing_days += (h - d) * w * hs
        housed_n += w * hs
    k = np.empty(N_K, np.int64)
    k[K_FIRST], k[K_RESETTLED] = first, resettled
    k[K_GENERAL_DAYS], k[K_GENERAL], k[K_SAFE_DAYS], k[K_SAFE] = general_days, general, safe_days, safe
    k[K_DUBLIN_DAYS], k[K_DUBLIN], k[K_BREACH], k[K_DECIDED] = dublin_days, dublin, breached, decided
    k[K_MOVES], k[K_LEFT], k[K_MOVES_KIDS], k[K_LEFT_KIDS] = moved, left, moved_kids, left_kids
    k[K_HOUSING_DAYS], k[K_HOUSED] = housing_days, housed_n
    return k


def replicate_kpis(out: ReplicateOutput, scenario: Scenario, names=None) -> dict[str, float]:
    """Key figures of one replicate over the reported period (start .. end), from its daily arrays
    (``names``: only these, computed alone)."""
    c = out.compiled
    si = c.grid.start_index
    years = (c.grid.T - si) / 365.25
    fl = out.flows[si:]
    ss = out.stage_stock[si:]
    ls = out.loc_stock[si:]
    r = out.case
    cs = c.case
    coa = R.derived_stock("coa_occupancy", ss, ls)

    def per_year(name: str) -> float:
        return float(fl[:, F[name]].sum() / years)

    k_: list[np.ndarray] = []

    def ks() -> np.ndarray:  # the per-case sums, computed once when a figure needs them
        if not k_:
            k_.append(_case_kpi_sums(r["arrival_day"], r["reg_day"], r["decision_day"], r["housed_day"],
                                     r["exit_day"], r["reception_days"], r["breach"], r["moves"], cs["size"],
                                     cs["children"], cs["stream"], cs["track"], si, c.grid.T))
        return k_[0]

    def mean_weeks(days: int, persons: int) -> float:
        """Mean weeks per person from person-days (the weighted mean of (a - b) / 7 by case size)."""
        k = ks()
        return float(k[days] / 7.0 / k[persons]) if k[persons] > 0 else float("nan")

    def ratio(num: float, den: float) -> float:  # n/a (NaN) when nobody is counted
        return float(num / den) if den > 0 else float("nan")

    def kratio(num: int, den: int) -> float:
        k = ks()
        return ratio(float(k[num]), float(k[den]))

    overflow = ls[:, R.LOC["emergency"]]  # everyone without a regular bed
    emergency, without = split_overflow(overflow, scenario.reception_policy)
    cost = (coa - overflow) * scenario.reception.cost_regular + emergency * scenario.reception.cost_emergency
    h = out.housing
    last = h.iloc[-1] if len(h) else None
    values = {
        "arrivals_per_year": lambda: per_year("arrivals"),
        "first_applications_per_year": lambda: float(ks()[K_FIRST] / years),
        "nareis_per_year": lambda: per_year("nareis_arrivals"),
        "waiting_registration_peak": lambda: float(ss[:, S["waiting_registration"]].max()),
        "coa_occupancy_peak": lambda: float(coa.max()),
        "coa_occupancy_mean": lambda: float(coa.mean()),
        "emergency_occupancy_peak": lambda: float(emergency.max()),
        "shortage_days": lambda: float((overflow > 0).sum()),
        "without_place_peak": lambda: float(without.max()),
        "without_place_days": lambda: float((without > 0).sum()),
        "reception_cost_per_year": lambda: float(cost.sum() / years / 1e6),
        "ind_pending_end": lambda: float(R.derived_stock("ind_pending", ss[-1:], ls[-1:])[0]),
        "decision_time_general_weeks": lambda: mean_weeks(K_GENERAL_DAYS, K_GENERAL),
        "decision_time_safe_weeks": lambda: mean_weeks(K_SAFE_DAYS, K_SAFE),
        "decision_time_dublin_weeks": lambda: mean_weeks(K_DUBLIN_DAYS, K_DUBLIN),
        "statutory_breach_share": lambda: kratio(K_BREACH, K_DECIDED),
        "moves_per_person": lambda: kratio(K_MOVES, K_LEFT),
        "moves_per_school_child": lambda: kratio(K_MOVES_KIDS, K_LEFT_KIDS),
        "departures_independent_per_year": lambda: per_year("departures_independent"),
        "departures_forced_per_year": lambda: per_year("departures_forced"),
        "departures_unsupervised_per_year": lambda: per_year("departures_unsupervised"),
        "without_residence_right_mean": lambda: float(R.derived_stock("without_residence", ss, ls).mean()),
        "resettled_per_year": lambda: float(ks()[K_RESETTLED] / years),
        "permits_per_year": lambda: per_year("grants"),
        "housed_per_year": lambda: per_year("housed"),
        "permit_holders_in_reception_mean": lambda: float(R.derived_stock("permit_holders_in_reception", ss,
                                                                          ls).mean()),
        "housing_wait_weeks": lambda: mean_weeks(K_HOUSING_DAYS, K_HOUSED),
        "housing_backlog_end": lambda: float(max(last.task + last.backlog_in - last.realised, 0.0)) if last is not None
        else float("nan"),
        "days_over_application_centre_cap": lambda: float(
            (ls[:, R.LOC["central"]] > scenario.reception.central_capacity).sum()),
    }
    return {k: f() for k, f in values.items() if names is None or k in names}


def kpi_frame(replicate: int, values: dict[str, float], declared: dict | None = None) -> pd.DataFrame:
    """The key figures of one replicate as rows: replicate, pillar, kpi, unit, value. Every figure
    must be declared: in :data:`KPIS`, or in ``declared`` (a post-processor's)."""
    rows = []
    for name, v in values.items():
        k = KPI_BY_NAME.get(name) or (declared or {}).get(name)
        if k is None:
            raise KeyError(f"key figure {name!r} is not declared (engine.results.KPIS or its post-processor's kpis)")
        rows.append((np.int32(replicate), k.pillar, name, k.unit, float(v)))
    return pd.DataFrame(rows, columns=["replicate", "pillar", "kpi", "unit", "value"])


def kpi_columns(replicate: int, figures: list[tuple[dict[str, float], dict | None]]) -> dict[str, np.ndarray]:
    """The columns of :func:`kpi_frame` of several sets of key figures, one after the other
    (``[(values, declared), ...]``): the rows of ``pd.concat`` of their frames (none empty)."""
    pillar: list[str] = []
    kpi: list[str] = []
    unit: list[str] = []
    value: list[float] = []
    for values, declared in figures:
        for name, v in values.items():
            k = KPI_BY_NAME.get(name) or (declared or {}).get(name)
            if k is None:
                raise KeyError(f"key figure {name!r} is not declared (engine.results.KPIS or its post-processor's "
                               "kpis)")
            pillar.append(k.pillar)
            kpi.append(name)
            unit.append(k.unit)
            value.append(float(v))
    n = len(kpi)
    return {"replicate": np.full(n, replicate, np.int32), "pillar": _objects(pillar), "kpi": _objects(kpi),
            "unit": _objects(unit), "value": np.array(value, np.float64)}


def _objects(values: list) -> np.ndarray:
    a = np.empty(len(values), dtype=object)
    a[:] = values
    return a


def housing_columns(out: ReplicateOutput) -> dict[str, np.ndarray] | pd.DataFrame:
    """The columns of :func:`tidy_housing` (NumPy arrays), or its frame where a column of the housing
    table is not a NumPy type."""
    h = out.housing
    if "replicate" in h.columns or not h.columns.is_unique or not all(isinstance(c, str) for c in h.columns) \
            or not all(isinstance(t, np.dtype) for t in h.dtypes):
        return tidy_housing(out)
    start = out.compiled.grid.start
    first = f"{start.year}-H{1 if start.month <= 6 else 2}"
    keep = (h["period"] >= first).to_numpy()
    cols = {"replicate": np.full(int(keep.sum()), out.replicate, np.int32)}
    for c in h.columns:
        cols[c] = h[c].to_numpy()[keep]
    return cols


def reduce_replicate(out: ReplicateOutput, scenario: Scenario, keep: Keep = Keep()) -> dict[str, pd.DataFrame]:
    """What is kept of one replicate: kpis, stocks, flows, housing and (as asked) journeys."""
    return {name: pd.DataFrame(t) if isinstance(t, dict) else t
            for name, t in reduce_columns(out, scenario, keep).items()}


def reduce_columns(out: ReplicateOutput, scenario: Scenario, keep: Keep = Keep()) -> dict[str, dict | pd.DataFrame]:
    """:func:`reduce_replicate` with its tables as columns (``{column: NumPy array}``, the date and
    label columns read-only; the journeys, and housing with a column of another type, as frames)."""
    tables = {
        "kpis": kpi_columns(out.replicate, [(replicate_kpis(out, scenario), None)]),
        "stocks": stock_columns(out, keep.resolution),
        "flows": flow_columns(out, keep.resolution),
        "housing": housing_columns(out),
        "capacity": capacity_columns(out, keep.resolution),
    }
    if keep.keeps_journeys(out.replicate):
        tables["journeys"] = journeys(out)
    return tables


# ----------------------------------------------------------------------------------------------
# the labelled results of a run
# ----------------------------------------------------------------------------------------------
TABLES = ("kpis", "stocks", "flows", "housing", "capacity", "journeys")


@dataclass
class Results:
    """The labelled result tables of one scenario run (all replicates) with metadata.

    Tables are read from the run's stored replicates (``source``, a PartitionStore) when first
    used; ``quantiles`` and ``kpi_summary`` are computed by DuckDB over the stored replicates.
    ``extras`` holds tables of post-processors that are not per replicate.
    """

    scenario: Scenario
    metadata: dict
    source: "object"  # ensemble.store.PartitionStore
    extras: dict = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.metadata["seed"])

    @property
    def replicates(self) -> int:
        return int(self.metadata["replicates"])

    def table(self, name: str) -> pd.DataFrame:
        """A stored table (all replicates), or an empty frame when nothing of that name was kept."""
        return self.source.read(name)

    @cached_property
    def kpis(self) -> pd.DataFrame:
        return self.table("kpis")

    @cached_property
    def stocks(self) -> pd.DataFrame:
        # the labels read as Parquet dictionaries: what astype("category") gives, without a string per row
        return self.source.read("stocks", categorical=("dimension", "category"))

    @cached_property
    def flows(self) -> pd.DataFrame:
        return self.source.read("flows", categorical=("flow",))

    @cached_property
    def housing(self) -> pd.DataFrame:
        return self.table("housing")

    @cached_property
    def journeys(self) -> pd.DataFrame:
        df = self.table("journeys")
        for c, cats in (("group", list(self.scenario_group_names())), ("stream", list(R.STREAM_NAMES)),
                        ("track", list(R.TRACKS)), ("outcome", list(R.OUTCOMES)), ("exit_reason", list(R.EXITS))):
            if c in df:
                df[c] = pd.Categorical(df[c], categories=cats)
        return df

    def scenario_group_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.scenario.groups)

    def kpi_summary(self) -> pd.DataFrame:
        """KPIs across replicates: mean, p10, p50, p90 (declaration order)."""
        df = self.source.query(
            "SELECT pillar, kpi, unit, avg(value) AS mean, quantile_cont(value, 0.1) AS p10, "
            "quantile_cont(value, 0.5) AS p50, quantile_cont(value, 0.9) AS p90 FROM kpis "
            "WHERE NOT isnan(value) GROUP BY pillar, kpi, unit")
        order = {k.name: i for i, k in enumerate(KPIS)}
        names = pd.DataFrame({"kpi": list(dict.fromkeys(self.kpis.kpi))})
        out = names.merge(self.kpis[["pillar", "kpi", "unit"]].drop_duplicates("kpi"), on="kpi").merge(
            df.drop(columns=["pillar", "unit"]), on="kpi", how="left")
        out["_o"] = out.kpi.map(lambda k: order.get(k, len(order)))
        return out.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)

    def quantiles(self, dimension: str, category: str, column: str = "persons",
                  q: tuple[float, ...] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
        """Quantiles over replicates of one stock per date (rows: dates; columns: the quantiles).
        Raises DataError for a stock or column that a run does not keep (:data:`STOCK_LABELS`)."""
        check_stock(dimension, category, column)
        q = _check_levels(q)
        cols = ", ".join(f"quantile_cont({column}, {x}) AS q{i}" for i, x in enumerate(q))
        df = self.source.query(f"SELECT date, {cols} FROM stocks WHERE dimension = ? AND category = ? "
                               "GROUP BY date ORDER BY date", [dimension, category])
        df = df.set_index("date")
        df.columns = list(q)
        return df

    def band_quantiles(self, table: str, x: str, y: str, by: str | None = None, where: str | None = None,
                       q: tuple[float, ...] = (0.1, 0.5, 0.9), value: str | None = None) -> pd.DataFrame:
        """Quantiles over the stored replicates of ``y`` per ``x`` (and per ``by``) of any stored
        table, computed by DuckDB over the partitions: the same numbers as
        ``df.groupby([by,] x)[y].quantile(q).unstack()`` of the whole table read into pandas (linear
        interpolation, missing values and NaN left out), without reading it. ``where``: an SQL
        condition on the table's columns (e.g. ``"flow = 'resettled'"``). ``value``: an SQL
        expression over the table's columns whose quantiles are taken instead of column ``y`` (then
        ``y`` only names it; e.g. ``"CASE WHEN obliged > 0 THEN passed / obliged END"``, a share left
        out where it is undefined). Rows: ``x`` (a MultiIndex ``(by, x)`` with ``by``), sorted;
        columns: the quantiles. Raises DataError naming the argument for a table that was not
        stored, a column it does not have, or a bad condition or expression."""
        from ketenplan.errors import DataError

        stored = self.source.tables()
        if table not in stored:
            raise DataError(f"table: no stored table {table!r}" + _nearest(table, stored)
                            + f"; stored: {', '.join(stored) or 'none'}")
        have = list(self.source.query(f'SELECT * FROM "{table}" LIMIT 0').columns)
        for arg, name in (("x", x), ("y", None if value else y), ("by", by)):
            if name is not None and name not in have:
                raise DataError(f"{arg}: table {table!r} has no column {name!r}" + _nearest(name, have)
                                + f"; its columns: {', '.join(have)}")
        q = _check_levels(q)
        keys = ([by] if by else []) + [x]
        cols = ", ".join(f'"{k}"' for k in keys)
        e = f'({value})::DOUBLE' if value else f'"{y}"::DOUBLE'
        v = f"CASE WHEN isnan({e}) THEN NULL ELSE {e} END"
        qs = ", ".join(f"quantile_cont({v}, {float(p)}) AS q{i}" for i, p in enumerate(q))
        sql = f'SELECT {cols}, {qs} FROM "{table}"' + (f" WHERE {where}" if where else "") + \
            f" GROUP BY {cols} ORDER BY {cols}"
        if where or value:
            try:
                df = self.source.query(sql)
            except DataError as exc:
                arg, what = ("where", f"the condition {where!r}") if where else ("value", f"the expression {value!r}")
                if where and value:
                    arg, what = "where/value", f"the condition {where!r} or the expression {value!r}"
                raise DataError(f"{arg}: {what} cannot be applied to table {table!r} (columns: "
                                f"{', '.join(have)}): {exc}") from None
        else:
            df = self.source.query(sql)
        df = df.set_index(keys if by else x)
        df.columns = list(q)
        return df

    def stock(self, dimension: str, category: str, column: str = "persons") -> pd.DataFrame:
        """One stock as a wide frame: rows = dates, columns = replicates. Raises DataError for a stock
        or column that a run does not keep (:data:`STOCK_LABELS`)."""
        check_stock(dimension, category, column)
        df = self.source.query(f"SELECT replicate, date, {column} AS v FROM stocks WHERE dimension = ? AND "
                               "category = ? ORDER BY date, replicate", [dimension, category])
        return df.pivot(index="date", columns="replicate", values="v")

    def to_parquet(self, folder: str | Path) -> list[Path]:
        """Write every table as one Parquet file (streamed by DuckDB from the stored replicates)
        and the metadata as JSON."""
        import json

        from ketenplan._io import write_text

        folder = Path(folder)
        paths = [self.source.export(name, folder / f"{name}.parquet") for name in self.source.tables()]
        for name, value in self.extras.items():
            if isinstance(value, pd.DataFrame):
                from ketenplan._io import write_parquet

                paths.append(write_parquet(folder / f"{name}.parquet", value))
        paths.append(write_text(folder / "metadata.json", json.dumps(self.metadata, indent=2, default=str)))
        return [p for p in paths if p is not None]


def _check_levels(q) -> tuple[float, ...]:
    """Quantile levels as floats in [0, 1] (DataError naming ``q`` otherwise)."""
    from ketenplan.errors import DataError

    try:
        levels = tuple(float(x) for x in q)
    except (TypeError, ValueError):
        raise DataError(f"q: expected quantile levels between 0 and 1, e.g. (0.1, 0.5, 0.9), found {q!r}") from None
    if not levels or any(not 0.0 <= x <= 1.0 for x in levels):
        raise DataError(f"q: expected quantile levels between 0 and 1, e.g. (0.1, 0.5, 0.9), found {q!r}")
    return levels


def metadata(scenario: Scenario, seed: int, replicates: int, backend: str, extra: dict | None = None) -> dict:
    from ketenplan import __version__

    meta = {
        "package": "ketenplan", "version": __version__, "scenario": scenario.name,
        "scenario_hash": scenario.digest(), "seed": int(seed), "replicates": int(replicates), "backend": backend,
        "start": str(scenario.simulation.start), "end": str(scenario.simulation.end),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    meta.update(extra or {})
    return meta
