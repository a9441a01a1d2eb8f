"""Every declared scenario parameter is consumed by the engine, a hook or a post-processor.

The consumers are called with a recording view of the scenario (ketenplan.scenario.usage) on a few
variants that switch every mode on (given nareis, a shock, given housing tasks, the forecast
inflow); a declared parameter that none of them reads is dead: wire it in or remove it."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ketenplan.engine.compile import compile_replicate
from ketenplan.engine.results import replicate_kpis
from ketenplan.engine.rng import replicate_key
from ketenplan.engine.run import run_compiled
from ketenplan.planning.costs import replicate_costs
from ketenplan.post import selected
from ketenplan.scenario import declared_parameters, load_scenario
from ketenplan.scenario.usage import track
from ketenplan.simulation import check_size, ensemble_size, inflow_paths

D = dt.date(2025, 1, 1)
#: read by the report and the results store as labels only
LABELS = {"name", "description"}


def _consume(sc, seen: set[str], post: bool = False) -> None:
    from ketenplan.report import _solidarity_note

    from ketenplan.scenario.parameter_sets import for_replicate

    for_replicate(track(sc, seen), 0)  # what ensemble.Job does per replicate (parameter sets and draws) reads
    t = track(for_replicate(sc, 0), seen)
    seed, n = ensemble_size(t, None, None)
    check_size(t, 1, 1, "serial")
    paths = inflow_paths(t, seed, 1)
    c = compile_replicate(t, replicate_key(np.random.SeedSequence(seed)), first_monthly=None if paths is None
                          else paths[0])
    out = run_compiled(c)
    replicate_kpis(out, t)
    replicate_costs(out, t)  # the unit costs of plan-capacity (section costs)
    for p in selected(t, None):
        if post:
            p.run(out, t, seed)
    _solidarity_note(t)


def test_no_declared_parameter_is_dead():
    base = load_scenario("nl_baseline").replace(**{"simulation.end": dt.date(2026, 6, 30),
                                                   "simulation.warmup_years": 1})
    variants = [
        base,
        base.replace(**{"inflow.nareis.mode": "given", "inflow.nareis.per_year": [{"start": D, "value": 500}],
                        "inflow.nareis.monthly": [{"month": "2025-03", "value": 40}],
                        "housing.tasks": [{"period": "2025-H2", "value": 300}], "housing.task_rule": "given",
                        "inflow.shocks": [{"kind": "surge", "onset": D}]}),
        base.replace(**{"inflow.source": "forecast", "placement.enabled": False}),
        base.replace(**{"simulation.initial_state": "empty", "decision_capacity.pooling": "per_track", "circular.group": "maghreb",
                        "reception_policy.kind": "forecast", "decision_policy.kind": "threshold", "reception_policy.standby_places": 2000,
                        "circular.places_per_year": 500}),
    ]
    seen: set[str] = set()
    for k, sc in enumerate(variants):
        _consume(sc, seen, post=(k == 0))
    declared = {key for key, _ in declared_parameters()}
    dead = sorted(declared - seen - LABELS)
    assert not dead, f"declared parameters that nothing reads: {dead}"


def test_the_check_can_fail():
    """A parameter read by nothing is found: the view records only what is read."""
    sc = load_scenario("nl_baseline")
    seen: set[str] = set()
    t = track(sc, seen)
    _ = t.dublin.share
    _ = t.simulation.grid_start  # a property records the fields it reads
    assert seen == {"dublin.share", "simulation.initial_state", "simulation.history"}
    empty = track(sc.replace(**{"simulation.initial_state": "empty"}), seen := set())
    _ = empty.simulation.grid_start
    assert seen == {"simulation.initial_state", "simulation.start", "simulation.warmup_years"}
