"""ketenplan command line: thin; parses, configures logging, calls the public API, writes files."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.markup import escape
from rich.logging import RichHandler

from ketenplan._cli import console, err_console, handle_errors  # noqa: F401
from ketenplan.errors import DataError, ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ketenplan: planning, forecasting and scenario simulation for the Dutch migration chain.")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=err_console, show_path=False)], force=True)
    from ketenplan._cli import show_warnings_plainly

    show_warnings_plainly()


# ----------------------------------------------------------------------------------------------
# the chain: run, validate, scenario show, backtest
# ----------------------------------------------------------------------------------------------
def _load(scenario: str, strict: bool = False):
    from ketenplan.scenario import load_scenario

    return load_scenario(scenario, strict=strict)


def _simulate_with_progress(sc, seed, replicates, backend, keep_journeys="first", **kw):
    """ketenplan.simulate with a progress bar and an estimate of the time left (on a terminal)."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from ketenplan.simulation import simulate

    n = sc.simulation.replicates if replicates is None else replicates
    # the scenario's name where it fits beside the bar and the times (nothing is cut on a narrow terminal)
    room = err_console.width - 62 - 2 * len(str(n))
    name = sc.name if len(sc.name) <= room else ""
    # off where it cannot be drawn: rich would only print an empty line when it stops
    with Progress(TextColumn("[bold]simulating[/] {task.description}"), BarColumn(bar_width=20),
                  MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                  console=err_console, transient=True, disable=not err_console.is_interactive) as prog:
        task = prog.add_task(name, total=n)
        return simulate(sc, seed=seed, replicates=n, backend=backend, keep_journeys=keep_journeys,
                        progress=lambda k: prog.advance(task, k), **kw)


# what `run` writes into its folder (an earlier run's files of these names are replaced or removed)
RUN_OUTPUTS = ("*.parquet", "metadata.json", "report.html")


def _open_store(path):
    """The results store, checked before any simulation (None when not asked for)."""
    if path is None:
        return None
    from ketenplan.ensemble.store import ResultStore

    store = ResultStore(path)
    store.check(create=True)
    return store


def _post(sc, placement: bool):
    """The post-processors of a run: the scenario's, without placement when --no-placement."""
    from ketenplan.post import selected

    return [p.name for p in selected(sc, None) if placement or p.name != "placement"]


def _check_facts_span(facts_df, sc) -> None:
    """Refuse, before simulating, a backtest none of whose facts lies in the scenario's reported period."""
    import pandas as pd

    from ketenplan.backtest import _span
    from ketenplan.errors import DataError

    first, last = pd.Timestamp(sc.simulation.start), pd.Timestamp(sc.simulation.end)
    spans = [_span(str(d)) for d in facts_df["date"]]
    if not any(first <= lo and hi <= last for lo, hi in spans):
        dates = sorted({str(d) for d in facts_df["date"]})
        n = len(facts_df)
        which = (f"the fact ({dates[0]}) does not lie" if n == 1 else
                 f"none of the {n} facts ({dates[0]}{'' if len(dates) == 1 else ' to ' + dates[-1]}) lies")
        raise DataError(f"{which} in the period scenario "
                        f"'{sc.name}' reports ({sc.simulation.start} to {sc.simulation.end}); give facts of that "
                        "period, or a scenario that covers the facts (e.g. --scenario nl_history)")


def _check_backend(backend: str) -> None:
    """Refuse an unknown --backend before anything is created."""
    from ketenplan.ensemble import BACKENDS

    if backend not in BACKENDS:
        raise ScenarioError(f"--backend: unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")


BACKEND_HELP = "serial, threads, processes (the default: a process pool) or dask (see --scheduler)."
SCHEDULER_HELP = "Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786): run the replicates on that cluster."


@app.command("run")
@handle_errors
def run_cmd(
    scenario: str = typer.Argument(..., help="Preset name (nl_baseline, nl_history) or a scenario .toml file."),
    seed: int = typer.Option(None, "--seed", min=0, help="Root seed (default: the scenario's)."),
    replicates: int = typer.Option(None, "--replicates", "-n", min=1, help="Replicates (default: the scenario's)."),
    out: Path = typer.Option(Path("out/run"), "--out", help="Output folder for report.html and Parquet tables."),
    backend: str = typer.Option("processes", help=BACKEND_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    workers: int = typer.Option(None, "--workers", min=1, help="Worker processes or threads (default: the cores)."),
    journeys: str = typer.Option("first", help="Keep per-case journeys of the 'first' replicate, 'all' or 'none'."),
    resolution: str = typer.Option("month", help="Stocks and flows per 'month' or per 'day'."),
    strict: bool = typer.Option(False, "--strict", help="Plausibility warnings become errors."),
    placement: bool = typer.Option(True, "--placement/--no-placement",
                                   help="Place the first replicate's permit holders per half-year over the "
                                        "municipalities (optimal vs status quo, P3.7/P6.2) for the report."),
    store: Path = typer.Option(None, "--store", help="Also save the run in this DuckDB results store "
                                                     "(e.g. out/runs.duckdb; see `ketenplan store`)."),
) -> None:
    """Simulate a scenario; write report.html, Parquet tables and print a short summary.

    The replicates are stored as they finish in OUT/replicates; a run interrupted and started again
    with the same options resumes there."""
    from ketenplan._io import ensure_folder, leave_nothing, staged_folder
    from ketenplan.report import write_outputs

    sc = _load(scenario, strict)
    _check_backend(backend)
    with leave_nothing(out, store):
        db = _open_store(store)
        ensure_folder(out)
        res = _simulate_with_progress(sc, seed, replicates, backend, journeys, resolution=resolution,
                                      workers=workers, scheduler=scheduler, post=_post(sc, placement),
                                      out=out / "replicates")
        try:
            with staged_folder(out, owned=RUN_OUTPUTS) as stage:
                write_outputs(res, stage)  # the Parquet tables and report.html
        except DataError as exc:
            raise DataError(f"{exc}. The simulated replicates are kept in {out / 'replicates'}: the same command "
                            "run again reuses them") from None
    report = out / "report.html"
    if db is not None:
        run_id = db.save(res)
        console.print(f"stored as run [bold]{run_id}[/] in {store}", soft_wrap=True)
    _print_kpis(res, ("coa_occupancy_peak", "decision_time_general_weeks", "decision_time_safe_weeks",
                      "decision_time_dublin_weeks", "permit_holders_in_reception_mean",
                      "departures_independent_per_year", "departures_forced_per_year",
                      "departures_unsupervised_per_year", "reception_cost_per_year"))
    console.print(f"report: [bold]{report}[/]  tables: {out}/*.parquet", soft_wrap=True)


def _print_kpis(res, names) -> None:
    """Key figures as a table that never cuts a number (labels wrap; narrow terminals get one block per
    figure)."""
    from ketenplan._cli import print_kpi_table

    s = res.kpi_summary().set_index("kpi")
    m = res.metadata
    sp = m.get("starting_state")
    if sp:
        for r in sp["rows"]:
            if r.get("published") is not None:
                console.print(f"starting point {sp['date']} (replayed from {sp['history']}): {r['label']} "
                              f"{r['start']:,.0f}" + (f" (corrected from the replay's {r['replay']:,.0f} to the "
                                                      f"published {r['published']:,.0f})" if r["corrected"] else ""),
                              soft_wrap=True)
    sc = res.scenario
    if sc.inflow.source == "forecast":
        f = sc.forecast
        after = "then the given inflow.first" if f.after_horizon == "given" else "then each path's last year held"
        console.print(f"inflow: first applications from the {sc.inflow.forecast_country} forecast's sample paths "
                      f"(one per replicate, calibrated yearly totals) for {f.horizon_months} months after its origin, "
                      f"{after}; [inflow] source = \"given\" for a fixed inflow", soft_wrap=True, markup=False)
    print_kpi_table(f"{m['scenario']}: {m['start']} to {m['end']}, {m['replicates']} replicates, seed {res.seed}",
                    [(k, s.loc[k]) for k in names if k in s.index])


#: the key figures `compare` prints on the terminal (all declared figures are in compare_kpis.csv)
COMPARE_PRINTED = ("coa_occupancy_peak", "coa_occupancy_mean", "decision_time_general_weeks",
                   "permit_holders_in_reception_mean", "departures_forced_per_year", "reception_cost_per_year")


def _print_differences(results) -> None:
    """Each scenario against the first: the mean paired difference of the main key figures with its
    80% band over the replicates (replicates paired by number, common random numbers)."""
    from ketenplan._cli import Col, fmt_number, print_table
    from ketenplan.post import all_kpis
    from ketenplan.report.compare import comparison_table

    t = comparison_table(results)
    declared = all_kpis()
    ref = results[0].scenario.name
    for res in results[1:]:
        part = t[(t.scenario == res.scenario.name) & t.kpi.isin(COMPARE_PRINTED)].set_index("kpi")
        base = t[t.scenario == ref].set_index("kpi")
        rows = [(declared[k].label, declared[k].unit, fmt_number(base.loc[k, "mean"]),
                 fmt_number(part.loc[k, "mean"]), fmt_number(part.loc[k, "diff_mean"]),
                 f"{fmt_number(part.loc[k, 'diff_p10'])} to {fmt_number(part.loc[k, 'diff_p90'])}")
                for k in COMPARE_PRINTED if k in part.index]
        print_table(f"{res.scenario.name} minus {ref} (paired over {int(part.replicates.max())} replicates)",
                    [Col("key figure", key=True), Col("unit"), Col(ref, number=True),
                     Col(res.scenario.name, number=True), Col("difference", number=True),
                     Col("80% band of the difference", number=True)], rows)


@app.command("compare")
@handle_errors
def compare_cmd(
    scenarios: list[str] = typer.Argument(..., help="Two or more presets or .toml files; the first is the reference."),
    seed: int = typer.Option(None, "--seed", min=0, help="Root seed for all (default: the first scenario's)."),
    replicates: int = typer.Option(None, "--replicates", "-n", min=1,
                                   help="Replicates for all (default: the first scenario's)."),
    out: Path = typer.Option(Path("out/compare"), "--out", help="Output folder for compare.html and compare_kpis.csv."),
    backend: str = typer.Option("processes", help=BACKEND_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    workers: int = typer.Option(None, "--workers", min=1, help="Worker processes or threads (default: the cores)."),
    strict: bool = typer.Option(False, "--strict", help="Plausibility warnings become errors."),
    store: Path = typer.Option(None, "--store", help="Also save every run in this DuckDB results store."),
) -> None:
    """Run scenarios with common random numbers and compare them side by side (P0.4)."""
    from ketenplan.report.compare import render_comparison

    if len(scenarios) < 2:
        raise typer.BadParameter(f"give at least two scenarios to compare, found {len(scenarios)}")
    from ketenplan.errors import ScenarioError

    scs = [_load(s, strict) for s in scenarios]
    names = [sc.name for sc in scs]
    if len(set(names)) < len(names):
        raise ScenarioError(f"scenario names must differ to be compared side by side, found {names}; "
                            "give each file its own 'name'")
    periods = {(sc.simulation.start, sc.simulation.end, sc.simulation.warmup_years) for sc in scs}
    if len(periods) > 1:
        raise ScenarioError("scenarios compared side by side must cover the same period to be paired; found "
                            + "; ".join(f"{sc.name}: {sc.simulation.start} to {sc.simulation.end}, warm-up "
                                        f"{sc.simulation.warmup_years} years" for sc in scs)
                            + ". Set the same [simulation] start, end and warmup_years in each file")
    from ketenplan._io import ensure_folder, leave_nothing, staged_folder

    _check_backend(backend)
    seed = scs[0].simulation.seed if seed is None else seed
    n = scs[0].simulation.replicates if replicates is None else replicates
    with leave_nothing(out, store):
        db = _open_store(store)
        ensure_folder(out)
        results = [_simulate_with_progress(sc, seed, n, backend, "none", scheduler=scheduler, workers=workers,
                                           post=[p for p in _post(sc, False)]) for sc in scs]
        with staged_folder(out, owned=("compare.html", "compare_kpis.csv")) as stage:
            render_comparison(results, stage)
    page = out / "compare.html"
    _print_differences(results)
    if db is not None:
        ids = [db.save(r) for r in results]
        console.print(f"stored runs {', '.join(ids)} in {store}", soft_wrap=True)
    console.print(f"comparison of {', '.join(sc.name for sc in scs)} (seed {seed}, {n} replicates each): "
                  f"[bold]{page}[/]  table: {out / 'compare_kpis.csv'}", soft_wrap=True)


@app.command("validate")
@handle_errors
def validate_cmd(
    scenario: str = typer.Argument(..., help="Preset name or scenario .toml file."),
    strict: bool = typer.Option(False, "--strict", help="Plausibility warnings become errors."),
) -> None:
    """Check a scenario file: structure (errors) and plausibility (warnings)."""
    import warnings

    from ketenplan.errors import PlausibilityWarning
    from ketenplan.scenario import plausibility

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sc = _load(scenario, strict)
        msgs = plausibility(sc, strict=strict)
    # what loading the file said (e.g. that it sets nothing), then the plausibility checks, each once
    said = [str(w.message) for w in caught if issubclass(w.category, PlausibilityWarning)]
    msgs = list(dict.fromkeys([m for m in said if not any(m.endswith(x) or x.endswith(m) for x in msgs)] + list(msgs)))
    for m in msgs:
        err_console.print("[yellow]warning:[/] " + escape(m), soft_wrap=True)
    console.print(f"[green]valid[/]: scenario '{sc.name}' (hash {sc.digest()})")


store_app = typer.Typer(help="The DuckDB results store: runs saved with --store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("list")
@handle_errors
def store_list(path: Path = typer.Argument(..., help="Store file (e.g. out/runs.duckdb).")) -> None:
    """One line per stored run."""
    from ketenplan._cli import Col, fmt_number, print_table
    from ketenplan.ensemble.store import ResultStore

    runs = ResultStore(path).runs()
    cols = [Col("run_id", key=True, wrap=False), Col("scenario"), Col("seed", number=True),
            Col("replicates", number=True), Col("version", wrap=False), Col("created (UTC)")]
    rows = [(r.run_id, r.scenario, str(r.seed), fmt_number(r.replicates, 0), r.version,
             str(r.created).replace("T", " ").removesuffix("+00:00")) for r in runs.itertuples()]
    print_table(f"{path}: {len(runs)} run{'' if len(runs) == 1 else 's'}", cols, rows, max_parts=1)


@store_app.command("kpis")
@handle_errors
def store_kpis(path: Path = typer.Argument(..., help="Store file."),
               out: Path = typer.Option(None, "--out", help="Write the table as CSV here."),
               ) -> None:
    """Key figures of every stored run side by side: mean over replicates, one column per run."""
    from ketenplan._cli import Col, fmt_number, print_table
    from ketenplan._io import write_csv
    from ketenplan.ensemble.store import ResultStore

    if out is not None and out.is_dir():
        from ketenplan.errors import DataError
        raise DataError(f"--out {out}: is a folder; expected a CSV file name")
    store = ResultStore(path)
    runs = store.runs()
    k = store.query("SELECT k.run_id, k.pillar, k.kpi, k.unit, avg(k.value) AS mean FROM kpis k "
                    "GROUP BY ALL ORDER BY k.pillar, k.kpi")
    wide = k.pivot_table(index=["pillar", "kpi", "unit"], columns="run_id", values="mean", sort=False)
    order = [r for r in runs.run_id if r in wide.columns] + [r for r in wide.columns if r not in set(runs.run_id)]
    wide = wide[order]
    # runs are numbered in the table and named in a legend above it: run ids are too long for columns
    scen = dict(zip(runs.run_id, runs.scenario))
    for i, rid in enumerate(order, start=1):
        console.print(f"run {i}: [bold]{escape(str(rid))}[/] (scenario {escape(str(scen.get(rid, '?')))})",
                      soft_wrap=True)
    cols = [Col("pillar", key=True, wrap=False), Col("kpi", key=True), Col("unit", key=True),
            *(Col(f"run {i}", number=True) for i in range(1, len(order) + 1))]
    rows = [(*idx, *(fmt_number(v) for v in row)) for idx, row in wide.iterrows()]
    print_table(f"{path}: key figures, mean over replicates", cols, rows)
    if out is not None:
        write_csv(out, wide.reset_index())


scenario_app = typer.Typer(help="Built-in scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("show")
@handle_errors
def scenario_show(name: str = typer.Argument("nl_baseline", help="Preset name or .toml file.")) -> None:
    """Print a scenario as full TOML (every field), to start one's own file."""
    from ketenplan.scenario import scenario_toml

    typer.echo(scenario_toml(_load(name)))


@scenario_app.command("list")
def scenario_list() -> None:
    """List the built-in scenarios."""
    from ketenplan.scenario import preset_names

    for n in preset_names():
        typer.echo(n)


@app.command("backtest")
@handle_errors
def backtest_cmd(
    facts: Path = typer.Option(None, "--facts", help="CSV with date,quantity,value (default: the shipped "
                                                     "in-sample facts 2014-2019)."),
    scenario: str = typer.Option("nl_history", "--scenario", help="Preset or .toml driving the history."),
    replicates: int = typer.Option(None, "--replicates", "-n", min=1),
    seed: int = typer.Option(None, "--seed", min=0),
    out: Path = typer.Option(Path("out/backtest"), "--out", help="Output folder for backtest.csv."),
) -> None:
    """Compare the simulated history with observed facts; write backtest.csv and a summary."""

    from ketenplan._io import write_csv
    from ketenplan.backtest import backtest, read_facts
    from ketenplan.data import data_path

    from ketenplan._io import ensure_folder, leave_nothing, staged_folder

    facts_df = read_facts(facts if facts is not None else data_path("nl_chain", "facts_nl_2014_2019.csv"))
    sc = _load(scenario)
    _check_facts_span(facts_df, sc)
    with leave_nothing(out):
        ensure_folder(out)
        res = _simulate_with_progress(sc, seed, replicates, "processes", keep_journeys="all", resolution="day",
                                      post=[])
        bt = backtest(facts_df, res)
        if bt.table.empty:
            from ketenplan.errors import DataError
            reasons = "; ".join(f"{r.date} {r.quantity}: {r.reason}" for r in bt.skipped.head(5).itertuples())
            raise DataError(f"none of the {len(facts_df)} facts could be compared with scenario '{sc.name}' "
                            f"({sc.simulation.start} to {sc.simulation.end}): {reasons}")
        from ketenplan._io import write_text
        from ketenplan.backtest import chart

        with staged_folder(out, owned=("backtest.csv", "backtest_summary.csv", "backtest.html")) as stage:
            write_csv(stage / "backtest.csv", bt.table)
            write_csv(stage / "backtest_summary.csv", bt.summary)
            write_text(stage / "backtest.html", chart(bt, f"Backtest of {sc.name}: simulated p10-p90 against the "
                                                          "facts").to_html(full_html=True, include_plotlyjs=True))
    path = out / "backtest.csv"
    from ketenplan._cli import Col, print_table

    na = lambda x, f: "n/a" if x != x else format(x, f)  # noqa: E731
    print_table(f"backtest of {sc.name} (seed {res.seed}, {res.metadata['replicates']} replicates)",
                [Col("quantity", key=True), Col("rows", number=True), Col("median abs. % error", number=True),
                 Col("median abs. error", number=True), Col("bias %", number=True), Col("in p10-p90", number=True)],
                [(r.quantity, str(r.rows), na(r.mdape_pct, ".1f"), na(r.mdae, ",.0f"), na(r.bias_pct, "+.1f"),
                  na(r.coverage_80 * 100, ".0f") + "%") for r in bt.summary.itertuples()])
    inside = ((bt.table.observed >= bt.table.p10) & (bt.table.observed <= bt.table.p90)).mean()
    console.print(f"80% band (p10-p90) covers {inside:.0%} of the {len(bt.table)} facts")
    for label, qs in bt.summary.groupby("band", sort=False).quantity:
        console.print(f"band of {', '.join(qs)}: {label}", soft_wrap=True)
    zero = bt.summary[bt.summary.mdape_excluded > 0]
    if len(zero):
        console.print(f"[yellow]note:[/] {int(zero.mdape_excluded.sum())} row(s) left out of the median abs. % "
                      "error because the observed value is 0 (no percentage error; see error_abs in backtest.csv): "
                      + ", ".join(f"{r.quantity} {r.mdape_excluded}" for r in zero.itertuples()), soft_wrap=True)
    for r in bt.skipped.itertuples():
        err_console.print(f"[yellow]skipped[/] {r.date} {r.quantity}: {r.reason}")
    console.print(f"table: [bold]{path}[/]; chart: [bold]{out / 'backtest.html'}[/]", soft_wrap=True)


def _register_modules() -> None:
    """Each module with commands exposes ``register(app)`` in its ``cli`` submodule."""
    from ketenplan.border import cli as border_cli
    from ketenplan.forecast import cli as forecast_cli
    from ketenplan.placement import cli as placement_cli
    from ketenplan.planning import cli as planning_cli
    from ketenplan.solidarity import cli as solidarity_cli

    for mod in (border_cli, forecast_cli, placement_cli, planning_cli, solidarity_cli):
        mod.register(app)


_register_modules()


def main() -> None:
    """Console entry point."""
    app()
