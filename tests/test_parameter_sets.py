"""Parameter sets (simulation.parameter_sets): each replicate applies row replicate % n (P0.5, P3.4)."""

from __future__ import annotations

import pandas as pd
import pytest

from ketenplan.errors import ScenarioError
from ketenplan.scenario import load_scenario
from ketenplan.scenario.parameter_sets import apply_row, for_replicate, load


def test_rows_cycle_over_replicates_and_scale_step_series(tmp_path):
    p = tmp_path / "sets.csv"
    p.write_text("decision_capacity.total@scale,housing.realisation_rate,distance\n0.5,0.6,1\n2.0,0.9,2\n")
    base = load_scenario("nl_history")
    sc = base.replace(**{"simulation.parameter_sets": str(p)})
    totals = [s.value for s in base.decision_capacity.total]
    for i, (scale, rate) in enumerate([(0.5, 0.6), (2.0, 0.9), (0.5, 0.6)]):
        r = for_replicate(sc, i)
        assert r.housing.realisation_rate == rate
        assert [s.value for s in r.decision_capacity.total] == pytest.approx([v * scale for v in totals])
        assert r.name == sc.name
    assert list(load(str(p)).columns) == ["decision_capacity.total@scale", "housing.realisation_rate"]
    none = base.replace(**{"simulation.parameter_sets": "", "simulation.parameter_uncertainty": False})
    assert for_replicate(none, 3) is none  # no sets named and no draws: the scenario itself


def test_bad_parameter_sets_are_clear_errors(tmp_path):
    base = load_scenario("nl_history")
    with pytest.raises(Exception, match="parameter_sets"):
        base.replace(**{"simulation.parameter_sets": str(tmp_path / "missing.csv")})
    with pytest.raises(ScenarioError, match="bananas"):
        apply_row(base, pd.Series({"bananas.x": 1.0}))
    assert apply_row(base, pd.Series({"housing.realisation_rate@scale": 0.5})).housing.realisation_rate == \
        pytest.approx(0.5 * base.housing.realisation_rate)  # a number scales too
    with pytest.raises(ScenarioError, match="neither"):
        apply_row(base, pd.Series({"groups@scale": 1.0}))
