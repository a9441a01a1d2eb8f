"""Scenario loading: structural errors name the key, the expected and found value, and the fix."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from ketenplan.errors import PlausibilityWarning, ScenarioError
from ketenplan.scenario import load_scenario, parameters_table, preset_names, scenario_toml
from ketenplan.scenario.schema import Scenario


def write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_presets_load_and_roundtrip(tmp_path):
    assert {"nl_baseline", "nl_history"} <= set(preset_names())
    for name in preset_names():
        sc = load_scenario(name)
        p = write(tmp_path, scenario_toml(sc))
        again = load_scenario(p)
        assert again.digest() == sc.digest()


@pytest.mark.parametrize("text, must", [
    ("[levers]\ntriagee = true\n", ["levers.triagee", "did you mean 'triage'", "remove or rename"]),
    ("[simulation]\nreplicates = 'many'\n", ["simulation.replicates", "integer", "'many'"]),
    ("[dublin]\naccept_rate = 1.5\n", ["dublin.accept_rate", "<= 1", "1.5", "within range"]),
    ("[registration]\ncapacity_per_day = [{start = 2025-01-01, value = -5}]\n",
     ["registration.capacity_per_day.0.value", ">= 0", "-5"]),
    ("[return]\nshare_independent = 0.5\nshare_forced = 0.5\nshare_unsupervised = 0.5\n",
     ["return", "sum to 1", "1.5"]),
    ("[[groups]]\nname = 'a'\nshare = 0.5\ngrant_rate = 0.5\n", ["groups", "sum to 1", "rescale"]),
    ("[simulation]\nstart = 2025-01-01\nend = 2024-01-01\n", ["simulation", "must be after start"]),
])
def test_bad_scenarios_give_actionable_errors(tmp_path, text, must):
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, text))
    msg = str(e.value)
    assert str(tmp_path / "s.toml") in msg
    for m in must:
        assert m in msg, (m, msg)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[levers\n"))
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "none.toml")


def test_base_preset_and_override(tmp_path):
    sc = load_scenario(write(tmp_path, 'base = "nl_history"\n[levers]\ntriage = false\n'))
    assert sc.name == "nl_history" and sc.levers.triage is False
    assert sc.simulation.start.year == 2014


def test_plausibility_warns_or_raises_when_strict(tmp_path):
    text = "[decision_capacity]\ngeneral = [{start = 2025-01-01, value = 1}]\n" \
           "safe = [{start = 2025-01-01, value = 1}]\ndublin = [{start = 2025-01-01, value = 1}]\n"
    with pytest.warns(PlausibilityWarning, match="decision_capacity_vs_inflow"):
        load_scenario(write(tmp_path, text))
    with pytest.raises(ScenarioError, match="strict"):
        load_scenario(write(tmp_path, text), strict=True)


def test_scenario_is_frozen_and_replace_makes_variants():
    sc = Scenario()
    with pytest.raises(Exception):
        sc.levers.triage = False  # type: ignore[misc]
    v = sc.replace(**{"levers.triage": False})
    assert sc.levers.triage and not v.levers.triage and v.digest() != sc.digest()
    with pytest.raises(KeyError):
        sc.replace(**{"levers.nope": 1})


def _leaves(d, prefix=""):
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and k not in ("lag", "col_stay", "duration", "rvt", "aa", "safe_track", "va",
                                             "restricted_stay", "time_to_departure", "detention", "lead_time"):
            yield from _leaves(v, key)
        else:
            yield key, v


def test_every_default_has_a_source_or_named_assumption():
    table = parameters_table()
    assert list(table.columns) == ["name", "value", "unit", "source", "note"]
    assert table.source.notna().all() and (table.source.str.len() > 5).all()
    names = set(table.name)
    d = Scenario().to_dict()
    missing = []
    for key, value in _leaves(d):
        if key in ("name", "description", "simulation.end", "simulation.seed", "inflow.source",
                   "inflow.forecast_country") or key.startswith("groups"):
            continue
        if isinstance(value, list) and not value:
            continue  # empty optional lists (given monthly values, tasks)
        k = key.removesuffix(".per_year").removesuffix(".mode")
        if k == "housing.tasks" or key == "housing.task_scale" or key.endswith("nareis.per_year") \
                or key.endswith(".monthly"):
            continue
        if k not in names and key not in names:
            missing.append(key)
    assert "groups" in names
    assert not missing, f"defaults without a parameters.csv row: {missing}"


def test_groups_come_from_the_shipped_table():
    sc = Scenario()
    assert [g.name for g in sc.groups] == ["high", "medium", "low", "very_low"]
    assert sum(g.share for g in sc.groups) == pytest.approx(1, abs=1e-3)
    assert [g.safe_country for g in sc.groups] == [False, False, False, True]
