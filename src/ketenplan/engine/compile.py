"""Compile a scenario into the arrays the kernel runs on, drawing all randomness up front.

Every stochastic function takes a ``numpy.random.Generator``. The draws of one replicate are
made in a fixed order, so the same scenario and seed give the same arrays on any backend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ketenplan.engine import kernel as K
from ketenplan.scenario.schema import DAYS_PER_MONTH, Duration, MonthValue, Scenario, Step, Stream


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
# distributions
# ----------------------------------------------------------------------------------------------
def draw_days(spec: Duration, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of a duration [days], rounded up to whole days (int64, >= 0)."""
    if n == 0:
        return np.zeros(0, np.int64)
    if spec.name == "fixed":
        x = np.full(n, spec.mean)
    elif spec.name == "exponential":
        x = rng.exponential(spec.mean, n) if spec.mean > 0 else np.zeros(n)
    elif spec.name == "gamma":
        shape = 1.0 / spec.cv**2
        x = rng.gamma(shape, spec.mean / shape, n)
    elif spec.name == "lognormal":
        sigma2 = np.log1p(spec.cv**2)
        x = rng.lognormal(np.log(max(spec.mean, 1e-12)) - sigma2 / 2, np.sqrt(sigma2), n)
    else:  # uniform
        x = rng.uniform(spec.low, spec.high, n)
    return np.ceil(x - 1e-9).astype(np.int64)


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
    """Kernel inputs for one replicate (per-day, per-half-year and per-case arrays)."""

    grid: TimeGrid
    half_labels: list[str]
    day: dict[str, np.ndarray] = field(default_factory=dict)
    case: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    group_names: tuple[str, ...] = ()

    @property
    def n_cases(self) -> int:
        return int(self.case["size"].shape[0])


def _households(n: int, hh, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw n cases: returns (size, children). UAM: 1 child; family: adults + children; else 1 adult."""
    u = rng.random(n)
    extra_adult = rng.random(n) < (hh.family_adults - 1.0)
    kids = 1 + rng.poisson(hh.family_children - 1.0, n)
    is_uam = u < hh.uam_share
    is_family = (u >= hh.uam_share) & (u < hh.uam_share + hh.family_share)
    children = np.where(is_uam, 1, np.where(is_family, kids, 0))
    adults = np.where(is_uam, 0, np.where(is_family, 1 + extra_adult, 1))
    return (adults + children).astype(np.int64), children.astype(np.int64)


def _arrivals(expected: np.ndarray, grid: TimeGrid, hh, rng: np.random.Generator):
    """Cases arriving: Poisson persons per month, grouped into households, uniform days in the month.

    Households are drawn in one pass for the whole horizon and cut at each month's person count;
    a household that straddles a month boundary arrives in the month of its first member.
    """
    months = grid.months()
    persons = rng.poisson(np.maximum(expected, 0.0))
    total = int(persons.sum())
    if total == 0:
        z = np.zeros(0, np.int64)
        return z, z, z
    n_guess = int(total / 1.3) + 64
    size, kids = _households(n_guess, hh, rng)
    while size.sum() < total:
        s2, k2 = _households(n_guess // 4 + 64, hh, rng)
        size, kids = np.concatenate([size, s2]), np.concatenate([kids, k2])
    cum = np.cumsum(size)
    cut = int(np.searchsorted(cum, total))  # the last household may be trimmed
    size, kids, cum = size[: cut + 1].copy(), kids[: cut + 1].copy(), cum[: cut + 1]
    excess = int(cum[-1] - total)
    if excess:
        kids[-1] -= min(excess, int(kids[-1]))
        size[-1] -= excess
    first_person = np.cumsum(size) - size
    month_of_case = np.searchsorted(np.cumsum(persons), first_person, side="right")
    starts = months.to_timestamp(how="start").values.astype("datetime64[D]")
    day0 = np.datetime64(grid.day0, "D")
    lo = np.maximum((starts - day0).astype(np.int64), 0)
    hi = np.minimum(lo + np.array([p.days_in_month for p in months]) - 1, grid.T - 1)
    lo_c, hi_c = lo[month_of_case], hi[month_of_case]
    days = lo_c + np.floor(rng.random(size.shape[0]) * (hi_c - lo_c + 1)).astype(np.int64)
    order = np.argsort(days, kind="stable")
    return size[order], kids[order], days[order]


def compile_replicate(scenario: Scenario, rng: np.random.Generator,
                      first_monthly: np.ndarray | None = None) -> Compiled:
    """Draw one replicate's cases and inputs. ``first_monthly`` overrides the first-application
    stream [persons/month per grid month] (used for forecast sample paths)."""
    sc = scenario
    grid = time_grid(sc)
    dates = grid.dates()
    T = grid.T
    half_idx, half_labels, half_len = grid.halves()
    out = Compiled(grid=grid, half_labels=half_labels, group_names=tuple(g.name for g in sc.groups))

    # ---- per-day inputs ----
    dec_cap = np.vstack([step_values(sc.decision_capacity.general, dates),
                         step_values(sc.decision_capacity.safe, dates),
                         step_values(sc.decision_capacity.dublin, dates)]) / 7.0
    stat_months = step_values(sc.procedure.statutory_months, dates)
    task_given = np.full(len(half_labels), -1.0)
    given = {t.period: t.value for t in sc.housing.tasks}
    for k, lab in enumerate(half_labels):
        if lab in given:
            task_given[k] = given[lab]
    out.day = dict(
        reg_cap=step_values(sc.registration.capacity_per_day, dates),
        dec_cap=np.ascontiguousarray(dec_cap),
        cap_regular=step_values(sc.reception.capacity_regular, dates),
        cap_small=step_values(sc.reception.capacity_small, dates),
        statutory_days=np.round(stat_months * DAYS_PER_MONTH).astype(np.int64),
        half_of_day=half_idx, half_len=half_len, task_given=task_given,
    )

    # ---- primary streams ----
    profile = np.array(sc.inflow.monthly_profile)
    streams = []
    exp_first = first_monthly if first_monthly is not None else monthly_persons(
        sc.inflow.first.per_year, sc.inflow.first.monthly, grid, profile)
    # what-if shocks; the extra arrivals of a shock with its own group mix form a stream of their own
    first_parts = shocked_first(exp_first, sc.inflow.shocks, grid)
    streams.append((K.STREAM_FIRST, first_parts[0][0]))
    streams.append((K.STREAM_SUBSEQUENT, monthly_persons(sc.inflow.subsequent.per_year,
                                                         sc.inflow.subsequent.monthly, grid, profile)))
    streams.append((K.STREAM_RESETTLEMENT, monthly_persons(sc.inflow.resettlement.per_year,
                                                           sc.inflow.resettlement.monthly, grid, None)))
    if sc.inflow.nareis.mode == "given":
        streams.append((K.STREAM_NAREIS, monthly_persons(sc.inflow.nareis.per_year, sc.inflow.nareis.monthly,
                                                         grid, None)))
    sources = [-1] * len(streams)  # -1: the scenario's group shares; k: those of shock k
    for expected, k in first_parts[1:]:
        streams.append((K.STREAM_FIRST, expected))
        sources.append(k)
    sizes, kids, days, strm, srcs = [], [], [], [], []
    for (code, expected), src in zip(streams, sources):
        s, c, d = _arrivals(expected, grid, sc.household, rng)
        sizes.append(s)
        kids.append(c)
        days.append(d)
        strm.append(np.full(s.shape[0], code, np.int8))
        srcs.append(np.full(s.shape[0], src, np.int16))
    size = np.concatenate(sizes)
    children = np.concatenate(kids)
    arrival = np.concatenate(days)
    stream = np.concatenate(strm)
    source = np.concatenate(srcs)
    order = np.argsort(arrival, kind="stable")
    size, children, arrival, stream, source = size[order], children[order], arrival[order], stream[order], \
        source[order]
    n = size.shape[0]

    # ---- nareis: potential follow-up cases, activated by the kernel when the sponsor is granted ----
    n_primary = size.shape[0]
    nareis_child = np.full(n_primary, -1, np.int64)
    if sc.inflow.nareis.mode == "endogenous":
        can = (stream == K.STREAM_FIRST) | (stream == K.STREAM_SUBSEQUENT) | (stream == K.STREAM_RESETTLEMENT)
        k = rng.poisson(sc.inflow.nareis.ratio * size) * can
        parents = np.flatnonzero(k > 0)
        nareis_child[parents] = n_primary + np.arange(parents.shape[0])
        ksz = k[parents].astype(np.int64)
        size = np.concatenate([size, ksz])
        children = np.concatenate([children, np.maximum(ksz - 1, 0)])
        arrival = np.concatenate([arrival, np.full(parents.shape[0], -1, np.int64)])
        stream = np.concatenate([stream, np.full(parents.shape[0], K.STREAM_NAREIS, np.int8)])
        nareis_child = np.concatenate([nareis_child, np.full(parents.shape[0], -1, np.int64)])
    else:
        parents = np.zeros(0, np.int64)
    n = size.shape[0]
    nareis_lag = draw_days(sc.inflow.nareis.lag, n, rng)

    # ---- nationality group (nareis: the sponsor's), track, routing ----
    shares = np.array([g.share for g in sc.groups])
    group = rng.choice(len(sc.groups), size=n, p=shares / shares.sum()).astype(np.int16)
    names = [g.name for g in sc.groups]
    for k, shock in enumerate(sc.inflow.shocks):
        idx = np.flatnonzero(source == k)
        if idx.size:
            mix = np.array([shock.group_shares.get(nm, 0.0) for nm in names])
            group[idx] = rng.choice(len(names), size=idx.size, p=mix / mix.sum())
    group[n_primary:] = group[parents]
    safe = np.array([g.safe_country for g in sc.groups])[group]
    rate = np.array([g.grant_rate for g in sc.groups])[group]
    is_dublin = (rng.random(n) < sc.dublin.share) & (stream == K.STREAM_FIRST)
    track = np.where(is_dublin, K.TRACK_DUBLIN,
                     np.where(safe & sc.levers.triage, K.TRACK_SAFE, K.TRACK_GENERAL)).astype(np.int8)
    track[(stream == K.STREAM_NAREIS) | (stream == K.STREAM_RESETTLEMENT)] = K.TRACK_NONE
    likely = rate >= sc.levers.likely_grant_threshold
    routed = likely & sc.levers.routing_small_scale & (track != K.TRACK_NONE)

    # ---- outcomes and durations, in a fixed draw order (unused draws of a case are ignored) ----
    grant = rng.random(n) < rate
    # A stay that starts at a desk (registration, an IND slot) lasts at least one day: the desks
    # work after the day's timed events, so a stay of 0 days would end on a day already processed.
    dur_col = np.maximum(draw_days(sc.registration.col_stay, n, rng), 1)
    u = rng.random(n)
    acc, tr, ab = sc.dublin.accept_rate, sc.dublin.transfer_rate, sc.dublin.abscond_rate
    dub_outcome = np.where(u < acc * tr, K.DUB_TRANSFER,
                           np.where(u < acc * tr + acc * (1 - tr) * ab, K.DUB_ABSCOND, K.DUB_LAPSE)).astype(np.int8)
    dur_dublin = np.maximum(draw_days(sc.dublin.duration, n, rng), 1)
    rvt = draw_days(sc.procedure.rvt, n, rng)
    aa = draw_days(sc.procedure.aa, n, rng)
    safe_days = draw_days(sc.procedure.safe_track, n, rng)
    if sc.levers.legal_aid_after_intended_rejection:
        rvt = np.where(grant, 0, rvt)  # no preparation period where no rejection is intended
    dur_proc = np.maximum(np.where(track == K.TRACK_SAFE, safe_days, rvt + aa), 1)
    repeat_without_chance = (stream == K.STREAM_SUBSEQUENT) & ~grant
    if sc.levers.no_hearing_repeat_without_chance:
        dur_proc = np.where(repeat_without_chance, 1, dur_proc)
    va_flag = (rng.random(n) < sc.procedure.va_share) & (track != K.TRACK_SAFE)
    if sc.levers.no_hearing_repeat_without_chance:
        va_flag &= ~repeat_without_chance
    dur_va = draw_days(sc.procedure.va, n, rng)
    appeal = rng.random(n) < sc.appeal.share
    dur_appeal = draw_days(sc.appeal.duration, n, rng)
    appeal_ok = rng.random(n) < sc.appeal.success_rate
    r = sc.return_
    term = np.where(track == K.TRACK_SAFE, 0, int(round(r.departure_term_days))).astype(np.int64)
    restricted = rng.random(n) < r.restricted_share
    dur_restricted = draw_days(r.restricted_stay, n, rng)
    u = rng.random(n)
    dep_type = np.where(u < r.share_independent, K.DEP_INDEPENDENT,
                        np.where(u < r.share_independent + r.share_forced, K.DEP_FORCED,
                                 K.DEP_UNSUPERVISED)).astype(np.int8)
    dur_departure = draw_days(r.time_to_departure, n, rng)
    dur_detention = draw_days(r.detention, n, rng)
    dur_lead = draw_days(sc.housing.lead_time, n, rng)

    out.case = dict(
        arrival_day=arrival.astype(np.int64), size=size.astype(np.int64), children=children.astype(np.int64),
        stream=stream.astype(np.int8), group=group.astype(np.int16), track=track.astype(np.int8),
        routed=routed.astype(np.bool_), likely=likely.astype(np.bool_), dur_col=dur_col, dur_dublin=dur_dublin,
        dub_outcome=dub_outcome, dur_proc=dur_proc.astype(np.int64), va_flag=va_flag.astype(np.bool_),
        dur_va=dur_va, grant_flag=grant.astype(np.bool_), appeal_flag=appeal.astype(np.bool_),
        dur_appeal=dur_appeal, appeal_success=appeal_ok.astype(np.bool_), term_days=term,
        restricted_flag=restricted.astype(np.bool_), dur_restricted=dur_restricted, dep_type=dep_type,
        dur_departure=dur_departure, dur_detention=dur_detention, dur_lead=dur_lead,
        nareis_child=nareis_child, nareis_lag=nareis_lag,
    )
    # housing prognosis for the first half-year: expected permits from the first half-year's inflow
    first_half = out.day["half_of_day"] == 0
    exp_persons = float(exp_first[: max(1, int(first_half.sum() // 30))].sum())
    mean_rate = float(np.dot(shares / shares.sum(), [g.grant_rate for g in sc.groups]))
    out.scalars = dict(task_scale=sc.housing.task_scale, realisation_rate=sc.housing.realisation_rate,
                       initial_expected_grants=exp_persons * mean_rate * (1 - sc.dublin.share))
    return out
