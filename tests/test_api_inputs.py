"""The Python API refuses bad arguments with the package's own errors, naming the argument, and a
failed run leaves no folder it made behind (the brief's rule for bad input, from Python)."""

from __future__ import annotations

import pytest

import ketenplan
from ketenplan.errors import ScenarioError
from ketenplan.planning.plan import builtin_policies, plan_capacity


@pytest.fixture(scope="module")
def sc():
    return ketenplan.load_scenario("nl_baseline").replace(**{"simulation.end": "2025-06-30"})


@pytest.mark.parametrize("kwargs, needle", [
    (dict(replicates=1.5), "replicates (--replicates) must be an integer >= 1, found 1.5"),
    (dict(replicates="abc"), "replicates (--replicates) must be an integer >= 1, found 'abc'"),
    (dict(workers=0), "workers (--workers) must be an integer >= 1, found 0"),
    (dict(seed=True), "seed (--seed) must be an integer >= 0, found True"),
])
def test_simulate_names_the_bad_argument(sc, kwargs, needle):
    with pytest.raises(ScenarioError) as e:
        ketenplan.simulate(sc, **{"seed": 1, "replicates": 1, **kwargs})
    assert needle in str(e.value)


def test_simulate_wants_a_scenario_object():
    with pytest.raises(ScenarioError, match=r"scenario: expected a Scenario \(ketenplan\.load_scenario"):
        ketenplan.simulate("nl_baseline", seed=1, replicates=1)


def test_a_failed_run_removes_the_folder_it_made(sc, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(TypeError):  # the caller's hook factory returns no list of hooks
        ketenplan.simulate(sc, seed=1, replicates=1, backend="serial", out=out, hooks=lambda i: 5)
    assert not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("x")
    with pytest.raises(TypeError):
        ketenplan.simulate(sc, seed=1, replicates=1, backend="serial", out=kept, hooks=lambda i: 5)
    assert (kept / "mine.txt").exists()  # a folder the caller had is not removed


def test_plan_capacity_names_bad_policies_and_scenarios(sc):
    with pytest.raises(ScenarioError, match="policies: expected Policy objects"):
        plan_capacity(sc, policies=[object()], runs=1)
    fixed = builtin_policies()["fixed"]
    with pytest.raises(ScenarioError, match="names must differ"):
        plan_capacity(sc, policies=[fixed, fixed], runs=1)
    with pytest.raises(ScenarioError, match="neither a built-in policy"):
        plan_capacity(sc, policies=["sometimes"], runs=1)
    with pytest.raises(ScenarioError, match=r"--seed must be an integer >= 0, found 1\.5"):
        plan_capacity(sc, runs=1, seed=1.5)
    with pytest.raises(ScenarioError, match="scenario: expected a Scenario"):
        plan_capacity("nl_baseline", runs=1)
