"""The ``plan-capacity`` command: capacity policies side by side (P3.5, P3.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ketenplan._cli import Col, console, err_console, fmt_number, handle_errors, print_table

#: what plan-capacity writes into its folder (an earlier plan's files of these names are replaced)
PLAN_OUTPUTS = ("plan_summary.csv", "beds_needed.csv", "costs_monthly.csv", "plan.html", "optimise_trials.csv",
                "optimise_stability.csv", "optimised_policy.toml")


def _plan_with_progress(sc, policies, runs, seed, backend, workers, shortage_from):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from ketenplan.planning import plan_capacity

    total = runs * len(policies)
    with Progress(TextColumn("[bold]planning[/] {task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=err_console,
                  transient=True, disable=not err_console.is_interactive) as prog:
        task = prog.add_task(f"{len(policies)} policies", total=total)
        return plan_capacity(sc, policies, runs, seed, backend=backend, workers=workers,
                             progress=lambda k: prog.advance(task, k), shortage_from_months=shortage_from)


def _optimise_with_progress(sc, runs, trials, max_shortage, seed, backend, workers, shortage_from):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ketenplan.planning.optimise import optimise_policy

    with Progress(TextColumn("[bold]optimising[/] policies"), BarColumn(bar_width=20), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=not err_console.is_interactive) as prog:
        task = prog.add_task("trials", total=trials + 2)
        return optimise_policy(sc, runs, trials, max_shortage, seed, backend=backend, workers=workers,
                               shortage_from_months=shortage_from,
                               progress=lambda done, total: prog.update(task, completed=done, total=total))


def register(app: typer.Typer) -> None:
    """Add ``plan-capacity`` to the main application."""

    @app.command("plan-capacity")
    @handle_errors
    def plan_capacity_cmd(
        scenario: str = typer.Argument(..., help="Preset name (nl_baseline, nl_history) or a scenario .toml file."),
        policies: Optional[list[str]] = typer.Option(
            None, "--policies", "-p",
            help="Built-in policy (fixed, myopic, buffer) or a policy .toml file (sections reception_policy, "
                 "reception, costs, decision_capacity); repeat the option or separate with commas. "
                 "Default: fixed, myopic and buffer."),
        runs: int = typer.Option(100, "--runs", "-n", help="Runs per policy (common random numbers)."),
        seed: int = typer.Option(None, "--seed", help="Root seed (default: the scenario's)."),
        out: Path = typer.Option(Path("out/plan"), "--out", help="Output folder for plan.html and the CSV tables."),
        backend: str = typer.Option("processes", help="serial, threads, processes (the default) or dask."),
        workers: int = typer.Option(None, "--workers", help="Worker processes or threads (default: the cores)."),
        strict: bool = typer.Option(False, "--strict", help="Plausibility warnings become errors."),
        optimise: bool = typer.Option(
            False, "--optimise",
            help="Search the threshold rule's buffer, standby places and occupancy norm (Optuna TPE, common random "
                 "numbers) for the least expected cost with P(shortage) at most --max-shortage; then plan the "
                 "optimised policy beside the myopic and buffer policies."),
        trials: int = typer.Option(20, "--trials", help="Policies tried by --optimise (each a plan of --runs runs)."),
        max_shortage: float = typer.Option(0.1, "--max-shortage",
                                           help="Highest probability of a shortage --optimise accepts (0..1)."),
        shortage_from: int = typer.Option(
            12, "--shortage-from-month",
            help="Months after the start before an emergency place-day counts as a shortage (default 12: no "
                 "policy can add places in the first year; 0 counts from the first day)."),
    ) -> None:
        """Compare capacity policies: cost, shortage risk, beds needed at 50/80/90/95% assurance, costs
        over time per partner, and a Pareto chart of cost against risk (writes plan.html and CSVs)."""
        from ketenplan._io import ensure_folder, leave_nothing, staged_folder, write_csv
        from ketenplan.ensemble import BACKENDS
        from ketenplan.errors import ScenarioError
        from ketenplan.planning import resolve_policies
        from ketenplan.planning.plan import MAX_PLAN_RUNS, apply_policy
        from ketenplan.planning.report import render_plan
        from ketenplan.scenario import load_scenario

        if runs < 1:
            raise ScenarioError(f"--runs must be at least 1, found {runs}")
        if seed is not None and seed < 0:
            raise ScenarioError(f"--seed must be an integer >= 0, found {seed}")
        if optimise and (trials < 1 or not 0.0 <= max_shortage <= 1.0):
            raise ScenarioError(f"--trials must be at least 1 and --max-shortage lie in 0..1, found {trials} and "
                                f"{max_shortage}")
        if optimise and policies:
            raise ScenarioError("--optimise plans its own policies (myopic, buffer and the optimised one): "
                                "leave out --policies")
        if shortage_from < 0:
            raise ScenarioError(f"--shortage-from-month must be at least 0, found {shortage_from}")
        if workers is not None and workers < 1:
            raise ScenarioError(f"--workers must be at least 1, found {workers}")
        if backend not in BACKENDS:
            raise ScenarioError(f"--backend: unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        sc = load_scenario(scenario, strict=strict)
        pols = resolve_policies(policies)
        if runs * len(pols) > MAX_PLAN_RUNS:
            raise ScenarioError(f"--runs: {runs:,} runs x {len(pols)} policies is more than the {MAX_PLAN_RUNS:,} "
                                "runs one plan may have; use fewer runs or policies")
        for p in pols:  # every policy file checked before anything runs
            apply_policy(sc, p)
        with leave_nothing(out):
            ensure_folder(out)
            opt = None
            if optimise:
                opt = _optimise_with_progress(sc, runs, trials, max_shortage, seed, backend, workers, shortage_from)
                b = resolve_policies(["myopic", "buffer"])
                pols = b + ([opt.chosen] if opt.chosen is not None else [])
            plan = _plan_with_progress(sc, pols, runs, seed, backend, workers, shortage_from)
            with staged_folder(out, owned=PLAN_OUTPUTS) as stage:
                if opt is not None:
                    import tomli_w

                    write_csv(stage / "optimise_trials.csv", opt.trials)
                    if opt.chosen is not None:
                        write_csv(stage / "optimise_stability.csv", opt.stability)
                        (stage / "optimised_policy.toml").write_text(
                            f"# {opt.chosen.description}\nname = \"optimised\"\n" + tomli_w.dumps(opt.chosen.changes),
                            encoding="utf-8")
                summary = plan.summary()
                write_csv(stage / "plan_summary.csv", summary)
                write_csv(stage / "beds_needed.csv", plan.beds_needed())
                write_csv(stage / "costs_monthly.csv", plan.costs_monthly())
                render_plan(plan, stage / "plan.html")
        limited = any(p.scenario.reception_policy.emergency_limit is not None for p in plan.policies)
        rows = [(r.policy + (" *" if r.pareto else ""), fmt_number(r.cost_per_year_eur / 1e6, 0),
                 f"{fmt_number(r.cost_p10_eur / 1e6, 0)} to {fmt_number(r.cost_p90_eur / 1e6, 0)}",
                 f"{r.p_shortage:.0%}", fmt_number(r.emergency_place_days_mean, 0),
                 *((f"{r.p_without_place:.0%}",) if limited else ()),
                 fmt_number(r.beds_p90_peak, 0), r.beds_p90_peak_month, fmt_number(r.places_opened_mean, 0))
                for r in summary.itertuples()]
        print_table(f"{sc.name}: {len(pols)} policies x {plan.runs} runs, seed {plan.seed} (* = non-dominated)",
                    [Col("policy", key=True, wrap=False), Col("EUR m per year", number=True),
                     Col("total cost p10-p90 [EUR m]", number=True), Col("P(shortage)", number=True),
                     Col("emergency place-days", number=True),
                     *((Col("P(without a place)", number=True),) if limited else ()),
                     Col("beds at 90%", number=True),
                     Col("peak month", wrap=False), Col("places opened", number=True)], rows)
        if opt is not None:
            if opt.chosen is None:
                best = opt.trials.sort_values("p_shortage").iloc[0]
                console.print(f"--optimise: none of {len(opt.trials)} policies kept P(shortage) at most "
                              f"{max_shortage:.0%}; the lowest was {best.p_shortage:.0%} (trial {int(best.trial)}); "
                              "see optimise_trials.csv", soft_wrap=True)
            else:
                console.print(f"--optimise: {opt.chosen.description}; the cheapest feasible policy on "
                              f"{opt.stable_share:.0%} of {opt.stability.seed.nunique()} other seeds "
                              "(optimise_stability.csv, optimised_policy.toml)", soft_wrap=True)
        console.print(f"plan: [bold]{out / 'plan.html'}[/]  tables: {out}/plan_summary.csv, beds_needed.csv, "
                      "costs_monthly.csv", soft_wrap=True)
