"""The chain engine: compile a scenario to arrays, run the numba kernel, build labelled results."""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from ketenplan.engine.results import Results, build_results
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)


def _forecast_paths(scenario: Scenario, seed: int, n: int) -> list[np.ndarray]:
    """First-application inflow per replicate from the inflow forecast's sample paths.

    The forecast series counts all asylum applicants (Eurostat definition: first and subsequent,
    most nareis left out), so the scenario's expected subsequent applications are taken off.
    Months up to the last data month (the warm-up, mostly) replay the data; the forecast starts
    where the data end.
    """
    from ketenplan.engine.compile import monthly_persons, time_grid
    from ketenplan.forecast import inflow_sample_paths

    grid = time_grid(scenario)
    months = grid.months()
    df = inflow_sample_paths(country=scenario.inflow.forecast_country, start=str(months[0]),
                             months=len(months), n_paths=n, seed=seed, origin="latest")
    sub = monthly_persons(scenario.inflow.subsequent.per_year, scenario.inflow.subsequent.monthly, grid,
                          np.array(scenario.inflow.monthly_profile))
    wide = df.pivot(index="month", columns="path", values="applicants").sort_index()
    return [np.maximum(wide[p].to_numpy(float)[: len(months)] - sub, 0.0) for p in range(n)]


def simulate(scenario: Scenario, seed: int | None = None, replicates: int | None = None, *,
             backend: str = "threads", keep_journeys: str = "first", workers: int | None = None,
             client=None, progress: Callable[[int], None] | None = None) -> Results:
    """Simulate the chain for a scenario and return labelled results.

    ``seed`` and ``replicates`` default to the scenario's ``simulation`` section. The same scenario
    and seed give identical numbers on every backend (``serial``, ``threads``, ``processes``,
    ``dask``). ``keep_journeys``: ``first`` (replicate 0), ``all`` or ``none``.
    """
    from ketenplan.ensemble import run_replicates
    from ketenplan.errors import ScenarioError

    if keep_journeys not in ("first", "all", "none"):
        raise ScenarioError(f"keep_journeys (--journeys) must be 'first', 'all' or 'none', found {keep_journeys!r}")
    if seed is not None and int(seed) < 0:
        raise ScenarioError(f"seed must be an integer >= 0, found {seed}")
    seed = scenario.simulation.seed if seed is None else int(seed)
    n = scenario.simulation.replicates if replicates is None else int(replicates)
    paths = _forecast_paths(scenario, seed, n) if scenario.inflow.source == "forecast" else None
    outs = run_replicates(scenario, seed, n, backend=backend, paths=paths, workers=workers, client=client,
                          progress=progress)
    return build_results(scenario, outs, seed, backend, keep_journeys=keep_journeys)
