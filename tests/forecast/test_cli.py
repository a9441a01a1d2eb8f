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
    bad = CliRunner().invoke(_app(), ["forecast-backtest", "--horizons", "a,b", "--out", str(tmp_path)])
    assert bad.exit_code == 2
