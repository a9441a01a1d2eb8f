"""Tables at 80 columns (P0.4): no number is ever cut, in the printer itself and in the commands as a new
user sees them in a default terminal (a pseudo-terminal of 80 columns, Rich detecting it as one)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from ketenplan._cli import Col, fmt_number, print_table

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]")


def tokens(text: str) -> list[str]:
    return [t for t in NUMBER.findall(text) if not t.endswith(",")]


def value(token: str) -> float:
    return float(token.replace(",", ""))


def decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def missing_numbers(text: str, expected, places: int | None = None) -> list[float]:
    """The expected values that no printed number stands for (each printed number used once).

    With ``places`` (the decimals a column is documented to show) a printed number stands for ``v``
    when it is ``v`` rounded to ``places``. Without, when it is ``v`` rounded to the decimals printed
    and keeps three significant digits of it. Either way a number cut short ('29,231…' for
    29,231,697) or folded over two lines ('29,23' and '1,697') matches nothing.
    """
    pool = sorted(tokens(text), key=lambda t: -decimals(t))
    left = []
    for v in (float(x) for x in expected):
        if v != v:
            continue
        for k, t in enumerate(pool):
            tv, d = value(t), decimals(t)
            if places is not None:
                ok = d == places and abs(tv - round(v, places)) <= 1e-9 * max(1.0, abs(v))
            else:
                ok = abs(tv - v) <= 0.5 * 10.0 ** -d + 1e-9 * max(1.0, abs(v)) and \
                    (abs(v) < 0.01 or abs(tv - v) <= 0.005 * abs(v) + 1e-12)
            if ok:
                del pool[k]
                break
        else:
            left.append(v)
    return left


# ----------------------------------------------------------------------------------------------
# the printer
# ----------------------------------------------------------------------------------------------
def _render(width: int, title: str, cols, rows, **kw) -> str:
    c = Console(width=width, record=True, force_terminal=False, color_system=None, file=open(os.devnull, "w"))
    print_table(title, cols, rows, console_=c, **kw)
    return c.export_text()


labels = st.text(st.sampled_from("abcdefghij klmnop_qrs-tuv"), min_size=1, max_size=40)
numbers = st.one_of(st.floats(-1e12, 1e12, allow_nan=False), st.integers(-10**12, 10**12), st.just(float("nan")))


@settings(max_examples=150, deadline=None)
@given(width=st.integers(30, 200), n_label=st.integers(1, 3), n_num=st.integers(1, 9),
       rows=st.lists(st.tuples(labels, labels, labels, st.lists(numbers, min_size=9, max_size=9)), min_size=1,
                     max_size=8), headers=st.lists(labels, min_size=12, max_size=12))
def test_printer_never_cuts_a_number(width, n_label, n_num, rows, headers):
    cols = [Col(headers[k], key=k == 0) for k in range(n_label)] + \
           [Col(headers[3 + k], number=True) for k in range(n_num)]
    cells = [[*r[:n_label], *(fmt_number(v) for v in r[3][:n_num])] for r in rows]
    out = _render(width, "a title", cols, cells)
    assert "…" not in out
    lines = out.splitlines()
    for r in cells:
        for num in r[n_label:]:
            assert any(num in ln for ln in lines), (num, out)   # whole, on one line
    # tables fit the width; the long form may run over only where one value alone is wider
    boxed = [ln for ln in lines if ln[:1] in "┏┃┡│└"]
    assert all(len(ln) <= width for ln in boxed), out


def test_printer_layouts():
    cols = [Col("state", key=True), Col("population", number=True), Col("GDP [EUR million]", number=True),
            Col("share %", number=True)]
    rows = [("NLD Netherlands", "16,829,289", "662,770", "6.012"), ("DEU Germany", "80,767,463", "2,915,650", "26.305")]
    wide = _render(120, "key", cols, rows)
    assert wide.count("┏") == 1 and "NLD Netherlands" in wide
    split = _render(36, "key", cols, rows)
    assert split.count("┏") >= 2 and "(1 of" in split and split.count("DEU Germany") >= 2
    long = _render(36, "key", cols, rows, max_parts=1)
    assert "┏" not in long and "  GDP [EUR million]  2,915,650" in long


@pytest.mark.parametrize("v,text", [(None, "n/a"), (float("nan"), "n/a"), (1234567.891, "1,234,568"),
                                    (123.456, "123.5"), (1.23456, "1.23"), (0.0012345, "0.00123"), (0.0, "0"),
                                    (-4.5e12, "-4,500,000,000,000"), (3, "3")])
def test_fmt_number(v, text):
    assert fmt_number(v) == text
    assert "e" not in fmt_number(v).lower() or text == "n/a"


# ----------------------------------------------------------------------------------------------
# the commands in an 80-column pseudo-terminal
# ----------------------------------------------------------------------------------------------
def in_terminal(args: list[str], cwd, cols: int = 80, timeout: float = 300.0) -> str:
    """Run ``ketenplan ARGS`` attached to a pseudo-terminal of ``cols`` columns; the screen text."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES")}
    env.update(COLUMNS=str(cols), LINES="50", TERM="xterm-256color")
    p = subprocess.Popen([sys.executable, "-c", "from ketenplan.cli import main; main()", *args], cwd=cwd,
                         stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks, end = [], time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif p.poll() is not None:
                break
    finally:
        os.close(master)
        p.wait(timeout=30)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n").replace("\r", "")
    assert p.returncode == 0, text
    return text


def _boxes_fit(text: str, cols: int = 80) -> None:
    boxed = [ln for ln in text.splitlines() if ln[:1] in "┏┃┡│└"]
    assert boxed and all(len(ln) <= cols for ln in boxed), text
    assert "…" not in text, text


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A results store with two short runs (seeds 1 and 2)."""
    from typer.testing import CliRunner

    from ketenplan.cli import app

    d = tmp_path_factory.mktemp("store80")
    for name, seed in (("short_one", 1), ("a_much_longer_scenario_name_of_a_variant", 2)):
        sc = d / f"{name}.toml"
        sc.write_text(f'base = "nl_baseline"\nname = "{name}"\n[simulation]\nend = 2025-06-30\nwarmup_years = 0\n'
                      'replicates = 2\n')
        r = CliRunner().invoke(app, ["run", str(sc), "--seed", str(seed), "--no-placement", "--out", str(d / name),
                                     "--store", str(d / "runs.duckdb")])
        assert r.exit_code == 0, r.output
    return d / "runs.duckdb"


def test_store_kpis_and_list_at_80_columns(store, tmp_path):
    from ketenplan.ensemble.store import ResultStore

    k = ResultStore(store).query("SELECT run_id, kpi, avg(value) AS mean FROM kpis GROUP BY ALL")
    text = in_terminal(["store", "kpis", str(store)], tmp_path)
    _boxes_fit(text)
    assert not missing_numbers(text, k["mean"].tolist()), text
    for kpi in k.kpi.unique():  # labels may wrap, but every letter is there
        assert kpi in re.sub(r"\s*│\s*", "", text.replace("\n", "")) or kpi in text
    runs = ResultStore(store).runs()
    text = in_terminal(["store", "list", str(store)], tmp_path)
    assert "…" not in text
    for r in runs.itertuples():
        assert r.run_id in text and r.scenario in text
    assert not missing_numbers(text, [float(s) for s in runs.seed])


def test_run_and_compare_at_80_columns(store, tmp_path):
    """`run` and `compare` print key figures (labels wrap) without cutting a number."""
    import pandas as pd

    d = store.parent
    a, b = d / "short_one.toml", d / "a_much_longer_scenario_name_of_a_variant.toml"
    text = in_terminal(["run", str(a), "--seed", "1", "--no-placement", "-n", "2", "--out", "r"], tmp_path)
    _boxes_fit(text)
    k = pd.read_parquet(tmp_path / "r" / "kpis.parquet")
    means = k[k.kpi == "coa_occupancy_peak"].value.mean()
    assert not missing_numbers(text, [means]), text
    text = in_terminal(["compare", str(a), str(b), "-n", "2", "--out", "c"], tmp_path)
    _boxes_fit(text)
    t = pd.read_csv(tmp_path / "c" / "compare_kpis.csv")
    diffs = t[(t.scenario == b.stem) & t.kpi.isin(["coa_occupancy_peak", "decision_time_general_weeks"])]
    assert not missing_numbers(text, diffs.diff_mean.tolist()), text


def test_solidarity_at_80_columns(tmp_path):
    from ketenplan.solidarity import distribution_key, host_indicators
    from ketenplan.solidarity.simulate import simulate

    text = in_terminal(["solidarity", "key", "--scheme", "pact-2024", "--year", "2023", "--out", "o"], tmp_path)
    _boxes_fit(text)
    k = distribution_key("pact-2024", 2023)
    assert not missing_numbers(text, [*k.population, *(k.gdp_usd / 1e6), *k.past_applications_per_million],
                               places=0), text
    assert not missing_numbers(text, k.unemployment_rate, places=1), text
    assert not missing_numbers(text, 100 * k.share, places=3), text
    assert "e+" not in text
    for name in k["name"]:
        assert name in text  # state names are not wrapped at 80 columns

    text = in_terminal(["solidarity", "simulate", "--scheme", "pact-2024", "--out", "o"], tmp_path)
    _boxes_fit(text)
    f = simulate("pact-2024", "2015-2024")
    f = f[f.iso3 == "NLD"]
    expected = [*f.applications, *f.reference_number, *f.actual_share_pct, *f.relocations_in,
                *f.relocations_out, *f.contribution_eur]
    assert not missing_numbers(text, expected, places=0), text
    assert not missing_numbers(text, 100 * f.key, places=2), text

    text = in_terminal(["solidarity", "indicators", "--year", "2023", "--top", "10", "--out", "o"], tmp_path)
    _boxes_fit(text)
    ind = host_indicators(2023).head(10)
    assert "nan" not in text.lower().replace("financ", "")
    assert ("n/a" in text) == bool(ind[["per_usd_gdp_pc_ppp", "per_usd_million_gdp_ppp"]].isna().any().any())
    assert not missing_numbers(text, ind.hosted, places=0), text
    assert not missing_numbers(text, ind.per_1000_inhabitants, places=1), text

    text = in_terminal(["solidarity", "allocate", "--total", "160000", "--out", "o"], tmp_path)
    _boxes_fit(text)
    assert "160,000" in text


def test_placement_at_80_columns(tmp_path):
    import pandas as pd

    text = in_terminal(["place", "--example", "--out", "pl"], tmp_path)
    _boxes_fit(text)
    assert "Running HiGHS" not in text and "Copyright" not in text  # the solver's banner is not shown
    s = pd.read_csv(tmp_path / "pl" / "summary.csv")
    assert not missing_numbers(text, s.objective, places=4), text
    assert not missing_numbers(text, [*s.cases_placed, *s.persons_placed], places=0), text
    text = in_terminal(["taakstelling", "--period", "2026-H1", "--total", "20000", "--out", "tk"], tmp_path)
    _boxes_fit(text)
    p = pd.read_csv(tmp_path / "tk" / "taakstelling_2026-H1_by_province.csv")
    assert not missing_numbers(text, [*p.population, *p.quota, *p.task], places=0), text
    assert np.isclose(p.quota.sum(), 20000)
