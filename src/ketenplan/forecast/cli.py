"""Commands ``forecast`` and ``forecast-backtest`` (registered on the main app)."""

from __future__ import annotations

from pathlib import Path

import typer

from ketenplan._cli import console, handle_errors

FORECAST_OUTPUTS = ("forecast.csv", "paths.csv", "forecast.json", "forecast.html")
BACKTEST_OUTPUTS = ("backtest_metrics.csv", "backtest_metrics_by_country.csv", "backtest_forecasts.csv",
                    "backtest.html", "nl_annual_vs_official.csv", "backtest_totals.csv", "backtest_totals_rows.csv")


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
        origin: str = typer.Option(None, "--origin", help="Last month the model sees (YYYY-MM); default: the last data month ('latest')."),
        out: Path = typer.Option(Path("out/forecast"), "--out", help="Output folder."),
    ) -> None:
        """Monthly forecast of asylum applicants with 80%/95% intervals, sample paths, plot and table."""
        from ketenplan.errors import ScenarioError
        from ketenplan._io import leave_nothing, staged_folder
        from ketenplan.forecast.api import MAX_CLI_HORIZON, forecast
        from ketenplan.forecast.backtest import H_MAX
        from ketenplan.forecast.report import write_forecast

        if not 1 <= horizon <= MAX_CLI_HORIZON:
            raise ScenarioError(f"--horizon {horizon}: expected 1..{MAX_CLI_HORIZON} months (intervals are backtested "
                                f"up to {H_MAX} months and extrapolated up to {MAX_CLI_HORIZON}; beyond that they say "
                                f"nothing). Fix: choose --horizon between 1 and {MAX_CLI_HORIZON}")
        if paths < 1:
            raise ScenarioError(f"--paths {paths}: expected an integer >= 1 (number of sample paths)")
        from ketenplan.forecast.api import check_paths_memory

        check_paths_memory(paths, horizon, "--paths")
        if seed < 0:
            raise ScenarioError(f"--seed {seed}: expected an integer >= 0")
        from ketenplan.errors import DataError
        from ketenplan.forecast.data import normalise_country

        try:
            country = normalise_country(country)
        except DataError as exc:  # names the known codes
            raise ScenarioError(f"--country {country!r}: {str(exc).split(': ', 1)[-1]}") from None
        if origin is not None:
            from ketenplan.forecast.api import _month

            if origin.strip().lower() != "latest":
                _month(origin, "--origin")  # a malformed month is refused before anything is computed
        try:  # errors of --origin and friends surface here, before the output folder exists
            fc = forecast(country, horizon, n_paths=paths, seed=seed, origin=origin)
        except (ScenarioError, DataError) as exc:
            raise type(exc)(str(exc).replace("forecast origin", "--origin", 1)) from None
        with leave_nothing(out), staged_folder(out, owned=FORECAST_OUTPUTS) as stage:
            written = [out / p.name for p in write_forecast(fc, stage)]
        t = fc.table
        n = min(horizon, 12)
        totals = fc.paths.groupby("path")["applicants"]
        first = fc.paths[fc.paths["month"] <= t["month"].iloc[n - 1]].groupby("path")["applicants"].sum()
        msg = (f"next {n} month{'s' if n > 1 else ''}: median {first.median():,.0f} applicants "
               f"(80% interval {first.quantile(0.1):,.0f}-{first.quantile(0.9):,.0f}; model point forecast "
               f"{t['point'].iloc[:n].sum():,.0f})")
        if horizon > n:
            msg += f"; all {horizon} months: median {totals.sum().median():,.0f}"
        console.print(f"[bold]{fc.country}[/]: forecast from {fc.origin}, {msg}; Eurostat definition, over "
                      f"{paths:,} sample path{'s' if paths > 1 else ''}", soft_wrap=True)
        console.print(f"files: {', '.join(str(p) for p in written)}", soft_wrap=True)
        if fc.meta["data_last_month"] < fc.meta["latest_data_month"]:
            console.print(f"[yellow]note:[/] the data of {fc.country} end in {fc.meta['data_last_month']} "
                          f"(the latest data of other countries: {fc.meta['latest_data_month']}); the forecast "
                          f"starts there", soft_wrap=True)
        if paths < 100:
            console.print(f"[yellow]note:[/] the printed median and interval come from only {paths} sample "
                          f"path{'s' if paths > 1 else ''}; the intervals in forecast.csv do not depend on --paths",
                          soft_wrap=True)
        if not fc.meta["error_library"].startswith("errors of origins"):
            console.print(f"[yellow]note:[/] the intervals use the {fc.meta['error_library']}", soft_wrap=True)
        if horizon > H_MAX:
            later = f"months {H_MAX + 1}-{horizon} lie" if horizon > H_MAX + 1 else f"month {horizon} lies"
            console.print(f"[yellow]note:[/] {later} beyond the backtested {H_MAX} months: the point forecast "
                          f"repeats the second year and the intervals are extrapolated (interval_basis = "
                          f"'extrapolated' in forecast.csv)", soft_wrap=True)

    @app.command("forecast-backtest")
    @handle_errors
    def backtest_cmd(
        countries: str = typer.Option("all", "--countries", help="'all' or comma-separated Eurostat codes."),
        horizons: str = typer.Option("1,3,6,12,24", "--horizons", help="Comma-separated steps (months, 1..24)."),
        jobs: int = typer.Option(2, "--jobs", help="Worker processes."),
        nl_table: bool = typer.Option(True, "--nl-table/--no-nl-table", help="Add the Dutch yearly table."),
        totals: bool = typer.Option(True, "--totals/--no-totals", help="Add the backtest of the sample paths' "
                                    "6/12/24-month totals (uncalibrated and reconciled paths; docs/forecast.md)."),
        out: Path = typer.Option(Path("out/forecast-backtest"), "--out", help="Output folder."),
    ) -> None:
        """Rolling-origin backtest on the shipped series: MASE, sMAPE, annual-total error, coverage."""
        import pandas as pd
        from rich.progress import Progress
        from rich.table import Table

        from ketenplan.errors import DataError, ScenarioError
        from ketenplan.forecast.api import nl_annual_table
        from ketenplan.forecast.backtest import run_backtest
        from ketenplan._io import leave_nothing, staged_folder
        from ketenplan.forecast.backtest import H_MAX
        from ketenplan.forecast.report import write_backtest

        try:
            hs = [int(h) for h in horizons.split(",") if h.strip()]
        except ValueError:
            raise ScenarioError(f"--horizons {horizons!r}: expected comma-separated integers, e.g. 1,3,6,12,24") from None
        if not hs:
            raise ScenarioError(f"--horizons {horizons!r}: expected at least one step (months, 1..24), "
                                f"e.g. 1,3,6,12,24")
        bad = [h for h in hs if not 1 <= h <= H_MAX]
        if bad:
            raise ScenarioError(f"--horizons {horizons!r}: {', '.join(map(str, bad))} outside the backtested steps "
                                f"1..{H_MAX} (months)")
        hs = sorted(set(hs))
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
        tot_rows = tot_sum = None
        if totals:
            from ketenplan.forecast.totals import TOTAL_HORIZONS
            from ketenplan.forecast.totals_backtest import totals_backtest, totals_summary

            parts = [totals_backtest(cs, TOTAL_HORIZONS, reconcile=rec).assign(paths=name)
                     for rec, name in ((False, "uncalibrated"), (True, "reconciled"))]
            tot_rows = pd.concat(parts, ignore_index=True)
            tot_sum = pd.concat([totals_summary(d).assign(paths=name) for name, d in tot_rows.groupby("paths", sort=False)],
                                ignore_index=True)
        with leave_nothing(out), staged_folder(out, owned=BACKTEST_OUTPUTS) as stage:
            written = [out / p.name for p in write_backtest(res, stage, table, tot_sum, tot_rows)]
        nc = len(res.settings["countries"])
        tab = Table(title=f"Backtest ({nc} countr{'y' if nc == 1 else 'ies'}, {res.seconds:.1f} s)")
        for col in ("model", "h", "rows", "mase (step h)", "ratio vs snaive", "path 1..h ratio", "cov80", "cov95",
                    "cov80 path 1..h", "interval rows"):
            tab.add_column(col)

        def f(v, fmt):
            return "n/a" if v != v else format(v, fmt)

        for r in res.metrics.itertuples():
            tab.add_row(r.model, str(r.h), str(r.n), f(r.mase, ".3f"), f(r.mase_ratio_snaive, ".3f"),
                        f(r.mase_path_ratio_snaive, ".3f"), f(r.coverage80, ".2f"), f(r.coverage95, ".2f"),
                        f(r.coverage80_path, ".2f"), str(r.n_interval))
        console.print(tab)
        console.print(f"files: {', '.join(str(p) for p in written)}", soft_wrap=True)
