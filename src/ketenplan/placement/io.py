"""Reading and validating the plain-file inputs of ``ketenplan place``.

Files (CSV, header row; the first data row is row 2 in error messages, as in a spreadsheet):

- CASES: ``case_id`` plus size columns (``persons``, or any set such as ``children,adults,seniors``)
  and optionally ``current_location`` (the status quo). Every other column is a size dimension.
- LOCATIONS: ``location_id`` plus one capacity column per size dimension (same names). Other
  columns are ignored.
- WEIGHTS: ``case_id,location_id,weight``; with a ``person`` column the weights are per person
  and are combined per case: summed (``expected``: expected number employed) or as
  ``1 - prod(1 - p)`` (``at-least-one``: probability that at least one member is employed).
- COMPAT (optional): ``case_id,location_id,compatible`` (0/1). A pair missing from WEIGHTS is
  incompatible; a pair missing from COMPAT is compatible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan._io import available_memory, parse_numbers, read_csv_table, require_memory
from ketenplan.errors import DataError, data_error
from ketenplan.placement.solver import PlacementProblem

__all__ = ["read_placement_inputs", "OBJECTIVES"]

OBJECTIVES = ("expected", "at-least-one")
_RESERVED_CASE_COLUMNS = {"case_id", "current_location"}
#: largest size or capacity accepted [persons]: the world population is about 8.2e9 (UN WPP 2024)
MAX_COUNT = 1e10


#: the command-line option of each input file, named in error messages
OPTIONS = {"CASES": "--cases", "LOCATIONS": "--locations", "WEIGHTS": "--weights", "COMPAT": "--compatibility"}


def _read(path: str | Path, required: list[str], what: str) -> pd.DataFrame:
    """The file as strings (see :func:`ketenplan._io.read_csv_table`); index = spreadsheet row."""
    df = read_csv_table(path, what=f"{what} file", columns=required, option=OPTIONS.get(what))
    return df


def _where(df: pd.DataFrame, path: Path) -> str:
    """Option and file for messages (e.g. '--cases cases.csv')."""
    return df.attrs.get("source", str(path))


def _numbers(df: pd.DataFrame, col: str, path: Path, *, integer: bool, nonneg: bool,
             lo: float | None = None, hi: float | None = None) -> np.ndarray:
    raw = df[col]
    vals = parse_numbers(df, col, whole=integer)
    bad = vals.isna() | ~np.isfinite(vals.fillna(0))
    kind = "a non-negative integer" if integer and nonneg else ("a number >= 0" if nonneg else "a number")
    if lo is not None and hi is not None:
        kind = f"a number in [{lo:g}, {hi:g}]"
    if col == "weight" and nonneg:
        kind += " (an expected number of employed persons, or a probability)"
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise data_error(_where(df, path), "not a number", row=df.index[i], column=col, expected=kind, found=raw.iloc[i])
    v = vals.to_numpy(float)
    if nonneg and (v < 0).any():
        i = int(np.flatnonzero(v < 0)[0])
        raise data_error(_where(df, path), "negative value", row=df.index[i], column=col, expected=kind, found=raw.iloc[i])
    if integer and (np.abs(v) > MAX_COUNT).any():
        i = int(np.flatnonzero(np.abs(v) > MAX_COUNT)[0])
        raise data_error(_where(df, path), "too large", row=df.index[i], column=col,
                         expected=f"{kind} of at most {MAX_COUNT:,.0f} (more persons than live on earth cannot be "
                                  "meaningful)", found=raw.iloc[i])
    if integer and (v != np.round(v)).any():
        i = int(np.flatnonzero(v != np.round(v))[0])
        raise data_error(_where(df, path), "not a whole number", row=df.index[i], column=col, expected=kind, found=raw.iloc[i])
    if lo is not None and ((v < lo) | (v > hi)).any():
        i = int(np.flatnonzero((v < lo) | (v > hi))[0])
        raise data_error(_where(df, path), "out of range", row=df.index[i], column=col, expected=kind, found=raw.iloc[i])
    return v


def _no_duplicates(df: pd.DataFrame, cols: list[str], path: Path) -> None:
    dup = df.duplicated(subset=cols, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero((df[cols] == df.iloc[i][cols]).all(axis=1).to_numpy())[0])
        raise data_error(_where(df, path), f"duplicate row (same {', '.join(cols)} as row {df.index[first]})", row=df.index[i],
                         column=cols[0], expected="each key once", found=tuple(df.iloc[i][cols]))


def _ids(df: pd.DataFrame, col: str, known: pd.Index, path: Path, other: Path) -> np.ndarray:
    empty = (df[col] == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise data_error(_where(df, path), "empty identifier", row=df.index[i], column=col, expected="an id")
    pos = known.get_indexer(df[col])
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise data_error(_where(df, path), f"unknown id (not in {other.name})", row=df.index[i], column=col,
                         expected=f"an id listed in {other}", found=df[col].iloc[i],
                         fix=f"add it to {other.name} or remove the row")
    return pos


def read_placement_inputs(cases: str | Path, locations: str | Path, weights: str | Path,
                          compatibility: str | Path | None = None, *,
                          objective: str = "expected") -> PlacementProblem:
    """Read, validate and combine the four files into a :class:`PlacementProblem`.

    Raises :class:`~ketenplan.errors.DataError` naming file, row, column, expected and found
    value for unknown ids, negative or fractional sizes/capacities, duplicate rows, a size
    dimension that LOCATIONS lacks, negative weights (weights are expected numbers employed or
    probabilities, >= 0) and probabilities outside [0, 1] under ``at-least-one``.
    """
    if objective not in OBJECTIVES:
        raise DataError(f"objective (--objective): unknown value; expected one of {', '.join(OBJECTIVES)}, "
                        f"found {objective!r}")
    cp, lp_, wp = Path(cases), Path(locations), Path(weights)
    c = _read(cp, ["case_id"], "CASES")
    loc = _read(lp_, ["location_id"], "LOCATIONS")
    w = _read(wp, ["case_id", "location_id", "weight"], "WEIGHTS")

    dims = [col for col in c.columns if col not in _RESERVED_CASE_COLUMNS]
    if not dims:
        raise data_error(_where(c, cp), "no size column", expected="case_id plus size columns such as 'persons'",
                         found=list(c.columns))
    for d in dims:
        if d not in loc.columns:
            raise data_error(_where(loc, lp_), f"capacity column for the size dimension '{d}' of {cp.name} is missing",
                             column=d, expected=f"capacity columns {dims}", found=list(loc.columns),
                             fix=f"add a column '{d}' to {lp_.name} or drop it from {cp.name}")
    _no_duplicates(c, ["case_id"], cp)
    _no_duplicates(loc, ["location_id"], lp_)
    for df, path, col in ((c, cp, "case_id"), (loc, lp_, "location_id")):
        empty = (df[col] == "").to_numpy()
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise data_error(_where(df, path), "empty identifier", row=df.index[i], column=col, expected="an id")
    sizes = np.column_stack([_numbers(c, d, cp, integer=True, nonneg=True) for d in dims]).astype(np.int64) \
        if len(c) else np.zeros((0, len(dims)), np.int64)
    caps = np.column_stack([_numbers(loc, d, lp_, integer=True, nonneg=True) for d in dims]).astype(np.int64) \
        if len(loc) else np.zeros((0, len(dims)), np.int64)
    case_index = pd.Index(c["case_id"])
    loc_index = pd.Index(loc["location_id"])

    # the dense weight matrix and the solver's copies of it: about 48 bytes per case-location pair
    n, m = len(c), len(loc)
    require_memory(48.0 * n * m, what=f"--cases {n:,} cases x --locations {m:,} locations (weight matrix)",
                   fits=f"at most {int(available_memory() / 48 / max(m, 1)):,} cases fit with {m:,} locations")

    current = None
    if "current_location" in c.columns:
        cur = c["current_location"]
        pos = loc_index.get_indexer(cur)
        bad = (pos < 0) & (cur != "").to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise data_error(_where(c, cp), f"unknown location (not in {lp_.name})", row=c.index[i], column="current_location",
                             expected=f"a location_id of {lp_.name} or empty", found=cur.iloc[i])
        current = pos.astype(np.int64)

    W = np.full((len(c), len(loc)), np.nan)
    if len(w):
        ci = _ids(w, "case_id", case_index, wp, cp)
        li = _ids(w, "location_id", loc_index, wp, lp_)
        per_person = "person" in w.columns
        _no_duplicates(w, ["case_id", "location_id"] + (["person"] if per_person else []), wp)
        if objective == "at-least-one":
            if not per_person:
                raise data_error(_where(w, wp), "the at-least-one objective needs per-person probabilities", column="person",
                                 expected="a 'person' column with one row per person, case and location",
                                 found=list(w.columns), fix="add a 'person' column or use --objective expected")
            vals = _numbers(w, "weight", wp, integer=False, nonneg=True, lo=0.0, hi=1.0)
            logq = np.log1p(-np.minimum(vals, 1.0 - 1e-15))
            acc = np.zeros_like(W)
            np.add.at(acc, (ci, li), logq)
            seen = np.zeros(W.shape, bool)
            seen[ci, li] = True
            W[seen] = -np.expm1(acc[seen])
        else:
            vals = _numbers(w, "weight", wp, integer=False, nonneg=True, lo=0.0, hi=MAX_COUNT)
            acc = np.zeros_like(W)
            np.add.at(acc, (ci, li), vals)
            seen = np.zeros(W.shape, bool)
            seen[ci, li] = True
            W[seen] = acc[seen]

    if compatibility is not None:
        kp = Path(compatibility)
        k = _read(kp, ["case_id", "location_id", "compatible"], "COMPAT")
        if len(k):
            ci = _ids(k, "case_id", case_index, kp, cp)
            li = _ids(k, "location_id", loc_index, kp, lp_)
            _no_duplicates(k, ["case_id", "location_id"], kp)
            flag = _numbers(k, "compatible", kp, integer=True, nonneg=True, lo=0, hi=1)
            off = flag == 0
            W[ci[off], li[off]] = np.nan

    return PlacementProblem(case_ids=c["case_id"].to_numpy(object), location_ids=loc["location_id"].to_numpy(object),
                            dimensions=tuple(dims), sizes=sizes, capacities=caps, weights=W,
                            current_location=current)
