"""Commands ``forecast`` and ``forecast-backtest`` (registered on the main app)."""

from __future__ import annotations

from pathlib import Path

import typer

from ketenplan._cli import console, handle_errors


def register(app: typer.Typer) -> None:
    """Add the forecast commands to ``app``."""

    @app.command("forecast")
    @handle_errors
    def forecast_cmd(
        country: str = typer.Option("NL", "--country", help="Eurostat country code (NL, DE, EL, ...)."),
        horizon: int = typer.Option(24, "--horizon", help="Months ahead, 1..60 (intervals backtested to 24 months, "
                                    "extrapolated beyond; see docs/forecast.md)."),
        paths: int = typer.Option(1000, "--paths", help="Number of sample paths."),
        seed: int = typer.Option(0, "--seed", help="Random seed of the sample paths."),
        origin: str = typer.Option(None, "--origin", help="Last month the model sees (YYYY-MM); default the last month."),
        out: Path = typer.Option(Path("out/forecast"), "--out", help="Output folder."),
    ) -> None:
        """Monthly forecast of asylum applicants with 80%/95% intervals, sample paths, plot and table."""
        from ketenplan.errors import ScenarioError
        from ketenplan.forecast.api import MAX_CLI_HORIZON, forecast
        from ketenplan.forecast.backtest import H_MAX
        from ketenplan.forecast.report import write_forecast

        if not 1 <= horizon <= MAX_CLI_HORIZON:
            raise ScenarioError(f"--horizon {horizon}: expected 1..{MAX_CLI_HORIZON} months (intervals are backtested "
                                f"up to {H_MAX} months and extrapolated by a random walk up to {MAX_CLI_HORIZON}; "
                                f"beyond that they say nothing). Fix: choose --horizon {MAX_CLI_HORIZON} or less")
        if paths < 1:
            raise ScenarioError(f"--paths {paths}: expected an integer >= 1 (number of sample paths)")
        if seed < 0:
            raise ScenarioError(f"--seed {seed}: expected an integer >= 0")
        fc = forecast(country, horizon, n_paths=paths, seed=seed, origin=origin)
        written = write_forecast(fc, out)
        t = fc.table
        n = min(horizon, 12)
        msg = f"next {n} months {t['point'].iloc[:n].sum():,.0f} applicants"
        if horizon > n:
            msg += f", all {horizon} months {t['point'].sum():,.0f}"
        console.print(f"[bold]{fc.country}[/]: forecast from {fc.origin}, {msg} (Eurostat definition, median); "
                      f"files: {', '.join(str(p) for p in written)}")
        if horizon > H_MAX:
            console.print(f"[yellow]note:[/] months {H_MAX + 1}-{horizon} are beyond the backtested {H_MAX} months: "
                          f"the median repeats the second year and the intervals are extrapolated as a random walk "
                          f"(interval_basis = 'extrapolated' in forecast.csv)")

    @app.command("forecast-backtest")
    @handle_errors
    def backtest_cmd(
        countries: str = typer.Option("all", "--countries", help="'all' or comma-separated Eurostat codes."),
        horizons: str = typer.Option("1,3,6,12,24", "--horizons", help="Comma-separated steps (months, 1..24)."),
        jobs: int = typer.Option(2, "--jobs", help="Worker processes."),
        nl_table: bool = typer.Option(True, "--nl-table/--no-nl-table", help="Add the Dutch yearly table."),
        out: Path = typer.Option(Path("out/forecast-backtest"), "--out", help="Output folder."),
    ) -> None:
        """Rolling-origin backtest on the shipped series: MASE, sMAPE, annual-total error, coverage."""
        from rich.progress import Progress
        from rich.table import Table

        from ketenplan.errors import DataError, ScenarioError
        from ketenplan.forecast.api import nl_annual_table
        from ketenplan.forecast.backtest import run_backtest
        from ketenplan.forecast.report import write_backtest

        try:
            hs = [int(h) for h in horizons.split(",") if h.strip()]
        except ValueError:
            raise ScenarioError(f"--horizons {horizons!r}: expected comma-separated integers, e.g. 1,3,6,12,24") from None
        if not hs:
            raise ScenarioError(f"--horizons {horizons!r}: expected at least one step (months, 1..24), "
                                f"e.g. 1,3,6,12,24")
        if jobs < 1:
            raise ScenarioError(f"--jobs {jobs}: expected an integer >= 1 (worker processes; 1 runs in this process)")
        if countries.strip().lower() == "all":
            cs = "all"
        else:
            from ketenplan.forecast.data import normalise_country

            given = [c.strip() for c in countries.split(",") if c.strip()]
            if not given:
                raise ScenarioError(f"--countries {countries!r}: expected 'all' or comma-separated Eurostat codes, "
                                    f"e.g. NL,BE; found no code")
            try:
                norm = [normalise_country(c) for c in given]
            except DataError as exc:  # names the known codes
                raise ScenarioError(f"--countries {countries!r}: {exc}") from None
            cs = list(dict.fromkeys(norm))
            if len(cs) < len(norm):
                dup = sorted({c for c in norm if norm.count(c) > 1})
                console.print(f"[yellow]note:[/] --countries lists {', '.join(dup)} more than once; "
                              f"each country is scored once")
        with Progress(console=console, transient=True) as prog:
            task = prog.add_task("backtest origins", total=None)
            res = run_backtest(cs, hs, n_jobs=jobs, progress=lambda d, n: prog.update(task, completed=d, total=n))
        table = nl_annual_table() if nl_table else None
        written = write_backtest(res, out, table)
        tab = Table(title=f"Backtest ({len(res.settings['countries'])} countries, {res.seconds:.1f} s)")
        for col in ("model", "h", "mase (step h)", "ratio vs snaive", "path 1..h ratio", "cov80", "cov95"):
            tab.add_column(col)
        for r in res.metrics.itertuples():
            tab.add_row(r.model, str(r.h), f"{r.mase:.3f}", f"{r.mase_ratio_snaive:.3f}",
                        f"{r.mase_path_ratio_snaive:.3f}", f"{r.coverage80:.2f}", f"{r.coverage95:.2f}")
        console.print(tab)
        console.print(f"files: {', '.join(str(p) for p in written)}")
