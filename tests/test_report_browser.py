"""The report in a real browser: headless Chromium runs the embedded plotly.js and draws every
figure, with no JavaScript error. Needs Debian's ``chromium`` (``.ci/run`` installs it and sets
KETENPLAN_REQUIRE_BROWSER=1, which turns a missing browser into a failure instead of a skip)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from ketenplan.cli import app

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("KETENPLAN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"no browser found (looked for {', '.join(BROWSERS)}) but KETENPLAN_REQUIRE_BROWSER=1")
    pytest.skip("no Chromium on this machine; install Debian's 'chromium' to run the browser test")


def render(page, tmp_path) -> tuple[str, str]:
    """The DOM after the page's scripts ran, and the browser's console log."""
    proc = subprocess.run([_browser(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = "\n".join(line for line in proc.stderr.splitlines() if ":CONSOLE" in line)
    return proc.stdout, console


@pytest.mark.parametrize("command", ["run", "compare", "forecast-backtest"])
def test_reports_draw_every_figure_in_a_real_browser(tmp_path, command):
    sc = tmp_path / "short.toml"
    sc.write_text('base = "nl_baseline"\nname = "short"\n[simulation]\nend = 2026-06-30\nwarmup_years = 1\n'
                  'replicates = 2\n')
    out = tmp_path / "out"
    if command == "run":
        args, page = ["run", str(sc), "--out", str(out)], out / "report.html"
    elif command == "forecast-backtest":
        args = ["forecast-backtest", "--countries", "NL,DE", "--horizons", "6,12", "--jobs", "1", "--out", str(out)]
        page = out / "backtest.html"
    else:
        other = tmp_path / "other.toml"
        other.write_text(sc.read_text().replace('name = "short"', 'name = "other"') +
                         '[[inflow.shocks]]\nkind = "surge"\nonset = 2025-09-01\n')
        args, page = ["compare", str(sc), str(other), "--out", str(out)], out / "compare.html"
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    source = page.read_text()
    n_figures = len(re.findall(r'class="plotly-graph-div"', source))
    assert n_figures >= {"run": 12, "compare": 5, "forecast-backtest": 3}[command]
    dom, console = render(page, tmp_path)
    # plotly.js marks a div it has drawn with js-plotly-plot and fills it with its SVG layers
    assert len(re.findall(r'class="plotly-graph-div js-plotly-plot"', dom)) == n_figures
    assert len(re.findall(r'class="main-svg"', dom)) >= 2 * n_figures
    assert "Uncaught" not in console and "Error" not in console, console
    if command == "run":  # the run starts from today: the starting point beside the published figure
        start = dom[dom.index('id="starting-point"'):]
        start = re.sub(r"<[^>]+>", " ", start[:start.index("</table>")])
        assert "43,201" in start and "corrected" in start and "UNHCR" in start


def test_plan_page_draws_summary_capacity_lines_and_pareto_chart(tmp_path):
    """plan-capacity's page (P3.5): the one-screen summary, every figure drawn, the capacity lines in
    the beds charts and the Pareto chart, with no JavaScript error."""
    sc = tmp_path / "short.toml"
    sc.write_text('base = "nl_baseline"\nname = "short"\n[simulation]\nend = 2025-12-31\nwarmup_years = 1\n'
                  '[[inflow.shocks]]\nkind = "surge"\nonset = 2025-02-01\n')
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["plan-capacity", str(sc), "--runs", "2", "--backend", "serial", "--out", str(out)])
    assert r.exit_code == 0, r.output
    page = out / "plan.html"
    source = page.read_text()
    n_figures = len(re.findall(r'class="plotly-graph-div"', source))
    assert n_figures == 1 + 3 + 1 + 3  # Pareto, beds per policy, total cost, cost items per policy
    dom, console = render(page, tmp_path)
    assert len(re.findall(r'class="plotly-graph-div js-plotly-plot"', dom)) == n_figures
    assert len(re.findall(r'class="main-svg"', dom)) >= 2 * n_figures
    assert "Uncaught" not in console and "Error" not in console, console
    # the summary comes first and holds the beds at 90% assurance, the risk, the cost and the bottleneck
    summary = dom[dom.index('id="summary"'):dom.index('id="policies"')]
    for text in ("beds needed at 90% assurance", "probability of any shortage", "cost per year", "binding bottleneck"):
        assert text in summary, text
    # plotly drew the legends: the capacity line of each policy's beds chart and the Pareto markers
    legends = re.findall(r'class="legendtext"[^>]*>([^<]*)<', dom)
    assert legends.count("capacity (regular + small-scale places)") == 3
    assert "Pareto front" in legends and any(t.endswith("(non-dominated)") for t in legends)
    pareto = dom[dom.index('id="fig0"'):dom.index('id="fig1"')]
    assert len(re.findall(r'class="point"', pareto)) >= 3  # one marker per policy
