"""Compile a scenario into the kernel's named inputs, drawing every random quantity up front.

Draws are keyed (``engine.rng``): each is a function of the replicate's key, the purpose of the
draw and the case's identity, never of the order in which cases are drawn. The same scenario and
seed give the same arrays on every backend, and a change of one stream's volume adds or removes
cases of that stream while every other case keeps its household, arrival day, nationality group,
decision and durations (common random numbers across scenarios).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R
from ketenplan.engine import rng as G
from ketenplan.scenario.schema import DAYS_PER_MONTH, Duration, MonthValue, Scenario, Step

STREAM_FIRST, STREAM_SUBSEQUENT, STREAM_NAREIS, STREAM_RESETTLEMENT = (R.STREAM[n] for n in (
    "first", "subsequent", "nareis", "resettlement"))
TRACK_GENERAL, TRACK_SAFE, TRACK_DUBLIN, TRACK_NONE = (R.TRACK[n] for n in ("general", "safe_country", "dublin",
                                                                            "none"))
# inflow parts (the first component of a case's identity): one per stream; the extra arrivals of
# shock k with its own group mix are part SHOCK_PART0 + k
PART_OF_STREAM = {STREAM_FIRST: 0, STREAM_SUBSEQUENT: 1, STREAM_RESETTLEMENT: 2, STREAM_NAREIS: 3}
SHOCK_PART0 = 8
# the keyed draws' purposes (engine.rng.PURPOSES)
(P_MONTH_COUNT, P_HOUSEHOLD, P_DECISION, P_RETURN, P_DUB_OUTCOME, P_COL, P_DUB_DURATION, P_RVT, P_AA, P_SAFE, P_VA,
 P_APPEAL_DURATION, P_RESTRICTED_STAY, P_DEPARTURE, P_DETENTION, P_LEAD, P_NAREIS_COUNT, P_NAREIS_LAG) = (
    G.P[n] for n in ("month_count", "household", "decision", "return", "dublin_outcome", "col", "dublin", "rvt", "aa",
                     "safe_track", "va", "appeal", "restricted_stay", "departure", "detention", "lead",
                     "nareis_count", "nareis_lag"))
# the registry's per-case slots
(DUR_COL, DUR_DUBLIN, DUR_PROCEDURE, DUR_EXTENDED, DUR_LEAD, DUR_APPEAL, DUR_TERM, DUR_RESTRICTED, DUR_DEPARTURE,
 DUR_DETENTION) = (R.DURATION[n] for n in ("col", "dublin", "procedure", "extended", "lead", "appeal", "term",
                                          "restricted", "departure", "detention"))
(BR_AFTER_CENTRAL, BR_DUBLIN_OUTCOME, BR_AFTER_PROCEDURE, BR_AFTER_EXTENDED, BR_APPEAL_OUTCOME, BR_AFTER_TERM,
 BR_AFTER_RESTRICTED, BR_DEPARTURE_TYPE) = (R.BRANCH[n] for n in (
    "after_central", "dublin_outcome", "after_procedure", "after_extended", "appeal_outcome", "after_term",
    "after_restricted", "departure_type"))


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
        return pd.date_range(self.day0, self.end, freq="D")

    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.day0, self.end, freq="M")

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


def time_grid(scenario: Scenario) -> TimeGrid:
    s = scenario.simulation
    return TimeGrid(day0=s.grid_start, start=s.start, end=s.end)


def step_values(steps: tuple[Step, ...], dates: pd.DatetimeIndex) -> np.ndarray:
    """Piecewise-constant values on each date; before the first step the first value holds."""
    starts = np.array([np.datetime64(s.start) for s in steps], dtype="datetime64[D]")
    vals = np.array([s.value for s in steps], np.float64)
    pos = np.searchsorted(starts, dates.values.astype("datetime64[D]"), side="right") - 1
    return vals[np.clip(pos, 0, None)]


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
        lam = expected[m]
        if lam > 0:
            ck = (np.uint64(part) << np.uint64(56)) | (np.uint64(months_abs[m]) << np.uint64(32)) | G.MONTH_INDEX
            out[m] = G.poisson_ppf(G.uniforms(key, P_MONTH_COUNT, ck, 0)[0], lam)
    return out


@njit(cache=True, nogil=True)
def _households(key, part, months_abs, persons, lo, hi, uam, fam, extra_adult, extra_kids):
    """Cases of one inflow part: for each month, households drawn by index until the month's
    persons are reached (the last one trimmed), each on a keyed day within the month.
    Returns size, children, day, case key."""
    total = int(persons.sum())
    size = np.empty(total, np.int64)
    kids = np.empty(total, np.int64)
    day = np.empty(total, np.int64)
    keys = np.empty(total, np.uint64)
    c = 0
    for m in range(months_abs.shape[0]):
        left = persons[m]
        idx = 0
        base = (np.uint64(part) << np.uint64(56)) | (np.uint64(months_abs[m]) << np.uint64(32))
        while left > 0:
            ck = base | np.uint64(idx)
            u, v, w, x = G.uniforms4(key, P_HOUSEHOLD, ck, 0)  # type, extra adult, day, children
            if u < uam:
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
            size[c] = sz
            kids[c] = k
            day[c] = lo[m] + int(w * (hi[m] - lo[m] + 1))
            keys[c] = ck
            left -= sz
            idx += 1
            c += 1
    return size[:c], kids[:c], day[:c], keys[:c]


# indices of the scalar parameters of _draw_cases
(PAR_DUBLIN_SHARE, PAR_TRIAGE, PAR_ROUTING, PAR_LIKELY, PAR_LEGAL_AID, PAR_NO_HEARING, PAR_VA_SHARE,
 PAR_APPEAL_SHARE, PAR_APPEAL_SUCCESS, PAR_TERM_DAYS, PAR_RESTRICTED, PAR_SHARE_IND, PAR_SHARE_FORCED,
 PAR_DUB_ACCEPT, PAR_DUB_TRANSFER, PAR_DUB_ABSCOND) = range(16)
# rows of the duration table of _draw_cases
(D_COL, D_DUBLIN, D_RVT, D_AA, D_SAFE, D_VA, D_APPEAL, D_RESTRICTED, D_DEPARTURE, D_DETENTION, D_LEAD,
 D_NAREIS_LAG) = range(12)


@njit(cache=True, nogil=True)
def _draw_cases(key, ckey, stream, mix, group_in, cum_mix, grant_rate, safe, par, dspec, dur, branch,
                group, track, routed, likely):
    """Every case's nationality group, track and pre-drawn path through the chain, by keyed draws.
    One Philox call gives a case's group, Dublin claim, grant and referral to the extended
    procedure; one more its appeal, appeal outcome, freedom-restricting location and departure
    type; each duration has its own. A draw a case does not need is never made and never shifts
    another case's draws."""
    for i in range(ckey.shape[0]):
        k = ckey[i]
        s = stream[i]
        u_group, u_dublin, u_grant, u_va = G.uniforms4(key, P_DECISION, k, 0)
        # nationality group: the mix of the case's part; a family member follows the sponsor
        if group_in[i] >= 0:
            g = group_in[i]
        else:
            row = cum_mix[mix[i]]
            g = 0
            while g < row.shape[0] - 1 and u_group >= row[g]:
                g += 1
        group[i] = g
        rate = grant_rate[g]
        likely[i] = rate >= par[PAR_LIKELY]
        if s == STREAM_RESETTLEMENT or s == STREAM_NAREIS:
            track[i] = TRACK_NONE
            routed[i] = False
            if s == STREAM_NAREIS:
                dur[i, DUR_COL] = max(_dd(key, P_COL, k, dspec, D_COL), 1)
                branch[i, BR_AFTER_CENTRAL] = 0  # permit on arrival: to the lead time
                dur[i, DUR_LEAD] = _dd(key, P_LEAD, k, dspec, D_LEAD)
            continue
        if s == STREAM_FIRST and u_dublin < par[PAR_DUBLIN_SHARE]:
            tr = TRACK_DUBLIN
        elif safe[g] and par[PAR_TRIAGE] > 0:
            tr = TRACK_SAFE
        else:
            tr = TRACK_GENERAL
        track[i] = tr
        routed[i] = likely[i] and par[PAR_ROUTING] > 0
        grant = u_grant < rate
        dur[i, DUR_COL] = max(_dd(key, P_COL, k, dspec, D_COL), 1)
        if tr == TRACK_DUBLIN:
            branch[i, BR_AFTER_CENTRAL] = 1
            u = G.uniforms4(key, P_DUB_OUTCOME, k, 0)[0]
            acc = par[PAR_DUB_ACCEPT]
            trf = par[PAR_DUB_TRANSFER]
            o = 0 if u < acc * trf else (1 if u < acc * trf + acc * (1 - trf) * par[PAR_DUB_ABSCOND] else 2)
            branch[i, BR_DUBLIN_OUTCOME] = o  # transfer, abscond, or lapse to the national procedure
            dur[i, DUR_DUBLIN] = max(_dd(key, P_DUB_DURATION, k, dspec, D_DUBLIN), 1)
            if o != 2:
                continue
        else:
            branch[i, BR_AFTER_CENTRAL] = 2 if tr == TRACK_GENERAL else 3
        # the national procedure
        repeat_no_chance = s == STREAM_SUBSEQUENT and not grant and par[PAR_NO_HEARING] > 0
        if tr == TRACK_SAFE:
            proc = _dd(key, P_SAFE, k, dspec, D_SAFE)
        else:
            rvt = 0 if (par[PAR_LEGAL_AID] > 0 and grant) else _dd(key, P_RVT, k, dspec, D_RVT)
            proc = rvt + _dd(key, P_AA, k, dspec, D_AA)
        if repeat_no_chance:
            proc = 1  # decided without a hearing
        dur[i, DUR_PROCEDURE] = max(proc, 1)
        va = tr != TRACK_SAFE and u_va < par[PAR_VA_SHARE] and not repeat_no_chance
        if va:
            dur[i, DUR_EXTENDED] = _dd(key, P_VA, k, dspec, D_VA)
        u_appeal, u_success, u_restricted, u_dep = G.uniforms4(key, P_RETURN, k, 0)
        if grant:
            decided = 0
        elif u_appeal < par[PAR_APPEAL_SHARE]:
            decided = 1
            dur[i, DUR_APPEAL] = _dd(key, P_APPEAL_DURATION, k, dspec, D_APPEAL)
        else:
            decided = 2
        branch[i, BR_AFTER_PROCEDURE] = 0 if va else 1 + decided
        branch[i, BR_AFTER_EXTENDED] = decided
        permit = grant
        if decided == 1:
            permit = u_success < par[PAR_APPEAL_SUCCESS]
            branch[i, BR_APPEAL_OUTCOME] = 0 if permit else 1
        if permit:
            dur[i, DUR_LEAD] = _dd(key, P_LEAD, k, dspec, D_LEAD)
            continue
        # return: departure term, maybe a freedom-restricting location, then departure
        dur[i, DUR_TERM] = 0 if tr == TRACK_SAFE else int(par[PAR_TERM_DAYS])
        restricted = u_restricted < par[PAR_RESTRICTED]
        dep = 0 if u_dep < par[PAR_SHARE_IND] else (1 if u_dep < par[PAR_SHARE_IND] + par[PAR_SHARE_FORCED] else 2)
        branch[i, BR_AFTER_TERM] = 0 if restricted else (1 if dep == 1 else 2)
        branch[i, BR_AFTER_RESTRICTED] = 0 if dep == 1 else 1
        branch[i, BR_DEPARTURE_TYPE] = dep
        if restricted:
            dur[i, DUR_RESTRICTED] = _dd(key, P_RESTRICTED_STAY, k, dspec, D_RESTRICTED)
        if dep == 1:
            dur[i, DUR_DETENTION] = _dd(key, P_DETENTION, k, dspec, D_DETENTION)
        else:
            dur[i, DUR_DEPARTURE] = _dd(key, P_DEPARTURE, k, dspec, D_DEPARTURE)


@njit(cache=True, nogil=True, inline="always")
def _dd(key, purpose, ck, dspec, row):
    return G.duration_days(key, purpose, ck, int(dspec[row, 0]), dspec[row, 1], dspec[row, 2], dspec[row, 3],
                           dspec[row, 4])


@njit(cache=True, nogil=True)
def _nareis(key, ckey, size, stream, ratio, dspec):
    """Family members who may follow each case once it is granted (endogenous nareis): a keyed
    Poisson count per sponsor (ratio x persons) and the lag after the permit [days]."""
    n = ckey.shape[0]
    count = np.zeros(n, np.int64)
    lag = np.zeros(n, np.int64)
    for i in range(n):
        if stream[i] == STREAM_NAREIS:
            continue
        count[i] = G.poisson_ppf(G.uniforms4(key, P_NAREIS_COUNT, ckey[i], 0)[0], ratio * size[i])
        if count[i] > 0:
            lag[i] = _dd(key, P_NAREIS_LAG, ckey[i], dspec, D_NAREIS_LAG)
    return count, lag


def _month_bounds(grid: TimeGrid) -> tuple[pd.PeriodIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Grid months: the months, their absolute index (months since year 0) and the first and last
    grid day of each (partial first and last months cut to the grid)."""
    months = grid.months()
    start = (months.to_timestamp(how="start").values.astype("datetime64[D]") - np.datetime64(grid.day0, "D"))
    end = (months.to_timestamp(how="end").values.astype("datetime64[D]") - np.datetime64(grid.day0, "D"))
    lo = np.maximum(start.astype(np.int64), 0)
    hi = np.minimum(end.astype(np.int64), grid.T - 1)
    return months, (months.year * 12 + months.month - 1).to_numpy(np.int64), lo, hi


def inflow_parts(sc: Scenario, grid: TimeGrid, first_monthly: np.ndarray | None = None):
    """The inflow's parts: ``[(part, stream, expected persons per grid month, group-mix index)]``.
    Mix 0 is the scenario's group shares; mix k + 1 is shock k's ``group_shares``."""
    profile = np.array(sc.inflow.monthly_profile)
    exp_first = first_monthly if first_monthly is not None else monthly_persons(
        sc.inflow.first.per_year, sc.inflow.first.monthly, grid, profile)
    first_parts = shocked_first(exp_first, sc.inflow.shocks, grid)
    parts = [(PART_OF_STREAM[STREAM_FIRST], STREAM_FIRST, first_parts[0][0], 0),
             (PART_OF_STREAM[STREAM_SUBSEQUENT], STREAM_SUBSEQUENT,
              monthly_persons(sc.inflow.subsequent.per_year, sc.inflow.subsequent.monthly, grid, profile), 0),
             (PART_OF_STREAM[STREAM_RESETTLEMENT], STREAM_RESETTLEMENT,
              monthly_persons(sc.inflow.resettlement.per_year, sc.inflow.resettlement.monthly, grid, None), 0)]
    if sc.inflow.nareis.mode == "given":
        parts.append((PART_OF_STREAM[STREAM_NAREIS], STREAM_NAREIS,
                      monthly_persons(sc.inflow.nareis.per_year, sc.inflow.nareis.monthly, grid, None), 0))
    for expected, k in first_parts[1:]:
        parts.append((SHOCK_PART0 + k, STREAM_FIRST, expected, k + 1))
    return parts, exp_first


def expected_persons(sc: Scenario, first_monthly: np.ndarray | None = None) -> float:
    """Persons expected to arrive over the whole grid (nareis included at its ratio): the size a
    replicate will have, known before anything is drawn."""
    grid = time_grid(sc)
    parts, _ = inflow_parts(sc, grid, first_monthly)
    total = float(sum(np.maximum(e, 0).sum() for _, _, e, _ in parts))
    if sc.inflow.nareis.mode == "endogenous":
        total *= 1 + sc.inflow.nareis.ratio
    return total


def compile_replicate(scenario: Scenario, key: np.ndarray, first_monthly: np.ndarray | None = None) -> Compiled:
    """Draw one replicate's cases and inputs under the replicate's Philox ``key``
    (``engine.rng.replicate_key``). ``first_monthly`` replaces the first-application stream
    [persons per grid month] (a forecast sample path)."""
    sc = scenario
    key = np.asarray(key, np.uint64)
    grid = time_grid(sc)
    dates = grid.dates()
    T = grid.T
    from ketenplan.engine.hooks import half_years

    half_idx, half_labels, _, _ = half_years(grid.day0, T)
    out = Compiled(grid=grid, half_labels=half_labels, group_names=tuple(g.name for g in sc.groups))
    months, months_abs, lo, hi = _month_bounds(grid)

    # ---- arrivals: persons per month and part, grouped into households on keyed days ----
    hh = sc.household
    parts, exp_first = inflow_parts(sc, grid, first_monthly)
    sizes, kids, days, keys, strm, mixes = [], [], [], [], [], []
    for part, code, expected, mix in parts:
        persons = _month_counts(key, part, months_abs, np.maximum(np.asarray(expected, np.float64), 0.0))
        s, c, d, k = _households(key, part, months_abs, persons, lo, hi, hh.uam_share, hh.family_share,
                                 hh.family_adults - 1.0, hh.family_children - 1.0)
        sizes.append(s), kids.append(c), days.append(d), keys.append(k)
        strm.append(np.full(s.shape[0], code, np.int8)), mixes.append(np.full(s.shape[0], mix, np.int64))
    size, children, arrival = np.concatenate(sizes), np.concatenate(kids), np.concatenate(days)
    ckey, stream, mix = np.concatenate(keys), np.concatenate(strm), np.concatenate(mixes)
    order = np.lexsort((ckey, arrival))  # by day, then identity: the order never depends on other parts
    size, children, arrival, ckey, stream, mix = (a[order] for a in (size, children, arrival, ckey, stream, mix))
    n_primary = size.shape[0]

    # ---- durations and the parameters of the draws ----
    p, r = sc.procedure, sc.return_
    dspec = np.array([_duration_row(d) for d in (
        sc.registration.col_stay, sc.dublin.duration, p.rvt, p.aa, p.safe_track, p.va, sc.appeal.duration,
        r.restricted_stay, r.time_to_departure, r.detention, sc.housing.lead_time, sc.inflow.nareis.lag)])

    # ---- nareis: family members who follow a permit holder, activated by the kernel ----
    nareis_child = np.full(n_primary, -1, np.int64)
    nareis_lag = np.zeros(n_primary, np.int64)
    group_in = np.full(n_primary, -1, np.int64)
    if sc.inflow.nareis.mode == "endogenous":
        count, lag = _nareis(key, ckey, size, stream, sc.inflow.nareis.ratio, dspec)
        parents = np.flatnonzero(count > 0)
        nareis_child[parents] = n_primary + np.arange(parents.shape[0])
        nareis_lag = lag
        ksz = count[parents]
        size = np.concatenate([size, ksz])
        children = np.concatenate([children, np.maximum(ksz - 1, 0)])
        arrival = np.concatenate([arrival, np.full(parents.shape[0], -1, np.int64)])
        ckey = np.concatenate([ckey, ckey[parents] | G.NAREIS_BIT])
        stream = np.concatenate([stream, np.full(parents.shape[0], STREAM_NAREIS, np.int8)])
        mix = np.concatenate([mix, mix[parents]])
        nareis_child = np.concatenate([nareis_child, np.full(parents.shape[0], -1, np.int64)])
        nareis_lag = np.concatenate([nareis_lag, np.zeros(parents.shape[0], np.int64)])
        group_in = np.concatenate([group_in, np.full(parents.shape[0], -1, np.int64)])
    else:
        parents = np.zeros(0, np.int64)
    n = size.shape[0]

    # ---- nationality group, track and each case's path through the chain ----
    names = [g.name for g in sc.groups]
    shares = np.array([g.share for g in sc.groups], np.float64)
    mixes_ = [shares / shares.sum()]
    for shock in sc.inflow.shocks:
        m = np.array([shock.group_shares.get(nm, 0.0) for nm in names]) if shock.group_shares else shares
        mixes_.append(m / m.sum())
    cum_mix = np.cumsum(np.vstack(mixes_), axis=1)
    cum_mix[:, -1] = 1.0 + 1e-12
    grant_rate = np.array([g.grant_rate for g in sc.groups], np.float64)
    safe = np.array([g.safe_country for g in sc.groups], np.bool_)
    lv, dub, ap = sc.levers, sc.dublin, sc.appeal
    dep_total = r.share_independent + r.share_forced + r.share_unsupervised  # 1 (checked); the draw uses all three
    par = np.zeros(16)
    par[[PAR_DUBLIN_SHARE, PAR_TRIAGE, PAR_ROUTING, PAR_LIKELY, PAR_LEGAL_AID, PAR_NO_HEARING, PAR_VA_SHARE,
         PAR_APPEAL_SHARE, PAR_APPEAL_SUCCESS, PAR_TERM_DAYS, PAR_RESTRICTED, PAR_SHARE_IND, PAR_SHARE_FORCED,
         PAR_DUB_ACCEPT, PAR_DUB_TRANSFER, PAR_DUB_ABSCOND]] = [
        dub.share, lv.triage, lv.routing_small_scale, lv.likely_grant_threshold, lv.legal_aid_after_intended_rejection,
        lv.no_hearing_repeat_without_chance, p.va_share, ap.share, ap.success_rate, round(r.departure_term_days),
        r.restricted_share, r.share_independent / dep_total, r.share_forced / dep_total, dub.accept_rate,
        dub.transfer_rate, dub.abscond_rate]
    dur = np.zeros((n, len(R.DURATION_SLOTS)), np.int64)
    branch = np.zeros((n, len(R.BRANCH_SLOTS)), np.int8)
    group = np.zeros(n, np.int64)
    track = np.zeros(n, np.int8)
    routed = np.zeros(n, np.bool_)
    likely = np.zeros(n, np.bool_)
    # sponsors first (children take their sponsor's group), then everyone
    _draw_cases(key, ckey[:n_primary], stream[:n_primary], mix[:n_primary], group_in[:n_primary], cum_mix,
                grant_rate, safe, par, dspec, dur[:n_primary], branch[:n_primary], group[:n_primary],
                track[:n_primary], routed[:n_primary], likely[:n_primary])
    if n > n_primary:
        group_in[n_primary:] = group[parents]
        _draw_cases(key, ckey[n_primary:], stream[n_primary:], mix[n_primary:], group_in[n_primary:], cum_mix,
                    grant_rate, safe, par, dspec, dur[n_primary:], branch[n_primary:], group[n_primary:],
                    track[n_primary:], routed[n_primary:], likely[n_primary:])

    # ---- per-day inputs ----
    desk_cap = np.zeros((len(R.DESKS), T))
    desk_cap[R.DESK["registration"]] = step_values(sc.registration.capacity_per_day, dates)
    for desk, steps in (("ind_general", sc.decision_capacity.general), ("ind_safe", sc.decision_capacity.safe),
                        ("ind_dublin", sc.decision_capacity.dublin)):
        desk_cap[R.DESK[desk]] = step_values(steps, dates) / 7.0
    tb = R.tables()
    out.inputs = K.Inputs(
        **{f: getattr(tb, f) for f in K.TABLE_FIELDS},
        desk_cap=desk_cap, cap_regular=step_values(sc.reception.capacity_regular, dates),
        cap_small=step_values(sc.reception.capacity_small, dates),
        statutory_days=np.round(step_values(sc.procedure.statutory_months, dates) * DAYS_PER_MONTH).astype(np.int64),
        size=size.astype(np.int64), stream=stream.astype(np.int8), track=track, routed=routed, dur=dur,
        branch=branch, nareis_child=nareis_child, nareis_lag=nareis_lag)
    out.case = dict(arrival_day=arrival.astype(np.int64), size=size.astype(np.int64),
                    children=children.astype(np.int64), stream=stream.astype(np.int8), group=group.astype(np.int16),
                    track=track, routed=routed, likely=likely, case_key=ckey)
    # housing prognosis for the first half-year: expected permits from the first half-year's inflow
    first_half = half_idx == 0
    exp_persons = float(exp_first[: max(1, int(first_half.sum() // 30))].sum())
    mean_rate = float(np.dot(shares / shares.sum(), grant_rate))
    out.housing = dict(given={t.period: t.value for t in sc.housing.tasks}, scale=sc.housing.task_scale,
                       realisation_rate=sc.housing.realisation_rate, rule=sc.housing.task_rule,
                       initial_expected=exp_persons * mean_rate * (1 - sc.dublin.share))
    return out
