"""The compile's key-independent tables are kept per scenario without changing a replicate's
arrays, and the cases' order is numpy's lexsort by day then identity."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ketenplan import load_scenario
from ketenplan.engine import compile as C
from ketenplan.engine.rng import replicate_key


def short_baseline():
    sc = load_scenario("nl_baseline")
    s = sc.simulation.start
    return sc.replace(**{"simulation.end": dt.date(s.year + 1, s.month, s.day) - dt.timedelta(days=1)})


def arrays(c):
    return {**{f"inputs.{f}": np.asarray(getattr(c.inputs, f)) for f in c.inputs._fields},
            **{f"case.{k}": np.asarray(v) for k, v in c.case.items()}}


def test_kept_tables_give_the_arrays_of_a_fresh_scenario():
    sc = short_baseline()
    key = replicate_key(np.random.SeedSequence(11))
    first = arrays(C.compile_replicate(sc, key))
    again = arrays(C.compile_replicate(sc, key))  # from the kept tables
    fresh = arrays(C.compile_replicate(short_baseline(), key))  # another object: built anew
    for name, a in first.items():
        assert a.dtype == again[name].dtype and np.array_equal(a, again[name]), name
        assert np.array_equal(a, fresh[name]), name


def test_kept_tables_are_handed_out_as_copies():
    sc = short_baseline()
    grid = C.time_grid(sc)
    late = C.late_tables(sc, grid)
    late[:] = -1.0
    assert (C.late_tables(sc, grid) >= 0).all()
    parts, exp_first = C.inflow_parts(sc, grid)
    parts[0][2][:] = -1.0
    exp_first[:] = -1.0
    parts2, exp2 = C.inflow_parts(sc, grid)
    assert (parts2[0][2] >= 0).all() and (exp2 >= 0).all()


def test_day_order_is_lexsort_by_day_then_identity():
    rng = np.random.default_rng(5)
    for sorted_keys in (True, False):
        n = 5000
        arrival = rng.integers(0, 400, n)
        ckey = np.sort(rng.choice(2**62, n, replace=False).astype(np.uint64))
        if not sorted_keys:  # identities out of order: the general sort
            ckey = rng.permutation(ckey)
        assert np.array_equal(C._day_order(arrival, ckey), np.lexsort((ckey, arrival)))
    assert C._day_order(np.zeros(0, np.int64), np.zeros(0, np.uint64)).shape == (0,)


def test_arrival_years_match_the_calendar():
    grid = C.time_grid(short_baseline())
    days = np.array([-1, 0, 1, 364, 365, grid.T - 1, grid.T + 400])
    expect = [(grid.day0 + dt.timedelta(days=int(max(d, 0)))).year for d in days]
    assert C._arrival_years(grid, days).tolist() == expect


def test_each_scenario_keeps_its_own_tables():
    a = short_baseline()
    b = a.replace(**{"minors.grant_rate": 0.25})
    grid = C.time_grid(a)
    for _ in range(2):  # alternately, so that a kept table of one would show in the other
        assert (C.late_tables(a, grid)[C.LATE_DECISION, :, -1, 0] == a.minors.grant_rate).all()
        assert (C.late_tables(b, grid)[C.LATE_DECISION, :, -1, 0] == 0.25).all()


def test_replicate_draws_share_the_tables_of_their_scenario_because_the_tables_do_not_read_them():
    """A replicate's scenario (parameter draws, parameter sets) uses its base scenario's per-scenario
    tables (engine.compile.share_tables): that is right only while no drawn value enters them."""
    import numpy as np

    from ketenplan import load_scenario
    from ketenplan.engine import compile as C
    from ketenplan.scenario.parameter_sets import for_replicate

    for name in ("nl_baseline", "nl_history"):
        base = load_scenario(name)
        drawn = for_replicate(base, 3, 11)
        assert drawn.to_dict() != base.to_dict()  # something was drawn
        g = C.time_grid(base)
        (pa, ea), (pb, eb) = C._inflow_parts(base, g, None), C._inflow_parts(drawn, g, None)
        assert np.array_equal(ea, eb) and len(pa) == len(pb)
        assert all(a[:2] == b[:2] and np.array_equal(a[2], b[2]) and a[3] == b[3] for a, b in zip(pa, pb))
        assert np.array_equal(C._late_tables(base, g), C._late_tables(drawn, g))
        assert np.array_equal(C._group_mix_table(base, 2012, 2034), C._group_mix_table(drawn, 2012, 2034))


def test_a_replicate_scenario_finds_its_base_scenarios_tables():
    from ketenplan import load_scenario
    from ketenplan.engine import compile as C
    from ketenplan.scenario.parameter_sets import for_replicate

    base = load_scenario("nl_baseline")
    calls = []
    build = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert C._per_scenario(base, ("probe",), build) == 1
    for i in range(3):  # drawn per replicate: new objects, the base's tables
        assert C._per_scenario(for_replicate(base, i, 5), ("probe",), build) == 1
    assert len(calls) == 1
