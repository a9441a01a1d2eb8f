"""Smoke tests of every chain command through the real CLI app."""

from __future__ import annotations

import json
import re

import pandas as pd
from typer.testing import CliRunner

from ketenplan.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


def short_scenario(tmp_path):
    p = tmp_path / "short.toml"
    p.write_text('base = "nl_baseline"\nname = "short"\n[simulation]\nend = 2026-06-30\nwarmup_years = 1\n'
                 'replicates = 2\n')
    return p


def test_run_writes_report_tables_and_summary(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(short_scenario(tmp_path)), "--seed", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "coa_occupancy_peak" in r.output and "report.html" in r.output
    html = (out / "report.html").read_text()
    for p in ("P1", "P2", "P3", "P4", "P5", "P6", "Assumptions", "seed 5"):
        assert p in html
    # the scenario as run: the seed given on the command line, not the file's (none: the preset's 20250101)
    assert "seed = 5" in html and "seed = 20250101" not in html
    assert "<code>simulation.seed</code></td><td><b>5</b>" in html
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing fetched: plotly.js is embedded
    assert "Plotly.newPlot" in html
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 5 and meta["replicates"] == 2
    k = pd.read_parquet(out / "kpis.parquet")
    assert set(k.replicate) == {0, 1}
    # the first replicate's permit holders placed per half-year of the reported period (P3.7, P6.2)
    pl = pd.read_parquet(out / "placement_by_period.parquet")
    assert list(pl.period) == ["2025-H1", "2025-H2", "2026-H1"]
    assert (pl.expected_employed_optimal >= pl.expected_employed_status_quo).all()
    assert "matching each half-year" in html
    # views per chain partner and per municipality (P0.6), shortage probability (P0.5)
    for partner in ("IND (decisions)", "COA (reception)", "DT&amp;V (return)", "Municipalities (housing)"):
        assert partner in html
    assert "Probability of a bed shortage" in html
    assert "Dutch fair share" in html and "Netherlands" in html  # P2: hosting indicators and the Pact key
    muni = pd.read_parquet(out / "placement_by_municipality.parquet")
    assert len(muni) == 342 and muni.persons_optimal.sum() == pl.persons_placed_optimal.sum()
    assert not list(out.glob(".*.tmp"))


def test_validate_show_list(tmp_path):
    r = runner.invoke(app, ["validate", str(short_scenario(tmp_path))])
    assert r.exit_code == 0 and "valid" in r.output
    r = runner.invoke(app, ["scenario", "show", "nl_baseline"])
    assert r.exit_code == 0 and "[decision_capacity]" in r.output and "[levers]" in r.output
    r = runner.invoke(app, ["scenario", "list"])
    assert "nl_history" in r.output
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    r = runner.invoke(app, ["validate", str(empty)])  # as run and compare say: the file sets nothing
    assert r.exit_code == 0 and r.output.count("the file sets nothing") == 1, r.output
    bom = tmp_path / "bom.toml"  # UTF-8 as some Windows editors save it, with a byte-order mark
    bom.write_bytes(b"\xef\xbb\xbf" + short_scenario(tmp_path).read_bytes())
    r = runner.invoke(app, ["validate", str(bom)])
    assert r.exit_code == 0 and "valid: scenario 'short'" in r.output, r.output


def test_bad_scenario_exit_code_and_message(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[levers]\ntriagee = true\n")
    r = runner.invoke(app, ["validate", str(p)])
    assert r.exit_code == 2
    assert "triagee" in r.output and "did you mean" in r.output


def test_backtest_refuses_facts_outside_the_period_before_simulating(tmp_path):
    r = runner.invoke(app, ["backtest", "--scenario", str(short_scenario(tmp_path)), "--out", str(tmp_path / "bt")])
    assert r.exit_code == 2, r.output
    assert "none of the 36 facts (2014 to 2019-11-11) lies in the period scenario 'short' reports" in r.output
    assert not (tmp_path / "bt").exists()


def test_backtest_command(tmp_path):
    facts = tmp_path / "facts.csv"
    facts.write_text("date,quantity,value\n2014,coa_occupancy,24929\n2014,unknown_thing,1\n")
    sc = tmp_path / "h.toml"
    sc.write_text('base = "nl_history"\n[simulation]\nend = 2014-12-31\nreplicates = 2\n')
    r = runner.invoke(app, ["backtest", "--facts", str(facts), "--scenario", str(sc), "--out", str(tmp_path / "bt")])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "bt" / "backtest.csv")
    assert list(t.columns) == ["date", "quantity", "observed", "simulated", "p10", "p90", "error_pct", "error_abs"]
    assert len(t) == 1 and "unknown_thing" in r.output
    assert "observed value is 0" not in r.output
    # the shipped parameter sets carry the model error: the band says what it holds (docs/backtest.md)
    flat = re.sub(r"\s+", " ", r.output)
    assert "band of coa_occupancy: simulation noise + parameter sets + model error" in flat
    s = pd.read_csv(tmp_path / "bt" / "backtest_summary.csv")
    assert s.band.tolist() == ["simulation noise + parameter sets + model error"]


def test_backtest_command_names_rows_left_out_of_the_mdape(tmp_path):
    facts = tmp_path / "facts.csv"
    facts.write_text("date,quantity,value\n2014,coa_occupancy,24929\n2014-06-30,coa_occupancy,0\n"
                     "2014-06,departures_forced,0\n")
    sc = tmp_path / "h.toml"
    sc.write_text('base = "nl_history"\n[simulation]\nend = 2014-12-31\nreplicates = 2\n')
    r = runner.invoke(app, ["backtest", "--facts", str(facts), "--scenario", str(sc), "--out", str(tmp_path / "bt")])
    assert r.exit_code == 0, r.output
    out = r.output.replace("\n", " ")
    assert "2 row(s) left out of the median abs. % error because the observed value is 0" in out
    assert "coa_occupancy 1" in out and "departures_forced 1" in out and "n/a" in out and "nan" not in out
    t = pd.read_csv(tmp_path / "bt" / "backtest.csv")
    assert t.error_pct.isna().tolist() == [False, True, True]
    assert (t.error_abs - (t.simulated - t.observed)).abs().max() <= 0.1
    s = pd.read_csv(tmp_path / "bt" / "backtest_summary.csv").set_index("quantity")
    assert s.loc["coa_occupancy", "rows"] == 2 and s.loc["coa_occupancy", "mdape_excluded"] == 1
    assert s.loc["coa_occupancy", "mdape_pct"] == abs(t.error_pct[0])
    flat = re.sub(r"[\s│┃]+", " ", r.output)  # as printed, whatever the width of the console
    assert "80% band (p10-p90) covers" in flat and "bias" in flat
    assert {"mdae", "bias_pct", "coverage_80"} <= set(s.columns)
    assert "plotly" in (tmp_path / "bt" / "backtest.html").read_text(encoding="utf-8").lower()


def test_compare_runs_scenarios_side_by_side(tmp_path):
    a = short_scenario(tmp_path)
    b = tmp_path / "more_ind.toml"
    b.write_text('base = "nl_baseline"\nname = "more_ind"\n[simulation]\nend = 2026-06-30\nwarmup_years = 1\n'
                 '[[decision_capacity.total]]\nstart = 2025-01-01\nvalue = 1300\n')
    out = tmp_path / "cmp"
    r = runner.invoke(app, ["compare", str(a), str(b), "--seed", "3", "--replicates", "2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out / "compare_kpis.csv").set_index(["scenario", "kpi"])
    assert (t.loc["short"].diff_mean == 0).all()  # the reference against itself
    assert t.loc[("more_ind", "decision_time_general_weeks"), "diff_mean"] < 0
    assert t.loc[("more_ind", "ind_pending_end"), "diff_mean"] < 0
    html = (out / "compare.html").read_text()
    assert "more_ind" in html and "Plotly.newPlot" in html and "common random numbers" in html
    # the terminal shows the paired differences of the main figures, as in the table
    from ketenplan._cli import fmt_number

    assert "more_ind minus short (paired over 2 replicates)" in r.output
    for k in ("decision_time_general_weeks", "coa_occupancy_peak"):
        row = t.loc[("more_ind", k)]
        assert fmt_number(row.diff_mean) in r.output and fmt_number(row.diff_p10) in r.output, (k, r.output)


def test_compare_prints_no_stray_blank_lines(tmp_path):
    a = short_scenario(tmp_path)
    b = tmp_path / "other.toml"
    b.write_text(a.read_text().replace('name = "short"', 'name = "other"'))
    r = runner.invoke(app, ["compare", str(a), str(b), "-n", "1", "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "comparison of short, other" in r.output
    assert not any(x == y == "" for x, y in zip(lines, lines[1:])), repr(r.output)


def test_compare_needs_distinct_names(tmp_path):
    a = short_scenario(tmp_path)
    r = runner.invoke(app, ["compare", str(a), str(a), "--replicates", "1", "--out", str(tmp_path / "c")])
    assert r.exit_code == 2
    assert "names must differ" in r.output
    assert not (tmp_path / "c" / "compare.html").exists()


def test_bad_output_places_and_options_fail_before_or_without_writing(tmp_path):
    sc = short_scenario(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    twin = tmp_path / "twin.toml"
    twin.write_text(sc.read_text().replace('name = "short"', 'name = "twin"'))
    for args in (["run", str(sc), "--out", str(afile)],
                 ["compare", str(sc), str(twin), "--out", str(afile)],
                 ["backtest", "--out", str(afile)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "is a file" in r.output.replace("\n", " "), (args, r.output)
    r = runner.invoke(app, ["run", str(sc), "--seed", "-1", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    r = runner.invoke(app, ["run", str(sc), "--journeys", "some", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "'first', 'all' or 'none'" in r.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    # a folder in the way of report.html: nothing of this run is moved in
    out = tmp_path / "blocked"
    (out / "report.html").mkdir(parents=True)
    r = runner.invoke(app, ["run", str(sc), "--out", str(out), "--no-placement", "-n", "1"])
    assert r.exit_code == 2 and "nothing was changed" in r.output.replace("\n", " ")
    # no output of this run is moved in; the replicates it simulated are kept for the next attempt
    assert sorted(p.name for p in out.iterdir()) == ["replicates", "report.html"]
    assert "replicates are kept" in r.output.replace("\n", " ")


def test_rerun_into_the_same_folder_leaves_no_stale_files(tmp_path):
    sc = short_scenario(tmp_path)
    out = tmp_path / "o"
    assert runner.invoke(app, ["run", str(sc), "--out", str(out), "-n", "1"]).exit_code == 0
    assert (out / "placement_by_period.parquet").exists()
    assert runner.invoke(app, ["run", str(sc), "--out", str(out), "-n", "1", "--no-placement"]).exit_code == 0
    assert not (out / "placement_by_period.parquet").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_backtest_and_compare_refuse_what_cannot_be_compared(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    r = runner.invoke(app, ["backtest", "--facts", str(empty), "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "the file is empty" in r.output
    later = tmp_path / "later.csv"
    later.write_text("date,quantity,value\n2030,coa_occupancy,30000\n")
    r = runner.invoke(app, ["backtest", "--facts", str(later), "--scenario", str(short_scenario(tmp_path)),
                            "-n", "1", "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "the fact (2030) does not lie in the period" in r.output.replace("\n", " ")
    assert not (tmp_path / "b" / "backtest.csv").exists()
    other = tmp_path / "longer.toml"
    other.write_text('base = "nl_baseline"\nname = "longer"\n[simulation]\nend = 2027-06-30\nwarmup_years = 1\n')
    r = runner.invoke(app, ["compare", str(short_scenario(tmp_path)), str(other), "-n", "1",
                            "--out", str(tmp_path / "c")])
    assert r.exit_code == 2 and "must cover the same period" in r.output.replace("\n", " ")
