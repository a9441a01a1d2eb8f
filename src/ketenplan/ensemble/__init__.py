"""Ensembles: run replicates on a backend; every backend gives identical numbers.

Replicate ``i`` always draws from child ``i`` of ``SeedSequence(seed)``, whatever runs it.
Backends: ``serial``; ``threads`` (the default: the numba kernel releases the GIL); ``processes``
(a standard-library process pool); ``dask`` (a ``dask.distributed`` client: pass one for a
cluster, or a local one is started).
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np

from ketenplan.engine.run import ReplicateOutput, run_replicate
from ketenplan.errors import ScenarioError
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)

BACKENDS = ("serial", "threads", "processes", "dask")


def replicate_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """The per-replicate seed streams: children of one root SeedSequence."""
    return np.random.SeedSequence(seed).spawn(n)


def _task(args) -> ReplicateOutput:
    scenario, i, ss, path = args
    return run_replicate(scenario, i, ss, first_monthly=path)


def _remote_task(args) -> ReplicateOutput:
    """In another process: send back only what the results need, not the compiled inputs."""
    return _task(args).slim()


def run_replicates(scenario: Scenario, seed: int, n: int, backend: str = "threads",
                   paths: Sequence[np.ndarray | None] | None = None, workers: int | None = None,
                   client=None, progress: Callable[[int], None] | None = None) -> list[ReplicateOutput]:
    """Run ``n`` replicates; ``paths[i]`` optionally replaces replicate i's first-application inflow."""
    if backend not in BACKENDS:
        raise ScenarioError(f"unknown backend '{backend}'; expected one of {', '.join(BACKENDS)}")
    seeds = replicate_seeds(seed, n)
    paths = list(paths) if paths is not None else [None] * n
    tasks = [(scenario, i, seeds[i], paths[i]) for i in range(n)]
    outs: list[ReplicateOutput] = []
    log.debug("running %d replicates on backend %s", n, backend)
    if backend == "serial" or n == 1:
        for t in tasks:
            outs.append(_task(t))
            if progress:
                progress(1)
    elif backend in ("threads", "processes"):
        pool_cls = ThreadPoolExecutor if backend == "threads" else ProcessPoolExecutor
        fn = _task if backend == "threads" else _remote_task
        with pool_cls(max_workers=workers) as pool:
            for o in pool.map(fn, tasks):
                outs.append(o)
                if progress:
                    progress(1)
    else:
        outs = _run_dask(tasks, client, workers, progress)
    return sorted(outs, key=lambda o: o.replicate)


def _run_dask(tasks, client, workers, progress) -> list[ReplicateOutput]:
    from dask.distributed import Client, LocalCluster, as_completed

    own = client is None
    cluster = None
    if own:
        cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.WARNING)
        client = Client(cluster)
    try:
        futures = client.map(_remote_task, tasks, pure=False)
        outs = []
        for fut in as_completed(futures):
            outs.append(fut.result())
            if progress:
                progress(1)
        return outs
    finally:
        if own:
            client.close()
            cluster.close()
