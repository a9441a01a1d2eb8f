"""Optimal placement of cases (households) to locations under multidimensional capacities.

Problem (build -> solve -> extract)::

    max  sum_{i,j compatible} w_ij x_ij
    s.t. sum_j x_ij <= 1                      for every case i   (= 1 with ``require_all``)
         sum_i s_id x_ij <= cap_jd            for every location j and size dimension d
         x_ij in {0, 1}                       (x_ij in [0, 1] with ``relax``)

``w_ij`` is the weight of case ``i`` at location ``j`` (e.g. expected number employed),
``s_id`` the size of case ``i`` in dimension ``d`` (persons, or children/adults/seniors) and
``cap_jd`` the capacity of location ``j`` in that dimension [same unit as the size].

Method: cases with identical sizes, compatible set and weights are interchangeable, so they are
aggregated into *types* with an integer count per type and location. The LP relaxation of the
aggregated model is solved with HiGHS, or, with one size dimension and every case at least one
person, as a min-cost flow in persons (OR-Tools); if its solution is integral it is proven
optimal. If not, it is rounded: down with a greedy fill, and (one dimension) by a *flow dive*
that fixes the whole households of the LP and re-solves the left-over households plus the
single persons as a flow on the remaining capacity, rounding up the fractional households
(:func:`_dive_by_flow`). That gives a feasible solution and a proven gap against the LP bound.
If that gap exceeds ``mip_rel_gap`` and the model is small enough (``max_bb_variables``), the
aggregated integer program is solved by HiGHS branch-and-bound, warm-started from the rounding.

Solver status is returned as :class:`SolveStatus`, never raised. Ties are broken
deterministically: the same input gives the same assignment (types are numbered in order of
first appearance, locations keep their input order, and the cases of a type are handed to
that type's locations in input order).
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ketenplan.errors import DataError, ScenarioError

log = logging.getLogger(__name__)

__all__ = ["SolveStatus", "PlacementProblem", "PlacementResult", "solve_placement", "greedy_placement",
           "evaluate_assignment"]

_INT_TOL = 1e-6


class SolveStatus(str, enum.Enum):
    """Outcome of a placement solve."""

    OPTIMAL = "optimal"        # proven optimal (relative gap <= the requested tolerance)
    FEASIBLE = "feasible"      # a feasible solution with a proven gap above the tolerance (time limit)
    INFEASIBLE = "infeasible"  # only with require_all: not every case can be placed
    EMPTY = "empty"            # no cases, no locations or no compatible pair that fits
    ERROR = "error"            # the solver failed; see the message
    OVER_CAPACITY = "over_capacity"  # a given assignment (e.g. the status quo) exceeds a capacity: not feasible

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PlacementProblem:
    """A placement instance in array form.

    Attributes
    ----------
    case_ids, location_ids : identifiers in input order.
    dimensions : names of the size/capacity dimensions (e.g. ``("persons",)``).
    sizes : int array (n_cases, n_dims) [persons per dimension].
    capacities : int array (n_locations, n_dims) [persons per dimension].
    weights : float array (n_cases, n_locations), >= 0 (expected numbers employed or probabilities);
        NaN marks an incompatible pair.
    current_location : int array (n_cases,) of location indices (-1 = none), or None.
    """

    case_ids: np.ndarray
    location_ids: np.ndarray
    dimensions: tuple[str, ...]
    sizes: np.ndarray
    capacities: np.ndarray
    weights: np.ndarray
    current_location: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, m, d = len(self.case_ids), len(self.location_ids), len(self.dimensions)
        if self.sizes.shape != (n, d):
            raise DataError(f"placement problem: sizes have shape {self.sizes.shape}; expected {(n, d)}")
        if self.capacities.shape != (m, d):
            raise DataError(f"placement problem: capacities have shape {self.capacities.shape}; expected {(m, d)}")
        if self.weights.shape != (n, m):
            raise DataError(f"placement problem: weights have shape {self.weights.shape}; expected {(n, m)}")
        if n and (self.sizes < 0).any():
            raise DataError("placement problem: a case size is negative; expected sizes >= 0")
        if m and (self.capacities < 0).any():
            raise DataError("placement problem: a capacity is negative; expected capacities >= 0")
        if np.isinf(self.weights).any():
            raise DataError("placement problem: a weight is infinite; expected finite weights (NaN = incompatible)")
        neg = np.argwhere(self.weights < 0)  # NaN compares False
        if len(neg):
            i, j = neg[0]
            raise DataError(f"placement problem: weight of case {self.case_ids[i]!r} at location "
                            f"{self.location_ids[j]!r} is negative ({self.weights[i, j]!r}); expected weights >= 0 "
                            f"(expected numbers of employed persons or probabilities; NaN = incompatible)")

    @classmethod
    def from_arrays(cls, sizes, capacities, weights, *, case_ids=None, location_ids=None,
                    dimensions=None, compatible=None, current_location=None) -> "PlacementProblem":
        """Build from plain arrays; ``compatible`` (bool, n_cases x n_locations) masks weights."""
        sizes = np.asarray(sizes, dtype=np.int64)
        if sizes.ndim == 1:
            sizes = sizes[:, None]
        capacities = np.asarray(capacities, dtype=np.int64)
        if capacities.ndim == 1:
            capacities = capacities[:, None]
        weights = np.array(weights, dtype=float, copy=True)
        if compatible is not None:
            weights[~np.asarray(compatible, dtype=bool)] = np.nan
        n, m = weights.shape
        case_ids = np.asarray(case_ids if case_ids is not None else np.arange(n))
        location_ids = np.asarray(location_ids if location_ids is not None else np.arange(m))
        dims = tuple(dimensions) if dimensions is not None else (
            ("persons",) if sizes.shape[1] == 1 else tuple(f"dim{k}" for k in range(sizes.shape[1])))
        cur = None if current_location is None else np.asarray(current_location, dtype=np.int64)
        return cls(case_ids, location_ids, dims, sizes, capacities, weights, cur)

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    @property
    def n_locations(self) -> int:
        return len(self.location_ids)

    def usable(self) -> np.ndarray:
        """Bool (n_cases, n_locations): compatible and the case fits the empty location in every dimension."""
        fits = (self.sizes[:, None, :] <= self.capacities[None, :, :]).all(axis=2)
        return ~np.isnan(self.weights) & fits


@dataclass
class PlacementResult:
    """Solution of one placement method (optimal, greedy, status quo, relaxed)."""

    method: str
    status: SolveStatus
    objective: float
    bound: float
    gap: float
    cases_placed: float
    persons_placed: float
    solve_time_s: float
    assignment: pd.DataFrame
    message: str = ""
    binding: list[str] = field(default_factory=list)
    build_time_s: float = 0.0  # part of solve_time_s spent building the model (aggregation, LP arrays) [s]

    def summary(self) -> dict:
        """Flat record for a summary table (cases and persons placed as integers when whole, as
        they always are except for the LP relaxation)."""
        return {"method": self.method, "status": str(self.status), "objective": self.objective,
                "bound": self.bound, "gap": self.gap, "cases_placed": _whole(self.cases_placed),
                "persons_placed": _whole(self.persons_placed), "solve_time_s": self.solve_time_s,
                "message": self.message, "binding": ";".join(self.binding[:20])}


# ----------------------------------------------------------------------------------------------
# helpers

def _whole(x: float) -> int | float:
    """``x`` as an int when it is a whole number (up to rounding noise), else unchanged."""
    xf = float(x)
    return int(round(xf)) if np.isfinite(xf) and abs(xf - round(xf)) < 1e-9 else xf


def _assignment_frame(problem: PlacementProblem, case_idx: np.ndarray, loc_idx: np.ndarray,
                      share: np.ndarray) -> pd.DataFrame:
    """Tidy assignment: one row per (case, location) with a positive share."""
    keep = share > 1e-12
    case_idx, loc_idx, share = case_idx[keep], loc_idx[keep], share[keep]
    order = np.lexsort((loc_idx, case_idx))
    case_idx, loc_idx, share = case_idx[order], loc_idx[order], share[order]
    df = pd.DataFrame({"case_id": problem.case_ids[case_idx], "location_id": problem.location_ids[loc_idx],
                       "share": share, "weight": problem.weights[case_idx, loc_idx]})
    for k, dim in enumerate(problem.dimensions):
        df[dim] = problem.sizes[case_idx, k]
    return df


def evaluate_assignment(problem: PlacementProblem, location_of_case: np.ndarray, *, method: str = "given",
                        check_capacity: bool = True) -> PlacementResult:
    """Objective and counts of a whole-case assignment (location index per case, -1 = unplaced).

    An assignment to an incompatible pair counts with weight 0 and is listed in the message. With
    ``check_capacity``, an assignment that exceeds a capacity gets status ``over_capacity`` (it is
    not a feasible placement) and the exceeded location-dimension pairs are listed in ``binding``.
    """
    loc = np.asarray(location_of_case, dtype=np.int64)
    placed = loc >= 0
    ci = np.flatnonzero(placed)
    li = loc[placed]
    w = problem.weights[ci, li] if len(ci) else np.zeros(0)
    incompatible = int(np.isnan(w).sum())
    objective = float(np.nansum(w))
    msgs = []
    if incompatible:
        msgs.append(f"{incompatible} case(s) sit at an incompatible location (counted as weight 0)")
    binding: list[str] = []
    if check_capacity and len(ci):
        used = np.zeros_like(problem.capacities)
        np.add.at(used, li, problem.sizes[ci])
        over = np.argwhere(used > problem.capacities)
        if len(over):
            msgs.append(f"capacity exceeded at {len(over)} location-dimension pair(s)")
            binding = [f"{problem.location_ids[j]}:{problem.dimensions[d]}" for j, d in over]
    df = _assignment_frame(problem, ci, li, np.ones(len(ci)))
    status = SolveStatus.FEASIBLE if len(ci) else SolveStatus.EMPTY
    if binding:
        status = SolveStatus.OVER_CAPACITY
    return PlacementResult(method=method, status=status,
                           objective=objective, bound=float("nan"), gap=float("nan"),
                           cases_placed=float(len(ci)), persons_placed=float(problem.sizes[ci].sum()),
                           solve_time_s=0.0, assignment=df, message="; ".join(msgs), binding=binding)


def greedy_placement(problem: PlacementProblem) -> PlacementResult:
    """Greedy baseline: cases in input (arrival) order, each to its highest-weight compatible
    location that still has room in every dimension; ties go to the earlier location."""
    t0 = time.perf_counter()
    remaining = problem.capacities.copy()
    usable = problem.usable()
    loc = np.full(problem.n_cases, -1, dtype=np.int64)
    w = np.where(usable, problem.weights, -np.inf)
    for i in range(problem.n_cases):
        cand = np.flatnonzero(usable[i])
        if not len(cand):
            continue
        fits = (remaining[cand] >= problem.sizes[i]).all(axis=1)
        cand = cand[fits]
        if not len(cand):
            continue
        j = cand[np.argmax(w[i, cand])]  # argmax returns the first maximum: earliest location wins ties
        loc[i] = j
        remaining[j] -= problem.sizes[i]
    res = evaluate_assignment(problem, loc, method="greedy", check_capacity=False)
    res.solve_time_s = time.perf_counter() - t0
    return res


# ----------------------------------------------------------------------------------------------
# aggregation

@dataclass
class _Types:
    of_case: np.ndarray      # type index per case
    count: np.ndarray        # cases per type
    sizes: np.ndarray        # (T, D)
    weights: np.ndarray      # (T, M), NaN where not usable
    first_case: np.ndarray   # representative case per type


def _aggregate(problem: PlacementProblem, usable: np.ndarray) -> _Types:
    w = np.where(usable, problem.weights, np.nan)
    key = np.hstack([problem.sizes.astype(float), np.nan_to_num(w, nan=-np.inf)])
    # np.unique sorts; renumber types in order of first appearance so that ties stay input-ordered
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    of_case = rank[inverse]
    first_case = first[order]
    count = np.bincount(of_case, minlength=len(first_case))
    return _Types(of_case, count, problem.sizes[first_case], w[first_case], first_case)


# ----------------------------------------------------------------------------------------------
# HiGHS model

_BANNER_LOCK = threading.Lock()
_banner_done = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance, without the banner HiGHS writes to standard output (fd 1) when the first
    instance of a process is made: commands print only their own output."""
    global _banner_done
    if _banner_done:
        return highspy.Highs()
    with _BANNER_LOCK:
        if _banner_done:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                try:
                    h = highspy.Highs()
                finally:
                    os.dup2(saved, 1)
        finally:
            os.close(saved)
        _banner_done = True
        return h


def _build_highs(types: _Types, capacities: np.ndarray, require_all: bool, integer: bool,
                 threads: int | None) -> tuple[highspy.Highs, np.ndarray, np.ndarray, int]:
    T, M = types.weights.shape
    D = capacities.shape[1]
    et, ej = np.nonzero(~np.isnan(types.weights))  # edges sorted by type, then location
    n = len(et)
    cost = types.weights[et, ej]
    # rows: T type rows, then M*D capacity rows
    rows = [et]
    cols = [np.arange(n)]
    vals = [np.ones(n)]
    for d in range(D):
        s = types.sizes[et, d]
        nz = s > 0
        rows.append(T + ej[nz] * D + d)
        cols.append(np.flatnonzero(nz))
        vals.append(s[nz].astype(float))
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(T + M * D, n))
    A.sort_indices()
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = T + M * D
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = types.count[et].astype(float)
    lp.row_lower_ = np.concatenate([types.count.astype(float) if require_all else np.zeros(T), np.full(M * D, -inf)])
    lp.row_upper_ = np.concatenate([types.count.astype(float), capacities.reshape(-1).astype(float)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    lp.sense_ = highspy.ObjSense.kMaximize
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    return h, et, ej, T


def _greedy_fill(types: _Types, et: np.ndarray, ej: np.ndarray, yi: np.ndarray, remaining: np.ndarray,
                 left: np.ndarray) -> np.ndarray:
    """Add the ``left`` cases per type greedily (largest weight first, ties in input order)."""
    yi = yi.copy()
    remaining = remaining.copy()
    left = left.copy()
    cand = np.flatnonzero(left[et] > 0)
    cand = cand[np.lexsort((ej[cand], et[cand], -types.weights[et[cand], ej[cand]]))]
    for e in cand:
        t, j = et[e], ej[e]
        while left[t] > 0 and (remaining[j] >= types.sizes[t]).all():
            yi[e] += 1
            left[t] -= 1
            remaining[j] -= types.sizes[t]
    return yi


def _state(types: _Types, capacities: np.ndarray, et: np.ndarray, ej: np.ndarray,
           yi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(remaining capacity, cases left per type) for integer counts ``yi``."""
    used = np.zeros_like(capacities)
    np.add.at(used, ej, types.sizes[et] * yi[:, None])
    left = types.count - np.bincount(et, weights=yi, minlength=len(types.count)).astype(np.int64)
    return capacities - used, left


def _round_and_fill(types: _Types, capacities: np.ndarray, et: np.ndarray, ej: np.ndarray,
                    y: np.ndarray) -> np.ndarray:
    """Floor the LP counts, then place the left-over cases greedily (largest weight first)."""
    yi = np.floor(y + _INT_TOL).astype(np.int64)
    remaining, left = _state(types, capacities, et, ej, yi)
    return _greedy_fill(types, et, ej, yi, remaining, left)


def _binding(h: highspy.Highs, problem: PlacementProblem, T: int) -> list[str]:
    """Capacity rows with a positive shadow price in the LP (they bind the objective)."""
    try:
        duals = np.asarray(h.getSolution().row_dual)[T:]
    except Exception:  # pragma: no cover - dual values not available
        return []
    D = len(problem.dimensions)
    idx = np.flatnonzero(np.abs(duals) > 1e-9)
    return [f"{problem.location_ids[k // D]}:{problem.dimensions[k % D]}" for k in idx]


def _infeasibility_reason(problem: PlacementProblem, usable: np.ndarray) -> str:
    reasons = []
    none = np.flatnonzero(~usable.any(axis=1))
    if len(none):
        ids = ", ".join(map(str, problem.case_ids[none[:10]]))
        reasons.append(f"{len(none)} case(s) have no compatible location with room for them (e.g. {ids})")
    need = problem.sizes.sum(axis=0)
    have = problem.capacities.sum(axis=0)
    for d, dim in enumerate(problem.dimensions):
        if need[d] > have[d]:
            reasons.append(f"total {dim} {int(need[d])} exceeds total capacity {int(have[d])}")
    if not reasons:
        reasons.append("the capacities of the compatible locations cannot hold every case at once")
    return "; ".join(reasons)


def _flow(types: _Types, capacities: np.ndarray, et: np.ndarray, ej: np.ndarray, count: np.ndarray,
          scale: float) -> np.ndarray:
    """Min-cost flow in persons (OR-Tools) over the edges ``(et, ej)``: type ``t`` supplies
    ``s_t * count_t`` persons, location ``j`` takes at most ``capacities[j, 0]``, a person of type
    ``t`` at ``j`` is worth ``w_tj / s_t`` (scaled by ``scale`` and rounded to an integer cost).
    Persons that are not placed take a zero-cost bypass. Returns the persons per edge (integers)."""
    from ortools.graph.python import min_cost_flow

    M = capacities.shape[0]
    if not len(et):
        return np.zeros(0, np.int64)
    used_t, tmap = np.unique(et, return_inverse=True)
    nT = len(used_t)
    s = types.sizes[:, 0].astype(np.int64)
    supply = s[used_t] * count[used_t]
    P = int(supply.sum())
    cost = -np.round(types.weights[et, ej] / s[et] * scale).astype(np.int64)
    src, snk = nT + M, nT + M + 1
    tails = np.concatenate([np.full(nT, src), tmap, nT + np.arange(M), [src]]).astype(np.int64)
    heads = np.concatenate([np.arange(nT), nT + ej, np.full(M, snk), [snk]]).astype(np.int64)
    caps = np.concatenate([supply, np.minimum(supply[tmap], capacities[ej, 0]), capacities[:, 0], [P]]).astype(np.int64)
    costs = np.concatenate([np.zeros(nT, np.int64), cost, np.zeros(M + 1, np.int64)])
    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    f.set_nodes_supplies(np.array([src, snk], dtype=np.int64), np.array([P, -P], dtype=np.int64))
    status = f.solve()
    if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:  # pragma: no cover - cannot happen with a bypass arc
        raise RuntimeError(f"min-cost flow ended with status {status}")
    return np.asarray(f.flows(np.arange(nT, nT + len(et))), dtype=np.int64)


def _flow_scale(types: _Types) -> float:
    """Integer-cost scale for the flows: the largest weight per person becomes 1e9."""
    per_person = np.abs(types.weights) / types.sizes[:, :1]
    top = float(np.nanmax(per_person)) if np.isfinite(per_person).any() else 0.0
    return 1e9 / top if top > 0 else 1.0


def _lp_by_flow(types: _Types, capacities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """LP relaxation of a one-dimensional instance (all sizes >= 1) as a min-cost flow.

    With one size dimension the aggregated LP is a transportation problem in persons
    (z_tj = s_t y_tj, weight per person w_tj / s_t); its optimum is integral in persons. Costs
    are scaled to integers; the returned bound adds the largest possible effect of that
    rounding (0.5/scale per person, counted twice), so it is a proven upper bound.
    """
    et, ej = np.nonzero(~np.isnan(types.weights))
    s = types.sizes[:, 0].astype(np.int64)
    scale = _flow_scale(types)
    z = _flow(types, capacities, et, ej, types.count, scale)
    y = z / s[et]
    value = float(types.weights[et, ej] @ y)
    bound = value + float((s * types.count).sum()) / scale
    return et, ej, y, bound


def _dive_by_flow(types: _Types, capacities: np.ndarray, et: np.ndarray, ej: np.ndarray, y: np.ndarray,
                  max_rounds: int = 200) -> np.ndarray:
    """Rounding for one-dimensional instances (all sizes >= 1) by an LP dive on min-cost flows.

    Households (size >= 2) keep the whole-case part of the LP; the left-over households and all
    single persons (size 1, they fill any hole exactly) are re-solved as a min-cost flow on the
    remaining capacities. Each round fixes the whole-case parts of that flow and rounds up its
    fractional households, largest fraction first (those >= 0.5, at most one per type and per
    location, at least one), then re-solves. When no household is fractional, the single persons'
    flow is integral and is taken as is. A fractional household that does not fit where the flow
    put it is barred from that location (so every round makes progress); after ``max_rounds``
    the rest is placed greedily. Deterministic: OR-Tools' flow is, and ties go by edge order.
    """
    s = types.sizes[:, 0].astype(np.int64)
    single = s <= 1
    scale = _flow_scale(types)
    fixed = np.where(single[et], 0, np.floor(y + _INT_TOL)).astype(np.int64)
    barred = np.zeros(len(et), bool)
    for _ in range(max_rounds):
        remaining, left = _state(types, capacities, et, ej, fixed)
        left[single] = types.count[single]
        sel = np.flatnonzero((left[et] > 0) & (s[et] <= remaining[ej, 0]) & ~barred)
        ys = _flow(types, remaining, et[sel], ej[sel], left, scale) / s[et[sel]]
        hh = ~single[et[sel]]
        whole = np.where(hh, np.floor(ys + _INT_TOL), 0).astype(np.int64)
        fixed[sel] += whole
        frac = np.where(hh, ys - np.floor(ys + _INT_TOL), 0.0)
        frac[frac <= _INT_TOL] = 0.0
        if not frac.any():
            fixed[sel] += np.where(hh, 0, np.round(ys)).astype(np.int64)
            return fixed
        room = remaining[:, 0] - np.bincount(ej[sel], weights=whole * s[et[sel]],
                                             minlength=capacities.shape[0]).astype(np.int64)
        done_t: set[int] = set()
        done_j: set[int] = set()
        up = 0
        for k in np.lexsort((sel, -frac)):
            if frac[k] <= 0 or (up and frac[k] < 0.5):
                break
            e = sel[k]
            t, j = int(et[e]), int(ej[e])
            if t in done_t or j in done_j:
                continue
            if room[j] >= s[t]:
                fixed[e] += 1
                room[j] -= s[t]
                done_t.add(t)
                done_j.add(j)
                up += 1
            elif not up:
                barred[e] = True
    # not reached in practice (each round fixes or bars at least one edge): greedy, then single persons
    remaining, left = _state(types, capacities, et, ej, fixed)
    left[single] = 0
    fixed = _greedy_fill(types, et, ej, fixed, remaining, left)
    remaining, left = _state(types, capacities, et, ej, fixed)
    left[~single] = 0
    sel = np.flatnonzero((left[et] > 0) & (s[et] <= remaining[ej, 0]))
    fixed[sel] += _flow(types, remaining, et[sel], ej[sel], left, scale)
    return fixed


def _residual_milp(types: _Types, capacities: np.ndarray, et: np.ndarray, ej: np.ndarray, yi: np.ndarray,
                   time_limit: float, threads: int | None) -> np.ndarray:
    """Place the cases left over after flooring the LP: an exact small integer program on the
    remaining cases and remaining capacities (time-limited; the greedy fill is kept if better)."""
    used = np.zeros_like(capacities)
    np.add.at(used, ej, types.sizes[et] * yi[:, None])
    remaining = capacities - used
    left = types.count - np.bincount(et, weights=yi, minlength=len(types.count)).astype(np.int64)
    sub_t = np.flatnonzero(left > 0)
    if not len(sub_t):
        return yi
    sub = _Types(np.zeros(0, np.int64), left[sub_t], types.sizes[sub_t], types.weights[sub_t].copy(), sub_t)
    fits = (sub.sizes[:, None, :] <= remaining[None, :, :]).all(axis=2)
    sub.weights[~fits] = np.nan
    if np.isnan(sub.weights).all():
        return yi
    h, st, sj, _ = _build_highs(sub, remaining, False, integer=True, threads=threads)
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("time_limit", max(0.05, time_limit))
    h.run()
    if h.getInfo().primal_solution_status < 1:
        return yi
    ys = np.round(np.asarray(h.getSolution().col_value)).astype(np.int64)
    # map sub edges back to the full edge list
    key = {(int(t), int(j)): e for e, (t, j) in enumerate(zip(et, ej))}
    out = yi.copy()
    for e in np.flatnonzero(ys > 0):
        out[key[(int(sub_t[st[e]]), int(sj[e]))]] += ys[e]
    return out


# ----------------------------------------------------------------------------------------------

def solve_placement(problem: PlacementProblem, *, relax: bool = False, require_all: bool = False,
                    mip_rel_gap: float = 1e-7, time_limit: float = 60.0, threads: int | None = None,
                    max_bb_variables: int = 50_000, max_residual_time: float = 5.0) -> PlacementResult:
    """Maximise total weight; see the module docstring for the model and method.

    Parameters
    ----------
    relax : solve the LP relaxation only (a case may be split over locations; ``share`` < 1).
    require_all : every case must be placed (the result may then be INFEASIBLE).
    mip_rel_gap : relative gap below which a solution counts as proven optimal.
    time_limit : seconds (> 0) for the branch-and-bound phase; on expiry the status is FEASIBLE.
    max_bb_variables : aggregated models larger than this skip full branch and bound; the
        rounded solution is returned as FEASIBLE with its proven gap to the LP bound.
    max_residual_time : seconds for the exact placement of the cases left after rounding.
    """
    for name, v in (("time_limit (--time-limit)", time_limit), ("max_residual_time", max_residual_time)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) \
                or v <= 0:
            raise ScenarioError(f"{name}: expected a number of seconds > 0, found {v!r}")
    t0 = time.perf_counter()
    method = "relaxed" if relax else "optimal"
    usable = problem.usable() if problem.n_cases and problem.n_locations else np.zeros((problem.n_cases, problem.n_locations), bool)

    def empty(msg: str, status: SolveStatus = SolveStatus.EMPTY) -> PlacementResult:
        return PlacementResult(method, status, 0.0, 0.0, 0.0, 0.0, 0.0, time.perf_counter() - t0,
                               _assignment_frame(problem, np.zeros(0, int), np.zeros(0, int), np.zeros(0)), msg)

    if problem.n_cases == 0 or problem.n_locations == 0 or not usable.any():
        msg = ("no cases" if problem.n_cases == 0 else "no locations" if problem.n_locations == 0
               else "no compatible case-location pair fits")
        if require_all and problem.n_cases:
            return empty(f"infeasible: {_infeasibility_reason(problem, usable)}", SolveStatus.INFEASIBLE)
        return empty(msg)
    if require_all and not usable.any(axis=1).all():
        return empty(f"infeasible: {_infeasibility_reason(problem, usable)}", SolveStatus.INFEASIBLE)

    types = _aggregate(problem, usable)
    build_s = time.perf_counter() - t0
    T = len(types.count)
    # one size dimension, every case at least one person: the LP is a min-cost flow in persons
    one_dim = problem.sizes.shape[1] == 1 and not require_all and bool((problem.sizes >= 1).all())
    if one_dim:
        et, ej, y, bound = _lp_by_flow(types, problem.capacities)
        full = np.zeros_like(problem.capacities)
        np.add.at(full, ej, types.sizes[et] * y[:, None])
        binding = [f"{problem.location_ids[j]}:{problem.dimensions[0]}"
                   for j in np.flatnonzero(full[:, 0] >= problem.capacities[:, 0] - _INT_TOL)]
        lp_how = "min-cost flow (OR-Tools)"
    else:
        tb = time.perf_counter()
        h, et, ej, T = _build_highs(types, problem.capacities, require_all, integer=False, threads=threads)
        build_s += time.perf_counter() - tb
        h.run()
        ms = h.getModelStatus()
        if ms == highspy.HighsModelStatus.kInfeasible:
            return empty(f"infeasible: {_infeasibility_reason(problem, usable)}", SolveStatus.INFEASIBLE)
        if ms != highspy.HighsModelStatus.kOptimal:
            return empty(f"LP relaxation ended with HiGHS status {h.modelStatusToString(ms)}", SolveStatus.ERROR)
        y = np.asarray(h.getSolution().col_value)
        bound = float(h.getInfo().objective_function_value)
        binding = _binding(h, problem, T)
        lp_how = "LP (HiGHS)"
    log.debug("placement: %d cases in %d types, %d locations, %d variables", problem.n_cases, T,
              problem.n_locations, len(et))

    if relax:
        share = y / types.count[et]
        # every case of a type gets the same fractional split
        cases_by_type = [np.flatnonzero(types.of_case == t) for t in range(T)] if T < 5000 else None
        ci_list, li_list, sh_list = [], [], []
        order = np.argsort(types.of_case, kind="stable")
        starts = np.searchsorted(types.of_case[order], np.arange(T + 1))
        for e in np.flatnonzero(share > 1e-12):
            t = et[e]
            members = order[starts[t]:starts[t + 1]] if cases_by_type is None else cases_by_type[t]
            ci_list.append(members)
            li_list.append(np.full(len(members), ej[e]))
            sh_list.append(np.full(len(members), share[e]))
        ci = np.concatenate(ci_list) if ci_list else np.zeros(0, int)
        li = np.concatenate(li_list) if li_list else np.zeros(0, int)
        sh = np.concatenate(sh_list) if sh_list else np.zeros(0)
        df = _assignment_frame(problem, ci, li, sh)
        persons = float((y[:, None] * types.sizes[et]).sum())
        return PlacementResult(method, SolveStatus.OPTIMAL, bound, bound, 0.0, float(y.sum()), persons,
                               time.perf_counter() - t0, df, "LP relaxation (cases may be split)", binding,
                               build_time_s=build_s)

    integral = np.abs(y - np.round(y)) <= _INT_TOL
    how = f"{lp_how}: solution integral"
    if integral.all():
        yi = np.round(y).astype(np.int64)
    else:
        floor = np.floor(y + _INT_TOL).astype(np.int64)
        yi = _round_and_fill(types, problem.capacities, et, ej, y)
        how = f"{lp_how} rounded down, remainder filled greedily"
        if one_dim and _rel_gap(float(types.weights[et, ej] @ yi), bound) > mip_rel_gap:
            yf = _dive_by_flow(types, problem.capacities, et, ej, y)
            if float(types.weights[et, ej] @ yf) > float(types.weights[et, ej] @ yi):
                yi = yf
                how = f"{lp_how}, rounded by a flow dive (households fixed, single persons re-solved)"
        if (not one_dim or len(et) <= max_bb_variables) and _rel_gap(float(types.weights[et, ej] @ yi), bound) > mip_rel_gap:
            spent = time.perf_counter() - t0
            # release the single-person types too: they fill the holes that whole households leave
            floor[types.sizes[et].sum(axis=1) <= 1] = 0
            yr = _residual_milp(types, problem.capacities, et, ej, floor,
                                min(max_residual_time, max(0.05, time_limit - spent)), threads)
            if float(types.weights[et, ej] @ yr) > float(types.weights[et, ej] @ yi):
                yi = yr
                how = f"{lp_how} rounded down, remainder placed by an exact integer program"
    obj = float(types.weights[et, ej] @ yi)
    status = SolveStatus.OPTIMAL
    gap = _rel_gap(obj, bound)
    if require_all and (np.bincount(et, weights=yi, minlength=T) < types.count).any():
        gap = float("inf")
    if gap > mip_rel_gap and len(et) > max_bb_variables and np.isfinite(gap):
        status = SolveStatus.FEASIBLE
        how += f"; {len(et)} variables exceed max_bb_variables={max_bb_variables}, no branch and bound"
    elif gap > mip_rel_gap:
        h2, _, _, _ = _build_highs(types, problem.capacities, require_all, integer=True, threads=threads)
        h2.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h2.setOptionValue("mip_abs_gap", 1e-9)
        h2.setOptionValue("time_limit", max(0.1, float(time_limit) - (time.perf_counter() - t0)))
        if np.isfinite(gap):
            start = highspy.HighsSolution()
            start.col_value = yi.astype(float)
            start.value_valid = True
            h2.setSolution(start)
        h2.run()
        ms2 = h2.getModelStatus()
        info = h2.getInfo()
        if ms2 == highspy.HighsModelStatus.kInfeasible:
            return empty(f"infeasible: {_infeasibility_reason(problem, usable)}", SolveStatus.INFEASIBLE)
        if info.primal_solution_status >= 1 or ms2 == highspy.HighsModelStatus.kOptimal:
            y2 = np.round(np.asarray(h2.getSolution().col_value)).astype(np.int64)
            obj2 = float(types.weights[et, ej] @ y2)
            if not np.isfinite(gap) or obj2 >= obj:
                yi, obj = y2, obj2
            bound = min(bound, float(info.mip_dual_bound)) if np.isfinite(info.mip_dual_bound) else bound
            bound = max(bound, obj)
            gap = _rel_gap(obj, bound)
            how = "branch and bound (HiGHS)"
            status = SolveStatus.OPTIMAL if (ms2 == highspy.HighsModelStatus.kOptimal or gap <= mip_rel_gap) \
                else SolveStatus.FEASIBLE
        elif not np.isfinite(gap):
            return empty(f"no solution placing every case within {time_limit:g} s "
                         f"(HiGHS status {h2.modelStatusToString(ms2)})", SolveStatus.ERROR)
        else:
            status = SolveStatus.FEASIBLE
            how += f"; branch and bound stopped ({h2.modelStatusToString(ms2)})"

    # disaggregate: cases of each type (input order) to that type's locations (input order)
    loc = np.full(problem.n_cases, -1, dtype=np.int64)
    order = np.argsort(types.of_case, kind="stable")
    starts = np.searchsorted(types.of_case[order], np.arange(T + 1))
    fill = starts[:-1].copy()
    for e in np.flatnonzero(yi > 0):
        t = et[e]
        k = yi[e]
        loc[order[fill[t]:fill[t] + k]] = ej[e]
        fill[t] += k
    res = evaluate_assignment(problem, loc, method=method, check_capacity=True)
    if res.binding:  # pragma: no cover - guarded by construction
        raise AssertionError(f"placement exceeds capacity at {res.binding[:5]}")
    res.status = status
    res.bound = bound
    res.gap = _rel_gap(res.objective, bound)
    res.solve_time_s = time.perf_counter() - t0
    res.message = f"{how}; {T} case types"
    res.binding = binding
    res.build_time_s = build_s
    return res


def _rel_gap(obj: float, bound: float) -> float:
    if not np.isfinite(bound):
        return float("inf")
    return max(0.0, bound - obj) / max(abs(bound), 1e-12)
