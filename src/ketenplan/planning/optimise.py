"""Search a policy family for the least expected cost under a limit on shortage risk (P3.5).

The family is the threshold rule of ``reception_policy`` (``kind = "threshold"``) with three
decision parameters: the places kept above the estimated need (``buffer_places``), the standby
places held ready (``standby_places``) and the planning occupancy norm that turns occupancy into
need (``occupancy_norm``). The lead times stay the scenario's: they are facts about building
reception, not choices. Each trial is a plan of ``runs`` runs on common random numbers (the same
seed, cases and inflow paths for every trial: the trials differ only by their policy), scored by
its expected total cost and its probability of a shortage (``planning.plan``). The search is
Optuna's TPE sampler with the shortage limit as a constraint (``Trial.set_constraint``: a trial is
feasible when its shortage probability is at most the limit), seeded, so the same call gives the
same trials.

The chosen policy is the cheapest feasible trial. Its stability: the chosen policy and the next
best feasible trials are run again on other seeds (new cases, new draws); the choice is stable on a
seed when it is still the cheapest feasible one there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ketenplan.errors import ScenarioError
from ketenplan.planning.plan import SHORTAGE_FROM_MONTHS, Policy, plan_capacity

log = logging.getLogger(__name__)

#: the search space: parameter -> (low, high, step); the defaults of the built-in policies lie inside
SPACE = {"buffer_places": (0.0, 10000.0, 500.0), "standby_places": (0.0, 10000.0, 500.0),
         "occupancy_norm": (0.85, 0.98, 0.01)}


def policy_of(params: dict, name: str) -> Policy:
    """The threshold policy with the searched parameters."""
    rp = {"kind": "threshold", **{k: float(v) for k, v in params.items()}}
    desc = ", ".join(f"{k} {v:g}" for k, v in params.items())
    return Policy(name, {"reception_policy": rp}, source="optimised", description=f"threshold rule: {desc}")


@dataclass
class Optimised:
    """The result of a search: every trial, the chosen policy and its stability across seeds."""

    trials: pd.DataFrame  # trial, buffer_places, standby_places, occupancy_norm, cost_mean_eur, p_shortage, feasible
    chosen: Policy | None
    stability: pd.DataFrame  # seed, policy, cost_mean_eur, cost_p10_eur, cost_p90_eur, p_shortage, feasible, cheapest
    max_shortage: float

    @property
    def stable_share(self) -> float:
        """Share of the check seeds on which the chosen policy is still the cheapest feasible one."""
        if self.stability.empty or self.chosen is None:
            return float("nan")
        s = self.stability[self.stability.seed_kind == "check"]
        if s.empty:
            return float("nan")
        per = s.groupby("seed").apply(lambda g: bool(g.loc[g.policy == self.chosen.name, "cheapest"].any()),
                                      include_groups=False)
        return float(per.mean())


def optimise_policy(scenario, runs: int = 30, trials: int = 20, max_shortage: float = 0.1, seed: int | None = None,
                    *, check_seeds: int = 2, backend: str = "processes", workers: int | None = None,
                    shortage_from_months: int = SHORTAGE_FROM_MONTHS,
                    progress: Callable[[int, int], None] | None = None) -> Optimised:
    """Search the threshold family (:data:`SPACE`) for the least expected cost with a shortage probability
    of at most ``max_shortage``; ``trials`` plans of ``runs`` runs each, then the chosen policy and the
    next best (up to two) on ``check_seeds`` other seeds. ``progress(done, total)`` after each plan."""
    import optuna

    if not 0.0 <= max_shortage <= 1.0:
        raise ScenarioError(f"--max-shortage must lie in 0..1 (a probability), found {max_shortage}")
    if trials < 1 or runs < 1 or check_seeds < 0:
        raise ScenarioError(f"--trials and --runs must be at least 1 and the check seeds at least 0, found trials "
                            f"{trials}, runs {runs}, check seeds {check_seeds}")
    seed = scenario.simulation.seed if seed is None else int(seed)
    total = trials + check_seeds
    done = 0
    rows = []

    def plan_of(policies, s):
        return plan_capacity(scenario, policies, runs, s, backend=backend, workers=workers,
                             shortage_from_months=shortage_from_months).summary()

    def objective(trial):
        nonlocal done
        params = {k: trial.suggest_float(k, lo, hi, step=st) for k, (lo, hi, st) in SPACE.items()}
        row = plan_of([policy_of(params, f"trial {trial.number}")], seed).iloc[0]
        trial.set_user_attr("p_shortage", float(row.p_shortage))
        trial.set_constraint("shortage_over_limit", float(row.p_shortage) - max_shortage)
        rows.append({"trial": trial.number, **params, "cost_mean_eur": float(row.cost_mean_eur),
                     "cost_p10_eur": float(row.cost_p10_eur), "cost_p90_eur": float(row.cost_p90_eur),
                     "p_shortage": float(row.p_shortage), "feasible": bool(row.p_shortage <= max_shortage)})
        done += 1
        if progress:
            progress(done, total)
        return float(row.cost_mean_eur)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed % 2**32, n_startup_trials=min(8, trials))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=trials)
    table = pd.DataFrame(rows).sort_values("trial").reset_index(drop=True)
    feasible = table[table.feasible].sort_values(["cost_mean_eur", "trial"])
    if feasible.empty:
        log.warning("no trial met the shortage limit %.0f%%", 100 * max_shortage)
        return Optimised(table, None, pd.DataFrame(), max_shortage)
    keys = list(SPACE)
    best = feasible.iloc[0]
    chosen = policy_of({k: best[k] for k in keys}, "optimised")
    rivals = [policy_of({k: r[k] for k in keys}, f"runner-up {j + 1} (trial {int(r.trial)})")
              for j, (_, r) in enumerate(feasible.iloc[1:3].iterrows())]
    stab = []
    for k in range(check_seeds):
        s = seed + 1 + k
        summ = plan_of([chosen, *rivals], s)
        ok = summ.p_shortage <= max_shortage
        cheapest = summ[ok].cost_mean_eur.min() if ok.any() else np.nan
        for r, good in zip(summ.itertuples(), ok):
            stab.append({"seed": s, "seed_kind": "check", "policy": r.policy, "cost_mean_eur": r.cost_mean_eur,
                         "cost_p10_eur": r.cost_p10_eur, "cost_p90_eur": r.cost_p90_eur, "p_shortage": r.p_shortage,
                         "feasible": bool(good), "cheapest": bool(good and r.cost_mean_eur == cheapest)})
        done += 1
        if progress:
            progress(done, total)
    return Optimised(table, chosen, pd.DataFrame(stab), max_shortage)
