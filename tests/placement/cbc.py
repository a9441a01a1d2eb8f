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
