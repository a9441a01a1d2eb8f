"""ketenplan border: outputs, options, errors, terminal width."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketenplan.border import WAIT_COLUMNS


def _app():
    from ketenplan.cli import app

    return app


def _run(*args):
    return CliRunner().invoke(_app(), ["border", *args], env={"COLUMNS": "80"})


def test_default_day_outputs(tmp_path):
    res = _run("--replications", "10", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    waits = pd.read_csv(tmp_path / "border_waits.csv")
    assert tuple(waits.columns) == WAIT_COLUMNS and len(waits) == 24
    staff = pd.read_csv(tmp_path / "border_staffing.csv")
    assert (staff.desk_p90_wait_min <= 15.0).all() and staff.desks_needed.max() > 30
    pools = pd.read_csv(tmp_path / "border_pools.csv")
    assert set(pools.pool) == {"desks", "egates"}
    assert "<script" in (tmp_path / "border_waits.html").read_text()
    # the terminal table: no line wider than 80 columns, every number of the CSV printed whole
    lines = res.output.splitlines()
    table = [x for x in lines if x[:1] in "┏┃┡│└"]
    assert len(table) == 28 and max(len(x) for x in table) <= 80
    rows = [x for x in lines if x.startswith("│")]
    assert len(rows) == 24
    for row, w, need in zip(rows, waits.itertuples(), staff.desks_needed):
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells == [str(w.hour), f"{w.arrivals:.0f}", str(w.desks), str(w.egates), f"{w.p50_wait_min:.2f}",
                         f"{w.p90_wait_min:.2f}", f"{w.utilisation:.3f}", str(need)]


def test_profile_csv_with_roster_and_target(tmp_path):
    prof = pd.DataFrame({"hour": range(24), "arrivals": [600.0] * 24, "desks": [8] * 12 + [12] * 12,
                         "egates": [0] * 24})
    prof.sample(frac=1, random_state=1).to_csv(tmp_path / "p.csv", index=False)  # any row order
    res = _run("--profile", str(tmp_path / "p.csv"), "--replications", "5", "--target-p90-min", "5",
               "--out", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    w = pd.read_csv(tmp_path / "o" / "border_waits.csv")
    assert w.desks.tolist() == [8] * 12 + [12] * 12 and (w.egates == 0).all()
    assert (pd.read_csv(tmp_path / "o" / "border_staffing.csv").target_p90_min == 5).all()
    res = _run("--profile", str(tmp_path / "p.csv"), "--desks", "20", "--replications", "2",
               "--out", str(tmp_path / "o2"))
    assert res.exit_code == 0 and (pd.read_csv(tmp_path / "o2" / "border_waits.csv").desks == 20).all()


@pytest.mark.parametrize("args, needle", [
    (["--arrivals-per-hour", "1e12"], "--arrivals-per-hour 1e+12"),
    (["--arrivals-per-hour", "-5"], "--arrivals-per-hour -5"),
    (["--arrivals-per-hour", "100", "--profile", "flat"], "give one of the two"),
    (["--desks", "-1"], "--desks -1"),
    (["--service-seconds", "0"], "--service-seconds 0"),
    (["--ees-rollout", "1.5"], "--ees-rollout 1.5"),
    (["--ees-share", "2"], "--ees-share 2"),
    (["--target-p90-min", "0"], "--target-p90-min 0"),
    (["--replications", "0"], "--replications 0"),
    (["--replications", "100000"], "limit"),
    (["--desks", "0"], "desks in hour 0"),
    (["--profile", "nope.csv"], "nope.csv: file not found"),
    (["--profile", "."], "is a folder; expected a CSV file with columns hour,arrivals[,desks,egates] or a built-in"),
    (["--seed", "-1"], "--seed"),
])
def test_errors_one_line_nothing_written(tmp_path, args, needle):
    out = tmp_path / "out"
    res = _run(*args, "--out", str(out))
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())


def test_bad_profile_rows(tmp_path):
    good = pd.DataFrame({"hour": range(24), "arrivals": [100.0] * 24})
    cases = {
        "missing_hour.csv": (good.iloc[:23], "hours missing: [23]; expected all 24 hours 0..23, each once, found '23 hours'"),
        "bad_arrivals.csv": (good.assign(arrivals=["x"] + [1.0] * 23), "row 2, column 'arrivals'"),
        "dup.csv": (pd.concat([good.iloc[:23], good.iloc[[0]]]), "hour given twice"),
        "bad_desks.csv": (good.assign(desks=[1.5] * 24), "column 'desks'"),
        "no_arrivals.csv": (good[["hour"]], "column 'arrivals'"),
    }
    for name, (df, needle) in cases.items():
        df.to_csv(tmp_path / name, index=False)
        res = _run("--profile", str(tmp_path / name), "--out", str(tmp_path / "o"))
        assert res.exit_code == 2 and needle in res.output, (name, res.output)
    assert not (tmp_path / "o" / "border_waits.csv").exists()


def test_failed_rerun_keeps_previous_outputs(tmp_path):
    assert _run("--replications", "2", "--out", str(tmp_path)).exit_code == 0
    before = (tmp_path / "border_waits.csv").read_text()
    assert _run("--replications", "2", "--desks", "0", "--out", str(tmp_path)).exit_code == 2
    assert (tmp_path / "border_waits.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["border_pools.csv", "border_staffing.csv",
                                                          "border_waits.csv", "border_waits.html"]
