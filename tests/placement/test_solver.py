"""Placement solver: hand-checkable toy, random instances against PuLP/CBC, real HIAS instances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbc
import hias
from ketenplan.errors import DataError
from ketenplan.placement import (PlacementProblem, SolveStatus, evaluate_assignment, greedy_placement,
                                 solve_placement)

# GeoMatch "Matching Test" toy (domain note A.5): 5 persons in 4 cases, 2 locations, 2 slots each.
TOY_P = {8: (.8, .2), 9: (.1, .9), 10: (.08, .75), 11: (.8, .2), 12: (.9, .3)}
TOY_CASE = {8: 1, 9: 2, 10: 2, 11: 3, 12: 4}


def toy_problem() -> PlacementProblem:
    w = np.zeros((4, 2))
    for loc in range(2):
        for c in range(1, 5):
            q = np.prod([1 - TOY_P[r][loc] for r in TOY_P if TOY_CASE[r] == c])
            w[c - 1, loc] = 1 - q
    # slots count cases: one dimension 'cases' of size 1 per case
    return PlacementProblem.from_arrays(np.ones(4, int), [2, 2], w, case_ids=[1, 2, 3, 4], location_ids=[5, 6],
                                        dimensions=("cases",), current_location=[0, 0, 1, 1])


def test_toy_optimum_tie_and_status_quo():
    p = toy_problem()
    np.testing.assert_allclose(p.weights[1], [.172, .975])
    r = solve_placement(p)
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(2.875, abs=1e-12)
    placed = dict(zip(r.assignment["case_id"], r.assignment["location_id"]))
    assert placed[2] == 6 and sum(v == 6 for v in placed.values()) == 2
    # deterministic tie-breaking: same input, same assignment
    assert solve_placement(p).assignment.equals(r.assignment)
    sq = evaluate_assignment(p, p.current_location, method="status_quo")
    assert sq.objective == pytest.approx(1.472, abs=1e-12)


def _random_problem(rng, n, m, d):
    sizes = rng.integers(0, 4, size=(n, d))
    sizes[sizes.sum(axis=1) == 0, 0] = 1
    caps = rng.integers(0, 3 * n // m + 3, size=(m, d))
    w = rng.random((n, m)) * sizes.sum(axis=1, keepdims=True)
    w[rng.random((n, m)) < 0.2] = np.nan
    return PlacementProblem.from_arrays(sizes, caps, np.round(w, 3))


@pytest.mark.parametrize("seed", range(6))
def test_random_instances_match_cbc(seed):
    rng = np.random.default_rng(seed)
    p = _random_problem(rng, n=int(rng.integers(5, 60)), m=int(rng.integers(1, 8)), d=int(rng.integers(1, 4)))
    r = solve_placement(p)
    ref, status = cbc.cbc_optimum(p)
    assert status == "Optimal"
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(ref, rel=1e-6, abs=1e-9)
    assert r.objective >= greedy_placement(p).objective - 1e-9
    relaxed = solve_placement(p, relax=True)
    assert relaxed.objective >= r.objective - 1e-9
    assert relaxed.objective == pytest.approx(cbc.cbc_optimum(p, relax=True)[0], rel=1e-6, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(1, 6), st.integers(1, 3))
def test_feasibility_properties(seed, n, m, d):
    """Any solution respects capacities and compatibility and places each case at most once."""
    p = _random_problem(np.random.default_rng(seed), n, m, d)
    for r in (solve_placement(p), greedy_placement(p)):
        a = r.assignment
        assert not a["case_id"].duplicated().any()
        ci = a["case_id"].to_numpy(int)
        li = a["location_id"].to_numpy(int)
        assert not np.isnan(p.weights[ci, li]).any()
        used = np.zeros_like(p.capacities)
        np.add.at(used, li, p.sizes[ci])
        assert (used <= p.capacities).all()
        assert r.objective == pytest.approx(float(np.nansum(p.weights[ci, li])))
        assert r.persons_placed == p.sizes[ci].sum()


def test_empty_and_infeasible_return_status():
    empty = PlacementProblem.from_arrays(np.zeros((0, 1), int), [3], np.zeros((0, 1)))
    assert solve_placement(empty).status is SolveStatus.EMPTY
    nolocs = PlacementProblem.from_arrays([1, 2], np.zeros((0, 1), int), np.zeros((2, 0)))
    assert solve_placement(nolocs).status is SolveStatus.EMPTY
    incompatible = PlacementProblem.from_arrays([1], [1], [[np.nan]])
    assert solve_placement(incompatible).status is SolveStatus.EMPTY
    tight = PlacementProblem.from_arrays([2, 2], [3], [[1.0], [1.0]])
    r = solve_placement(tight, require_all=True)
    assert r.status is SolveStatus.INFEASIBLE and "exceeds total capacity" in r.message
    assert solve_placement(tight).objective == 1.0


def test_negative_sizes_rejected_in_memory():
    with pytest.raises(DataError, match="negative"):
        PlacementProblem.from_arrays([-1], [1], [[1.0]])


@pytest.mark.skipif(not hias.available(), reason=f"HIAS resettlement data not found at {hias.HIAS_DIR} "
                    "(not shipped: the source repository has no licence)")
@pytest.mark.parametrize("fy", ["FY16", "FY17"])
def test_hias_instances_reach_cbc_optimum(fy):
    p = hias.load(fy)
    assert p.n_cases == {"FY16": 499, "FY17": 329}[fy]
    r = solve_placement(p)
    ref, status = cbc.cbc_optimum(p)
    assert status == "Optimal"
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(ref, rel=1e-6)
    g = greedy_placement(p)
    assert 0.8 < g.objective / r.objective < 0.9  # greedy stays under 90% (domain note A.2, C.1)


def test_negative_weights_and_time_limit_rejected_in_memory():
    from ketenplan.errors import ScenarioError
    with pytest.raises(DataError, match="negative.*>= 0"):
        PlacementProblem.from_arrays([1, 1], [2], [[0.5], [-0.5]])
    p = toy_problem()
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ScenarioError, match="time_limit"):
            solve_placement(p, time_limit=bad)


def test_status_quo_over_capacity_is_not_feasible():
    p = PlacementProblem.from_arrays([1, 2], [1, 5], [[0.5, 0.1], [0.3, 0.2]], current_location=[0, 0])
    sq = evaluate_assignment(p, p.current_location, method="status_quo")
    assert sq.status is SolveStatus.OVER_CAPACITY and "capacity exceeded" in sq.message
    assert sq.summary()["cases_placed"] == 2 and isinstance(sq.summary()["cases_placed"], int)
    ok = evaluate_assignment(p, np.array([0, 1]), method="status_quo")
    assert ok.status is SolveStatus.FEASIBLE
