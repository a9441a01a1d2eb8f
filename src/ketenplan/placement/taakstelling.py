"""Housing task for permit holders per municipality per half-year (taakstelling, P6.1).

The minister sets a national number per half-year; it is divided over municipalities in
proportion to their population, and each municipality's arrears (achterstand, positive) or
advance (voorsprong, negative) carry over::

    quota_g = T_NL * pop_g / pop_NL          (then rounded, see below)
    task_g  = quota_g + backlog_g

**Rounding rule** (the circulaire's own rule was not found; this one is stated and exact):
largest remainder (Hamilton). Each municipality gets ``floor(quota_g)``; the persons left over
go one each to the municipalities with the largest fractional part, ties broken by larger
population, then by name. The integer quotas add up exactly to ``T_NL``.

A municipality whose advance exceeds its new quota gets task 0 and carries the rest of the
advance (``advance_carried``) to the next half-year.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.errors import DataError, data_error

__all__ = ["load_municipalities", "housing_task", "largest_remainder", "parse_period", "read_backlog",
           "POPULATION_COLUMNS"]

POPULATION_COLUMNS = {"2025": "population_2025", "2021": "population_2021"}
#: Years a housing-task period may lie in: the date range a chain scenario may span (1990-2100), so
#: every half-year a simulation reaches has a task; the shipped population is of 2021 and 2025.
PERIOD_YEARS = (1990, 2100)


def load_municipalities() -> pd.DataFrame:
    """The 342 municipalities (2025 borders) shipped with ketenplan.

    Columns: municipality, province, population_2025 [persons; reference date unverified, see
    SOURCES.md], population_2021 [persons, CBS 1 Jan 2021 on 2025 borders],
    labour_market_region_no, labour_market_region, households_2021, land_area_ha,
    pop_density_per_km2, stedelijkheid_1_5, pct_non_western_migr_background.
    """
    return _municipalities().copy()  # read once per process (each replicate's post-processors ask)


@functools.lru_cache(maxsize=1)
def _municipalities() -> pd.DataFrame:
    return pd.read_csv(data_path("placement", "municipalities.csv"))


def parse_period(period: str) -> tuple[int, int]:
    """'2026-H1' -> (2026, 1); the year must lie in ``PERIOD_YEARS`` (1990-2100)."""
    m = re.fullmatch(r"\s*(\d{4})-?[Hh]([12])\s*", str(period))
    if not m:
        raise DataError(f"period (--period): expected a half-year such as '2026-H1', found {period!r}")
    year = int(m.group(1))
    lo, hi = PERIOD_YEARS
    if not lo <= year <= hi:
        raise DataError(f"period (--period) {period!r}: year {year} is outside {lo}-{hi}; expected a half-year "
                        f"'YYYY-H1' or 'YYYY-H2' with {lo} <= YYYY <= {hi} (the dates a scenario may span; "
                        f"the shipped municipal population is of 2021 and 2025)")
    return year, int(m.group(2))


def largest_remainder(total: int, weights: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Integer apportionment of ``total`` proportional to ``weights`` (Hamilton method).

    Ties in the fractional part go to the larger ``tiebreak`` value (default: larger weight),
    then to the earlier position. The result sums exactly to ``total``.
    """
    w = np.asarray(weights, dtype=float)
    if total < 0 or int(total) != total:
        raise DataError(f"total: expected a non-negative whole number of persons, found {total!r}")
    if (w < 0).any() or w.sum() <= 0:
        raise DataError("weights: expected non-negative weights with a positive sum")
    exact = total * w / w.sum()
    base = np.floor(exact + 1e-9).astype(np.int64)
    frac = exact - base
    left = int(total - base.sum())
    tb = w if tiebreak is None else np.asarray(tiebreak, dtype=float)
    order = np.lexsort((np.arange(len(w)), -tb, -np.round(frac, 12)))
    base[order[:left]] += 1
    return base


def read_backlog(path: str | Path, municipalities: pd.Series, *, limit: float | None = None) -> pd.Series:
    """Backlog CSV ``municipality,backlog`` [persons; + arrears, - advance] -> Series by municipality.

    The file may be written as a spreadsheet writes it (semicolons, decimal commas, Windows-1252
    text: :func:`ketenplan._io.read_csv_table`); names are matched ignoring case. ``limit``: the
    largest absolute backlog accepted [persons] (the command passes the national population).
    """
    import difflib

    from ketenplan._io import parse_numbers, read_csv_table

    df = read_csv_table(path, what="backlog table (persons per municipality; + arrears, - advance)",
                        columns=["municipality", "backlog"], option="--backlog")
    src = df.attrs["source"]
    known = {str(m).casefold(): str(m) for m in municipalities}
    names = []
    for row, n in df["municipality"].items():
        canon = known.get(n.casefold())
        if canon is None:
            close = difflib.get_close_matches(n, list(known.values()), n=3)
            raise data_error(src, "unknown municipality", row=row, column="municipality",
                             expected="a municipality name on 2025 borders (see `ketenplan taakstelling` output)"
                                      + (f", such as {', '.join(close)}" if close else ""), found=n)
        names.append(canon)
    names = pd.Series(names, index=df.index, dtype=object)
    dup = names.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise data_error(src, "duplicate municipality", row=df.index[i], column="municipality", found=names.iloc[i])
    vals = parse_numbers(df, "backlog", whole=True)
    bad = vals.isna() | ~np.isfinite(vals.fillna(0)) | (vals != vals.round())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise data_error(src, "not a whole number", row=df.index[i], column="backlog",
                         expected="persons (+ arrears, - advance)", found=df["backlog"].iloc[i])
    if limit is not None and (vals.abs() > limit).any():
        i = int(np.flatnonzero((vals.abs() > limit).to_numpy())[0])
        raise data_error(src, "too large", row=df.index[i], column="backlog",
                         expected=f"at most {limit:,.0f} persons either way (the population of the Netherlands)",
                         found=df["backlog"].iloc[i])
    return pd.Series(vals.astype(np.int64).to_numpy(), index=names.to_numpy(), name="backlog")


def housing_task(total: int, period: str, *, backlog: pd.Series | str | Path | None = None,
                 population: str = "2025", municipalities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Housing task per municipality for one half-year.

    Parameters
    ----------
    total : national task T_NL [persons].
    period : half-year label, e.g. ``'2026-H1'``.
    backlog : Series (municipality -> persons, + arrears / - advance) or a CSV path.
    population : ``'2025'`` (default) or ``'2021'`` population column, or a column name of
        ``municipalities``.
    municipalities : override the shipped table (needs municipality, province and the column).

    Returns a DataFrame with period, municipality, province, population, share, quota_exact,
    quota, backlog, task and advance_carried [persons]; ``quota`` sums exactly to ``total``.
    """
    year, half = parse_period(period)
    m = load_municipalities() if municipalities is None else municipalities.copy()
    col = POPULATION_COLUMNS.get(str(population), str(population))
    if col not in m:
        raise DataError(f"population: expected one of {list(POPULATION_COLUMNS)} or a column of the municipality "
                        f"table, found {population!r}")
    if isinstance(total, bool) or not isinstance(total, (int, float, np.integer, np.floating)) \
            or not np.isfinite(float(min(total, 1e300))) or int(total) != total or total < 0:
        raise DataError(f"total (--total): expected a non-negative whole number of persons, found {total!r}")
    pop = m[col].to_numpy(float)
    if total > pop.sum():
        raise DataError(f"total (--total) {int(total):,}: a half-year housing task larger than the population of the "
                        f"Netherlands ({pop.sum():,.0f}, column {col}) cannot be meaningful; expected 0 to "
                        f"{pop.sum():,.0f} persons (reported half-year tasks 2016-2018: 6,000 to 23,000)")
    quota = largest_remainder(int(total), pop)
    if isinstance(backlog, (str, Path)):
        backlog = read_backlog(backlog, m["municipality"], limit=float(pop.sum()))
    b = np.zeros(len(m), np.int64) if backlog is None else \
        pd.Series(backlog).reindex(m["municipality"]).fillna(0).astype(np.int64).to_numpy()
    raw = quota + b
    out = pd.DataFrame({
        "period": f"{year}-H{half}", "municipality": m["municipality"].to_numpy(),
        "province": m["province"].to_numpy() if "province" in m else "", "population": pop.astype(np.int64),
        "share": pop / pop.sum(), "quota_exact": total * pop / pop.sum(), "quota": quota, "backlog": b,
        "task": np.maximum(raw, 0), "advance_carried": np.maximum(-raw, 0)})
    return out


def task_by_province(task: pd.DataFrame) -> pd.DataFrame:
    """Sum of quota, backlog and task per province."""
    return (task.groupby("province", as_index=False)[["population", "quota", "backlog", "task"]].sum()
            .sort_values("task", ascending=False, kind="stable").reset_index(drop=True))
