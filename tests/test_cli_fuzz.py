"""Every command of the command line, driven with random and extreme options and malformed files (P0.4).

The commands are found by walking the Typer app, so a command added later is covered without a change
here. Each invocation must end with exit code 0, or with exit code 2 and one 'error:' line (or the
usage error of the command-line parser); never with a traceback, and a failed command leaves no
output folder or file behind.

Quick by default (a few examples per command; commands that simulate or fit get tiny scenarios and
small sizes); ``test_every_command_survives_bad_input_many`` (marked slow) draws many more.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ketenplan.cli import app

runner = CliRunner(env={"COLUMNS": "80"})

# commands that simulate or fit models: tiny inputs and few examples
SLOW = {"run", "compare", "backtest", "forecast", "forecast-backtest", "plan-capacity"}
# option values forced per command so that a quick run stays small. Absurd sizes of these options
# (replicates, sample paths, worker processes) are not drawn: an unchecked one allocates until the
# machine runs out of memory instead of failing fast.
SMALL_INT = ["1", "2", "0", "-1", "x", "1e15", ""]
FORCED: dict[tuple[str, str], list[str]] = {
    ("run", "--replicates"): SMALL_INT, ("compare", "--replicates"): SMALL_INT,
    ("backtest", "--replicates"): SMALL_INT, ("forecast", "--paths"): SMALL_INT,
    ("forecast-backtest", "--jobs"): ["1", "0", "-1", "x"],
    ("forecast-backtest", "--countries"): ["NL", "XX", "", "NL,XX", "nl"],
    ("forecast-backtest", "--horizons"): ["1", "0", "1,99", "x", "", "-3"],
    ("run", "--backend"): ["serial", "threads", "gpu", ""], ("compare", "--backend"): ["serial", "gpu", ""],
    ("plan-capacity", "--runs"): SMALL_INT, ("plan-capacity", "--backend"): ["serial", "threads", "gpu", ""],
}
# options every invocation of the command gets (so that none runs a full-size default)
ALWAYS = {"backtest": ["--scenario"], "forecast-backtest": ["--countries", "--horizons", "--jobs"],
          "forecast": ["--paths"], "run": ["--replicates"], "compare": ["--replicates"],
          "plan-capacity": ["--runs"]}
PRESETS = ["nl_baseline", "nl_history"]


def _commands():
    """(path, click command) of every leaf command of the app."""
    root = typer.main.get_command(app)

    def walk(c, path):
        subs = getattr(c, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, path + (name,))
        else:
            yield path, c

    return list(walk(root, ()))


COMMANDS = _commands()


# ----------------------------------------------------------------------------------------------
# malformed and valid input files
# ----------------------------------------------------------------------------------------------
VALID_CSV = {
    "cases": "case_id,persons,current_location\nc1,2,A\nc2,1,B\nc3,3,\n",
    "locations": "location_id,persons\nA,3\nB,3\n",
    "weights": "case_id,location_id,weight\nc1,A,0.5\nc1,B,0.2\nc2,A,0.1\nc2,B,0.4\nc3,A,0.3\n",
    "compat": "case_id,location_id,compatible\nc1,B,0\n",
    "backlog": "municipality,backlog\nAmsterdam,12\nEersel,-3\n",
    "facts": "date,quantity,value\n2014-03,coa_occupancy,24929\n",
}
TOMLS = {
    "tiny.toml": 'base = "nl_baseline"\nname = "tiny"\n[simulation]\nend = 2025-02-28\nwarmup_years = 0\n'
                 'replicates = 1\n',
    "tiny_b.toml": 'base = "nl_baseline"\nname = "tiny_b"\n[simulation]\nend = 2025-02-28\nwarmup_years = 0\n'
                   'replicates = 1\n',
    "tiny_history.toml": 'base = "nl_history"\nname = "tiny_history"\n[simulation]\nend = 2014-03-31\n'
                         'replicates = 1\n',
    "empty.toml": "",
    "bad_syntax.toml": "[simulation\nend = \n",
    "unknown_key.toml": "[levers]\ntriagee = true\n",
    "negative.toml": 'base = "nl_baseline"\n[simulation]\nreplicates = -5\n',
    "nan.toml": 'base = "nl_baseline"\n[simulation]\nreplicates = nan\n',
}


def _variants(text: str) -> dict[str, str]:
    """The valid table and its malformed twins: huge, negative, NaN and non-numeric values."""
    head, *rows = text.strip().split("\n")
    out = {"valid": text}
    for tag, repl in (("huge", "1e308"), ("hugeint", "9" * 40), ("negative", "-7"), ("nan", "NaN"),
                      ("text", "abc")):
        new = []
        for r in rows:
            cells = r.split(",")
            cells = [repl if c and (c.lstrip("-").replace(".", "").isdigit()) else c for c in cells]
            new.append(",".join(cells))
        out[tag] = "\n".join([head, *new]) + "\n"
    out["semicolon_nl"] = text.replace(",", ";").replace("0.", "0,")
    out["header_only"] = head + "\n"
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, list[str]]:
    """Paths of input files by kind ('csv', 'toml', 'store', 'any'), and a folder of them."""
    d = tmp_path_factory.mktemp("fuzz_inputs")
    csv = []
    for kind, text in VALID_CSV.items():
        for tag, body in _variants(text).items():
            p = d / f"{kind}_{tag}.csv"
            p.write_text(body, encoding="utf-8")
            csv.append(str(p))
    (d / "empty.csv").write_bytes(b"")
    (d / "binary.csv").write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 512, dtype=np.uint8)))
    (d / "workbook.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    (d / "wrong_columns.csv").write_text("a,b\n1,2\n")
    (d / "one_column.csv").write_text("municipality|backlog\nAmsterdam|1\n")
    (d / "latin1.csv").write_bytes("municipality;backlog\nSúdwest-Fryslân;3\n".encode("cp1252"))
    (d / "a_folder").mkdir()
    csv += [str(d / n) for n in ("empty.csv", "binary.csv", "workbook.xlsx", "wrong_columns.csv", "one_column.csv",
                                 "latin1.csv", "a_folder", "missing.csv")]
    toml = []
    for name, text in TOMLS.items():
        (d / name).write_text(text)
        toml.append(str(d / name))
    (d / "binary.toml").write_bytes(b"\x00\xff\xfe" * 50)
    toml += [str(d / "binary.toml"), str(d / "a_folder"), str(d / "missing.toml")]
    from ketenplan.ensemble.store import ResultStore

    ResultStore(d / "empty_store.duckdb").check(create=True)
    (d / "not_a_store.duckdb").write_text("not a database")
    store = [str(d / "empty_store.duckdb"), str(d / "not_a_store.duckdb"), str(d / "a_folder"), str(d / "tiny.toml")]
    return {"csv": csv, "toml": toml, "store": store, "any": csv + toml + store, "dir": [str(d)]}


# ----------------------------------------------------------------------------------------------
# invocations
# ----------------------------------------------------------------------------------------------
INTS = st.one_of(st.integers(-3, 40).map(str),
                 st.sampled_from(["0", "-1", str(10**15), str(-10**15), str(2**63), str(10**30), "1e15", "nan",
                                  "", "x", "2.5"]))
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["nan", "inf", "-inf", "1e308", "-0", "0", "0.5", "1", "x", ""]))
WORDS = ["", "NL", "NLD", "DEU,NLD", "NLD,NLD", "XXX", "nl", "2026-H1", "1989-H2", "2015-2024", "2024-2015", "2016",
         "1,3", "all", "latest", "2019-12", "2030-01", "13/2020", "relocation-2015", "pact-2024", "dublin-2016",
         "expected", "at-least-one", "first", "none", "2025", "2021", "largest-remainder", "per-state",
         "refugees", "may-2015", "sep-2015", "-1", "1e15", "nan", "x" * 300, "é", "../..", "a,b;c", "1-999999",
         "0-99999999", "9" * 30, "2015-" + "9" * 20]
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


def _junk(ann, name: str, cmd: str, files: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """Random and extreme values of the option's type, and files of every malformed kind."""
    if ann is int:
        return INTS
    if ann is float:
        return FLOATS
    if ann is Path:
        return st.sampled_from(files["any"])
    words = [w for w in WORDS if cmd not in SLOW or w not in PRESETS]
    return st.one_of(st.sampled_from(words), TEXT, st.sampled_from(files["any"]))


def _plausible(p, ann, name: str, cmd: str, files: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """Values a user would give: the default, small numbers, recent years, valid files."""
    default = [] if p.default is None or isinstance(p.default, (list, tuple)) else [str(p.default)]
    if ann is int:
        return st.sampled_from(default + ["1", "2", "5", "20", "2016", "2023"])
    if ann is float:
        return st.sampled_from(default + ["0.5", "1", "10"])
    if ann is Path:  # a well-formed file of the kind the option names (--cases: a cases table), else any
        good = [f for f in files["csv"] if "_valid" in f or "semicolon" in f]
        kind = [f for f in good if Path(f).name.split("_")[0] in name]
        return st.sampled_from(kind or good + files["store"][:1])
    return st.sampled_from(default + [w for w in WORDS[:36] if cmd not in SLOW or w not in PRESETS])


def _value(p, ann, name: str, cmd: str, files: dict[str, list[str]]) -> st.SearchStrategy[str]:
    forced = FORCED.get((cmd, name))
    if forced is not None:
        return st.sampled_from(forced)
    if name in ("scenario", "scenarios", "name", "--scenario"):
        pool = files["toml"] + ([] if cmd in SLOW else PRESETS) + ["", "no_such_preset"]
        return st.sampled_from(pool)
    if cmd.startswith("store") and name == "path":
        return st.sampled_from(files["store"] + files["csv"][:3])
    # mostly what a user would give, so that the later checks of a command are reached too
    return st.one_of(_plausible(p, ann, name, cmd, files), _plausible(p, ann, name, cmd, files),
                     _junk(ann, name, cmd, files))


@st.composite
def invocation(draw, path: tuple[str, ...], cmd, files, work: str):
    """argv for one call of ``cmd``: options at random (the required and ALWAYS ones always),
    outputs into fresh paths under ``work``, positional arguments last."""
    name = " ".join(path)
    argv, positional = list(path), []
    for k, p in enumerate(cmd.params):
        ann = p.type_descriptor.annotation
        if type(p).__name__ == "TyperArgument":
            n = 1 if p.nargs == 1 else draw(st.integers(0, 3))
            if p.required or draw(st.booleans()):
                positional += [draw(_value(p, str if ann == list[str] else ann, p.name, name, files))
                               for _ in range(max(n, 1 if p.required else 0))]
            continue
        opt = p.opts[0]
        if getattr(p, "is_flag", False):
            choice = draw(st.sampled_from([None, opt, *(p.secondary_opts or [])]))
            if choice:
                argv.append(choice)
            continue
        if opt in ("--out", "--store"):
            if draw(st.integers(0, 4)) or opt == "--out":  # outputs always go to a fresh path
                argv += [opt, os.path.join(work, f"{opt.strip('-')}_{k}")]
            continue
        if p.required or opt in ALWAYS.get(name, ()) or draw(st.integers(0, 2)) == 0:
            argv += [opt, draw(_value(p, ann, opt, name, files))]
    if positional:
        argv += ["--", *positional]
    return argv


def _snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else -1) for p in folder.rglob("*")}


@contextlib.contextmanager
def _inside(folder: str):
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def check_invocation(argv: list[str], work: str, inputs: str) -> None:
    """Run one command line and check the P0.4 promises."""
    before_inputs = _snapshot(Path(inputs))
    with _inside(work), warnings.catch_warnings():
        warnings.simplefilter("default")  # as on the command line: warnings are shown, not raised (the suite raises)
        r = runner.invoke(app, argv)
    shown = f"ketenplan {' '.join(argv)}\n--- output ---\n{r.output}"
    exc = r.exception
    assert exc is None or isinstance(exc, SystemExit), f"{type(exc).__name__}: {exc}\n{shown}"
    assert "Traceback" not in r.output, shown
    assert r.exit_code in (0, 2), f"exit code {r.exit_code}\n{shown}"
    if r.exit_code == 2:
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        usage = "Usage:" in r.stderr and "Error" in r.stderr
        assert len(errors) == 1 or (usage and not errors), f"expected one 'error:' line\n{shown}"
        left = sorted(_snapshot(Path(work)))
        assert not left, f"left behind after a failure: {left}\n{shown}"
        assert _snapshot(Path(inputs)) == before_inputs, f"input folder changed\n{shown}"


def _run(data, path, cmd, files) -> None:
    inputs = files["dir"][0]
    work = tempfile.mkdtemp(prefix="fuzz_")
    try:
        argv = data.draw(invocation(path, cmd, files, work), label="argv")
        check_invocation(argv, work, inputs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ids():
    return [" ".join(p) for p, _ in COMMANDS]


#: failures found by this test whose fix belongs to the command itself; remove an entry once it passes
KNOWN: dict[str, str] = {}  # commands with a known failure (none)


def _cases():
    return [pytest.param(p, c, id=" ".join(p), marks=[pytest.mark.xfail(reason=KNOWN[p[0]], strict=False)]
                         if p[0] in KNOWN else []) for p, c in COMMANDS]


QUICK = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                        HealthCheck.data_too_large])


@pytest.mark.parametrize("path,cmd", _cases())
def test_every_command_survives_bad_input(path, cmd, files):
    n = 2 if path[0] in SLOW else 6

    @settings(QUICK, max_examples=n)
    @given(st.data())
    def run(data):
        _run(data, path, cmd, files)

    run()


#: examples per command of the larger variant (commands that simulate get a fifth); raise it for a deep run,
#: e.g. KETENPLAN_FUZZ_EXAMPLES=500 pytest -m slow tests/test_cli_fuzz.py
MANY = int(os.environ.get("KETENPLAN_FUZZ_EXAMPLES", "30"))
#: fresh random examples on every run (KETENPLAN_FUZZ_RANDOM=1) instead of the reproducible set CI runs
RANDOM = bool(os.environ.get("KETENPLAN_FUZZ_RANDOM"))


@pytest.mark.slow
@pytest.mark.parametrize("path,cmd", _cases())
def test_every_command_survives_bad_input_many(path, cmd, files):
    n = max(1, MANY // 5) if path[0] in SLOW else MANY

    @settings(QUICK, max_examples=n, derandomize=not RANDOM)
    @given(st.data())
    def run(data):
        _run(data, path, cmd, files)

    run()


def test_commands_are_found():
    """The walk finds every command, sub-commands included (so a new one is fuzzed too)."""
    names = set(_ids())
    for n in ("run", "place", "taakstelling", "store kpis", "solidarity simulate", "forecast"):
        assert n in names
