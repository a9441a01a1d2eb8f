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
     ["registration.capacity_per_day[0].value", ">= 0", "-5"]),
    ("[return]\nshare_independent = 0.5\nshare_forced = 0.5\nshare_unsupervised = 0.5\n",
     ["return", "sum to 1", "1.5"]),
    ("[[groups]]\nname = 'a'\nshare = 0.5\ngrant_rate = 0.5\n", ["groups", "sum to 1", "rescale"]),
    ("[simulation]\nstart = 2025-01-01\nend = 2024-01-01\n", ["simulation", "must be after start"]),
    ("[decision_capacity]\ntotal = 671\n", ["decision_capacity.total", "expected a list [...], found 671",
                                             "[{start = 2025-01-01, value = 671}]"]),
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
    assert sc.name == "s" and sc.levers.triage is False  # a file's scenario is named after the file
    assert sc.simulation.start.year == 2014


def test_plausibility_warns_or_raises_when_strict(tmp_path):
    text = "[decision_capacity]\ntotal = [{start = 2025-01-01, value = 3}]\n"
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
    with pytest.raises(ScenarioError, match=r"unknown scenario key 'levers\.tirage'; did you mean 'triage'\? "
                                            r"Keys of levers: .*routing_small_scale"):
        sc.replace(**{"levers.tirage": 1})
    with pytest.raises(ScenarioError, match=r"'levers\.triage' is a value, not a section"):
        sc.replace(**{"levers.triage.x": 1})
    with pytest.raises(ScenarioError, match=r"(?s)with levers\.triage replaced: 1 problem.*'levers\.triage': expected a "
                                            r"valid boolean.*found 'maybe'"):
        sc.replace(**{"levers.triage": "maybe"})


def test_every_parameter_is_declared_once_with_unit_source_and_years():
    """The schema declares every field with its unit and source; sourced figures say which years of
    data they use; named assumptions give their reasoning; the shipped docs are generated from it."""
    from pathlib import Path

    from ketenplan.scenario import declared_parameters
    from ketenplan.scenario.docs import parameters_markdown

    table = parameters_table()
    undeclared = [k for k, meta in declared_parameters() if meta is None]
    assert not undeclared, f"fields without param(...): {undeclared}"
    assert (table.unit.str.len() > 0).all() and (table.source.str.len() > 5).all()
    sourced = table[table.kind == "sourced"]
    assert (sourced.years.str.len() > 0).all(), sourced[sourced.years == ""].name.tolist()
    assumed = table[table.kind == "assumption"]
    reasoned = (assumed.note.str.len() > 10) | (assumed.source.str.len() > 40)  # the reasoning: in the note or source
    assert reasoned.all(), assumed[~reasoned].name.tolist()
    assert {"groups", "reception.central_capacity", "housing.task_rule", "placement.enabled"} <= set(table.name)
    docs = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
    assert docs.read_text(encoding="utf-8") == parameters_markdown(), \
        "docs/parameters.md is out of date: run python -m ketenplan.scenario.docs docs/parameters.md"


def test_parameters_table_shows_the_values_of_a_run_and_what_differs():
    t = parameters_table(load_scenario("nl_history")).set_index("name")
    assert t.loc["simulation.start", "value"] == "2014-01-01" and t.loc["simulation.start", "differs"]
    assert t.loc["simulation.start", "default"] == "2025-01-01"
    assert not t.loc["dublin.share", "differs"]


def test_groups_come_from_the_shipped_table():
    """The baseline's nationality groups: the 2024 mix and grant rates of the shipped UNHCR table,
    recomputed here from the per-group yearly counts, and the fitted departure shares."""
    import pandas as pd

    from ketenplan.data import data_path

    sc = Scenario()
    gy = pd.read_csv(data_path("returns", "nl_group_year.csv"))
    y = gy[gy.year == 2024].set_index("group")
    assert {g.name for g in sc.groups} == set(y.index)
    assert sum(g.share for g in sc.groups) == pytest.approx(1, abs=1e-6)
    for g in sc.groups:
        assert g.share == pytest.approx(y.new_applications[g.name] / y.new_applications.sum(), abs=1e-4)
        decided = y.fi_recognized[g.name] + y.fi_other[g.name] + y.fi_rejected[g.name]
        assert g.grant_rate == pytest.approx((y.fi_recognized[g.name] + y.fi_other[g.name]) / decided, abs=1e-3)
        assert sum(g.departure_shares) == pytest.approx(1)
    assert {g.name for g in sc.groups if g.safe_country} == {"maghreb", "west_balkans"}


# --- what-if shocks of the first-application inflow ([[inflow.shocks]]) -------------------------

SHOCKS = '''base = "nl_baseline"
name = "surge_2026"
[simulation]
start = 2025-01-01
end = 2027-12-31
warmup_years = 0
replicates = 1
[[inflow.shocks]]
kind = "surge"
onset = 2026-06-01
group_shares = { syria = 1.0 }
[[inflow.shocks]]
kind = "level_shift"
onset = 2027-01-01
size = -0.25
'''


def test_shocks_fill_defaults_roundtrip_and_name_bad_values(tmp_path):
    sc = load_scenario(write(tmp_path, SHOCKS))
    surge, shift = sc.inflow.shocks
    # defaults from the forecast module's sourced 2015 surge; the stored scenario states them
    assert (surge.size, surge.duration_months, surge.ramp_months) == (4.96, 8, 4)
    assert shift.size == -0.25 and shift.ramp_months == 0
    again = load_scenario(write(tmp_path, scenario_toml(sc)))
    assert again.digest() == sc.digest()
    for text, must in [("[[inflow.shocks]]\nkind = 'level_shift'\nonset = 2026-01-01\n", "needs 'size'"),
                       ("[[inflow.shocks]]\nkind = 'dip'\nonset = 2026-01-01\nsize = 1.5\n", "between 0.0 and 1.0"),
                       ("[[inflow.shocks]]\nkind = 'surge'\nonset = 2026-01-01\ngroup_shares = {top = 1.0}\n",
                        "unknown group(s) ['top']"),
                       ("[[inflow.shocks]]\nkind = 'quake'\nonset = 2026-01-01\n", "inflow.shocks[0].kind")]:
        with pytest.raises(ScenarioError) as e:
            load_scenario(write(tmp_path, 'base = "nl_baseline"\n' + text))
        assert must in str(e.value), (must, str(e.value))


def test_unknown_shock_group_is_reported_at_its_key(tmp_path):
    text = ('base = "nl_baseline"\n[[inflow.shocks]]\nkind = "dip"\nonset = 2026-01-01\n'
            '[[inflow.shocks]]\nkind = "surge"\nonset = 2026-01-01\ngroup_shares = {top = 1.0}\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, text))
    msg = str(e.value)
    assert "- 'inflow.shocks[1].group_shares': unknown group(s) ['top']; the scenario's groups are" in msg, msg
    assert "(top level)" not in msg and msg.count("inflow.shocks[1]") == 1


def test_shocked_first_parts_add_up_to_the_product_of_factors(tmp_path):
    import numpy as np

    from ketenplan.engine.compile import monthly_persons, shocked_first, time_grid

    sc = load_scenario(write(tmp_path, SHOCKS))
    grid = time_grid(sc)
    base = monthly_persons(sc.inflow.first.per_year, sc.inflow.first.monthly, grid, np.array(sc.inflow.monthly_profile))
    parts = shocked_first(base, sc.inflow.shocks, grid)
    assert [k for _, k in parts] == [-1, 0]  # the surge's extra persons form their own part
    months = grid.months()
    f = np.ones(len(months))
    for shock in sc.inflow.shocks:
        on = pd.Period(shock.onset, freq="M")
        f *= shock.factor(np.asarray((months.year - on.year) * 12 + months.month - on.month))
    np.testing.assert_allclose(sum(a for a, _ in parts), base * f)
    oct26 = list(months.astype(str)).index("2026-10")  # the peak, four months after the onset
    assert parts[1][0][oct26] == pytest.approx(base[oct26] * 3.96)
    assert parts[1][0][:list(months.astype(str)).index("2026-06")].sum() == 0


def test_surge_with_its_own_group_mix_reaches_the_chain(tmp_path):
    from ketenplan.simulation import simulate

    sc = load_scenario(write(tmp_path, SHOCKS))
    calm = sc.replace(**{"inflow.shocks": []})
    a = simulate(sc, seed=4, replicates=1, keep_journeys="first").journeys
    b = simulate(calm, seed=4, replicates=1, keep_journeys="first").journeys

    def first(j, lo, hi):
        return j[(j.stream == "first") & (j.arrival_date >= lo) & (j.arrival_date < hi)]

    peak_a, peak_b = first(a, "2026-08-01", "2026-12-01"), first(b, "2026-08-01", "2026-12-01")
    assert peak_a.persons.sum() > 2.5 * peak_b.persons.sum()
    # the extra arrivals are all from the high-recognition group
    assert (peak_a.group == "syria").mean() > 0.8 > (peak_b.group == "syria").mean()
    late_a, late_b = first(a, "2027-03-01", "2028-01-01"), first(b, "2027-03-01", "2028-01-01")
    assert late_a.persons.sum() == pytest.approx(0.75 * late_b.persons.sum(), rel=0.05)


def test_more_bad_inputs_are_named(tmp_path):
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(folder)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(binary)
    with pytest.raises(ScenarioError, match="within 1990-01-01 to 2100-12-31"):
        load_scenario(write(tmp_path, "[simulation]\nstart = 3000-01-01\nend = 3000-03-31\n"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, "[[inflow.shocks]]\nkind = 'dip'\nonset = 2026-01-01\nsize = 1.5\n"))
    assert "size (the depth)" in str(e.value) and "found dict" not in str(e.value)
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, "[[inflow.shocks]]\nkind = 'quake'\nonset = 2026-01-01\n"))
    assert "inflow.shocks[0].kind" in str(e.value) and "size" not in str(e.value)


def test_empty_file_and_late_series_warn(tmp_path):
    with pytest.warns(PlausibilityWarning, match="sets nothing"):
        sc = load_scenario(write(tmp_path, ""))
    assert sc.name == "s"
    text = '[[decision_capacity.total]]\nstart = 2025-06-01\nvalue = 700\n'
    with pytest.warns(PlausibilityWarning, match=r"series_starts_late.*decision_capacity.total.*2025-06-01"):
        load_scenario(write(tmp_path, text))
    with pytest.raises(ScenarioError, match=r"s.toml failed a plausibility check \(strict mode\)"):
        load_scenario(write(tmp_path, text), strict=True)
    with pytest.warns(PlausibilityWarning, match="shock_within_horizon"):
        load_scenario(write(tmp_path, "[[inflow.shocks]]\nkind = 'surge'\nonset = 2040-01-01\n"))


# --- forecast country, shocks outside the grid, unused group mixes, key spelling ---------------

def _warnings_of(path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sc = load_scenario(path)
    return sc, [str(x.message) for x in w if issubclass(x.category, PlausibilityWarning)]


def test_unknown_forecast_country_is_named_at_load_and_aliases_are_stored_as_eurostat_codes(tmp_path):
    import subprocess
    import sys

    from typer.testing import CliRunner

    from ketenplan.cli import app

    bad = write(tmp_path, '[inflow]\nsource = "forecast"\nforecast_country = "XX"\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(bad)
    msg = str(e.value)
    assert "'inflow.forecast_country': unknown country 'XX'" in msg, msg
    assert "NL" in msg and "EL" in msg and "UK" in msg and "eurostat_monthly" not in msg
    r = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["validate", str(bad)])
    assert r.exit_code == 2 and "inflow.forecast_country" in r.output and "'XX'" in r.output
    for given, code in (("gr", "EL"), ("GB", "UK"), (" nl ", "NL")):
        sc = load_scenario(write(tmp_path, f'[inflow]\nsource = "given"\nforecast_country = "{given}"\n'))
        assert sc.inflow.forecast_country == code
    assert Scenario().replace(**{"inflow.forecast_country": "el"}).digest() == \
        Scenario().replace(**{"inflow.forecast_country": "GR"}).digest()
    # checking the country reads the country list only: no forecasting library is imported
    de = str(write(tmp_path, '[inflow]\nforecast_country = "DE"\n'))
    code = (f"import sys; from ketenplan.scenario import load_scenario; load_scenario({de!r}); "
            "assert 'statsforecast' not in sys.modules, 'statsforecast imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_forecast_country_whose_data_end_early_warns(tmp_path):
    _, msgs = _warnings_of(write(tmp_path, '[inflow]\nsource = "forecast"\nforecast_country = "UK"\n'
                                           '[simulation]\ninitial_state = "empty"\n'))
    hit = [m for m in msgs if m.startswith("[forecast_data_ends_early]")]
    assert len(hit) == 1, msgs
    assert "'UK'" in hit[0] and "2019-12" in hit[0] and "2024-12" in hit[0] and "2022-01" in hit[0], hit[0]
    # the same country when the data cover the grid, or with a given inflow, or a country with data to 2024
    for text in ('[inflow]\nsource = "forecast"\nforecast_country = "GB"\n'
                 '[simulation]\nstart = 2014-01-01\nend = 2016-12-31\ninitial_state = "empty"\n',
                 '[inflow]\nsource = "given"\nforecast_country = "UK"\n',
                 '[inflow]\nsource = "forecast"\nforecast_country = "DE"\n'):
        _, msgs = _warnings_of(write(tmp_path, text))
        assert not [m for m in msgs if "forecast_data_ends_early" in m], (text, msgs)


def test_shock_before_the_grid_warns_but_one_in_the_warm_up_does_not(tmp_path):
    # from an empty chain: start 2025-01-01, warmup_years = 3, so the grid starts 2022-01-01
    E = "[simulation]\ninitial_state = 'empty'\n"
    _, msgs = _warnings_of(write(tmp_path, E + "[[inflow.shocks]]\nkind = 'dip'\nonset = 2026-01-01\n"
                                           "[[inflow.shocks]]\nkind = 'surge'\nonset = 2015-06-01\n"))
    hit = [m for m in msgs if m.startswith("[shock_within_horizon]")]
    assert len(hit) == 1 and "inflow.shocks[1] (surge) starts 2015-06-01" in hit[0], msgs
    assert "2022-01-01" in hit[0] and "no effect" in hit[0] and "warmup_years" in hit[0]
    # a shock reaching into the grid is cut, not lost: the message says so
    _, msgs = _warnings_of(write(tmp_path, E + "[[inflow.shocks]]\nkind = 'surge'\nonset = 2021-10-01\n"))
    assert any("shock_within_horizon" in m and "first 3 month(s)" in m for m in msgs), msgs
    # in the warm-up (or in the grid's first month, the day ignored) a shock has its effect: no warning
    for onset in ("2023-01-01", "2022-01-01"):
        _, msgs = _warnings_of(write(tmp_path, E + f"[[inflow.shocks]]\nkind = 'surge'\nonset = {onset}\n"))
        assert not msgs, (onset, msgs)
    # without a warm-up the grid starts at the simulation start
    _, msgs = _warnings_of(write(tmp_path, E + "warmup_years = 0\n"
                                           "[[inflow.shocks]]\nkind = 'dip'\nonset = 2024-06-01\n"))
    assert any("inflow.shocks[0] (dip) starts 2024-06-01" in m and "(2025-01-01" in m for m in msgs), msgs
    # from history (the default) the inflow is drawn from the start on: a shock before it is replayed history
    _, msgs = _warnings_of(write(tmp_path, "[[inflow.shocks]]\nkind = 'surge'\nonset = 2023-01-01\n"))
    assert any("inflow.shocks[0] (surge) starts 2023-01-01" in m and "replayed from nl_history" in m
               for m in msgs), msgs


def test_group_shares_of_a_shock_that_adds_nobody_warn(tmp_path):
    text = ("[[inflow.shocks]]\nkind = 'dip'\nonset = 2026-01-01\ngroup_shares = { syria = 1.0 }\n"
            "[[inflow.shocks]]\nkind = 'level_shift'\nonset = 2026-01-01\nsize = -0.2\n"
            "group_shares = { syria = 1.0 }\n"
            "[[inflow.shocks]]\nkind = 'level_shift'\nonset = 2026-01-01\nsize = 0.2\n"
            "group_shares = { syria = 1.0 }\n"
            "[[inflow.shocks]]\nkind = 'surge'\nonset = 2026-01-01\ngroup_shares = { syria = 1.0 }\n")
    _, msgs = _warnings_of(write(tmp_path, text))
    hit = [m for m in msgs if m.startswith("[shock_group_shares_unused]")]
    assert len(hit) == 2, msgs
    assert "'inflow.shocks[0].group_shares' is ignored" in hit[0] and "dip" in hit[0]
    assert "'inflow.shocks[1].group_shares' is ignored" in hit[1] and "-0.2" in hit[1]


def test_list_positions_are_written_in_brackets(tmp_path):
    text = ('[[inflow.shocks]]\nkind = "dip"\nonset = 2026-01-01\n[[inflow.shocks]]\nkind = "surge"\n'
            'onset = 2026-01-01\nramp_months = -1\n[[decision_capacity.general]]\nstart = 2025-01-01\n'
            'value = -1\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, text))
    msg = str(e.value)
    assert "'inflow.shocks[1].ramp_months'" in msg and "'decision_capacity.general[0].value'" in msg, msg
    assert ".1." not in msg and ".0." not in msg


def test_unknown_shock_kind_and_quoted_onset_get_specific_fixes(tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, "[[inflow.shocks]]\nkind = 'tsunami'\nonset = 2026-01-01\n"))
    msg = str(e.value)
    assert "'inflow.shocks[0].kind'" in msg and "'tsunami'" in msg, msg
    assert "Fix: use one of 'surge', 'dip' or 'level_shift'" in msg and "correct the value's type" not in msg
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, "[[inflow.shocks]]\nkind = 'surge'\nonset = '2025-06'\n"))
    msg = str(e.value)
    assert "'inflow.shocks[0].onset': expected a date, found '2025-06'" in msg, msg
    assert "Fix: write a TOML date like 2025-06-01 (no quotes)" in msg and "correct the value's type" not in msg
    with pytest.raises(ScenarioError, match=r"'simulation.start'.*TOML date like 2025-06-01 \(no quotes\)"):
        load_scenario(write(tmp_path, "[simulation]\nstart = 2025\n"))


def test_forecast_inflow_must_cover_the_whole_grid(tmp_path):
    from ketenplan.errors import ScenarioError
    from ketenplan.scenario import load_scenario

    f = tmp_path / "early.toml"
    f.write_text('base = "nl_baseline"\nname = "early"\n[simulation]\nstart = 2009-01-01\nend = 2010-12-31\n'
                 'warmup_years = 3\ninitial_state = "empty"\n[inflow]\nsource = "forecast"\n')
    with pytest.raises(ScenarioError, match=r"'simulation.start'.*2006-01.*\(2008-01\).*warmup_years"):
        load_scenario(f)
    f.write_text(f.read_text().replace("warmup_years = 3", "warmup_years = 1"))
    assert load_scenario(f).simulation.grid_start.year == 2008
