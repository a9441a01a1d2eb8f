"""Independent reference: the same placement model solved case by case with PuLP/CBC."""

from __future__ import annotations

import warnings

import numpy as np
import pulp


def cbc_optimum(problem, *, relax: bool = False, time_limit: float | None = None) -> tuple[float, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _cbc(problem, relax, time_limit)


def _cbc(problem, relax, time_limit):
    m = pulp.LpProblem("placement", pulp.LpMaximize)
    usable = problem.usable()
    cat = "Continuous" if relax else "Binary"
    x = {(i, j): pulp.LpVariable(f"x_{i}_{j}", 0, 1, cat=cat) for i, j in zip(*np.nonzero(usable))}
    if not x:
        return 0.0, "Empty"
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
    kw = {"msg": False, "gapRel": 1e-9}
    if time_limit:
        kw["timeLimit"] = time_limit
    m.solve(pulp.PULP_CBC_CMD(**kw))
    return float(pulp.value(m.objective) or 0.0), pulp.LpStatus[m.status]


def cbc_aggregated(problem, *, relax: bool = False, time_limit: float | None = None) -> tuple[float, str]:
    """Same model with interchangeable cases aggregated into integer counts per type (for large
    one-dimensional instances, where one binary per case and location is too large for PuLP)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
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
        kw = {"msg": False}
        if not relax:
            kw["gapRel"] = 1e-9
        if time_limit:
            kw["timeLimit"] = time_limit
        m.solve(pulp.PULP_CBC_CMD(**kw))
        status = pulp.LpStatus[m.status]
        if status == "Optimal" and m.sol_status == pulp.LpSolutionIntegerFeasible:
            status = "Feasible (time limit)"  # PuLP reports a stopped CBC run as 'Optimal'
        return float(pulp.value(m.objective) or 0.0), status
