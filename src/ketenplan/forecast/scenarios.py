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
"""

from __future__ import annotations

import functools
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
    if not isinstance(onset, (int, np.integer)):
        raise ScenarioError(f"scenario onset {onset!r}: for an array give the month index (int)")
    return np.arange(arr.shape[-1]) - int(onset)


def _apply(data, factor: np.ndarray, extra_col: str | None = None):
    if isinstance(data, pd.DataFrame):
        out = data.copy()
        before = out["applicants"].to_numpy(float)
        out["applicants"] = before * factor
        if extra_col:
            prev = out[extra_col].to_numpy(float) if extra_col in out else 0.0
            out[extra_col] = prev + out["applicants"].to_numpy(float) - before
        return out
    arr = np.asarray(data, dtype=float)
    return arr * factor


def _check(name: str, value: float, lo: float, hi: float | None = None) -> float:
    v = float(value)
    if not np.isfinite(v) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise ScenarioError(f"scenario parameter {name}: expected {rng}, found {value!r}")
    return v


def surge_profile(offsets: np.ndarray, size: float, duration: int, ramp_up: int) -> np.ndarray:
    """Multiplicative factor of a surge: 1 outside, rising linearly to ``size`` after ``ramp_up``
    months, falling linearly back to 1 at ``duration`` months after onset."""
    t = np.asarray(offsets, dtype=float)
    up = np.clip(t / max(ramp_up, 1), 0, 1)
    down = np.clip((duration - t) / max(duration - ramp_up, 1), 0, 1)
    shape = np.where(t <= ramp_up, up, down)
    shape = np.where((t < 0) | (t >= duration), 0.0, shape)
    return 1.0 + (size - 1.0) * shape


def surge(data, onset, size: float | None = None, duration: int | None = None, ramp_up: int | None = None):
    """A surge like 2015: applicants multiplied by a triangular bump peaking at ``size``.

    ``size`` [x baseline] peak factor (default ``surge_2015_peak_factor`` = 4.96, NL October
    2015 over the 2014 monthly mean); ``duration`` [months] from onset back to baseline
    (default 8); ``ramp_up`` [months] to the peak (default 4). A DataFrame gains (or adds to)
    the column ``surge_applicants`` with the extra persons, for :func:`by_nationality`.
    """
    size = _check("size", param("surge_2015_peak_factor") if size is None else size, 0.0)
    duration = int(_check("duration", param("surge_2015_duration_months") if duration is None else duration, 1))
    ramp_up = int(_check("ramp_up", param("surge_2015_ramp_up_months") if ramp_up is None else ramp_up, 0, duration))
    f = surge_profile(_offsets(data, onset), size, duration, ramp_up)
    return _apply(data, f, "surge_applicants")


def dip(data, onset, depth: float | None = None, duration: int | None = None):
    """A dip like 2020: applicants multiplied by ``1 - depth`` for ``duration`` months.

    ``depth`` [fraction] (default ``dip_2020_depth`` = 0.396, NL 2020 over 2019 yearly
    totals); ``duration`` [months] (default 12, a named assumption).
    """
    depth = _check("depth", param("dip_2020_depth") if depth is None else depth, 0.0, 1.0)
    duration = int(_check("duration", param("dip_2020_duration_months") if duration is None else duration, 1))
    t = _offsets(data, onset)
    f = np.where((t >= 0) & (t < duration), 1.0 - depth, 1.0)
    return _apply(data, f)


def level_shift(data, onset, size: float, ramp: int = 0):
    """A lasting change of level: applicants multiplied by ``1 + size`` from onset on.

    ``size`` [fraction] (e.g. -0.2 for a measure that cuts inflow by a fifth; >= -1);
    ``ramp`` [months] over which the shift builds up linearly (0 = at once). No default size:
    a level shift is the user's lever.
    """
    size = _check("size", size, -1.0)
    ramp = int(_check("ramp", ramp, 0))
    t = np.asarray(_offsets(data, onset), dtype=float)
    w = np.clip((t + 1) / (ramp + 1), 0, 1) if ramp > 0 else (t >= 0).astype(float)
    w = np.where(t < 0, 0.0, w)
    return _apply(data, 1.0 + size * w)


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
    s = d.groupby("citizen_iso3")["persons"].sum().sort_values(ascending=False)
    head = s.iloc[:top]
    mix = (head / s.sum()).to_dict()
    rest = 1.0 - sum(mix.values())
    if rest > 0:
        mix["OTHER"] = rest
    return {k: float(v) for k, v in mix.items()}


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
    head = inc.iloc[:top]
    mix = (head / inc.sum()).to_dict()
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
