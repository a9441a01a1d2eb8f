"""Command line for EU solidarity: ``ketenplan solidarity key|allocate|simulate|indicators``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ketenplan._cli import Col, console, fmt_number, handle_errors, print_table

DEFAULT_OUT = Path("out/solidarity")

_SCHEME_HELP = "relocation-2015 | dublin-2016 | pact-2024"
#: GDP column of a key -> (table header, divisor to that unit)
_GDP_SHOWN = {"gdp_eur_million": ("GDP [EUR million]", 1.0), "gdp_usd": ("GDP [USD million]", 1e6)}


def _codes(text: Optional[str]) -> Optional[list[str]]:
    return [c.strip().upper() for c in text.split(",") if c.strip()] if text else None


def _write(out: Path, stem: str, df, fig) -> None:
    """Write the table (CSV) and the chart (HTML) together: both or neither."""
    from ketenplan._io import staged_folder, write_csv, write_text
    from ketenplan.solidarity.plots import to_html

    html = to_html(fig)
    with staged_folder(out) as stage:
        write_csv(stage / f"{stem}.csv", df)
        write_text(stage / f"{stem}.html", html)
    console.print(f"wrote {out / f'{stem}.csv'} and {out / f'{stem}.html'}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``solidarity`` sub-app to the main application."""
    sub = typer.Typer(no_args_is_help=True,
                      help="EU solidarity: distribution keys, relocation, indicators (P3.1, P3.2, P2.1).")

    def _key(scheme, year, proposal, states, exclude):
        from ketenplan.errors import ScenarioError
        from ketenplan.solidarity import data as sdata
        from ketenplan.solidarity.keys import check_variant, distribution_key
        from ketenplan.solidarity.schemes import SCHEMES

        if scheme not in SCHEMES:
            raise ScenarioError(f"--scheme {scheme!r}: unknown scheme; expected one of {', '.join(SCHEMES)}")
        check_variant(scheme, proposal)
        lo, hi = sdata.year_span(sdata.population_gdp())
        if scheme != "relocation-2015" and year is None:
            raise ScenarioError(f"--year is required for scheme {scheme} (the year of the population and GDP "
                                f"figures, {lo}-{hi})")
        if year is not None and not lo <= year <= hi:
            raise ScenarioError(f"--year {year}: outside the population and GDP figures ({lo}-{hi}); "
                                f"expected a year in {lo}-{hi}")
        return distribution_key(scheme, year, variant=proposal, states=_codes(states), exclude=_codes(exclude))

    @sub.command("key")
    @handle_errors
    def key_cmd(
        scheme: str = typer.Option("relocation-2015", "--scheme", help=_SCHEME_HELP),
        year: Optional[int] = typer.Option(None, "--year", help="year of the inputs (relocation-2015: default 2014, "
                                           "the figures of 2015; others: required, 2010-2023)"),
        proposal: Optional[str] = typer.Option(None, "--proposal", help="relocation-2015 only: may-2015 | sep-2015"),
        states: Optional[str] = typer.Option(None, "--states", help="ISO3 codes, comma separated (default: the "
                                             "scheme's participants)"),
        exclude: Optional[str] = typer.Option(None, "--exclude", help="ISO3 codes to leave out"),
        out: Path = typer.Option(DEFAULT_OUT, "--out", help="output folder"),
    ) -> None:
        """The key per state with its inputs; table, CSV and bar chart."""
        from ketenplan.solidarity.plots import key_bar

        k = _key(scheme, year, proposal, states, exclude)
        y = k.attrs.get("year")
        gcol, gunit = k.attrs["gdp_column"], k.attrs.get("gdp_unit")
        ghead, gdiv = _GDP_SHOWN.get(gcol, (f"GDP [{gunit}]", 1.0))
        cols = [Col("state", key=True), Col("population", number=True), Col(ghead, number=True),
                Col("unempl. %", number=True), Col("past appl. per million", number=True),
                Col("share %", number=True)]
        rows = [(f"{iso} {r['name']}", fmt_number(r.population, 0), fmt_number(r[gcol] / gdiv, 0),
                 fmt_number(r.unemployment_rate, 1), fmt_number(r.past_applications_per_million, 0),
                 fmt_number(100 * r.share, 3))
                for iso, r in k.sort_values("share", ascending=False).iterrows()]
        print_table(f"{scheme} key, inputs of {y} (GDP in {gunit})", cols, rows)
        tag = f"_{proposal}" if proposal else ""
        _write(out, f"key_{scheme}{tag}_{y}", k.reset_index(), key_bar(k, f"{scheme}{tag} key ({y})"))

    @sub.command("allocate")
    @handle_errors
    def allocate_cmd(
        scheme: str = typer.Option("relocation-2015", "--scheme", help=_SCHEME_HELP),
        total: int = typer.Option(..., "--total", help="persons to allocate"),
        year: Optional[int] = typer.Option(None, "--year", help="year of the inputs (see `key`)"),
        proposal: Optional[str] = typer.Option(None, "--proposal", help="relocation-2015 only: may-2015 | sep-2015"),
        rounding: str = typer.Option("largest-remainder", "--rounding", help="largest-remainder | per-state"),
        states: Optional[str] = typer.Option(None, "--states", help="ISO3 codes, comma separated"),
        exclude: Optional[str] = typer.Option(None, "--exclude", help="ISO3 codes to leave out"),
        out: Path = typer.Option(DEFAULT_OUT, "--out", help="output folder"),
    ) -> None:
        """Integer allocation of --total persons by the key."""
        from ketenplan.solidarity.allocate import allocate
        from ketenplan.solidarity.plots import allocation_bar

        from ketenplan.solidarity.allocate import check_total

        k = _key(scheme, year, proposal, states, exclude)
        check_total(k, total)
        a = allocate(k, total, rounding)  # type: ignore[arg-type]
        rows = [(f"{iso} {r['name']}", fmt_number(100 * r.share, 3), fmt_number(r.quota, 2),
                 fmt_number(r.persons, 0)) for iso, r in a.sort_values("persons", ascending=False).iterrows()]
        print_table(f"{scheme}: {total:,} persons, {rounding} rounding (allocated {a.attrs['allocated']:,})",
                    [Col("state", key=True), Col("share %", number=True), Col("quota", number=True),
                     Col("persons", number=True)], rows)
        tag = f"_{proposal}" if proposal else ""
        _write(out, f"allocation_{scheme}{tag}_{total}_{rounding}", a.reset_index(),
               allocation_bar(a, f"{scheme}: {total:,} persons ({rounding})"))

    @sub.command("simulate")
    @handle_errors
    def simulate_cmd(
        scheme: str = typer.Option("dublin-2016", "--scheme", help="dublin-2016 | pact-2024"),
        years: str = typer.Option("2015-2024", "--years", help="e.g. 2015-2024"),
        opt_out: Optional[str] = typer.Option(None, "--opt-out", help="dublin-2016 only: ISO3 codes of states "
                                              "that opt out and pay per applicant"),
        pledge_fraction: Optional[float] = typer.Option(None, "--pledge-fraction", help="pact-2024 only: share of "
                                                        "the relocation fair share pledged as relocations"),
        exclude: Optional[str] = typer.Option(None, "--exclude", help="ISO3 codes of participants to leave out "
                                              "(e.g. a state without data for some years)"),
        focus: str = typer.Option("NLD", "--focus", help="state shown in the table and the lower chart"),
        out: Path = typer.Option(DEFAULT_OUT, "--out", help="output folder"),
    ) -> None:
        """Replay the real annual applications through the mechanism of --scheme."""
        from ketenplan.solidarity.plots import simulation_figure
        from ketenplan.solidarity.simulate import simulate

        from ketenplan.errors import ScenarioError
        from ketenplan.solidarity.simulate import SCHEMES_WITH_REPLAY

        if scheme not in SCHEMES_WITH_REPLAY:
            raise ScenarioError(f"--scheme {scheme!r}: no replay for this scheme; expected one of "
                                f"{', '.join(SCHEMES_WITH_REPLAY)}")
        kwargs: dict = {"exclude": _codes(exclude)}
        if opt_out is not None:
            kwargs["opt_out"] = _codes(opt_out) or []
        if pledge_fraction is not None:
            kwargs["relocation_pledge_fraction"] = pledge_fraction
        res = simulate(scheme, years, **kwargs)
        if focus.upper() not in set(res.iso3):
            raise ScenarioError(f"--focus {focus!r}: not a state of the {scheme} replay; expected one of "
                                f"{', '.join(dict.fromkeys(res.iso3))}")
        f = res[res.iso3 == focus.upper()]
        money = "solidarity_contribution_eur" if scheme == "dublin-2016" else "contribution_eur"
        cols = [Col("year", key=True, wrap=False), *(Col(c, number=True) for c in (
            "key %", "asylum appl.", "reference", "actual %", "reloc. in", "reloc. out", "EUR paid"))]
        rows = [(str(r.year), fmt_number(100 * r.key, 2), fmt_number(r.applications, 0),
                 fmt_number(r.reference_number, 0), fmt_number(r.actual_share_pct, 0), fmt_number(r.relocations_in, 0),
                 fmt_number(r.relocations_out, 0), fmt_number(getattr(r, money), 0)) for r in f.itertuples()]
        print_table(f"{scheme} replay, {focus.upper()}", cols, rows)
        tot = res.groupby("year")[["relocations_out"]].sum()
        console.print("relocations per year (all states): "
                      + ", ".join(f"{y}: {int(v):,}" for y, v in tot.relocations_out.items()), soft_wrap=True)
        _write(out, f"simulate_{scheme}_{years}", res,
               simulation_figure(res, f"{scheme} replay {years}", focus=focus.upper()))

    @sub.command("indicators")
    @handle_errors
    def indicators_cmd(
        year: int = typer.Option(2023, "--year", help="year (2000-2023)"),
        measure: str = typer.Option("refugees_and_oip", "--measure",
                                    help="refugees | refugees_and_oip | refugees_oip_and_asylum_seekers"),
        top: int = typer.Option(20, "--top", help="rows shown (>= 1)"),
        out: Path = typer.Option(DEFAULT_OUT, "--out", help="output folder"),
    ) -> None:
        """Refugees hosted per 1,000 inhabitants, per USD GDP per capita, per USD 1 million GDP, ranked."""
        from ketenplan.solidarity.indicators import host_indicators
        from ketenplan.solidarity.plots import indicators_bar

        from ketenplan.errors import ScenarioError

        if top < 1:
            raise ScenarioError(f"--top {top}: expected an integer >= 1 (number of rows shown)")
        ind = host_indicators(year, measure)
        cols = [Col("rank", number=True), Col("country", key=True), Col("hosted", number=True),
                Col("per 1,000 inh.", number=True), Col("per USD GDP pc (PPP)", number=True),
                Col("per USD 1 m GDP (PPP)", number=True)]
        rows = [(fmt_number(r.rank_per_1000_inhabitants, 0), f"{r.iso3} {r.name}", fmt_number(r.hosted, 0),
                 fmt_number(r.per_1000_inhabitants, 1), fmt_number(r.per_usd_gdp_pc_ppp, 1),
                 fmt_number(r.per_usd_million_gdp_ppp, 2)) for r in ind.head(top).itertuples()]
        gap = "; n/a: no GDP per capita (PPP) in the World Bank data" if any("n/a" in r for r in rows) else ""
        print_table(f"Responsibility-sharing indicators {year} ({measure}){gap}", cols, rows)
        _write(out, f"indicators_{year}_{measure}", ind,
               indicators_bar(ind, "per_1000_inhabitants", f"Hosted per 1,000 inhabitants, {year}"))

    app.add_typer(sub, name="solidarity")
