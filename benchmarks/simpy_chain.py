"""SimPy reference implementation of the chain: the test oracle for the numba kernel.

It consumes the same compiled inputs as the engine (``ketenplan.engine.compile.compile_replicate``)
and writes the same arrays as ``ketenplan.engine.run.run_compiled``, so the two can be compared
array by array. It is written the way a SimPy user would write the model, not as a port of the
kernel loop:

* one SimPy process per case: arrival -> registration queue -> central reception -> track ->
  decision -> permit and housing, or appeal and return -> exit; stays are ``env.timeout``\\ s
  in days;
* the queues are ``simpy.Store``\\ s of tickets; a case puts its ticket in and waits on the
  ticket's event for a slot;
* daily server processes serve the registration queue, the three IND decision queues, the
  housing queue and the emergency upgrade queue with the same daily capacity budgets (persons)
  and carry rules as the kernel. A server hands the served case its *appointment*: a timeout that
  ends on the day the service ends (end of central stay, of the procedure, of the Dublin claim);
* a day is split into phases by the time of day: timed case events at ``d``, then registration,
  decisions (general, safe, Dublin), housing, upgrades, recording of the stocks, and the
  half-yearly housing planner for the next day. Phase offsets are dyadic fractions, so day
  arithmetic stays exact in floating point.

Same-time tie rule: SimPy runs events of equal time first-scheduled-first; the kernel runs
same-day events last-scheduled-first. ``LastScheduledFirst`` is an ``Environment`` whose
``schedule`` uses a decreasing sequence number, which reproduces the kernel's order (including
zero-length stays, which run depth-first). With it the reference gives identical arrays; with
``tie="fifo"`` (plain SimPy order) results differ only by same-day reordering.

A stay of zero days handed out by a server (e.g. ``registration.col_stay`` fixed at 0) ends in
that same phase here; the kernel schedules it on the current day after that day's timed events
have run, so it never ends there (the case stays in its stage). Scenarios with such stays differ.

Benchmark and test material only; the library never imports SimPy.
"""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
import simpy
from simpy.events import NORMAL

from ketenplan.engine import kernel as K
from ketenplan.engine.compile import Compiled
from ketenplan.engine.run import ReplicateOutput, check_conservation

# time of day of each phase [days after the start of the day]
PHASE_REGISTRATION = 0.5
PHASE_DECISION = (0.5625, 0.625, 0.6875)  # general, safe, Dublin
PHASE_HOUSING = 0.75
PHASE_UPGRADE = 0.8125
PHASE_RECORD = 0.875
PHASE_PLAN = 0.9375  # sets the housing budget of the next day

F_RESETTLED = K.FLOW_NAMES.index("resettled")


class LastScheduledFirst(simpy.Environment):
    """A SimPy environment whose events of equal time and priority run last-scheduled-first."""

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self._order = itertools.count(0, -1)

    def schedule(self, event, priority=NORMAL, delay=0):
        heapq.heappush(self._queue, (self._now + delay, priority, next(self._order), event))


class ReferenceChain:
    """The chain for one compiled replicate as a SimPy model."""

    def __init__(self, c: Compiled, tie: str = "lifo"):
        self.c = c
        self.T = T = c.grid.T
        # day -1 is the eve of the first day: the planner sets day 0's housing budget then
        self.env = env = LastScheduledFirst(-1) if tie == "lifo" else simpy.Environment(-1)
        d = c.day
        self.reg_cap = d["reg_cap"].tolist()
        self.dec_cap = [d["dec_cap"][k].tolist() for k in range(3)]
        self.cap_regular = d["cap_regular"].tolist()
        self.cap_small = d["cap_small"].tolist()
        self.statutory_days = d["statutory_days"].tolist()
        self.half_of_day = d["half_of_day"].tolist()
        self.half_len = d["half_len"].tolist()
        self.task_given = d["task_given"].tolist()
        self.task_scale = float(c.scalars["task_scale"])
        self.realisation_rate = float(c.scalars["realisation_rate"])
        cs = c.case
        for name in ("size", "stream", "track", "routed", "dur_col", "dur_dublin", "dub_outcome", "dur_proc",
                     "va_flag", "dur_va", "grant_flag", "appeal_flag", "dur_appeal", "appeal_success", "term_days",
                     "restricted_flag", "dur_restricted", "dep_type", "dur_departure", "dur_detention", "dur_lead",
                     "nareis_child", "nareis_lag"):
            setattr(self, name, cs[name].tolist())
        n = c.n_cases
        self.arrival_day = cs["arrival_day"].copy()
        # per-case results (same meaning as the kernel's)
        self.reg_day = [-1] * n
        self.decision_day = [-1] * n
        self.outcome = [K.OUT_NONE] * n
        self.housed_day = [-1] * n
        self.exit_day = [-1] * n
        self.exit_reason = [K.EXIT_NONE] * n
        self.moves = [0] * n
        self.breach = [0] * n
        self.reception_days = [0] * n
        self.loc = [K.LOC_NONE] * n
        self.rec_entry = [-1] * n
        # state
        self.stock = [0] * K.N_STAGE
        self.occ = [0] * K.N_LOC
        self.today = [0] * K.N_FLOW  # flows of the current day [persons]
        self.stage_stock = np.zeros((T, K.N_STAGE), np.int64)
        self.loc_stock = np.zeros((T, K.N_LOC), np.int64)
        self.flows = np.zeros((T, K.N_FLOW), np.int64)
        self.half_book = np.zeros((len(c.half_labels), 4), np.float64)
        self.err = 0
        # housing task bookkeeping
        self.housing_budget = 0.0
        self.grants_this_half = 0.0
        self.grants_prev_half = float(c.scalars["initial_expected_grants"])
        self.housed_this_half = 0.0
        self.backlog = 0.0
        self.cur_half = -1
        # queues: FIFO stores of tickets (case, slot event); the upgrade queue holds cases
        self.q_reg = simpy.Store(env)
        self.q_decision = [simpy.Store(env) for _ in range(3)]
        self.q_housing = simpy.Store(env)
        self.q_upgrade = simpy.Store(env)

        # one process per case; nareis cases start when their sponsor is granted. The arrivals are
        # booked in reverse case order, so that (last scheduled first) same-day arrivals queue in
        # case order, as in the kernel
        arrival = cs["arrival_day"].tolist()
        for i in range(n - 1, -1, -1):
            if arrival[i] >= 0:
                env.process(self.journey(i, env.timeout(arrival[i] - env.now)))
        # registration: the end of the central stay; IND slots: the end of the procedure / Dublin claim
        env.process(self.desk(self.q_reg, self.reg_cap, self.dur_col, PHASE_REGISTRATION))
        for tq in range(3):
            env.process(self.desk(self.q_decision[tq], self.dec_cap[tq], self.dur_dublin if tq == 2 else self.dur_proc,
                                  PHASE_DECISION[tq]))
        env.process(self.housing_desk())
        env.process(self.upgrade_desk())
        env.process(self.recorder())
        env.process(self.housing_planner())

    # ------------------------------------------------------------------------------------------
    def day(self) -> int:
        return math.floor(self.env.now)

    def _at(self, offset: float):
        """A timeout to today's ``offset`` (processes start on the eve of day 0)."""
        return self.env.timeout(offset + 1)

    def enter(self, i, s):
        self.stock[s] += self.size[i]

    def leave(self, i, s):
        self.stock[s] -= self.size[i]

    def leave_reception(self, i, d):
        if self.loc[i] != K.LOC_NONE:
            self.occ[self.loc[i]] -= self.size[i]
            self.reception_days[i] += d - self.rec_entry[i]
            self.loc[i] = K.LOC_NONE

    def queue(self, store, i):
        """Join a queue and wait for a slot; returns what the server hands over (an appointment)."""
        slot = self.env.event()
        yield store.put((i, slot))
        return (yield slot)

    def activate_nareis(self, i, d):
        c = self.nareis_child[i]
        if c >= 0:
            self.arrival_day[c] = d + self.nareis_lag[i]
            self.env.process(self.journey(c, self.env.timeout(self.nareis_lag[i])))

    # ------------------------------------------------------------------------------------------
    # a case's journey
    # ------------------------------------------------------------------------------------------
    def journey(self, i, arrival):
        env, today = self.env, self.today
        yield arrival
        d = self.day()
        sz = self.size[i]
        stream = self.stream[i]
        today[K.F_ARRIVALS] += sz
        if stream == K.STREAM_NAREIS:
            today[K.F_NAREIS_ARRIVALS] += sz
        if stream == K.STREAM_RESETTLEMENT:
            # permit on arrival, straight to a municipality
            self.outcome[i] = K.OUT_PERMIT_ON_ARRIVAL
            self.decision_day[i] = self.reg_day[i] = d
            self.grants_this_half += sz
            self.housing_budget -= sz
            self.housed_this_half += sz
            self.housed_day[i] = self.exit_day[i] = d
            self.exit_reason[i] = K.EXIT_HOUSED
            today[K.F_HOUSED] += sz
            today[F_RESETTLED] += sz
            self.activate_nareis(i, d)
            return

        # ---- wait for registration, in the waiting area ----
        self.enter(i, K.WAIT_REG)
        self.loc[i] = K.LOC_WAITING
        self.occ[K.LOC_WAITING] += sz
        end_of_stay = yield from self.queue(self.q_reg, i)
        d = self.day()
        self.leave(i, K.WAIT_REG)
        self.enter(i, K.CENTRAL)
        self.occ[K.LOC_WAITING] -= sz
        self.loc[i] = K.LOC_CENTRAL
        self.occ[K.LOC_CENTRAL] += sz
        self.rec_entry[i] = self.reg_day[i] = d
        today[K.F_REGISTERED] += sz

        # ---- central reception, then to a regular, small-scale or emergency place ----
        yield end_of_stay
        d = self.day()
        self.leave(i, K.CENTRAL)
        track = self.track[i]
        if stream == K.STREAM_NAREIS:
            self.outcome[i] = K.OUT_PERMIT_ON_ARRIVAL
            self.decision_day[i] = d
            self.grants_this_half += sz
            nxt, q = K.PERMIT_LEAD, None
        elif track == K.TRACK_DUBLIN:
            nxt, q = K.DUBLIN, self.q_decision[2]
        else:
            nxt, q = K.WAIT_DECISION, self.q_decision[0 if track == K.TRACK_GENERAL else 1]
        occ = self.occ
        occ[K.LOC_CENTRAL] -= sz
        if self.routed[i] and occ[K.LOC_SMALL] + sz <= self.cap_small[d]:
            self.loc[i] = K.LOC_SMALL
        elif occ[K.LOC_REGULAR] + sz <= self.cap_regular[d]:
            self.loc[i] = K.LOC_REGULAR
        else:
            self.loc[i] = K.LOC_EMERGENCY
            self.q_upgrade.put(i)  # waits for a regular place; the upgrade desk moves it
        occ[self.loc[i]] += sz
        self.moves[i] += 1
        today[K.F_MOVES] += sz
        self.enter(i, nxt)
        if nxt == K.PERMIT_LEAD:
            yield from self.permit_holder(i, sz)
            return

        if nxt == K.DUBLIN:
            end_of_claim = yield from self.queue(q, i)
            yield end_of_claim
            d = self.day()
            self.leave(i, K.DUBLIN)
            o = self.dub_outcome[i]
            if o != K.DUB_LAPSE:
                transfer = o == K.DUB_TRANSFER
                self.outcome[i] = K.OUT_DUBLIN_TRANSFER if transfer else K.OUT_DUBLIN_ABSCOND
                self.decision_day[i] = d
                self.exit_reason[i] = K.EXIT_DUBLIN_TRANSFER if transfer else K.EXIT_UNSUPERVISED
                today[K.F_DUBLIN_TRANSFERS if transfer else K.F_DEP_UNSUPERVISED] += sz
                today[K.F_DECISIONS] += sz
                self.leave_reception(i, d)
                self.exit_day[i] = d
                return
            # responsibility lapses to the Netherlands: the national procedure
            self.enter(i, K.WAIT_DECISION)
            q = self.q_decision[0]

        # ---- wait for an IND slot, then the procedure (and maybe the extended procedure) ----
        end_of_procedure = yield from self.queue(q, i)
        self.leave(i, K.WAIT_DECISION)
        self.enter(i, K.PROCEDURE)
        yield end_of_procedure
        d = self.day()
        self.leave(i, K.PROCEDURE)
        if track == K.TRACK_GENERAL and self.loc[i] == K.LOC_REGULAR and not self.routed[i]:
            # from the process location near the IND to a regular AZC
            self.moves[i] += 1
            today[K.F_MOVES] += sz
        if self.va_flag[i]:
            self.enter(i, K.VA)
            yield env.timeout(self.dur_va[i])
            d = self.day()
            self.leave(i, K.VA)
        self.decision_day[i] = d
        today[K.F_DECISIONS] += sz
        reg = self.reg_day[i]
        if d - reg > self.statutory_days[reg]:
            self.breach[i] = 1
            today[K.F_BREACHES] += sz
        if self.grant_flag[i]:
            self.outcome[i] = K.OUT_GRANTED
            today[K.F_GRANTS] += sz
            yield from self.permit_holder(i, sz)
            return
        self.outcome[i] = K.OUT_REJECTED
        today[K.F_REJECTIONS] += sz
        if self.appeal_flag[i]:
            self.enter(i, K.APPEAL)
            yield env.timeout(self.dur_appeal[i])
            self.leave(i, K.APPEAL)
            if self.appeal_success[i]:
                self.outcome[i] = K.OUT_GRANTED_APPEAL
                today[K.F_GRANTS] += sz
                yield from self.permit_holder(i, sz)
                return
        yield from self.return_path(i, sz)

    def permit_holder(self, i, sz):
        """A permit: feeds the housing prognosis, activates the family's nareis, waits for a home."""
        today = self.today
        if self.stream[i] != K.STREAM_NAREIS:
            self.grants_this_half += sz
            self.activate_nareis(i, self.day())
            self.enter(i, K.PERMIT_LEAD)  # nareis cases entered it on leaving central reception
        yield self.env.timeout(self.dur_lead[i])
        self.leave(i, K.PERMIT_LEAD)
        self.enter(i, K.HOUSING_QUEUE)
        yield from self.queue(self.q_housing, i)
        d = self.day()
        self.leave(i, K.HOUSING_QUEUE)
        self.leave_reception(i, d)
        self.housed_day[i] = self.exit_day[i] = d
        self.exit_reason[i] = K.EXIT_HOUSED
        today[K.F_HOUSED] += sz

    def return_path(self, i, sz):
        """Rejected: departure term in reception, maybe a freedom-restricting location, departure."""
        env, today = self.env, self.today
        self.enter(i, K.DEPARTURE_TERM)
        yield env.timeout(self.term_days[i])
        d = self.day()
        self.leave(i, K.DEPARTURE_TERM)
        forced = self.dep_type[i] == K.DEP_FORCED
        if self.restricted_flag[i]:
            self.occ[self.loc[i]] -= sz
            self.loc[i] = K.LOC_RESTRICTED
            self.occ[K.LOC_RESTRICTED] += sz
            self.moves[i] += 1
            today[K.F_MOVES] += sz
            self.enter(i, K.RETURN_RESTRICTED)
            yield env.timeout(self.dur_restricted[i])
            d = self.day()
            self.leave(i, K.RETURN_RESTRICTED)
        self.leave_reception(i, d)
        s = K.DETENTION if forced else K.RETURN_OUTSIDE
        self.enter(i, s)
        yield env.timeout(self.dur_detention[i] if forced else self.dur_departure[i])
        d = self.day()
        self.leave(i, s)
        t = self.dep_type[i]
        self.exit_reason[i] = K.EXIT_INDEPENDENT + t
        today[K.F_DEP_INDEPENDENT + t] += sz
        self.exit_day[i] = d

    # ------------------------------------------------------------------------------------------
    # daily servers
    # ------------------------------------------------------------------------------------------
    def appointment(self, d, days):
        """A timeout that ends ``days`` after today (a same-day end runs at once)."""
        return self.env.timeout(max(d + days - self.env.now, 0))

    def desk(self, q, cap, dur, phase):
        """A daily server: each day at ``phase`` it adds the day's capacity [persons] to its budget and
        serves the queue first-in-first-out while the head case fits; the served case gets the end
        of its next stay (``dur`` days) as appointment. An empty queue forfeits the budget."""
        env, size = self.env, self.size
        budget = 0.0
        yield self._at(phase)
        while True:
            d = self.day()
            budget += cap[d]
            while q.items:
                i, slot = q.items[0]
                if size[i] > budget:
                    break
                yield q.get()
                budget -= size[i]
                slot.succeed(self.appointment(d, dur[i]))
            if not q.items:
                budget = 0.0
            yield env.timeout(1)

    def housing_desk(self):
        env, q, size = self.env, self.q_housing, self.size
        yield self._at(PHASE_HOUSING)
        while True:
            while q.items:
                i, slot = q.items[0]
                if size[i] > self.housing_budget:
                    break
                yield q.get()
                self.housing_budget -= size[i]
                self.housed_this_half += size[i]
                slot.succeed()
            yield env.timeout(1)

    def upgrade_desk(self):
        env, q, size, occ, loc = self.env, self.q_upgrade, self.size, self.occ, self.loc
        yield self._at(PHASE_UPGRADE)
        while True:
            d = self.day()
            while q.items:
                i = q.items[0]
                if loc[i] == K.LOC_EMERGENCY and occ[K.LOC_REGULAR] + size[i] > self.cap_regular[d]:
                    break
                yield q.get()
                if loc[i] != K.LOC_EMERGENCY:
                    continue  # left emergency reception already
                occ[K.LOC_EMERGENCY] -= size[i]
                loc[i] = K.LOC_REGULAR
                occ[K.LOC_REGULAR] += size[i]
                self.moves[i] += 1
                self.today[K.F_MOVES] += size[i]
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
            if reg > self.cap_regular[d] and reg > prev_regular:
                self.err = 3
            if small > self.cap_small[d] and small > prev_small:
                self.err = 4
            prev_regular, prev_small = reg, small
            yield env.timeout(1)

    def housing_planner(self):
        """On the eve of each day: a new half-year sets the task; each day adds to the budget."""
        env, hb = self.env, self.half_book
        yield self._at(PHASE_PLAN - 1)
        while True:
            d = self.day() + 1
            if d >= self.T:
                return
            h = self.half_of_day[d]
            if h != self.cur_half:
                if self.cur_half >= 0:
                    ch = self.cur_half
                    hb[ch, K.H_REALISED] = self.housed_this_half
                    hb[ch, K.H_GRANTED] = self.grants_this_half
                    self.backlog = max(float(hb[ch, K.H_TASK] + hb[ch, K.H_BACKLOG_IN]) - self.housed_this_half, 0.0)
                    self.grants_prev_half = self.grants_this_half
                self.cur_half = h
                task = self.task_given[h] if self.task_given[h] >= 0 else self.grants_prev_half
                task *= self.task_scale
                hb[h, K.H_TASK] = task
                hb[h, K.H_BACKLOG_IN] = self.backlog
                self.housing_budget = 0.0
                self.housed_this_half = 0.0
                self.grants_this_half = 0.0
            self.housing_budget += self.realisation_rate * float(hb[h, K.H_TASK] + hb[h, K.H_BACKLOG_IN]) \
                / self.half_len[h]
            yield env.timeout(1)

    # ------------------------------------------------------------------------------------------
    def run(self) -> int:
        self.env.run(until=self.T)
        if self.cur_half >= 0:
            self.half_book[self.cur_half, K.H_REALISED] = self.housed_this_half
            self.half_book[self.cur_half, K.H_GRANTED] = self.grants_this_half
        for i, lc in enumerate(self.loc):
            if lc != K.LOC_NONE and lc != K.LOC_WAITING and self.rec_entry[i] >= 0:
                self.reception_days[i] += self.T - self.rec_entry[i]
        return self.err


def run_simpy(c: Compiled, replicate: int = 0, check: bool = True, tie: str = "lifo") -> ReplicateOutput:
    """Run the SimPy reference on compiled inputs; the same output as ``run_compiled``."""
    m = ReferenceChain(c, tie=tie)
    err = m.run()
    if err:
        raise RuntimeError(f"SimPy reference: invariant {err} broken")
    types = dict(reg_day=np.int64, decision_day=np.int64, outcome=np.int8, housed_day=np.int64,
                 exit_day=np.int64, exit_reason=np.int8, moves=np.int32, breach=np.int8,
                 reception_days=np.int64, loc=np.int8)
    case = {k: np.asarray(getattr(m, k), dtype=t) for k, t in types.items()}
    case["arrival_day"] = m.arrival_day
    out = ReplicateOutput(replicate, c, m.stage_stock, m.loc_stock, m.flows, m.half_book, case)
    if check:
        check_conservation(out)
    return out


# ----------------------------------------------------------------------------------------------
# comparison functions (used by the benchmark and the test)
# ----------------------------------------------------------------------------------------------
ARRAYS = ("stage_stock", "loc_stock", "flows", "half_book")
CASE_ARRAYS = ("arrival_day", "reg_day", "decision_day", "outcome", "housed_day", "exit_day", "exit_reason",
               "moves", "breach", "reception_days", "loc")


def array_differences(a: ReplicateOutput, b: ReplicateOutput) -> dict[str, int]:
    """Number of differing entries per output array (empty dict: identical)."""
    diff = {}
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        n = int(np.count_nonzero(x != y)) if x.shape == y.shape else -1
        if n:
            diff[name] = n
    for name in CASE_ARRAYS:
        x, y = a.case[name], b.case[name]
        n = int(np.count_nonzero(x != y)) if x.shape == y.shape else -1
        if n:
            diff[name] = n
    return diff


def key_statistics(out: ReplicateOutput) -> dict[str, float]:
    """Key figures over the reported period (warm-up excluded)."""
    c = out.compiled
    si = c.grid.start_index
    cs, r = c.case, out.case
    size = cs["size"]
    coa = out.loc_stock[si:, [K.LOC_CENTRAL, K.LOC_REGULAR, K.LOC_SMALL, K.LOC_RESTRICTED, K.LOC_EMERGENCY]]
    fl = out.flows[si:]

    def mean_days(mask, a, b):
        w = size[mask]
        return float(np.average(a[mask] - b[mask], weights=w)) if w.sum() > 0 else float("nan")

    dec, reg = r["decision_day"], r["reg_day"]
    asylum = (cs["stream"] == K.STREAM_FIRST) | (cs["stream"] == K.STREAM_SUBSEQUENT)
    decided = (dec >= si) & (reg >= 0) & asylum
    housed = (r["housed_day"] >= si) & (dec >= 0) & (cs["stream"] != K.STREAM_RESETTLEMENT)
    return {
        "coa_occupancy_mean": float(coa.sum(axis=1).mean()),
        "emergency_occupancy_mean": float(out.loc_stock[si:, K.LOC_EMERGENCY].mean()),
        "waiting_registration_mean": float(out.stage_stock[si:, K.WAIT_REG].mean()),
        "decision_wait_general_days": mean_days(decided & (cs["track"] == K.TRACK_GENERAL), dec, reg),
        "decision_wait_safe_days": mean_days(decided & (cs["track"] == K.TRACK_SAFE), dec, reg),
        "decision_wait_dublin_days": mean_days(decided & (cs["track"] == K.TRACK_DUBLIN), dec, reg),
        "housing_wait_days": mean_days(housed, r["housed_day"], dec),
        "grants": float(fl[:, K.F_GRANTS].sum()),
        "housed": float(fl[:, K.F_HOUSED].sum()),
        "departures": float(fl[:, [K.F_DEP_INDEPENDENT, K.F_DEP_FORCED, K.F_DEP_UNSUPERVISED]].sum()),
        "dublin_transfers": float(fl[:, K.F_DUBLIN_TRANSFERS].sum()),
    }


def relative_difference(a: float, b: float) -> float:
    """|a - b| / |a| (0 where both are 0)."""
    if a == b:
        return 0.0
    return abs(a - b) / abs(a) if a else float("inf")
