"""What-if generators for monthly inflow: a surge like 2015, a dip like 2020, a level shift.

Each generator works on either

* a DataFrame with columns ``path``, ``month`` ("YYYY-MM") and ``applicants`` (the output of
  :func:`ketenplan.forecast.inflow_sample_paths`), with ``onset`` a month "YYYY-MM"; or
* a NumPy array of monthly values, one-dimensional (months) or two-dimensional (paths x
  months), with ``onset`` an integer column index;

and returns the same kind of object with ``applicants`` multiplied by the scenario factor
(other columns are kept, so generators compose: ``surge(dip(paths, ...), ...)``). Defaults
come from ``parameters.csv`` (sources there). Factors are deterministic; the randomness of a
run stays in the sample paths.

The factor of each generator is one profile function (:func:`surge_profile`,
:func:`dip_profile`, :func:`level_shift_profile`); the chain engine's ``[[inflow.shocks]]``
reach the same functions through ``Shock.factor``. Month counts (``duration``, ``ramp_up``,
``ramp``) must be whole numbers; a fractional value is rejected, not truncated.

Column ``surge_applicants`` (DataFrame input) holds the persons added by surges, for
:func:`by_nationality`. Every generator multiplies it as the engine's ``shocked_first``
multiplies its parts: a factor below 1 (a dip, a cut, a fall) scales the surge persons with the
rest, and a factor above 1 from a surge adds ``applicants x (factor - 1)`` to them while a
rising level shift scales them. So ``0 <= surge_applicants <= applicants`` always holds and, for
shocks that commute, the split does not depend on the order of the generators.
"""

from __future__ import annotations

import functools
import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.errors import ScenarioError
from ketenplan.forecast import data as fdata

_PARAMS = Path(__file__).with_name("parameters.csv")


@functools.lru_cache(maxsize=None)
def parameters() -> pd.DataFrame:
    """The forecast module's named parameters: ``name, value, unit, source, note``."""
    return pd.read_csv(_PARAMS)


def param(name: str) -> float:
    """Value of one named parameter from ``parameters.csv``."""
    p = parameters().set_index("name")
    if name not in p.index:
        raise ScenarioError(f"parameters.csv: no parameter {name!r}; known: {', '.join(p.index)}")
    return float(p.loc[name, "value"])


def _offsets(data, onset) -> np.ndarray | pd.Series:
    """Months since onset (0 at onset) for each value of ``data``."""
    if isinstance(data, pd.DataFrame):
        for col in ("month", "applicants"):
            if col not in data.columns:
                raise ScenarioError(f"scenario input: missing column {col!r}; expected columns path, month, applicants")
        try:
            on = pd.Period(str(onset), freq="M")
            months = pd.PeriodIndex(data["month"].astype(str), freq="M")
        except (ValueError, TypeError) as exc:
            raise ScenarioError(f"scenario onset {onset!r} or a month value is not a 'YYYY-MM' month ({exc})") from None
        return np.asarray((months.year - on.year) * 12 + (months.month - on.month))
    arr = np.asarray(data, dtype=float)
    if arr.ndim not in (1, 2):
        raise ScenarioError(f"scenario input: expected a 1-D or 2-D monthly array, found shape {arr.shape}")
    if isinstance(onset, (bool, np.bool_)) or not isinstance(onset, (int, np.integer)):
        raise ScenarioError(f"scenario onset {onset!r}: for an array give the month index (int)")
    return np.arange(arr.shape[-1]) - int(onset)


def _apply(data, factor: np.ndarray, extra_col: str | None = None):
    """Multiply ``applicants`` by ``factor``; keep the surge persons consistent.

    Mirrors ``ketenplan.engine.compile.shocked_first``: with ``extra_col`` (a shock whose added
    persons are tracked separately) the existing surge persons are multiplied by ``min(f, 1)``
    and ``applicants x max(f - 1, 0)`` is added to them; without it they are multiplied by ``f``
    like every other person. The column is kept within ``0 .. applicants`` (rounding only).
    """
    if isinstance(data, pd.DataFrame):
        out = data.copy()
        f = np.asarray(factor, dtype=float)
        before = out["applicants"].to_numpy(float)
        after = before * f
        out["applicants"] = after
        col = extra_col or "surge_applicants"
        if extra_col or col in out:
            prev = out[col].to_numpy(float) if col in out else np.zeros(len(out))
            if extra_col:
                extra = prev * np.minimum(f, 1.0) + before * np.maximum(f - 1.0, 0.0)
            else:
                extra = prev * f
            out[col] = np.minimum(np.maximum(extra, 0.0), np.maximum(after, 0.0))
        return out
    arr = np.asarray(data, dtype=float)
    return arr * factor


def _check(name: str, value: float, lo: float, hi: float | None = None) -> float:
    v = float(value)
    if not np.isfinite(v) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise ScenarioError(f"scenario parameter {name}: expected {rng}, found {value!r}")
    return v


def _months(name: str, value, lo: int) -> int:
    """A month count: a whole number >= ``lo`` (an int, or a float such as 4.0 from
    ``parameters.csv``); fractions, bools and non-numbers are rejected, never truncated."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        v = float(value)
        ok = bool(np.isfinite(v)) and v == np.floor(v)
    if not ok:
        raise ScenarioError(f"scenario parameter {name}: expected a whole number of months "
                            f"(an integer >= {lo}), found {value!r}")
    if v < lo:
        raise ScenarioError(f"scenario parameter {name}: expected an integer >= {lo} months, found {value!r}")
    return int(v)


def _surge_args(size: float, duration, ramp_up) -> tuple[float, int, int]:
    try:
        v = float(size)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and v >= 1.0):
        raise ScenarioError(f"scenario parameter size: a surge's peak factor must be >= 1 "
                            f"(x baseline, 1 = no change), found {size!r}; for a fall use dip "
                            f"(depth = 1 - factor)")
    size = v
    duration = _months("duration", duration, 1)
    ramp_up = _months("ramp_up", ramp_up, 0)
    if duration <= ramp_up:
        raise ScenarioError(f"scenario parameter duration: expected more months than parameter ramp_up "
                            f"({ramp_up}), so that the surge falls back to the baseline after its peak, "
                            f"found {duration}")
    return size, duration, ramp_up


def surge_profile(offsets: np.ndarray, size: float, duration: int, ramp_up: int) -> np.ndarray:
    """Multiplicative factor of a surge for months ``offsets`` after the onset (negative: before).

    With ``t`` the months since onset:

    * ``t < 0`` and ``t >= duration``: 1;
    * ``0 <= t <= ramp_up``: ``1 + (size - 1) (t + 1) / (ramp_up + 1)``, a linear rise in which
      the onset month already has ``1 / (ramp_up + 1)`` of the rise (the convention of
      :func:`level_shift_profile`) and the factor is ``size`` exactly ``ramp_up`` months after
      onset (``ramp_up = 0``: the onset month is the peak);
    * ``ramp_up <= t <= duration``: ``1 + (size - 1) (duration - t) / (duration - ramp_up)``, a
      linear fall that is 1 again at ``duration`` months after onset.

    Requires ``size >= 1`` and whole months ``0 <= ramp_up < duration``. E.g. size 3,
    ramp_up 0, duration 4 gives 3, 2.5, 2, 1.5, 1 from the onset on.
    """
    size, duration, ramp_up = _surge_args(size, duration, ramp_up)
    t = np.asarray(offsets, dtype=float)
    up = (t + 1.0) / (ramp_up + 1.0)
    down = (duration - t) / (duration - ramp_up)
    shape = np.where(t <= ramp_up, up, down)
    shape = np.where((t < 0) | (t >= duration), 0.0, np.clip(shape, 0.0, 1.0))
    return 1.0 + (size - 1.0) * shape


def surge(data, onset, size: float | None = None, duration: int | None = None, ramp_up: int | None = None):
    """A surge like 2015: applicants multiplied by a triangular bump peaking at ``size``.

    ``size`` [x baseline] peak factor, >= 1 (a fall is a :func:`dip`; default
    ``surge_2015_peak_factor`` = 4.96, NL October 2015 over the 2014 monthly mean);
    ``duration`` [months] from onset until the factor is 1 again (default 8); ``ramp_up``
    [months] from onset to the peak (default 4), less than ``duration``. Month counts are whole
    numbers. Profile: :func:`surge_profile` (the onset month already has 1/(ramp_up + 1) of the
    rise; the peak is ``ramp_up`` months after onset; back at 1 ``duration`` months after
    onset). A DataFrame gains (or adds to) the column ``surge_applicants`` with the extra
    persons, for :func:`by_nationality`.
    """
    size, duration, ramp_up = _surge_args(param("surge_2015_peak_factor") if size is None else size,
                                          param("surge_2015_duration_months") if duration is None else duration,
                                          param("surge_2015_ramp_up_months") if ramp_up is None else ramp_up)
    f = surge_profile(_offsets(data, onset), size, duration, ramp_up)
    return _apply(data, f, "surge_applicants")


def dip_profile(offsets: np.ndarray, depth: float, duration: int) -> np.ndarray:
    """Multiplicative factor of a dip: ``1 - depth`` for months ``0 .. duration - 1`` after the
    onset, 1 elsewhere (no ramp)."""
    depth = _check("depth", depth, 0.0, 1.0)
    duration = _months("duration", duration, 1)
    t = np.asarray(offsets, dtype=float)
    return np.where((t >= 0) & (t < duration), 1.0 - depth, 1.0)


def dip(data, onset, depth: float | None = None, duration: int | None = None):
    """A dip like 2020: applicants multiplied by ``1 - depth`` for ``duration`` months.

    ``depth`` [fraction] (default ``dip_2020_depth`` = 0.396, NL 2020 over 2019 yearly
    totals); ``duration`` [months, whole number] (default 12, a named assumption). The dip has
    no ramp: it starts in the onset month and ends after ``duration`` months
    (:func:`dip_profile`).
    """
    f = dip_profile(_offsets(data, onset), param("dip_2020_depth") if depth is None else depth,
                    param("dip_2020_duration_months") if duration is None else duration)
    return _apply(data, f)


def level_shift_profile(offsets: np.ndarray, size: float, ramp: int = 0) -> np.ndarray:
    """Multiplicative factor of a level shift: ``1 + size w`` with ``w = (t + 1) / (ramp + 1)``
    for months ``0 <= t < ramp`` after the onset and ``w = 1`` from ``t = ramp`` on (0 before the
    onset): the onset month already has ``1 / (ramp + 1)`` of the shift."""
    size = _check("size", size, -1.0)
    ramp = _months("ramp", ramp, 0)
    t = np.asarray(offsets, dtype=float)
    w = np.clip((t + 1.0) / (ramp + 1.0), 0.0, 1.0)
    w = np.where(t < 0, 0.0, w)
    return 1.0 + size * w


def level_shift(data, onset, size: float, ramp: int = 0):
    """A lasting change of level: applicants multiplied by ``1 + size`` from onset on.

    ``size`` [fraction] (e.g. -0.2 for a measure that cuts inflow by a fifth; >= -1);
    ``ramp`` [months, whole number] over which the shift builds up linearly (0 = at once; the
    onset month has ``1/(ramp + 1)`` of it, the full shift is reached ``ramp`` months after
    onset; :func:`level_shift_profile`). No default size: a level shift is the user's lever.
    """
    f = level_shift_profile(_offsets(data, onset), size, ramp)
    return _apply(data, f)


def nationality_mix(country: str = "NL", year: int = 2014, top: int = 10) -> dict[str, float]:
    """Shares of citizenships among applicants of ``country`` in ``year`` (Eurostat yearly).

    The ``top`` largest citizenships are kept and the rest pooled as ``OTHER``. Shares sum to 1.
    """
    c = fdata.annual_by_citizenship()
    d = c[(c["geo_iso3"] == fdata.iso3(country)) & (c["year"] == int(year))]
    d = d[~d["citizen_iso3"].isin(["TOTAL", "EXT_EU27", "EU27"])]
    if d.empty:
        raise ScenarioError(f"{fdata.CITIZEN_FILE}: no citizenship rows for {country} in {year}; "
                            "expected a year between 2011 and 2024")
    return _top_shares(d.groupby("citizen_iso3")["persons"].sum(), top)


def surge_mix(country: str = "NL", before: int = 2014, during: int = 2015, top: int = 10) -> dict[str, float]:
    """Citizenship mix of the extra applicants of a surge: positive increases from ``before``
    to ``during`` by citizenship, normalised (default: NL 2015 over 2014)."""
    c = fdata.annual_by_citizenship()
    d = c[c["geo_iso3"] == fdata.iso3(country)]
    a = d[d["year"] == before].groupby("citizen_iso3")["persons"].sum()
    b = d[d["year"] == during].groupby("citizen_iso3")["persons"].sum()
    inc = b.sub(a, fill_value=0).clip(lower=0).sort_values(ascending=False)
    if inc.sum() <= 0:
        raise ScenarioError(f"{fdata.CITIZEN_FILE}: {country} shows no increase from {before} to {during}")
    return _top_shares(inc, top)


def _top_shares(persons: pd.Series, top: int) -> dict[str, float]:
    """Shares of the ``top`` largest citizenships in ``persons``, the rest as ``OTHER``."""
    s = persons.sort_values(ascending=False)
    mix = (s.iloc[:top] / s.sum()).to_dict()
    rest = 1.0 - sum(mix.values())
    if rest > 0:
        mix["OTHER"] = rest
    return {k: float(v) for k, v in mix.items()}


def by_nationality(df: pd.DataFrame, base_mix: dict[str, float], surge_mix: dict[str, float] | None = None) -> pd.DataFrame:
    """Split monthly applicants by citizenship: long ``path, month, nationality, applicants``.

    The surge part (column ``surge_applicants``, if present) is split by ``surge_mix``, the rest
    by ``base_mix``. Each mix must be shares >= 0 summing to 1.
    """
    for name, mix in (("base_mix", base_mix), ("surge_mix", surge_mix)):
        if mix is None:
            continue
        v = np.array(list(mix.values()), float)
        if np.any(v < 0) or not np.isclose(v.sum(), 1.0, atol=1e-6):
            raise ScenarioError(f"scenario {name}: shares must be >= 0 and sum to 1, found sum {v.sum():.4f}")
    extra = df["surge_applicants"].to_numpy(float) if "surge_applicants" in df else np.zeros(len(df))
    base = df["applicants"].to_numpy(float) - extra
    parts = []
    keys = ["path", "month"] if "path" in df else ["month"]
    for nat in sorted(set(base_mix) | set(surge_mix or {})):
        val = base * base_mix.get(nat, 0.0) + extra * (surge_mix or base_mix).get(nat, 0.0)
        part = df[keys].copy()
        part["nationality"] = nat
        part["applicants"] = val
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.groupby(keys + ["nationality"], as_index=False, sort=True)["applicants"].sum()
