"""Read an hourly arrival profile (and optional roster) given by the user."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ketenplan.border.model import MAX_SERVERS
from ketenplan.scenario.border import HOURS
from ketenplan.errors import data_error


@dataclass(frozen=True)
class HourlyProfile:
    """Arrivals [persons/hour] for hours 0..23, and desks / eGates per hour where the file has them."""

    arrivals: tuple[float, ...]
    desks: tuple[int, ...] | None = None
    egates: tuple[int, ...] | None = None


def read_profile(path: str | Path) -> HourlyProfile:
    """Read a CSV with columns ``hour`` (0..23, each once) and ``arrivals`` [persons/hour],
    and optionally ``desks`` and ``egates`` [servers] per hour. Other columns are ignored."""
    path = Path(path)
    if path.is_dir():
        raise data_error(path, "is a folder", expected="a CSV file with columns hour,arrivals[,desks,egates] or a "
                         "built-in profile: schiphol, flat")
    if not path.is_file():
        raise data_error(path, "file not found", expected="a CSV with columns hour,arrivals[,desks,egates] or a "
                         "built-in profile: schiphol, flat")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise data_error(path, f"cannot be read as CSV ({exc})", expected="columns hour,arrivals[,desks,egates]")
    df.columns = [str(c).strip().lower() for c in df.columns]
    for col in ("hour", "arrivals"):
        if col not in df.columns:
            raise data_error(path, "missing column", column=col, expected="columns hour,arrivals[,desks,egates]",
                             found=list(df.columns))
    hours = pd.to_numeric(df["hour"], errors="coerce")
    for i, (raw, h) in enumerate(zip(df["hour"], hours)):
        if not (h == h and float(h).is_integer() and 0 <= h < HOURS):
            raise data_error(path, "bad hour", row=i + 2, column="hour", expected="an integer 0..23", found=raw)
    dup = hours[hours.duplicated()]
    if len(dup):
        raise data_error(path, "hour given twice", column="hour", expected="each hour 0..23 once",
                         found=int(dup.iloc[0]))
    if len(hours) != HOURS:
        missing = sorted(set(range(HOURS)) - set(hours.astype(int)))
        raise data_error(path, f"hours missing: {missing}", column="hour", expected="all 24 hours 0..23, each once",
                         found=f"{len(hours)} hours")
    df = df.assign(hour=hours.astype(int)).sort_values("hour")

    def numbers(col: str, integer: bool, upper: float) -> tuple:
        vals = pd.to_numeric(df[col], errors="coerce")
        out = []
        for (row, raw), v in zip(df[col].items(), vals):
            ok = v == v and math.isfinite(v) and 0 <= v <= upper and (not integer or float(v).is_integer())
            if not ok:
                what = f"an integer 0..{int(upper)}" if integer else f"a number 0..{upper:g}"
                raise data_error(path, f"bad {col}", row=int(row) + 2, column=col, expected=what, found=raw)
            out.append(int(v) if integer else float(v))
        return tuple(out)

    return HourlyProfile(arrivals=numbers("arrivals", False, 1e9),
                         desks=numbers("desks", True, MAX_SERVERS) if "desks" in df.columns else None,
                         egates=numbers("egates", True, MAX_SERVERS) if "egates" in df.columns else None)
