"""Commands of the placement module: ``taakstelling`` and ``place``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the placement commands to the main application."""
    return None
