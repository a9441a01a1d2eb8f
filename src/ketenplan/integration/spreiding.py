"""Spreidingswet distribution of asylum reception places (P6.5).

The law (in force 1-2-2024) gives each municipality a share of the national task (96,000 places)
equal to its share of the population, corrected so that municipalities with a higher CBS SES-WOA
score (welfare, education, labour) supply more. The exact correction formula was **not found**;
this module therefore implements::

    weight_g = population_g * max(0, 1 + wealth_weight * score_g)
    places_g = largest remainder of total_places over weight_g        (sums exactly to the total)
    amv_g    = round(amv_share * places_g)                             (within places_g)

with ``wealth_weight = 0`` by default (population only, the correction omitted) and an optional
per-municipality ``score`` (e.g. SES-WOA) to apply a correction of this named form.
:func:`compare_with_targets` sets the province and municipal sums beside the published targets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan.errors import DataError, data_error
from ketenplan.integration.fit import load_table
from ketenplan.scenario.pillar6 import IntegrationParams, Spreiding
from ketenplan.placement.taakstelling import largest_remainder, load_municipalities

__all__ = ["spreidingswet_key", "spreidingswet_provinces", "compare_with_targets", "load_targets"]


def _sp(params: Spreiding | IntegrationParams | None) -> Spreiding:
    if params is None:
        return Spreiding()
    return params.spreiding if isinstance(params, IntegrationParams) else params


def spreidingswet_key(params: Spreiding | IntegrationParams | None = None, *, municipalities: pd.DataFrame | None = None,
                      wealth_score: pd.Series | None = None, total_places: int | None = None) -> pd.DataFrame:
    """Places per municipality: columns municipality, province, population, weight, share,
    places [places], amv_places [places for unaccompanied minors within ``places``].

    ``municipalities`` defaults to ``data/placement/municipalities.csv`` (342 municipalities, 2025
    borders). ``wealth_score`` is a Series indexed by municipality name (missing = 0).
    """
    p = _sp(params)
    m = load_municipalities() if municipalities is None else municipalities.copy()
    col = p.population_column
    for need in ("municipality", "province", col):
        if need not in m.columns:
            raise data_error("municipalities", "column missing", column=need,
                             expected="municipality, province and the population column", found=list(m.columns))
    pop = pd.to_numeric(m[col], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        i = int(np.flatnonzero(pop.isna() | (pop < 0))[0])
        raise data_error("municipalities", "population is not a non-negative number", row=i, column=col,
                         found=m[col].iloc[i])
    score = np.zeros(len(m))
    if wealth_score is not None:
        unknown = sorted(set(wealth_score.index) - set(m["municipality"]))
        if unknown:
            raise DataError(f"wealth_score: municipalities not in the municipality table: {unknown[:5]}")
        score = m["municipality"].map(wealth_score).fillna(0.0).to_numpy(float)
    weight = pop.to_numpy(float) * np.maximum(0.0, 1.0 + p.wealth_weight * score)
    total = p.total_places if total_places is None else int(total_places)
    places = largest_remainder(total, weight, tiebreak=pop.to_numpy(float))
    out = pd.DataFrame({"municipality": m["municipality"].to_numpy(), "province": m["province"].to_numpy(),
                        "population": pop.to_numpy(float), "weight": weight, "share": weight / weight.sum(),
                        "places": places})
    out["amv_places"] = np.floor(p.amv_share * out["places"] + 0.5).astype(int)
    return out


def spreidingswet_provinces(key: pd.DataFrame | None = None, params: Spreiding | IntegrationParams | None = None) -> pd.DataFrame:
    """Province totals of :func:`spreidingswet_key` (population, places, amv_places, share)."""
    key = spreidingswet_key(params) if key is None else key
    g = key.groupby("province")[["population", "places", "amv_places"]].sum()
    g["share"] = g["places"] / g["places"].sum()
    return g.reset_index()


def load_targets(folder=None) -> pd.DataFrame:
    """Published Spreidingswet targets (``data/integration/spreidingswet_targets.csv``)."""
    return load_table("spreidingswet_targets.csv", folder, ("level", "name", "places", "qualifier", "source_url"))


def compare_with_targets(key: pd.DataFrame | None = None, params: Spreiding | IntegrationParams | None = None,
                         targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Model vs published places for every target row (national, province, municipality):
    columns level, name, published, qualifier, model, difference, difference_pct."""
    key = spreidingswet_key(params) if key is None else key
    t = load_targets() if targets is None else targets
    prov = key.groupby("province")["places"].sum()
    mun = key.set_index("municipality")["places"]
    rows = []
    for r in t.itertuples():
        if r.level == "national":
            model = float(key["places"].sum())
        elif r.level == "province":
            model = float(prov.get(r.name, np.nan))
        elif r.level == "municipality":
            model = float(mun.get(r.name, np.nan))
        else:
            raise DataError(f"spreidingswet targets: level {r.level!r} of {r.name!r}; expected national, province "
                            f"or municipality")
        rows.append({"level": r.level, "name": r.name, "published": float(r.places), "qualifier": r.qualifier,
                     "model": model, "difference": model - float(r.places),
                     "difference_pct": 100.0 * (model - float(r.places)) / float(r.places)})
    return pd.DataFrame(rows)
