"""The public entry: simulate a scenario as an ensemble, with its post-processors, into results.

    import ketenplan
    res = ketenplan.simulate(ketenplan.load_scenario("nl_baseline"), seed=1, replicates=20)
    res.kpi_summary()

Every replicate runs the chain (``engine``), its registered post-processors (``post``) and is
reduced to what is kept (``engine.results.reduce_replicate``) in the worker; the reductions are
stored as they finish (``ensemble.store.PartitionStore``, in ``out`` or a temporary folder) and
:class:`~ketenplan.engine.results.Results` reads them back. Memory does not grow with the number
of replicates; a run started again on the same ``out`` resumes where it stopped.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ketenplan.engine.results import Keep, Results, metadata
from ketenplan.errors import ScenarioError
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)

#: The most replicates one run may have (one declared limit for the scenario, the API and the CLI).
MAX_REPLICATES = 100_000
#: Bytes a case takes in a running replicate (kernel inputs and state, results), measured on the
#: Dutch baseline: 385k cases, about 0.25 GB peak per replicate in a worker.
BYTES_PER_CASE = 650


class Reducer:
    """What a worker does with a finished replicate: post-processors, then the reduction."""

    def __init__(self, scenario: Scenario, keep: Keep, post: list[str], seed: int):
        self.scenario, self.keep, self.post, self.seed = scenario, keep, list(post), int(seed)

    def __call__(self, out) -> dict:
        from ketenplan.engine.results import kpi_columns, reduce_columns
        from ketenplan.ensemble.store import plain_tables
        from ketenplan.post import POST_PROCESSORS

        # the tables as NumPy columns where they come so (the engine's, a post-processor's ``columns``):
        # no pandas frame is built for them in the worker
        tables = reduce_columns(out, self.scenario, self.keep)
        figures = []
        for name in self.post:
            p = POST_PROCESSORS[name]
            if not p.applies_to(out.replicate):
                continue
            extra = (p.columns or p.run)(out, self.scenario, self.seed)
            kp = extra.pop("kpis", None)
            if kp:
                figures.append((kp, {k.name: k for k in p.kpis}))
            tables.update(extra)
        if figures:  # the post-processors' key figures after the engine's, in their order
            more = kpi_columns(out.replicate, figures)
            tables["kpis"] = {c: np.concatenate([a, more[c]]) for c, a in tables["kpis"].items()}
        # categoricals as strings here, in the worker, and the frames as plain NumPy columns: the
        # parent's store takes them as they come (PartitionStore.add(..., plain=True)), unpickles no
        # pandas objects and concatenates a chunk column by column
        return plain_tables(tables)


def forecast_paths(scenario: Scenario, seed: int, n: int) -> list[np.ndarray]:
    """First applications per grid month and replicate from the inflow forecast's sample paths.

    The forecast series counts all asylum applicants (Eurostat definition: first and subsequent,
    most nareis left out), so the scenario's expected subsequent applications are taken off.
    Months up to the last data month replay the data; the forecast starts where the data end.
    """
    from ketenplan.engine.compile import monthly_persons, time_grid
    from ketenplan.forecast import inflow_sample_paths

    grid = time_grid(scenario)
    months = grid.months()
    horizon = forecast_months(scenario, months)
    df = inflow_sample_paths(country=scenario.inflow.forecast_country, start=str(months[0]),
                             months=horizon, n_paths=n, seed=seed, origin=scenario.forecast.origin)
    sub = monthly_persons(scenario.inflow.subsequent.per_year, scenario.inflow.subsequent.monthly, grid,
                          np.array(scenario.inflow.monthly_profile))
    wide = df.pivot(index="month", columns="path", values="applicants").sort_index()
    given = monthly_persons(scenario.inflow.first.per_year, scenario.inflow.first.monthly, grid,
                            np.array(scenario.inflow.monthly_profile))
    out = []
    for p in range(n):
        v = np.maximum(wide[p].to_numpy(float)[:horizon] - sub[:horizon], 0.0)
        if horizon < len(months):
            if scenario.forecast.after_horizon == "hold":  # the path's last forecast year, repeated
                v = np.concatenate([v, np.resize(v[max(horizon - 12, 0):horizon], len(months) - horizon)])
            else:  # the scenario's given first applications
                v = np.concatenate([v, given[horizon:]])
        out.append(v[: len(months)])
    return out


def forecast_months(scenario: Scenario, months) -> int:
    """Grid months that the forecast's sample paths cover: up to ``forecast.horizon_months`` after
    the forecast origin (the data months before it included)."""
    from ketenplan.forecast.api import last_month

    o = scenario.forecast.origin
    origin = pd.Period(last_month(scenario.inflow.forecast_country) if o == "latest" else o, freq="M")
    end = origin + scenario.forecast.horizon_months
    return int(min(len(months), max(12, (end - months[0]).n + 1)))


def inflow_paths(scenario: Scenario, seed: int, n: int) -> list[np.ndarray] | None:
    """The first-application inflow per replicate when it comes from the forecast, else None."""
    return forecast_paths(scenario, seed, n) if scenario.inflow.source == "forecast" else None


def ensemble_size(scenario: Scenario, seed: int | None, replicates: int | None) -> tuple[int, int]:
    """(seed, replicates) of a run: the arguments, or the scenario's simulation section."""
    return (scenario.simulation.seed if seed is None else int(seed),
            scenario.simulation.replicates if replicates is None else int(replicates))


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or 8 GiB where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def check_size(scenario: Scenario, replicates: int, workers: int, backend: str) -> float:
    """Refuse, before anything is allocated, a run that cannot fit: too many replicates, or a
    replicate larger than the memory of the machine. Returns the estimated bytes per replicate."""
    from ketenplan.engine.compile import expected_persons

    if replicates > MAX_REPLICATES:
        raise ScenarioError(f"--replicates / simulation.replicates: {replicates:,} replicates asked; at most "
                            f"{MAX_REPLICATES:,} fit one run (a 10-year Dutch replicate takes 0.2-0.5 s of one core, by machine). "
                            "Split the ensemble into runs with different seeds")
    persons = expected_persons(scenario)
    if not np.isfinite(persons):
        raise ScenarioError("inflow: the expected arrivals are not finite; check the inflow values")
    per = persons * BYTES_PER_CASE
    parallel = 1 if backend == "serial" else max(1, workers)
    avail = available_memory()
    if per * parallel > 0.8 * avail:
        fit = max(0.0, 0.8 * avail / parallel / BYTES_PER_CASE)
        raise ScenarioError(
            f"inflow: a replicate of scenario '{scenario.name}' expects {persons:,.0f} persons over "
            f"{scenario.simulation.grid_start} to {scenario.simulation.end} and would need about {_gb(per)} of memory "
            f"({parallel} at a time: {_gb(per * parallel)}), while {_gb(avail)} is available; at most about "
            f"{fit:,.0f} persons per replicate fit. Lower the inflow (inflow.first, inflow.subsequent, "
            "inflow.resettlement, inflow.nareis), shorten the period, or run fewer workers")
    return per


def _gb(b: float) -> str:
    return f"{b / 2**30:,.1f} GB" if b >= 2**28 else f"{b / 2**20:,.0f} MB"


def simulate(scenario: Scenario, seed: int | None = None, replicates: int | None = None, *,
             backend: str = "threads", keep_journeys: str = "first", resolution: str = "month",
             workers: int | None = None, client=None, scheduler: str | None = None,
             post: list[str] | tuple[str, ...] | None = None, out: str | Path | None = None,
             hooks: Callable[[int], list] | None = None, progress: Callable[[int], None] | None = None,
             chunk: int | None = None) -> Results:
    """Simulate the chain for a scenario and return labelled results.

    ``seed`` and ``replicates`` default to the scenario's ``simulation`` section. The same scenario
    and seed give identical numbers on every backend (``serial``, ``threads``, ``processes``,
    ``dask``; ``scheduler`` = the address of an existing Dask cluster). ``keep_journeys``: per-case
    journeys of the ``first`` replicate, ``all`` or ``none``; ``resolution``: stocks and flows per
    ``month`` or ``day``. ``post``: post-processors to run (default: those the scenario enables,
    e.g. placement). ``out``: folder for the stored replicates (default: a temporary folder that
    lives as long as the results); a run interrupted and started again on the same folder resumes.
    ``hooks(replicate)`` may return extra hooks (capacity policies) for each replicate.
    """
    from ketenplan.ensemble import BACKENDS, Job, _cpu_count, run_ensemble
    from ketenplan.ensemble.store import PartitionStore
    from ketenplan.post import selected

    if not isinstance(scenario, Scenario):
        raise ScenarioError(f"scenario: expected a Scenario (ketenplan.load_scenario('nl_baseline' or a .toml path)), "
                            f"found {type(scenario).__name__} {scenario!r}"[:300])
    whole = lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool)  # noqa: E731
    if seed is not None and (not whole(seed) or int(seed) < 0):
        raise ScenarioError(f"seed (--seed) must be an integer >= 0, found {seed!r}")
    if replicates is not None and not whole(replicates):
        raise ScenarioError(f"replicates (--replicates) must be an integer >= 1, found {replicates!r}")
    if workers is not None and (not whole(workers) or int(workers) < 1):
        raise ScenarioError(f"workers (--workers) must be an integer >= 1, found {workers!r}")
    if isinstance(post, str):
        post = [post]
    if backend not in BACKENDS:
        raise ScenarioError(f"backend (--backend): unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    keep = Keep(resolution=resolution, journeys=keep_journeys)
    seed, n = ensemble_size(scenario, seed, replicates)
    if n < 1:
        raise ScenarioError(f"replicates (--replicates) must be at least 1, found {n}")
    n_workers = workers or _cpu_count()
    check_size(scenario, n, n_workers, backend)
    posts = [p.name for p in selected(scenario, post)]
    paths = inflow_paths(scenario, seed, n)
    from ketenplan.engine.snapshot import starting_point
    from ketenplan.scenario.uncertainty import band_sources

    start = starting_point(scenario)  # the replay runs here, once, before any worker starts

    if out is None:
        folder = Path(tempfile.mkdtemp(prefix="ketenplan-run-"))
        owned = True
    else:
        folder, owned = Path(out), False
    made = not folder.exists()  # a folder this call makes and that holds no replicate is removed on failure
    store = PartitionStore(folder, chunk=chunk or max(5, min(50, n // 20 or 1)))
    manifest = {"scenario_hash": scenario.digest(), "scenario": scenario.name, "seed": seed, "replicates": n,
                "keep": {"resolution": keep.resolution, "journeys": keep.journeys}, "post": posts,
                "hooks": getattr(hooks, "name", None) if hooks else None,
                "version": metadata(scenario, seed, n, backend)["version"]}
    done = store.open(manifest)
    todo = [i for i in range(n) if i not in done]
    if progress and done:
        progress(len(done))
    job = Job(scenario, seed, Reducer(scenario, keep, posts, seed), hooks=hooks)
    store.expect(todo)  # chunks in replicate order, whatever order the workers finish in
    try:
        run_ensemble(job, todo, functools.partial(store.add, plain=True), backend=backend, paths=paths,
                     workers=workers, client=client, scheduler=scheduler, progress=progress)
        store.flush()
    except BaseException:
        try:
            store.flush()  # keep what finished, so that a new start resumes
        finally:
            if owned or (made and not store.done()):
                store.close()
                shutil.rmtree(folder, ignore_errors=True)
        raise
    meta = metadata(scenario, seed, n, backend, {"post_processors": posts, "resolution": keep.resolution,
                                                 "journeys": keep.journeys, "resumed_replicates": len(done),
                                                 "starting_state": start, "uncertainty": band_sources(scenario)})
    res = Results(scenario=scenario, metadata=meta, source=store)
    arrived = store.query("SELECT sum(persons) AS p FROM flows WHERE flow = 'arrivals'").p.iloc[0]
    meta["persons_arrived"] = int(arrived) if arrived == arrived and arrived is not None else 0
    if owned:
        weakref.finalize(res, _cleanup, store, folder, os.getpid())
    return res


def _cleanup(store, folder: Path, pid: int) -> None:
    """Close the store and remove the temporary folder, in the process that made them only (a worker
    forked while the results were alive must neither close the parent's connection nor delete its files)."""
    if os.getpid() != pid:
        return
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
