"""Placement benchmark against PuLP/CBC in the same run, like with like (ratios are the result).

Run: ``python benchmarks/bench_placement.py [--households N] [--gap G] [--cbc-time-limit S]``
(defaults in ``--help``: 20,000 households, G = 1e-3, S = 120 s).

Instances: the HIAS FY16/FY17 resettlement instances (when ``../shared/data/hias_resettlement`` is
there; three size dimensions, one binary per case and location in CBC) and a synthetic instance of
N households x the 342 shipped municipalities (``tests/placement/instances.py``: household
composition and adult features drawn with a fixed seed, benchmark settings rather than Dutch
statistics; weights from the default employment model; capacity = the housing task with the total
number of persons as national total). CBC gets the large instance in aggregated form, as ours
does internally (one integer per household type and municipality; one binary per household and
municipality is too large to build in PuLP).

Two comparisons per instance, each timed with model building apart from solving:

1. **LP against LP**: the LP relaxation (ours: ``solve_placement(relax=True)``, a min-cost flow
   with one size dimension, HiGHS otherwise; CBC: the continuous model). Same optimum expected.
2. **Integer with the same relative gap target** ``G``: ours ``solve_placement(mip_rel_gap=G)``
   and CBC ``gapRel=G``, both on one thread; both stop when they have proven a gap <= G to
   their own bound (or at the time limit: ours ``--time-limit``, CBC ``timeLimit``, both ``S``).
   Each objective's gap is also given against the common LP bound.

Times: ``build`` = ours: case aggregation and model arrays; CBC: building the PuLP model.
``solve`` = ours: the rest of ``solve_placement``; CBC: CBC's own wall time from its log (the
``solve()`` call, which also writes and reads files, is given as ``cbc_call``). Ratios are CBC
over ours: > 1 means ours is faster.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.placement import PlacementProblem, solve_placement

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "placement"))

DEFAULT_HOUSEHOLDS = 20_000
DEFAULT_GAP = 1e-3
DEFAULT_CBC_TIME_LIMIT = 120.0


def large_instance(n: int, seed: int = 1) -> PlacementProblem:
    from instances import households_instance  # tests/placement/instances.py (same instance as the tests)

    return households_instance(n, seed)


def timed(f, *a, **k):
    t = time.perf_counter()
    r = f(*a, **k)
    return r, time.perf_counter() - t


def _rel(a: float, b: float) -> float:
    return (b - a) / abs(b) if b else float("nan")


def compare(name: str, p: PlacementProblem, *, aggregated: bool, gap: float, time_limit: float) -> list[dict]:
    """The two like-with-like rows (LP, integer at gap target) of one instance."""
    import cbc

    build = cbc.build_aggregated_model if aggregated else cbc.build_case_model
    rows = []
    # 1. LP against LP
    ours = solve_placement(p, relax=True, threads=1)
    m, cbuild = timed(build, p, relax=True)
    c = cbc.solve(m)
    lp_bound = max(ours.objective, c.objective)
    rows.append({"instance": name, "comparison": "LP relaxation", "ours_objective": ours.objective,
                 "cbc_objective": c.objective, "rel_diff": _rel(ours.objective, c.objective),
                 "ours_status": str(ours.status), "cbc_status": c.status,
                 "ours_build_s": ours.build_time_s, "ours_solve_s": ours.solve_time_s - ours.build_time_s,
                 "cbc_build_s": cbuild, "cbc_solve_s": c.cbc_wall_s, "cbc_call_s": c.solve_call_s})
    # 2. integer, same relative gap target
    ours = solve_placement(p, mip_rel_gap=gap, time_limit=time_limit, threads=1)
    m, cbuild = timed(build, p, relax=False)
    c = cbc.solve(m, gap_rel=gap, time_limit=time_limit)
    rows.append({"instance": name, "comparison": f"integer, gap target {gap:g}", "ours_objective": ours.objective,
                 "cbc_objective": c.objective, "rel_diff": _rel(ours.objective, c.objective),
                 "ours_status": str(ours.status), "cbc_status": c.status,
                 "ours_proven_gap": ours.gap, "ours_gap_to_lp": _rel(ours.objective, lp_bound),
                 "cbc_gap_to_lp": _rel(c.objective, lp_bound),
                 "ours_build_s": ours.build_time_s, "ours_solve_s": ours.solve_time_s - ours.build_time_s,
                 "cbc_build_s": cbuild, "cbc_solve_s": c.cbc_wall_s, "cbc_call_s": c.solve_call_s})
    for r in rows:
        r["solve_ratio_cbc_over_ours"] = r["cbc_solve_s"] / max(r["ours_solve_s"], 1e-9)
        r["build_ratio_cbc_over_ours"] = r["cbc_build_s"] / max(r["ours_build_s"], 1e-9)
        r["total_ratio_cbc_over_ours"] = (r["cbc_build_s"] + r["cbc_call_s"]) / max(
            r["ours_build_s"] + r["ours_solve_s"], 1e-9)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--households", type=int, default=DEFAULT_HOUSEHOLDS, help="households of the synthetic instance")
    ap.add_argument("--gap", type=float, default=DEFAULT_GAP, help="relative gap target of both integer solves")
    ap.add_argument("--cbc-time-limit", type=float, default=DEFAULT_CBC_TIME_LIMIT,
                    help="time limit of both integer solves [s]")
    ap.add_argument("--skip-hias", action="store_true", help="only the synthetic instance")
    args = ap.parse_args()
    import hias

    rows = []
    if hias.available() and not args.skip_hias:
        for fy in ("FY16", "FY17"):
            p = hias.load(fy)
            rows += compare(f"HIAS {fy} ({p.n_cases} cases x {p.n_locations}, 3 dims)", p, aggregated=False,
                            gap=args.gap, time_limit=args.cbc_time_limit)
    elif not args.skip_hias:
        print(f"HIAS data not found at {hias.HIAS_DIR}; skipped")
    p, tb = timed(large_instance, args.households)
    rows += compare(f"synthetic {p.n_cases} households x {p.n_locations}", p, aggregated=True, gap=args.gap,
                    time_limit=args.cbc_time_limit)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 60)
    df = pd.DataFrame(rows)
    print(f"synthetic instance built in {tb:.1f} s; both solvers on one thread")
    print(df.set_index(["instance", "comparison"]).T.to_string(), flush=True)
    print("\nratios CBC / ours (> 1: ours faster): solve time, model build time, build + solve")
    for r in rows:
        print(f"  {r['instance']}, {r['comparison']}: solve {r['solve_ratio_cbc_over_ours']:.1f}x, build "
              f"{r['build_ratio_cbc_over_ours']:.1f}x, total {r['total_ratio_cbc_over_ours']:.1f}x; objectives "
              f"{r['ours_objective']:.4f} (ours, {r['ours_status']}) vs {r['cbc_objective']:.4f} (CBC, "
              f"{r['cbc_status']})", flush=True)
    syn = [r for r in rows if r["instance"].startswith("synthetic") and r["comparison"].startswith("integer")][0]
    met = syn["ours_gap_to_lp"] < 1e-3 and syn["ours_build_s"] + syn["ours_solve_s"] < 10.0
    print(f"bar (proven gap < 0.1% in < 10 s): gap {syn['ours_gap_to_lp']:.4%} to the LP bound in "
          f"{syn['ours_build_s'] + syn['ours_solve_s']:.2f} s -> {'met' if met else 'NOT met'}", flush=True)
    if not np.isfinite(syn["cbc_solve_s"]):
        print("note: CBC's log had no wall time; see cbc_call_s")


if __name__ == "__main__":
    main()
