"""Shared helpers for command modules: one console, one way to report errors."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ketenplan.errors import KetenplanError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., object])


def handle_errors(func: F) -> F:
    """Turn a KetenplanError into a one-line red message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KetenplanError as exc:
            err_console.print("[bold red]error:[/] " + escape(str(exc)), soft_wrap=True)
            raise typer.Exit(code=2) from None
        except OSError as exc:  # a file or folder the user named cannot be read or written
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            err_console.print("[bold red]error:[/] " + escape(f"{exc.strerror or exc}:{where}"), soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def show_warnings_plainly() -> None:
    """Show our own warnings (plausibility, data) as one 'warning:' line each, without a source line."""
    import warnings

    from ketenplan.errors import KetenplanWarning

    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, KetenplanWarning):
            err_console.print("[yellow]warning:[/] " + escape(str(message)), soft_wrap=True)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def fmt_number(v) -> str:
    """A number as printed in tables: thousands separators, one decimal (two below 10), 'n/a' for NaN."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if x != x:
        return "n/a"
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}"


def print_kpi_table(title: str, rows, stats=("mean", "p10", "p90")) -> None:
    """Key figures (``rows``: (name, record with the stats and 'unit')) as a table that never cuts
    a number: names and units wrap; where even that does not fit the terminal, one block per
    figure is printed instead."""
    from rich.table import Table

    cells = [(name, [fmt_number(r[s]) for s in stats], str(r["unit"])) for name, r in rows]
    num_w = [max([len(s)] + [len(c[1][j]) for c in cells]) for j, s in enumerate(stats)]
    # borders and padding of a rich table: 3 characters per column plus 1
    need = sum(num_w) + 12 + 10 + 3 * (len(stats) + 2) + 1
    if console.width >= need:
        t = Table(title=title, title_justify="left")
        t.add_column("key figure", overflow="fold", ratio=3)
        for s, w in zip(stats, num_w):
            t.add_column(s, justify="right", no_wrap=True, min_width=w)
        t.add_column("unit", overflow="fold", ratio=2)
        for name, nums, unit in cells:
            t.add_row(name, *nums, unit)
        console.print(t)
        return
    console.print(title, soft_wrap=True)
    for name, nums, unit in cells:
        console.print(f"{name} [{unit}]", soft_wrap=True)
        console.print("  " + "  ".join(f"{s} {v}" for s, v in zip(stats, nums)), soft_wrap=True)
