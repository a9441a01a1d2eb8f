"""Atomic file output: write to a temporary file beside the target, then rename.

Nothing half-written is ever left at the target path: if writing fails the temporary
file is removed and the previous file (if any) stays untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_with(target: str | os.PathLike[str], writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and atomically move the result to ``target``."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 text."""
    return write_with(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_csv(target: str | os.PathLike[str], df: pd.DataFrame, **kwargs) -> Path:
    """Atomically write a DataFrame as CSV (no index unless asked)."""
    kwargs.setdefault("index", False)
    return write_with(target, lambda p: df.to_csv(p, **kwargs))


def write_parquet(target: str | os.PathLike[str], df: pd.DataFrame) -> Path:
    """Atomically write a DataFrame as Parquet (pyarrow)."""
    return write_with(target, lambda p: df.to_parquet(p, index=False))
