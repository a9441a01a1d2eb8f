"""The chain kernel: a daily, capacity-constrained, case-level simulation compiled with numba.

No I/O, no randomness: every random quantity is drawn beforehand (``engine.compile``) and passed
in as arrays, so the kernel is a deterministic function of its inputs. Ties break by a fixed
rule: queues are first-in-first-out, same-day events run last-scheduled-first.

A *case* is a household that applies and moves together (``size`` persons). Capacities are in
persons. Days are integers from the first simulated day (warm-up included).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# stages (a case is in exactly one)
NOT_ARRIVED, WAIT_REG, CENTRAL, DUBLIN, WAIT_DECISION, PROCEDURE, VA, PERMIT_LEAD, HOUSING_QUEUE, \
    APPEAL, DEPARTURE_TERM, RETURN_RESTRICTED, RETURN_OUTSIDE, DETENTION, EXITED = range(15)
STAGE_NAMES = ("not_arrived", "waiting_registration", "central_reception", "dublin", "waiting_decision",
               "in_procedure", "extended_procedure", "permit_lead_time", "housing_queue", "appeal",
               "departure_term", "return_restricted", "return_outside_reception", "detention", "exited")
N_STAGE = 15

# locations (reception types); NONE = outside reception
LOC_NONE, LOC_CENTRAL, LOC_REGULAR, LOC_SMALL, LOC_RESTRICTED, LOC_EMERGENCY, LOC_WAITING = -1, 0, 1, 2, 3, 4, 5
LOC_NAMES = ("central", "regular", "small_scale", "freedom_restricting", "emergency", "waiting_registration")
N_LOC = 6

# tracks
TRACK_GENERAL, TRACK_SAFE, TRACK_DUBLIN, TRACK_NONE = 0, 1, 2, 3
TRACK_NAMES = ("general", "safe_country", "dublin", "none")

# streams
STREAM_FIRST, STREAM_SUBSEQUENT, STREAM_NAREIS, STREAM_RESETTLEMENT = 0, 1, 2, 3
STREAM_NAMES = ("first", "subsequent", "nareis", "resettlement")

# outcomes
OUT_NONE, OUT_GRANTED, OUT_REJECTED, OUT_DUBLIN_TRANSFER, OUT_DUBLIN_ABSCOND, OUT_GRANTED_APPEAL, \
    OUT_PERMIT_ON_ARRIVAL = range(7)
OUTCOME_NAMES = ("pending", "granted", "rejected", "dublin_transfer", "dublin_absconded", "granted_on_appeal",
                 "permit_on_arrival")

# exit reasons
EXIT_NONE, EXIT_HOUSED, EXIT_DUBLIN_TRANSFER, EXIT_INDEPENDENT, EXIT_FORCED, EXIT_UNSUPERVISED = range(6)
EXIT_NAMES = ("in_system", "housed", "dublin_transfer", "departed_independent", "departed_forced",
              "departed_unsupervised")

# departure types (pre-drawn)
DEP_INDEPENDENT, DEP_FORCED, DEP_UNSUPERVISED = 0, 1, 2

# Dublin outcomes (pre-drawn)
DUB_TRANSFER, DUB_ABSCOND, DUB_LAPSE = 0, 1, 2

# daily flows
F_ARRIVALS, F_REGISTERED, F_DECISIONS, F_GRANTS, F_REJECTIONS, F_HOUSED, F_DUBLIN_TRANSFERS, \
    F_DEP_INDEPENDENT, F_DEP_FORCED, F_DEP_UNSUPERVISED, F_MOVES, F_BREACHES, F_NAREIS_ARRIVALS, F_RESETTLED = range(14)
FLOW_NAMES = ("arrivals", "registrations", "decisions", "grants", "rejections", "housed", "dublin_transfers",
              "departures_independent", "departures_forced", "departures_unsupervised", "moves",
              "statutory_breaches", "nareis_arrivals", "resettled")
N_FLOW = 14

# queues
Q_REG, Q_GENERAL, Q_SAFE, Q_DUBLIN, Q_HOUSING, Q_UPGRADE = 0, 1, 2, 3, 4, 5
N_QUEUE = 6

# half-year bookkeeping columns
H_TASK, H_BACKLOG_IN, H_REALISED, H_GRANTED = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _schedule(i, day, T, head, nxt):
    if day < T:
        nxt[i] = head[day]
        head[day] = i


@njit(cache=True, nogil=True)
def _push(q, i, qbuf, qtail):
    qbuf[q, qtail[q]] = i
    qtail[q] += 1


@njit(cache=True, nogil=True)
def simulate_kernel(
    # time-varying inputs, length T (or H for half-years)
    reg_cap, dec_cap, cap_regular, cap_small, statutory_days, half_of_day, half_len, task_given,
    task_scale, realisation_rate, initial_expected_grants,
    # per-case inputs, length C
    arrival_day, size, stream, track, routed, dur_col, dur_dublin, dub_outcome, dur_proc, va_flag, dur_va,
    grant_flag, appeal_flag, dur_appeal, appeal_success, term_days, restricted_flag, dur_restricted,
    dep_type, dur_departure, dur_detention, dur_lead, nareis_child, nareis_lag,
    # outputs, per case
    reg_day, decision_day, outcome, housed_day, exit_day, exit_reason, moves, breach, reception_days, loc,
    # outputs, per day / half-year
    stage_stock, loc_stock, flows, half_book,
):
    """Run the chain over T days. Returns an error code (0 = all invariants held)."""
    T = reg_cap.shape[0]
    C = arrival_day.shape[0]
    head = np.full(T + 1, -1, np.int64)
    nxt = np.full(C, -1, np.int64)
    stage = np.full(C, NOT_ARRIVED, np.int8)
    rec_entry = np.full(C, -1, np.int64)
    qbuf = np.empty((N_QUEUE, C), np.int64)
    qhead = np.zeros(N_QUEUE, np.int64)
    qtail = np.zeros(N_QUEUE, np.int64)
    stock = np.zeros(N_STAGE, np.int64)
    occ = np.zeros(N_LOC, np.int64)
    budget = np.zeros(5, np.float64)  # reg, general, safe, dublin, housing
    err = 0

    # scheduled in reverse so that same-day arrivals pop (and queue) in case order
    for i in range(C - 1, -1, -1):
        loc[i] = LOC_NONE
        if arrival_day[i] >= 0:
            _schedule(i, arrival_day[i], T, head, nxt)

    grants_this_half = 0.0
    grants_prev_half = initial_expected_grants
    backlog = 0.0
    housed_this_half = 0.0
    cur_half = -1
    prev_regular = 0
    prev_small = 0

    for d in range(T):
        # ---- half-year boundary: set the housing task and the daily housing budget ----
        h = half_of_day[d]
        if h != cur_half:
            if cur_half >= 0:
                half_book[cur_half, H_REALISED] = housed_this_half
                half_book[cur_half, H_GRANTED] = grants_this_half
                total_prev = half_book[cur_half, H_TASK] + half_book[cur_half, H_BACKLOG_IN]
                backlog = max(total_prev - housed_this_half, 0.0)
                grants_prev_half = grants_this_half
            cur_half = h
            task = task_given[h] if task_given[h] >= 0 else grants_prev_half
            task *= task_scale
            half_book[h, H_TASK] = task
            half_book[h, H_BACKLOG_IN] = backlog
            budget[4] = 0.0
            housed_this_half = 0.0
            grants_this_half = 0.0
        budget[4] += realisation_rate * (half_book[h, H_TASK] + half_book[h, H_BACKLOG_IN]) / half_len[h]

        # ---- timed events of the day ----
        while head[d] != -1:
            i = head[d]
            head[d] = nxt[i]
            s = stage[i]
            sz = size[i]
            nxt_stage = -1
            if s == NOT_ARRIVED:
                flows[d, F_ARRIVALS] += sz
                if stream[i] == STREAM_NAREIS:
                    flows[d, F_NAREIS_ARRIVALS] += sz
                if stream[i] == STREAM_RESETTLEMENT:
                    # resettled refugees arrive with a permit and go straight to a municipality
                    outcome[i] = OUT_PERMIT_ON_ARRIVAL
                    decision_day[i] = d
                    reg_day[i] = d
                    grants_this_half += sz
                    budget[4] -= sz
                    housed_this_half += sz
                    housed_day[i] = d
                    exit_day[i] = d
                    exit_reason[i] = EXIT_HOUSED
                    stage[i] = EXITED
                    flows[d, F_HOUSED] += sz
                    flows[d, F_RESETTLED] += sz
                    if nareis_child[i] >= 0:
                        c = nareis_child[i]
                        arrival_day[c] = d + nareis_lag[i]
                        _schedule(c, arrival_day[c], T, head, nxt)
                    continue
                stage[i] = WAIT_REG
                stock[WAIT_REG] += sz
                loc[i] = LOC_WAITING
                occ[LOC_WAITING] += sz
                _push(Q_REG, i, qbuf, qtail)
                continue
            # leave the current stage
            stock[s] -= sz
            if s == CENTRAL:
                if stream[i] == STREAM_NAREIS:
                    # family members follow a permit holder: permit on arrival, then housing
                    outcome[i] = OUT_PERMIT_ON_ARRIVAL
                    decision_day[i] = d
                    grants_this_half += sz
                    nxt_stage = PERMIT_LEAD
                elif track[i] == TRACK_DUBLIN:
                    nxt_stage = DUBLIN
                    _push(Q_DUBLIN, i, qbuf, qtail)
                else:
                    nxt_stage = WAIT_DECISION
                    _push(Q_GENERAL if track[i] == TRACK_GENERAL else Q_SAFE, i, qbuf, qtail)
                # to a regular (or small-scale, or emergency) place
                old = loc[i]
                occ[old] -= sz
                if routed[i] and occ[LOC_SMALL] + sz <= cap_small[d]:
                    loc[i] = LOC_SMALL
                elif occ[LOC_REGULAR] + sz <= cap_regular[d]:
                    loc[i] = LOC_REGULAR
                else:
                    loc[i] = LOC_EMERGENCY
                    _push(Q_UPGRADE, i, qbuf, qtail)
                occ[loc[i]] += sz
                moves[i] += 1
                flows[d, F_MOVES] += sz
            elif s == DUBLIN:
                o = dub_outcome[i]
                if o == DUB_TRANSFER:
                    outcome[i] = OUT_DUBLIN_TRANSFER
                    decision_day[i] = d
                    exit_reason[i] = EXIT_DUBLIN_TRANSFER
                    flows[d, F_DUBLIN_TRANSFERS] += sz
                    flows[d, F_DECISIONS] += sz
                    nxt_stage = EXITED
                elif o == DUB_ABSCOND:
                    outcome[i] = OUT_DUBLIN_ABSCOND
                    decision_day[i] = d
                    exit_reason[i] = EXIT_UNSUPERVISED
                    flows[d, F_DEP_UNSUPERVISED] += sz
                    flows[d, F_DECISIONS] += sz
                    nxt_stage = EXITED
                else:
                    # responsibility lapses to the Netherlands: national procedure
                    nxt_stage = WAIT_DECISION
                    _push(Q_GENERAL, i, qbuf, qtail)
            elif s == PROCEDURE or s == VA:
                if s == PROCEDURE and track[i] == TRACK_GENERAL and loc[i] == LOC_REGULAR and not routed[i]:
                    # from the process location near the IND to a regular AZC
                    moves[i] += 1
                    flows[d, F_MOVES] += sz
                if s == PROCEDURE and va_flag[i]:
                    nxt_stage = VA
                else:
                    decision_day[i] = d
                    flows[d, F_DECISIONS] += sz
                    if d - reg_day[i] > statutory_days[reg_day[i]]:
                        breach[i] = 1
                        flows[d, F_BREACHES] += sz
                    if grant_flag[i]:
                        outcome[i] = OUT_GRANTED
                        flows[d, F_GRANTS] += sz
                        nxt_stage = PERMIT_LEAD
                    else:
                        outcome[i] = OUT_REJECTED
                        flows[d, F_REJECTIONS] += sz
                        nxt_stage = APPEAL if appeal_flag[i] else DEPARTURE_TERM
            elif s == APPEAL:
                if appeal_success[i]:
                    outcome[i] = OUT_GRANTED_APPEAL
                    flows[d, F_GRANTS] += sz
                    nxt_stage = PERMIT_LEAD
                else:
                    nxt_stage = DEPARTURE_TERM
            elif s == PERMIT_LEAD:
                nxt_stage = HOUSING_QUEUE
                _push(Q_HOUSING, i, qbuf, qtail)
            elif s == DEPARTURE_TERM:
                if restricted_flag[i]:
                    nxt_stage = RETURN_RESTRICTED
                elif dep_type[i] == DEP_FORCED:
                    nxt_stage = DETENTION
                else:
                    nxt_stage = RETURN_OUTSIDE
            elif s == RETURN_RESTRICTED:
                nxt_stage = DETENTION if dep_type[i] == DEP_FORCED else RETURN_OUTSIDE
            elif s == RETURN_OUTSIDE or s == DETENTION:
                t = dep_type[i]
                exit_reason[i] = EXIT_INDEPENDENT + t
                flows[d, F_DEP_INDEPENDENT + t] += sz
                nxt_stage = EXITED

            # grants feed the housing prognosis and activate the family's nareis
            if nxt_stage == PERMIT_LEAD and stream[i] != STREAM_NAREIS:
                grants_this_half += sz
                if nareis_child[i] >= 0:
                    c = nareis_child[i]
                    arrival_day[c] = d + nareis_lag[i]
                    _schedule(c, arrival_day[c], T, head, nxt)

            # location changes that follow from the new stage
            if nxt_stage == RETURN_RESTRICTED:
                occ[loc[i]] -= sz
                loc[i] = LOC_RESTRICTED
                occ[LOC_RESTRICTED] += sz
                moves[i] += 1
                flows[d, F_MOVES] += sz
            elif nxt_stage == RETURN_OUTSIDE or nxt_stage == DETENTION or nxt_stage == EXITED:
                if loc[i] != LOC_NONE:
                    occ[loc[i]] -= sz
                    reception_days[i] += d - rec_entry[i]
                    loc[i] = LOC_NONE

            # enter the new stage, scheduling its end where it is timed
            stage[i] = nxt_stage
            if nxt_stage == EXITED:
                exit_day[i] = d
                continue
            stock[nxt_stage] += sz
            if nxt_stage == DUBLIN and s == CENTRAL:
                pass  # waits in the Dublin queue for an IND slot
            elif nxt_stage == VA:
                _schedule(i, d + dur_va[i], T, head, nxt)
            elif nxt_stage == APPEAL:
                _schedule(i, d + dur_appeal[i], T, head, nxt)
            elif nxt_stage == PERMIT_LEAD:
                _schedule(i, d + dur_lead[i], T, head, nxt)
            elif nxt_stage == DEPARTURE_TERM:
                _schedule(i, d + term_days[i], T, head, nxt)
            elif nxt_stage == RETURN_RESTRICTED:
                _schedule(i, d + dur_restricted[i], T, head, nxt)
            elif nxt_stage == RETURN_OUTSIDE:
                _schedule(i, d + dur_departure[i], T, head, nxt)
            elif nxt_stage == DETENTION:
                _schedule(i, d + dur_detention[i], T, head, nxt)

        # ---- registration (AVIM) with a daily capacity ----
        budget[0] += reg_cap[d]
        while qhead[Q_REG] < qtail[Q_REG]:
            i = qbuf[Q_REG, qhead[Q_REG]]
            if size[i] > budget[0]:
                break
            qhead[Q_REG] += 1
            budget[0] -= size[i]
            sz = size[i]
            stock[WAIT_REG] -= sz
            occ[LOC_WAITING] -= sz
            stage[i] = CENTRAL
            stock[CENTRAL] += sz
            loc[i] = LOC_CENTRAL
            occ[LOC_CENTRAL] += sz
            rec_entry[i] = d
            reg_day[i] = d
            flows[d, F_REGISTERED] += sz
            _schedule(i, d + max(dur_col[i], 1), T, head, nxt)  # desks run after the day's events
        if qhead[Q_REG] == qtail[Q_REG]:
            budget[0] = 0.0

        # ---- IND decision slots per track (general, safe, Dublin) ----
        for tq in range(3):
            q = Q_GENERAL + tq
            budget[1 + tq] += dec_cap[tq, d]
            while qhead[q] < qtail[q]:
                i = qbuf[q, qhead[q]]
                if size[i] > budget[1 + tq]:
                    break
                qhead[q] += 1
                budget[1 + tq] -= size[i]
                if q == Q_DUBLIN:
                    _schedule(i, d + max(dur_dublin[i], 1), T, head, nxt)
                else:
                    stock[WAIT_DECISION] -= size[i]
                    stage[i] = PROCEDURE
                    stock[PROCEDURE] += size[i]
                    _schedule(i, d + max(dur_proc[i], 1), T, head, nxt)
            if qhead[q] == qtail[q]:
                budget[1 + tq] = 0.0

        # ---- housing of permit holders from the half-yearly task ----
        while qhead[Q_HOUSING] < qtail[Q_HOUSING]:
            i = qbuf[Q_HOUSING, qhead[Q_HOUSING]]
            if size[i] > budget[4]:
                break
            qhead[Q_HOUSING] += 1
            sz = size[i]
            budget[4] -= sz
            housed_this_half += sz
            stock[HOUSING_QUEUE] -= sz
            stage[i] = EXITED
            occ[loc[i]] -= sz
            reception_days[i] += d - rec_entry[i]
            loc[i] = LOC_NONE
            housed_day[i] = d
            exit_day[i] = d
            exit_reason[i] = EXIT_HOUSED
            flows[d, F_HOUSED] += sz

        # ---- emergency places to regular places as they free up (first come, first served) ----
        while qhead[Q_UPGRADE] < qtail[Q_UPGRADE]:
            i = qbuf[Q_UPGRADE, qhead[Q_UPGRADE]]
            if loc[i] != LOC_EMERGENCY:
                qhead[Q_UPGRADE] += 1  # left emergency reception already
                continue
            if occ[LOC_REGULAR] + size[i] > cap_regular[d]:
                break
            qhead[Q_UPGRADE] += 1
            occ[LOC_EMERGENCY] -= size[i]
            loc[i] = LOC_REGULAR
            occ[LOC_REGULAR] += size[i]
            moves[i] += 1
            flows[d, F_MOVES] += size[i]

        # ---- record and guard ----
        for k in range(N_STAGE):
            stage_stock[d, k] = stock[k]
            if stock[k] < 0:
                err = 1
        for k in range(N_LOC):
            loc_stock[d, k] = occ[k]
            if occ[k] < 0:
                err = 2
        # hard capacities: occupancy may stay above a lowered capacity, but never grow above it
        if occ[LOC_REGULAR] > cap_regular[d] and occ[LOC_REGULAR] > prev_regular:
            err = 3
        if occ[LOC_SMALL] > cap_small[d] and occ[LOC_SMALL] > prev_small:
            err = 4
        prev_regular = occ[LOC_REGULAR]
        prev_small = occ[LOC_SMALL]

    if cur_half >= 0:
        half_book[cur_half, H_REALISED] = housed_this_half
        half_book[cur_half, H_GRANTED] = grants_this_half
    # time still in reception at the horizon counts up to the last day
    for i in range(C):
        if loc[i] != LOC_NONE and loc[i] != LOC_WAITING and rec_entry[i] >= 0:
            reception_days[i] += T - rec_entry[i]
    return err
