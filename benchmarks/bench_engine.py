"""Speed of the chain engine against the SimPy reference on identical inputs, and the cost of
stepping a run month by month with hooks against one uninterrupted kernel call.

    python benchmarks/bench_engine.py [--years N] [--quick] [--repeat N]

(a) the kernel on one compiled replicate of the Dutch baseline (ten years after a three-year
    warm-up unless ``--years``): one uninterrupted call (``period='none'``) and stepped per month
    with the housing-task hook called at every period start (``period='month'``, the default of
    every run; the hook's ``acts_on`` hidden, see ``ketenplan.testing.EveryPeriod``), timed alternately, best and
    median of ``--repeat`` pairs;
(b) the SimPy reference (``ketenplan.testing.run_reference``) on the same compiled inputs, in a
    subprocess (its imports and set-up outside the timed part), with the arrays compared entry by
    entry;
(c) a full replicate: compile (keyed draws) + kernel + reduction.

Bars (figures, not asserts): SimPy / kernel >= 300x with identical arrays; stepping per month at
most 15% slower than one call. Wall-clock times are reported, never asserted; writes
``out/bench/engine.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def scenario(years: int | None):
    from ketenplan import load_scenario

    # from an empty chain with its three-year warm-up: the SimPy reference starts from an empty chain
    sc = load_scenario("nl_baseline").replace(**{"simulation.initial_state": "empty"})
    if years is not None:
        s = sc.simulation.start
        sc = sc.replace(**{"simulation.end": dt.date(s.year + years, s.month, s.day) - dt.timedelta(days=1)})
    return sc


def compiled_of(sc, seed: int):
    from ketenplan.engine.compile import compile_replicate
    from ketenplan.engine.rng import replicate_key

    return compile_replicate(sc, replicate_key(np.random.SeedSequence(seed, spawn_key=(0,))))


def kernel_time(c, period: str):
    from ketenplan.engine.run import default_hooks
    from ketenplan.engine.state import Run
    from ketenplan.testing import EveryPeriod

    run = Run.start(c, [EveryPeriod(h) for h in default_hooks(c)], period=period)
    t0 = time.perf_counter()
    run.advance()
    return time.perf_counter() - t0, run


def child(compiled_path: str, result_path: str) -> None:
    """The SimPy reference in its own process: time the run only."""
    from ketenplan.testing import run_reference  # noqa: F401  (imports outside the timed part)
    import simpy  # noqa: F401

    with open(compiled_path, "rb") as fh:
        c = pickle.load(fh)
    t0 = time.perf_counter()
    out = run_reference(c)
    secs = time.perf_counter() - t0
    np.savez(result_path + ".npz", stage_stock=out.stage_stock, loc_stock=out.loc_stock, flows=out.flows,
             **{f"case_{k}": np.asarray(v) for k, v in out.case.items()},
             housing=out.housing[["task", "backlog_in", "realised", "granted"]].to_numpy())
    Path(result_path).write_text(json.dumps({"seconds": secs}))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--years", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="2 reported years, 5 repeats")
    ap.add_argument("--repeat", type=int, default=21,
                    help="alternating pairs of the one-call and month-by-month kernel timings")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "engine.json"))
    args = ap.parse_args(argv)
    if args.repeat < 1 or (args.years is not None and args.years < 1):
        ap.error(f"--repeat and --years must be at least 1, found --repeat {args.repeat} --years {args.years}")
    import numba

    import ketenplan
    from ketenplan.engine import registry as R
    from ketenplan.engine.run import output_of
    from ketenplan.testing import CASE_ARRAYS

    years = 2 if args.quick and args.years is None else args.years
    repeat = 5 if args.quick else args.repeat
    sc = scenario(years)
    t0 = time.perf_counter()
    c = compiled_of(sc, args.seed)
    first_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    c2 = compiled_of(sc, args.seed)
    compile_s = time.perf_counter() - t0
    kernel_time(c, "none")  # load the JIT cache
    one, month = [], []
    for _ in range(repeat):  # alternate, so that drift of the machine hits both alike
        one.append(kernel_time(c, "none")[0])
        t, run = kernel_time(c, "month")
        month.append(t)
    out = output_of(run.finish())
    persons = int(out.flows[:, R.FLOW["arrivals"]].sum())
    cases = int(((out.case["arrival_day"] >= 0) & (out.case["arrival_day"] < c.grid.T)).sum())
    overhead_best = min(month) / min(one) - 1
    overhead_median = float(np.median(month) / np.median(one) - 1)

    with tempfile.TemporaryDirectory() as tmp:
        cp = os.path.join(tmp, "c.pkl")
        with open(cp, "wb") as fh:
            pickle.dump(c2, fh, protocol=pickle.HIGHEST_PROTOCOL)
        res_path = os.path.join(tmp, "simpy.json")
        print(f"running the SimPy reference on {c.grid.T} days, {cases:,} cases ...", flush=True)
        subprocess.run([sys.executable, __file__, "--child", cp, res_path], check=True, cwd=str(ROOT))
        simpy_s = json.loads(Path(res_path).read_text())["seconds"]
        z = np.load(res_path + ".npz")
    diffs = {}
    for k in ("stage_stock", "loc_stock", "flows"):
        n = int(np.count_nonzero(getattr(out, k) != z[k]))
        if n:
            diffs[k] = n
    for k in CASE_ARRAYS:
        n = int(np.count_nonzero(np.asarray(out.case[k]) != z[f"case_{k}"]))
        if n:
            diffs[k] = n
    if not np.allclose(out.housing[["task", "backlog_in", "realised", "granted"]].to_numpy(), z["housing"]):
        diffs["housing"] = -1
    ratio = simpy_s / min(one)
    result = dict(
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), ketenplan=ketenplan.__version__,
        python=platform.python_version(), numba=numba.__version__, cores=os.cpu_count(),
        scenario=f"nl_baseline to {sc.simulation.end} after {sc.simulation.warmup_years} warm-up years",
        days=c.grid.T, cases=cases, persons=persons, first_compile_s=first_compile, compile_s=compile_s,
        kernel_one_call_s=dict(best=min(one), median=float(np.median(one))),
        kernel_monthly_s=dict(best=min(month), median=float(np.median(month))),
        stepping_overhead=dict(best=overhead_best, median=overhead_median),
        simpy_s=simpy_s, ratio_simpy_over_kernel=ratio, identical_arrays=not diffs, differing_entries=diffs)
    print(f"\n{result['scenario']}: {c.grid.T:,} days, {cases:,} cases, {persons:,} persons")
    print(f"compile (keyed draws): {compile_s:.3f} s (first call with JIT cache load {first_compile:.2f} s)")
    print(f"kernel, one call:        best {min(one):.3f} s, median {np.median(one):.3f} s "
          f"({persons / min(one) / 1e6:.1f} M persons/s)")
    print(f"kernel, month by month:  best {min(month):.3f} s, median {np.median(month):.3f} s")
    print(f"stepping per month with hooks costs {100 * overhead_best:+.1f}% (best) / {100 * overhead_median:+.1f}% "
          f"(median) against one call (bar: at most +15%)")
    print(f"SimPy reference: {simpy_s:.1f} s; SimPy / kernel = {ratio:,.0f}x (bar: >= 300x); arrays "
          + ("identical" if not diffs else f"DIFFER: {diffs}"))
    target = Path(args.out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2, default=float))
    print(f"wrote {target}")
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
