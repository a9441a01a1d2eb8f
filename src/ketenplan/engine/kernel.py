"""The chain kernel: a daily, capacity-constrained, case-level simulation compiled with numba.

No I/O and no randomness: every random quantity is drawn beforehand (``engine.compile``) and
passed in. The kernel knows no stage by name: it walks the chain declared in
``engine.registry`` through integer tables (successors, edges and their effects, desks and
their queues). It runs days ``d0`` to ``d1 - 1`` of a run whose whole state lives in arrays
(:class:`State`), so a run can stop at a date, let a hook look at the state and change the
capacities of later days, and go on: ``advance`` is resumable and a run in many periods gives
the same arrays as one call.

Within a day: timed events (same-day events last-scheduled-first; same-day arrivals in case
order), then the desks in declared order (each serves its queues first-in-first-out in declared
order while the head case fits the day's budget), then emergency-to-regular moves; stocks are
recorded at the end of the day. Because the desks work after the day's timed events, a stay
that starts at a desk lasts at least one day. Ties break by these fixed rules only.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from ketenplan.engine import registry as R

# ---- constants derived from the registry (numba reads module globals as compile-time constants) ----
N_STAGE = len(R.STAGES)
N_LOC = len(R.LOCATIONS)
N_FLOW = len(R.FLOWS)
N_DESK = len(R.DESKS)
N_QUEUE = len(R.QUEUE_STAGES)
NOT_ARRIVED = R.STAGE["not_arrived"]
LOC_NONE = -1
LOC_CENTRAL = R.LOC["central"]
LOC_REGULAR = R.LOC["regular"]
LOC_SMALL = R.LOC["small_scale"]
LOC_RESTRICTED = R.LOC["freedom_restricting"]
LOC_EMERGENCY = R.LOC["emergency"]
LOC_WAITING = R.LOC["waiting_registration"]
TRACK_GENERAL = R.TRACK["general"]
F_ARRIVALS = R.FLOW["arrivals"]
F_MOVES = R.FLOW["moves"]
F_BREACHES = R.FLOW["statutory_breaches"]
ACT_KEEP, ACT_WAITING, ACT_CENTRAL, ACT_PLACE, ACT_RESTRICTED, ACT_LEAVE = range(6)
MOVE_NONE, MOVE_ALWAYS, MOVE_POL = range(3)
EXIT_HOUSED = R.EXIT["housed"]
BIT_DECISION, BIT_STATUTORY, BIT_PERMIT, BIT_SPONSOR, BIT_REGISTERS = (1 << R.EDGE_FLAGS.index(n) for n in (
    "decision", "statutory", "permit", "sponsor", "registers"))

# scalar state: float accumulators and integer variables
A_PERMITS = 0  # persons granted a permit since a hook last reset it (the housing prognosis reads it)
N_ACC = 4
V_PREV_REGULAR, V_PREV_SMALL, V_ERR, V_DAY = range(4)
N_IVAR = 4

ERRORS = {1: "a stage stock went negative", 2: "a reception occupancy went negative",
          3: "regular reception occupancy grew above its capacity",
          4: "small-scale reception occupancy grew above its capacity",
          5: "a case took a move that the registry does not declare",
          6: "a queue overflowed its buffer"}

TABLE_FIELDS = ("succ", "branch_slot", "duration_slot", "queue_of", "queue_stage", "desk_queues",
                "desk_carry_period", "edge_of", "edge_flows", "edge_outcome", "edge_flags", "edge_desk", "edge_location",
                "edge_move", "edge_exit", "stream_arrival_flow", "stream_arrival_stage")
DAY_FIELDS = ("desk_cap", "cap_regular", "cap_small", "statutory_days")
CASE_FIELDS = ("size", "stream", "track", "routed", "dur", "branch", "nareis_child", "nareis_lag")
#: the kernel's named inputs: registry tables, per-day inputs (hooks may change them from the
#: current day on), per-case inputs (pre-drawn)
Inputs = namedtuple("Inputs", TABLE_FIELDS + DAY_FIELDS + CASE_FIELDS)

STATE_FIELDS = ("stage", "nxt", "head", "qbuf", "qhead", "qtail", "ubuf", "uhead", "stock", "occ", "budget",
                "rec_entry", "acc", "ivar",
                # per-case results
                "arrival_day", "reg_day", "decision_day", "outcome", "housed_day", "exit_day", "exit_reason",
                "moves", "breach", "reception_days", "loc",
                # per-day results
                "stage_stock", "loc_stock", "flows")
#: a run's whole state: everything ``advance`` reads and writes
State = namedtuple("State", STATE_FIELDS)


def new_state(inp: Inputs, arrival_day: np.ndarray, T: int) -> State:
    """The state of a run before its first day: every case scheduled on its arrival day."""
    C = arrival_day.shape[0]
    st = State(
        stage=np.full(C, NOT_ARRIVED, np.int8), nxt=np.full(C, -1, np.int64), head=np.full(T + 1, -1, np.int64),
        qbuf=np.empty((N_QUEUE, max(C, 1)), np.int64), qhead=np.zeros(N_QUEUE, np.int64),
        qtail=np.zeros(N_QUEUE, np.int64), ubuf=np.empty(max(C, 1), np.int64), uhead=np.zeros(2, np.int64),
        stock=np.zeros(N_STAGE, np.int64), occ=np.zeros(N_LOC, np.int64), budget=np.zeros(N_DESK, np.float64),
        rec_entry=np.full(C, -1, np.int64), acc=np.zeros(N_ACC, np.float64), ivar=np.zeros(N_IVAR, np.int64),
        arrival_day=arrival_day.astype(np.int64, copy=True), reg_day=np.full(C, -1, np.int64),
        decision_day=np.full(C, -1, np.int64), outcome=np.zeros(C, np.int8), housed_day=np.full(C, -1, np.int64),
        exit_day=np.full(C, -1, np.int64), exit_reason=np.zeros(C, np.int8), moves=np.zeros(C, np.int32),
        breach=np.zeros(C, np.int8), reception_days=np.zeros(C, np.int64), loc=np.full(C, LOC_NONE, np.int8),
        stage_stock=np.zeros((T, N_STAGE), np.int64), loc_stock=np.zeros((T, N_LOC), np.int64),
        flows=np.zeros((T, N_FLOW), np.int64),
    )
    _schedule_arrivals(st.arrival_day, st.head, st.nxt, T)
    return st


@njit(cache=True, nogil=True)
def _schedule_arrivals(arrival_day, head, nxt, T):
    # scheduled in reverse so that same-day arrivals pop (and queue) in case order
    for i in range(arrival_day.shape[0] - 1, -1, -1):
        if 0 <= arrival_day[i] < T:
            nxt[i] = head[arrival_day[i]]
            head[arrival_day[i]] = i


def advance(inp: Inputs, st: State, d0: int, d1: int) -> int:
    """Run days ``d0`` .. ``d1 - 1``. Returns an error code (0: every invariant held); the state
    holds where the run stands, so the next call continues from ``d1``.

    The named record is unpacked into positional arrays here: numba dispatches plain arrays much
    faster than a tuple of 60 of them, which keeps a run stepped month by month close to one call."""
    return _days(*inp, *st, d0, d1)


@njit(cache=True, nogil=True)
def _days(succ, branch_slot, duration_slot, queue_of, queue_stage, desk_queues, desk_carry_period, edge_of,
          edge_flows, edge_outcome, edge_flags, edge_desk, edge_location, edge_move, edge_exit, stream_arrival_flow, stream_arrival_stage,
          desk_cap, cap_regular, cap_small, statutory_days,
          size, stream, track, routed, dur, branch, nareis_child, nareis_lag,
          stage, nxt, head, qbuf, qhead, qtail, ubuf, uhead, stock, occ, budget, rec_entry, acc, ivar,
          arrival_day, reg_day, decision_day, outcome, housed_day, exit_day, exit_reason, moves, breach,
          reception_days, loc, stage_stock, loc_stock, flows, d0, d1):
    """The kernel's day loop on the unpacked inputs and state (see ``advance``)."""
    T1 = head.shape[0] - 1

    def take(i, s, t, d, from_desk):
        # move case i from stage s to stage t on day d with the edge's effects, then queue it or
        # start its timer in t; False when the registry declares no such move
        e = edge_of[s, t]
        if e < 0:
            return False
        sz = size[i]
        if s != NOT_ARRIVED:
            stock[s] -= sz
        for j in range(edge_flows.shape[1]):
            f = edge_flows[e, j]
            if f < 0:
                break
            flows[d, f] += sz
        if s == NOT_ARRIVED:
            af = stream_arrival_flow[stream[i]]
            if af >= 0:
                flows[d, af] += sz
        if edge_outcome[e] >= 0:
            outcome[i] = edge_outcome[e]
        fl = edge_flags[e]
        if fl & BIT_REGISTERS:
            reg_day[i] = d
        if fl & BIT_DECISION:
            decision_day[i] = d
        if fl & BIT_STATUTORY:
            r = reg_day[i]
            if d - r > statutory_days[r]:
                breach[i] = 1
                flows[d, F_BREACHES] += sz
        if fl & BIT_PERMIT:
            acc[A_PERMITS] += sz
        if fl & BIT_SPONSOR:
            c = nareis_child[i]
            if c >= 0:
                arrival_day[c] = d + nareis_lag[i]
                if arrival_day[c] < T1:
                    nxt[c] = head[arrival_day[c]]
                    head[arrival_day[c]] = c
        if edge_desk[e] >= 0:
            budget[edge_desk[e]] -= sz
        # ---- the case's reception place ----
        mv = edge_move[e]
        if mv == MOVE_POL and track[i] == TRACK_GENERAL and loc[i] == LOC_REGULAR and not routed[i]:
            moves[i] += 1  # from the process location near the IND to a regular AZC
            flows[d, F_MOVES] += sz
        act = edge_location[e]
        if act == ACT_WAITING:
            loc[i] = LOC_WAITING
            occ[LOC_WAITING] += sz
        elif act == ACT_CENTRAL:
            occ[loc[i]] -= sz
            loc[i] = LOC_CENTRAL
            occ[LOC_CENTRAL] += sz
            rec_entry[i] = d
        elif act == ACT_PLACE:
            occ[loc[i]] -= sz
            if routed[i] and occ[LOC_SMALL] + sz <= cap_small[d]:
                loc[i] = LOC_SMALL
            elif occ[LOC_REGULAR] + sz <= cap_regular[d]:
                loc[i] = LOC_REGULAR
            else:
                loc[i] = LOC_EMERGENCY
                ubuf[uhead[1]] = i  # waits for a regular place
                uhead[1] += 1
            occ[loc[i]] += sz
        elif act == ACT_RESTRICTED:
            occ[loc[i]] -= sz
            loc[i] = LOC_RESTRICTED
            occ[LOC_RESTRICTED] += sz
        elif act == ACT_LEAVE:
            if loc[i] != LOC_NONE:
                occ[loc[i]] -= sz
                reception_days[i] += d - rec_entry[i]
                loc[i] = LOC_NONE
        if mv == MOVE_ALWAYS:
            moves[i] += 1
            flows[d, F_MOVES] += sz
        # ---- leaving the chain ----
        ex = edge_exit[e]
        if ex >= 0:
            exit_day[i] = d
            exit_reason[i] = ex
            if ex == EXIT_HOUSED:
                housed_day[i] = d
        # ---- enter the new stage: queue, or start its timer ----
        stage[i] = t
        stock[t] += sz
        q = queue_of[t]
        if q >= 0:
            qbuf[q, qtail[q]] = i
            qtail[q] += 1
        else:
            k = duration_slot[t]
            if k >= 0:
                days = dur[i, k]
                if from_desk and days < 1:
                    days = 1  # the desks work after the day's events: a stay starting there lasts a day
                day = d + days
                if day < T1:
                    nxt[i] = head[day]
                    head[day] = i
        return True

    for d in range(d0, d1):
        # ---- timed events of the day ----
        while head[d] != -1:
            i = head[d]
            head[d] = nxt[i]
            s = stage[i]
            if s == NOT_ARRIVED:
                t = stream_arrival_stage[stream[i]]
            else:
                b = branch_slot[s]
                t = succ[s, branch[i, b] if b >= 0 else 0]
            if not take(i, s, t, d, False):
                ivar[V_ERR] = 5
                return 5

        # ---- desks, in declared order; each serves its queues first-in-first-out, in order ----
        for k in range(N_DESK):
            budget[k] += desk_cap[k, d]
            waiting = False
            for j in range(desk_queues.shape[1]):
                q = desk_queues[k, j]
                if q < 0:
                    break
                blocked = False
                while qhead[q] < qtail[q]:
                    i = qbuf[q, qhead[q]]
                    if size[i] > budget[k]:
                        blocked = True
                        break
                    qhead[q] += 1
                    budget[k] -= size[i]
                    s = queue_stage[q]
                    if not take(i, s, succ[s, 0], d, True):
                        ivar[V_ERR] = 5
                        return 5
                if qhead[q] < qtail[q]:
                    waiting = True
                if blocked:
                    break  # no overtaking: a later queue waits while an earlier one's head does not fit
            if not waiting and not desk_carry_period[k]:
                budget[k] = 0.0

        # ---- emergency places to regular places as they free up (first come, first served) ----
        while uhead[0] < uhead[1]:
            i = ubuf[uhead[0]]
            if loc[i] != LOC_EMERGENCY:
                uhead[0] += 1  # left emergency reception already
                continue
            sz = size[i]
            if occ[LOC_REGULAR] + sz > cap_regular[d]:
                break
            uhead[0] += 1
            occ[LOC_EMERGENCY] -= sz
            loc[i] = LOC_REGULAR
            occ[LOC_REGULAR] += sz
            moves[i] += 1
            flows[d, F_MOVES] += sz

        # ---- record and guard ----
        for k in range(N_STAGE):
            stage_stock[d, k] = stock[k]
            if stock[k] < 0:
                ivar[V_ERR] = 1
        for k in range(N_LOC):
            loc_stock[d, k] = occ[k]
            if occ[k] < 0:
                ivar[V_ERR] = 2
        # hard capacities: occupancy may stay above a lowered capacity, but never grow above it
        reg = occ[LOC_REGULAR]
        small = occ[LOC_SMALL]
        if reg > cap_regular[d] and reg > ivar[V_PREV_REGULAR]:
            ivar[V_ERR] = 3
        if small > cap_small[d] and small > ivar[V_PREV_SMALL]:
            ivar[V_ERR] = 4
        ivar[V_PREV_REGULAR] = reg
        ivar[V_PREV_SMALL] = small
        ivar[V_DAY] = d + 1
    return ivar[V_ERR]
