"""Start a run from today: the chain's state on the last data day, reached by replaying history.

A planning run must begin with the people who are in the chain now, not with an empty chain.
``history_snapshot`` replays the history scenario (``nl_history``: the chain driven by what
actually came in, 2012 to the last data month) up to the run's start day and keeps what is still
in motion on that day: every case in a stage that is not final, every case with a scheduled event
or a place in a queue, with their reception places, queue positions, waits with patience and
scheduled events. Cases that are housed, departed or transferred before the start are not carried
(the stocks of the final stages keep counting them).

Where a published figure exists for the start day, the replayed stocks are **corrected** to it
(:data:`CORRECTED`): the replay of 2020-2024 decides faster than the IND did, so it holds far
fewer pending applications at the end of 2024 than UNHCR reports. A shortfall is filled by copies
of randomly chosen pending cases (each copy: the same stage, place, queue position and history,
its own identity, so its remaining stays and later decisions are its own draws); a surplus is
removed the same way. What was replayed, published and started from is kept in ``checks`` and
shown first in the report.

The snapshot is computed once per history scenario, seed and day (a process-wide cache) and
shared by every replicate: the state on the start day is known, not drawn. Each replicate then
adds its own future inflow (``combine``) and runs from the start day with its own draws: the
stays of the carried cases that begin after the start are drawn by the kernel under the
replicate's key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import pickle
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R
# numba compiles engine.rng's draws into this file's own disk cache, which it keys on this file only:
# when the draws change, this file must change too (last: rng.key_schedule, the scheduled round keys)
from ketenplan.engine import rng as G
from ketenplan.errors import ScenarioError

log = logging.getLogger(__name__)

#: per-case entries of the kernel state that a snapshot carries (the rest are lists and totals)
CASE_STATE = ("stage", "rdue", "rec_entry", "arrival_day", "reg_day", "decision_day", "outcome", "housed_day",
              "exit_day", "exit_reason", "moves", "breach", "reception_days", "loc")
#: stocks corrected to a published figure where one exists for the start day: fact quantity ->
#: (stage groups it sums, facts files searched in order)
CORRECTED = {"asylum_pending_all_levels": (("ind_pending", "appeal"),
                                           ("facts_nl_2014_2019.csv", "facts_nl_2020_2024_oos.csv"))}
#: stocks shown beside the replay for the report's starting-point table (derived stocks)
SHOWN = ("asylum_pending_all_levels", "ind_pending", "coa_occupancy", "permit_holders_in_reception",
         "without_residence", "regular_pending")
CLONE_SHIFT = np.uint64(48)  # a copy's number sits in bits 48-55 of its case key (free in engine.rng.case_key)


@dataclass
class Snapshot:
    """The chain on day ``day`` (the first day not simulated) of a grid starting ``day0``."""

    day0: dt.date
    day: int
    key: np.ndarray  # the history replay's Philox key
    inputs: dict[str, np.ndarray]  # kernel per-case inputs (K.CASE_FIELDS) of the carried cases
    case: dict[str, np.ndarray]  # Compiled.case entries of the carried cases
    state: dict[str, np.ndarray]  # per-case state (CASE_STATE)
    events: tuple[np.ndarray, np.ndarray]  # (case, day) of the scheduled events, in the order they pop
    patience: tuple[np.ndarray, np.ndarray]  # (case, day) of the waits whose patience runs out
    queues: list[np.ndarray]  # per queue, the cases waiting in order (stale entries included)
    emergency: np.ndarray  # cases in emergency reception waiting for a regular place, in order
    totals: dict[str, np.ndarray]  # stock, occ, budget, acc, ivar
    days: dict[str, np.ndarray]  # stage_stock, loc_stock, flows, statutory_days before ``day``
    housing: dict = field(default_factory=dict)  # the housing task's grants and backlog at ``day``
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)  # quantity, replay, published, start, source
    memo: dict = field(default_factory=dict)  # what replicates derive from the snapshot alike (nareis pipeline)

    @property
    def n_cases(self) -> int:
        return int(self.state["stage"].shape[0])


@njit(cache=True)
def _walk(head, nxt, d0, d1):
    """(case, day) of every entry of the day lists ``head``/``nxt`` from ``d0`` to ``d1 - 1``, in pop order."""
    n = 0
    for d in range(d0, d1):
        i = head[d]
        while i != -1:
            n += 1
            i = nxt[i]
    cases = np.empty(n, np.int64)
    days = np.empty(n, np.int64)
    k = 0
    for d in range(d0, d1):
        i = head[d]
        while i != -1:
            cases[k] = i
            days[k] = d
            k += 1
            i = nxt[i]
    return cases, days


@njit(cache=True)
def _walk_patience(rhead, rnext, rnode, rdue, d0, d1):
    """(case, day) of the waits whose patience runs out on day d in ``d0 .. d1 - 1`` (still due), in order."""
    n = 0
    for d in range(d0, d1):
        j = rhead[d]
        while j != -1:
            n += 1
            j = rnext[j]
    cases = np.empty(n, np.int64)
    days = np.empty(n, np.int64)
    k = 0
    for d in range(d0, d1):
        j = rhead[d]
        while j != -1:
            i = rnode[j]
            if rdue[i] == d:
                cases[k] = i
                days[k] = d
                k += 1
            j = rnext[j]
    return cases[:k], days[:k]


# ----------------------------------------------------------------------------------------------
def take(run, compiled) -> Snapshot:
    """The snapshot of a history run that has advanced to its current day (nothing corrected)."""
    st, inp = run.state, run.inputs
    d0, T = run.day, compiled.grid.T
    n = st.stage.shape[0]
    kinds = np.array([s.kind for s in R.STAGES])
    final = np.isin(kinds, ("settled", "gone"))
    ev_c, ev_d = _walk(st.head, st.nxt, d0, T)
    pa_c, pa_d = _walk_patience(st.rhead, st.rnext, st.rnode, st.rdue, d0, T)
    not_arrived = st.stage == K.NOT_ARRIVED
    keep = ~final[st.stage] & ~not_arrived
    keep[ev_c[~not_arrived[ev_c]]] = True  # a final stage with a timer still running (e.g. circular work)
    # family members who follow a sponsor (endogenous nareis): carried with the sponsor
    follows = not_arrived & (inp.parent >= 0)
    follows &= keep[np.maximum(inp.parent, 0)]
    keep |= follows
    has_child = keep & (inp.nareis_child >= 0)
    keep[inp.nareis_child[has_child]] = True
    new = np.full(n, -1, np.int64)
    new[keep] = np.arange(int(keep.sum()))

    def remap(a):
        a = np.asarray(a, np.int64)
        out = np.where(a >= 0, new[np.maximum(a, 0)], -1)
        return out

    def kept_entries(cases, *others):
        m = keep[cases]
        return (new[cases[m]],) + tuple(o[m] for o in others)

    inputs = {f: np.array(getattr(inp, f))[keep] for f in K.CASE_FIELDS}
    inputs["nareis_child"] = remap(inputs["nareis_child"])
    inputs["parent"] = remap(inputs["parent"])
    case = {k: np.asarray(v)[keep] for k, v in compiled.case.items()}
    state = {f: np.array(getattr(st, f))[keep] for f in CASE_STATE}
    queues = []
    for q in range(K.N_QUEUE):
        entries = st.qbuf[q, st.qhead[q]:st.qtail[q]]
        queues.append(new[entries[keep[entries]]])
    em = st.ubuf[st.uhead[0]:st.uhead[1]]
    emergency = new[em[keep[em]]]
    totals = {k: np.array(getattr(st, k), copy=True) for k in ("stock", "occ", "budget", "acc", "ivar")}
    days = dict(stage_stock=st.stage_stock[:d0].copy(), loc_stock=st.loc_stock[:d0].copy(),
                flows=st.flows[:d0].copy(), statutory_days=np.array(inp.statutory_days[:d0]))
    housing = {}
    try:
        h = run.hook("housing_task")
        idx, labels, starts, _ = run.halves
        realised = float(st.flows[h._start:d0, R.FLOW["housed"]].sum())
        row = h.book.get(labels[h._half], [0.0, 0.0]) if h._half >= 0 else [0.0, 0.0]
        half_done = int(idx[d0]) != h._half if d0 < T else True
        housing = dict(prev_grants=float(st.acc[K.A_PERMITS]),
                       backlog=max(row[0] + row[1] - realised, 0.0) if half_done else 0.0,
                       half_closed=bool(half_done))
    except KeyError:
        pass
    return Snapshot(day0=compiled.grid.day0, day=d0, key=np.asarray(inp.key, np.uint64), inputs=inputs, case=case,
                    state=state, events=kept_entries(ev_c, ev_d), patience=kept_entries(pa_c, pa_d), queues=queues,
                    emergency=emergency, totals=totals, days=days, housing=housing)


def stocks(snap: Snapshot) -> dict[str, float]:
    """The derived stocks (``registry.DERIVED_STOCKS``) of the snapshot's last day [persons]."""
    ss = snap.totals["stock"][None, :]
    ls = snap.totals["occ"][None, :]
    return {n: float(R.derived_stock(n, ss, ls)[0]) for n in R.DERIVED_STOCKS}


def published(quantity: str, day0: dt.date, day: int) -> tuple[float, str] | None:
    """The published value of ``quantity`` for the end of the day before ``day`` (a year-end figure
    when the run starts on 1 January), with its source; None when none is shipped."""
    from ketenplan.data import data_path

    start = day0 + dt.timedelta(days=day)
    if (start.month, start.day) != (1, 1):
        return None
    label = str(start.year - 1)
    for name in CORRECTED[quantity][1]:
        df = pd.read_csv(data_path("nl_chain", name), dtype={"date": str})
        hit = df[(df["date"] == label) & (df["quantity"] == quantity)]
        if len(hit):
            return float(hit["value"].iloc[0]), f"{hit['source'].iloc[0]} ({label} year end; data/nl_chain/{name})"
    return None


def correct(snap: Snapshot) -> Snapshot:
    """The snapshot with each stock of :data:`CORRECTED` brought to its published figure (where one
    exists): copies of randomly chosen cases of those stages are added, or cases removed. Returns
    the same snapshot with ``checks`` filled (replay, published, start for :data:`SHOWN`)."""
    before = stocks(snap)
    targets = {}
    for quantity, (groups, _) in CORRECTED.items():
        pub = published(quantity, snap.day0, snap.day)
        if pub is None:
            continue
        stages = sorted({i for g in groups for i in R.stages_in(g)})
        _adjust(snap, np.array(stages, np.int64), pub[0] - before[quantity])
        targets[quantity] = pub
    after = stocks(snap)
    rows = []
    for q in SHOWN:
        pub = targets.get(q)
        if pub is None and q in CORRECTED:
            pub = published(q, snap.day0, snap.day)
        rows.append(dict(quantity=q, label=R.DERIVED_STOCKS[q][0], replay=before[q],
                         published=pub[0] if pub else np.nan, start=after[q],
                         corrected=q in targets, source=pub[1] if pub else ""))
    snap.checks = pd.DataFrame(rows)
    return snap


def _order(key: np.ndarray, ckeys: np.ndarray, rnd: int) -> np.ndarray:
    """A keyed random order of cases (the same for the same key, identities and round)."""
    u = np.array([G.uniforms(key, G.P["clone"], int(c), rnd)[0] for c in ckeys])
    return np.argsort(u, kind="stable")


def _adjust(snap: Snapshot, stages: np.ndarray, persons: float) -> None:
    """Add (``persons`` > 0) copies of, or remove, cases in ``stages`` until the persons changed
    reach ``persons`` (the last case may overshoot by its household size)."""
    if abs(persons) < 1:
        return
    pool = np.flatnonzero(np.isin(snap.state["stage"], stages))
    if pool.size == 0:
        raise ScenarioError(f"the history replay holds nobody in stages {list(stages)} on its last day; "
                            "it cannot be corrected to the published figure")
    size = snap.inputs["size"]
    ckey = snap.inputs["case_key"]
    if persons < 0:
        order = pool[_order(snap.key, ckey[pool], 0)]
        take_n = int(np.searchsorted(np.cumsum(size[order]), -persons) + 1)
        _remove(snap, order[:take_n])
        return
    picks = []
    got, rnd = 0.0, 1
    while got < persons:
        if rnd > 250:
            raise ScenarioError("the published figure is more than 250 times the replayed stock; not corrected")
        order = pool[_order(snap.key, ckey[pool], rnd)]
        cum = got + np.cumsum(size[order])
        k = int(np.searchsorted(cum, persons) + 1)
        picks.append((order[:k], rnd))
        got = float(cum[min(k, len(cum)) - 1])
        rnd += 1
    for cases, rnd in picks:
        _clone(snap, cases, rnd)


def _clone(snap: Snapshot, src: np.ndarray, copy_no: int) -> None:
    """Append copies of cases ``src`` (copy number ``copy_no``): same stage, place, queue position
    and history; a new identity (case key) and their own uniforms for later picks."""
    n0 = snap.n_cases
    m = src.shape[0]
    new_ids = n0 + np.arange(m)
    ck = snap.inputs["case_key"][src] | (np.uint64(copy_no) << CLONE_SHIFT)
    for f, a in snap.inputs.items():
        add = a[src].copy()
        if f == "case_key":
            add = ck
        elif f == "late_u":
            for j in range(add.shape[1]):
                add[:, j] = [G.uniforms(snap.key, G.P["clone"], int(c), 1000 + j)[0] for c in ck]
        elif f in ("nareis_child", "parent"):
            add[:] = -1  # a copy brings no family of its own
        snap.inputs[f] = np.concatenate([a, add])
    for k, a in snap.case.items():
        add = a[src].copy()
        if k == "case_key":
            add = ck
        snap.case[k] = np.concatenate([a, add])
    for f, a in snap.state.items():
        snap.state[f] = np.concatenate([a, a[src]])
    copy_of = np.full(n0 + m, -1, np.int64)
    copy_of[src] = new_ids  # each source is copied once per call

    def with_copies(cases, *others):
        # each copy right after its source, in the same list, with the same day
        pos = np.arange(cases.shape[0])
        has = copy_of[cases] >= 0
        all_cases = np.concatenate([cases, copy_of[cases[has]]])
        all_pos = np.concatenate([pos * 2.0, pos[has] * 2.0 + 1.0])
        o = np.argsort(all_pos, kind="stable")
        return (all_cases[o],) + tuple(np.concatenate([x, x[has]])[o] for x in others)

    snap.events = with_copies(*snap.events)
    snap.patience = with_copies(*snap.patience)
    snap.queues = [with_copies(q)[0] for q in snap.queues]
    snap.emergency = with_copies(snap.emergency)[0]
    _add_totals(snap, src, +1)


def _remove(snap: Snapshot, gone: np.ndarray) -> None:
    """Remove cases ``gone`` from the snapshot (their persons leave the stocks as if never arrived)."""
    _add_totals(snap, gone, -1)
    n = snap.n_cases
    keep = np.ones(n, bool)
    keep[gone] = False
    if np.isin(snap.inputs["parent"][keep], gone).any() or np.isin(snap.inputs["nareis_child"][gone], np.arange(n)).any():
        raise ScenarioError("a case to be removed from the history replay has family members in the chain")
    new = np.full(n, -1, np.int64)
    new[keep] = np.arange(int(keep.sum()))
    for d in (snap.inputs, snap.case, snap.state):
        for k in list(d):
            d[k] = d[k][keep]
    for f in ("nareis_child", "parent"):
        a = snap.inputs[f]
        snap.inputs[f] = np.where(a >= 0, new[np.maximum(a, 0)], -1)

    def drop(cases, *others):
        m = keep[cases]
        return (new[cases[m]],) + tuple(o[m] for o in others)

    snap.events = drop(*snap.events)
    snap.patience = drop(*snap.patience)
    snap.queues = [drop(q)[0] for q in snap.queues]
    snap.emergency = drop(snap.emergency)[0]


def _add_totals(snap: Snapshot, cases: np.ndarray, sign: int) -> None:
    """Stocks, reception occupancy and the last recorded day after adding (+1) or removing (-1) ``cases``;
    the persons count as arrivals (or not) on the last day before the start, so persons stay conserved."""
    sz = snap.inputs["size"][cases]
    stage = snap.state["stage"][cases].astype(np.int64)
    loc = snap.state["loc"][cases].astype(np.int64)
    np.add.at(snap.totals["stock"], stage, sign * sz)
    inloc = loc != K.LOC_NONE
    np.add.at(snap.totals["occ"], loc[inloc], sign * sz[inloc])
    last = snap.day - 1
    snap.days["stage_stock"][last] = snap.totals["stock"]
    snap.days["loc_stock"][last] = snap.totals["occ"]
    regular = np.isin(snap.inputs["stream"][cases], [R.STREAM[n] for n in ("labour", "knowledge", "study", "family")])
    snap.days["flows"][last, K.F_ARRIVALS] += sign * int(sz[~regular].sum())
    snap.days["flows"][last, R.FLOW["regular_applications"]] += sign * int(sz[regular].sum())
    ivar = snap.totals["ivar"]
    ivar[K.V_PREV_REGULAR] = snap.totals["occ"][K.LOC_REGULAR]
    ivar[K.V_PREV_SMALL] = snap.totals["occ"][K.LOC_SMALL]


# ----------------------------------------------------------------------------------------------
def combine(snap: Snapshot, c):
    """A replicate's compiled future inflow (``engine.compile.Compiled`` on the same grid, nobody
    arriving before the snapshot's day) with the carried cases put first: cases 0 .. H-1 are the
    snapshot's, H .. the replicate's own. The per-day inputs before the start are the history's
    (a carried case's statutory period is the one of its registration day). A per-case array that
    ``compile`` made with room in front (the last rows of an array of H more, see :func:`_room_of`)
    gets the carried cases written into that room; any other is concatenated. ``compile`` numbers
    the case links of the replicate's own cases (``nareis_child``, ``parent``) from H on already."""
    H = snap.n_cases
    inp = c.inputs
    fields = {f: _with_carried(snap.inputs[f], np.asarray(getattr(inp, f)), H) for f in K.CASE_FIELDS}
    statutory = np.array(inp.statutory_days, copy=True)
    statutory[:snap.day] = snap.days["statutory_days"]
    c.inputs = inp._replace(statutory_days=statutory, **fields)
    c.case = {k: _with_carried(snap.case[k], v, H) for k, v in c.case.items()}
    c.case["arrival_day"][:H] = snap.state["arrival_day"]
    c.start = snap
    if snap.housing:
        c.housing = {**c.housing, "initial_expected": snap.housing["prev_grants"],
                     "initial_backlog": snap.housing["backlog"]}
    first = c.case["stream"] == R.STREAM["first"]
    if first.any():  # persons per dwelling of the housing task: every first-application case of the run
        # the mean size (whole persons: the int64 sum is exact, as is np.mean's float sum of them)
        c.housing["persons_per_household"] = max(int(c.case["size"].sum(where=first)) / int(first.sum()), 1.0)
    return c


def _room_of(a: np.ndarray, H: int) -> np.ndarray | None:
    """The array of which ``a`` is the rows after the first ``H`` (made so by ``compile``), else None."""
    b = a.base
    if (H <= 0 or not isinstance(b, np.ndarray) or b.dtype != a.dtype or b.shape[1:] != a.shape[1:]
            or b.shape[0] != H + a.shape[0] or not b.flags.c_contiguous or not a.flags.c_contiguous):
        return None
    return b if b[H:].__array_interface__["data"][0] == a.__array_interface__["data"][0] else None


def _with_carried(carried: np.ndarray, own: np.ndarray, H: int) -> np.ndarray:
    """The carried cases' rows, then the replicate's own: written into the room in front of ``own``
    when it has one (nothing copied twice), else concatenated."""
    full = _room_of(own, H)
    if full is None:
        return np.concatenate([carried.astype(own.dtype, copy=False), own])
    full[:H] = carried
    return full


@njit(cache=True)
def _lag_pmf(key, purpose, family, mean, cv, low, high, n):
    """The distribution of a duration [days] from ``n`` keyed draws (as the kernel rounds them)."""
    draws = np.empty(n, np.int64)
    for i in range(n):
        draws[i] = G.duration_days(key, purpose, np.uint64(i), family, mean, cv, low, high)
    pmf = np.zeros(draws.max() + 1)
    for x in draws:
        pmf[x] += 1.0
    return pmf / n


def nareis_pipeline(snap: Snapshot, scenario, grid) -> np.ndarray:
    """Family members expected to follow the permit holders granted before the start [persons per grid
    month]: persons granted on each replayed day x ``inflow.nareis.ratio``, arriving after the nareis
    lag (its distribution from 20,000 keyed draws). The run's own permits bring their families
    through the kernel (endogenous nareis); these come as a given stream, each with the share that
    joins a sponsor's home (``inflow.nareis.share_to_sponsor_home``)."""
    from ketenplan.engine.compile import _duration_row, _month_bounds

    n = scenario.inflow.nareis
    ident = ("nareis", n.ratio, n.lag.model_dump_json(), grid.day0, grid.end)
    if ident in snap.memo:
        return snap.memo[ident]
    grants = snap.days["flows"][:, R.FLOW["grants"]].astype(np.float64)
    lag_ident = ("nareis_lag_pmf", n.lag.model_dump_json())
    if lag_ident not in snap.memo:  # the lag's distribution does not depend on the (drawn) ratio
        fam, mean, cv, low, high = _duration_row(n.lag)
        snap.memo[lag_ident] = _lag_pmf(snap.key, G.P["nareis_lag"], int(fam), mean, cv, low, high, 20_000)
    pmf = snap.memo[lag_ident]
    daily = np.convolve(grants * n.ratio, pmf)  # expected arrivals per day from day 0
    daily[: snap.day] = 0.0  # those before the start arrived in the replay
    _, _, lo, hi = _month_bounds(grid)
    cum = np.r_[0.0, np.cumsum(daily)]
    top = cum.shape[0] - 1
    snap.memo[ident] = out = cum[np.minimum(hi + 1, top)] - cum[np.minimum(lo, top)]
    return out


@njit(cache=True)
def _prepend(cases, days, head, nxt):
    # prepend in reverse, so that each day's list pops the entries in their given order first
    for k in range(cases.shape[0] - 1, -1, -1):
        i = cases[k]
        nxt[i] = head[days[k]]
        head[days[k]] = i


def start_state(inp, c) -> "K.State":
    """The kernel state of a combined run (``combine``) on its start day."""
    snap = c.start
    H, T, d0 = snap.n_cases, c.grid.T, snap.day
    arrival = np.array(c.case["arrival_day"], copy=True)
    arrival[:H] = -1  # carried cases arrived already: not scheduled again
    st = K.new_state(inp, arrival, T)
    for f, a in snap.state.items():
        getattr(st, f)[:H] = a
    ev_c, ev_d = snap.events
    m = ev_d < T
    _prepend(ev_c[m], ev_d[m], st.head, st.nxt)
    pa_c, pa_d = snap.patience
    m = pa_d < T
    pa_c, pa_d = pa_c[m], pa_d[m]
    nodes = np.arange(pa_c.shape[0], dtype=np.int64)
    st.rnode[:nodes.shape[0]] = pa_c
    _prepend(nodes, pa_d, st.rhead, st.rnext)
    for q, entries in enumerate(snap.queues):
        st.qbuf[q, :entries.shape[0]] = entries
        st.qtail[q] = entries.shape[0]
    st.ubuf[:snap.emergency.shape[0]] = snap.emergency
    st.uhead[:] = (0, snap.emergency.shape[0])
    for k, a in snap.totals.items():
        getattr(st, k)[:] = a
    st.ivar[K.V_RPOOL] = nodes.shape[0]
    st.ivar[K.V_DAY] = d0
    st.ivar[K.V_ERR] = 0
    for k in ("stage_stock", "loc_stock", "flows"):
        getattr(st, k)[:d0] = snap.days[k]
    return st


_CACHE: dict = {}


def history_snapshot(scenario) -> Snapshot:
    """The (corrected) state of the chain on ``scenario.simulation.start`` from the history scenario
    it names (``simulation.history``), replayed with the scenario's seed; computed once per process."""
    sim = scenario.simulation
    ident = _history_ident(scenario)
    snap = _CACHE.get(ident)
    if snap is None:
        from ketenplan.engine.compile import compile_replicate
        from ketenplan.engine.run import default_hooks
        from ketenplan.engine.state import Run

        snap = _read_kept(ident)
        if snap is not None:
            log.info("starting state on %s: the kept replay of %s", sim.start, sim.history)
        else:
            hist = history_scenario(scenario)
            log.info("replaying %s to %s for the starting state", sim.history, sim.start)
            key = G.replicate_key(G.replicate_seed(sim.seed, 0))
            c = compile_replicate(hist, key)
            run = Run.start(c, default_hooks(c)).advance(until=sim.start)
            snap = correct(take(run, c))
            _keep(ident, snap)
        _CACHE.clear()  # one snapshot at a time: it is large
        _CACHE[ident] = snap
    return snap


# ---- the replayed state on disk ----
# The replay (compile the history and run it to the start: about 1.5 s of CPU for nl_baseline) is a
# pure function of the history scenario, the seed, the start and end, and the code that runs it; a run
# keeps its result on disk and the next run with the same key reads it (tens of milliseconds). The key
# is the SHA-256 of the snapshot's identity (the history scenario as JSON, seed, start, end) and of
# what computes it: the versions of Python, NumPy, numba and pandas and every file of the ketenplan
# package (its code and its shipped data), so an edit of either is never answered from disk. An entry
# that cannot be read is replayed; entries are written atomically, and only the newest eight are kept
# (about 12 MB each for nl_baseline). The folder is the fit cache's
# (``forecast.fitcache.cache_dir``: ``$KETENPLAN_CACHE_DIR`` ...), sub-folder ``history-states``;
# ``KETENPLAN_CACHE=off`` switches both off.
KEPT_FORMAT = 1
KEPT_ENTRIES = 8


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    import sys
    from pathlib import Path

    import numba

    import ketenplan

    h = hashlib.sha256(f"{sys.version};numpy={np.__version__};numba={numba.__version__};pandas={pd.__version__};"
                       f"format={KEPT_FORMAT}".encode())
    root = Path(ketenplan.__file__).parent
    for f in sorted(root.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _kept_path(ident):
    from ketenplan.forecast.fitcache import cache_dir

    folder = cache_dir()
    if folder is None:
        return None
    key = hashlib.sha256(repr(ident).encode())
    key.update(_code_digest().encode())
    return folder.parent / "history-states" / f"{key.hexdigest()}.pickle"


def _read_kept(ident) -> Snapshot | None:
    path = _kept_path(ident)
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            snap = pickle.load(fh)
    except Exception as exc:  # noqa: BLE001 (a damaged entry of our own cache: replay instead)
        log.debug("history state %s unreadable (%s): replaying", path, exc)
        return None
    return snap if isinstance(snap, Snapshot) else None


def _keep(ident, snap: Snapshot) -> None:
    path = _kept_path(ident)
    if path is None:
        return
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        older = sorted(path.parent.glob("*.pickle"), key=lambda f: f.stat().st_mtime, reverse=True)[KEPT_ENTRIES:]
        for f in older:  # the newest few only: each is about 12 MB
            f.unlink(missing_ok=True)
    except OSError as exc:  # a cache that cannot be written: the run goes on
        log.debug("history state not kept at %s (%s)", path, exc)


_IDENT: dict = {}


def _file_stamp(source: str) -> tuple:
    """What tells a scenario file's versions apart within a process (a preset: its name only)."""
    from pathlib import Path

    from ketenplan.scenario import preset_names

    if source in preset_names():
        return (source,)
    try:
        st = Path(source).stat()
    except OSError:
        return (source, None)
    return (str(Path(source).resolve()), st.st_mtime_ns, st.st_size)


def _history_ident(scenario) -> tuple:
    """The cache key of a scenario's snapshot: its history scenario (as JSON), seed, start and end.
    Every replicate compiles through here, so the history scenario's TOML is read and validated once
    per process and history file version, not once per replicate (P0.1: ~0.03 s of CPU each)."""
    sim = scenario.simulation
    memo = (_file_stamp(str(sim.history)), sim.grid_start, sim.start, sim.end, sim.seed,
            tuple(g.name for g in scenario.groups))
    ident = _IDENT.get(memo)
    if ident is None:
        hist = history_scenario(scenario)  # raises (and caches nothing) when the history does not fit
        ident = (hist.model_dump_json(), sim.seed, sim.start, sim.end)
        _IDENT.clear()
        _IDENT[memo] = ident
    return ident


def history_scenario(scenario):
    """The history scenario that replays the chain up to the scenario's start, extended to its end
    (so that stays running past the start are scheduled), as a point replay (no parameter sets)."""
    from ketenplan.scenario import load_scenario

    sim = scenario.simulation
    hist = load_scenario(sim.history)
    hs = hist.simulation
    if hs.grid_start != sim.grid_start:
        raise ScenarioError(f"simulation.history = {sim.history!r} begins {hs.grid_start}, the run's grid "
                            f"{sim.grid_start}: they must be the same")
    last = hs.end + dt.timedelta(days=1)
    if not (hs.start <= sim.start <= last):
        raise ScenarioError(f"simulation.start = {sim.start}: with initial_state = 'history' the start must lie "
                            f"within the history replay {hs.start} .. {last} (the day after its last data day); "
                            f"found {sim.start}. Fix: start at {last} or earlier, or set initial_state = 'empty'")
    if [g.name for g in hist.groups] != [g.name for g in scenario.groups]:
        raise ScenarioError(f"simulation.history = {sim.history!r} has nationality groups "
                            f"{[g.name for g in hist.groups]}, the scenario {[g.name for g in scenario.groups]}: "
                            "a carried case keeps its group, so they must be the same")
    return hist.replace(**{"simulation.end": max(sim.end, hs.end), "simulation.parameter_sets": ""})


def starting_point(scenario) -> dict | None:
    """What a run from history starts from, for the report and the CLI: the day, the history
    scenario, and per stock the replayed value, the published figure and the value started from.
    None for a run from an empty chain."""
    if scenario.simulation.initial_state != "history":
        return None
    snap = history_snapshot(scenario)
    rows = snap.checks.replace({np.nan: None}).to_dict("records")
    return {"date": str(scenario.simulation.start), "history": scenario.simulation.history, "rows": rows}


def clear_cache() -> None:
    _CACHE.clear()
    _IDENT.clear()


