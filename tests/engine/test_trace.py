"""Exact traces of tiny chains (registration -> central reception -> decision -> housing or return)."""

from __future__ import annotations

from ketenplan.engine import registry as R
from ketenplan.engine.run import run_compiled
from ketenplan.engine.state import Run
from ketenplan.engine.run import default_hooks, output_of
from ketenplan.testing import assert_outputs_equal, set_slot, tiny_chain

S, F = R.STAGE, R.FLOW


def test_exact_trace_three_cases():
    # capacities: 1 registration/day, 1 decision/day, housing 1 person/day (181 per half-year)
    out = run_compiled(tiny_chain([1, 1, 2]))
    r = out.case
    # case 0 registers day 0, leaves central day 2, starts AA day 2, decided day 5, housed after 5 days
    # case 1 waits a day for registration; case 2 (2 persons) needs two days of registration budget
    assert r["reg_day"].tolist() == [0, 1, 3]
    assert r["decision_day"].tolist() == [5, 6, 9]
    assert r["housed_day"].tolist() == [10, 11, 14]
    assert r["outcome"].tolist() == [R.OUTCOME["granted"]] * 3
    assert r["exit_reason"].tolist() == [R.EXIT["housed"]] * 3
    # two moves each: central -> regular place, and the AA-to-AZC move of the general track
    assert r["moves"].tolist() == [2, 2, 2]
    assert out.flows[:, F["housed"]].sum() == 4
    # on day 14 everyone is housed (a settled stage: still followed, no longer in the chain)
    assert out.stage_stock[14, R.stages_in("chain")].sum() == 0
    assert out.stage_stock[14, S["housed"]] == 4
    # waiting for registration on day 0: cases 1 and 2 (3 persons)
    assert out.stage_stock[0, S["waiting_registration"]] == 3


def test_trace_rejection_goes_to_departure():
    c = tiny_chain([1], grant=False)
    set_slot(c, "term", 4)
    set_slot(c, "departure_type", 0)  # independent
    set_slot(c, "departure", 6)
    out = run_compiled(c)
    r = out.case
    assert r["decision_day"][0] == 5
    assert r["outcome"][0] == R.OUTCOME["rejected"]
    # 4-day departure term in reception, then 6 days outside reception until the recorded departure
    assert r["exit_day"][0] == 15
    assert r["exit_reason"][0] == R.EXIT["departed_independent"]
    assert r["reception_days"][0] == 9
    assert out.stage_stock[-1, S["departed_independent"]] == 1


def test_a_run_in_periods_gives_the_arrays_of_one_call():
    """advance() is resumable: stopping at any days (and calling the hooks there) changes nothing."""
    c = tiny_chain([1, 2, 1, 3, 1], days=60, decisions_per_day=0.7)
    one = output_of(Run.start(c, default_hooks(c), period="none").finish())
    for period in ("month", "day"):
        assert_outputs_equal(one, output_of(Run.start(c, default_hooks(c), period=period).finish()))
    run = Run.start(c, default_hooks(c), period="none")
    for stop in (3, 4, 17, 40):
        run.advance(until=stop)
        assert run.day == stop
    assert_outputs_equal(one, output_of(run.finish()))
