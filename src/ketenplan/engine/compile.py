"""Compile a scenario into the kernel's named inputs, drawing every random quantity up front.

Draws are keyed (``engine.rng``): each is a function of the replicate's key, the purpose of the
draw and the case's identity, never of the order in which cases are drawn. The same scenario and
seed give the same arrays on every backend, and a change of one stream's volume adds or removes
cases of that stream while every other case keeps its household, arrival day, nationality group,
decisions and durations (common random numbers across scenarios).

What depends on when a case reaches a point of the chain (the grant rate of the decision month,
return by group under a cooperation lever that starts at a date) is not drawn here: the case
gets its own uniform, and the kernel compares it with the month's probability (late branches,
``late_cum`` by month and row; a row is a nationality group, the last row unaccompanied minors).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R
from ketenplan.engine.index import unsigned as _u  # a[_u(i)]: no negative-index fix-up
# numba compiles engine.rng's draws into this file's own disk cache, which it keys on this file only:
# when the draws change, this file must change too (last: rng.key_schedule, the scheduled round keys)
from ketenplan.engine import rng as G
from ketenplan.scenario.schema import DAYS_PER_MONTH, Duration, MonthValue, Scenario, Step

STREAM_FIRST, STREAM_SUBSEQUENT, STREAM_NAREIS, STREAM_RESETTLEMENT = (R.STREAM[n] for n in (
    "first", "subsequent", "nareis", "resettlement"))
REGULAR_STREAMS = R.REGULAR_STREAMS
TRACK_GENERAL, TRACK_SAFE, TRACK_DUBLIN, TRACK_NONE, TRACK_SAFE_THIRD, TRACK_REGULAR = (R.TRACK[n] for n in (
    "general", "safe_country", "dublin", "none", "safe_third_country", "regular"))
# inflow parts (the first component of a case's identity): one per stream, the circular-migration
# places, and the extra arrivals of shock k with its own group mix (SHOCK_PART0 + k)
PART_OF_STREAM = {STREAM_FIRST: 0, STREAM_SUBSEQUENT: 1, STREAM_RESETTLEMENT: 2, STREAM_NAREIS: 3,
                  **{R.STREAM[n]: 4 + k for k, n in enumerate(REGULAR_STREAMS)}}
PART_CIRCULAR = 9
SHOCK_PART0 = 16
# the keyed draws' purposes (engine.rng.PURPOSES)
(P_MONTH_COUNT, P_HOUSEHOLD, P_DECISION, P_RETURN, P_DUB_OUTCOME, P_COL, P_DUB_DURATION, P_RVT, P_AA, P_SAFE, P_VA,
 P_APPEAL_DURATION, P_RESTRICTED_STAY, P_DEPARTURE, P_DETENTION, P_LEAD, P_NAREIS_COUNT, P_NAREIS_LAG) = (
    G.P[n] for n in ("month_count", "household", "decision", "return", "dublin_outcome", "col", "dublin", "rvt", "aa",
                     "safe_track", "va", "appeal", "restricted_stay", "departure", "detention", "lead",
                     "nareis_count", "nareis_lag"))
P_MORE, P_SAFE_THIRD, P_LVV, P_REGULAR, P_MINOR, P_PATIENCE, P_LVV_PATIENCE = (G.P[n] for n in (
    "more", "safe_third", "lvv", "regular", "minor", "patience", "lvv_patience"))
#: stays drawn by the kernel when entered: (slot, row of the duration table, purpose of the draw)
LAZY_SLOTS = (("col", 0, G.P["col"]), ("dublin", 1, G.P["dublin"]), ("extended", 5, G.P["va"]),
              ("appeal", 6, G.P["appeal"]), ("restricted", 7, G.P["restricted_stay"]),
              ("departure", 8, G.P["departure"]), ("detention", 9, G.P["detention"]), ("lead", 10, G.P["lead"]),
              ("safe_third", 12, G.P["safe_third_stay"]), ("lvv_stay", 13, G.P["lvv"]))
STREAM_LABOUR0 = R.STREAM["labour"]
assert [R.STREAM[n] for n in REGULAR_STREAMS] == list(range(STREAM_LABOUR0, STREAM_LABOUR0 + 4))
# the registry's per-case slots
D_ = R.DURATION
B_ = R.BRANCH
(DUR_COL, DUR_DUBLIN, DUR_SAFE_THIRD, DUR_PROCEDURE, DUR_EXTENDED, DUR_APPEAL, DUR_LEAD, DUR_TERM, DUR_RESTRICTED,
 DUR_BIRTHDAY, DUR_LVV, DUR_DETENTION, DUR_DEPARTURE, DUR_REGULAR, DUR_LVV_PATIENCE, DUR_DETENTION_PATIENCE) = (
    D_[n] for n in ("col", "dublin", "safe_third", "procedure", "extended", "appeal", "lead", "term", "restricted",
                    "birthday_18", "lvv_stay", "detention", "departure", "regular", "lvv_patience",
                    "detention_patience"))
(BR_ARRIVAL, BR_AFTER_CENTRAL, BR_DUBLIN_OUTCOME, BR_SAFE_THIRD_OUTCOME, BR_AFTER_PROCEDURE, BR_APPEALS,
 BR_APPEAL_OUTCOME, BR_AFTER_TERM, BR_LVV_CHOICE, BR_LVV_OUTCOME, BR_DETENTION_OUTCOME, BR_DEPARTURE_TYPE,
 BR_REGULAR_OUTCOME) = (B_[n] for n in (
    "arrival", "after_central", "dublin_outcome", "safe_third_outcome", "after_procedure", "appeals",
    "appeal_outcome", "after_term", "lvv_choice", "lvv_outcome", "detention_outcome", "departure_type",
    "regular_outcome"))
LATE_DECISION, LATE_DEPARTURE = R.LATE["decision"], R.LATE["departure"]


# ----------------------------------------------------------------------------------------------
# tables that do not depend on the replicate's key: built once per scenario
# ----------------------------------------------------------------------------------------------
_SCENARIO_TABLES: dict[int, tuple[weakref.ref, dict]] = {}
_SCENARIOS_KEPT = 4  # the scenarios whose tables are kept (an ensemble runs one; a comparison a few)
_SCENARIO_LOCK = threading.RLock()  # replicates may compile in threads (backend "threads"); a table may build on another


#: replicate scenarios (``scenario.parameter_sets.for_replicate``) -> the scenario they were drawn from:
#: they differ only in values the per-scenario tables do not read (tests/engine/test_compile_tables.py)
#: (keyed by identity: a scenario holds dicts and is not hashable)
_DRAWN_FROM: dict[int, tuple[weakref.ref, Scenario]] = {}


def _base_of(sc: Scenario) -> Scenario:
    entry = _DRAWN_FROM.get(id(sc))
    return entry[1] if entry is not None and entry[0]() is sc else sc


#: Scenario sections that the per-scenario tables (:func:`inflow_parts`, :func:`group_mix_rows`,
#: :func:`late_tables`) are built from: a replicate that changes a key under one of them builds its own.
TABLE_SECTIONS = ("simulation", "inflow.first", "inflow.subsequent", "inflow.monthly_profile", "inflow.shocks",
                  "inflow.nareis.mode", "inflow.nareis.per_year", "inflow.nareis.monthly", "resettlement", "regular",
                  "circular", "groups", "minors", "return", "return_", "cooperation")


def reads_tables(key: str) -> bool:
    """True when the dotted scenario ``key`` lies under one of :data:`TABLE_SECTIONS`."""
    return any(key == s or key.startswith(s + ".") for s in TABLE_SECTIONS)


def share_tables(drawn: Scenario, base: Scenario) -> None:
    """Let ``drawn`` (a replicate's draw of uncertain parameters or parameter set) use ``base``'s
    per-scenario tables."""
    key = id(drawn)

    def forget(ref, key=key):
        with _SCENARIO_LOCK:
            entry = _DRAWN_FROM.get(key)
            if entry is not None and entry[0] is ref:
                del _DRAWN_FROM[key]

    try:
        ref = weakref.ref(drawn, forget)
    except TypeError:  # a recording view (scenario.usage) is never cached
        return
    with _SCENARIO_LOCK:
        _DRAWN_FROM[key] = (ref, _base_of(base))


def _per_scenario(sc: Scenario, what: tuple, build):
    """``build()`` once per scenario object and ``what``; later calls return the kept value.

    A scenario is frozen, so what it determines cannot change while the object lives; the entry
    is keyed by the object's identity and dropped when the object is collected (or when more
    than a few scenarios are in use). A view that records what it reads (``scenario.usage``)
    cannot be referenced weakly and is never cached, so its reads are always recorded. Callers
    must not change the value: hand out copies of arrays."""
    sc = _base_of(sc)
    key = id(sc)
    try:
        ref = weakref.ref(sc, lambda r: _forget_scenario(key, r))
    except TypeError:
        return build()
    with _SCENARIO_LOCK:
        entry = _SCENARIO_TABLES.get(key)
        if entry is None or entry[0]() is not sc:
            while len(_SCENARIO_TABLES) >= _SCENARIOS_KEPT:
                _SCENARIO_TABLES.pop(next(iter(_SCENARIO_TABLES)))
            entry = (ref, {})
            _SCENARIO_TABLES[key] = entry
        tables = entry[1]
        if what not in tables:
            tables[what] = build()
        return tables[what]


def _forget_scenario(key: int, ref: weakref.ref) -> None:
    """Drop a collected scenario's tables (unless its identity has been reused already)."""
    with _SCENARIO_LOCK:
        entry = _SCENARIO_TABLES.get(key)
        if entry is not None and entry[0] is ref:
            del _SCENARIO_TABLES[key]


# ----------------------------------------------------------------------------------------------
# time grid
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeGrid:
    """Days from ``day0`` (warm-up start) to ``end``; ``start`` is the first reported day."""

    day0: dt.date
    start: dt.date
    end: dt.date

    @property
    def T(self) -> int:
        return (self.end - self.day0).days + 1

    @property
    def start_index(self) -> int:
        return (self.start - self.day0).days

    def dates(self) -> pd.DatetimeIndex:
        return _grid_dates(self.day0, self.end).copy()  # built once per grid (every replicate asks)

    def months(self) -> pd.PeriodIndex:
        return _grid_months(self.day0, self.end).copy()

    def halves(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Half-year index of each day, the labels ('2025-H1') and the length of each half [days]."""
        d = self.dates()
        labels = [f"{y}-H{1 if m <= 6 else 2}" for y, m in zip(d.year, d.month)]
        uniq: list[str] = []
        idx = np.empty(len(d), np.int64)
        for k, lab in enumerate(labels):
            if not uniq or uniq[-1] != lab:
                uniq.append(lab)
            idx[k] = len(uniq) - 1
        full_len = np.array([(dt.date(int(u[:4]), 7, 1) - dt.date(int(u[:4]), 1, 1)).days if u.endswith("H1")
                             else (dt.date(int(u[:4]) + 1, 1, 1) - dt.date(int(u[:4]), 7, 1)).days for u in uniq],
                            np.float64)
        return idx, uniq, full_len


@functools.lru_cache(maxsize=16)
def _grid_dates(day0: dt.date, end: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(day0, end, freq="D")


@functools.lru_cache(maxsize=16)
def _grid_months(day0: dt.date, end: dt.date) -> pd.PeriodIndex:
    return pd.period_range(day0, end, freq="M")


def time_grid(scenario: Scenario) -> TimeGrid:
    s = scenario.simulation
    return TimeGrid(day0=s.grid_start, start=s.start, end=s.end)


def step_values(steps: tuple[Step, ...], dates: pd.DatetimeIndex) -> np.ndarray:
    """Piecewise-constant values on each date; before the first step the first value holds."""
    starts = np.array([np.datetime64(s.start) for s in steps], dtype="datetime64[D]")
    vals = np.array([s.value for s in steps], np.float64)
    pos = np.searchsorted(starts, dates.values.astype("datetime64[D]"), side="right") - 1
    return vals[np.clip(pos, 0, None)]


def grid_steps(steps: tuple[Step, ...], grid: "TimeGrid") -> np.ndarray:
    """:func:`step_values` on every day of ``grid`` (a new array each call; the values are computed
    once per process for the same steps and grid: every replicate of an ensemble asks)."""
    return _grid_steps(tuple((s.start, float(s.value)) for s in steps), grid.day0, grid.end).copy()


@functools.lru_cache(maxsize=64)
def _grid_steps(steps: tuple, day0: dt.date, end: dt.date) -> np.ndarray:
    starts = np.array([np.datetime64(s) for s, _ in steps], dtype="datetime64[D]")
    vals = np.array([v for _, v in steps], np.float64)
    days = np.arange(np.datetime64(day0, "D"), np.datetime64(end, "D") + 1)
    out = vals[np.clip(np.searchsorted(starts, days, side="right") - 1, 0, None)]
    out.setflags(write=False)
    return out


def monthly_persons(stream_steps: tuple[Step, ...], monthly: tuple[MonthValue, ...], grid: TimeGrid,
                    profile: np.ndarray | None) -> np.ndarray:
    """Expected arrivals [persons/month] for each month of the grid."""
    months = grid.months()
    starts = months.to_timestamp()
    if stream_steps:
        per_year = step_values(stream_steps, pd.DatetimeIndex(starts))
    else:
        per_year = np.zeros(len(months))
    prof = profile[months.month.values - 1] if profile is not None else np.ones(len(months))
    out = per_year / 12.0 * prof
    given = {m.month: m.value for m in monthly}
    if given:
        first_given = min(given)
        for k, p in enumerate(months):
            key = f"{p.year:04d}-{p.month:02d}"
            if key in given:
                out[k] = given[key]
            elif key < first_given and p.to_timestamp().date() < grid.start:
                # warm-up before the first given month: repeat the first given year's month
                out[k] = given.get(f"{first_given[:4]}-{p.month:02d}", out[k])
    # partial first/last month: scale by the days inside the grid
    days_in = np.array([p.days_in_month for p in months], np.float64)
    first_days = days_in[0] - (grid.day0.day - 1)
    out[0] *= first_days / days_in[0]
    last_days = grid.end.day
    out[-1] *= last_days / days_in[-1]
    return out


# ----------------------------------------------------------------------------------------------
# shocks
# ----------------------------------------------------------------------------------------------
def shocked_first(expected: np.ndarray, shocks, grid: TimeGrid) -> list[tuple[np.ndarray, int]]:
    """Apply the scenario's shocks, in order, to the expected first applications [persons/month].

    Returns ``[(base, -1), (extra_k, k), ...]``: every shock multiplies what is there; where a shock
    with its own ``group_shares`` raises the level, the persons it adds form a separate part ``k``
    (drawn with that group mix), while the existing parts keep their level. Without such shocks the
    list has one element. The parts add up to the shocked total.
    """
    parts: list[tuple[np.ndarray, int]] = [(np.asarray(expected, float), -1)]
    if not shocks:
        return parts
    months = grid.months()
    for k, shock in enumerate(shocks):
        on = pd.Period(shock.onset, freq="M")
        offsets = (months.year - on.year) * 12 + (months.month - on.month)
        f = shock.factor(np.asarray(offsets))
        if shock.group_shares:
            down = np.minimum(f, 1.0)
            total = sum(a for a, _ in parts)
            parts = [(a * down, src) for a, src in parts] + [(total * np.maximum(f - 1.0, 0.0), k)]
        else:
            parts = [(a * f, src) for a, src in parts]
    return parts


# ----------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------
@dataclass
class Compiled:
    """One replicate's kernel inputs (a named record) with the grid and the case attributes that
    the results read."""

    grid: TimeGrid
    half_labels: list[str]
    inputs: "K.Inputs | None" = None
    case: dict[str, np.ndarray] = field(default_factory=dict)  # arrival_day, size, children, group, ...
    scalars: dict[str, float] = field(default_factory=dict)
    group_names: tuple[str, ...] = ()
    housing: dict = field(default_factory=dict)  # the housing task hook's settings
    policy: object = None  # the scenario's reception_policy (engine.policies)
    decision_policy: object = None  # the scenario's decision_policy (engine.policies.HiringPolicy)
    start: object = None  # engine.snapshot.Snapshot: the carried cases of a run that starts from history

    @property
    def n_cases(self) -> int:
        return int(self.case["size"].shape[0])


def _duration_row(d: Duration) -> tuple[float, float, float, float, float]:
    return (float(G.FAMILIES.index(d.name)), d.mean, d.cv, d.low, d.high)


@njit(cache=True, nogil=True)
def _month_counts(key, part, months_abs, expected):
    """Persons arriving in each month: the Poisson quantile of a keyed uniform (monotone in the
    expected number, so more expected arrivals never mean fewer persons)."""
    n = months_abs.shape[0]
    out = np.zeros(n, np.int64)
    for m in range(n):
        lam = expected[_u(m)]
        if lam > 0:
            ck = (np.uint64(part) << np.uint64(56)) | (np.uint64(months_abs[_u(m)]) << np.uint64(32)) | G.MONTH_INDEX
            out[_u(m)] = G.poisson_ppf(G.uniforms(key, P_MONTH_COUNT, ck, 0)[0], lam)
    return out


def _households(key, part, months_abs, persons, lo, hi, uam, fam, extra_adult, extra_kids, fixed):
    """Cases of one inflow part: for each month, households drawn by index until the month's
    persons are reached (the last one trimmed), each on a keyed day within the month (``fixed`` > 0:
    cases of that many adults, e.g. batches of regular applicants). Returns size, children, day,
    case key."""
    total = int(persons.sum())
    size = np.empty(total, np.int64)
    kids = np.empty(total, np.int64)
    day = np.empty(total, np.int64)
    keys = np.empty(total, np.uint64)
    c = _fill_households(key, part, months_abs, persons, lo, hi, uam, fam, extra_adult, extra_kids, fixed, size, kids,
                         day, keys)
    return size[:c], kids[:c], day[:c], keys[:c]


#: ``_nrt=False`` on the loops that draw per case (here and in ``_draw_cases``, ``_nareis`` and the
#: kernel): they allocate nothing (the caller hands them their output arrays), and without numba's
#: reference counting the arrays read by the inlined keyed draws (``rng.uniforms4``) are not counted
#: in and out with atomic NRT_incref/NRT_decref calls around every draw. The same numbers.
@njit(cache=True, nogil=True, _nrt=False)
def _fill_households(key, part, months_abs, persons, lo, hi, uam, fam, extra_adult, extra_kids, fixed, size, kids,
                     day, keys):
    """:func:`_households`' loop: fills the output arrays and returns the number of cases."""
    c = 0
    for m in range(months_abs.shape[0]):
        left = persons[_u(m)]
        idx = 0
        base = (np.uint64(part) << np.uint64(56)) | (np.uint64(months_abs[_u(m)]) << np.uint64(32))
        while left > 0:
            ck = base | np.uint64(idx)
            u, v, w, x = G.uniforms4(key, P_HOUSEHOLD, ck, 0)  # type, extra adult, day, children
            if fixed > 0:
                a, k = fixed, 0
            elif u < uam:
                a, k = 0, 1
            elif u < uam + fam:
                a = 2 if v < extra_adult else 1
                k = 1 + G.poisson_ppf(x, extra_kids)
            else:
                a, k = 1, 0
            sz = a + k
            if sz > left:  # the month's last household is trimmed to its persons
                k -= min(sz - left, k)
                sz = left
            size[_u(c)] = sz
            kids[_u(c)] = k
            day[_u(c)] = lo[_u(m)] + int(w * (hi[_u(m)] - lo[_u(m)] + 1))
            keys[_u(c)] = ck
            left -= sz
            idx += 1
            c += 1
    return c


def uam_household_share(person_share: float, fam: float, extra_adult: float, extra_kids: float) -> float:
    """The probability that a household is an unaccompanied minor such that ``person_share`` of the
    persons are: a household is 1 person, a family 1 + (extra adult + 1 + extra children) on average,
    so persons per household are 1 + fam x (extra_adult + 1 + extra_kids) whatever the minors' share,
    and p = person_share x that (capped so that minors and families fit in one draw)."""
    p = person_share * (1.0 + fam * (extra_adult + 1.0 + extra_kids))
    return float(min(p, max(1.0 - fam, 0.0)))


def _day_order(arrival: np.ndarray, ckey: np.ndarray) -> np.ndarray:
    """The cases' order by arrival day, then identity: ``np.lexsort((ckey, arrival))``. The parts'
    cases come in increasing identity (part, then month, then index), so a stable counting sort by
    day gives that order in linear time; otherwise the general sort."""
    order = _counting_order(np.asarray(arrival, np.int64), np.asarray(ckey, np.uint64))
    return order if order is not None else np.lexsort((ckey, arrival))


@njit(cache=True, nogil=True)
def _counting_order(arrival, ckey):
    n = arrival.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    lo = arrival.min()
    if lo < 0 or arrival.max() > 1 << 24:
        return None
    for i in range(1, n):
        if ckey[_u(i)] <= ckey[_u(i - 1)]:
            return None  # identities not strictly increasing: the general sort
    start = np.zeros(arrival.max() + 2, np.int64)
    for i in range(n):
        start[_u(arrival[_u(i)] + 1)] += 1
    for d in range(1, start.shape[0]):
        start[_u(d)] += start[_u(d - 1)]
    order = np.empty(n, np.int64)
    for i in range(n):
        order[_u(start[_u(arrival[_u(i)])])] = i
        start[_u(arrival[_u(i)])] += 1
    return order


def _arrival_years(grid: TimeGrid, arrival: np.ndarray) -> np.ndarray:
    """Calendar year of each case's arrival day (day index from ``grid.day0``; a case not arrived
    yet, day -1, counts as day 0)."""
    if arrival.size and int(arrival.max()) >= grid.T:
        return _years_of_days(grid.day0, np.maximum(arrival, 0))
    return _take_clipped(_grid_years(grid), arrival)


@njit(cache=True, nogil=True)
def _take_clipped(table, day):
    """``table[np.maximum(day, 0)]`` in one pass."""
    out = np.empty(day.shape[0], table.dtype)
    for i in range(day.shape[0]):
        out[_u(i)] = table[_u(max(day[_u(i)], 0))]
    return out


@functools.lru_cache(maxsize=8)
def _grid_years(grid: TimeGrid) -> np.ndarray:
    y = _years_of_days(grid.day0, np.arange(grid.T, dtype=np.int64))
    y.setflags(write=False)
    return y


def _years_of_days(day0: dt.date, day: np.ndarray) -> np.ndarray:
    return (np.datetime64(day0, "D") + day.astype("timedelta64[D]")).astype("datetime64[Y]").astype(np.int64) + 1970


# indices of the scalar parameters of _draw_cases
(PAR_DUBLIN_SHARE, PAR_TRIAGE, PAR_ROUTING, PAR_LIKELY, PAR_LEGAL_AID, PAR_NO_HEARING, PAR_VA_SHARE,
 PAR_APPEAL_SHARE, PAR_APPEAL_SUCCESS, PAR_TERM_DAYS, PAR_RESTRICTED, PAR_DUB_ACCEPT, PAR_DUB_TRANSFER,
 PAR_DUB_ABSCOND, PAR_STC_TRANSFER, PAR_STC_SUBSTANTIVE, PAR_LVV_REQUEST, PAR_LVV_INDEPENDENT, PAR_LVV_UNSUPERVISED,
 PAR_LVV_PERMIT, PAR_DETENTION_VERIFIED, PAR_MINOR_ADEQUATE, PAR_MINOR_RULE, PAR_AGE_16, PAR_AGE_14,
 PAR_DIRECT_PLACEMENT, PAR_NAREIS_HOME, N_PAR) = range(28)
# rows of the duration table of _draw_cases
(D_COL, D_DUBLIN, D_RVT, D_AA, D_SAFE, D_VA, D_APPEAL, D_RESTRICTED, D_DEPARTURE, D_DETENTION, D_LEAD,
 D_NAREIS_LAG, D_SAFE_THIRD, D_LVV_STAY, D_LVV_PATIENCE, D_DETENTION_PATIENCE, D_REGULAR0) = range(17)


@njit(cache=True, nogil=True, inline="always")
def _dd(key, purpose, ck, dspec, dconst, row):
    return G.spec_days(key, purpose, ck, dspec, dconst, row)


#: Registry-derived numbers reach the compiled draws as an array (``ix``), not as globals that numba
#: would bake into its cache (keyed on this file only): a registry change never runs stale.
IX = ("BR_AFTER_CENTRAL", "BR_AFTER_PROCEDURE", "BR_AFTER_TERM", "BR_APPEALS", "BR_APPEAL_OUTCOME", "BR_ARRIVAL", "BR_DETENTION_OUTCOME", "BR_DUBLIN_OUTCOME", "BR_LVV_CHOICE", "BR_LVV_OUTCOME", "BR_REGULAR_OUTCOME", "BR_SAFE_THIRD_OUTCOME", "DUR_BIRTHDAY", "DUR_PROCEDURE", "DUR_REGULAR", "DUR_TERM", "LATE_DECISION", "LATE_DEPARTURE", "STREAM_FIRST", "STREAM_LABOUR0", "STREAM_NAREIS", "STREAM_RESETTLEMENT", "STREAM_SUBSEQUENT", "TRACK_DUBLIN", "TRACK_GENERAL", "TRACK_NONE", "TRACK_REGULAR", "TRACK_SAFE", "TRACK_SAFE_THIRD")
IX_OF = {n: k for k, n in enumerate(IX)}


#: cases per block of :func:`_draw_cases`' lane-wise draws (its scratch lanes hold three counters of
#: each case of a block, 4 x 3 x 256 words: in the first level of the processor's cache)
DRAW_BLOCK = 256
_LANE_PURPOSES = 3


def draw_lanes() -> tuple[np.ndarray, ...]:
    """The scratch lanes of :func:`_draw_cases` (four uint32 arrays of 3 x :data:`DRAW_BLOCK`)."""
    return tuple(np.empty(_LANE_PURPOSES * DRAW_BLOCK, np.uint32) for _ in range(4))


def draw_constants() -> np.ndarray:
    g = globals()
    return np.array([int(g[n]) for n in IX], np.int64)


@njit(cache=True, nogil=True, _nrt=False)  # no reference counting: see _fill_households
def _draw_cases(ix, key, ckey, stream, mixrow, group_in, uam, arrival, cum_mix, grant_rate, safe, stc_share,
                regular_grant, par, dspec, dconst, fixed_slot, fixed_days, dur, branch, late_u, group, track, routed,
                likely, late_row, lane0, lane1, lane2, lane3):
    """Every case's nationality group, track and pre-drawn path through the chain, by keyed draws.
    One Philox call gives a case's group, Dublin claim, grant uniform and referral to the extended
    procedure; one more its appeal, appeal outcome, freedom-restricting location and departure
    uniform; one more the smaller choices; each duration has its own. Draws a case cannot need are
    not made (but for the block's three, below), and no draw ever shifts another case's. Every case
    gets the stays that are the same for all (``dur[i, fixed_slot[q]] = fixed_days[q]``): written
    here, beside the case's other stays, they cost next to nothing; written column by column after
    the loop they took about 2% of a replicate of nl_baseline (a strided pass over the whole table
    each).

    The three draws every asylum case makes (purposes decision, return and more) are computed for a
    block of cases at once (``rng.philox_lanes`` on the scratch lanes ``lane0..3``, :data:`DRAW_BLOCK`
    cases a block), then read per case: the same uniforms as ``rng.uniforms4``, and a draw a case
    does not need (more, for regular migration, resettlement and nareis) changes no other draw. The
    first attempts of the procedure's gamma stays drawn so too were slower (3-5 ms a replicate of
    nl_baseline): their code, inlined twice, costs the loop more than their lanes save."""
    BR_AFTER_CENTRAL = ix[0]
    BR_AFTER_PROCEDURE = ix[1]
    BR_AFTER_TERM = ix[2]
    BR_APPEALS = ix[3]
    BR_APPEAL_OUTCOME = ix[4]
    BR_ARRIVAL = ix[5]
    BR_DETENTION_OUTCOME = ix[6]
    BR_DUBLIN_OUTCOME = ix[7]
    BR_LVV_CHOICE = ix[8]
    BR_LVV_OUTCOME = ix[9]
    BR_REGULAR_OUTCOME = ix[10]
    BR_SAFE_THIRD_OUTCOME = ix[11]
    DUR_BIRTHDAY = ix[12]
    DUR_PROCEDURE = ix[13]
    DUR_REGULAR = ix[14]
    DUR_TERM = ix[15]
    LATE_DECISION = ix[16]
    LATE_DEPARTURE = ix[17]
    STREAM_FIRST = ix[18]
    STREAM_LABOUR0 = ix[19]
    STREAM_NAREIS = ix[20]
    STREAM_RESETTLEMENT = ix[21]
    STREAM_SUBSEQUENT = ix[22]
    TRACK_DUBLIN = ix[23]
    TRACK_GENERAL = ix[24]
    TRACK_NONE = ix[25]
    TRACK_REGULAR = ix[26]
    TRACK_SAFE = ix[27]
    TRACK_SAFE_THIRD = ix[28]
    n_groups = grant_rate.shape[0]
    n = ckey.shape[0]
    B = lane0.shape[0] // _LANE_PURPOSES
    for b0 in range(0, n, B):
        m = min(B, n - b0)
        # the block's counters (case key low, high, purpose, sub-counter 0) for the three purposes
        for j in range(_LANE_PURPOSES):
            pj = (P_DECISION, P_RETURN, P_MORE)[j]
            for l in range(m):
                kk = ckey[_u(b0 + l)]
                lane0[_u(j * m + l)] = np.uint32(kk & np.uint64(0xFFFFFFFF))
                lane1[_u(j * m + l)] = np.uint32(kk >> np.uint64(32))
                lane2[_u(j * m + l)] = np.uint32(pj)
                lane3[_u(j * m + l)] = np.uint32(0)
        G.philox_lanes(key, lane0, lane1, lane2, lane3, _LANE_PURPOSES * m)
        for l in range(m):
            i = b0 + l
            for q in range(fixed_slot.shape[0]):
                dur[_u(i), _u(fixed_slot[_u(q)])] = fixed_days[_u(q)]
            k = ckey[_u(i)]
            s = stream[_u(i)]
            u_group, u_dublin = G.lane_uniform(lane0[_u(l)]), G.lane_uniform(lane1[_u(l)])
            u_grant, u_va = G.lane_uniform(lane2[_u(l)]), G.lane_uniform(lane3[_u(l)])
            u_appeal, u_success = G.lane_uniform(lane0[_u(m + l)]), G.lane_uniform(lane1[_u(m + l)])
            u_restricted, u_dep = G.lane_uniform(lane2[_u(m + l)]), G.lane_uniform(lane3[_u(m + l)])
            # nationality group: the mix of the case's part and arrival year; a family member follows the sponsor
            if group_in[_u(i)] >= 0:
                g = group_in[_u(i)]
            else:
                row = cum_mix[_u(mixrow[_u(i)])]
                g = 0
                while g < row.shape[0] - 1 and u_group >= row[_u(g)]:
                    g += 1
            group[_u(i)] = g
            rate = grant_rate[_u(g)]
            likely[_u(i)] = rate >= par[PAR_LIKELY]
            late_u[_u(i), LATE_DECISION] = u_grant
            late_u[_u(i), LATE_DEPARTURE] = u_dep
            late_row[_u(i)] = n_groups if uam[_u(i)] else g  # unaccompanied minors: their own row
            if s >= STREAM_LABOUR0:  # regular migration (circular places carry their group: group_in)
                track[_u(i)] = TRACK_REGULAR
                branch[_u(i), BR_ARRIVAL] = 2
                granted = u_grant < regular_grant[_u(s - STREAM_LABOUR0)]
                branch[_u(i), BR_REGULAR_OUTCOME] = (2 if group_in[_u(i)] >= 0 else 0) if granted else 1
                dur[_u(i), DUR_REGULAR] = max(_dd(key, P_REGULAR, k, dspec, dconst, D_REGULAR0 + s - STREAM_LABOUR0), 1)
                continue
            if s == STREAM_RESETTLEMENT or s == STREAM_NAREIS:
                track[_u(i)] = TRACK_NONE
                routed[_u(i)] = False
                if s == STREAM_RESETTLEMENT and par[PAR_DIRECT_PLACEMENT] > 0:
                    branch[_u(i), BR_ARRIVAL] = 1  # straight to a municipality
                    continue
                if s == STREAM_NAREIS and u_dublin < par[PAR_NAREIS_HOME]:  # given nareis: joins the sponsor's home
                    branch[_u(i), BR_ARRIVAL] = 3
                branch[_u(i), BR_AFTER_CENTRAL] = 0  # permit on arrival: to the lead time
                continue
            u_stc, u_lvv = G.lane_uniform(lane0[_u(2 * m + l)]), G.lane_uniform(lane1[_u(2 * m + l)])
            u_lvv_outcome, u_detention = G.lane_uniform(lane2[_u(2 * m + l)]), G.lane_uniform(lane3[_u(2 * m + l)])
            if s == STREAM_FIRST and u_dublin < par[PAR_DUBLIN_SHARE]:
                tr = TRACK_DUBLIN
            elif s == STREAM_FIRST and u_stc < stc_share[_u(g)]:
                tr = TRACK_SAFE_THIRD
            elif safe[_u(g)] and par[PAR_TRIAGE] > 0:
                tr = TRACK_SAFE
            else:
                tr = TRACK_GENERAL
            track[_u(i)] = tr
            routed[_u(i)] = likely[_u(i)] and par[PAR_ROUTING] > 0
            expect_grant = u_grant < rate  # at the arrival's rate: only for the levers that act before the decision
            if tr == TRACK_DUBLIN:
                branch[_u(i), BR_AFTER_CENTRAL] = 1
                u = G.uniforms4(key, P_DUB_OUTCOME, k, 0)[0]
                acc = par[PAR_DUB_ACCEPT]
                trf = par[PAR_DUB_TRANSFER]
                o = 0 if u < acc * trf else (1 if u < acc * trf + acc * (1 - trf) * par[PAR_DUB_ABSCOND] else 2)
                branch[_u(i), BR_DUBLIN_OUTCOME] = o  # transfer, abscond, or lapse to the national procedure
                if o != 2:
                    continue
            elif tr == TRACK_SAFE_THIRD:
                branch[_u(i), BR_AFTER_CENTRAL] = 4
                u = G.uniforms4(key, P_SAFE_THIRD, k, 0)[0]
                o = 0 if u < par[PAR_STC_TRANSFER] else (
                    2 if u < par[PAR_STC_TRANSFER] + par[PAR_STC_SUBSTANTIVE] else 1)
                branch[_u(i), BR_SAFE_THIRD_OUTCOME] = o  # transfer, inadmissible (return), or a substantive procedure
                if o == 0:
                    continue
            else:
                branch[_u(i), BR_AFTER_CENTRAL] = 2 if tr == TRACK_GENERAL else 3
            # the national procedure (a lapsed Dublin claim or a substantive procedure after all: general track)
            repeat_no_chance = s == STREAM_SUBSEQUENT and not expect_grant and par[PAR_NO_HEARING] > 0
            if tr == TRACK_SAFE:
                proc = _dd(key, P_SAFE, k, dspec, dconst, D_SAFE)
            else:
                rvt = 0 if (par[PAR_LEGAL_AID] > 0 and expect_grant) else _dd(key, P_RVT, k, dspec, dconst, D_RVT)
                proc = rvt + _dd(key, P_AA, k, dspec, dconst, D_AA)
            if repeat_no_chance:
                proc = 1  # decided without a hearing
            dur[_u(i), DUR_PROCEDURE] = max(proc, 1)
            va = tr != TRACK_SAFE and u_va < par[PAR_VA_SHARE] and not repeat_no_chance
            branch[_u(i), BR_AFTER_PROCEDURE] = 0 if va else 1
            # the decision is late (the decision month's grant rate): both paths are prepared; their stays
            # are drawn by the kernel when a case enters them (engine.kernel, slot_spec)
            appeals = u_appeal < par[PAR_APPEAL_SHARE]
            branch[_u(i), BR_APPEALS] = 0 if appeals else 1
            branch[_u(i), BR_APPEAL_OUTCOME] = 0 if u_success < par[PAR_APPEAL_SUCCESS] else 1
            # return: departure term, maybe a freedom-restricting location, a minor's wait until 18, departure
            dur[_u(i), DUR_TERM] = 0 if tr == TRACK_SAFE else int(par[PAR_TERM_DAYS])
            minor_waits = uam[_u(i)] and par[PAR_MINOR_RULE] > 0
            if minor_waits:
                u_age, u_adequate, u_in_band, _ = G.uniforms4(key, P_MINOR, k, 0)
                minor_waits = u_adequate >= par[PAR_MINOR_ADEQUATE]
                if minor_waits:  # age at arrival: 16-17, 14-15 or younger, uniform within the band
                    if u_age < par[PAR_AGE_16]:
                        age = 16.0 + 2.0 * u_in_band
                    elif u_age < par[PAR_AGE_16] + par[PAR_AGE_14]:
                        age = 14.0 + 2.0 * u_in_band
                    else:
                        age = 12.0 + 2.0 * u_in_band
                    dur[_u(i), DUR_BIRTHDAY] = arrival[_u(i)] + int((18.0 - age) * 365.25)
            branch[_u(i), BR_AFTER_TERM] = 2 if minor_waits else (0 if u_restricted < par[PAR_RESTRICTED] else 1)
            # after the late departure pick: each route's choices
            branch[_u(i), BR_DETENTION_OUTCOME] = 0 if u_detention < par[PAR_DETENTION_VERIFIED] else 1
            branch[_u(i), BR_LVV_CHOICE] = 0 if u_lvv < par[PAR_LVV_REQUEST] else 1
            if u_lvv < par[PAR_LVV_REQUEST]:
                a = par[PAR_LVV_INDEPENDENT]
                b = a + par[PAR_LVV_UNSUPERVISED]
                c = b + par[PAR_LVV_PERMIT]
                branch[_u(i), BR_LVV_OUTCOME] = 0 if u_lvv_outcome < a else (1 if u_lvv_outcome < b else (
                    2 if u_lvv_outcome < c else 3))


@njit(cache=True, nogil=True, _nrt=False)  # allocates nothing: see _fill_households
def _assemble(order, size_p, children_p, arrival_p, ckey_p, stream_p, mix_p, count, lag, H, nareis_bit, nareis_stream,
              size, in_size, children, arrival, ckey, in_ckey, stream, in_stream, mix, nareis_child, nareis_lag, parent,
              group_in, uam, parents):
    """The per-case arrays of a replicate in one pass: the primary inflow's cases (given in part
    order) in day order (``order``), then a family member for each case with a nareis ``count`` > 0,
    in its sponsor's order (size = count, the sponsor's identity with ``nareis_bit``, not arrived
    yet). Case links (``nareis_child``, ``parent``) count from ``H``, the starting state's cases in
    front. ``in_*``: the kernel's own copies (its dtypes); ``parents``: each family member's sponsor."""
    n1 = order.shape[0]
    k = n1
    for j in range(n1):
        i = order[_u(j)]
        sz = size_p[_u(i)]
        ch = children_p[_u(i)]
        size[_u(j)] = sz
        in_size[_u(j)] = sz
        children[_u(j)] = ch
        arrival[_u(j)] = arrival_p[_u(i)]
        ckey[_u(j)] = ckey_p[_u(i)]
        in_ckey[_u(j)] = ckey_p[_u(i)]
        stream[_u(j)] = stream_p[_u(i)]
        in_stream[_u(j)] = stream_p[_u(i)]
        mix[_u(j)] = mix_p[_u(i)]
        nareis_lag[_u(j)] = lag[_u(i)]
        parent[_u(j)] = -1
        group_in[_u(j)] = -1
        uam[_u(j)] = sz == 1 and ch == 1
        c = count[_u(i)]
        if c > 0:
            nareis_child[_u(j)] = H + k
            kc = max(c - 1, 0)
            size[_u(k)] = c
            in_size[_u(k)] = c
            children[_u(k)] = kc
            arrival[_u(k)] = -1
            ckey[_u(k)] = ckey_p[_u(i)] | nareis_bit
            in_ckey[_u(k)] = ckey_p[_u(i)] | nareis_bit
            stream[_u(k)] = nareis_stream
            in_stream[_u(k)] = nareis_stream
            mix[_u(k)] = mix_p[_u(i)]
            nareis_child[_u(k)] = -1
            nareis_lag[_u(k)] = 0
            parent[_u(k)] = H + j
            group_in[_u(k)] = -1
            uam[_u(k)] = c == 1 and kc == 1
            parents[_u(k - n1)] = j
            k += 1
        else:
            nareis_child[_u(j)] = -1


def _nareis(key, ckey, size, stream, can_sponsor, ratio, dspec):
    """Family members who may follow each case once it is granted (endogenous nareis): a keyed
    Poisson count per sponsor (ratio x persons) and the lag after the permit [days]."""
    n = ckey.shape[0]
    count = np.zeros(n, np.int64)
    lag = np.zeros(n, np.int64)
    # P(no family member) by sponsor size: the Poisson quantile's first term, exp(-lam), as it computes
    # it (the C library's exp, here through math.exp), so that most sponsors skip it
    p_none = np.array([math.exp(-(ratio * s)) for s in range(_P_NONE_SIZES)], np.float64)
    _fill_nareis(key, ckey, size, stream, can_sponsor, ratio, dspec, G.duration_constants(dspec), p_none, count, lag,
                 *draw_lanes())
    return count, lag


_P_NONE_SIZES = 64


@njit(cache=True, nogil=True, _nrt=False)
def _fill_nareis(key, ckey, size, stream, can_sponsor, ratio, dspec, dconst, p_none, count, lag, lane0, lane1, lane2,
                 lane3):
    """:func:`_nareis`' loop (see ``_fill_households`` on ``_nrt=False``). ``p_none[s]``: the
    Poisson probability of none for a sponsor of s persons (``exp(-ratio s)``): a uniform at or below
    it is a count of 0, as ``rng.poisson_ppf`` finds it (its cumulative sum starts there). The
    count's uniform is drawn for a block of cases at once, as in :func:`_draw_cases`."""
    n = ckey.shape[0]
    B = lane0.shape[0]
    for b0 in range(0, n, B):
        m = min(B, n - b0)
        for l in range(m):
            kk = ckey[_u(b0 + l)]
            lane0[_u(l)] = np.uint32(kk & np.uint64(0xFFFFFFFF))
            lane1[_u(l)] = np.uint32(kk >> np.uint64(32))
            lane2[_u(l)] = np.uint32(P_NAREIS_COUNT)
            lane3[_u(l)] = np.uint32(0)
        G.philox_lanes(key, lane0, lane1, lane2, lane3, m)
        for l in range(m):
            i = b0 + l
            if not can_sponsor[_u(stream[_u(i)])]:
                continue
            u = G.lane_uniform(lane0[_u(l)])
            lam = ratio * size[_u(i)]
            if 0 <= size[_u(i)] < p_none.shape[0] and 0.0 < lam <= 600.0 and u <= p_none[_u(size[_u(i)])]:
                continue
            count[_u(i)] = G.poisson_ppf(u, lam)
            if count[_u(i)] > 0:
                lag[_u(i)] = _dd(key, P_NAREIS_LAG, ckey[_u(i)], dspec, dconst, D_NAREIS_LAG)


def _month_bounds(grid: TimeGrid) -> tuple[pd.PeriodIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Grid months: the months, their absolute index (months since year 0) and the first and last
    grid day of each (partial first and last months cut to the grid). Computed once per grid (copies
    handed out)."""
    months, *arrays = _grid_month_bounds(grid.day0, grid.end)
    return (months.copy(), *(a.copy() for a in arrays))


@functools.lru_cache(maxsize=16)
def _grid_month_bounds(day0: dt.date, end: dt.date):
    grid = TimeGrid(day0=day0, start=day0, end=end)
    months = grid.months()
    start = (months.to_timestamp(how="start").values.astype("datetime64[D]") - np.datetime64(grid.day0, "D"))
    end = (months.to_timestamp(how="end").values.astype("datetime64[D]") - np.datetime64(grid.day0, "D"))
    lo = np.maximum(start.astype(np.int64), 0)
    hi = np.minimum(end.astype(np.int64), grid.T - 1)
    return months, (months.year * 12 + months.month - 1).to_numpy(np.int64), lo, hi


@functools.lru_cache(maxsize=16)
def _month_of_day(day0: dt.date, end: dt.date) -> np.ndarray:
    """The grid month of each grid day (0 = the grid's first month)."""
    grid = TimeGrid(day0=day0, start=day0, end=end)
    out = np.searchsorted(grid.months().to_timestamp().values.astype("datetime64[D]"),
                          grid.dates().values.astype("datetime64[D]"), side="right") - 1
    out = out.astype(np.int64)
    out.setflags(write=False)
    return out


def resettlement_monthly(sc: Scenario, grid: TimeGrid) -> np.ndarray:
    """Resettled refugees expected per grid month [persons/month]: each year's quota split over the
    selection missions (spread over the year), arriving ``selection_to_arrival_weeks`` after each."""
    r = sc.resettlement
    months = grid.months()
    starts = pd.DatetimeIndex(months.to_timestamp())
    out = np.zeros(len(months))
    first = {(p.year, p.month): k for k, p in enumerate(months)}
    years = range(months[0].year - 1, months[-1].year + 1)
    for y in years:
        quota = float(step_values(r.quota, pd.DatetimeIndex([pd.Timestamp(y, 1, 1)]))[0])
        for j in range(r.missions_per_year):
            mission = pd.Timestamp(y, 1, 1) + pd.Timedelta(days=365.25 * (j + 0.5) / r.missions_per_year)
            arrive = mission + pd.Timedelta(weeks=r.selection_to_arrival_weeks)
            k = first.get((arrive.year, arrive.month))
            if k is not None:
                out[k] += quota / r.missions_per_year
    # partial first and last months: only the days inside the grid
    days_in = np.array([p.days_in_month for p in months], np.float64)
    out[0] *= (days_in[0] - (grid.day0.day - 1)) / days_in[0]
    out[-1] *= grid.end.day / days_in[-1]
    del starts
    return out


def inflow_parts(sc: Scenario, grid: TimeGrid, first_monthly: np.ndarray | None = None):
    """The inflow's parts: ``[(part, stream, expected persons per grid month, group-mix index)]``.
    Mix 0 is the scenario's groups (by arrival year where the groups give yearly shares); mix k + 1
    is shock k's ``group_shares``; the circular-migration places carry their group (mix -1).
    Also returns the expected first applications [persons per grid month]. Without
    ``first_monthly`` the parts depend on the scenario only and are built once per scenario."""
    if first_monthly is not None:
        return _inflow_parts(sc, grid, first_monthly)
    parts, exp_first = _per_scenario(sc, ("inflow_parts", grid), lambda: _inflow_parts(sc, grid, None))
    return [(p, c, np.array(e, copy=True), m) for p, c, e, m in parts], np.array(exp_first, copy=True)


def _inflow_parts(sc: Scenario, grid: TimeGrid, first_monthly: np.ndarray | None):
    profile = np.array(sc.inflow.monthly_profile)
    exp_first = first_monthly if first_monthly is not None else monthly_persons(
        sc.inflow.first.per_year, sc.inflow.first.monthly, grid, profile)
    first_parts = shocked_first(exp_first, sc.inflow.shocks, grid)
    # the parts that do not depend on the first applications: once per scenario (a forecast path
    # per replicate changes only the first)
    others = _per_scenario(sc, ("other_parts", grid), lambda: _other_parts(sc, grid, profile))
    parts = [(PART_OF_STREAM[STREAM_FIRST], STREAM_FIRST, first_parts[0][0], 0)]
    parts += [(p, c, np.array(e, copy=True), m) for p, c, e, m in others]
    for expected, k in first_parts[1:]:
        parts.append((SHOCK_PART0 + k, STREAM_FIRST, expected, k + 1))
    return parts, exp_first


def _other_parts(sc: Scenario, grid: TimeGrid, profile: np.ndarray) -> list:
    """The inflow parts after the first applications (see :func:`inflow_parts`), in part order."""
    parts = [(PART_OF_STREAM[STREAM_SUBSEQUENT], STREAM_SUBSEQUENT,
              monthly_persons(sc.inflow.subsequent.per_year, sc.inflow.subsequent.monthly, grid, profile), 0),
             (PART_OF_STREAM[STREAM_RESETTLEMENT], STREAM_RESETTLEMENT, resettlement_monthly(sc, grid), 0)]
    if sc.inflow.nareis.mode == "given":
        parts.append((PART_OF_STREAM[STREAM_NAREIS], STREAM_NAREIS,
                      monthly_persons(sc.inflow.nareis.per_year, sc.inflow.nareis.monthly, grid, None), 0))
    for name in REGULAR_STREAMS:
        st = getattr(sc.regular, name)
        code = R.STREAM[name]
        parts.append((PART_OF_STREAM[code], code, monthly_persons(st.per_year, (), grid, None), 0))
    c = sc.circular
    if c.group and c.places_per_year > 0:
        months = grid.months()
        on = np.array([p.to_timestamp().date() >= c.start.replace(day=1) for p in months], np.float64)
        parts.append((PART_CIRCULAR, R.STREAM["labour"], on * c.places_per_year / 12.0, -1))
    return parts


def expected_persons(sc: Scenario, first_monthly: np.ndarray | None = None) -> float:
    """Persons expected to arrive over the whole grid (nareis included at its ratio): the size a
    replicate will have, known before anything is drawn."""
    grid = time_grid(sc)
    parts, _ = inflow_parts(sc, grid, first_monthly)
    total = float(sum(np.maximum(e, 0).sum() for _, _, e, _ in parts))
    if sc.inflow.nareis.mode == "endogenous":
        total *= 1 + sc.inflow.nareis.ratio
    return total


def group_mix_rows(sc: Scenario, mix: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative group mixes and each case's row: mix 0 (the scenario's groups) has a row per arrival
    year (``shares_by_year`` where the groups give them, else ``share``); shock k's mix (k + 1) one
    row; cases of mix -1 (circular migration) get row 0 and carry their own group."""
    y0 = int(years.min()) if years.size else 2000
    y1 = int(years.max()) if years.size else y0
    cum = _per_scenario(sc, ("group_mix", y0, y1), lambda: _group_mix_table(sc, y0, y1)).copy()
    return cum, _mix_rows(np.asarray(mix, np.int64), np.asarray(years, np.int64), y0, y1 - y0 + 1)


@njit(cache=True, nogil=True)
def _mix_rows(mix, years, y0, n_years):
    """Each case's row of the cumulative mixes: its arrival year's (mix 0), its shock's (mix k > 0
    after the years), or row 0 (mix -1, circular migration)."""
    row = np.empty(mix.shape[0], np.int64)
    for i in range(mix.shape[0]):
        m = mix[_u(i)]
        row[_u(i)] = n_years + m - 1 if m > 0 else (years[_u(i)] - y0 if m == 0 else 0)
    return row


def _group_mix_table(sc: Scenario, y0: int, y1: int) -> np.ndarray:
    """The cumulative group mixes of :func:`group_mix_rows`: a row per arrival year ``y0`` .. ``y1``,
    then one per shock."""
    names = [g.name for g in sc.groups]
    base = np.array([g.share for g in sc.groups], np.float64)
    span = np.arange(y0, y1 + 1)
    rows = []
    for y in span:
        v = np.array([g.shares_by_year.get(int(y), np.nan) for g in sc.groups], np.float64)
        v = base if np.isnan(v).any() else v
        rows.append(v / v.sum())
    for shock in sc.inflow.shocks:
        v = np.array([shock.group_shares.get(nm, 0.0) for nm in names]) if shock.group_shares else base
        rows.append(v / v.sum())
    cum = np.cumsum(np.vstack(rows), axis=1)
    cum[:, -1] = 1.0 + 1e-12
    return cum


def late_tables(sc: Scenario, grid: TimeGrid) -> np.ndarray:
    """The late branches' cumulative probabilities by month and row ([late, month, row, successor]):
    the decision (grant, else rejection) at the group's grant rate of the decision year, unaccompanied
    minors at theirs; the departure route (independent, forced, without supervision) by group, moved
    by the country-cooperation lever (and a circular-migration deal) from its start, after its lag.
    Built once per scenario (a copy each call: a run's hooks may change theirs)."""
    return _per_scenario(sc, ("late_tables", grid), lambda: _late_tables(sc, grid)).copy()


def _late_tables(sc: Scenario, grid: TimeGrid) -> np.ndarray:
    from ketenplan.returns.cooperation import apply_change, ramp
    from ketenplan.scenario.pillar4 import GroupReturn

    months = grid.months()
    n_m, groups = len(months), sc.groups
    n_rows = len(groups) + 1  # the last row: unaccompanied minors
    width = int(R.tables().succ.shape[1])
    cum = np.ones((len(R.LATE_SLOTS), n_m, n_rows, width), np.float64)
    years = months.year.to_numpy()
    for g_idx, g in enumerate(groups):
        cum[LATE_DECISION, :, g_idx, 0] = [g.grant_rate_in(int(y)) for y in years]
    cum[LATE_DECISION, :, -1, 0] = sc.minors.grant_rate
    r = sc.return_
    national = (r.share_independent, r.share_forced, r.share_unsupervised)
    base = {g.name: (g.departure_shares if (r.by_group and g.departure_shares) else national) for g in groups}
    as_return = {n: GroupReturn(group=n, p_independent=v[0], p_forced=v[1], p_unsupervised=v[2], p_still_present=0.0,
                                mean_months_to_departure=1.0) for n, v in base.items()}
    lever = sc.cooperation
    changes = {c.group: c.change for c in lever.changes}
    circ = sc.circular
    ref = as_return[lever.reference_group]
    for m_idx, p in enumerate(months):
        since = (p.year - lever.start_year) * 12 + (p.month - 1)
        share = ramp(since, lever.lag_months, lever.ramp_months)
        for g_idx, g in enumerate(groups):
            effect = changes.get(g.name, 0.0) * share
            if circ.group == g.name and circ.places_per_year > 0:
                since_c = (p.year - circ.start.year) * 12 + (p.month - circ.start.month)
                effect += circ.cooperation_change * ramp(since_c, lever.lag_months, lever.ramp_months)
            o = as_return[g.name]
            if effect:
                o = apply_change(o, ref, max(-1.0, min(1.0, effect)))
            shares = np.array([o.p_independent, o.p_forced, o.p_unsupervised])
            shares = shares / shares.sum()
            cum[LATE_DEPARTURE, m_idx, g_idx, :3] = np.cumsum(shares)
        cum[LATE_DEPARTURE, m_idx, -1, :3] = np.cumsum(national) / sum(national)
    return cum


def compile_replicate(scenario: Scenario, key: np.ndarray, first_monthly: np.ndarray | None = None,
                      start=None) -> Compiled:
    """Draw one replicate's cases and inputs under the replicate's Philox ``key``
    (``engine.rng.replicate_key``). ``first_monthly`` replaces the first-application stream
    [persons per grid month] (a forecast sample path). ``start``: the chain's state on a day
    (``engine.snapshot.Snapshot`` on the same grid); only arrivals from that day on are drawn and the
    run begins there. A scenario with ``simulation.initial_state = 'history'`` starts from its
    history snapshot unless ``start`` is given."""
    sc = scenario
    key = G.key_schedule(key)  # the round keys appended (every keyed draw takes them)
    grid = time_grid(sc)
    T = grid.T
    from ketenplan.engine.hooks import half_years

    half_idx, half_labels, _, _ = half_years(grid.day0, T)
    out = Compiled(grid=grid, half_labels=half_labels, group_names=tuple(g.name for g in sc.groups))
    months, months_abs, lo, hi = _month_bounds(grid)

    # ---- arrivals: persons per month and part, grouped into households on keyed days ----
    hh, minors = sc.household, sc.minors
    parts, exp_first = inflow_parts(sc, grid, first_monthly)
    snap = start
    if snap is None and sc.simulation.initial_state == "history":
        # the chain on the start day is the history's (engine.snapshot): only later arrivals are drawn
        from ketenplan.engine.snapshot import history_snapshot

        snap = history_snapshot(sc)
    if snap is not None:
        if snap.day0 != grid.day0:
            raise ValueError(f"the starting state's grid begins {snap.day0}, the scenario's {grid.day0}")
        from_day = grid.day0 + dt.timedelta(days=snap.day)
        if from_day.day != 1:
            raise ValueError(f"a run from a starting state starts on the first of a month, found {from_day}")
        later = (months_abs >= from_day.year * 12 + from_day.month - 1).astype(np.float64)  # months from then on
        parts = [(part, code, np.asarray(expected, np.float64) * later, mix) for part, code, expected, mix in parts]
        if sc.inflow.nareis.mode == "endogenous":  # the families of those granted before the start
            from ketenplan.engine.snapshot import nareis_pipeline

            # in part order (after resettlement), so that the cases stay ordered by identity
            parts.insert(3, (PART_OF_STREAM[STREAM_NAREIS], STREAM_NAREIS, nareis_pipeline(snap, sc, grid), 0))
    # ---- durations of the draws ----
    p, r, det, lvv = sc.procedure, sc.return_, sc.detention, sc.lvv
    stc = sc.safe_third_country
    gamma = lambda mean, cv: Duration(name="gamma", mean=mean, cv=cv)  # noqa: E731
    dspec = np.array([_duration_row(d) for d in (
        sc.registration.col_stay, sc.dublin.duration, p.rvt, p.aa, p.safe_track, p.va, sc.appeal.duration,
        r.restricted_stay, r.time_to_departure, gamma(det.mean_stay_days, det.stay_cv), sc.housing.lead_time,
        sc.inflow.nareis.lag, gamma(stc.track_days, sc.procedure.safe_track.cv or 0.5),
        Duration(name="exponential", mean=lvv.rest_period_days + lvv.guidance_mean_months * DAYS_PER_MONTH),
        Duration(name="fixed", mean=lvv.patience_days), Duration(name="fixed", mean=det.patience_days),
        *(getattr(sc.regular, n).decision for n in REGULAR_STREAMS))])

    sizes, kids, days, keys, codes, mixes = [], [], [], [], [], []
    for part, code, expected, mix in parts:
        persons = _month_counts(key, part, months_abs, np.maximum(np.asarray(expected, np.float64), 0.0))
        asylum = code in (STREAM_FIRST, STREAM_SUBSEQUENT)
        regular = code >= STREAM_LABOUR0
        s, c, d, k = _households(key, part, months_abs, persons, lo, hi,
                                 uam_household_share(minors.share_of_first_applications, hh.family_share,
                                                     hh.family_adults - 1.0, hh.family_children - 1.0)
                                 if asylum else 0.0,
                                 0.0 if regular else hh.family_share, hh.family_adults - 1.0, hh.family_children - 1.0,
                                 sc.regular.batch_persons if regular and mix != -1 else 0)
        sizes.append(s), kids.append(c), days.append(d), keys.append(k), codes.append(code), mixes.append(mix)
    counts = [a.shape[0] for a in sizes]
    size_p, children_p, arrival_p = np.concatenate(sizes), np.concatenate(kids), np.concatenate(days)
    ckey_p = np.concatenate(keys)
    stream_p = np.repeat(np.array(codes, np.int8), counts)
    mix_p = np.repeat(np.array(mixes, np.int64), counts)
    order = _day_order(arrival_p, ckey_p)  # by day, then identity: the order never depends on other parts
    n_primary = order.shape[0]

    # ---- nareis: family members who follow a permit holder, activated by the kernel ----
    # (keyed by case: drawn in part order, the same as in day order)
    if sc.inflow.nareis.mode == "endogenous":
        can = np.zeros(len(R.STREAMS), np.bool_)
        can[[STREAM_FIRST, STREAM_SUBSEQUENT, STREAM_RESETTLEMENT]] = True
        count, lag = _nareis(key, ckey_p, size_p, stream_p, can, sc.inflow.nareis.ratio, dspec)
    else:
        count = lag = np.zeros(n_primary, np.int64)
    n = n_primary + int(np.count_nonzero(count))

    # ---- the per-case arrays in day order, each family member after the cases of the primary
    # inflow (in its sponsor's order), written once: with room for a starting state's cases in front
    # (engine.snapshot.combine fills it), case links numbered from there ----
    H = snap.n_cases if snap is not None else 0

    def zeros(shape: tuple, dtype) -> np.ndarray:
        return np.zeros((H + shape[0],) + shape[1:], dtype)[H:]

    def room(dtype) -> np.ndarray:
        return np.empty(H + n, dtype)[H:]

    size, in_size, children, arrival = room(np.int64), room(K.CASE_INT), room(np.int64), room(np.int64)
    ckey, in_ckey, stream, in_stream = room(np.uint64), room(np.uint64), room(np.int8), room(np.int8)
    nareis_child, nareis_lag, parent, uam = room(K.CASE_INT), room(K.CASE_INT), room(K.CASE_INT), room(np.bool_)
    mix = np.empty(n, np.int64)
    group_in = np.empty(n, np.int64)
    parents = np.empty(n - n_primary, np.int64)
    _assemble(order, size_p, children_p, arrival_p, ckey_p, stream_p, mix_p, count, lag, H, G.NAREIS_BIT,
              STREAM_NAREIS, size, in_size, children, arrival, ckey, in_ckey, stream, in_stream, mix, nareis_child,
              nareis_lag, parent, group_in, uam, parents)

    # ---- nationality group mixes by part and arrival year ----
    arr_year = _arrival_years(grid, arrival)
    cum_mix, mixrow = group_mix_rows(sc, mix, arr_year)
    names = [g.name for g in sc.groups]
    circ = mix == -1
    if circ.any():
        group_in[circ] = names.index(sc.circular.group)
    grant_rate = np.array([g.grant_rate for g in sc.groups], np.float64)
    safe = np.array([g.safe_country for g in sc.groups], np.bool_)
    stc_share = np.zeros(len(names))
    for x in stc.shares:
        stc_share[names.index(x.group)] = x.share
    regular_grant = np.array([getattr(sc.regular, nm).grant_rate for nm in REGULAR_STREAMS], np.float64)
    lv, dub, ap = sc.levers, sc.dublin, sc.appeal
    lo_ = lvv.outcomes
    d_s = lo_.durable_split
    par = np.zeros(N_PAR)
    par[[PAR_DUBLIN_SHARE, PAR_TRIAGE, PAR_ROUTING, PAR_LIKELY, PAR_LEGAL_AID, PAR_NO_HEARING, PAR_VA_SHARE,
         PAR_APPEAL_SHARE, PAR_APPEAL_SUCCESS, PAR_TERM_DAYS, PAR_RESTRICTED, PAR_DUB_ACCEPT, PAR_DUB_TRANSFER,
         PAR_DUB_ABSCOND, PAR_STC_TRANSFER, PAR_STC_SUBSTANTIVE, PAR_LVV_REQUEST, PAR_LVV_INDEPENDENT,
         PAR_LVV_UNSUPERVISED, PAR_LVV_PERMIT, PAR_DETENTION_VERIFIED, PAR_MINOR_ADEQUATE, PAR_MINOR_RULE,
         PAR_AGE_16, PAR_AGE_14, PAR_DIRECT_PLACEMENT, PAR_NAREIS_HOME]] = [
        dub.share, lv.triage, lv.routing_small_scale, lv.likely_grant_threshold, lv.legal_aid_after_intended_rejection,
        lv.no_hearing_repeat_without_chance, p.va_share, ap.share, ap.success_rate, round(r.departure_term_days),
        r.restricted_share, dub.accept_rate, dub.transfer_rate, dub.abscond_rate, stc.p_transfer,
        stc.p_substantive_after_all, lvv.request_share,
        # LVV outcomes (docs/returns.md): durable = legal stay / return / onward migration in equal parts,
        # semi-durable = a new asylum application or a medical postponement (which ends without a solution)
        lo_.durable * d_s[1], lo_.durable * d_s[2] + lo_.none + lo_.semi_durable * lo_.semi_split[1],
        lo_.durable * d_s[0], det.verified_departure_share, minors.adequate_reception_share,
        minors.return_requires_adequate_reception, minors.age_split[0], minors.age_split[1],
        sc.resettlement.direct_placement, sc.inflow.nareis.share_to_sponsor_home]
    dur = zeros((n, len(R.DURATION_SLOTS)), np.int32)
    branch = zeros((n, len(R.BRANCH_SLOTS)), np.int8)
    late_u = zeros((n, len(R.LATE_SLOTS)), np.float64)
    group = zeros((n,), np.int16)
    track = zeros((n,), np.int8)
    routed = zeros((n,), np.bool_)
    likely = zeros((n,), np.bool_)
    late_row = zeros((n,), K.CASE_INT)
    dconst = G.duration_constants(dspec)
    # stays that are the same for every case: the waits with patience (fixed) and a circular stay
    fixed_slot = np.array([DUR_LVV_PATIENCE, DUR_DETENTION_PATIENCE, D_["circular_stay"]], np.int64)
    fixed_days = np.array([int(np.ceil(lvv.patience_days)), int(np.ceil(det.patience_days)),
                           int(round(sc.circular.stay_months * DAYS_PER_MONTH))], dur.dtype)
    lanes = draw_lanes()
    # sponsors first (family members take their sponsor's group), then the family members
    for lo_i, hi_i in ((0, n_primary), (n_primary, n)):
        if hi_i <= lo_i:
            continue
        if lo_i == n_primary:
            group_in[n_primary:] = group[parents]
        sl = slice(lo_i, hi_i)
        _draw_cases(draw_constants(), key, ckey[sl], stream[sl], mixrow[sl], group_in[sl], uam[sl], arrival[sl], cum_mix,
                    grant_rate, safe, stc_share, regular_grant, par, dspec, dconst, fixed_slot, fixed_days, dur[sl],
                    branch[sl], late_u[sl], group[sl], track[sl], routed[sl], likely[sl], late_row[sl], *lanes)

    # stays drawn by the kernel when a case enters them: the duration spec and purpose of each slot
    slot_spec = np.full(len(R.DURATION_SLOTS), -1, np.int64)
    slot_purpose = np.zeros(len(R.DURATION_SLOTS), np.int64)
    for slot, row, purpose in LAZY_SLOTS:
        slot_spec[D_[slot]] = row
        slot_purpose[D_[slot]] = purpose

    # ---- per-day inputs ----
    desk_cap = np.zeros((len(R.DESKS), T))
    dc = sc.decision_capacity
    pooled = dc.pooling == "shared"
    desk_cap[R.DESK["registration"]] = grid_steps(sc.registration.capacity_per_day, grid)
    regular_cap = grid_steps(dc.regular, grid) / 7.0
    if pooled:
        desk_cap[R.DESK["ind_general"]] = grid_steps(dc.total, grid) / 7.0
    else:
        for desk, steps in (("ind_general", dc.general), ("ind_safe", dc.safe), ("ind_dublin", dc.dublin)):
            desk_cap[R.DESK[desk]] = grid_steps(steps, grid) / 7.0
    if dc.regular_shares_asylum_capacity:
        desk_cap[R.DESK["ind_general"]] += regular_cap
    else:
        desk_cap[R.DESK["ind_regular"]] = regular_cap
    desk_cap[R.DESK["detention"]] = det.places
    desk_cap[R.DESK["lvv"]] = lvv.places
    tb = R.tables()
    month_of_day = _month_of_day(grid.day0, grid.end).copy()
    out.inputs = K.Inputs(
        **{f: getattr(tb, f) for f in K.TABLE_FIELDS if f not in ("desk_queues", "kc")}, kc=K.kernel_constants(),
        desk_queues=R.desk_layout(pooled, dc.regular_shares_asylum_capacity),
        desk_cap=desk_cap, cap_regular=grid_steps(sc.reception.capacity_regular, grid),
        cap_small=grid_steps(sc.reception.capacity_small, grid),
        statutory_days=np.round(grid_steps(sc.procedure.statutory_months, grid) * DAYS_PER_MONTH).astype(np.int64),
        month_of_day=month_of_day.astype(np.int64), late_cum=late_tables(sc, grid),
        key=key, dspec=dspec, slot_spec=slot_spec, slot_purpose=slot_purpose,
        size=in_size, stream=in_stream, track=track, routed=routed, late_row=late_row, case_key=in_ckey, dur=dur,
        branch=branch, late_u=late_u, nareis_child=nareis_child, nareis_lag=nareis_lag, parent=parent)
    out.case = dict(arrival_day=arrival, size=size, children=children, stream=stream, group=group, track=track,
                    routed=routed, likely=likely, case_key=ckey, uam=uam)
    # housing prognosis for the first half-year: expected permits from the first half-year's inflow
    first_half = half_idx == 0
    exp_persons = float(exp_first[: max(1, int(first_half.sum() // 30))].sum())
    shares = np.array([g.share for g in sc.groups])
    mean_rate = float(np.dot(shares / shares.sum(), grant_rate))
    out.policy = sc.reception_policy
    out.decision_policy = sc.decision_policy
    out.housing = dict(given={t.period: t.value for t in sc.housing.tasks}, scale=sc.housing.task_scale,
                       realisation_rate=sc.housing.realisation_rate, rule=sc.housing.task_rule,
                       initial_expected=exp_persons * mean_rate * (1 - sc.dublin.share),
                       # (from a starting state, engine.snapshot.combine takes the mean over the carried cases too)
                       **housing_market_settings(sc, size[stream == R.STREAM["first"]] if snap is None else size[:0]))
    if snap is not None:
        from ketenplan.engine.snapshot import combine

        out = combine(snap, out)
    return out


def housing_market_settings(sc: Scenario, household_sizes: np.ndarray) -> dict:
    """The housing market (P6.5) for the housing task hook: its parameters (every field read, so a
    scenario view records them) with the displaced Ukrainians' demand added to the competing urgent
    dwellings, whether it caps the task, and persons per household of the task [persons]
    (mean size of the first-application cases, one dwelling per case)."""
    from ketenplan.integration.housing import ukrainian_competing_dwellings
    from ketenplan.scenario.pillar6 import HousingMarket

    hm = sc.housing_market
    values = {k: getattr(hm, k) for k in HousingMarket.model_fields}
    market = HousingMarket(**values)
    ukr = ukrainian_competing_dwellings(market.ukrainian_persons_in_municipal_reception,
                                        market.ukrainian_share_moving_on_per_half_year, market)
    market = market.model_copy(update={"competing_urgent_dwellings": market.competing_urgent_dwellings + ukr})
    pph = float(household_sizes.mean()) if len(household_sizes) else 1.0
    return dict(market=market if market.enabled else None, persons_per_household=max(pph, 1.0))
