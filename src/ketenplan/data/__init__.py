"""Real public datasets shipped with ketenplan, and the readers that load them.

Every file here is listed, with publisher, origin, span and licence, in ``SOURCES.md``
in this folder (or in the ``SOURCES.md`` of its sub-folder). Readers rename columns to
ketenplan's canonical names at this edge; nothing downstream sees the raw names.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ketenplan.errors import DataError


def data_path(*parts: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("nl_chain", "coa_occupancy.csv")``."""
    path = Path(str(resources.files("ketenplan.data").joinpath(*parts)))
    if not path.exists():
        raise DataError(f"shipped data file {'/'.join(parts)} is missing from the package at {path}; "
                        "reinstall ketenplan (pip install -e .) so that package data is included")
    return path
