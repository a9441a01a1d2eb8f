"""Command of the border module: ``ketenplan border`` (P1.2)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from ketenplan._cli import console, handle_errors

#: option name of each BorderParams field the command can override
_OPTION = {"daily_border_travellers": "--daily-travellers", "desks": "--desks", "egates": "--egates",
           "desk_service_seconds": "--service-seconds", "egate_service_seconds": "--egate-seconds",
           "ees_extra_seconds": "--ees-extra-seconds", "ees_rollout_share": "--ees-rollout",
           "target_p90_min": "--target-p90-min"}

#: travellers the stationary check simulates at least (mean wait within ~0.6% standard error at 75% load)
STATIONARY_TRAVELLERS = 10_000_000


def _params(overrides: dict):
    from pydantic import ValidationError

    from ketenplan.scenario.border import BorderParams
    from ketenplan.errors import ScenarioError

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return BorderParams(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        opt = _OPTION.get(field, field)
        raise ScenarioError(f"{opt} {given.get(field)!r}: {err['msg']}") from None


def register(app: typer.Typer) -> None:
    """Add the ``border`` command to the main application."""

    @app.command("border")
    @handle_errors
    def border(
        profile: str = typer.Option(
            "schiphol", "--profile",
            help="Arrivals per hour: 'schiphol' (built-in two-wave day), 'flat', or a CSV with columns "
                 "hour,arrivals[,desks,egates] (persons/hour, servers per hour)."),
        arrivals_per_hour: Optional[float] = typer.Option(
            None, "--arrivals-per-hour",
            help="Stationary check instead of a day profile: this many travellers every hour, one class "
                 "(no EES registrations unless --ees-share, no eGates unless --egates)."),
        daily_travellers: Optional[float] = typer.Option(
            None, "--daily-travellers", help="Border-check travellers per day, both directions (persons/day); "
                                             "half enter (default 80000, KMar 2023)."),
        desks: Optional[int] = typer.Option(None, "--desks", help="Staffed desks in every hour (default 30)."),
        egates: Optional[int] = typer.Option(None, "--egates", help="Open eGates in every hour (default 39)."),
        service_seconds: Optional[float] = typer.Option(
            None, "--service-seconds", help="Mean desk check without EES registration, s (default 45)."),
        egate_seconds: Optional[float] = typer.Option(None, "--egate-seconds",
                                                      help="Mean eGate passage, s (default 7.2)."),
        ees_extra_seconds: Optional[float] = typer.Option(
            None, "--ees-extra-seconds", help="Extra desk time of an EES first registration, s (default 120)."),
        ees_rollout: Optional[float] = typer.Option(
            None, "--ees-rollout", help="Share of third-country crossings under EES (0.10, 0.35, 1; default 1)."),
        ees_share: Optional[float] = typer.Option(
            None, "--ees-share", help="Share of all travellers making an EES first registration at a desk "
                                      "(default: third-country share x rollout x first-time share = 0.11)."),
        target_p90_min: Optional[float] = typer.Option(
            None, "--target-p90-min", help="Target for the 90th-percentile wait, min (default 15)."),
        replications: Optional[int] = typer.Option(
            None, "--replications", help="Replicate days (default 100; the stationary check: enough for 1e7 "
                                         "travellers, at most 1000)."),
        seed: int = typer.Option(1, "--seed", min=0, help="Random seed (an integer >= 0)."),
        out: Path = typer.Option(Path("out/border"), "--out", help="Output folder."),
    ) -> None:
        """Passport-control queues at Schiphol: waits per hour (p50, p90) and desks needed for a p90 target."""
        from dataclasses import replace

        from rich.table import Table

        from ketenplan import _io
        from ketenplan.border.io import read_profile
        from ketenplan.border.model import (MAX_TRAVELLERS, check_day, day_from_params, run_day, staffing_table,
                                            stationary_day, with_servers)
        from ketenplan.scenario.border import HOURS
        from ketenplan.border.plots import figure, to_html
        from ketenplan.errors import ScenarioError

        p = _params({"daily_border_travellers": daily_travellers, "desks": desks, "egates": egates,
                     "desk_service_seconds": service_seconds, "egate_service_seconds": egate_seconds,
                     "ees_extra_seconds": ees_extra_seconds, "ees_rollout_share": ees_rollout,
                     "target_p90_min": target_p90_min})
        if ees_share is not None and not 0 <= ees_share <= 1:
            raise ScenarioError(f"--ees-share {ees_share!r}: expected a share in [0, 1]")
        if replications is not None and not 1 <= replications <= 100_000:
            raise ScenarioError(f"--replications {replications}: expected 1..100000")

        if arrivals_per_hour is not None:
            if profile != "schiphol":
                raise ScenarioError("--arrivals-per-hour and --profile: give one of the two (a stationary rate "
                                    "or a day profile)")
            if not (arrivals_per_hour >= 0 and math.isfinite(arrivals_per_hour)):
                raise ScenarioError(f"--arrivals-per-hour {arrivals_per_hour!r}: expected a finite number >= 0")
            if arrivals_per_hour * HOURS > MAX_TRAVELLERS:
                raise ScenarioError(
                    f"--arrivals-per-hour {arrivals_per_hour:g}: {arrivals_per_hour * HOURS:.3g} travellers per "
                    f"day is more than the {MAX_TRAVELLERS:.0e} one run can simulate; expected at most "
                    f"{MAX_TRAVELLERS / HOURS:.0f} per hour")
            day = stationary_day(arrivals_per_hour, p.desks, egates or 0, params=p,
                                 ees_share=ees_share or 0.0)
            if replications is None:
                per_day = max(arrivals_per_hour * HOURS, 1.0)
                replications = int(min(1000, max(100, math.ceil(STATIONARY_TRAVELLERS / per_day))))
        else:
            day = day_from_params(p)
            if profile == "flat":
                day = replace(day, arrivals=(p.entry_travellers_per_day / HOURS,) * HOURS, label="flat")
            elif profile != "schiphol":
                prof = read_profile(profile)
                day = replace(day, arrivals=prof.arrivals, label=Path(profile).name)
                day = with_servers(day, prof.desks if desks is None else None,
                                   prof.egates if egates is None else None)
            if ees_share is not None:
                day = replace(day, ees_share=ees_share)
            replications = replications or 100
        check_day(day, replications)

        with console.status("simulating ..."):
            run = run_day(day, replications, seed)
            waits = run.waits_table()
            pools = run.pools_table()
            staff = staffing_table(run, p.target_p90_min)
        with _io.staged_folder(out, owned=("border_waits.csv", "border_pools.csv", "border_staffing.csv",
                                           "border_waits.html")) as stage:
            _io.write_csv(stage / "border_waits.csv", waits)
            _io.write_csv(stage / "border_pools.csv", pools)
            _io.write_csv(stage / "border_staffing.csv", staff)
            _io.write_text(stage / "border_waits.html", to_html(figure(waits, f"Passport control ({day.label}): "
                                                                            "waiting time per hour")))

        t = Table(title=f"border waits (min), {day.label} ({replications} days, seed {seed}); "
                        f"need = desks for p90 <= {p.target_p90_min:g} min",
                  caption="p50, p90: with the roster's desks; need: the fewest desks with the fewest also in the "
                          "earlier hours, which let a queue build up to the target, so it can exceed the roster where "
                          "the roster's p90 is under the target (docs/border.md, Staffing)",
                  pad_edge=False)
        for col in ("hour", "arrivals", "desks", "eGates", "p50", "p90", "util.", "need"):
            t.add_column(col, justify="right", no_wrap=True, min_width=len(col))
        for w, need in zip(waits.itertuples(), staff["desks_needed"]):
            t.add_row(f"{w.hour:d}", f"{w.arrivals:.0f}", f"{w.desks:d}", f"{w.egates:d}", f"{w.p50_wait_min:.2f}",
                      f"{w.p90_wait_min:.2f}", f"{w.utilisation:.3f}", f"{need:d}")
        console.print(t)
        s = run.summary()
        if "erlang_mean_wait_s" in s:
            rel = lambda a, b: f"{a / b - 1:+.2%}" if b > 0 else "no wait expected"  # noqa: E731
            e_mean = rel(s["mean_wait_s"], s["erlang_mean_wait_s"])
            e_pw = rel(s["p_wait"], s["erlang_p_wait"])
            console.print(f"stationary M/M/c check ({day.desks[0]} desks, load "
                          f"{s['erlang_utilisation']:.3f}, {int(s['travellers']):,} travellers):", soft_wrap=True)
            console.print(f"  mean wait  {s['mean_wait_s']:.4f} s  Erlang C {s['erlang_mean_wait_s']:.4f} s  "
                          f"({e_mean})", soft_wrap=True)
            console.print(f"  P(wait>0)  {s['p_wait']:.5f}    Erlang C {s['erlang_p_wait']:.5f}    "
                          f"({e_pw})", soft_wrap=True)
        console.print(f"written to {out}: border_waits.csv, border_pools.csv, border_staffing.csv, "
                      "border_waits.html", soft_wrap=True)
