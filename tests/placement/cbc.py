"""Independent reference: the same placement model solved with PuLP/CBC.

Building the PuLP model (Python objects) and solving it (CBC) are separate steps so that a
benchmark can time them apart: :func:`build_case_model` / :func:`build_aggregated_model`, then
:func:`solve`. :func:`cbc_optimum` and :func:`cbc_aggregated` do both (the tests use them).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pulp


@dataclass
class CbcRun:
    """Outcome of one CBC solve: objective, PuLP status (a stopped integer run is 'Feasible (time
    limit)' or 'Feasible (gap)'), the wall time of the solve call (writing the model file, CBC, reading
    the solution) and CBC's own wall time from its log [s]."""

    objective: float
    status: str
    solve_call_s: float
    cbc_wall_s: float


def build_case_model(problem, *, relax: bool = False):
    """One binary (or [0, 1] variable with ``relax``) per compatible case and location."""
    m = pulp.LpProblem("placement", pulp.LpMaximize)
    usable = problem.usable()
    cat = "Continuous" if relax else "Binary"
    x = {(i, j): pulp.LpVariable(f"x_{i}_{j}", 0, 1, cat=cat) for i, j in zip(*np.nonzero(usable))}
    if not x:
        return None
    m += pulp.lpSum(float(problem.weights[i, j]) * v for (i, j), v in x.items())
    by_case: dict[int, list] = {}
    by_loc: dict[int, list] = {}
    for (i, j), v in x.items():
        by_case.setdefault(i, []).append(v)
        by_loc.setdefault(j, []).append((i, v))
    for vs in by_case.values():
        m += pulp.lpSum(vs) <= 1
    for j, ivs in by_loc.items():
        for d in range(problem.sizes.shape[1]):
            m += pulp.lpSum(int(problem.sizes[i, d]) * v for i, v in ivs) <= int(problem.capacities[j, d])
    return m


def build_aggregated_model(problem, *, relax: bool = False):
    """Same model with interchangeable cases aggregated into integer counts per type (for large
    one-dimensional instances, where one binary per case and location is too large for PuLP)."""
    usable = problem.usable()
    w = np.where(usable, problem.weights, np.nan)
    key = np.hstack([problem.sizes.astype(float), np.nan_to_num(w, nan=-np.inf)])
    uniq, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    count = np.bincount(inv.reshape(-1))
    m = pulp.LpProblem("placement_aggregated", pulp.LpMaximize)
    cat = "Continuous" if relax else "Integer"
    y = {}
    for t, i in enumerate(first):
        for j in np.flatnonzero(usable[i]):
            y[t, j] = pulp.LpVariable(f"y_{t}_{j}", 0, int(count[t]), cat=cat)
    m += pulp.lpSum(float(w[first[t], j]) * v for (t, j), v in y.items())
    by_t: dict[int, list] = {}
    by_j: dict[int, list] = {}
    for (t, j), v in y.items():
        by_t.setdefault(t, []).append(v)
        by_j.setdefault(j, []).append((t, v))
    for t, vs in by_t.items():
        m += pulp.lpSum(vs) <= int(count[t])
    for j, tvs in by_j.items():
        for d in range(problem.sizes.shape[1]):
            m += pulp.lpSum(int(problem.sizes[first[t], d]) * v for t, v in tvs) <= int(problem.capacities[j, d])
    return m


_WALL = re.compile(r"Total time \(CPU seconds\):\s*([\d.]+)\s*\(Wallclock seconds\):\s*([\d.]+)")


def solve(m, *, gap_rel: float | None = None, time_limit: float | None = None) -> CbcRun:
    """Solve a built model with CBC (one thread, its default). ``gap_rel``: stop when the relative gap
    to CBC's bound is at most this (integer models only)."""
    if m is None:
        return CbcRun(0.0, "Empty", 0.0, 0.0)
    integer = any(v.cat == pulp.LpInteger for v in m.variables())
    fd, log = tempfile.mkstemp(suffix=".log")
    os.close(fd)
    kw: dict = {"msg": False, "logPath": log}
    if integer and gap_rel is not None:
        kw["gapRel"] = gap_rel
    if time_limit:
        kw["timeLimit"] = time_limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            t = time.perf_counter()
            m.solve(pulp.PULP_CBC_CMD(**kw))
            call = time.perf_counter() - t
        with open(log, encoding="utf-8", errors="replace") as fh:
            found = _WALL.findall(fh.read())
    finally:
        os.unlink(log)
    status = pulp.LpStatus[m.status]
    if integer and status == "Optimal" and m.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "Feasible (stopped)"  # PuLP reports a CBC run stopped by its limits as 'Optimal'
    return CbcRun(float(pulp.value(m.objective) or 0.0), status, call, float(found[-1][1]) if found else float("nan"))


def cbc_optimum(problem, *, relax: bool = False, time_limit: float | None = None,
                gap_rel: float = 1e-9) -> tuple[float, str]:
    """Case-level model, built and solved: (objective, status)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        r = solve(build_case_model(problem, relax=relax), gap_rel=gap_rel, time_limit=time_limit)
    return r.objective, r.status


def cbc_aggregated(problem, *, relax: bool = False, time_limit: float | None = None,
                   gap_rel: float = 1e-9) -> tuple[float, str]:
    """Aggregated model, built and solved: (objective, status)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        r = solve(build_aggregated_model(problem, relax=relax), gap_rel=gap_rel, time_limit=time_limit)
    return r.objective, r.status
