import json

import typer
from typer.testing import CliRunner

from ketenplan.forecast.cli import register


def _app():
    try:
        from ketenplan.cli import app
        return app
    except ImportError:  # another module's commands not present yet
        app = typer.Typer()
        register(app)
        return app


def test_cli_forecast(tmp_path):
    res = CliRunner().invoke(_app(), ["forecast", "--country", "NL", "--horizon", "12", "--paths", "50",
                                      "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    for f in ("forecast.csv", "paths.csv", "forecast.html", "forecast.json"):
        assert (tmp_path / f).exists()
    assert json.loads((tmp_path / "forecast.json").read_text())["origin"] == "2024-12"
    assert "<script" in (tmp_path / "forecast.html").read_text()


def test_cli_forecast_bad_country(tmp_path):
    res = CliRunner().invoke(_app(), ["forecast", "--country", "XX", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "unknown country" in res.output


def test_cli_backtest_small(tmp_path):
    res = CliRunner().invoke(_app(), ["forecast-backtest", "--countries", "NL,BE", "--horizons", "1,6",
                                      "--jobs", "1", "--no-nl-table", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "backtest.html").exists() and (tmp_path / "backtest_metrics.csv").exists()
    import pandas as pd

    tot = pd.read_csv(tmp_path / "backtest_totals.csv")
    assert set(tot["paths"]) == {"uncalibrated", "reconciled"} and set(tot["geo"]) == {"all", "NL", "BE"}
    assert set(tot["h"]) == {6, 12, 24}
    assert "h-month totals" in (tmp_path / "backtest.html").read_text()
    bad = CliRunner().invoke(_app(), ["forecast-backtest", "--horizons", "a,b", "--out", str(tmp_path)])
    assert bad.exit_code == 2


def test_cli_backtest_bad_countries_and_jobs(tmp_path):
    for args, needle in ((["--countries", ""], "--countries"), (["--countries", " , "], "--countries"),
                         (["--jobs", "0"], "--jobs 0"), (["--jobs", "-1"], "--jobs -1"),
                         (["--countries", "NL,XX"], "'XX'")):
        res = CliRunner().invoke(_app(), ["forecast-backtest", *args, "--horizons", "1", "--no-nl-table",
                                          "--out", str(tmp_path)])
        assert res.exit_code == 2, (args, res.output)
        assert needle in res.output and "Traceback" not in res.output


def test_backtest_duplicate_countries_scored_once():
    import pandas as pd
    import pytest

    from ketenplan.errors import DataError
    from ketenplan.forecast.backtest import run_backtest

    res = run_backtest(["NL", "nl", "DE", "NL"], horizons=(1,), models=("combo",), n_jobs=1)
    assert res.settings["countries"] == ["NL", "DE"]
    fc = res.forecasts
    assert not fc.duplicated(["model", "geo", "origin", "h"]).any()
    one = run_backtest(["NL", "DE"], horizons=(1,), models=("combo",), n_jobs=1)
    pd.testing.assert_frame_equal(res.metrics, one.metrics)
    with pytest.raises(DataError, match="at least one"):
        run_backtest([], horizons=(1,), n_jobs=1)
    for bad in (0, -1):
        with pytest.raises(DataError, match="n_jobs"):
            run_backtest(["NL"], horizons=(1,), n_jobs=bad)


def test_cli_forecast_horizon_text_and_limit(tmp_path):
    import pandas as pd

    res = CliRunner().invoke(_app(), ["forecast", "--horizon", "6", "--paths", "20", "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "next 6 months" in res.output and "12 months" not in res.output
    res = CliRunner().invoke(_app(), ["forecast", "--horizon", "30", "--paths", "20", "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert "next 12 months" in res.output and "all 30 months" in res.output and "extrapolated" in res.output
    t = pd.read_csv(tmp_path / "b" / "forecast.csv")
    assert list(t["interval_basis"]) == ["backtest"] * 24 + ["extrapolated"] * 6
    for h in ("0", "61", "600"):
        bad = CliRunner().invoke(_app(), ["forecast", "--horizon", h, "--out", str(tmp_path / "c")])
        assert bad.exit_code == 2 and "--horizon" in bad.output and "1..60" in bad.output, bad.output


def test_cli_forecast_names_the_option_and_warns_on_few_paths(tmp_path):
    bad = CliRunner().invoke(_app(), ["forecast", "--country", "XX", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--country 'XX'" in bad.output
    few = CliRunner().invoke(_app(), ["forecast", "--country", "UK", "--paths", "3", "--horizon", "6",
                                      "--out", str(tmp_path)])
    assert few.exit_code == 0, few.output
    assert "only 3 sample paths" in few.output and "data of UK end in 2019-12" in few.output
