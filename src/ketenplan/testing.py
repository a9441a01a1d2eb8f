"""Testing aids: tiny compiled chains, equality of outputs, and the SimPy reference of the chain.

Used by the test suite and the benchmarks (instead of path tricks); nothing in the library
imports this module, and SimPy (a development dependency) is imported only when the reference
runs.

* :func:`tiny_chain` builds a few hand-made cases on a short grid for exact traces.
* :func:`output_differences` compares two replicate outputs array by array.
* :func:`run_reference` runs the **SimPy reference** on compiled inputs: one SimPy process per
  case walking the chain declared in ``engine.registry`` (a stay is an ``env.timeout`` in days,
  a queue a list of tickets that a daily desk process serves), written the way a SimPy user would
  write the model, not as a port of the kernel's loop. With SimPy's same-time tie rule set to the
  kernel's (last scheduled first) the two give identical arrays; with SimPy's own rule
  (``tie="fifo"``) only same-day orderings differ.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math

import numpy as np

from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R
from ketenplan.engine.compile import Compiled, TimeGrid
from ketenplan.engine.hooks import HousingTask, half_years
from ketenplan.engine.rng import key_schedule
from ketenplan.engine.run import ReplicateOutput, run_compiled

# ----------------------------------------------------------------------------------------------
# tiny chains
# ----------------------------------------------------------------------------------------------
SLOT = R.DURATION
BR = R.BRANCH


class EveryPeriod:
    """A hook called at every period start: the wrapped hook without its ``acts_on`` (a run whose
    hooks all say on which days they act stops only there); its tables and closing are the hook's."""

    def __init__(self, hook):
        self.hook, self.name = hook, hook.name

    def __call__(self, run, day):
        self.hook(run, day)

    def __getattr__(self, name):
        if name == "acts_on":
            raise AttributeError(name)
        return getattr(self.hook, name)


def tiny_chain(sizes, *, days: int = 30, reg_per_day: float = 1.0, decisions_per_day: float = 1.0,
               regular_places: float = 100.0, housing_per_half_year: float = 181.0, col: int = 2,
               procedure: int = 3, lead: int = 5, grant: bool = True, track: str = "general",
               departure: str = "independent") -> Compiled:
    """Cases of the given sizes, all arriving on day 0 in one replicate of ``days`` days from
    2025-01-01: registration ``reg_per_day`` persons/day, central stay ``col`` days, an IND desk of
    ``decisions_per_day`` persons/day for their track, a procedure of ``procedure`` days, then a
    permit (``grant``) with ``lead`` days to the housing queue, or a rejection without appeal to the
    departure term and the given departure route (set durations with :func:`set_slot`)."""
    day0 = dt.date(2025, 1, 1)
    grid = TimeGrid(day0=day0, start=day0, end=day0 + dt.timedelta(days=days - 1))
    n = len(sizes)
    tb = R.tables()
    desk_cap = np.zeros((len(R.DESKS), days))
    desk_cap[R.DESK["registration"]] = reg_per_day
    desk_cap[R.DESK["ind_general" if track == "general" else "ind_safe"]] = decisions_per_day
    dur = np.zeros((n, len(R.DURATION_SLOTS)), np.int64)
    dur[:, SLOT["col"]] = col
    dur[:, SLOT["procedure"]] = procedure
    dur[:, SLOT["lead"]] = lead
    branch = np.zeros((n, len(R.BRANCH_SLOTS)), np.int8)
    branch[:, BR["after_central"]] = 2 if track == "general" else 3
    branch[:, BR["after_procedure"]] = 1  # to the decision (no extended procedure)
    branch[:, BR["appeals"]] = 1  # no appeal
    branch[:, BR["after_term"]] = 1  # the departure route
    n_months = len(grid.months())
    late = np.ones((len(R.LATE_SLOTS), n_months, 2, tb.succ.shape[1]))
    late[R.LATE["decision"], :, :, 0] = 1.0 if grant else 0.0
    route = {"independent": (1.0, 1.0), "forced": (0.0, 1.0), "unsupervised": (0.0, 0.0)}[departure]
    late[R.LATE["departure"], :, :, 0], late[R.LATE["departure"], :, :, 1] = route
    tr = R.TRACK[{"general": "general", "safe": "safe_country"}[track]]
    dates = grid.dates()
    month_of_day = (dates.year - day0.year) * 12 + dates.month - day0.month
    draws = dict(key=key_schedule(np.zeros(2, np.uint64)), dspec=np.zeros((1, 5)),
                 slot_spec=np.full(len(R.DURATION_SLOTS), -1, np.int64),
                 slot_purpose=np.zeros(len(R.DURATION_SLOTS), np.int64))
    inputs = K.Inputs(**{f: getattr(tb, f) for f in K.TABLE_FIELDS if f != "kc"}, kc=K.kernel_constants(), **draws, desk_cap=desk_cap,
                      cap_regular=np.full(days, regular_places), cap_small=np.zeros(days),
                      statutory_days=np.full(days, 183, np.int64), month_of_day=np.asarray(month_of_day, np.int64),
                      late_cum=late, size=np.array(sizes, np.int64), stream=np.zeros(n, np.int8),
                      case_key=np.arange(n, dtype=np.uint64),
                      track=np.full(n, tr, np.int8), routed=np.zeros(n, np.bool_), late_row=np.zeros(n, np.int64),
                      dur=dur, branch=branch, late_u=np.full((n, len(R.LATE_SLOTS)), 0.5),
                      nareis_child=np.full(n, -1, np.int64), nareis_lag=np.zeros(n, np.int64),
                      parent=np.full(n, -1, np.int64))
    half_idx, labels, _, _ = half_years(day0, days)
    c = Compiled(grid=grid, half_labels=labels, inputs=inputs, group_names=("g",))
    c.case = dict(arrival_day=np.zeros(n, np.int64), size=inputs.size, children=np.zeros(n, np.int64),
                  stream=inputs.stream, group=np.zeros(n, np.int16), track=inputs.track, routed=inputs.routed,
                  likely=np.zeros(n, np.bool_), case_key=np.arange(n, dtype=np.uint64), uam=np.zeros(n, np.bool_))
    c.housing = dict(given={labels[0]: housing_per_half_year}, scale=1.0, realisation_rate=1.0, initial_expected=0.0)
    return c


def set_slot(c: Compiled, slot: str, value, cases=None) -> Compiled:
    """Set a duration slot (``engine.registry.DURATION_SLOTS``) or branch slot of some cases."""
    idx = slice(None) if cases is None else cases
    if slot in R.DURATION:
        c.inputs.dur[idx, R.DURATION[slot]] = value
    else:
        c.inputs.branch[idx, R.BRANCH[slot]] = value
    return c


# ----------------------------------------------------------------------------------------------
# comparing outputs
# ----------------------------------------------------------------------------------------------
ARRAYS = ("stage_stock", "loc_stock", "flows")
CASE_ARRAYS = ("arrival_day", "reg_day", "decision_day", "outcome", "housed_day", "exit_day", "exit_reason",
               "moves", "breach", "reception_days", "loc")


def output_differences(a: ReplicateOutput, b: ReplicateOutput) -> dict[str, int]:
    """Number of differing entries per output array (an empty dict: identical)."""
    diff = {}
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        n = int(np.count_nonzero(x != y)) if x.shape == y.shape else -1
        if n:
            diff[name] = n
    for name in CASE_ARRAYS:
        x, y = np.asarray(a.case[name]), np.asarray(b.case[name])
        n = int(np.count_nonzero(x != y)) if x.shape == y.shape else -1
        if n:
            diff[name] = n
    hx = a.housing[["task", "backlog_in", "realised", "granted"]].to_numpy(np.float64)  # (none without the hook)
    hy = b.housing[["task", "backlog_in", "realised", "granted"]].to_numpy(np.float64)
    if hx.shape != hy.shape or not np.allclose(hx, hy, rtol=0, atol=1e-9):
        diff["housing"] = int(np.count_nonzero(~np.isclose(hx, hy))) if hx.shape == hy.shape else -1
    return diff


def assert_outputs_equal(a: ReplicateOutput, b: ReplicateOutput) -> None:
    diff = output_differences(a, b)
    assert not diff, f"outputs differ (entries per array): {diff}"


# ----------------------------------------------------------------------------------------------
# the SimPy reference
# ----------------------------------------------------------------------------------------------
PHASE_HOOKS = -0.0625  # on the eve of a day: hooks act before its first event
PHASE_RENEGE = 0.25  # patience running out, after the day's timed events
PHASE_DESK0 = 0.5  # desks at 0.5, 0.53125, ... in declared order
PHASE_UPGRADE = 0.8125
PHASE_RECORD = 0.875


class _RunView:
    """What a hook sees of a run (``engine.state.Run``), over the reference's own arrays."""

    def __init__(self, ref: "ReferenceChain"):
        self._ref = ref
        self.inputs = ref.inputs
        self.state = ref.state_view
        self.T = ref.T
        self.halves = half_years(ref.c.grid.day0, ref.T)
        self.compiled = ref.c

    @property
    def day(self) -> int:
        return self._ref.hook_day


class ReferenceChain:
    """The chain for one compiled replicate as a SimPy model."""

    def __init__(self, c: Compiled, tie: str = "lifo", hooks=None):
        import simpy
        from simpy.events import NORMAL

        class LastScheduledFirst(simpy.Environment):
            """Events of equal time and priority run last-scheduled-first (the kernel's rule)."""

            def __init__(self, initial_time: float = 0):
                super().__init__(initial_time)
                self._order = itertools.count(0, -1)

            def schedule(self, event, priority=NORMAL, delay=0):
                heapq.heappush(self._queue, (self._now + delay, priority, next(self._order), event))

        self.simpy = simpy
        self.c = c
        self.T = T = c.grid.T
        self.env = env = LastScheduledFirst(-1) if tie == "lifo" else simpy.Environment(-1)
        # the run owns its day inputs (hooks change them), as in engine.state.Run
        self.inputs = c.inputs._replace(**{f: np.array(getattr(c.inputs, f), copy=True) for f in K.DAY_FIELDS})
        self.tb = R.tables()
        inp = self.inputs
        self.size = inp.size.tolist()
        self.stream = inp.stream.tolist()
        self.track = inp.track.tolist()
        self.routed = inp.routed.tolist()
        self.dur = inp.dur
        self.branch = np.array(inp.branch, copy=True)  # late picks are recorded into it
        n = len(self.size)
        self.arrival_day = c.case["arrival_day"].copy()
        self.reg_day = [-1] * n
        self.decision_day = [-1] * n
        self.outcome = [0] * n
        self.housed_day = [-1] * n
        self.exit_day = [-1] * n
        self.exit_reason = [0] * n
        self.moves = [0] * n
        self.breach = [0] * n
        self.reception_days = [0] * n
        self.loc = [K.LOC_NONE] * n
        self.rec_entry = [-1] * n
        self.stage = [K.NOT_ARRIVED] * n
        self.stock = [0] * K.N_STAGE
        self.occ = [0] * K.N_LOC
        self.budget = np.zeros(K.N_DESK)
        self.acc = np.zeros(K.N_ACC)
        self.today = [0] * K.N_FLOW
        self.stage_stock = np.zeros((T, K.N_STAGE), np.int64)
        self.loc_stock = np.zeros((T, K.N_LOC), np.int64)
        self.flows = np.zeros((T, K.N_FLOW), np.int64)
        self.err = 0
        self.queues = [[] for _ in R.QUEUE_STAGES]  # FIFO tickets: (case, slot event)
        self.upgrade: list[int] = []
        self.hook_day = 0
        self.state_view = type("StateView", (), {})()
        self.state_view.budget = self.budget
        self.state_view.acc = self.acc
        self.state_view.flows = self.flows
        self.hooks = [HousingTask(**c.housing)] + list(hooks or [])
        self.state_view.stage = self.stage
        # one process per case; family members start when their sponsor is granted. Booked in reverse
        # case order so that (last scheduled first) same-day arrivals queue in case order
        for i in range(n - 1, -1, -1):
            if 0 <= self.arrival_day[i] < T:
                env.process(self.journey(i, env.timeout(self.arrival_day[i] - env.now)))
        for k in range(K.N_DESK):
            env.process(self.desk(k))
        env.process(self.upgrade_desk())
        env.process(self.recorder())
        env.process(self.hook_runner())

    # ------------------------------------------------------------------------------------------
    def day(self) -> int:
        return math.floor(self.env.now)

    def _at(self, offset: float):
        return self.env.timeout(offset + 1)  # processes start on the eve of day 0

    def take(self, i: int, s: int, t: int, d: int) -> None:
        """Case i moves from stage s to t on day d with the edge's effects (engine.registry.EDGES)."""
        tb = self.tb
        e = int(tb.edge_of[s, t])
        if e < 0:
            raise RuntimeError(f"SimPy reference: no edge {R.STAGE_NAMES[s]} -> {R.STAGE_NAMES[t]}")
        edge = R.EDGES[e]
        sz = self.size[i]
        if s != K.NOT_ARRIVED:
            self.stock[s] -= sz
        for f in edge.flows:
            self.today[R.FLOW[f]] += sz
        if s == K.NOT_ARRIVED and R.STREAMS[self.stream[i]].arrival_flow:
            self.today[R.FLOW[R.STREAMS[self.stream[i]].arrival_flow]] += sz
        if edge.outcome:
            self.outcome[i] = R.OUTCOME[edge.outcome]
        if edge.registers:
            self.reg_day[i] = d
        if edge.decision:
            self.decision_day[i] = d
        if edge.statutory:
            r = self.reg_day[i]
            if r >= 0 and d - r > self.inputs.statutory_days[r]:
                self.breach[i] = 1
                self.today[K.F_BREACHES] += sz
        if edge.permit:
            self.acc[K.A_PERMITS] += sz
        if edge.sponsor:
            child = int(self.inputs.nareis_child[i])
            if child >= 0 and self.arrival_day[child] < 0:
                lag = int(self.inputs.nareis_lag[i])
                self.arrival_day[child] = d + lag
                if d + lag < self.T:
                    self.env.process(self.journey(child, self.env.timeout(lag)))
        if edge.desk:
            self.budget[R.DESK[edge.desk]] -= sz
        occ, loc = self.occ, self.loc
        if edge.move == "pol" and self.track[i] == K.TRACK_GENERAL and loc[i] == K.LOC_REGULAR and not self.routed[i]:
            self.moves[i] += 1  # from the process location near the IND to a regular AZC
            self.today[K.F_MOVES] += sz
        if edge.location == "waiting":
            loc[i] = K.LOC_WAITING
            occ[K.LOC_WAITING] += sz
        elif edge.location == "central":
            occ[loc[i]] -= sz
            loc[i] = K.LOC_CENTRAL
            occ[K.LOC_CENTRAL] += sz
            self.rec_entry[i] = d
        elif edge.location == "place":
            if loc[i] == K.LOC_NONE:
                self.rec_entry[i] = d  # back into reception from outside
            else:
                occ[loc[i]] -= sz
            if self.routed[i] and occ[K.LOC_SMALL] + sz <= self.inputs.cap_small[d]:
                loc[i] = K.LOC_SMALL
            elif occ[K.LOC_REGULAR] + sz <= self.inputs.cap_regular[d]:
                loc[i] = K.LOC_REGULAR
            else:
                loc[i] = K.LOC_EMERGENCY
                self.upgrade.append(i)  # waits for a regular place
            occ[loc[i]] += sz
        elif edge.location == "restricted":
            occ[loc[i]] -= sz
            loc[i] = K.LOC_RESTRICTED
            occ[K.LOC_RESTRICTED] += sz
        elif edge.location == "leave" and loc[i] != K.LOC_NONE:
            occ[loc[i]] -= sz
            if loc[i] != K.LOC_WAITING:
                self.reception_days[i] += d - self.rec_entry[i]
            loc[i] = K.LOC_NONE
        if edge.move == "always":
            self.moves[i] += 1
            self.today[K.F_MOVES] += sz
        if edge.exit:
            self.exit_day[i] = d
            self.exit_reason[i] = R.EXIT[edge.exit]
            if edge.exit == "housed":
                self.housed_day[i] = d
        self.stage[i] = t
        self.stock[t] += sz

    def next_stage(self, i: int, s: int) -> int:
        """The successor of stage s for case i: the pre-drawn branch, or a late pick from the case's
        uniform and this month's row of probabilities (kept in a branch slot where declared)."""
        tb, inp = self.tb, self.inputs
        if s == K.NOT_ARRIVED:
            if tb.stream_follows[self.stream[i]] and inp.parent[i] >= 0:
                home = self.stage[inp.parent[i]] == K.HOUSED
                return int(tb.succ[s, K.ARRIVE_SPONSOR_HOME if home else K.ARRIVE_REGISTRATION])
        b = int(tb.branch_slot[s])
        k = int(self.branch[i, b]) if b >= 0 else 0
        j = int(tb.late_slot[s])
        if j >= 0:
            u = inp.late_u[i, j]
            row = inp.late_cum[j, inp.month_of_day[self.day()], inp.late_row[i]]
            k = 0
            while k < tb.succ.shape[1] - 1 and tb.succ[s, k + 1] >= 0 and u >= row[k]:
                k += 1
            r = int(tb.record_slot[s])
            if r >= 0:
                self.branch[i, r] = k
        return int(tb.succ[s, k])

    def stay(self, i: int, s: int, d: int, from_desk: bool):
        """The timeout of a stay in stage s entered on day d (None: the stage has no timer)."""
        tb = self.tb
        k = int(tb.duration_slot[s])
        if k == -1:
            return None
        if k == -2:
            day = d + 1 if from_desk else d
        else:
            inp = self.inputs
            sp = int(inp.slot_spec[k])
            if sp >= 0:  # a stay drawn on entry: the same keyed draw as the kernel's
                from ketenplan.engine.rng import duration_days

                row = inp.dspec[sp]
                v = int(duration_days(inp.key, int(inp.slot_purpose[k]), inp.case_key[i], int(row[0]), row[1], row[2],
                                      row[3], row[4]))
            else:
                v = int(self.dur[i, k])
            day = max(v, d) if tb.until_flag[s] else d + v
            if from_desk and day <= d:
                day = d + 1
        return self.env.timeout(max(day - self.env.now, 0))

    def journey(self, i: int, arrival):
        """A case's way through the chain: stays are timeouts, queues are tickets a desk serves."""
        env, tb = self.env, self.tb
        yield arrival
        s = K.NOT_ARRIVED
        while True:
            t = self.next_stage(i, s)
            d = self.day()
            self.take(i, s, t, d)
            s = t
            q = int(tb.queue_of[s])
            if q >= 0:  # wait for a desk; it moves the case on and hands over the end of its next stay
                slot = env.event()
                self.queues[q].append((i, slot))
                p = int(tb.patience_slot[s])
                if p >= 0:
                    env.process(self.patience(i, s, q, slot, d + max(int(self.dur[i, p]), 1)))
                outcome = yield slot
                if outcome is None:  # patience ran out: the renege moved the case on
                    s = int(tb.renege_stage[s])
                    end = self.stay(i, s, self.day(), False)
                else:
                    s, end = outcome
                if end is None:
                    return
                yield end
            else:
                end = self.stay(i, s, d, False)
                if end is None:
                    return  # settled without a timer, or gone
                yield end

    def patience(self, i: int, s: int, q: int, slot, day: int):
        """Renege: on the given day (after the timed events) a case still waiting leaves the queue."""
        if day >= self.T:
            return
        yield self.env.timeout(day + PHASE_RENEGE - self.env.now)
        if self.stage[i] == s and not slot.triggered:
            self.queues[q] = [(c, sl) for c, sl in self.queues[q] if c != i]
            self.take(i, s, int(self.tb.renege_stage[s]), self.day())
            slot.succeed(None)

    def desk(self, k: int):
        """A daily desk: adds the day's capacity to its budget (a desk of places: the places not taken)
        and serves its queues in order while the head case fits; an idle desk forfeits its budget
        (unless it carries over a period)."""
        env, tb, inp = self.env, self.tb, self.inputs
        queues = [int(q) for q in inp.desk_queues[k] if q >= 0]
        yield self._at(PHASE_DESK0 + k / 32)
        while True:
            d = self.day()
            if tb.desk_places[k]:
                taken = sum(self.stock[h] for h in tb.desk_holds[k] if h >= 0)
                self.budget[k] = max(inp.desk_cap[k, d] - taken, 0.0)
            else:
                self.budget[k] += inp.desk_cap[k, d]
            waiting = False
            for q in queues:
                blocked = False
                line = self.queues[q]
                while line:
                    i, slot = line[0]
                    if self.size[i] > self.budget[k]:
                        blocked = True
                        break
                    line.pop(0)
                    self.budget[k] -= self.size[i]
                    s = int(tb.queue_stage[q])
                    t = int(tb.succ[s, 0])
                    self.take(i, s, t, d)
                    slot.succeed((t, self.stay(i, t, d, True)))
                if line:
                    waiting = True
                if blocked:
                    break
            if tb.desk_places[k] or (not waiting and not tb.desk_carry_period[k]):
                self.budget[k] = 0.0
            yield env.timeout(1)

    def upgrade_desk(self):
        env, occ, loc = self.env, self.occ, self.loc
        yield self._at(PHASE_UPGRADE)
        while True:
            d = self.day()
            while self.upgrade:
                i = self.upgrade[0]
                if loc[i] != K.LOC_EMERGENCY:
                    self.upgrade.pop(0)  # left emergency reception already
                    continue
                if occ[K.LOC_REGULAR] + self.size[i] > self.inputs.cap_regular[d]:
                    break
                self.upgrade.pop(0)
                occ[K.LOC_EMERGENCY] -= self.size[i]
                loc[i] = K.LOC_REGULAR
                occ[K.LOC_REGULAR] += self.size[i]
                self.moves[i] += 1
                self.today[K.F_MOVES] += self.size[i]
            yield env.timeout(1)

    def recorder(self):
        env = self.env
        prev_regular = prev_small = 0
        yield self._at(PHASE_RECORD)
        while True:
            d = self.day()
            self.stage_stock[d] = self.stock
            self.loc_stock[d] = self.occ
            self.flows[d] = self.today
            self.today[:] = [0] * K.N_FLOW
            if min(self.stock) < 0:
                self.err = 1
            if min(self.occ) < 0:
                self.err = 2
            reg, small = self.occ[K.LOC_REGULAR], self.occ[K.LOC_SMALL]
            if reg > self.inputs.cap_regular[d] and reg > prev_regular:
                self.err = 3
            if small > self.inputs.cap_small[d] and small > prev_small:
                self.err = 4
            prev_regular, prev_small = reg, small
            yield env.timeout(1)

    def hook_runner(self):
        """On the eve of the first day of each period (calendar month) every hook acts."""
        from ketenplan.engine.state import period_starts

        env = self.env
        starts = set(int(x) for x in period_starts(self.c.grid.day0, self.T))
        view = _RunView(self)
        yield self._at(PHASE_HOOKS)
        while True:
            d = self.day() + 1
            if d >= self.T:
                return
            if d in starts:
                self.hook_day = d
                for h in self.hooks:
                    h(view, d)
            yield env.timeout(1)

    def run(self) -> int:
        self.env.run(until=self.T)
        self.hook_day = self.T
        view = _RunView(self)
        for h in self.hooks:
            close = getattr(h, "close", None)
            if close:
                close(view)
        for i, lc in enumerate(self.loc):
            if lc != K.LOC_NONE and lc != K.LOC_WAITING and self.rec_entry[i] >= 0:
                self.reception_days[i] += self.T - self.rec_entry[i]
        return self.err


def run_reference(c: Compiled, replicate: int = 0, tie: str = "lifo", hooks=None) -> ReplicateOutput:
    """Run the SimPy reference on compiled inputs; the same output as ``engine.run.run_compiled``.
    The reference starts from an empty chain (``simulation.initial_state = 'empty'``)."""
    if getattr(c, "start", None) is not None:
        raise ValueError("the SimPy reference starts from an empty chain: compile the scenario with "
                         "simulation.initial_state = 'empty'")
    m = ReferenceChain(c, tie=tie, hooks=hooks)
    err = m.run()
    if err:
        raise RuntimeError(f"SimPy reference: invariant {err} broken")
    types = dict(reg_day=np.int64, decision_day=np.int64, outcome=np.int8, housed_day=np.int64,
                 exit_day=np.int64, exit_reason=np.int8, moves=np.int32, breach=np.int8, reception_days=np.int64,
                 loc=np.int8)
    case = {k: np.asarray(getattr(m, k), dtype=t) for k, t in types.items()}
    case["arrival_day"] = m.arrival_day
    housing = m.hooks[0].table()
    days = {f: np.asarray(getattr(m.inputs, f)) for f in K.DAY_FIELDS}
    return ReplicateOutput(replicate, c, m.stage_stock, m.loc_stock, m.flows, housing, case, days)


def run_engine(c: Compiled, replicate: int = 0, hooks=None) -> ReplicateOutput:
    """The engine on the same compiled inputs (for side-by-side use with :func:`run_reference`)."""
    return run_compiled(c, replicate, hooks=hooks)


def key_statistics(out: ReplicateOutput) -> dict[str, float]:
    """Key figures over the reported period (warm-up excluded), for comparisons under another tie rule."""
    c = out.compiled
    si = c.grid.start_index
    cs, r = c.case, out.case
    size = cs["size"]
    ss, ls, fl = out.stage_stock[si:], out.loc_stock[si:], out.flows[si:]

    def mean_days(mask, a, b):
        w = size[mask]
        return float(np.average(a[mask] - b[mask], weights=w)) if w.sum() > 0 else float("nan")

    dec, reg = r["decision_day"], r["reg_day"]
    asylum = np.isin(cs["stream"], [R.STREAM["first"], R.STREAM["subsequent"]])
    decided = (dec >= si) & (reg >= 0) & asylum
    housed = (r["housed_day"] >= si) & (dec >= 0) & (cs["stream"] != R.STREAM["resettlement"])
    F = R.FLOW
    return {
        "coa_occupancy_mean": float(R.derived_stock("coa_occupancy", ss, ls).mean()),
        "emergency_occupancy_mean": float(ls[:, R.LOC["emergency"]].mean()),
        "waiting_registration_mean": float(ss[:, R.STAGE["waiting_registration"]].mean()),
        "decision_wait_general_days": mean_days(decided & (cs["track"] == R.TRACK["general"]), dec, reg),
        "decision_wait_safe_days": mean_days(decided & (cs["track"] == R.TRACK["safe_country"]), dec, reg),
        "decision_wait_dublin_days": mean_days(decided & (cs["track"] == R.TRACK["dublin"]), dec, reg),
        "housing_wait_days": mean_days(housed, r["housed_day"], dec),
        "grants": float(fl[:, F["grants"]].sum()),
        "housed": float(fl[:, F["housed"]].sum()),
        "departures": float(fl[:, [F["departures_independent"], F["departures_forced"],
                                   F["departures_unsupervised"]]].sum()),
        "dublin_transfers": float(fl[:, F["dublin_transfers"]].sum()),
    }


def relative_difference(a: float, b: float) -> float:
    """|a - b| / |a| (0 where both are 0)."""
    if a == b:
        return 0.0
    return abs(a - b) / abs(a) if a else float("inf")


def small_scenario(**changes):
    """The baseline shortened to two years from an empty chain without warm-up, with the given inflow, one replicate
    and without the placement post-processor (tests that need it switch it on)."""
    from ketenplan.scenario import load_scenario

    base = load_scenario("nl_baseline")
    ch = {"simulation.start": dt.date(2025, 1, 1), "simulation.end": dt.date(2026, 12, 31),
          "simulation.initial_state": "empty", "simulation.warmup_years": 0, "inflow.source": "given", "simulation.replicates": 1, "placement.enabled": False}
    ch.update(changes)
    return base.replace(**ch)
