"""Parameter uncertainty by default: declared distributions, keyed draws per replicate (scenario.uncertainty)."""

from __future__ import annotations

import numpy as np
import pytest

from ketenplan import load_scenario
from ketenplan.errors import ScenarioError
from ketenplan.scenario import uncertainty as U
from ketenplan.scenario.parameter_sets import for_replicate


def test_the_baseline_declares_its_uncertain_parameters_with_reasons():
    declared = dict(U.uncertain_parameters())
    assert {"decision_capacity.total", "housing.realisation_rate", "inflow.nareis.ratio"} <= set(declared)
    from ketenplan.scenario import parameters_table

    t = parameters_table().set_index("name")
    for key in declared:  # every distribution is explained where the parameter is documented
        assert "uncertainty" in t.loc[key, "note"], key


def test_inverse_cdfs_against_their_definitions():
    uni = {"name": "uniform", "low": 2.0, "high": 6.0}
    assert U.quantile(uni, 0.25) == pytest.approx(3.0)
    tri = {"name": "triangular", "low": 0.0, "mode": 1.0, "high": 4.0}
    cut = 1.0 / 4.0  # F(mode) = (mode - low) / (high - low)
    assert U.quantile(tri, cut) == pytest.approx(1.0)
    # against numpy's triangular sampler: quantiles of 200,000 draws within 0.02
    x = np.random.default_rng(0).triangular(0.0, 1.0, 4.0, 200_000)
    for p in (0.1, 0.5, 0.9):
        assert U.quantile(tri, p) == pytest.approx(np.quantile(x, p), abs=0.02)
    with pytest.raises(ScenarioError, match="low <= mode <= high"):
        U.check("x", {"name": "triangular", "low": 1, "mode": 3, "high": 2})
    with pytest.raises(ScenarioError, match="'uniform' or 'triangular'"):
        U.check("x", {"name": "beta", "low": 0, "high": 1})


def test_draws_are_keyed_by_seed_parameter_and_replicate():
    sc = load_scenario("nl_baseline")
    a = [for_replicate(sc, i, 7) for i in range(200)]
    b = for_replicate(sc, 3, 7)
    assert b == a[3]  # the same seed and replicate: the same scenario
    assert for_replicate(sc, 3, 8) != a[3]
    ratio = np.array([s.inflow.nareis.ratio for s in a])
    assert ratio.min() >= 0.22 and ratio.max() <= 0.39
    assert ratio.mean() == pytest.approx(0.305, abs=0.012)  # uniform 0.22-0.39: mean 0.305, se 0.0035
    cap = np.array([s.decision_capacity.total[0].value for s in a])
    assert cap.min() >= 0.8 * 671 and cap.max() <= 1.2 * 671 and cap.std() > 40
    # a parameter's draw does not depend on which other parameters are uncertain
    assert U._uniform(7, "inflow.nareis.ratio", 3) == pytest.approx((b.inflow.nareis.ratio - 0.22) / 0.17)


def test_scaled_draws_follow_a_users_value_and_the_switch_turns_them_off():
    sc = load_scenario("nl_baseline", {"decision_capacity": {"total": [{"start": "2025-01-01", "value": 1000}]}})
    caps = [for_replicate(sc, i, 1).decision_capacity.total[0].value for i in range(50)]
    assert 800 <= min(caps) and max(caps) <= 1200
    off = sc.replace(**{"simulation.parameter_uncertainty": False})
    assert for_replicate(off, 5, 1) == off
    # a distribution of values describes the default: a user's own value is kept in every replicate
    own = load_scenario("nl_baseline", {"inflow": {"nareis": {"ratio": 0.0}}})
    assert {for_replicate(own, i, 1).inflow.nareis.ratio for i in range(20)} == {0.0}


def test_parameter_sets_take_precedence_over_draws():
    h = load_scenario("nl_history")
    row = U.draws(h, 1, 0)
    assert "housing.realisation_rate" not in row and "decision_capacity.total@scale" not in row


def test_the_report_says_what_the_bands_contain():
    from ketenplan.testing import small_scenario

    sc = small_scenario()
    text = U.band_sources(sc)
    assert "decision_capacity.total" in text and "no inflow uncertainty" in text
    assert "starting stocks" not in text  # the small scenario starts from an empty chain
    off = sc.replace(**{"simulation.parameter_uncertainty": False})
    assert "decision_capacity" not in U.band_sources(off)
