"""A large ensemble as a user runs it: wall time and peak memory of the whole process tree.

    python benchmarks/bench_ensemble.py [--replicates 1000] [--workers N] [--reference REV]

Runs ``ketenplan run nl_baseline --replicates N --no-placement --journeys none --out DIR`` in a
subprocess (the process pool, one worker per core, named with ``--backend processes`` because
revisions before Engine 2.0 defaulted to threads) and samples the summed resident memory
of the process and its workers every 0.1 s. With ``--reference REV`` the same command of an earlier
revision of this repository (checked out with ``git archive`` into a temporary folder and run with
this environment) is timed on the same machine right after, and the ratio is printed: like with
like, same scenario, replicates, options and seed.

Bar (a figure, not an assert): 1,000 ten-year replicates of ``nl_baseline`` in under 2 minutes on
a 2-core machine with a peak resident memory under 2 GB. Writes ``out/bench/ensemble.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tree(pid: int) -> list[int]:
    out = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as fh:
                for c in fh.read().split():
                    out += _tree(int(c))
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """Wall time [s] and peak summed RSS of the process tree [bytes] of ``cmd``."""
    import resource

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while p.poll() is None:
        peak = max(peak, sum(_rss(x) for x in _tree(p.pid)))
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {err[-2000:]}")
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, once waited for
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {"wall_s": wall, "peak_rss_gb": peak / 2**30, "cpu_s": cpu}


def command(python: str, replicates: int, out: Path, workers: int | None) -> list[str]:
    cmd = [python, "-c", "from ketenplan.cli import main; main()", "run", "nl_baseline", "--replicates",
           str(replicates), "--no-placement", "--journeys", "none", "--backend", "processes", "--out", str(out)]
    return cmd + (["--workers", str(workers)] if workers else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--reference", default=None, help="an earlier revision to time the same command with")
    a = ap.parse_args()
    res: dict = {"machine": platform.platform(), "cores": os.cpu_count(), "replicates": a.replicates}
    with tempfile.TemporaryDirectory() as tmp:
        # one replicate first: numba's cache and the imports are warm for both runs
        subprocess.run(command(sys.executable, 1, Path(tmp) / "warm", a.workers), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        res["current"] = timed(command(sys.executable, a.replicates, Path(tmp) / "cur", a.workers))
        print(f"current: {a.replicates} replicates in {res['current']['wall_s']:.1f} s, peak RSS "
              f"{res['current']['peak_rss_gb']:.2f} GB ({a.replicates / res['current']['wall_s']:.1f} replicates/s; "
              f"CPU {res['current']['cpu_s']:.1f} s, {res['current']['cpu_s'] / a.replicates:.3f} s per replicate)")
        if a.reference:
            ref = Path(tmp) / "ref"
            ref.mkdir()
            arch = subprocess.run(["git", "-C", str(ROOT), "archive", a.reference, "src"], check=True,
                                  capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(ref)], input=arch, check=True)
            env = dict(os.environ, PYTHONPATH=str(ref / "src"))
            subprocess.run(command(sys.executable, 1, Path(tmp) / "warm_ref", a.workers), check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            res["reference"] = dict(timed(command(sys.executable, a.replicates, Path(tmp) / "r", a.workers), env),
                                    revision=a.reference)
            print(f"reference {a.reference}: {res['reference']['wall_s']:.1f} s, peak RSS "
                  f"{res['reference']['peak_rss_gb']:.2f} GB; ratio reference/current "
                  f"{res['reference']['wall_s'] / res['current']['wall_s']:.2f}")
    # the bar is for 1,000 replicates: a smaller run is projected linearly (its start-up included, so
    # the projection errs on the slow side); memory does not grow with the replicates (streamed)
    wall_1000 = res["current"]["wall_s"] * 1000 / a.replicates
    res["current"]["projected_wall_s_1000"] = wall_1000
    bar = wall_1000 < 120 and res["current"]["peak_rss_gb"] < 2
    print(f"bar (1,000 replicates < 120 s, < 2 GB on 2 cores): {'met' if bar else 'not met'}"
          + ("" if a.replicates == 1000 else
             f" (measured on {a.replicates} replicates; 1,000 projected at {wall_1000:,.0f} s)"))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ensemble.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
