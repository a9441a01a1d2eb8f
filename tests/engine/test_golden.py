"""Golden regression: the baseline KPIs (4 replicates, seed 11) against stored values.

The run is exactly reproducible on one platform (keyed Philox draws, a deterministic kernel); the
tolerances absorb numeric-library differences between platforms only, and are set per key figure
so that a wrong answer breaks them: relative 0.5% for levels and rates, 1% for daily peaks (one
day's maximum), an absolute 0.002 for shares and moves per person, 5 days for day counts.
Regenerate deliberately with ``python tests/engine/test_golden.py --update`` when a model change
is intended, and say why in the commit.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ketenplan import load_scenario
from ketenplan.engine.results import KPIS
from ketenplan.simulation import simulate

GOLDEN = Path(__file__).with_name("golden_baseline_kpis.json")


def tolerance(name: str, unit: str) -> tuple[float, float]:
    """(relative, absolute) tolerance of a key figure."""
    if unit in ("share", "moves/person"):
        return 0.0, 0.002
    if unit == "days":
        return 0.0, 5.0
    if name.endswith("_peak"):
        return 0.01, 0.1
    return 0.005, 0.05


def baseline_kpis() -> dict[str, float]:
    res = simulate(load_scenario("nl_baseline"), seed=11, replicates=4, keep_journeys="none", post=[])
    return {r.kpi: float(r.mean) for r in res.kpi_summary().itertuples()}


def test_baseline_kpis_match_golden():
    golden = json.loads(GOLDEN.read_text())
    now = baseline_kpis()
    assert set(now) == set(golden)
    units = {k.name: k.unit for k in KPIS}
    off = {}
    for k in golden:
        rel, ab = tolerance(k, units[k])
        if not math.isclose(now[k], golden[k], rel_tol=rel, abs_tol=ab):
            off[k] = (golden[k], now[k])
    assert not off, f"KPIs moved (golden, now): {off}"


def test_tolerances_can_fail():
    """Each tolerance is tighter than a 3% change of the figure (or 0.02 of a share)."""
    golden = json.loads(GOLDEN.read_text())
    units = {k.name: k.unit for k in KPIS}
    for k, v in golden.items():
        rel, ab = tolerance(k, units[k])
        moved = v + 0.02 if units[k] in ("share", "moves/person") else v * 1.03 + (6 if units[k] == "days" else 0)
        if v != 0 or units[k] in ("share", "days"):
            assert not math.isclose(moved, v, rel_tol=rel, abs_tol=ab), k


if __name__ == "__main__" and "--update" in sys.argv:
    GOLDEN.write_text(json.dumps(baseline_kpis(), indent=1, sort_keys=True) + "\n")
