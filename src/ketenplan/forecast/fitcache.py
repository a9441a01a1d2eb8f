"""A disk cache of the combination model's point forecasts (P0.1: a chain run does not refit them).

A chain run with a forecast inflow asks for the same fit every time: the same shipped series, the
same origin and horizon. The fit (statsforecast ETS, ARIMA and Theta, plus the pooled regression
over all countries) costs a few seconds of CPU and the import of statsforecast more, each run,
before any replicate starts. It is a pure function of its inputs, so it is computed once and kept.

Why a hit is safe: the key is the SHA-256 of everything the fit reads (the whole log panel up to
the origin, months of year, the European total, origin index, horizon, model, country row) and
of what computes it (the versions of ketenplan, statsforecast and numpy). Any change of the data,
the code release or the libraries gives another key; an entry that cannot be read, or is not a
finite array of the expected length, is ignored and refitted. Entries are written atomically
(a temporary file renamed into place), so concurrent runs never read half a file. The values are
the same as a fresh fit (bit for bit: the array is stored as written, in ``.npy``).

Where: ``$KETENPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/ketenplan``, else ``~/.cache/ketenplan``
(sub-folder ``forecast-fits``, a few hundred bytes per entry). ``KETENPLAN_CACHE=off`` switches it off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    """The folder of the fit cache, or None when the cache is off (``KETENPLAN_CACHE=off``)."""
    if os.environ.get("KETENPLAN_CACHE", "").strip().lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("KETENPLAN_CACHE_DIR") or ""
    if base:
        root = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or ""
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "ketenplan"
    return root / "forecast-fits"


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from ketenplan import __version__

    try:
        sf = version("statsforecast")
    except PackageNotFoundError:  # pragma: no cover
        sf = "none"
    return f"ketenplan={__version__};statsforecast={sf};numpy={np.__version__}"


def fit_key(*arrays: np.ndarray, **params) -> str:
    """SHA-256 (hex) of the arrays (dtype, shape and bytes), the parameters and the library versions."""
    h = hashlib.sha256(_versions().encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    h.update(repr(sorted(params.items())).encode())
    return h.hexdigest()


def cached_fit(key: str, length: int, fit: Callable[[], np.ndarray]) -> np.ndarray:
    """The array stored under ``key`` when it is a finite float array of ``length`` values, else
    ``fit()`` (stored for the next time; a cache that cannot be written is only logged)."""
    folder = cache_dir()
    path = None if folder is None else folder / f"{key}.npy"
    if path is not None and path.exists():
        try:
            got = np.load(path, allow_pickle=False)
            if got.shape == (length,) and got.dtype == np.float64 and np.all(np.isfinite(got)):
                log.debug("forecast fit read from %s", path)
                return got
        except (OSError, ValueError) as exc:
            log.debug("forecast fit cache %s unreadable (%s); refitting", path, exc)
    out = np.asarray(fit(), dtype=np.float64)
    if path is not None and out.shape == (length,) and np.all(np.isfinite(out)):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".fit-", suffix=".npy", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, out, allow_pickle=False)
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("forecast fit not cached in %s (%s)", path.parent, exc)
    return out
