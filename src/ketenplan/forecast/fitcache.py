"""A disk cache of the forecast's fits (P0.1: a chain run does not refit them).

A chain run with a forecast inflow asks for the same fits every time: the same shipped series, the
same origin and horizon. The combination model's point forecast (statsforecast ETS, ARIMA and
Theta, plus the pooled regression over all countries) costs a few seconds of CPU and the import of
statsforecast more, the calibration of the intervals and of the yearly totals at the origin
(adaptive conformal over the error libraries) most of a second, each run, before any replicate
starts. Each is a pure function of its input arrays, so it is computed once and kept.

Why a hit is safe: the key is the SHA-256 of everything the fit reads (for the point forecast the
whole log panel up to the origin, months of year, the European total, origin index, horizon, model,
country row; for a calibration the error array, its origins and the calibration's name) and
of what computes it (the versions of ketenplan, statsforecast and numpy). Any change of the data,
the code release or the libraries gives another key; an entry that cannot be read, or is not a
finite array of the expected length, is ignored and refitted. Entries are written atomically
(a temporary file renamed into place), so concurrent runs never read half a file. The values are
the same as a fresh fit (bit for bit: the array is stored as written, in ``.npy``). The versions
include a digest of the forecast package's source files and ``parameters.csv``, so an edit of the
code or of a calibration parameter also gives a new key.

Where: ``$KETENPLAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/ketenplan``, else ``~/.cache/ketenplan``
(sub-folder ``forecast-fits``, a few hundred bytes per entry). ``KETENPLAN_CACHE=off`` switches it off.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=1)
def _versions() -> str:
    """The libraries' versions and a digest of the code and parameters that compute the fits: the
    forecast package's source files and its ``parameters.csv`` (calibration priors and steps), so
    that an edit between releases is never answered from the cache either."""
    from importlib.metadata import PackageNotFoundError, version

    from ketenplan import __version__
    from ketenplan.forecast.scenarios import _PARAMS

    try:
        sf = version("statsforecast")
    except PackageNotFoundError:  # pragma: no cover
        sf = "none"
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")) + [Path(_PARAMS)]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return f"ketenplan={__version__};statsforecast={sf};numpy={np.__version__};code={h.hexdigest()}"


def fit_key(*arrays: np.ndarray, **params) -> str:
    """SHA-256 (hex) of the arrays (dtype, shape and bytes), the parameters and the library versions."""
    h = hashlib.sha256(_versions().encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    h.update(repr(sorted(params.items())).encode())
    return h.hexdigest()


def cached_fit(key: str, shape: int | tuple[int, ...], fit: Callable[[], np.ndarray], *,
               allow_nan: bool = False) -> np.ndarray:
    """The float array stored under ``key`` when it has ``shape`` (and only finite values, unless
    ``allow_nan``: NaN then marks "not computable", as in the calibration's quantiles), else ``fit()``,
    stored for the next time (a cache that cannot be written is only logged)."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    folder = cache_dir()
    path = None if folder is None else folder / f"{key}.npy"

    def usable(a: np.ndarray) -> bool:
        return a.shape == shape and a.dtype == np.float64 and bool(np.all(~np.isinf(a) if allow_nan
                                                                           else np.isfinite(a)))

    if path is not None and path.exists():
        try:
            got = np.load(path, allow_pickle=False)
            if usable(got):
                log.debug("forecast fit read from %s", path)
                return got
        except (OSError, ValueError) as exc:
            log.debug("forecast fit cache %s unreadable (%s); refitting", path, exc)
    out = np.asarray(fit(), dtype=np.float64)
    if path is not None and usable(out):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".fit-", suffix=".npy", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, out, allow_pickle=False)
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("forecast fit not cached in %s (%s)", path.parent, exc)
    return out
