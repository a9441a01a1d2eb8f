"""A run from today: the chain's state on a day, carried into a new run (engine.snapshot).

The anchor is exactness: a run that stops on a day, keeps only what is still in motion, and
continues from that state with the same scenario and key gives the same stocks and flows as the
run that never stopped. Then the default baseline's first day is checked against the published
figure it was corrected to, and the correction against the replay it started from.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ketenplan import load_scenario
from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R
from ketenplan.engine import snapshot as S
from ketenplan.engine.compile import compile_replicate
from ketenplan.engine.rng import replicate_key
from ketenplan.engine.run import default_hooks, run_compiled
from ketenplan.engine.state import Run
from ketenplan.errors import ScenarioError

T0 = dt.date(2016, 1, 1)  # in the 2015-2016 surge: every queue, wait and stay is busy


@pytest.fixture(scope="module")
def history():
    sc = load_scenario("nl_history").replace(**{"simulation.end": dt.date(2017, 6, 30),
                                                "simulation.parameter_sets": ""})
    key = replicate_key(np.random.SeedSequence(5))
    return sc, key


def test_stopping_and_continuing_from_the_carried_state_changes_nothing(history):
    sc, key = history
    whole = run_compiled(compile_replicate(sc, key))
    c = compile_replicate(sc, key)
    run = Run.start(c, default_hooks(c)).advance(until=T0)
    snap = S.take(run, c)
    assert snap.n_cases < 0.5 * c.n_cases  # housed, departed and not yet arrived cases are not carried
    resumed = run_compiled(compile_replicate(sc, key, start=snap))  # conservation checked on every day
    d0 = snap.day
    for name in ("stage_stock", "loc_stock", "flows"):
        a, b = getattr(whole, name)[d0:], getattr(resumed, name)[d0:]
        assert np.array_equal(a, b), f"{name} differs from day {d0 + int(np.argwhere(a != b)[0][0])}"
    assert np.array_equal(whole.stage_stock[:d0], resumed.stage_stock[:d0])  # the replayed days are kept
    # the housing task goes on from the carried grants and backlog
    h1, h2 = whole.housing.set_index("period"), resumed.housing.set_index("period")
    both = h2.index[h2.index >= "2016-H1"]
    assert np.allclose(h1.loc[both, ["task", "backlog_in", "realised"]], h2.loc[both, ["task", "backlog_in",
                                                                                      "realised"]])


def test_the_baseline_starts_from_the_published_pending_stock():
    sc = load_scenario("nl_baseline")
    assert sc.simulation.initial_state == "history" and sc.simulation.start == dt.date(2025, 1, 1)
    snap = S.history_snapshot(sc)
    rows = snap.checks.set_index("quantity")
    pending = rows.loc["asylum_pending_all_levels"]
    assert pending.published == 43201  # UNHCR, end of 2024 (data/nl_chain/facts_nl_2020_2024_oos.csv)
    assert pending.corrected and "UNHCR" in pending.source
    # corrected to the figure up to one household; the replay itself was far below it
    assert abs(pending.start - 43201) <= 12 and pending.replay < 0.5 * 43201
    c = compile_replicate(sc, replicate_key(np.random.SeedSequence(1)))
    out = run_compiled(c)
    si = c.grid.start_index
    first_day = R.derived_stock("asylum_pending_all_levels", out.stage_stock[si:si + 1], out.loc_stock[si:si + 1])[0]
    assert abs(first_day - 43201) / 43201 < 0.15  # the bar: the first reported day within 15%
    # copies are in the stages they copy, with their own identities
    keys = c.case["case_key"]
    assert np.unique(keys).size == keys.size
    # the stocks that were not corrected are the replay's
    for q in ("permit_holders_in_reception", "without_residence"):
        assert rows.loc[q, "start"] == rows.loc[q, "replay"]


def test_a_start_outside_the_history_is_refused():
    with pytest.raises(ScenarioError, match=r"simulation.start.*2026-01-01.*start at 2025-01-01 or earlier"):
        load_scenario("nl_baseline", {"simulation": {"start": dt.date(2026, 1, 1)}})
    with pytest.raises(ScenarioError, match="first day of a month"):
        load_scenario("nl_baseline", {"simulation": {"start": dt.date(2024, 6, 15)}})
    # an empty chain may start any time
    load_scenario("nl_baseline").replace(**{"simulation.start": dt.date(2026, 1, 1),
                                           "simulation.initial_state": "empty"})


def test_a_surplus_is_removed_and_persons_stay_conserved(history):
    sc, key = history
    c = compile_replicate(sc, key)
    run = Run.start(c, default_hooks(c)).advance(until=T0)
    snap = S.take(run, c)
    before = S.stocks(snap)["asylum_pending_all_levels"]
    stages = np.array(sorted({i for g in ("ind_pending", "appeal") for i in R.stages_in(g)}))
    S._adjust(snap, stages, -0.3 * before)
    after = S.stocks(snap)["asylum_pending_all_levels"]
    assert after == pytest.approx(0.7 * before, abs=12)
    out = run_compiled(compile_replicate(sc, key, start=snap))  # conservation checked on every day
    assert out.stage_stock.shape[0] == c.grid.T


def test_the_history_scenario_is_read_once_per_file_version(tmp_path, monkeypatch):
    """Every replicate asks for its snapshot: the history's TOML is read once, and read again only
    when the file changes (a changed history is a different snapshot)."""
    import ketenplan.scenario as scenario_module

    S.clear_cache()
    hist = tmp_path / "hist.toml"
    hist.write_text('base = "nl_history"\n')
    sc = load_scenario("nl_baseline").replace(**{"simulation.history": str(hist)})
    reads = []
    real = scenario_module.load_scenario
    monkeypatch.setattr(scenario_module, "load_scenario", lambda *a, **k: reads.append(a) or real(*a, **k))
    first = S._history_ident(sc)
    assert S._history_ident(sc) == first and len(reads) == 1
    hist.write_text('base = "nl_history"\n[procedure.rvt]\nmean = 9.0\n')
    changed = S._history_ident(sc)
    assert len(reads) == 2 and changed != first
    S.clear_cache()


def test_a_replicate_is_compiled_with_room_for_the_carried_cases(monkeypatch):
    """The per-case arrays of a run from history are made with the carried cases' rows in front and
    filled, not concatenated (every per-case array of a replicate is written once); the carried rows
    are the snapshot's."""
    sc = load_scenario("nl_baseline")
    snap = S.history_snapshot(sc)
    H = snap.n_cases
    seen = {}
    real = S.combine

    def spy(s, c):
        for k, v in c.case.items():
            seen[f"case.{k}"] = S._room_of(v, H) is not None
        for f in K.CASE_FIELDS:
            seen[f"inputs.{f}"] = S._room_of(np.asarray(getattr(c.inputs, f)), H) is not None
        return real(s, c)

    monkeypatch.setattr(S, "combine", spy)
    c = compile_replicate(sc, replicate_key(np.random.SeedSequence(3)))
    concatenated = sorted(k for k, v in seen.items() if not v)
    assert concatenated == []
    for f in ("dur", "branch", "late_u", "size", "case_key"):
        assert np.array_equal(np.asarray(getattr(c.inputs, f))[:H], snap.inputs[f])
    assert np.array_equal(c.case["arrival_day"][:H], snap.state["arrival_day"])
