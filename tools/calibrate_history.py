"""Calibrate the weakly sourced inputs of the nl_history preset on 2014-2019 facts only, as inference.

Usage: python tools/calibrate_history.py [DRAWS] [KEEP]

Rejection ABC (approximate Bayesian computation) with the engine itself: DRAWS parameter sets are
drawn from independent uniform priors, each is run once (one replicate, 2012-2019), and the KEEP
sets whose simulated facts lie closest to the in-sample facts (data/nl_chain/facts_nl_2014_2019.csv,
every row dated 2019 or earlier) are kept. The kept sets are written to
data/nl_chain/nl_history_parameter_sets.csv; runs that name that file (``simulation.parameter_sets``)
apply row ``replicate % n`` to replicate ``replicate``, so their bands carry parameter uncertainty.

Distance: for each quantity the mean squared log ratio simulated/observed over its facts, then the
mean over the quantities the parameters act on (COA occupancy, permit holders in reception, IND
pending, decision time, permits). Each quantity weighs the same, whatever its number of facts.
Departures are left out: the three parameters do not act on them. No 2020+ figure is read.

Parameters and priors (why they are uncertain):
- ind_capacity_factor U(1.2, 2.6) (1.0 leaves 39,000 pending in 2018 against 7,640): UNHCR first-instance decisions undercount the IND's output
  (2018: 9,177 against ~21,000 implied by 7,640 pending at 19 weeks, Little's law); the factor is
  the size of that undercount. Applied as ``decision_capacity.total@scale`` relative to the preset.
- inflow.nareis.share_to_sponsor_home U(0, 0.3): derived 0.156 as an upper bound (CBS COA entries).
- housing.realisation_rate U(0.5, 1.0): derived from one half-year (2016-H2).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import derive_chain_data as d  # noqa: E402

from ketenplan.backtest import read_facts, simulated_values  # noqa: E402
from ketenplan.data import data_path  # noqa: E402
from ketenplan.scenario import scenario_from_dict  # noqa: E402
from ketenplan.simulation import simulate  # noqa: E402

PRIORS = {"ind_capacity_factor": (1.2, 2.6), "inflow.nareis.share_to_sponsor_home": (0.0, 0.3),
          "housing.realisation_rate": (0.5, 1.0)}
QUANTITIES = ["coa_occupancy", "permit_holders_in_reception", "ind_pending_asylum", "ind_avg_decision_time_weeks",
              "permits_granted_asylum"]
OUT = d.OUT / "nl_history_parameter_sets.csv"
SEED = 20191231


def in_sample_facts() -> pd.DataFrame:
    facts = read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv"))
    if (facts.date.str[:4].astype(int) > 2019).any():
        raise SystemExit("the calibration facts must all date from 2019 or earlier")
    return facts[facts.quantity.isin(QUANTITIES)].reset_index(drop=True)


def run_once(theta: dict[str, float], seed: int, facts: pd.DataFrame) -> np.ndarray:
    """Simulated value of each fact for one parameter set (one replicate, 2012-2019)."""
    data = d.history_data(theta["ind_capacity_factor"])
    data["simulation"]["end"] = data["simulation"]["end"].replace(year=2019)
    data["simulation"]["seed"] = seed
    data["simulation"]["parameter_sets"] = ""
    data["inflow"]["nareis"]["share_to_sponsor_home"] = theta["inflow.nareis.share_to_sponsor_home"]
    data.setdefault("housing", {})["realisation_rate"] = theta["housing.realisation_rate"]
    res = simulate(scenario_from_dict(data), replicates=1, keep_journeys="all", resolution="day")
    return np.array([float(simulated_values(res, r.quantity, r.date)[0]) for r in facts.itertuples()])


def distance(sim: np.ndarray, facts: pd.DataFrame) -> float:
    e = np.log(np.maximum(sim, 1.0) / facts.value.to_numpy(float)) ** 2
    return float(pd.Series(e).groupby(facts.quantity.to_numpy()).mean().mean())


def main(draws: int = 90, keep: int = 18) -> None:
    facts = in_sample_facts()
    rng = np.random.default_rng(SEED)
    rows = []
    t0 = time.time()
    for i in range(draws):
        theta = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in PRIORS.items()}
        sim = run_once(theta, SEED + i, facts)
        rows.append({**theta, "distance": distance(sim, facts)})
        print(f"{i + 1}/{draws} ({time.time() - t0:.0f}s) " + " ".join(f"{v:.3f}" for v in rows[-1].values()),
              flush=True)
    allr = pd.DataFrame(rows)
    allr.to_csv(d.OUT / "nl_history_abc_draws.csv", index=False)
    kept = allr.nsmallest(keep, "distance").reset_index(drop=True)
    kept["decision_capacity.total@scale"] = kept.ind_capacity_factor / d.IND_CAPACITY_FACTOR
    kept = kept[["ind_capacity_factor", "decision_capacity.total@scale", "inflow.nareis.share_to_sponsor_home",
                 "housing.realisation_rate", "distance"]].round(4)
    kept.to_csv(OUT, index=False)
    print(kept.describe().round(3).to_string())


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
