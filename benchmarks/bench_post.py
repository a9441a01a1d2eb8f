"""CPU per replicate of what a worker does after the chain: the post-processors and the reduction.

    python benchmarks/bench_post.py [--replicates 6] [--reference REV]

Runs ``nl_baseline`` replicates in one process (with the ensemble workers' memory settings) and
times, on each replicate, the ``integration`` and ``returns`` post-processors and
``engine.results.reduce_replicate`` twice (process CPU time, ``time.process_time``); replicate 0
(the border day and the Spreidingswet table) is left out. Reports the best and the median per
component. With ``--reference REV`` (e.g. ``main`` or a commit) the same measurement runs on that
revision of this repository (``git archive`` into a temporary folder, this environment) right
after, on the same replicates, and the ratios reference / current are printed: like with like.

Bar (a figure, not an assert; P0.1): integration <= 0.03 s, returns <= 0.015 s per replicate.
Writes ``out/bench/post.json``.
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

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ("integration", "returns", "reduce_replicate")

#: the measurement, run in a subprocess with the revision's sources first on the path
MEASURE = r"""
import json, sys, time
import numpy as np
from ketenplan.ensemble import Job, _keep_freed_memory
from ketenplan.engine.results import Keep, reduce_replicate
from ketenplan.engine.snapshot import starting_point
from ketenplan.post import POST_PROCESSORS
from ketenplan.scenario import load_scenario
from ketenplan.simulation import inflow_paths

_keep_freed_memory()
n, seed = int(sys.argv[1]), 1
sc = load_scenario("nl_baseline")
paths = inflow_paths(sc, seed, n)
starting_point(sc)
keep = Keep(resolution="month", journeys="none")
steps = {"integration": lambda out: POST_PROCESSORS["integration"].run(out, sc, seed),
         "returns": lambda out: POST_PROCESSORS["returns"].run(out, sc, seed),
         "reduce_replicate": lambda out: reduce_replicate(out, sc, keep)}
cpu = {k: [] for k in steps}

def measure(out):
    for k, f in steps.items():
        for _ in range(2):
            t = time.process_time()
            f(out)
            if out.replicate > 0:
                cpu[k].append(time.process_time() - t)
    return None

job = Job(sc, seed, measure)
for i in range(n):
    job(i, None if paths is None else paths[i])
print(json.dumps({k: {"best_s": min(v), "median_s": float(np.median(v)), "n": len(v)} for k, v in cpu.items()}))
"""


def measure(replicates: int, env: dict | None = None) -> dict:
    p = subprocess.run([sys.executable, "-c", MEASURE, str(replicates)], env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"measurement failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _show(label: str, r: dict) -> None:
    print(label + ", CPU per replicate: " + ", ".join(
        f"{k} {r[k]['best_s'] * 1000:.1f} ms (median {r[k]['median_s'] * 1000:.1f})" for k in COMPONENTS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=6, help="replicates run (replicate 0 is not timed)")
    ap.add_argument("--reference", default=None, help="an earlier revision to measure the same way")
    a = ap.parse_args()
    if a.replicates < 2:
        raise SystemExit("--replicates: expected at least 2 (replicate 0 is not timed)")
    res: dict = {"machine": platform.platform(), "cores": os.cpu_count(), "replicates": a.replicates,
                 "current": measure(a.replicates)}
    _show("current", res["current"])
    if a.reference:
        with tempfile.TemporaryDirectory() as tmp:
            arch = subprocess.run(["git", "-C", str(ROOT), "archive", a.reference, "src"], check=True,
                                  capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=arch, check=True)
            ref = measure(a.replicates, dict(os.environ, PYTHONPATH=str(Path(tmp) / "src")))
        res["reference"] = dict(ref, revision=a.reference)
        _show(f"reference {a.reference}", ref)
        print("ratio reference / current (best): " + ", ".join(
            f"{k} {ref[k]['best_s'] / res['current'][k]['best_s']:.1f}x" for k in COMPONENTS))
    cur = res["current"]
    bar = cur["integration"]["best_s"] <= 0.03 and cur["returns"]["best_s"] <= 0.015
    print(f"bar (integration <= 30 ms, returns <= 15 ms per replicate): {'met' if bar else 'not met'}")
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "post.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
