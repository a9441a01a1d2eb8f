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
