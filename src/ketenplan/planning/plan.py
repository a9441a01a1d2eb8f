"""Plan reception capacity: capacity policies side by side on common random numbers (P3.5, P3.4).

    import ketenplan
    from ketenplan.planning import builtin_policies, plan_capacity
    plan = plan_capacity(ketenplan.load_scenario("nl_baseline"), builtin_policies(), runs=200)
    plan.summary()          # one row per policy: cost, shortage risk, beds, moves, waits
    plan.beds_needed()      # month, policy, p50, p80, p90, p95 of the monthly peak need
    plan.costs_monthly()    # month, policy, partner, item: mean, p10, p90 [EUR]

A *policy* is a set of changes to the scenario's capacity and cost sections (``reception_policy``,
``reception``, ``costs``, ``decision_capacity``): the built-in ``fixed`` (the scenario's capacity
series), ``myopic`` (the threshold rule on observed occupancy without buffer: the baseline to
beat) and ``buffer`` (the same rule with 2,000 standby places and a buffer of 2,000 places, as COA
kept in 2018-2020, C2), or a TOML file. Every policy runs the same replicates: replicate ``i``
draws from child ``i`` of the seed and takes the same inflow path, so the same cases arrive
under every policy and the differences are the policies' own.

Each replicate is reduced in its worker to a few monthly series and key figures
(:func:`reduce_replicate`); memory grows with runs x months, not with cases.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ketenplan.engine import registry as R
from ketenplan.errors import ScenarioError
from ketenplan._stats import wilson_interval  # noqa: F401 (part of this module's API)
from ketenplan.planning.costs import ITEM_NAMES, ITEMS, PARTNERS, month_index, monthly, replicate_quantities, \
    unit_costs

log = logging.getLogger(__name__)

#: the scenario sections a policy may change (nothing that changes which cases arrive)
POLICY_SECTIONS = ("reception_policy", "decision_policy", "reception", "costs", "decision_capacity")
#: assurance levels of the beds needed [share of runs whose monthly peak need is covered]
ASSURANCE = (0.5, 0.8, 0.9, 0.95)
#: queues whose mean number waiting names the binding bottleneck (as the run report does)
QUEUES = ("waiting_registration", "waiting_decision_general", "waiting_decision_safe", "dublin_waiting",
          "housing_queue")
#: months after the start before a shortage counts against a policy: a policy that reviews twice a year
#: and opens places six months after deciding (reception_policy defaults, C5 and L1) cannot add a place
#: in the first year, so a shortage the chain starts with (today's occupancy above the regular places)
#: is shared by every policy and says nothing about them
SHORTAGE_FROM_MONTHS = 12
#: the largest plan: policies x runs (a 10-year Dutch run takes about 0.6 s per core)
MAX_PLAN_RUNS = 100_000


@dataclass(frozen=True)
class Policy:
    """A capacity policy: a name and the scenario changes it makes (TOML sections as nested dicts)."""

    name: str
    changes: dict
    source: str = "built-in"
    description: str = ""


def builtin_policies() -> dict[str, Policy]:
    """The built-in policies: fixed, myopic and buffer (see the module)."""
    return {
        "fixed": Policy("fixed", {"reception_policy": {"kind": "fixed"}},
                        description="the scenario's capacity series as given; overflow goes to emergency places"),
        "myopic": Policy("myopic", {"reception_policy": {"kind": "threshold", "buffer_places": 0.0,
                                                         "standby_places": 0.0}},
                         description="every review: observed occupancy / 96% norm; opens the shortfall after the "
                                     "lead time, closes after the minimum life; no buffer (the baseline to beat)"),
        "buffer": Policy("buffer", {"reception_policy": {"kind": "threshold", "buffer_places": 2000.0,
                                                         "standby_places": 2000.0}},
                         description="the threshold rule plus 2,000 places above the need and 2,000 standby places "
                                     "activated within a month (COA's reserve of 2018-2020, C2)"),
    }


def read_policy(path: str | Path) -> Policy:
    """A policy from a TOML file: optional ``name`` and ``description``, and sections of
    :data:`POLICY_SECTIONS`. Raises ScenarioError naming the file and the key."""
    from ketenplan.scenario import _read_toml

    p = Path(path)
    if p.is_dir():
        raise ScenarioError(f"--policies: {p} is a folder; expected a policy .toml file or a built-in policy "
                            f"({', '.join(builtin_policies())})")
    if not p.is_file():
        raise ScenarioError(f"--policies: {p}: no such policy file; expected a policy .toml file or a built-in "
                            f"policy ({', '.join(builtin_policies())})")
    data = _read_toml(p)
    name = data.pop("name", p.stem)
    desc = data.pop("description", "")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"policy file {p}: 'name' expected a non-empty text, found {name!r}")
    if not isinstance(desc, str):
        raise ScenarioError(f"policy file {p}: 'description' expected a text, found {desc!r}")
    for k, v in data.items():
        if k not in POLICY_SECTIONS:
            raise ScenarioError(f"policy file {p}: unknown key '{k}'; a policy file may set name, description and "
                                f"the sections {', '.join(POLICY_SECTIONS)}. Fix: remove or rename the key")
        if not isinstance(v, dict):
            raise ScenarioError(f"policy file {p}: '{k}' expected a section [{k}], found {type(v).__name__} {v!r}")
    if not data:
        raise ScenarioError(f"policy file {p}: changes nothing; set at least one of [{'], ['.join(POLICY_SECTIONS)}]")
    return Policy(name.strip(), data, source=str(p), description=desc)


def resolve_policies(specs: list[str] | None) -> list[Policy]:
    """Policies from names of built-in ones and paths of TOML files (comma-separated lists allowed);
    the built-in three when none are given."""
    builtin = builtin_policies()
    items = [s.strip() for spec in (specs or []) for s in str(spec).split(",") if s.strip()]
    if not items:
        return list(builtin.values())
    out = []
    for s in items:
        if s in builtin:
            out.append(builtin[s])
        elif s.endswith(".toml") or Path(s).exists():
            out.append(read_policy(s))
        else:
            raise ScenarioError(f"--policies: {s!r} is neither a built-in policy ({', '.join(builtin)}) nor a "
                                ".toml file")
    names = [p.name for p in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError(f"--policies: policy names must differ to be compared, found {', '.join(dup)} more than "
                            "once; give each policy file its own 'name'")
    return out


def apply_policy(scenario, policy: Policy):
    """The scenario with the policy's changes (validated; errors name the policy file and the key)."""
    from ketenplan.scenario import _deep_merge, scenario_from_dict

    data = _deep_merge(scenario.to_dict(), policy.changes)
    data["name"] = f"{scenario.name}+{policy.name}"
    where = f"policy file {policy.source}" if policy.source != "built-in" else f"built-in policy {policy.name}"
    return scenario_from_dict(data, where)


# ----------------------------------------------------------------------------------------------
# one replicate, in a worker
# ----------------------------------------------------------------------------------------------
def reduce_replicate(out, base_cap: np.ndarray, table: pd.DataFrame | None, scenario,
                     shortage_from: int = SHORTAGE_FROM_MONTHS, decision_table: pd.DataFrame | None = None) -> dict:
    """What a plan keeps of one replicate: monthly peak need (COA occupancy, emergency included),
    mean capacity, monthly quantities per cost item, and key figures. A shortage is an emergency
    place-day from month ``shortage_from`` (0 = the first month) on."""
    from ketenplan.engine.policies import DAYS_PER_MONTH
    from ketenplan.engine.results import replicate_kpis, split_overflow

    c = out.compiled
    si = c.grid.start_index
    q, ev = replicate_quantities(out, base_cap, table, scenario.reception_policy, DAYS_PER_MONTH, decision_table,
                                 scenario.decision_policy)
    midx, months = month_index(c.grid.dates()[si:])
    n = len(months)
    ls, ss = out.loc_stock[si:], out.stage_stock[si:]
    coa = R.derived_stock("coa_occupancy", ss, ls).astype(float)
    need = np.full(n, -np.inf)
    np.maximum.at(need, midx, coa)
    days = np.bincount(midx, minlength=n).astype(float)
    cap = (out.day_inputs["cap_regular"][si:] + out.day_inputs["cap_small"][si:]).astype(float)
    cap_m = np.bincount(midx, weights=cap, minlength=n) / days
    occ_m = np.bincount(midx, weights=coa, minlength=n) / days
    k = replicate_kpis(out, scenario, names=("shortage_days", "days_over_application_centre_cap", "moves_per_person",
                                             "permit_holders_in_reception_mean"))
    r, cs = out.case, c.case
    dec, reg, size = r["decision_day"], r["reg_day"], cs["size"]
    asylum = np.isin(cs["stream"], [R.STREAM["first"], R.STREAM["subsequent"]])
    decided = (dec >= si) & (reg >= 0) & asylum
    w = size[decided].astype(float)
    decision_weeks = float(np.average((dec[decided] - reg[decided]) / 7.0, weights=w)) if w.sum() else float("nan")
    overflow = ls[:, R.LOC["emergency"]].astype(float)  # everyone without a regular bed
    emergency, without = split_overflow(overflow, scenario.reception_policy)
    queues = np.array([ss[:, R.STAGE[name]].mean() for name in QUEUES])
    scal = {
        "emergency_place_days": float(emergency.sum()),
        "emergency_place_days_first_year": float(emergency[midx < 12].sum()),
        "shortage": float(overflow[midx >= shortage_from].sum() > 0),
        "shortage_days": k["shortage_days"],
        "without_place_person_days": float(without.sum()),
        "without_place": float(without[midx >= shortage_from].sum() > 0),
        "days_over_application_centre_cap": k["days_over_application_centre_cap"],
        "places_opened": float(ev["opened"].sum()),
        "places_closed": float(ev["closed"].sum()),
        "standby_activated": float(ev["standby_activated"].sum()),
        "moves_per_person": k["moves_per_person"],
        "permit_holders_waiting_mean": k["permit_holders_in_reception_mean"],
        "decision_time_weeks": decision_weeks,
        "peak_occupancy": float(coa.max()),
    }
    return {"months": np.asarray(months.values), "need": need, "capacity": cap_m, "occupancy": occ_m,
            "quantities": monthly(q, midx, n), "scalars": scal, "queues": queues}


class PlanJob:
    """Run one replicate under each of a group of policies and reduce each run (picklable: sent to each
    worker once). The policies of a group differ only in ``reception_policy`` and ``costs``, which the
    compiled inputs do not depend on, so the replicate is compiled once and run once per policy: the
    same compile and run as ``engine.run.run_replicate``, plus the policy's table of decisions."""

    def __init__(self, scenarios: list, seed: int, shortage_from: int = SHORTAGE_FROM_MONTHS):
        self.scenarios, self.seed, self.shortage_from = list(scenarios), int(seed), int(shortage_from)

    def __call__(self, i: int, path):
        from dataclasses import replace

        from ketenplan.engine.compile import compile_replicate
        from ketenplan.engine.rng import replicate_key
        from ketenplan.engine.run import default_hooks, output_of
        from ketenplan.engine.state import Run
        from ketenplan.engine.rng import replicate_seed
        from ketenplan.scenario.parameter_sets import for_replicate

        scs = [for_replicate(sc, i, self.seed) for sc in self.scenarios]  # the run's parameter draws
        c0 = compile_replicate(scs[0], replicate_key(replicate_seed(self.seed, i)), first_monthly=path)
        reduced = []
        for sc in scs:
            c = replace(c0, policy=sc.reception_policy, decision_policy=sc.decision_policy)
            run = Run.start(c, default_hooks(c), replicate=i).finish()
            out = output_of(run)
            table, hiring = (_hook_table(run, name) for name in ("reception_policy", "decision_policy"))
            reduced.append(reduce_replicate(out, np.asarray(c.inputs.cap_regular), table, sc, self.shortage_from,
                                            hiring))
        return i, reduced


def _hook_table(run, name: str) -> pd.DataFrame | None:
    """The decisions a policy hook of the run recorded (None when the run has no such hook)."""
    try:
        return run.hook(name).table()
    except KeyError:
        return None


def compile_groups(scenarios: list) -> list[list[int]]:
    """Indexes of the policy scenarios that can share one compile per replicate: those equal apart from
    the sections the compiled inputs do not read (``reception_policy``, ``costs``, name, description)."""
    groups: dict[str, list[int]] = {}
    for k, sc in enumerate(scenarios):
        d = sc.to_dict()
        for key in ("reception_policy", "decision_policy", "costs", "name", "description"):
            d.pop(key, None)
        groups.setdefault(json.dumps(d, sort_keys=True, default=str), []).append(k)
    return list(groups.values())


# ----------------------------------------------------------------------------------------------
# the plan
# ----------------------------------------------------------------------------------------------
@dataclass
class PolicyRuns:
    """The reduced replicates of one policy, stacked by replicate number."""

    policy: Policy
    scenario: object
    need: np.ndarray  # [run, month] monthly peak of COA occupancy, emergency included [persons]
    capacity: np.ndarray  # [run, month] mean regular + small-scale places [places]
    occupancy: np.ndarray  # [run, month] mean COA occupancy [persons]
    quantities: np.ndarray  # [run, month, item]
    scalars: pd.DataFrame  # one row per run
    queues: np.ndarray  # [run, queue] mean persons waiting
    unit: np.ndarray = field(default_factory=lambda: np.zeros(len(ITEMS)))

    @property
    def costs(self) -> np.ndarray:
        """[run, month, item] EUR."""
        return self.quantities * self.unit

    @property
    def total_cost(self) -> np.ndarray:
        """[run] EUR over the reported period."""
        return self.costs.sum(axis=(1, 2))


def beds_at_assurance(need: np.ndarray, levels=ASSURANCE) -> np.ndarray:
    """Beds needed per month at each assurance level [level, month]: the ``level`` quantile over runs
    of the monthly peak need (``need``: [run, month]); with that many beds the month's peak is
    covered in that share of the runs (numpy's default linear interpolation between runs)."""
    return np.quantile(np.asarray(need, float), list(levels), axis=0)


def pareto_front(cost: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """True for each point that no other point dominates (lower or equal cost and risk, one strictly)."""
    cost, risk = np.asarray(cost, float), np.asarray(risk, float)
    out = np.ones(len(cost), bool)
    for i in range(len(cost)):
        dominated = (cost <= cost[i]) & (risk <= risk[i]) & ((cost < cost[i]) | (risk < risk[i]))
        out[i] = not dominated.any()
    return out


@dataclass
class Plan:
    """Policies side by side: the reduced runs of each and the tables of the plan."""

    scenario: object
    seed: int
    runs: int
    months: pd.DatetimeIndex
    policies: list[PolicyRuns]
    metadata: dict

    @property
    def years(self) -> float:
        s = self.scenario.simulation
        return ((s.end - s.start).days + 1) / 365.25

    def summary(self) -> pd.DataFrame:
        """One row per policy: expected total cost with p10/p90 [EUR], cost per year [EUR/year], cost
        per partner [EUR], probability of any shortage (share of runs with at least one emergency
        place-day from month ``meta['shortage_from_months']`` on: no policy can add places in the first
        year), emergency place-days, the probability of anyone without a place (above the emergency
        limit, from the same month) and their person-days, days over the application-centre cap, places opened and
        closed, standby places activated, the 90% Wilson interval of the shortage probability
        (``p_shortage_lo90``, ``p_shortage_hi90``: how precisely the runs pin it down), moves per person, permit holders waiting (mean), time to a
        first-instance decision [weeks], peak beds at 90% assurance; ``pareto``: on the front of cost
        against shortage risk."""
        rows = []
        for pr in self.policies:
            tot = pr.total_cost
            s = pr.scalars
            by_partner = {p: pr.costs[:, :, [k for k, i in enumerate(ITEMS) if i[0] == p]].sum(axis=(1, 2)).mean()
                          for p in PARTNERS}
            beds = beds_at_assurance(pr.need)
            k90 = ASSURANCE.index(0.9)
            peak_m = int(np.argmax(beds[k90]))
            rows.append({
                "policy": pr.policy.name, "runs": len(tot),
                "cost_mean_eur": float(tot.mean()), "cost_p10_eur": float(np.quantile(tot, 0.1)),
                "cost_p90_eur": float(np.quantile(tot, 0.9)), "cost_per_year_eur": float(tot.mean() / self.years),
                **{f"cost_{p}_eur": float(v) for p, v in by_partner.items()},
                "p_shortage": float(s.shortage.mean()),
                **dict(zip(("p_shortage_lo90", "p_shortage_hi90"), wilson_interval(s.shortage.sum(), len(s)))),
                "emergency_place_days_mean": float(s.emergency_place_days.mean()),
                "emergency_place_days_p90": float(np.quantile(s.emergency_place_days, 0.9)),
                "shortage_days_mean": float(s.shortage_days.mean()),
                "p_without_place": float(s.without_place.mean()),
                "without_place_person_days_mean": float(s.without_place_person_days.mean()),
                "days_over_application_centre_cap_mean": float(s.days_over_application_centre_cap.mean()),
                "places_opened_mean": float(s.places_opened.mean()),
                "places_closed_mean": float(s.places_closed.mean()),
                "standby_activated_mean": float(s.standby_activated.mean()),
                "moves_per_person_mean": float(s.moves_per_person.mean()),
                "permit_holders_waiting_mean": float(s.permit_holders_waiting_mean.mean()),
                "decision_time_weeks_mean": float(s.decision_time_weeks.mean()),
                "beds_p90_peak": float(beds[k90, peak_m]),
                "beds_p90_peak_month": self.months[peak_m].strftime("%Y-%m"),
                "capacity_mean_places": float(pr.capacity.mean()),
                "description": pr.policy.description,
            })
        df = pd.DataFrame(rows)
        df.insert(2, "pareto", pareto_front(df.cost_mean_eur.to_numpy(), df.p_shortage.to_numpy()))
        return df

    def beds_needed(self) -> pd.DataFrame:
        """month, policy, p50, p80, p90, p95: beds needed at each assurance level (:func:`beds_at_assurance`)."""
        parts = []
        for pr in self.policies:
            b = beds_at_assurance(pr.need)
            d = pd.DataFrame({"month": self.months.strftime("%Y-%m"), "policy": pr.policy.name})
            for lv, row in zip(ASSURANCE, b):
                d[f"p{int(round(lv * 100))}"] = row
            d["capacity_median"] = np.median(pr.capacity, axis=0)
            parts.append(d)
        return pd.concat(parts, ignore_index=True)

    def costs_monthly(self) -> pd.DataFrame:
        """month, policy, partner, item, unit, quantity_mean, unit_cost, eur_mean, eur_p10, eur_p90."""
        parts = []
        n, k = len(self.months), len(ITEMS)
        for pr in self.policies:
            c = pr.costs
            parts.append(pd.DataFrame({
                "month": np.repeat(self.months.strftime("%Y-%m"), k), "policy": pr.policy.name,
                "partner": np.tile([i[0] for i in ITEMS], n), "item": np.tile(ITEM_NAMES, n),
                "unit": np.tile([i[2] for i in ITEMS], n), "quantity_mean": pr.quantities.mean(axis=0).reshape(-1),
                "unit_cost": np.tile(pr.unit, n), "eur_mean": c.mean(axis=0).reshape(-1),
                "eur_p10": np.quantile(c, 0.1, axis=0).reshape(-1),
                "eur_p90": np.quantile(c, 0.9, axis=0).reshape(-1)}))
        return pd.concat(parts, ignore_index=True)

    def bottleneck(self) -> str:
        """The queue where most persons wait on average (first policy, mean over runs)."""
        q = self.policies[0].queues.mean(axis=0)
        labels = {st.name: st.label for st in R.STAGES}
        i = int(np.argmax(q))
        return (f"{labels[QUEUES[i]]} (on average {q[i]:,.0f} persons waiting)" if q[i] > 0
                else "none: no queue holds anyone on average")


def _stack(policy: Policy, sc, got: dict[int, dict], unit: np.ndarray) -> PolicyRuns:
    order = sorted(got)
    rs = [got[i] for i in order]
    return PolicyRuns(policy, sc, np.vstack([r["need"] for r in rs]), np.vstack([r["capacity"] for r in rs]),
                      np.vstack([r["occupancy"] for r in rs]), np.stack([r["quantities"] for r in rs]),
                      pd.DataFrame([r["scalars"] for r in rs], index=order), np.vstack([r["queues"] for r in rs]),
                      unit)


def plan_capacity(scenario, policies: list[Policy] | None = None, runs: int = 100, seed: int | None = None, *,
                  backend: str = "processes", workers: int | None = None,
                  progress: Callable[[int], None] | None = None,
                  shortage_from_months: int = SHORTAGE_FROM_MONTHS) -> Plan:
    """Run every policy as an ensemble of ``runs`` replicates on common random numbers (the same seed
    and inflow paths for all) and return the :class:`Plan`."""
    from ketenplan.ensemble import BACKENDS, _cpu_count, run_ensemble
    from ketenplan.simulation import check_size, inflow_paths

    from ketenplan.scenario.schema import Scenario

    if not isinstance(scenario, Scenario):
        raise ScenarioError(f"scenario: expected a Scenario (ketenplan.load_scenario(...)), found "
                            f"{type(scenario).__name__}")
    if isinstance(policies, (str, Policy)):
        policies = [policies]
    policies = list(policies) if policies else list(builtin_policies().values())
    if any(isinstance(p, str) for p in policies):  # names and paths, as --policies takes them
        policies = [q for p in policies for q in (resolve_policies([p]) if isinstance(p, str) else [p])]
    bad = [p for p in policies if not isinstance(p, Policy)]
    if bad:
        raise ScenarioError(f"policies: expected Policy objects (builtin_policies(), read_policy(path)) or their names "
                            f"and paths, found {type(bad[0]).__name__} {bad[0]!r}"[:300])
    names = [p.name for p in policies]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError(f"policies: names must differ to be compared, found {', '.join(dup)} more than once")
    if not isinstance(runs, (int, np.integer)) or isinstance(runs, bool) or runs < 1:
        raise ScenarioError(f"--runs must be at least 1, found {runs!r}")
    if runs * len(policies) > MAX_PLAN_RUNS:
        raise ScenarioError(f"--runs: {runs:,} runs x {len(policies)} policies = {runs * len(policies):,} runs; at "
                            f"most {MAX_PLAN_RUNS:,} fit one plan. Use fewer runs or policies")
    if backend not in BACKENDS:
        raise ScenarioError(f"--backend: unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise ScenarioError(f"--seed must be an integer >= 0, found {seed!r}")
    seed = scenario.simulation.seed if seed is None else int(seed)
    if not isinstance(shortage_from_months, (int, np.integer)) or shortage_from_months < 0:
        raise ScenarioError(f"--shortage-from-month must be an integer >= 0, found {shortage_from_months!r}")
    scs = [apply_policy(scenario, p) for p in policies]
    for sc in scs:
        check_size(sc, runs, workers or _cpu_count(), backend)
    paths = inflow_paths(scenario, seed, runs)  # one inflow path per replicate, the same under every policy
    got: list[dict[int, dict]] = [{} for _ in policies]
    for group in compile_groups(scs):
        log.debug("policies %s: %d runs", [policies[k].name for k in group], runs)

        def sink(i: int, reduced: list, group=group) -> None:
            for k, r in zip(group, reduced):
                got[k][i] = r

        step = (lambda n, g=len(group): progress(n * g)) if progress else None
        run_ensemble(PlanJob([scs[k] for k in group], seed, shortage_from_months), range(runs), sink, backend=backend, paths=paths,
                     workers=workers, progress=step)
    months = pd.DatetimeIndex(got[0][min(got[0])]["months"])
    done = [_stack(p, sc, g, unit_costs(sc)) for p, sc, g in zip(policies, scs, got)]
    meta = {"scenario": scenario.name, "scenario_hash": scenario.digest(), "seed": seed, "runs": runs,
            "start": str(scenario.simulation.start), "end": str(scenario.simulation.end),
            "inflow_source": scenario.inflow.source, "backend": backend,
            "shortage_from_months": int(shortage_from_months),
            "parameter_uncertainty": bool(scenario.simulation.parameter_uncertainty),
            "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "policies": [p.name for p in policies]}
    from ketenplan import __version__

    meta["version"] = __version__
    return Plan(scenario, seed, runs, months, done, meta)


def policy_sources(plan: Plan) -> list[dict]:
    """What each policy changed, for the page: name, source, description, changes as TOML."""
    import tomli_w

    return [{"name": pr.policy.name, "source": pr.policy.source, "description": pr.policy.description,
             "toml": tomli_w.dumps(pr.policy.changes)} for pr in plan.policies]


__all__ = ["Policy", "Plan", "PolicyRuns", "builtin_policies", "read_policy", "resolve_policies", "apply_policy",
           "plan_capacity", "beds_at_assurance", "pareto_front", "reduce_replicate", "ASSURANCE"]
