"""Loader of the HIAS FY16/FY17 resettlement instances (test and benchmark use only; not shipped).

The files are read from ``../shared/data/hias_resettlement`` relative to the repository root.
Weight and compatibility columns are mapped to affiliates by name, never by position.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.placement import PlacementProblem

REPO = Path(__file__).resolve().parents[2]
HIAS_DIR = REPO.parent / "shared" / "data" / "hias_resettlement"
_ALIASES = {"NY-HIAS NEW YORK": "NY-NEW YORK CITY"}


def available() -> bool:
    return HIAS_DIR.is_dir()


def _norm(name: str) -> str:
    n = str(name).strip().upper()
    return _ALIASES.get(n, n)


def load(fy: str) -> PlacementProblem:
    """The FYxx instance: sizes children/adults/seniors, capacity = actual resettled persons."""
    size = pd.read_csv(HIAS_DIR / f"{fy}_size.csv")
    cap = pd.read_csv(HIAS_DIR / f"{fy}_cap.csv")
    wfile = next(p for p in HIAS_DIR.glob(f"{fy}_Employment_*.csv"))
    w = pd.read_csv(wfile)
    c = pd.read_csv(HIAS_DIR / f"{fy}_Compatibility.csv")
    w = w.set_index(w.columns[0])
    c = c.set_index(c.columns[0])
    w.columns = [_norm(x) for x in w.columns]
    c.columns = [_norm(x) for x in c.columns]
    locs = [_norm(x) for x in cap["affiliate"]]
    cases = size["case"].to_numpy()
    W = w.reindex(index=cases, columns=locs).to_numpy(float)
    C = c.reindex(index=cases, columns=locs).fillna(0).to_numpy(float) == 1
    W[~C] = np.nan
    sizes = size[["number of children", "number of adults", "number of seniors"]].to_numpy()
    caps = cap[["actual resettled children", "actual resettled adults", "actual resettled seniors"]].to_numpy()
    return PlacementProblem.from_arrays(sizes, caps, W, case_ids=cases, location_ids=np.array(locs),
                                        dimensions=("children", "adults", "seniors"))
