"""A large ensemble as a user runs it: wall time and peak memory of the whole process tree.

    python benchmarks/bench_ensemble.py [--replicates 1000] [--workers N]
        [--reference REV [--reference-replicates M] [--pairs P]]

Runs ``ketenplan run nl_baseline --replicates N --no-placement --journeys none --out DIR`` in a
subprocess (the process pool, one worker per core, named with ``--backend processes`` because
revisions before Engine 2.0 defaulted to threads) and samples the summed resident memory
of the process and its workers every 0.1 s. With ``--reference REV`` the same command of an earlier
revision of this repository (checked out with ``git archive`` into a temporary folder and run with
this environment) is timed on the same machine, in turn with the current one (``--pairs P``: P pairs
in the order A B B A A B ..., so that a drift of the machine's speed within the sitting falls on both
alike), and the ratio is printed: like with like, same scenario, options and seed; the same
replicates unless ``--reference-replicates`` names another number.

Bar (a figure, not an assert): 1,000 ten-year replicates of ``nl_baseline`` in under 2 minutes on
a 2-core machine with a peak resident memory under 2 GB. The bar was set on a machine where the
processes backend before Engine 2.0 (:data:`BAR_REFERENCE`: revision 801ecee, which holds every
replicate in memory, about 23 GB at 1,000 replicates, so it is timed at 300) ran 300 replicates in
76 s. The same reference took 115-162 s on another 2-core machine (an AMD EPYC) and 77.3 s and
125.4 s in two hours of one day on an Intel Xeon, so the bar is read two ways:

- as written: the current run's wall time under 120 s (on the machine at hand, in that hour);
- like with like (``--reference 801ecee --reference-replicates 300``): the current run's wall time
  under 120 s x (the reference's time now / its 76 s where the bar was set), i.e. the ratio of the
  current 1,000-replicate run to the reference's 300-replicate run under 120 / 76 = 1.58, timed
  in turn in one sitting.

Writes ``out/bench/ensemble.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from statistics import median as _median
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
    if p.returncode:  # one line, exit 2, as the commands themselves end on bad input
        last = [ln for ln in err.strip().splitlines() if ln.strip()][-1:] or ["(no message)"]
        print(f"{' '.join(cmd[3:])} failed ({p.returncode}): {last[0].strip()}", file=sys.stderr)
        raise SystemExit(2)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, once waited for
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {"wall_s": wall, "peak_rss_gb": peak / 2**30, "cpu_s": cpu}


def command(python: str, replicates: int, out: Path, workers: int | None) -> list[str]:
    cmd = [python, "-c", "from ketenplan.cli import main; main()", "run", "nl_baseline", "--replicates",
           str(replicates), "--no-placement", "--journeys", "none", "--backend", "processes", "--out", str(out)]
    return cmd + (["--workers", str(workers)] if workers else [])


#: the bar: 1,000 replicates in under this many seconds, with a peak resident memory under BAR_GB
BAR_S, BAR_GB, BAR_REPLICATES = 120.0, 2.0, 1000
#: the reference run of the machine the bar was set on: (revision, replicates, wall seconds) of the
#: processes backend before Engine 2.0 (``--backend processes --journeys none --no-placement``)
BAR_REFERENCE = ("801ecee", 300, 76.0)


def _line(name: str, n: int, r: dict) -> str:
    return (f"{name}: {n} replicates in {r['wall_s']:.1f} s, peak RSS {r['peak_rss_gb']:.2f} GB "
            f"(CPU {r['cpu_s']:.1f} s, {r['cpu_s'] / n:.3f} s per replicate)")


def _commit(rev: str) -> str | None:
    """The full hash of ``rev`` in this repository, or None when it names no commit."""
    r = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=BAR_REPLICATES)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--reference", default=None, help="an earlier revision to time the same command with")
    ap.add_argument("--reference-replicates", type=int, default=None,
                    help="replicates of the reference run (default: --replicates)")
    ap.add_argument("--pairs", type=int, default=1, help="pairs of runs in turn with --reference (default 1)")
    a = ap.parse_args()
    for opt, v in (("--replicates", a.replicates), ("--reference-replicates", a.reference_replicates),
                   ("--pairs", a.pairs)):
        if v is not None and v < 1:
            ap.error(f"{opt} must be at least 1, got {v}")
    if a.pairs > 1 and not a.reference:
        ap.error("--pairs needs --reference (pairs of the current and the reference run, in turn)")
    ref_sha = _commit(a.reference) if a.reference else None
    if a.reference and ref_sha is None:
        ap.error(f"--reference: {a.reference!r} is not a revision of this repository (git rev-parse found no commit)")
    ref_n = a.reference_replicates or a.replicates
    res: dict = {"machine": platform.platform(), "cores": os.cpu_count(), "replicates": a.replicates,
                 "current_runs": [], "reference_runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        # one replicate first: numba's cache and the imports are warm for every timed run
        subprocess.run(command(sys.executable, 1, Path(tmp) / "warm", a.workers), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env_ref = None
        if a.reference:
            ref = Path(tmp) / "ref"
            ref.mkdir()
            arch = subprocess.run(["git", "-C", str(ROOT), "archive", a.reference, "src"], check=True,
                                  capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(ref)], input=arch, check=True)
            env_ref = dict(os.environ, PYTHONPATH=str(ref / "src"))
            subprocess.run(command(sys.executable, 1, Path(tmp) / "warm_ref", a.workers), check=True, env=env_ref,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # in turn: A B, then B A, ... (a drift of the machine within the sitting falls on both alike)
        order = ["current"] if not a.reference else \
            [w for p in range(a.pairs) for w in (("current", "reference") if p % 2 == 0 else ("reference", "current"))]
        for k, which in enumerate(order):
            out_dir = Path(tmp) / f"{which}{k}"
            if which == "current":
                r = timed(command(sys.executable, a.replicates, out_dir, a.workers))
                print(_line("current", a.replicates, r), flush=True)
            else:
                r = dict(timed(command(sys.executable, ref_n, out_dir, a.workers), env_ref), revision=a.reference)
                print(_line(f"reference {a.reference}", ref_n, r), flush=True)
            res[f"{which}_runs"].append(r)
            shutil.rmtree(out_dir, ignore_errors=True)
    cur = res["current_runs"]
    res["current"] = dict(wall_s=_median([r["wall_s"] for r in cur]), cpu_s=_median([r["cpu_s"] for r in cur]),
                          peak_rss_gb=max(r["peak_rss_gb"] for r in cur))
    # the bar is for 1,000 replicates: a smaller run is projected linearly (its start-up included, so
    # the projection errs on the slow side); memory does not grow with the replicates (streamed)
    wall_1000 = res["current"]["wall_s"] * BAR_REPLICATES / a.replicates
    res["current"]["projected_wall_s_1000"] = wall_1000
    memory_ok = res["current"]["peak_rss_gb"] < BAR_GB
    note = "" if a.replicates == BAR_REPLICATES else \
        f" (measured on {a.replicates} replicates; 1,000 projected at {wall_1000:,.0f} s)"
    print(f"bar as written (1,000 replicates < {BAR_S:.0f} s, < {BAR_GB:.0f} GB on this machine, this hour): "
          f"{'met' if wall_1000 < BAR_S and memory_ok else 'not met'}: {wall_1000:.1f} s, "
          f"{res['current']['peak_rss_gb']:.2f} GB{note}")
    if a.reference:
        refs = res["reference_runs"]
        pairs = list(zip(cur, refs))
        ratios = [c["wall_s"] / r["wall_s"] for c, r in pairs]
        res["reference"] = dict(revision=a.reference, replicates=ref_n,
                                wall_s=_median([r["wall_s"] for r in refs]),
                                peak_rss_gb=max(r["peak_rss_gb"] for r in refs),
                                pair_ratios_current_over_reference=ratios)
        print(f"reference {a.reference} ({ref_n} replicates): median {res['reference']['wall_s']:.1f} s; "
              f"current/reference wall per pair: {', '.join(f'{x:.3f}' for x in ratios)} "
              f"(median {_median(ratios):.3f})")
        rev, n_ref, s_ref = BAR_REFERENCE
        if ref_sha == _commit(rev):
            if ref_n == n_ref:
                # like with like: the bar carried to this machine and hour by the reference's time now
                scaled = [BAR_S * r["wall_s"] / s_ref for r in refs]
                per_1000 = [c["wall_s"] * BAR_REPLICATES / a.replicates for c in cur]
                limit = BAR_S / s_ref
                rr = [w / r["wall_s"] for w, r in zip(per_1000, refs)]
                res["bar_like_with_like"] = dict(limit_ratio=limit, pair_ratios=rr, median_ratio=_median(rr),
                                                 scaled_bar_s=scaled,
                                                 met=bool(_median(rr) < limit and memory_ok))
                print(f"bar like with like (1,000 current / {n_ref} of {rev} < {BAR_S:.0f} / {s_ref:.0f} = "
                      f"{limit:.3f}; the bar on this machine now: {', '.join(f'{x:.0f} s' for x in scaled)}): "
                      f"{'met' if res['bar_like_with_like']['met'] else 'not met'}: per pair "
                      f"{', '.join(f'{x:.3f}' for x in rr)} (median {_median(rr):.3f})")
            else:
                print(f"(the bar like with like needs --reference-replicates {n_ref}: the reference's {s_ref:.0f} s "
                      f"where the bar was set are for {n_ref} replicates)")
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ensemble.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
