"""Example input files of ``ketenplan place``, built from the data shipped with ketenplan.

Run ``python -m ketenplan.placement.examples OUT_DIR`` to write them; the copies shipped in
``ketenplan/data/placement/examples/`` were written this way (a test checks that they still are).

- ``locations.csv`` (``location_id,persons``): the 13 municipalities of Zeeland (2025 borders,
  ``municipalities.csv``) with, as capacity, their housing task for 2017-H2 from the reported national
  total of 10,000 persons (domain note placement A.6: "2H2017 10,000"), on the shipped 2025
  population, largest-remainder rounding over all 342 municipalities (:func:`housing_task`).
- ``cases.csv`` (``case_id,persons,current_location``): households whose persons add up exactly to
  that capacity. Composition: families with the chain's household defaults (``household.family_share``
  0.2, ``family_adults`` 1.7, ``family_children`` 2.2; named assumptions of the scenario schema),
  else single adults; ``current_location`` is the status quo (COA's match by housing task only:
  :func:`status_quo_placement`).
- ``weights.csv`` (``case_id,location_id,weight``): the expected number of household members employed
  a few years after housing, under the default employment model (``parameters.csv``: sourced
  anchors and named assumptions), adults' features drawn with its shares.

Everything is drawn from ``SEED``: the same files come out each time. The households and their
features are an illustration, not Dutch statistics.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SEED", "PROVINCE", "PERIOD", "NATIONAL_TOTAL", "example_tables", "write_examples"]

SEED = 2017
PROVINCE = "Zeeland"
PERIOD = "2017-H2"
#: reported national housing task of 2017-H2 [persons] (domain note placement A.6)
NATIONAL_TOTAL = 10_000
#: household composition: the scenario schema's defaults (``household`` section; named assumptions)
FAMILY_SHARE, FAMILY_ADULTS, FAMILY_CHILDREN = 0.2, 1.7, 2.2


def _households(total: int, rng: np.random.Generator) -> pd.DataFrame:
    """Households (adults, children) whose persons add up exactly to ``total``."""
    adults, children = [], []
    left = total
    while left > 0:
        if rng.random() < FAMILY_SHARE:
            a = 1 + int(rng.random() < FAMILY_ADULTS - 1)   # 1 or 2 adults, mean 1.7
            c = 1 + int(rng.poisson(FAMILY_CHILDREN - 1))   # at least one child, mean 2.2
        else:
            a, c = 1, 0
        if a + c > left:  # the last household fills the capacity exactly
            a, c = 1, left - 1
        adults.append(a)
        children.append(c)
        left -= a + c
    n = len(adults)
    return pd.DataFrame({"case_id": [f"h{i + 1:03d}" for i in range(n)], "adults": adults, "children": children,
                         "persons": np.add(adults, children)})


def example_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The three example tables: ``cases``, ``locations`` and ``weights``."""
    from ketenplan.placement.chain import _persons_of_cases, status_quo_placement
    from ketenplan.placement.employment import default_employment_model, load_parameters, urbanity_index
    from ketenplan.placement.solver import PlacementProblem
    from ketenplan.placement.taakstelling import housing_task, load_municipalities

    rng = np.random.default_rng(seed)
    m = load_municipalities()
    task = housing_task(NATIONAL_TOTAL, PERIOD)
    here = (m["province"] == PROVINCE).to_numpy()
    locations = pd.DataFrame({"location_id": m.loc[here, "municipality"].to_numpy(),
                              "persons": task.loc[here, "quota"].to_numpy()})
    households = _households(int(locations["persons"].sum()), rng)
    persons = _persons_of_cases(households, rng, load_parameters())
    urban = pd.DataFrame({"location_id": m["municipality"], "urbanity": urbanity_index(m)})[here]
    w = default_employment_model().case_weights(persons, urban).reindex(households["case_id"])
    w = w[locations["location_id"]].round(4)
    problem = PlacementProblem.from_arrays(households["persons"].to_numpy(), locations["persons"].to_numpy(),
                                           w.to_numpy(), case_ids=households["case_id"].to_numpy(),
                                           location_ids=locations["location_id"].to_numpy())
    sq = status_quo_placement(problem, rng)
    cases = households[["case_id", "persons"]].assign(
        current_location=np.where(sq >= 0, locations["location_id"].to_numpy()[np.maximum(sq, 0)], ""))
    weights = (w.rename_axis(index="case_id", columns="location_id").stack().rename("weight").reset_index())
    return {"cases": cases, "locations": locations, "weights": weights}


def write_examples(folder: str | Path, seed: int = SEED) -> list[Path]:
    """Write ``cases.csv``, ``locations.csv`` and ``weights.csv`` into ``folder``."""
    from ketenplan._io import write_csv

    folder = Path(folder)
    return [write_csv(folder / f"{name}.csv", df) for name, df in example_tables(seed).items()]


if __name__ == "__main__":  # pragma: no cover - a build step
    if len(sys.argv) != 2:
        sys.exit("usage: python -m ketenplan.placement.examples OUT_DIR")
    for p in write_examples(sys.argv[1]):
        print(p)
