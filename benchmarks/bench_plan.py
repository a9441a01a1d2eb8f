"""plan-capacity as a user runs it: three policies x N runs, wall time and peak memory (P3.5).

    python benchmarks/bench_plan.py [--runs 1000] [--workers N] [--no-reference]

Runs ``ketenplan plan-capacity nl_baseline --runs N --out DIR`` (the built-in policies fixed, myopic
and buffer; the default process pool, one worker per core) in a subprocess and samples the summed
resident memory of the process and its workers every 0.1 s. Like with like, the reference is the
plain ensemble of the same size, timed right after on the same machine: ``ketenplan run nl_baseline --replicates 3N
--no-placement --journeys none``; the ratio plan / run is the cost of planning (the policy hooks,
the per-run reduction and the page) over simulating the same replicates.

Bar (a figure, not an assert): 3 policies x 1,000 runs in under 6 minutes on a 2-core machine with
memory bounded as an ensemble's. With ``--runs`` below 1,000 the time for 1,000 is extrapolated
linearly from the time per run (after a warm-up run that loads numba's cache). Writes
``out/bench/plan.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ensemble import timed  # noqa: E402  (the same process-tree sampler)

ROOT = Path(__file__).resolve().parents[1]
POLICIES = 3


def plan_command(runs: int, out: Path, workers: int | None) -> list[str]:
    cmd = [sys.executable, "-c", "from ketenplan.cli import main; main()", "plan-capacity", "nl_baseline",
           "--runs", str(runs), "--out", str(out)]
    return cmd + (["--workers", str(workers)] if workers else [])


def run_command(replicates: int, out: Path, workers: int | None) -> list[str]:
    cmd = [sys.executable, "-c", "from ketenplan.cli import main; main()", "run", "nl_baseline", "--replicates",
           str(replicates), "--no-placement", "--journeys", "none", "--out", str(out)]
    return cmd + (["--workers", str(workers)] if workers else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="runs per policy")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-reference", action="store_true", help="skip the plain ensemble of the same size")
    a = ap.parse_args()
    res: dict = {"machine": platform.platform(), "cores": os.cpu_count(), "runs": a.runs, "policies": POLICIES}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(plan_command(1, Path(tmp) / "warm", a.workers), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # numba's cache and the imports are warm for every timing
        cur = timed(plan_command(a.runs, Path(tmp) / "plan", a.workers))
        per_run = cur["wall_s"] / (POLICIES * a.runs)
        cur["extrapolated_1000_s"] = per_run * POLICIES * 1000
        res["plan"] = cur
        print(f"plan-capacity: {POLICIES} policies x {a.runs} runs in {cur['wall_s']:.1f} s "
              f"({per_run * 1000:.0f} ms per run), peak RSS {cur['peak_rss_gb']:.2f} GB; "
              f"3 x 1,000 runs extrapolated: {cur['extrapolated_1000_s'] / 60:.1f} min")
        if not a.no_reference:
            ref = timed(run_command(POLICIES * a.runs, Path(tmp) / "run", a.workers))
            res["reference_run"] = ref
            print(f"reference `run` of {POLICIES * a.runs} replicates: {ref['wall_s']:.1f} s, peak RSS "
                  f"{ref['peak_rss_gb']:.2f} GB; ratio plan / run {cur['wall_s'] / ref['wall_s']:.2f} (time), "
                  f"{cur['peak_rss_gb'] / ref['peak_rss_gb']:.2f} (memory)")
    bar = cur["extrapolated_1000_s"] < 360
    print(f"bar (3 policies x 1,000 runs < 6 min on 2 cores): {'met' if bar else 'not met'}"
          + ("" if a.runs == 1000 else f" (extrapolated from {a.runs} runs per policy)"))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
