"""The example inputs of ``ketenplan place`` shipped with the package."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from ketenplan.cli import app
from ketenplan.placement import housing_task, load_municipalities
from ketenplan.placement.cli import example_files
from ketenplan.placement.examples import NATIONAL_TOTAL, PERIOD, PROVINCE, example_tables, write_examples


def test_shipped_examples_are_what_the_builder_writes(tmp_path):
    write_examples(tmp_path)
    for name, shipped in example_files().items():
        assert (tmp_path / f"{name}.csv").read_bytes() == shipped.read_bytes(), name


def test_examples_follow_the_shipped_data():
    t = example_tables()
    m = load_municipalities()
    zeeland = m.loc[m.province == PROVINCE, "municipality"]
    assert list(t["locations"].location_id) == list(zeeland)
    # capacity = the housing task of those municipalities under the national total, independently
    task = housing_task(NATIONAL_TOTAL, PERIOD).set_index("municipality").quota
    assert t["locations"].set_index("location_id").persons.to_dict() == task.reindex(zeeland).to_dict()
    assert t["cases"].persons.sum() == t["locations"].persons.sum()      # tight, as the housing task is
    assert len(t["weights"]) == len(t["cases"]) * len(t["locations"])
    w = t["weights"].weight
    assert ((w >= 0) & (w <= t["weights"].merge(t["cases"], on="case_id").persons)).all()  # <= household size
    placed = t["cases"].current_location != ""
    assert set(t["cases"].current_location[placed]) <= set(zeeland)


def test_place_example_places_every_household(tmp_path):
    r = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["place", "--example", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    s = pd.read_csv(tmp_path / "summary.csv").set_index("method")
    cases = pd.read_csv(example_files()["cases"])
    assert s.loc["optimal", "cases_placed"] == len(cases) and s.loc["optimal", "persons_placed"] == 217
    assert s.loc["optimal", "objective"] >= s.loc["greedy", "objective"] >= 0
    assert s.loc["optimal", "objective"] >= s.loc["status_quo", "objective"]
    assert "Running HiGHS" not in r.output
