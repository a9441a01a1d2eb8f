"""File inputs and errors, housing task, employment model, chain post-processor, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ketenplan.errors import DataError
from ketenplan.placement import (EmploymentModel, SolveStatus, chain_placement, default_employment_model,
                                 housing_task, largest_remainder, load_municipalities, read_placement_inputs,
                                 solve_placement, urbanity_index)
from ketenplan.placement.cli import register


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.fixture
def toy_files(tmp_path):
    cases = write(tmp_path, "cases.csv", "case_id,cases,current_location\n1,1,5\n2,1,5\n3,1,6\n4,1,6\n")
    locs = write(tmp_path, "locs.csv", "location_id,cases\n5,2\n6,2\n")
    rows = ["case_id,location_id,person,weight"]
    p = {8: (.8, .2), 9: (.1, .9), 10: (.08, .75), 11: (.8, .2), 12: (.9, .3)}
    case = {8: 1, 9: 2, 10: 2, 11: 3, 12: 4}
    for r, (a, b) in p.items():
        rows += [f"{case[r]},5,{r},{a}", f"{case[r]},6,{r},{b}"]
    weights = write(tmp_path, "weights.csv", "\n".join(rows) + "\n")
    return cases, locs, weights


def test_toy_from_files_at_least_one(toy_files):
    problem = read_placement_inputs(*toy_files, objective="at-least-one")
    assert solve_placement(problem).objective == pytest.approx(2.875)
    expected = read_placement_inputs(*toy_files, objective="expected")
    assert expected.weights[1, 1] == pytest.approx(1.65)


@pytest.mark.parametrize("fname,text,match", [
    ("weights.csv", "case_id,location_id,weight\n9,5,1\n", r"weights.csv, row 2, column 'case_id': unknown id"),
    ("cases.csv", "case_id,cases\n1,-1\n", r"cases.csv, row 2, column 'cases': negative value"),
    ("locs.csv", "location_id,cases\n5,2\n5,1\n", r"locs.csv, row 3, column 'location_id': duplicate row"),
    ("locs.csv", "location_id,other\n5,2\n", r"locs.csv, column 'cases': capacity column"),
    ("weights.csv", "case_id,location_id,weight\n1,5,x\n", r"row 2, column 'weight': not a number"),
])
def test_bad_inputs_name_file_row_column(tmp_path, toy_files, fname, text, match):
    files = dict(zip(["cases.csv", "locs.csv", "weights.csv"], toy_files))
    files[fname] = write(tmp_path, fname, text)
    with pytest.raises(DataError, match=match):
        read_placement_inputs(files["cases.csv"], files["locs.csv"], files["weights.csv"])


def test_compatibility_file(tmp_path, toy_files):
    compat = write(tmp_path, "c.csv", "case_id,location_id,compatible\n2,6,0\n")
    p = read_placement_inputs(*toy_files, compat, objective="at-least-one")
    assert np.isnan(p.weights[1, 1])
    bad = write(tmp_path, "c2.csv", "case_id,location_id,compatible\n2,6,2\n")
    with pytest.raises(DataError, match="c2.csv, row 2, column 'compatible'"):
        read_placement_inputs(*toy_files, bad)


def test_empty_cases_file_gives_status(tmp_path, toy_files):
    cases = write(tmp_path, "empty.csv", "case_id,cases\n")
    weights = write(tmp_path, "w0.csv", "case_id,location_id,weight\n")
    p = read_placement_inputs(cases, toy_files[1], weights)
    assert solve_placement(p).status is SolveStatus.EMPTY


# --- housing task ---------------------------------------------------------------------------

def test_municipalities_shipped():
    m = load_municipalities()
    assert len(m) == 342 and m["municipality"].is_unique
    assert m["population_2021"].sum() == 17_475_415  # CBS 1 Jan 2021
    assert m["province"].nunique() == 12 and m["labour_market_region_no"].nunique() == 35


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 60_000))
def test_task_sums_exactly(total):
    t = housing_task(total, "2026-H1")
    assert t["quota"].sum() == total
    assert (np.abs(t["quota"] - t["quota_exact"]) < 1).all()


def test_backlog_carry_over(tmp_path):
    f = write(tmp_path, "b.csv", "municipality,backlog\nEersel,5\nAmsterdam,-100000\n")
    t = housing_task(20_000, "2026-H2", backlog=f).set_index("municipality")
    assert t.loc["Eersel", "task"] == t.loc["Eersel", "quota"] + 5
    assert t.loc["Amsterdam", "task"] == 0
    assert t.loc["Amsterdam", "advance_carried"] == 100_000 - t.loc["Amsterdam", "quota"]
    bad = write(tmp_path, "bad.csv", "municipality,backlog\nAtlantis,5\n")
    with pytest.raises(DataError, match=r"bad.csv, row 2, column 'municipality'"):
        housing_task(100, "2026-H1", backlog=bad)


def test_eersel_consistency():
    # Eersel 1H2016 = 22 persons with a national figure of ~20,000 (domain note A.6, unverified)
    t = housing_task(20_000, "2016-H1", population="2021").set_index("municipality")
    assert abs(t.loc["Eersel", "quota"] - 22) <= 2


def test_largest_remainder_ties():
    assert list(largest_remainder(1, [1, 1, 1])) == [1, 0, 0]
    assert list(largest_remainder(2, [1, 2, 1])) == [0, 1, 1] or list(largest_remainder(2, [1, 2, 1])) == [1, 1, 0]
    assert largest_remainder(7, [3, 3, 1]).sum() == 7


# --- employment model -----------------------------------------------------------------------

def test_default_model_anchors():
    m = default_employment_model()
    locs = pd.DataFrame({"location_id": ["rural", "mid", "urban"], "urbanity": [0.0, 0.5, 1.0]})
    ref = pd.DataFrame({"case_id": [1, 2], "age": [30, 30], "education": ["mid", "high"], "work_experience": [0, 0],
                        "language": [0, 0]})
    p = m.predict(ref, locs)
    assert p[0, 1] == pytest.approx(0.10)
    assert p[0, 2] / p[0, 0] == pytest.approx(1.5)
    assert p[1, 2] / p[1, 0] == pytest.approx(2.0)
    assert "not fitted" in m.source


def test_fit_recovers_coefficients():
    rng = np.random.default_rng(3)
    n = 40_000
    truth = default_employment_model()
    persons = pd.DataFrame({"case_id": np.arange(n), "age": 30, "education": rng.choice(["low", "mid", "high"], n),
                            "work_experience": rng.integers(0, 2, n), "language": rng.integers(0, 2, n),
                            "location_id": rng.integers(0, 5, n)})
    locs = pd.DataFrame({"location_id": range(5), "urbanity": np.linspace(0, 1, 5)})
    p = truth.predict(persons, locs)[np.arange(n), persons["location_id"]]
    persons["employed"] = (rng.random(n) < p).astype(int)
    fitted = EmploymentModel.fit(persons, locs)
    for k in ("intercept", "language", "education_high"):
        assert fitted.coefficients[k] == pytest.approx(truth.coefficients[k], abs=0.15)


# --- chain post-processor -------------------------------------------------------------------

def journeys(n=60, replicates=2, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for rep in range(replicates):
        adults = rng.integers(1, 3, n)
        children = rng.integers(0, 3, n)
        young = rng.integers(0, 2, n)
        dates = pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 360, n), unit="D")
        outcome = np.where(rng.random(n) < 0.8, "granted", "rejected")
        rows.append(pd.DataFrame({"replicate": rep, "case_id": np.arange(n), "persons": adults + children + young,
                                  "adults": adults, "children": children, "group": "SYR", "stream": "first",
                                  "outcome": outcome, "decision_date": dates, "housed_date": pd.NaT,
                                  "moves": rng.integers(0, 4, n)}))
    return pd.concat(rows, ignore_index=True)


def test_chain_placement_shapes_and_gain():
    j = journeys()
    m = load_municipalities().nlargest(20, "population_2025")
    out = chain_placement(j, m, seed=1)
    bp = out.by_period
    assert set(bp["period"]) == {"2026-H1", "2026-H2"} and set(bp["replicate"]) == {0, 1}
    granted = j[j["outcome"] == "granted"]
    assert bp["persons"].sum() == granted["persons"].sum()
    assert len(out.assignment) == len(granted)
    assert (bp["expected_employed_optimal"] >= bp["expected_employed_status_quo"] - 1e-9).all()
    assert (bp["status"].isin(["optimal", "feasible"])).all()
    # reproducible
    again = chain_placement(j, m, seed=1)
    pd.testing.assert_frame_equal(out.by_period, again.by_period)
    assert out.summary()["gain_pct"].notna().all()


def test_chain_placement_houses_children_only_cases_too():
    """The employment objective gains nothing from a case without adults; it is housed anyway
    (every permit holder needs a home), without lowering the objective or exceeding a task."""
    j = journeys(n=80, replicates=1, seed=3)
    j.loc[j.index[:15], ["adults", "persons"]] = [0, 2]
    j.loc[j.index[:15], "children"] = 2
    j.loc[j.index[:15], "outcome"] = "granted"
    m = load_municipalities().nlargest(10, "population_2025")
    out = chain_placement(j, m, seed=2)
    a = out.assignment
    kids_only = a[a["adults"] == 0]
    assert len(kids_only) >= 15 and (kids_only["municipality_optimal"] != "").mean() > 0.8
    for (period,), g in a.groupby(["period"]):
        task = housing_task(int(g["persons"].sum()), period, municipalities=m).set_index("municipality")["quota"]
        used = g[g["municipality_optimal"] != ""].groupby("municipality_optimal")["persons"].sum()
        left = task - used.reindex(task.index, fill_value=0)
        assert (left >= 0).all()  # no task exceeded
        # maximal: a household still without a home fits in no municipality's remaining task
        unplaced = g[g["municipality_optimal"] == ""]
        assert (unplaced["persons"] > left.max()).all()


def test_chain_placement_no_granted_and_bad_input():
    j = journeys(n=5)
    j["outcome"] = "rejected"
    assert chain_placement(j).by_period.empty
    with pytest.raises(DataError, match="columns missing"):
        chain_placement(j.drop(columns="adults"))


def test_urbanity_range():
    u = urbanity_index(load_municipalities())
    assert u.min() == 0 and u.max() == 1


# --- CLI ------------------------------------------------------------------------------------

def _app():
    try:
        from ketenplan.cli import app
        return app
    except Exception:  # another module's command file missing: test ours on a fresh app
        app = typer.Typer()
        register(app)
        return app


def test_cli_taakstelling(tmp_path):
    r = CliRunner().invoke(_app(), ["taakstelling", "--period", "2026-H1", "--total", "10000", "--out",
                                    str(tmp_path)])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "taakstelling_2026-H1.csv")
    assert t["quota"].sum() == 10000
    html = (tmp_path / "taakstelling_2026-H1_by_province.html").read_text()
    assert "plotly" in html and "<script src=\"http" not in html and len(html) > 1_000_000


def test_cli_place(tmp_path, toy_files):
    out = tmp_path / "out"
    args = ["place", "--cases", str(toy_files[0]), "--locations", str(toy_files[1]), "--weights",
            str(toy_files[2]), "--objective", "at-least-one", "--out", str(out)]
    r = CliRunner().invoke(_app(), args)
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out / "summary.csv").set_index("method")
    assert s.loc["optimal", "objective"] == pytest.approx(2.875)
    assert s.loc["status_quo", "objective"] == pytest.approx(1.472)
    assert s.loc["optimal", "status"] == "optimal"
    assert len(pd.read_csv(out / "assignment.csv")) == 4


def test_cli_bad_input_exit_code(tmp_path, toy_files):
    bad = write(tmp_path, "bad.csv", "case_id,location_id,weight\n1,99,0.5\n")
    r = CliRunner().invoke(_app(), ["place", "--cases", str(toy_files[0]), "--locations", str(toy_files[1]),
                                    "--weights", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2


def test_negative_weight_rejected_with_file_row_column(tmp_path, toy_files):
    w = write(tmp_path, "wneg.csv", "case_id,location_id,weight\n1,5,0.2\n2,5,-0.5\n")
    with pytest.raises(DataError, match=r"wneg.csv, row 3, column 'weight': negative value.*employed persons"):
        read_placement_inputs(toy_files[0], toy_files[1], w)


def test_cli_place_options_status_quo_over_capacity_and_integer_counts(tmp_path, toy_files):
    import json

    base = ["place", "--cases", str(toy_files[0]), "--locations", str(toy_files[1]), "--weights", str(toy_files[2])]
    for tl in ("0", "-1"):
        r = CliRunner().invoke(_app(), base + ["--time-limit", tl, "--out", str(tmp_path / "x")])
        assert r.exit_code == 2 and "--time-limit" in r.output and "> 0" in r.output, r.output
    zero = write(tmp_path, "lzero.csv", "location_id,cases\n5,0\n6,1\n")
    out = tmp_path / "out"
    r = CliRunner().invoke(_app(), ["place", "--cases", str(toy_files[0]), "--locations", str(zero),
                                    "--weights", str(toy_files[2]), "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out / "summary.csv").set_index("method")
    assert s.loc["status_quo", "status"] == "over_capacity"
    assert "feasible" not in s.loc["status_quo", "status"]
    assert s.loc["status_quo", "binding"] == "5:cases;6:cases"
    rec = {d["method"]: d for d in json.loads((out / "summary.json").read_text())}
    assert rec["status_quo"]["cases_placed"] == 4 and isinstance(rec["status_quo"]["cases_placed"], int)
    assert isinstance(rec["optimal"]["persons_placed"], int)
    assert "4.0" not in r.output.split("status_quo")[1].split("\n")[0]


@pytest.mark.parametrize("period", ["1800-H1", "1989-H2", "2101-H1"])
def test_taakstelling_period_outside_range_rejected(tmp_path, period):
    with pytest.raises(DataError, match="1990-2100"):
        housing_task(100, period)
    r = CliRunner().invoke(_app(), ["taakstelling", "--period", period, "--total", "100", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--period" in r.output
    assert housing_task(100, "1990-H1")["quota"].sum() == 100


def test_backlog_file_empty_or_a_folder(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="the file is empty"):
        housing_task(1000, "2026-H1", backlog=empty)
    with pytest.raises(DataError, match="is a folder"):
        housing_task(1000, "2026-H1", backlog=tmp_path)


def test_routed_cases_are_matched_at_routing_in_a_real_chain_run():
    """With the routing lever on, likely-granted cases go to small-scale locations after registration
    and are matched to their municipality then (P3.7); the others at their decision."""
    import datetime as dt

    from ketenplan.simulation import simulate
    from ketenplan.placement.chain import half_year
    from ketenplan.scenario import load_scenario

    D = dt.date(2025, 1, 1)
    sc = load_scenario("nl_baseline").replace(**{
        "simulation.end": dt.date(2025, 12, 31), "simulation.warmup_years": 0, "simulation.replicates": 1,
        "levers.routing_small_scale": True, "reception.capacity_small": [{"start": D, "value": 20000}]})
    j = simulate(sc, seed=3, replicates=1).journeys
    out = chain_placement(j, seed=1)  # all 342 municipalities: the flow path, under a second
    a = out.assignment
    routed = set(j.loc[j.routed_small_scale, "case_id"])
    assert (a["placed_at"] == "routing").any() and (a["placed_at"] == "decision").any()
    assert set(a.loc[a["placed_at"] == "routing", "case_id"]) <= routed
    # a routed case is matched in the half-year of its registration, not of its decision
    reg = j.set_index("case_id").registration_date
    r = a[a["placed_at"] == "routing"]
    assert (r["period"] == half_year(reg.reindex(r["case_id"]).reset_index(drop=True)).to_numpy()).all()
    bp = out.by_period
    assert bp["persons_placed_at_routing"].sum() == r["persons"].sum()
