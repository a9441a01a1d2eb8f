"""Post-processors: registered steps that turn a replicate's raw output into more tables, key
figures and report sections.

Each post-processor runs inside the ensemble's worker on one replicate's output (before it is
reduced), so ``ketenplan.simulate`` in Python and ``ketenplan run`` give the same outputs. A
post-processor returns tables (each with a ``replicate`` column, stored like the engine's own) and
key figures (``{"kpis": {name: value}}``) that it declares in ``kpis``; its ``report`` adds figures
and notes to the report's pillar sections. A pillar's module keeps all of this in one place (e.g.
``ketenplan.returns.post``) and is listed once in :data:`POST_PROCESSORS`.

    POST_PROCESSORS["placement"]   # optimal vs status-quo placement of permit holders (P3.7, P6.2)

Which ones run is the scenario's choice (``[placement] enabled``), or ``simulate(..., post=[...])``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ketenplan.engine.run import ReplicateOutput
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostProcessor:
    name: str
    description: str
    run: Callable[[ReplicateOutput, Scenario, int], dict]  # (output, scenario, seed) -> {table: frame, "kpis": {...}}
    replicates: str = "all"  # 'all' or 'first' (replicate 0 only)
    enabled: Callable[[Scenario], bool] = lambda sc: True
    kpis: tuple = ()  # engine.results.KPI declarations of the key figures it adds
    report: Callable | None = None  # (Results) -> {pillar: [plotly Figure or HTML note str, ...]}
    #: (output, scenario, seed) -> what ``run`` returns, with tables as NumPy columns ({column: array},
    #: the same rows and types) where it can: what the ensemble's workers call when it is given
    columns: Callable[[ReplicateOutput, Scenario, int], dict] | None = None

    def applies_to(self, replicate: int) -> bool:
        return self.replicates == "all" or replicate == 0


def _placement(out: ReplicateOutput, scenario: Scenario, seed: int) -> dict:
    """Optimal vs status-quo placement of this replicate's permit holders per half-year of the
    reported period, with the housing task as capacity (placement.chain_placement)."""
    from ketenplan.engine.results import journeys
    from ketenplan.placement import load_municipalities
    from ketenplan.placement.chain import chain_placement, placement_date

    p = scenario.placement
    j = journeys(out)
    j = j[placement_date(j) >= pd.Timestamp(scenario.simulation.start)]
    if j.empty:
        return {}
    po = chain_placement(j, seed=seed, objective=p.objective, time_limit=p.time_limit, population=p.population)
    by_period = po.by_period.assign(model=po.model_source)
    a = po.assignment
    m = load_municipalities()[["municipality", "province"]]
    parts = []
    for col, w, tag in (("municipality_optimal", "weight_optimal", "optimal"),
                        ("municipality_status_quo", "weight_status_quo", "status_quo")):
        g = a[a[col] != ""].groupby(col).agg(persons=("persons", "sum"), employed=(w, "sum"))
        parts.append(g.rename(columns=lambda c: f"{c}_{tag}"))
    by_m = m.set_index("municipality").join(parts, how="left").fillna(0.0).reset_index()
    by_m.insert(0, "replicate", out.replicate)
    return {"placement_by_period": by_period,
            "placement_by_municipality": by_m[["replicate", "municipality", "province", "persons_optimal",
                                               "persons_status_quo", "employed_optimal", "employed_status_quo"]]}


POST_PROCESSORS: dict[str, PostProcessor] = {
    "placement": PostProcessor(
        "placement", "permit holders placed per half-year over the municipalities, matched on expected employment "
                     "against placement by task only (P3.7, P6.2)", _placement, replicates="first",
        enabled=lambda sc: sc.placement.enabled),
    "returns": PostProcessor("returns", **__import__("ketenplan.returns.post", fromlist=["SPEC"]).SPEC),
    "integration": PostProcessor("integration", **__import__("ketenplan.integration.post", fromlist=["SPEC"]).SPEC),
}


def all_kpis() -> dict:
    """Every declared key figure: the engine's and those of the post-processors (name -> KPI)."""
    from ketenplan.engine.results import KPIS

    out = {k.name: k for k in KPIS}
    for p in POST_PROCESSORS.values():
        out.update({k.name: k for k in p.kpis})
    return out


def selected(scenario: Scenario, names: list[str] | tuple[str, ...] | None) -> list[PostProcessor]:
    """The post-processors to run: ``names`` when given, else those the scenario enables."""
    from ketenplan.errors import ScenarioError

    if names is None:
        return [p for p in POST_PROCESSORS.values() if p.enabled(scenario)]
    unknown = [n for n in names if n not in POST_PROCESSORS]
    if unknown:
        raise ScenarioError(f"post: unknown post-processor(s) {unknown}; known: {', '.join(POST_PROCESSORS)}")
    return [POST_PROCESSORS[n] for n in names]
