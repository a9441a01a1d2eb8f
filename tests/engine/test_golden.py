"""Golden regression: the baseline KPIs (4 replicates, seed 11) against stored values.

Tolerance: 1% relative (0.5 absolute for small values). The run is exactly reproducible on one
platform; the tolerance absorbs numeric-library differences only. Regenerate deliberately with
``python tests/engine/test_golden.py --update`` when a model change is intended, and say why.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ketenplan import load_scenario, simulate

GOLDEN = Path(__file__).with_name("golden_baseline_kpis.json")


def baseline_kpis() -> dict[str, float]:
    res = simulate(load_scenario("nl_baseline"), seed=11, replicates=4)
    return {r.kpi: float(r.mean) for r in res.kpi_summary().itertuples()}


def test_baseline_kpis_match_golden():
    golden = json.loads(GOLDEN.read_text())
    now = baseline_kpis()
    assert set(now) == set(golden)
    off = {k: (golden[k], now[k]) for k in golden
           if not math.isclose(now[k], golden[k], rel_tol=0.01, abs_tol=0.5)}
    assert not off, f"KPIs moved (golden, now): {off}"


if __name__ == "__main__" and "--update" in sys.argv:
    GOLDEN.write_text(json.dumps(baseline_kpis(), indent=1, sort_keys=True) + "\n")
