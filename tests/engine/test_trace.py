"""A tiny three-stage chain (registration -> central reception -> decision -> housing) with an exact trace."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ketenplan.engine import kernel as K
from ketenplan.engine.compile import Compiled, TimeGrid
from ketenplan.engine.run import run_compiled


def tiny(sizes):
    T = 30
    grid = TimeGrid(day0=dt.date(2025, 1, 1), start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 30))
    n = len(sizes)
    z = np.zeros(n, np.int64)
    f = np.zeros(n, np.bool_)
    c = Compiled(grid=grid, half_labels=["2025-H1"], group_names=("g",))
    c.day = dict(reg_cap=np.ones(T), dec_cap=np.vstack([np.ones(T), np.zeros(T), np.zeros(T)]),
                 cap_regular=np.full(T, 100.0), cap_small=np.zeros(T), statutory_days=np.full(T, 183, np.int64),
                 half_of_day=np.zeros(T, np.int64), half_len=np.array([181.0]), task_given=np.array([181.0]))
    c.case = dict(arrival_day=z.copy(), size=np.array(sizes, np.int64), children=z.copy(),
                  stream=np.zeros(n, np.int8), group=np.zeros(n, np.int16), track=np.zeros(n, np.int8),
                  routed=f.copy(), likely=f.copy(), dur_col=np.full(n, 2, np.int64), dur_dublin=z.copy(),
                  dub_outcome=np.zeros(n, np.int8), dur_proc=np.full(n, 3, np.int64), va_flag=f.copy(),
                  dur_va=z.copy(), grant_flag=np.ones(n, np.bool_), appeal_flag=f.copy(), dur_appeal=z.copy(),
                  appeal_success=f.copy(), term_days=z.copy(), restricted_flag=f.copy(), dur_restricted=z.copy(),
                  dep_type=np.zeros(n, np.int8), dur_departure=z.copy(), dur_detention=z.copy(),
                  dur_lead=np.full(n, 5, np.int64), nareis_child=np.full(n, -1, np.int64), nareis_lag=z.copy())
    c.scalars = dict(task_scale=1.0, realisation_rate=1.0, initial_expected_grants=0.0)
    return c


def test_exact_trace_three_cases():
    # capacities: 1 registration/day, 1 decision/day (7/week), housing 1 person/day (181 per half-year)
    out = run_compiled(tiny([1, 1, 2]))
    r = out.case
    # case 0 registers day 0, leaves central day 2, starts AA day 2, decided day 5, housed after 5 days
    # case 1 waits a day for registration; case 2 (2 persons) needs two days of registration budget
    assert r["reg_day"].tolist() == [0, 1, 3]
    assert r["decision_day"].tolist() == [5, 6, 9]
    assert r["housed_day"].tolist() == [10, 11, 14]
    assert r["outcome"].tolist() == [K.OUT_GRANTED] * 3
    assert r["exit_reason"].tolist() == [K.EXIT_HOUSED] * 3
    # one move each: central -> regular place (the AA-to-AZC move also counts for the general track)
    assert r["moves"].tolist() == [2, 2, 2]
    assert out.flows[:, K.F_HOUSED].sum() == 4
    assert out.stage_stock[14, 1:K.EXITED].sum() == 0
    # waiting for registration on day 0: cases 1 and 2 (3 persons)
    assert out.stage_stock[0, K.WAIT_REG] == 3


def test_trace_rejection_goes_to_departure():
    c = tiny([1])
    c.case["grant_flag"][:] = False
    c.case["term_days"][:] = 4
    c.case["dep_type"][:] = K.DEP_INDEPENDENT
    c.case["dur_departure"][:] = 6
    out = run_compiled(c)
    r = out.case
    assert r["decision_day"][0] == 5
    assert r["outcome"][0] == K.OUT_REJECTED
    # 4-day departure term in reception, then 6 days outside reception until the recorded departure
    assert r["exit_day"][0] == 15
    assert r["exit_reason"][0] == K.EXIT_INDEPENDENT
    assert r["reception_days"][0] == 9
