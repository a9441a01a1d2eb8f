"""What a large run costs outside its workers: storing, reading, exporting and reporting the replicates.

    python benchmarks/bench_outputs.py [--replicates 1000] [--reference REV]

The parent process of ``ketenplan run`` stores every replicate the workers hand back (chunks of
Parquet partitions), then exports the tables and renders the report over all of them; on a 2-core
machine every CPU second it spends there is taken from the workers or added to the wall time (P0.1,
P0.3). This measures that work alone, without simulating 1,000 replicates: 20 replicates of
``nl_baseline`` (no placement, no journeys, as the ensemble bar runs it) are simulated once, and
their reduced tables are handed to the store again and again, renumbered, until ``--replicates``
are stored. Then every stored table is read back (``PartitionStore.read``), exported
(``Results.to_parquet``) and the report rendered. CPU seconds of the process (``time.process_time``:
all its threads, DuckDB's and Arrow's included), not wall time, so a busy machine does not blur it.

With ``--reference REV`` the same steps run on an earlier revision of this repository (``git
archive`` into a temporary folder, this environment), on the same tables in the same run, and
the ratio reference/current of each step is printed. Writes ``out/bench/outputs.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("unpickle", "store", "read", "export", "report")

#: the parent's steps, run in a fresh interpreter for each implementation (its ``ketenplan`` is the
#: one first on the path): prints one JSON line of CPU seconds per step and the peak RSS
PARENT = r"""
import json, pickle, resource, sys, time
from pathlib import Path
tables, meta, n, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
from ketenplan.engine.results import Results
from ketenplan.ensemble.store import PartitionStore
from ketenplan.report import render_report
from ketenplan.scenario import load_scenario
try:  # what this implementation's workers send: NumPy columns, or the frames themselves
    from ketenplan.ensemble.store import plain_tables
except ImportError:
    plain_tables = None
blobs = [pickle.dumps(plain_tables(f) if plain_tables else f, pickle.HIGHEST_PROTOCOL)
         for f in (pickle.loads(b) for b in pickle.load(open(tables, "rb")))]
meta = json.loads(open(meta).read())
meta["replicates"] = n
cpu = {k: 0.0 for k in ("unpickle", "store", "read", "export", "report")}
store = PartitionStore(folder / "replicates", chunk=max(5, min(50, n // 20 or 1)))
store.open({"benchmark": n})
plain = "plain" in store.add.__code__.co_varnames
for i in range(n):
    t = time.process_time()
    reduced = pickle.loads(blobs[i % len(blobs)])  # what a worker's result costs the parent to receive
    cpu["unpickle"] += time.process_time() - t
    for df in reduced.values():
        if hasattr(df, "names"):  # columns
            if "replicate" in df.names:
                df.arrays[df.names.index("replicate")][:] = i
        elif "replicate" in df:
            df["replicate"] = df["replicate"].astype("int32") * 0 + i
    t = time.process_time()
    store.add(i, reduced, plain=True) if plain else store.add(i, reduced)
    cpu["store"] += time.process_time() - t
t = time.process_time()
store.flush()
cpu["store"] += time.process_time() - t
res = Results(scenario=load_scenario("nl_baseline"), metadata=meta, source=store)
t = time.process_time()
rows = sum(len(store.read(name)) for name in store.tables())
cpu["read"] = time.process_time() - t
(folder / "out").mkdir()
t = time.process_time()
res.to_parquet(folder / "out")
cpu["export"] = time.process_time() - t
t = time.process_time()
render_report(res, folder / "out" / "report.html")
cpu["report"] = time.process_time() - t
print(json.dumps({"cpu_s": cpu, "rows_read": rows,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def capture(folder: Path, n: int = 20) -> tuple[Path, Path]:
    """Simulate ``n`` replicates and keep each one's reduced tables (as frames, pickled)."""
    from ketenplan.engine.results import Keep, metadata
    from ketenplan.ensemble import Job, run_ensemble
    from ketenplan.post import selected
    from ketenplan.scenario import load_scenario
    from ketenplan.simulation import Reducer, inflow_paths

    sc = load_scenario("nl_baseline")
    seed = sc.simulation.seed
    posts = [p.name for p in selected(sc, None) if p.name != "placement"]
    got: dict[int, bytes] = {}
    job = Job(sc, seed, Reducer(sc, Keep(resolution="month", journeys="none"), posts, seed))
    def keep(i, reduced):  # as frames: each implementation measured hands them over its own way
        frames = {k: v.frame() if hasattr(v, "frame") else v for k, v in reduced.items()}
        got[i] = pickle.dumps(frames, pickle.HIGHEST_PROTOCOL)

    run_ensemble(job, range(n), keep, paths=inflow_paths(sc, seed, n))
    tables, meta = folder / "tables.pkl", folder / "meta.json"
    tables.write_bytes(pickle.dumps([got[i] for i in range(n)]))
    meta.write_text(json.dumps(metadata(sc, seed, n, "processes", {"post_processors": posts, "resolution": "month",
                                                                     "journeys": "none"}), default=str))
    return tables, meta


def parent(tables: Path, meta: Path, n: int, folder: Path, env: dict | None = None) -> dict:
    folder.mkdir()
    p = subprocess.run([sys.executable, "-c", PARENT, str(tables), str(meta), str(n), str(folder)], env=env,
                       capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"parent steps failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--reference", default=None, help="an earlier revision to run the same steps with")
    a = ap.parse_args()
    res: dict = {"replicates": a.replicates}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tables, meta = capture(tmp)
        res["current"] = parent(tables, meta, a.replicates, tmp / "cur")
        if a.reference:
            ref = tmp / "ref"
            ref.mkdir()
            arch = subprocess.run(["git", "-C", str(ROOT), "archive", a.reference, "src"], check=True,
                                  capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(ref)], input=arch, check=True)
            env = dict(os.environ, PYTHONPATH=str(ref / "src"))
            res["reference"] = dict(parent(tables, meta, a.replicates, tmp / "r", env), revision=a.reference)
    cur = res["current"]
    print(f"{a.replicates} replicates, parent CPU [s] per step (current"
          + (f" | reference {a.reference} | ratio reference/current)" if a.reference else ")"))
    for k in STEPS + ("total",):
        c = sum(cur["cpu_s"].values()) if k == "total" else cur["cpu_s"][k]
        line = f"  {k:9s} {c:7.2f}"
        if a.reference:
            r = sum(res["reference"]["cpu_s"].values()) if k == "total" else res["reference"]["cpu_s"][k]
            line += f" | {r:7.2f} | {r / c:5.2f}" if c > 0 else f" | {r:7.2f} |   n/a"
        print(line)
    print(f"  peak RSS {cur['peak_rss_gb']:.2f} GB"
          + (f" | {res['reference']['peak_rss_gb']:.2f} GB" if a.reference else ""))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "outputs.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
