"""Checked per-case input of the integration models, and the monthly grid.

The chain hands the permit holders of one simulated replicate as a dict of equal-length NumPy
arrays (one element per case = household):

=============================  ==========================================================
key                            meaning
=============================  ==========================================================
``permit_day``                 day of the asylum permit [grid day; arrival day for nareis
                               and resettlement, whose permit comes on arrival]
``housed_day``                 day housed in a municipality [grid day; negative (-1) = not
                               housed within the horizon]
``reception_days_after_permit``days in reception after the permit [days]
``wait_days``                  registration to decision [days]
``group``                      nationality-group index into ``group_names``
``adults``, ``children``       persons in the case
``stream``                     stream code into ``stream_names`` ('first', 'subsequent',
                               'nareis', 'resettlement')
=============================  ==========================================================

plus ``day0`` (``datetime.date`` of grid day 0) and ``horizon_days``; these and the name tuples
may be keys of the dict or keyword arguments. Bad input raises :class:`~ketenplan.errors.DataError`
naming the key, what was expected and what was found.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ketenplan.engine.registry import REGULAR_STREAMS
from ketenplan.errors import DataError

__all__ = ["Cases", "as_cases", "month_starts", "DEFAULT_GROUP_NAMES", "DEFAULT_STREAM_NAMES"]

DEFAULT_GROUP_NAMES = ("high", "medium", "low", "very_low")
DEFAULT_STREAM_NAMES = ("first", "subsequent", "nareis", "resettlement")
#: outcomes that give an asylum permit (or a permit on arrival)
PERMIT_OUTCOMES = ("granted", "granted_on_appeal", "granted_after_lvv", "permit_on_arrival")
#: streams whose registration to decision the IND processes (asylum first instance and regular)
IND_STREAMS = ("first", "subsequent") + REGULAR_STREAMS
_ARRAYS = ("permit_day", "housed_day", "reception_days_after_permit", "wait_days", "group", "adults", "children",
           "stream")


@dataclass(frozen=True)
class Cases:
    """Validated case arrays (see the module docstring) and the grid they live on."""

    permit_day: np.ndarray
    housed_day: np.ndarray
    reception_days_after_permit: np.ndarray
    wait_days: np.ndarray
    group: np.ndarray
    adults: np.ndarray
    children: np.ndarray
    stream: np.ndarray
    group_names: tuple[str, ...]
    stream_names: tuple[str, ...]
    day0: dt.date
    horizon_days: int

    def __len__(self) -> int:
        return len(self.permit_day)

    @property
    def n_months(self) -> int:
        """Calendar months from the month of ``day0`` to the month of the last grid day."""
        return _month_index(self.day0, np.array([self.horizon_days - 1]))[0] + 1

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Calendar-month index (0 = month of ``day0``) of grid days (may be negative)."""
        return _month_index(self.day0, days)

    def year_of(self, days: np.ndarray) -> np.ndarray:
        """Calendar year of grid days."""
        return _calendar(self.day0, days, "Y").astype(int) + 1970

    @property
    def housed(self) -> np.ndarray:
        """True where the case is housed within the horizon."""
        return self.housed_day >= 0


def _month_index(day0: dt.date, days: np.ndarray) -> np.ndarray:
    return _calendar(day0, days, "M") - np.datetime64(day0, "M").astype(np.int64)


def _calendar(day0: dt.date, days: np.ndarray, unit: str) -> np.ndarray:
    """Calendar month (``unit`` 'M') or year ('Y') of grid days, as numpy counts them since 1970 (int64).

    NumPy converts days to months or years element by element through the calendar (about 20x an
    array lookup), so the distinct days' span is converted once and looked up: the same numbers,
    a few ms less per replicate (P0.1)."""
    days = np.asarray(days, dtype="int64")
    if days.size < 64:
        return _to_unit(day0, days, unit)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 4 * days.size:  # sparse days far apart: the direct conversion is cheaper
        return _to_unit(day0, days, unit)
    return _to_unit(day0, np.arange(lo, hi + 1, dtype=np.int64), unit)[days - lo]


def _to_unit(day0: dt.date, days: np.ndarray, unit: str) -> np.ndarray:
    d = np.datetime64(day0, "D") + days.astype("timedelta64[D]")
    return d.astype(f"datetime64[{unit}]").astype(np.int64)


def month_starts(day0: dt.date, n_months: int) -> pd.DatetimeIndex:
    """First day of each of ``n_months`` calendar months from the month of ``day0``."""
    return _month_starts(day0, int(n_months)).copy()  # built once per grid (every replicate asks twice)


@functools.lru_cache(maxsize=16)
def _month_starts(day0: dt.date, n_months: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(day0).to_period("M").to_timestamp(), periods=n_months, freq="MS")


def _names(value: Any, default: tuple[str, ...], key: str) -> tuple[str, ...]:
    if value is None:
        return default
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise DataError(f"cases '{key}': expected a sequence of names, found {value!r}")
    return tuple(str(v) for v in value)


def as_cases(cases: Mapping[str, Any] | Cases, *, day0: dt.date | None = None, horizon_days: int | None = None,
             group_names: Sequence[str] | None = None, stream_names: Sequence[str] | None = None) -> Cases:
    """Check and normalise the chain's per-case dict (keyword arguments override dict keys)."""
    if isinstance(cases, Cases):
        return cases
    if not isinstance(cases, Mapping):
        raise DataError(f"cases: expected a dict of NumPy arrays, found {type(cases).__name__}")
    missing = [k for k in _ARRAYS if k not in cases]
    if missing:
        raise DataError(f"cases: keys missing {missing}; expected {list(_ARRAYS)}")
    day0 = day0 if day0 is not None else cases.get("day0")
    horizon_days = horizon_days if horizon_days is not None else cases.get("horizon_days")
    if isinstance(day0, pd.Timestamp | dt.datetime):
        day0 = day0.date()
    if not isinstance(day0, dt.date):
        raise DataError(f"cases 'day0': expected a datetime.date (day 0 of the grid), found {day0!r}")
    if horizon_days is None or int(horizon_days) != horizon_days or int(horizon_days) < 1:
        raise DataError(f"cases 'horizon_days': expected a positive whole number of days, found {horizon_days!r}")
    gnames = _names(group_names if group_names is not None else cases.get("group_names"), DEFAULT_GROUP_NAMES,
                    "group_names")
    snames = _names(stream_names if stream_names is not None else cases.get("stream_names"), DEFAULT_STREAM_NAMES,
                    "stream_names")
    arr = {}
    n = None
    for k in _ARRAYS:
        a = np.asarray(cases[k])
        if a.ndim != 1:
            raise DataError(f"cases '{k}': expected a 1-D array, found shape {a.shape}")
        if n is None:
            n = len(a)
        elif len(a) != n:
            raise DataError(f"cases '{k}': expected {n} elements (as 'permit_day'), found {len(a)}")
        if not np.issubdtype(a.dtype, np.number):
            raise DataError(f"cases '{k}': expected numbers, found dtype {a.dtype}")
        a = a.astype(float)
        if not np.isfinite(a).all():
            i = int(np.flatnonzero(~np.isfinite(a))[0])
            raise DataError(f"cases '{k}' element {i}: expected a finite number, found {a[i]!r}")
        arr[k] = a
    for k in ("reception_days_after_permit", "wait_days", "adults", "children"):
        if (arr[k] < 0).any():
            i = int(np.flatnonzero(arr[k] < 0)[0])
            raise DataError(f"cases '{k}' element {i}: expected a non-negative number, found {arr[k][i]!r}")
    for k, names in (("group", gnames), ("stream", snames)):
        a = arr[k]
        bad = (a != np.round(a)) | (a < 0) | (a >= len(names))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"cases '{k}' element {i}: expected an index 0..{len(names) - 1} into {list(names)}, "
                            f"found {a[i]!r}")
    housed = arr["housed_day"]
    late = (housed >= 0) & (housed < arr["permit_day"] - 1)
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise DataError(f"cases 'housed_day' element {i}: expected -1 (not housed) or a day on or after the permit "
                        f"day {arr['permit_day'][i]:g}, found {housed[i]:g}")
    return Cases(permit_day=arr["permit_day"].astype(np.int64), housed_day=np.where(housed >= 0, housed, -1).astype(np.int64),
                 reception_days_after_permit=arr["reception_days_after_permit"], wait_days=arr["wait_days"],
                 group=arr["group"].astype(np.int64), adults=arr["adults"], children=arr["children"],
                 stream=arr["stream"].astype(np.int64), group_names=gnames, stream_names=snames, day0=day0,
                 horizon_days=int(horizon_days))
