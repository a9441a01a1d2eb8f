"""Commands of the placement module: ``taakstelling`` and ``place``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from ketenplan import _io
from ketenplan._cli import Col, console, fmt_number, handle_errors, print_table

#: where the example inputs of ``place`` are shipped (inside the installed package)
EXAMPLES = ("placement", "examples")
TAAKSTELLING_OUTPUTS = ("taakstelling_*.csv", "taakstelling_*.html")
PLACE_OUTPUTS = ("assignment.csv", "assignment_greedy.csv", "summary.csv", "summary.json")


def example_files() -> dict[str, Path]:
    """The shipped example inputs of ``place``: cases, locations and weights (see
    :mod:`ketenplan.placement.examples`)."""
    from ketenplan.data import data_path

    return {name: data_path(*EXAMPLES, f"{name}.csv") for name in ("cases", "locations", "weights")}


def register(app: typer.Typer) -> None:
    """Add the placement commands to the main application."""

    @app.command("taakstelling")
    @handle_errors
    def taakstelling(
        period: str = typer.Option(..., "--period", help="Half-year, e.g. 2026-H1 (years 1990-2100)."),
        total: int = typer.Option(..., "--total", help="National housing task \\[persons], at most the population "
                                                       "of the Netherlands."),
        backlog: Optional[Path] = typer.Option(None, "--backlog",
                                               help="CSV municipality,backlog \\[persons; + arrears, - advance]; "
                                                    "comma or semicolon separated, as a spreadsheet saves it."),
        population: str = typer.Option("2025", "--population", help="Population column: 2025 or 2021."),
        out: Path = typer.Option(Path("out/taakstelling"), "--out", help="Output folder."),
    ) -> None:
        """Housing task per municipality (proportional to population, largest-remainder rounding)."""
        from ketenplan.placement.plots import province_bar_chart
        from ketenplan.placement.taakstelling import housing_task, task_by_province

        task = housing_task(total, period, backlog=backlog, population=population)
        prov = task_by_province(task)
        label = task["period"].iloc[0]
        stem = f"taakstelling_{label}"
        chart = province_bar_chart(prov, label)
        with _io.staged_folder(out) as stage:
            _io.write_csv(stage / f"{stem}.csv", task)
            _io.write_csv(stage / f"{stem}_by_province.csv", prov)
            _io.write_text(stage / f"{stem}_by_province.html", chart)
        rows = [(r.province, fmt_number(r.population, 0), fmt_number(r.quota, 0), fmt_number(r.backlog, 0),
                 fmt_number(r.task, 0)) for r in prov.itertuples()]
        print_table(f"housing task {label} by province [persons]",
                    [Col("province", key=True), Col("population", number=True), Col("quota", number=True),
                     Col("backlog", number=True), Col("task", number=True)], rows)
        console.print(f"housing task {label}: {int(task['quota'].sum()):,} persons over {len(task)} municipalities "
                      f"(+ backlog {int(task['backlog'].sum()):,}); written to {out}", soft_wrap=True)

    @app.command("place")
    @handle_errors
    def place(
        cases: Optional[Path] = typer.Option(None, "--cases", help="CASES.csv: case_id + size columns "
                                                                   "\\[+ current_location]."),
        locations: Optional[Path] = typer.Option(None, "--locations", help="LOCATIONS.csv: location_id + "
                                                                           "capacity columns."),
        weights: Optional[Path] = typer.Option(None, "--weights", help="WEIGHTS.csv: case_id,location_id,weight "
                                                                       "\\[,person]."),
        compatibility: Optional[Path] = typer.Option(None, "--compatibility", help="COMPAT.csv (0/1)."),
        example: bool = typer.Option(False, "--example", help="Use the shipped example inputs (145 households "
                                     "over the 13 municipalities of Zeeland; files in ketenplan/data/placement/"
                                     "examples/) for the files not given."),
        objective: str = typer.Option("expected", "--objective", help="expected | at-least-one"),
        relax: bool = typer.Option(False, "--relax", help="Solve the LP relaxation (cases may be split)."),
        require_all: bool = typer.Option(False, "--require-all", help="Every case must be placed."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds for branch and bound (> 0)."),
        out: Path = typer.Option(Path("out/placement"), "--out", help="Output folder."),
    ) -> None:
        """Optimal placement of cases to locations, with greedy and status-quo baselines.

        The files are CSV with a header row, comma or semicolon separated (as a spreadsheet saves them).
        Try it with --example (shipped example files; see docs/placement.md).
        """
        from ketenplan.errors import ScenarioError
        from ketenplan.placement.io import read_placement_inputs
        from ketenplan.placement.solver import evaluate_assignment, greedy_placement, solve_placement

        if not time_limit > 0 or time_limit == float("inf"):
            raise ScenarioError(f"--time-limit {time_limit:g}: expected a number of seconds > 0")
        given = {"cases": cases, "locations": locations, "weights": weights}
        if example:
            ex = example_files()
            used = [k for k, v in given.items() if v is None]
            given = {k: v if v is not None else ex[k] for k, v in given.items()}
            if used:
                console.print(f"example inputs ({', '.join(used)}): {ex[used[0]].parent}", soft_wrap=True)
        missing = [f"--{k}" for k, v in given.items() if v is None]
        if missing:
            raise ScenarioError(f"{', '.join(missing)} missing: give --cases, --locations and --weights (CSV files), "
                                f"or --example to use the shipped example inputs")

        problem = read_placement_inputs(given["cases"], given["locations"], given["weights"], compatibility,
                                        objective=objective)
        best = solve_placement(problem, relax=relax, require_all=require_all, time_limit=time_limit)
        results = [best, greedy_placement(problem)]
        if problem.current_location is not None:
            results.append(evaluate_assignment(problem, problem.current_location, method="status_quo"))
        summary = pd.DataFrame([r.summary() for r in results])
        summary.insert(1, "objective_name", objective)
        with _io.staged_folder(out, owned=PLACE_OUTPUTS) as stage:
            _io.write_csv(stage / "assignment.csv", best.assignment)
            _io.write_csv(stage / "assignment_greedy.csv", results[1].assignment)
            _io.write_csv(stage / "summary.csv", summary)
            _io.write_text(stage / "summary.json",
                           json.dumps(summary.to_dict(orient="records"), indent=2, default=str))
        rows = [(r.method, r.status, fmt_number(r.objective, 4), "n/a" if r.gap != r.gap else f"{100 * r.gap:.4f}",
                 fmt_number(r.cases_placed), fmt_number(r.persons_placed), f"{r.solve_time_s:.2f}")
                for r in summary.itertuples()]
        print_table(f"placement of {problem.n_cases:,} cases over {problem.n_locations:,} locations "
                    f"(objective: {objective})",
                    [Col("method", key=True), Col("status"), Col("objective", number=True),
                     Col("gap %", number=True), Col("cases placed", number=True), Col("persons placed", number=True),
                     Col("solve time s", number=True)], rows)
        console.print(f"written to {out}", soft_wrap=True)
