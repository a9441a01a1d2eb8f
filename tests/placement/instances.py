"""Benchmark-shaped placement instances (shared by the tests and benchmarks/bench_placement.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan.placement import (PlacementProblem, default_employment_model, housing_task, load_municipalities,
                                 load_parameters, urbanity_index)
from ketenplan.placement.chain import _persons_of_cases


def households_instance(n: int, seed: int = 1) -> PlacementProblem:
    """``n`` households over the 342 shipped municipalities, one size dimension ``persons``.

    Household composition and adult features drawn with ``seed`` (adults 1/2/3 with shares
    .55/.40/.05, children 0-4 with shares .50/.15/.15/.12/.08 -- benchmark settings, not Dutch
    statistics); weights = expected persons employed under the default employment model;
    capacity = the housing task with the total number of persons as national total, so the
    capacities add up exactly to the persons to place (tight).
    """
    rng = np.random.default_rng(seed)
    adults = rng.choice([1, 2, 3], size=n, p=[.55, .40, .05])
    children = rng.choice([0, 1, 2, 3, 4], size=n, p=[.50, .15, .15, .12, .08])
    cases = pd.DataFrame({"case_id": np.arange(n), "adults": adults, "children": children,
                          "persons": adults + children})
    m = load_municipalities()
    locs = pd.DataFrame({"location_id": m["municipality"], "urbanity": urbanity_index(m)})
    persons = _persons_of_cases(cases, rng, load_parameters())
    w = default_employment_model().case_weights(persons, locs).reindex(cases["case_id"]).to_numpy()
    task = housing_task(int(cases["persons"].sum()), "2026-H1")
    return PlacementProblem.from_arrays(cases["persons"].to_numpy(), task["quota"].to_numpy(), w,
                                        location_ids=m["municipality"].to_numpy())
