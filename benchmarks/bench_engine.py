"""Speed and memory of the chain engine, against the SimPy reference on identical inputs.

    python benchmarks/bench_engine.py [--years N] [--quick] [--simpy-years N] [--fifo]

Builds the Dutch baseline (ten years after a three-year warm-up unless ``--years``), compiles one
replicate and times

(a) the numba kernel on the compiled inputs (after a warm-up call for the JIT / cache load);
(b) compile + kernel: a full engine replicate (``run_replicate``);
(c) the SimPy reference (``benchmarks/simpy_chain.py``) on the same compiled inputs.

Each implementation also runs once in a subprocess of its own for its peak memory (the SimPy run
there is the timed one). The outputs are compared array by array and on key statistics. Then 20
replicates through ``ketenplan.engine.simulate`` on each backend (serial, threads, processes,
dask; a LocalCluster's start-up counts). Prints plain-text tables and writes the same figures to
``out/bench/engine.json``. Wall-clock times are reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

FLAG = 0.03  # relative differences above this are flagged
BACKENDS = ("serial", "threads", "processes", "dask")


# ----------------------------------------------------------------------------------------------
def baseline_scenario():
    try:
        from ketenplan import load_scenario

        return load_scenario("nl_baseline"), "load_scenario('nl_baseline')"
    except ImportError:
        from ketenplan.scenario.schema import Scenario

        return Scenario(), "Scenario()"


def shortened(scenario, years: int | None):
    """The scenario with ``years`` reported years (the warm-up kept)."""
    if years is None:
        return scenario
    start = scenario.simulation.start
    end = dt.date(start.year + years, start.month, start.day) - dt.timedelta(days=1)
    return scenario.replace(**{"simulation.end": end})


def rss_mb() -> float:
    """Current resident set size [MB]."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def reset_peak() -> bool:
    """Reset this process's peak RSS (Linux >= 4.0), so that the next peak is the run's own."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """Peak RSS since the last reset [MB] (VmHWM), else since the process started."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return maxrss_mb()


def persons_arrived(out) -> int:
    from ketenplan.engine import kernel as K

    return int(out.flows[:, K.F_ARRIVALS].sum())


def cases_arrived(out) -> int:
    a = out.case["arrival_day"]
    return int(((a >= 0) & (a < out.compiled.grid.T)).sum())


# ----------------------------------------------------------------------------------------------
# one implementation in a subprocess: time and peak memory
# ----------------------------------------------------------------------------------------------
def child(impl: str, compiled_path: str, result_path: str) -> None:
    from ketenplan.engine.run import run_compiled

    if impl == "numba":
        # load the compiled kernel (JIT cache) on a tiny input first, so the peak is the run's
        from ketenplan.scenario.schema import Scenario
        from ketenplan.engine.compile import compile_replicate

        tiny = Scenario().replace(**{"simulation.end": dt.date(2025, 1, 31), "simulation.warmup_years": 0})
        run_compiled(compile_replicate(tiny, np.random.default_rng(0)), check=False)
    else:
        import simpy_chain  # noqa: F401  (imports outside the measured run)
    with open(compiled_path, "rb") as fh:
        c = pickle.load(fh)
    gc.collect()
    before = rss_mb()
    was_reset = reset_peak()
    t0 = time.perf_counter()
    if impl == "numba":
        out = run_compiled(c, check=False)
    else:
        from simpy_chain import run_simpy

        out = run_simpy(c, check=False, tie=impl.split("-", 1)[1] if "-" in impl else "lifo")
    seconds = time.perf_counter() - t0
    peak = peak_mb() if was_reset else maxrss_mb()
    res = dict(impl=impl, seconds=seconds, rss_before_mb=before, peak_rss_mb=peak, added_mb=peak - before,
               peak_reset=was_reset)
    if impl != "numba":
        arrays = {k: getattr(out, k) for k in ("stage_stock", "loc_stock", "flows", "half_book")}
        arrays.update({f"case_{k}": v for k, v in out.case.items()})
        np.savez(result_path + ".npz", **arrays)
    Path(result_path).write_text(json.dumps(res))


def run_child(impl: str, compiled_path: str, tmp: str) -> dict:
    result = os.path.join(tmp, f"{impl}.json")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", impl, compiled_path, result]
    subprocess.run(cmd, check=True, cwd=str(ROOT))
    return json.loads(Path(result).read_text())


def load_child_output(compiled, path: str):
    from ketenplan.engine.run import ReplicateOutput

    z = np.load(path + ".npz")
    case = {k[5:]: z[k] for k in z.files if k.startswith("case_")}
    return ReplicateOutput(0, compiled, z["stage_stock"], z["loc_stock"], z["flows"], z["half_book"], case)


# ----------------------------------------------------------------------------------------------
def best_of(fn, repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times)), out


def table(rows: list[list], header: list[str]) -> str:
    cells = [[str(x) for x in r] for r in [header] + rows]
    w = [max(len(r[k]) for r in cells) for k in range(len(header))]
    line = "  ".join("-" * x for x in w)
    out = ["  ".join(c.ljust(w[k]) if k == 0 else c.rjust(w[k]) for k, c in enumerate(cells[0])), line]
    for r in cells[1:]:
        out.append("  ".join(c.ljust(w[k]) if k == 0 else c.rjust(w[k]) for k, c in enumerate(r)))
    return "\n".join(out)


def plain(x):
    """JSON-ready: numpy scalars to Python, NaN to null."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, (np.integer, np.bool_)):
        return x.item()
    if isinstance(x, (float, np.floating)):
        return None if x != x else float(x)
    return x


def fmt(x: float, nd: int = 2) -> str:
    if x != x:
        return "nan"
    return f"{x:,.{nd}f}"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--years", type=int, default=None, help="reported years (default: the scenario's, 10)")
    ap.add_argument("--quick", action="store_true", help="2 reported years, fewer repeats")
    ap.add_argument("--simpy-years", type=int, default=None,
                    help="shorten the engine-vs-SimPy comparison to this many reported years")
    ap.add_argument("--fifo", action="store_true",
                    help="also run SimPy with its own same-time order (first scheduled first)")
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--out", default=str(ROOT / "out" / "bench" / "engine.json"))
    args = ap.parse_args(argv)

    import numba
    import simpy

    import ketenplan
    from ketenplan.engine import simulate
    from ketenplan.engine.compile import compile_replicate
    from ketenplan.engine.run import run_compiled, run_replicate
    from simpy_chain import array_differences, key_statistics, relative_difference

    years = 2 if args.quick and args.years is None else args.years
    repeat = 2 if args.quick else 3
    base, how = baseline_scenario()
    scenario = shortened(base, years)
    sim = scenario.simulation
    print(f"scenario: {how}, {sim.start} to {sim.end} after {sim.warmup_years} warm-up years"
          f"{' (shortened with --years)' if years else ''}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {numba.__version__}, simpy {simpy.__version__}\n")

    # ---- (a) kernel and (b) compile + kernel, in this process ----
    seeds = np.random.SeedSequence(args.seed).spawn(1)
    t0 = time.perf_counter()
    c = compile_replicate(scenario, np.random.Generator(np.random.PCG64(seeds[0])))
    t_compile_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_compiled(c, check=False)
    t_first_call = time.perf_counter() - t0
    t_kernel, t_kernel_med, out = best_of(lambda: run_compiled(c, check=False), repeat + 2)
    t_full, t_full_med, _ = best_of(lambda: run_replicate(scenario, 0, seeds[0]), repeat)
    persons, cases = persons_arrived(out), cases_arrived(out)
    engine = dict(cases_compiled=c.n_cases, cases_arrived=cases, persons_arrived=persons, days=c.grid.T,
                  first_compile_s=t_compile_first, first_kernel_call_s=t_first_call,
                  kernel_s=t_kernel, kernel_median_s=t_kernel_med, replicate_s=t_full, replicate_median_s=t_full_med,
                  persons_per_s_kernel=persons / t_kernel, persons_per_s_replicate=persons / t_full,
                  cases_per_s_replicate=cases / t_full)

    # ---- (c) SimPy on the same compiled inputs; memory of each in its own subprocess ----
    if args.simpy_years is not None and args.simpy_years != years:
        sc_cmp = shortened(base, args.simpy_years)
        c_cmp = compile_replicate(sc_cmp, np.random.Generator(np.random.PCG64(seeds[0])))
        t_k_cmp, _, out_cmp = best_of(lambda: run_compiled(c_cmp, check=False), repeat + 2)
        t_full_cmp = best_of(lambda: run_replicate(sc_cmp, 0, seeds[0]), repeat)[0]
    else:
        sc_cmp, c_cmp, t_k_cmp, out_cmp, t_full_cmp = scenario, c, t_kernel, out, t_full
    impls = ["numba", "simpy"] + (["simpy-fifo"] if args.fifo else [])
    with tempfile.TemporaryDirectory() as tmp:
        cpath = os.path.join(tmp, "compiled.pkl")
        with open(cpath, "wb") as fh:
            pickle.dump(c_cmp, fh, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"running the SimPy reference on {c_cmp.grid.T} days, {cases_arrived(out_cmp):,} cases "
              f"(about a minute for the full baseline) ...", flush=True)
        mem = {impl: run_child(impl, cpath, tmp) for impl in impls}
        refs = {impl: load_child_output(c_cmp, os.path.join(tmp, f"{impl}.json")) for impl in impls[1:]}
    t_simpy = mem["simpy"]["seconds"]
    p_cmp = persons_arrived(out_cmp)
    comparison = dict(scenario_end=str(sc_cmp.simulation.end), days=c_cmp.grid.T, cases_arrived=cases_arrived(out_cmp),
                      persons_arrived=p_cmp, kernel_s=t_k_cmp, simpy_s=t_simpy,
                      replicate_s=t_full_cmp, simpy_persons_per_s=p_cmp / t_simpy,
                      ratio_simpy_over_kernel=t_simpy / t_k_cmp, ratio_simpy_over_replicate=t_simpy / t_full_cmp,
                      memory=mem)

    # ---- agreement ----
    stats = {"engine": key_statistics(out_cmp)}
    identical = {}
    for impl, ref in refs.items():
        stats[impl] = key_statistics(ref)
        identical[impl] = array_differences(out_cmp, ref)
    agreement = []
    for k, v in stats["engine"].items():
        row = dict(statistic=k, engine=v)
        for impl in refs:
            row[impl] = stats[impl][k]
            row[f"rel_diff_{impl}"] = relative_difference(v, stats[impl][k]) if v == v else 0.0
        agreement.append(row)
    comparison["identical_arrays"] = {impl: not d for impl, d in identical.items()}
    comparison["differing_entries"] = identical

    # ---- ensembles: 20 replicates per backend ----
    ens = {}
    ref_kpis = None
    for b in BACKENDS:
        gc.collect()
        t0 = time.perf_counter()
        try:
            res = simulate(scenario, replicates=args.replicates, backend=b)
        except Exception as exc:  # a backend that cannot run here is reported, not fatal
            ens[b] = dict(error=f"{type(exc).__name__}: {exc}")
            continue
        secs = time.perf_counter() - t0
        k = res.kpis["value"].to_numpy()
        same = bool(np.array_equal(k, ref_kpis, equal_nan=True)) if ref_kpis is not None else True
        ref_kpis = k if ref_kpis is None else ref_kpis
        ens[b] = dict(seconds=secs, per_replicate_s=secs / args.replicates,
                      persons=int(res.metadata["persons_arrived"]),
                      persons_per_s=res.metadata["persons_arrived"] / secs, kpis_identical_to_serial=same)
        del res
        print(f"  {args.replicates} replicates on {b}: {secs:.1f} s", flush=True)

    # ---- print ----
    print("\n== engine, one replicate (single core) ==")
    rows = [["cases compiled (incl. potential nareis)", f"{engine['cases_compiled']:,}"],
            ["cases arrived / persons arrived", f"{cases:,} / {persons:,}"],
            ["days simulated (warm-up included)", f"{c.grid.T:,}"],
            ["first compile [s]", fmt(t_compile_first, 3)],
            ["first kernel call (JIT cache load) [s]", fmt(t_first_call, 3)],
            ["(a) kernel on compiled inputs [s] best / median", f"{t_kernel:.3f} / {t_kernel_med:.3f}"],
            ["(b) compile + kernel (run_replicate) [s] best / median", f"{t_full:.3f} / {t_full_med:.3f}"],
            ["persons/s per core, kernel only", f"{engine['persons_per_s_kernel']:,.0f}"],
            ["persons/s per core, full replicate", f"{engine['persons_per_s_replicate']:,.0f}"]]
    print(table(rows, ["figure", "value"]))

    print(f"\n== engine vs SimPy on identical inputs (to {comparison['scenario_end']}, "
          f"{comparison['cases_arrived']:,} cases, {p_cmp:,} persons) ==")
    rows = [["numba kernel", fmt(t_k_cmp, 3), f"{p_cmp / t_k_cmp:,.0f}", fmt(mem['numba']['peak_rss_mb'], 0),
             fmt(mem['numba']['added_mb'], 0)]]
    for impl in impls[1:]:
        m = mem[impl]
        rows.append([f"SimPy reference ({'plain FIFO ties' if impl.endswith('fifo') else 'kernel tie rule'})",
                     fmt(m['seconds'], 1), f"{p_cmp / m['seconds']:,.0f}", fmt(m['peak_rss_mb'], 0),
                     fmt(m['added_mb'], 0)])
    print(table(rows, ["implementation", "time [s]", "persons/s", "peak RSS [MB]", "added by run [MB]"]))
    ratio = comparison["ratio_simpy_over_kernel"]
    print(f"speed ratio SimPy / kernel: {ratio:,.0f}x (goal >= 50x: {'met' if ratio >= 50 else 'NOT met'}); "
          f"SimPy / (compile + kernel): {comparison['ratio_simpy_over_replicate']:,.0f}x")

    print("\n== agreement of key statistics (reported period; relative difference, flag > 3%) ==")
    header = ["statistic", "engine"]
    for impl in refs:
        header += [impl, "rel. diff"]
    rows = []
    for r in agreement:
        row = [r["statistic"], fmt(r["engine"])]
        for impl in refs:
            d = r[f"rel_diff_{impl}"]
            row += [fmt(r[impl]), f"{d:.2%}{'  <-- FLAG' if d > FLAG else ''}"]
        rows.append(row)
    print(table(rows, header))
    for impl, d in identical.items():
        print(f"{impl}: {'all output arrays identical' if not d else 'differing entries: ' + json.dumps(d)}")

    print(f"\n== {args.replicates} replicates via ketenplan.engine.simulate ==")
    rows = []
    for b, e in ens.items():
        if "error" in e:
            rows.append([b, "-", "-", "-", e["error"][:60]])
        else:
            rows.append([b, fmt(e["seconds"], 1), fmt(e["per_replicate_s"], 3), f"{e['persons_per_s']:,.0f}",
                         "yes" if e["kpis_identical_to_serial"] else "NO"])
    print(table(rows, ["backend", "time [s]", "s/replicate", "persons/s", "KPIs = serial"]))

    result = dict(created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  ketenplan=ketenplan.__version__, python=platform.python_version(), numpy=np.__version__,
                  numba=numba.__version__, simpy=simpy.__version__, cores=os.cpu_count(), scenario=how,
                  start=str(sim.start), end=str(sim.end), warmup_years=sim.warmup_years, quick=bool(args.quick),
                  engine=engine, comparison=comparison, agreement=agreement, flag_threshold=FLAG,
                  flagged=[r["statistic"] for r in agreement for impl in refs if r[f"rel_diff_{impl}"] > FLAG],
                  ensembles=dict(replicates=args.replicates, backends=ens))
    target = Path(args.out)
    target.parent.mkdir(parents=True, exist_ok=True)
    from ketenplan._io import write_text

    write_text(target, json.dumps(plain(result), indent=2))
    print(f"\nwrote {target}")
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main()
