"""Commands of the placement module: ``taakstelling`` and ``place``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from ketenplan import _io
from ketenplan._cli import console, handle_errors


def register(app: typer.Typer) -> None:
    """Add the placement commands to the main application."""

    @app.command("taakstelling")
    @handle_errors
    def taakstelling(
        period: str = typer.Option(..., "--period", help="Half-year, e.g. 2026-H1 (years 1990-2100)."),
        total: int = typer.Option(..., "--total", help="National housing task [persons]."),
        backlog: Optional[Path] = typer.Option(None, "--backlog",
                                               help="CSV municipality,backlog [persons; + arrears, - advance]."),
        population: str = typer.Option("2025", "--population", help="Population column: 2025 or 2021."),
        out: Path = typer.Option(Path("taakstelling"), "--out", help="Output folder."),
    ) -> None:
        """Housing task per municipality (proportional to population, largest-remainder rounding)."""
        from ketenplan.placement.plots import province_bar_chart
        from ketenplan.placement.taakstelling import housing_task, task_by_province

        task = housing_task(total, period, backlog=backlog, population=population)
        prov = task_by_province(task)
        stem = f"taakstelling_{task['period'].iloc[0]}"
        _io.write_csv(out / f"{stem}.csv", task)
        _io.write_csv(out / f"{stem}_by_province.csv", prov)
        _io.write_text(out / f"{stem}_by_province.html", province_bar_chart(prov, task["period"].iloc[0]))
        console.print(f"housing task {task['period'].iloc[0]}: {int(task['quota'].sum())} persons over "
                      f"{len(task)} municipalities (+ backlog {int(task['backlog'].sum())}); written to {out}")

    @app.command("place")
    @handle_errors
    def place(
        cases: Path = typer.Option(..., "--cases", help="CASES.csv: case_id + size columns [+ current_location]."),
        locations: Path = typer.Option(..., "--locations", help="LOCATIONS.csv: location_id + capacity columns."),
        weights: Path = typer.Option(..., "--weights", help="WEIGHTS.csv: case_id,location_id,weight [,person]."),
        compatibility: Optional[Path] = typer.Option(None, "--compatibility", help="COMPAT.csv (0/1)."),
        objective: str = typer.Option("expected", "--objective", help="expected | at-least-one"),
        relax: bool = typer.Option(False, "--relax", help="Solve the LP relaxation (cases may be split)."),
        require_all: bool = typer.Option(False, "--require-all", help="Every case must be placed."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds for branch and bound (> 0)."),
        out: Path = typer.Option(Path("placement"), "--out", help="Output folder."),
    ) -> None:
        """Optimal placement of cases to locations, with greedy and status-quo baselines."""
        from ketenplan.errors import ScenarioError
        from ketenplan.placement.io import read_placement_inputs
        from ketenplan.placement.solver import evaluate_assignment, greedy_placement, solve_placement

        if not time_limit > 0 or time_limit == float("inf"):
            raise ScenarioError(f"--time-limit {time_limit:g}: expected a number of seconds > 0")

        problem = read_placement_inputs(cases, locations, weights, compatibility, objective=objective)
        best = solve_placement(problem, relax=relax, require_all=require_all, time_limit=time_limit)
        results = [best, greedy_placement(problem)]
        if problem.current_location is not None:
            results.append(evaluate_assignment(problem, problem.current_location, method="status_quo"))
        summary = pd.DataFrame([r.summary() for r in results])
        summary.insert(1, "objective_name", objective)
        _io.write_csv(out / "assignment.csv", best.assignment)
        _io.write_csv(out / "assignment_greedy.csv", results[1].assignment)
        _io.write_csv(out / "summary.csv", summary)
        _io.write_text(out / "summary.json", json.dumps(summary.to_dict(orient="records"), indent=2, default=str))
        console.print(summary[["method", "status", "objective", "gap", "cases_placed", "persons_placed",
                               "solve_time_s"]].to_string(index=False))
        console.print(f"written to {out}")
