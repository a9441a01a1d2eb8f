"""Placement as a post-processor of the chain simulation (P3.7, P6.1, P6.2).

:func:`chain_placement` takes the per-case journey table of a chain run and, per replicate and
half-year in which a case is matched, places the granted cases over the municipalities. A case is
matched at its decision, or, when the chain routed it as likely granted to a small-scale location
(lever ``routing_small_scale``, P3.7), already at its registration: that is when it moves near its
future municipality. Per half-year:

1. capacity = the housing task per municipality (:func:`~ketenplan.placement.housing_task`)
   with that half-year's granted persons as national total [persons];
2. weights = expected number employed from the employment model (default model unless given).
   The journey table has no education, work experience or language, so each adult's features
   are drawn with the shares in ``parameters.csv`` (named assumptions) from the seed; adults are
   taken to be of working age, children (4-17) and the remaining persons (0-3) are not employable;
3. the optimal placement (:func:`~ketenplan.placement.solve_placement`) and the status quo.

**Status quo** (COA koppeling today, by task and without regard to employment): the cases are
taken in a random order; each goes to a municipality drawn with probability proportional to its
remaining task among the municipalities with room for the whole case; a case that fits nowhere
is not placed. Both use the same seed-derived random numbers, so the result is reproducible.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ketenplan.errors import DataError
from ketenplan.placement.employment import EmploymentModel, default_employment_model, load_parameters, urbanity_index
from ketenplan.placement.solver import PlacementProblem, evaluate_assignment, solve_placement
from ketenplan.placement.taakstelling import housing_task, load_municipalities

log = logging.getLogger(__name__)

__all__ = ["PlacementOutcome", "chain_placement", "half_year", "JOURNEY_COLUMNS", "status_quo_placement"]

JOURNEY_COLUMNS = ("replicate", "case_id", "persons", "adults", "children", "group", "stream", "outcome",
                   "decision_date", "housed_date", "moves")
STATUS_QUO_RULE = ("random order of cases; each to a municipality drawn with probability proportional to its "
                   "remaining housing task among those with room for the whole case")


@dataclass
class PlacementOutcome:
    """Tidy results of :func:`chain_placement`.

    by_period : one row per replicate and half-year: cases, persons, persons_placed_optimal,
        persons_placed_status_quo, expected_employed_optimal, expected_employed_status_quo
        [persons], gain_pct [%], moves_per_person [moves/person, from the journeys], status, gap.
    assignment : one row per granted case: replicate, period, case_id, persons, adults, children,
        municipality_optimal, municipality_status_quo (empty = not placed), weight_optimal,
        weight_status_quo [expected persons employed].
    """

    by_period: pd.DataFrame
    assignment: pd.DataFrame
    model_source: str
    status_quo_rule: str = STATUS_QUO_RULE
    seed: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Totals over half-years, per replicate."""
        if self.by_period.empty:
            return self.by_period
        g = self.by_period.groupby("replicate", as_index=False)[
            ["cases", "persons", "persons_placed_optimal", "persons_placed_status_quo",
             "expected_employed_optimal", "expected_employed_status_quo"]].sum()
        g["gain_pct"] = 100 * (g["expected_employed_optimal"] / g["expected_employed_status_quo"] - 1)
        return g


def half_year(dates: pd.Series) -> pd.Series:
    """datetime64 -> 'YYYY-H1' / 'YYYY-H2' (NaT -> NaN)."""
    d = pd.to_datetime(dates)
    lab = d.dt.year.astype("Int64").astype(str) + "-H" + np.where(d.dt.month <= 6, "1", "2")
    return lab.where(d.notna())


def status_quo_placement(problem: PlacementProblem, rng: np.random.Generator) -> np.ndarray:
    """Location index per case under the status-quo rule (see module docstring); -1 = not placed."""
    remaining = problem.capacities[:, 0].astype(float).copy()
    loc = np.full(problem.n_cases, -1, dtype=np.int64)
    size = problem.sizes[:, 0]
    compatible = ~np.isnan(problem.weights)
    for i in rng.permutation(problem.n_cases):
        room = (remaining >= size[i]) & compatible[i] & (remaining > 0)
        if not room.any():
            continue
        p = np.where(room, remaining, 0.0)
        j = int(rng.choice(len(p), p=p / p.sum()))
        loc[i] = j
        remaining[j] -= size[i]
    return loc


GRANTED = ("granted", "granted_on_appeal")
#: Proven relative gap accepted per half-year in the chain post-processor [share of the objective].
#: Assumption: the report compares the matched placement with the status quo (gains of ~10%); a
#: proven 0.1% gap moves that comparison by at most 0.1% of the objective, while branch and bound
#: towards 1e-7 ran into its time limit (60 s per half-year) on a 1,190-case half-year whose
#: rounding was already within 0.02%.
CHAIN_MIP_REL_GAP = 1e-3


def placed_at_routing(j: pd.DataFrame) -> np.ndarray:
    """Cases matched to a municipality when they are routed (P3.7): likely-granted cases that the chain
    sent to a small-scale location after registration. Needs ``routed_small_scale`` and
    ``registration_date``; without them every case is placed at its decision."""
    if "routed_small_scale" not in j or "registration_date" not in j:
        return np.zeros(len(j), dtype=bool)
    return (j["routed_small_scale"].fillna(False).astype(bool) & j["registration_date"].notna()).to_numpy()


def placement_date(j: pd.DataFrame) -> pd.Series:
    """When a case is matched: at routing (registration) for routed cases, else at the decision."""
    return j["registration_date"].where(placed_at_routing(j), j["decision_date"]) \
        if "registration_date" in j else j["decision_date"]


def fill_remaining(problem: PlacementProblem, location_of_case: np.ndarray) -> np.ndarray:
    """Place the cases an optimal solution left out into the capacity left over.

    Every permit holder has to be housed, while the employment objective has no reason to place a
    case whose expected number employed is 0 (children only, say). Weights are >= 0, so this never
    lowers the objective. Largest households first (then input order), each to its compatible
    location with room and the highest weight (ties: most room left, then input order); a case that
    fits nowhere stays unplaced. Deterministic.
    """
    loc = np.asarray(location_of_case, dtype=np.int64).copy()
    size = problem.sizes[:, 0]
    remaining = problem.capacities[:, 0].astype(float).copy()
    np.subtract.at(remaining, loc[loc >= 0], size[loc >= 0])
    compatible = ~np.isnan(problem.weights)
    for i in sorted(np.flatnonzero(loc < 0), key=lambda k: (-size[k], k)):
        room = compatible[i] & (remaining >= size[i])
        if not room.any():
            continue
        w = np.where(room, problem.weights[i], -np.inf)
        best = np.flatnonzero(w == w.max())
        j = int(best[np.argmax(remaining[best])])  # argmax takes the first of equal rooms
        loc[i] = j
        remaining[j] -= size[i]
    return loc


def _housing_everyone(problem: PlacementProblem, opt):
    """The optimal result with the left-out cases placed by :func:`fill_remaining`; objective,
    counts and gap (against the same bound) recomputed."""
    index = {lid: j for j, lid in enumerate(problem.location_ids)}
    row = {cid: i for i, cid in enumerate(problem.case_ids)}
    loc = np.full(problem.n_cases, -1, dtype=np.int64)
    for cid, lid in zip(opt.assignment["case_id"].to_numpy(), opt.assignment["location_id"].to_numpy()):
        loc[row[cid]] = index[lid]
    if (loc >= 0).all():
        return opt
    filled = evaluate_assignment(problem, fill_remaining(problem, loc), method=opt.method)
    gap = (opt.bound - filled.objective) / abs(opt.bound) if opt.bound and np.isfinite(opt.bound) else opt.gap
    return replace(filled, status=opt.status, bound=opt.bound, gap=max(float(gap), 0.0),
                   solve_time_s=opt.solve_time_s)


def _persons_of_cases(cases: pd.DataFrame, rng: np.random.Generator, params: dict[str, float]) -> pd.DataFrame:
    """One row per person with drawn adult features (named-assumption shares)."""
    adults = cases["adults"].to_numpy(np.int64)
    children = cases["children"].to_numpy(np.int64)
    young = np.maximum(cases["persons"].to_numpy(np.int64) - adults - children, 0)
    case_id = cases["case_id"].to_numpy()
    n_a = int(adults.sum())
    u = rng.random((n_a, 3))
    edu = np.where(u[:, 0] < params["share_education_low"], "low",
                   np.where(u[:, 0] < params["share_education_low"] + params["share_education_high"], "high", "mid"))
    frames = [pd.DataFrame({"case_id": np.repeat(case_id, adults), "age": 30.0, "education": edu,
                            "work_experience": (u[:, 1] < params["share_work_experience"]).astype(int),
                            "language": (u[:, 2] < params["share_language"]).astype(int)}),
              pd.DataFrame({"case_id": np.repeat(case_id, children), "age": 10.0, "education": "low",
                            "work_experience": 0, "language": 0}),
              pd.DataFrame({"case_id": np.repeat(case_id, young), "age": 2.0, "education": "low",
                            "work_experience": 0, "language": 0})]
    return pd.concat(frames, ignore_index=True)


def _check_journeys(j: pd.DataFrame) -> None:
    missing = [c for c in ("replicate", "case_id", "persons", "adults", "children", "outcome", "decision_date")
               if c not in j]
    if missing:
        raise DataError(f"journeys: columns missing {missing}; expected at least {list(JOURNEY_COLUMNS)}")
    for c in ("persons", "adults", "children"):
        v = pd.to_numeric(j[c], errors="coerce")
        if v.isna().any() or (v < 0).any():
            i = int(np.flatnonzero((v.isna() | (v < 0)).to_numpy())[0])
            raise DataError(f"journeys: row {i}, column '{c}': expected a non-negative count, found {j[c].iloc[i]!r}")
    over = (j["adults"] + j["children"] > j["persons"]).to_numpy()
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise DataError(f"journeys: row {i}: adults + children exceed persons "
                        f"({j['adults'].iloc[i]} + {j['children'].iloc[i]} > {j['persons'].iloc[i]})")


def chain_placement(journeys: pd.DataFrame, municipalities: pd.DataFrame | None = None, *, seed: int = 0,
                    model: EmploymentModel | None = None, population: str = "2025",
                    objective: str = "expected", time_limit: float = 60.0,
                    mip_rel_gap: float = CHAIN_MIP_REL_GAP) -> PlacementOutcome:
    """Optimal vs status-quo placement of granted cases per replicate and half-year.

    Parameters
    ----------
    journeys : per-case journey table of the chain run (columns :data:`JOURNEY_COLUMNS`;
        ``outcome == "granted"`` marks permit holders; cases without ``decision_date`` are skipped).
    municipalities : municipality table (default: the shipped 342 municipalities); needs
        ``municipality``, ``province``, the population column and ``pop_density_per_km2``.
    seed : seeds the drawn adult features and the status-quo lottery (``SeedSequence([seed,
        replicate])`` per replicate, so a replicate's result does not depend on the others).
    model : employment model (default :func:`default_employment_model`).
    objective : ``expected`` (expected number employed) or ``at-least-one``.
    mip_rel_gap : relative gap to the LP bound at which a half-year's placement is accepted
        (default :data:`CHAIN_MIP_REL_GAP`, 0.1%); smaller values may start branch and bound, which
        can take up to ``time_limit`` seconds per half-year.
    """
    _check_journeys(journeys)
    m = load_municipalities() if municipalities is None else municipalities.reset_index(drop=True)
    model = model or default_employment_model()
    params = load_parameters()
    locations = pd.DataFrame({"location_id": m["municipality"].to_numpy(), "urbanity": urbanity_index(m).to_numpy()})
    g = journeys[journeys["outcome"].isin(GRANTED) & journeys["decision_date"].notna()].copy()
    g["placed_at"] = np.where(placed_at_routing(g), "routing", "decision")
    g["period"] = half_year(placement_date(g))
    rows, parts = [], []
    for (rep, period), cases in g.groupby(["replicate", "period"], sort=True):
        cases = cases.sort_values("case_id", kind="stable").reset_index(drop=True)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(rep), int(period[:4]), int(period[-1])]))
        total = int(cases["persons"].sum())
        task = housing_task(total, period, population=population, municipalities=m)
        persons = _persons_of_cases(cases, rng, params)
        W = model.case_weights(persons, locations, objective).reindex(cases["case_id"].to_numpy())
        problem = PlacementProblem.from_arrays(cases["persons"].to_numpy(), task["quota"].to_numpy(),
                                               W.to_numpy(), case_ids=cases["case_id"].to_numpy(),
                                               location_ids=locations["location_id"].to_numpy(),
                                               dimensions=("persons",))
        opt = _housing_everyone(problem, solve_placement(problem, time_limit=time_limit, mip_rel_gap=mip_rel_gap))
        sq_loc = status_quo_placement(problem, rng)
        sq = evaluate_assignment(problem, sq_loc, method="status_quo")
        opt_loc = pd.Series(opt.assignment["location_id"].to_numpy(), index=opt.assignment["case_id"].to_numpy())
        opt_w = pd.Series(opt.assignment["weight"].to_numpy(), index=opt.assignment["case_id"].to_numpy())
        cid = cases["case_id"].to_numpy()
        sq_name = np.where(sq_loc >= 0, problem.location_ids[np.maximum(sq_loc, 0)], "")
        sq_w = np.where(sq_loc >= 0, problem.weights[np.arange(len(cid)), np.maximum(sq_loc, 0)], 0.0)
        parts.append(pd.DataFrame({
            "replicate": rep, "period": period, "case_id": cid, "persons": cases["persons"].to_numpy(),
            "adults": cases["adults"].to_numpy(), "children": cases["children"].to_numpy(),
            "municipality_optimal": opt_loc.reindex(cid).fillna("").to_numpy(),
            "municipality_status_quo": sq_name,
            "weight_optimal": opt_w.reindex(cid).fillna(0.0).to_numpy(), "weight_status_quo": sq_w,
            "placed_at": cases["placed_at"].to_numpy()}))
        mv = (cases["moves"] * cases["persons"]).sum() / max(total, 1) if "moves" in cases else np.nan
        rows.append({"replicate": rep, "period": period, "cases": len(cases), "persons": total,
                     "persons_placed_optimal": opt.persons_placed, "persons_placed_status_quo": sq.persons_placed,
                     "expected_employed_optimal": opt.objective, "expected_employed_status_quo": sq.objective,
                     "gain_pct": 100 * (opt.objective / sq.objective - 1) if sq.objective > 0 else np.nan,
                     "moves_per_person": float(mv), "status": str(opt.status), "gap": opt.gap,
                     "persons_placed_at_routing": int(cases.loc[cases["placed_at"] == "routing", "persons"].sum())})
        log.debug("chain placement %s %s: %d cases, optimal %.2f vs status quo %.2f", rep, period, len(cases),
                  opt.objective, sq.objective)
    by_period = pd.DataFrame(rows, columns=["replicate", "period", "cases", "persons", "persons_placed_optimal",
                                            "persons_placed_status_quo", "expected_employed_optimal",
                                            "expected_employed_status_quo", "gain_pct", "moves_per_person",
                                            "status", "gap", "persons_placed_at_routing"])
    assignment = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["replicate", "period", "case_id", "persons", "adults", "children", "municipality_optimal",
                 "municipality_status_quo", "weight_optimal", "weight_status_quo", "placed_at"])
    return PlacementOutcome(by_period, assignment, model.source, seed=seed)
