"""ketenplan command line: thin; parses, configures logging, calls the public API, writes files."""

from __future__ import annotations

import logging

import typer
from rich.logging import RichHandler

from ketenplan._cli import console, err_console, handle_errors  # noqa: F401

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ketenplan: planning, forecasting and scenario simulation for the Dutch migration chain.")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=err_console, show_path=False)], force=True)


def _register_modules() -> None:
    """Each module with commands exposes ``register(app)`` in its ``cli`` submodule."""
    from ketenplan.forecast import cli as forecast_cli
    from ketenplan.placement import cli as placement_cli
    from ketenplan.solidarity import cli as solidarity_cli

    for mod in (forecast_cli, placement_cli, solidarity_cli):
        mod.register(app)


_register_modules()


def main() -> None:
    """Console entry point."""
    app()
