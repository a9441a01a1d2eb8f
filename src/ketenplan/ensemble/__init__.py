"""Ensembles: run replicates on a backend and hand each one's reduction to a store as it finishes.

Replicate ``i`` always draws from child ``i`` of ``SeedSequence(seed)`` (its Philox key), whatever
runs it, so every backend gives identical numbers. Backends: ``serial``; ``threads`` (the numba
kernel releases the GIL); ``processes`` (a standard-library process pool, the local default for
large ensembles); ``dask`` (a ``dask.distributed`` cluster: ``scheduler`` names the address of
an existing one, or pass a ``client``; without either a LocalCluster is started).

Nothing grows with the number of replicates: tasks are submitted in a window of a few per
worker, a worker returns only what is kept of its replicate (``reduce``), and the parent passes
it on to ``sink`` (e.g. ``ensemble.store.PartitionStore``) at once.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Callable, Iterable, Sequence

import numpy as np

from ketenplan.engine.rng import replicate_seed, replicate_seeds  # noqa: F401 (part of this module's API)
from ketenplan.errors import ScenarioError

log = logging.getLogger(__name__)

BACKENDS = ("serial", "threads", "processes", "dask")


class Job:
    """What every replicate of an ensemble does: run the scenario with the replicate's seed and
    reduce the output with ``reduce`` (a picklable callable). Sent to each worker once."""

    def __init__(self, scenario, seed: int, reduce: Callable, hooks: Callable | None = None):
        self.scenario = scenario
        self.seed = int(seed)
        self.reduce = reduce
        self.hooks = hooks  # callable(replicate) -> list of extra hooks, or None

    def __call__(self, i: int, path: np.ndarray | None):
        from ketenplan.engine.run import run_replicate

        from ketenplan.scenario.parameter_sets import for_replicate

        extra = self.hooks(i) if self.hooks else None
        sc = for_replicate(self.scenario, i, self.seed)  # parameter sets and the replicate's parameter draws
        out = run_replicate(sc, i, replicate_seed(self.seed, i), first_monthly=path, hooks=extra)
        return i, self.reduce(out)


_JOB: Job | None = None  # a process worker's job, set once by the pool initializer

#: glibc ``mallopt`` settings of a process worker: M_MMAP_THRESHOLD (-3) and M_TRIM_THRESHOLD (-1) at
#: 1 GiB. A replicate allocates and frees a few hundred MB of arrays; by default the largest are
#: mapped and unmapped each time, or the heap top is trimmed, so every replicate faults its pages in
#: again (0.01-0.03 s of system time per replicate, measured on nl_baseline). Kept, the freed memory
#: is reused by the next replicate: the worker's resident memory stays at its first replicate's peak
#: (+0.05 GB measured over 30 replicates, flat), and the numbers are the same.
WORKER_MALLOPT = ((-3, 1 << 30), (-1, 1 << 30))


def _keep_freed_memory() -> bool:
    """Apply :data:`WORKER_MALLOPT` (glibc only; elsewhere nothing happens). True when applied."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, value) == 1 for param, value in WORKER_MALLOPT)


def _init_worker(job: Job) -> None:
    global _JOB
    import gc

    _keep_freed_memory()

    # A forked worker inherits the parent's objects, among them garbage not yet collected (e.g. DuckDB
    # connections of earlier results, which are not fork-safe): freeze them, so that the worker's
    # garbage collector never runs their destructors.
    gc.freeze()
    _JOB = job
    from ketenplan.errors import KetenplanWarning
    import warnings

    warnings.simplefilter("ignore", KetenplanWarning)  # the parent has warned already


def _worker_task(i: int, path):
    return _JOB(i, path)


def _dask_task(job: Job, i: int, path):
    return job(i, path)


def run_ensemble(job: Job, replicates: Iterable[int], sink: Callable[[int, object], None], *,
                 backend: str = "processes", paths: Sequence[np.ndarray | None] | None = None,
                 workers: int | None = None, client=None, scheduler: str | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Run ``job`` for each replicate number in ``replicates``; ``sink(i, reduced)`` receives each
    result as it finishes (in any order). ``paths[i]`` optionally replaces replicate i's
    first-application inflow. Returns the number of replicates run."""
    if backend not in BACKENDS:
        raise ScenarioError(f"--backend: unknown backend '{backend}'; expected one of {', '.join(BACKENDS)}")
    todo = list(replicates)
    if not todo:
        return 0

    def path_of(i):
        return None if paths is None else paths[i]

    def done(i, reduced):
        sink(i, reduced)
        if progress:
            progress(1)

    log.debug("running %d replicates on backend %s", len(todo), backend)
    if backend == "serial" or (len(todo) == 1 and backend != "dask" and scheduler is None and client is None):
        for i in todo:
            done(*job(i, path_of(i)))
        return len(todo)
    if backend == "dask" or scheduler is not None or client is not None:
        return _run_dask(job, todo, path_of, done, client, scheduler, workers)
    n_workers = workers or _cpu_count()
    if backend == "threads":
        pool = ThreadPoolExecutor(max_workers=n_workers)
        submit = lambda i: pool.submit(job, i, path_of(i))  # noqa: E731
    else:
        pool = ProcessPoolExecutor(max_workers=n_workers, initializer=_init_worker, initargs=(job,))
        submit = lambda i: pool.submit(_worker_task, i, path_of(i))  # noqa: E731
    window = 2 * n_workers
    pending: set = set()
    it = iter(todo)
    try:
        with pool:
            for i in it:
                pending.add(submit(i))
                if len(pending) >= window:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        done(*f.result())
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    done(*f.result())
    except BaseException:
        for f in pending:
            f.cancel()
        raise
    return len(todo)


def _cpu_count() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def _run_dask(job, todo, path_of, done, client, scheduler, workers) -> int:
    from dask.distributed import Client, LocalCluster, as_completed

    own_client = client is None
    cluster = None
    if own_client:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise ScenarioError(f"--scheduler: cannot reach a Dask scheduler at {scheduler!r} ({exc}); give the "
                                    "address of a running scheduler, e.g. tcp://10.0.0.5:8786") from None
        else:
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
            client = Client(cluster)
    try:
        remote_job = client.scatter(job, broadcast=True)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        window = 4 * n_workers
        it = iter(todo)
        ac = as_completed()
        for i in it:
            ac.add(client.submit(_dask_task, remote_job, i, path_of(i), pure=False))
            if ac.count() >= window:
                break
        for fut in ac:
            done(*fut.result())
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(client.submit(_dask_task, remote_job, nxt, path_of(nxt), pure=False))
        return len(todo)
    finally:
        if own_client:
            client.close()
            if cluster is not None:
                cluster.close()
