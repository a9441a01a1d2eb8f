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


def ensure_folder(folder: str | os.PathLike[str], what: str = "output folder") -> Path:
    """Create ``folder`` (with parents) or raise a DataError that says why it cannot be used."""
    from ketenplan.errors import DataError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{what} {folder}: is a file; expected a folder (give another --out)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{what} {folder}: cannot be created ({exc.strerror or exc}); "
                        "expected a writable folder (give another --out)") from None
    if not os.access(folder, os.W_OK):
        raise DataError(f"{what} {folder}: is not writable; give another --out")
    return folder


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success."""
    from ketenplan.errors import DataError

    target = Path(target)
    ensure_folder(target.parent)
    if target.is_dir():
        raise DataError(f"cannot write {target}: a folder of that name is in the way; remove it or give another --out")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}") from None
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


@contextlib.contextmanager
def staged_folder(folder: str | os.PathLike[str], owned: tuple[str, ...] = ()) -> Iterator[Path]:
    """Write a command's outputs into a temporary folder beside ``folder``; on success move them in.

    If anything fails while the outputs are written, ``folder`` is left as it was. On success,
    files named in ``owned`` (glob patterns of this command's outputs) that this run did not write
    are removed, so that no file of an earlier run is left beside the new ones.
    """
    folder = ensure_folder(folder)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        yield stage
        written = {p.name for p in stage.iterdir()}
        blocked = sorted(n for n in written if (folder / n).is_dir())
        if blocked:
            from ketenplan.errors import DataError
            raise DataError(f"output folder {folder}: {', '.join(blocked)} exist(s) as folder(s) where files are "
                            "written; nothing was changed. Remove them or give another --out")
        for pattern in owned:
            for old in folder.glob(pattern):
                if old.is_file() and old.name not in written:
                    old.unlink()
        for p in stage.iterdir():
            os.replace(p, folder / p.name)
    finally:
        for p in stage.glob("*"):
            with contextlib.suppress(OSError):
                p.unlink()
        with contextlib.suppress(OSError):
            stage.rmdir()


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
