"""A run stops between periods only where a hook may act: hooks that say on which days they act
(``acts_on``) stop it only there, with the arrays of a run whose hooks are called every month."""

from __future__ import annotations

import numpy as np

from ketenplan.engine import kernel as K
from ketenplan.engine.compile import compile_replicate
from ketenplan.engine.rng import replicate_key
from ketenplan.engine.run import default_hooks, output_of
from ketenplan.engine.state import Run
from ketenplan.testing import EveryPeriod, assert_outputs_equal, small_scenario


class Spy:
    """Records the days it is called on; acts on none but its first."""

    name = "spy"

    def __init__(self, declare: bool):
        self.days: list[int] = []
        if declare:
            self.acts_on = lambda run: np.array([], np.int64)

    def __call__(self, run, day):
        self.days.append(day)


def _calls(monkeypatch):
    n = []
    real = K.advance

    def counted(*a):
        n.append(a[2:])
        return real(*a)

    monkeypatch.setattr(K, "advance", counted)
    return n


def test_hooks_that_say_when_they_act_stop_the_run_only_there_with_the_same_arrays(monkeypatch):
    c = compile_replicate(small_scenario(), replicate_key(np.random.SeedSequence(3)))
    calls = _calls(monkeypatch)
    every = output_of(Run.start(c, [EveryPeriod(h) for h in default_hooks(c)]).finish())
    monthly = len(calls)
    calls.clear()
    run = Run.start(c, default_hooks(c))
    halves = set(run.halves[2].tolist())
    stops = run._stops()
    assert set(stops.tolist()) - halves <= {int(stops[0])}  # half-year starts, and the first period start
    assert_outputs_equal(every, output_of(run.finish()))
    assert len(calls) == len(stops) < monthly  # one kernel call per stop, fewer than per month
    # a hook that does not say when it acts: called every month again
    calls.clear()
    spy = Spy(declare=False)
    Run.start(c, default_hooks(c) + [spy]).finish()
    assert len(calls) == monthly and spy.days == Run.start(c, [])._periods.tolist()
    # only hooks that say, none acting: the run stops once, at its first period start
    calls.clear()
    spy = Spy(declare=True)
    Run.start(c, [spy]).finish()
    assert spy.days == [0] and len(calls) == 1
    # no hooks: one call for the whole run, the same arrays as stepped month by month without hooks
    calls.clear()
    one = output_of(Run.start(c, []).finish())
    assert len(calls) == 1
    run = Run.start(c, [])
    for d in run._periods[1:]:
        run.advance(until=int(d))
    assert_outputs_equal(one, output_of(run.finish()))
