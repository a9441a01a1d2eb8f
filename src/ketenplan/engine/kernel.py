"""The chain kernel: a daily, capacity-constrained, case-level simulation compiled with numba.

No I/O and no randomness: every random quantity is drawn beforehand (``engine.compile``) and
passed in. The kernel knows no stage by name: it walks the chain declared in
``engine.registry`` through integer tables (successors, edges and their effects, desks and
their queues). It runs days ``d0`` to ``d1 - 1`` of a run whose whole state lives in arrays
(:class:`State`), so a run can stop at a date, let a hook look at the state and change the
capacities of later days, and go on: ``advance`` is resumable and a run in many periods gives
the same arrays as one call.

Within a day: timed events (same-day events last-scheduled-first; same-day arrivals in case
order; an instant stage is left the same day, depth first), then patience running out in queues
(in the order the waits began), then the desks in declared order (each serves its queues
first-in-first-out in declared order while the head case fits the day's budget), then
emergency-to-regular moves; stocks are recorded at the end of the day. Because the desks work
after the day's timed events, a stay that starts at a desk lasts at least one day. A late branch
picks the successor when the case leaves, from the case's own uniform and the month's and
group's probabilities. Ties break by these fixed rules only.
"""

from __future__ import annotations

from collections import namedtuple

import llvmlite.binding as _llvm
import numpy as np
from llvmlite import ir as _ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ketenplan.engine import registry as R
from ketenplan.engine.index import unsigned as _u  # a[_u(i)]: no negative-index fix-up (engine.index)
# numba compiles engine.rng's draws into this file's own disk cache, which it keys on this file only:
# when the draws change, this file must change too (last: rng.key_schedule, the scheduled round keys)
from ketenplan.engine.rng import duration_constants, spec_days

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
ACT_KEEP, ACT_WAITING, ACT_CENTRAL, ACT_PLACE, ACT_RESTRICTED, ACT_LEAVE = (R.LOCATION_ACTIONS.index(a) for a in (
    "keep", "waiting", "central", "place", "restricted", "leave"))
MOVE_NONE, MOVE_ALWAYS, MOVE_POL = range(3)
EXIT_HOUSED = R.EXIT["housed"]
HOUSED = R.STAGE["housed"]
ARRIVE_REGISTRATION = R.STAGES[NOT_ARRIVED].successors.index("waiting_registration")
ARRIVE_SPONSOR_HOME = R.STAGES[NOT_ARRIVED].successors.index("joined_sponsor")
BIT_DECISION, BIT_STATUTORY, BIT_PERMIT, BIT_SPONSOR, BIT_REGISTERS = (1 << R.EDGE_FLAGS.index(n) for n in (
    "decision", "statutory", "permit", "sponsor", "registers"))

#: Registry-derived constants reach the compiled kernel as an array argument (``kc``), never as
#: module globals: numba bakes globals into its on-disk cache, which is keyed on this file only, so a
#: change of the registry would otherwise run with stale stage or slot numbers.
KC = ("not_arrived", "loc_central", "loc_regular", "loc_small", "loc_restricted", "loc_emergency", "loc_waiting",
      "track_general", "f_moves", "f_breaches", "exit_housed", "housed", "arrive_registration",
      "arrive_sponsor_home", "bit_decision", "bit_statutory", "bit_permit", "bit_sponsor", "bit_registers",
      "act_waiting", "act_central", "act_place", "act_restricted", "act_leave", "move_always", "move_pol")
(KC_NOT_ARRIVED, KC_LOC_CENTRAL, KC_LOC_REGULAR, KC_LOC_SMALL, KC_LOC_RESTRICTED, KC_LOC_EMERGENCY, KC_LOC_WAITING,
 KC_TRACK_GENERAL, KC_F_MOVES, KC_F_BREACHES, KC_EXIT_HOUSED, KC_HOUSED, KC_ARRIVE_REGISTRATION,
 KC_ARRIVE_SPONSOR_HOME, KC_BIT_DECISION, KC_BIT_STATUTORY, KC_BIT_PERMIT, KC_BIT_SPONSOR, KC_BIT_REGISTERS,
 KC_ACT_WAITING, KC_ACT_CENTRAL, KC_ACT_PLACE, KC_ACT_RESTRICTED, KC_ACT_LEAVE, KC_MOVE_ALWAYS, KC_MOVE_POL) = range(26)


_PREFETCH = "llvm.prefetch.p0" if _llvm.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"  # opaque pointers


@intrinsic
def prefetch(typingctx, arr, idx):
    """Ask the processor to bring ``arr[idx]`` (the first entry of row ``idx`` of a 2-D array) into
    its cache: LLVM's ``llvm.prefetch`` (read, high locality). A hint only, never a load: it cannot
    fault, and no value the kernel computes depends on it. The kernel is bound by memory latency
    (a case's arrays are read at random among a few hundred thousand cases), so warming the next
    case's entries while the current one is handled hides most of the wait."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aty, ity = signature.args
        ary = context.make_array(aty)(context, builder, args[0])
        zero = _ir.Constant(_ir.IntType(64), 0)
        inds = [context.cast(builder, args[1], ity, types.intp)] + [zero] * (aty.ndim - 1)
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides), layout=aty.layout,
                                        inds=inds, wraparound=False, boundscheck=False)
        i8p = _ir.IntType(8).as_pointer()
        i32 = _ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, _ir.FunctionType(_ir.VoidType(), [i8p, i32, i32, i32]),
                                             _PREFETCH)
        builder.call(fn, [builder.bitcast(ptr, i8p), _ir.Constant(i32, 0), _ir.Constant(i32, 3), _ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


def kernel_constants() -> np.ndarray:
    """The registry's constants in the order of :data:`KC`."""
    values = dict(not_arrived=NOT_ARRIVED, loc_central=LOC_CENTRAL, loc_regular=LOC_REGULAR, loc_small=LOC_SMALL,
                  loc_restricted=LOC_RESTRICTED, loc_emergency=LOC_EMERGENCY, loc_waiting=LOC_WAITING,
                  track_general=TRACK_GENERAL, f_moves=F_MOVES, f_breaches=F_BREACHES, exit_housed=EXIT_HOUSED,
                  housed=HOUSED, arrive_registration=ARRIVE_REGISTRATION, arrive_sponsor_home=ARRIVE_SPONSOR_HOME,
                  bit_decision=BIT_DECISION, bit_statutory=BIT_STATUTORY, bit_permit=BIT_PERMIT,
                  bit_sponsor=BIT_SPONSOR, bit_registers=BIT_REGISTERS, act_waiting=ACT_WAITING,
                  act_central=ACT_CENTRAL, act_place=ACT_PLACE, act_restricted=ACT_RESTRICTED, act_leave=ACT_LEAVE,
                  move_always=MOVE_ALWAYS, move_pol=MOVE_POL)
    return np.array([values[n] for n in KC], np.int64)


# scalar state: float accumulators and integer variables
A_PERMITS = 0  # persons granted a permit since a hook last reset it (the housing prognosis reads it)
N_ACC = 4
V_PREV_REGULAR, V_PREV_SMALL, V_ERR, V_DAY, V_RPOOL = range(5)
N_IVAR = 5

ERRORS = {1: "a stage stock went negative", 2: "a reception occupancy went negative",
          3: "regular reception occupancy grew above its capacity",
          4: "small-scale reception occupancy grew above its capacity",
          5: "a case took a move that the registry does not declare",
          6: "more waits with patience than the event pool holds"}

TABLE_FIELDS = ("kc", "succ", "branch_slot", "late_slot", "record_slot", "duration_slot", "until_flag", "patience_slot",
                "renege_stage", "queue_of", "queue_stage", "desk_queues", "desk_carry_period", "desk_places",
                "desk_holds", "edge_of", "edge_flows", "edge_outcome", "edge_flags", "edge_desk", "edge_location",
                "edge_move", "edge_exit", "stream_arrival_flow", "stream_follows")
DAY_FIELDS = ("desk_cap", "cap_regular", "cap_small", "statutory_days", "month_of_day", "late_cum")
DRAW_FIELDS = ("key", "dspec", "slot_spec", "slot_purpose")
CASE_FIELDS = ("size", "stream", "track", "routed", "late_row", "case_key", "dur", "branch", "late_u",
               "nareis_child", "nareis_lag", "parent")
#: the kernel's named inputs: registry tables and layout, per-day inputs and the late tables by
#: month (hooks may change them from the current day on), the keyed draws of the stays drawn when
#: a case enters them (the replicate's key, the duration specs, per slot the spec and purpose),
#: per-case inputs (pre-drawn)
Inputs = namedtuple("Inputs", TABLE_FIELDS + DAY_FIELDS + DRAW_FIELDS + CASE_FIELDS)

STATE_FIELDS = ("stage", "nxt", "head", "rnode", "rnext", "rhead", "rdue", "qbuf", "qhead", "qtail", "ubuf", "uhead",
                "stock", "occ", "budget", "rec_entry", "acc", "ivar",
                # per-case results
                "arrival_day", "reg_day", "decision_day", "outcome", "housed_day", "exit_day", "exit_reason",
                "moves", "breach", "reception_days", "loc",
                # per-day results
                "stage_stock", "loc_stock", "flows")
#: a run's whole state: everything ``advance`` reads and writes
State = namedtuple("State", STATE_FIELDS)


#: The dtype of the kernel's per-case day numbers, case links and queue entries (state) and of the
#: per-case integer inputs (``CASE_NARROW``): 32 bits hold any day of a grid and any case number of a
#: run (checked in ``new_state``). The kernel is bound by memory latency (a case's entries are read at
#: random among a few hundred thousand cases); half-width entries put twice the cases in a cache line,
#: measured 4-8% off the kernel's time on nl_baseline, with the same numbers. What a run hands back
#: (``engine.run.output_of``) is widened again to int64.
CASE_INT = np.int32
#: per-case integer inputs kept in :data:`CASE_INT`
CASE_NARROW = ("size", "late_row", "nareis_child", "nareis_lag", "parent")


def new_state(inp: Inputs, arrival_day: np.ndarray, T: int) -> State:
    """The state of a run before its first day: every case scheduled on its arrival day."""
    C = arrival_day.shape[0]
    pool = max(2 * C, 16)  # waits with patience: at most a few per case
    if max(pool, 2 * C, T + 1) >= np.iinfo(CASE_INT).max:
        raise ValueError(f"a run of {C:,} cases over {T:,} days does not fit the kernel's {np.dtype(CASE_INT)} "
                         "case numbers; run fewer persons per replicate")
    I = CASE_INT  # noqa: E741
    st = State(
        stage=np.full(C, NOT_ARRIVED, np.int8), nxt=np.full(C, -1, I), head=np.full(T + 1, -1, np.int64),
        rnode=np.empty(pool, I), rnext=np.empty(pool, I), rhead=np.full(T + 1, -1, np.int64),
        rdue=np.full(C, -1, I),
        qbuf=np.empty((N_QUEUE, max(2 * C, 1)), I), qhead=np.zeros(N_QUEUE, np.int64),
        qtail=np.zeros(N_QUEUE, np.int64), ubuf=np.empty(max(2 * C, 1), I), uhead=np.zeros(2, np.int64),
        stock=np.zeros(N_STAGE, np.int64), occ=np.zeros(N_LOC, np.int64), budget=np.zeros(N_DESK, np.float64),
        rec_entry=np.full(C, -1, I), acc=np.zeros(N_ACC, np.float64), ivar=np.zeros(N_IVAR, np.int64),
        arrival_day=arrival_day.astype(I, copy=True), reg_day=np.full(C, -1, I),
        decision_day=np.full(C, -1, I), outcome=np.zeros(C, np.int8), housed_day=np.full(C, -1, I),
        exit_day=np.full(C, -1, I), exit_reason=np.zeros(C, np.int8), moves=np.zeros(C, np.int32),
        breach=np.zeros(C, np.int8), reception_days=np.zeros(C, I), loc=np.full(C, LOC_NONE, np.int8),
        stage_stock=np.zeros((T, N_STAGE), np.int64), loc_stock=np.zeros((T, N_LOC), np.int64),
        flows=np.zeros((T, N_FLOW), np.int64),
    )
    _schedule_arrivals(st.arrival_day, st.head, st.nxt, T)
    return st


@njit(cache=True, nogil=True)
def _schedule_arrivals(arrival_day, head, nxt, T):
    # scheduled in reverse so that same-day arrivals pop (and queue) in case order
    for i in range(arrival_day.shape[0] - 1, -1, -1):
        if 0 <= arrival_day[i] < T:  # (no registry constant here: the cache stays valid)
            nxt[i] = head[arrival_day[i]]
            head[arrival_day[i]] = i


def advance(inp: Inputs, st: State, d0: int, d1: int) -> int:
    """Run days ``d0`` .. ``d1 - 1``. Returns an error code (0: every invariant held); the state
    holds where the run stands, so the next call continues from ``d1``.

    The named record is unpacked into positional arrays here: numba dispatches plain arrays much
    faster than a tuple of 70 of them, which keeps a run stepped month by month close to one call.
    The stays' gamma constants are computed here (a few microseconds), since the day loop allocates
    nothing (see ``_days``)."""
    return _days(*inp, *st, d0, d1, duration_constants(inp.dspec))


#: ``_nrt=False``: the day loop runs without numba's reference counting. It allocates no array and
#: keeps none, so there is nothing to count; with counting on, numba could not prove that for the
#: arrays the inlined ``take`` reads inside its branches and called the atomic NRT_incref/NRT_decref
#: around them on every move of a case (seen in the kernel's machine code), which took about a
#: quarter of the kernel's time on nl_baseline. The same arrays either way (tests/engine).
@njit(cache=True, nogil=True, _nrt=False)
def _days(kc, succ, branch_slot, late_slot, record_slot, duration_slot, until_flag, patience_slot, renege_stage,
          queue_of, queue_stage, desk_queues, desk_carry_period, desk_places, desk_holds, edge_of, edge_flows,
          edge_outcome, edge_flags, edge_desk, edge_location, edge_move, edge_exit, stream_arrival_flow, stream_follows,
          desk_cap, cap_regular, cap_small, statutory_days, month_of_day, late_cum,
          key, dspec, slot_spec, slot_purpose,
          size, stream, track, routed, late_row, case_key, dur, branch, late_u, nareis_child, nareis_lag, parent,
          stage, nxt, head, rnode, rnext, rhead, rdue, qbuf, qhead, qtail, ubuf, uhead, stock, occ, budget, rec_entry,
          acc, ivar, arrival_day, reg_day, decision_day, outcome, housed_day, exit_day, exit_reason, moves, breach,
          reception_days, loc, stage_stock, loc_stock, flows, d0, d1, dconst):
    """The kernel's day loop on the unpacked inputs and state (see ``advance``); ``dconst``: the
    stays' gamma constants (``rng.duration_constants(dspec)``)."""
    T1 = head.shape[0] - 1
    N_STAGE_ = stock.shape[0]
    N_LOC_ = occ.shape[0]
    NOT_ARRIVED = kc[KC_NOT_ARRIVED]
    LOC_CENTRAL = kc[KC_LOC_CENTRAL]
    LOC_REGULAR = kc[KC_LOC_REGULAR]
    LOC_SMALL = kc[KC_LOC_SMALL]
    LOC_RESTRICTED = kc[KC_LOC_RESTRICTED]
    LOC_EMERGENCY = kc[KC_LOC_EMERGENCY]
    LOC_WAITING = kc[KC_LOC_WAITING]
    TRACK_GENERAL = kc[KC_TRACK_GENERAL]
    F_MOVES = kc[KC_F_MOVES]
    F_BREACHES = kc[KC_F_BREACHES]
    EXIT_HOUSED = kc[KC_EXIT_HOUSED]
    HOUSED = kc[KC_HOUSED]
    ARRIVE_REGISTRATION = kc[KC_ARRIVE_REGISTRATION]
    ARRIVE_SPONSOR_HOME = kc[KC_ARRIVE_SPONSOR_HOME]
    BIT_DECISION = kc[KC_BIT_DECISION]
    BIT_STATUTORY = kc[KC_BIT_STATUTORY]
    BIT_PERMIT = kc[KC_BIT_PERMIT]
    BIT_SPONSOR = kc[KC_BIT_SPONSOR]
    BIT_REGISTERS = kc[KC_BIT_REGISTERS]
    ACT_WAITING = kc[KC_ACT_WAITING]
    ACT_CENTRAL = kc[KC_ACT_CENTRAL]
    ACT_PLACE = kc[KC_ACT_PLACE]
    ACT_RESTRICTED = kc[KC_ACT_RESTRICTED]
    ACT_LEAVE = kc[KC_ACT_LEAVE]
    MOVE_ALWAYS = kc[KC_MOVE_ALWAYS]
    MOVE_POL = kc[KC_MOVE_POL]

    def warm(i):
        # prefetch the entries of case i that its next move reads or writes (no effect on results)
        prefetch(stage, i)
        prefetch(size, i)
        prefetch(branch, i)
        prefetch(loc, i)
        prefetch(dur, i)
        prefetch(case_key, i)
        prefetch(late_u, i)
        prefetch(late_row, i)
        prefetch(track, i)
        prefetch(routed, i)
        prefetch(outcome, i)
        prefetch(reg_day, i)
        prefetch(decision_day, i)
        prefetch(rec_entry, i)

    def take(i, s, t, d, from_desk):
        # move case i from stage s to stage t on day d with the edge's effects, then queue it or
        # start its timer in t; False when the registry declares no such move
        e = edge_of[_u(s), _u(t)]
        if e < 0:
            return False
        sz = size[_u(i)]
        if s != NOT_ARRIVED:
            stock[_u(s)] -= sz
        for j in range(edge_flows.shape[1]):
            f = edge_flows[_u(e), _u(j)]
            if f < 0:
                break
            flows[_u(d), _u(f)] += sz
        if s == NOT_ARRIVED:
            af = stream_arrival_flow[_u(stream[_u(i)])]
            if af >= 0:
                flows[_u(d), _u(af)] += sz
        if edge_outcome[_u(e)] >= 0:
            outcome[_u(i)] = edge_outcome[_u(e)]
        fl = edge_flags[_u(e)]
        if fl & BIT_REGISTERS:
            reg_day[_u(i)] = d
        if fl & BIT_DECISION:
            decision_day[_u(i)] = d
        if fl & BIT_STATUTORY:
            r = reg_day[_u(i)]
            if r >= 0 and d - r > statutory_days[_u(r)]:
                breach[_u(i)] = 1
                flows[_u(d), F_BREACHES] += sz
        if fl & BIT_PERMIT:
            acc[A_PERMITS] += sz
        if fl & BIT_SPONSOR:
            c = nareis_child[_u(i)]
            if c >= 0 and arrival_day[_u(c)] < 0:
                arrival_day[_u(c)] = d + nareis_lag[_u(i)]
                if arrival_day[_u(c)] < T1:
                    nxt[_u(c)] = head[_u(arrival_day[_u(c)])]
                    head[_u(arrival_day[_u(c)])] = c
        if edge_desk[_u(e)] >= 0:
            budget[_u(edge_desk[_u(e)])] -= sz
        # ---- the case's reception place ----
        mv = edge_move[_u(e)]
        if mv == MOVE_POL and track[_u(i)] == TRACK_GENERAL and loc[_u(i)] == LOC_REGULAR and not routed[_u(i)]:
            moves[_u(i)] += 1  # from the process location near the IND to a regular AZC
            flows[_u(d), F_MOVES] += sz
        act = edge_location[_u(e)]
        if act == ACT_WAITING:
            loc[_u(i)] = LOC_WAITING
            occ[LOC_WAITING] += sz
        elif act == ACT_CENTRAL:
            occ[_u(loc[_u(i)])] -= sz
            loc[_u(i)] = LOC_CENTRAL
            occ[LOC_CENTRAL] += sz
            rec_entry[_u(i)] = d
        elif act == ACT_PLACE:
            if loc[_u(i)] == LOC_NONE:
                rec_entry[_u(i)] = d  # back into reception from outside
            else:
                occ[_u(loc[_u(i)])] -= sz
            if routed[_u(i)] and occ[LOC_SMALL] + sz <= cap_small[_u(d)]:
                loc[_u(i)] = LOC_SMALL
            elif occ[LOC_REGULAR] + sz <= cap_regular[_u(d)]:
                loc[_u(i)] = LOC_REGULAR
            else:
                loc[_u(i)] = LOC_EMERGENCY
                ubuf[_u(uhead[1])] = i  # waits for a regular place
                uhead[1] += 1
            occ[_u(loc[_u(i)])] += sz
        elif act == ACT_RESTRICTED:
            occ[_u(loc[_u(i)])] -= sz
            loc[_u(i)] = LOC_RESTRICTED
            occ[LOC_RESTRICTED] += sz
        elif act == ACT_LEAVE:
            if loc[_u(i)] != LOC_NONE:
                occ[_u(loc[_u(i)])] -= sz
                if loc[_u(i)] != LOC_WAITING:
                    reception_days[_u(i)] += d - rec_entry[_u(i)]
                loc[_u(i)] = LOC_NONE
        if mv == MOVE_ALWAYS:
            moves[_u(i)] += 1
            flows[_u(d), F_MOVES] += sz
        # ---- leaving the chain ----
        ex = edge_exit[_u(e)]
        if ex >= 0:
            exit_day[_u(i)] = d
            exit_reason[_u(i)] = ex
            if ex == EXIT_HOUSED:
                housed_day[_u(i)] = d
        # ---- enter the new stage: queue (with its patience), or start its timer ----
        stage[_u(i)] = t
        stock[_u(t)] += sz
        q = queue_of[_u(t)]
        if q >= 0:
            qbuf[_u(q), _u(qtail[_u(q)])] = i
            qtail[_u(q)] += 1
            p = patience_slot[_u(t)]
            if p >= 0:
                day = d + max(dur[_u(i), _u(p)], 1)
                if day < T1:
                    n = ivar[V_RPOOL]
                    if n >= rnode.shape[0]:
                        return False
                    rnode[_u(n)] = i
                    rnext[_u(n)] = rhead[_u(day)]
                    rhead[_u(day)] = n
                    rdue[_u(i)] = day
                    ivar[V_RPOOL] = n + 1
        else:
            k = duration_slot[_u(t)]
            if k != -1:
                if k == -2:
                    day = d + 1 if from_desk else d  # instant: the same day (after a desk: the next)
                else:
                    sp = slot_spec[_u(k)]
                    if sp >= 0:  # drawn now, keyed by purpose and case: the same whenever it is drawn
                        days = spec_days(key, slot_purpose[_u(k)], case_key[_u(i)], dspec, dconst, sp)
                    else:
                        days = dur[_u(i), _u(k)]
                    day = max(days, d) if until_flag[_u(t)] else d + days
                    if from_desk and day <= d:
                        day = d + 1  # the desks work after the day's events: a stay starting there lasts a day
                if day < T1:
                    nxt[_u(i)] = head[_u(day)]
                    head[_u(day)] = i
        return True

    for d in range(d0, d1):
        m = month_of_day[_u(d)]
        # ---- timed events of the day ----
        while head[_u(d)] != -1:
            i = head[_u(d)]
            head[_u(d)] = nxt[_u(i)]
            nx = head[_u(d)]
            if nx >= 0:  # warm the case after next and its link (the next one's was warmed a step ago)
                nx = nxt[_u(nx)]
                if nx >= 0:
                    prefetch(nxt, nx)
                    warm(nx)
            s = stage[_u(i)]
            b = branch_slot[_u(s)]
            k = branch[_u(i), _u(b)] if b >= 0 else 0
            if s == NOT_ARRIVED and stream_follows[_u(stream[_u(i)])] and parent[_u(i)] >= 0:
                # a family member joins the sponsor's home if there is one, else reception
                k = ARRIVE_SPONSOR_HOME if stage[_u(parent[_u(i)])] == HOUSED else ARRIVE_REGISTRATION
            j = late_slot[_u(s)]
            if j >= 0:  # a late pick: the case's uniform against this month's and row's probabilities
                u = late_u[_u(i), _u(j)]
                g = late_row[_u(i)]
                k = 0
                while k < succ.shape[1] - 1 and succ[_u(s), _u(k + 1)] >= 0 and u >= late_cum[_u(j), _u(m), _u(g), _u(k)]:
                    k += 1
                r = record_slot[_u(s)]
                if r >= 0:
                    branch[_u(i), _u(r)] = k
            if not take(i, s, succ[_u(s), _u(k)], d, False):
                ivar[V_ERR] = 5
                return 5

        # ---- patience running out: who still waits leaves the queue ----
        n = rhead[_u(d)]
        while n != -1:
            i = rnode[_u(n)]
            n = rnext[_u(n)]
            s = stage[_u(i)]
            t = renege_stage[_u(s)]
            if t >= 0 and rdue[_u(i)] == d:  # still in the queue whose patience ends today
                if not take(i, s, t, d, False):
                    ivar[V_ERR] = 5
                    return 5
        rhead[_u(d)] = -1

        # ---- desks, in declared order; each serves its queues first-in-first-out, in order ----
        for k in range(desk_queues.shape[0]):
            if desk_places[_u(k)]:
                taken = 0
                for h in range(desk_holds.shape[1]):
                    if desk_holds[_u(k), _u(h)] >= 0:
                        taken += stock[_u(desk_holds[_u(k), _u(h)])]
                budget[_u(k)] = max(desk_cap[_u(k), _u(d)] - taken, 0.0)
            else:
                budget[_u(k)] += desk_cap[_u(k), _u(d)]
            waiting = False
            for jq in range(desk_queues.shape[1]):
                q = desk_queues[_u(k), _u(jq)]
                if q < 0:
                    break
                blocked = False
                sq = queue_stage[_u(q)]
                while qhead[_u(q)] < qtail[_u(q)]:
                    i = qbuf[_u(q), _u(qhead[_u(q)])]
                    if qhead[_u(q)] + 2 < qtail[_u(q)]:
                        warm(qbuf[_u(q), _u(qhead[_u(q)] + 2)])
                    if stage[_u(i)] != sq:
                        qhead[_u(q)] += 1  # left the queue already (patience ran out)
                        continue
                    if size[_u(i)] > budget[_u(k)]:
                        blocked = True
                        break
                    qhead[_u(q)] += 1
                    budget[_u(k)] -= size[_u(i)]
                    if not take(i, sq, succ[_u(sq), 0], d, True):
                        ivar[V_ERR] = 5
                        return 5
                if qhead[_u(q)] < qtail[_u(q)]:
                    waiting = True
                if blocked:
                    break  # no overtaking: a later queue waits while an earlier one's head does not fit
            if desk_places[_u(k)] or (not waiting and not desk_carry_period[_u(k)]):
                budget[_u(k)] = 0.0

        # ---- emergency places to regular places as they free up (first come, first served) ----
        while uhead[0] < uhead[1]:
            i = ubuf[_u(uhead[0])]
            if loc[_u(i)] != LOC_EMERGENCY:
                uhead[0] += 1  # left emergency reception already
                continue
            sz = size[_u(i)]
            if occ[LOC_REGULAR] + sz > cap_regular[_u(d)]:
                break
            uhead[0] += 1
            occ[LOC_EMERGENCY] -= sz
            loc[_u(i)] = LOC_REGULAR
            occ[LOC_REGULAR] += sz
            moves[_u(i)] += 1
            flows[_u(d), F_MOVES] += sz

        # ---- record and guard ----
        for k in range(N_STAGE_):
            stage_stock[_u(d), _u(k)] = stock[_u(k)]
            if stock[_u(k)] < 0:
                ivar[V_ERR] = 1
        for k in range(N_LOC_):
            loc_stock[_u(d), _u(k)] = occ[_u(k)]
            if occ[_u(k)] < 0:
                ivar[V_ERR] = 2
        # hard capacities: occupancy may stay above a lowered capacity, but never grow above it
        reg = occ[LOC_REGULAR]
        small = occ[LOC_SMALL]
        if reg > cap_regular[_u(d)] and reg > ivar[V_PREV_REGULAR]:
            ivar[V_ERR] = 3
        if small > cap_small[_u(d)] and small > ivar[V_PREV_SMALL]:
            ivar[V_ERR] = 4
        ivar[V_PREV_REGULAR] = reg
        ivar[V_PREV_SMALL] = small
        ivar[V_DAY] = d + 1
    return ivar[V_ERR]
