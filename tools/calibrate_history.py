"""Calibrate the weakly sourced inputs of the nl_history preset on 2014-2019 facts only, as inference,
jointly with the replay's model error.

Usage: python tools/calibrate_history.py [DRAWS] [KEEP]      (simulate the draws, then select)
       python tools/calibrate_history.py --select-only [KEEP] (select again from the recorded draws)

ABC (approximate Bayesian computation) with the engine itself: DRAWS parameter sets are drawn from
independent uniform priors and each is run once (one replicate, 2012-2019); every draw's simulated
value of every in-sample fact (data/nl_chain/facts_nl_2014_2019.csv, all dated 2019 or earlier) is
recorded in data/nl_chain/nl_history_abc_draws.csv (columns ``sim:<quantity>@<date>``).

Selection (``ketenplan.model_error.calibrate``; Kennedy & O'Hagan 2001, Wilkinson 2013): the ABC
kernel is the model error, observed = simulated x exp(e), e ~ N(0, s_g^2) per discrepancy group,
with s_g log-uniform on [0.05, 2] and integrated out. Each draw weighs its marginal likelihood over
the quantities the parameters act on (COA occupancy, permit holders in reception, the IND stock and
decision time, permits); KEEP sets are taken by systematic resampling, each with scales drawn from
their posterior given the set, for every group (departures too: they get a scale but, as the three
parameters do not act on them, do not weigh the parameters). Written: the sets with their
``model_error_sd:<quantity>`` columns to data/nl_chain/nl_history_parameter_sets.csv (runs that name
that file apply row ``replicate % n`` to replicate ``replicate``; ``ketenplan backtest`` adds the
model error to the bands) and the scales' posterior per group to
data/nl_chain/nl_history_model_error.csv. ``distance`` (the earlier rejection distance: per quantity
the mean squared log ratio, then the mean over those quantities) is kept for information. No 2020+
figure is read.

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
from ketenplan.model_error import sim_column, with_derived_sims  # noqa: E402
from ketenplan.data import data_path  # noqa: E402
from ketenplan.scenario import scenario_from_dict  # noqa: E402
from ketenplan.simulation import simulate  # noqa: E402

PRIORS = {"ind_capacity_factor": (1.2, 2.6), "inflow.nareis.share_to_sponsor_home": (0.0, 0.3),
          "housing.realisation_rate": (0.5, 1.0)}
QUANTITIES = ["coa_occupancy", "permit_holders_in_reception", "ind_pending_asylum", "ind_avg_decision_time_weeks",
              "permits_granted_asylum"]
OUT = d.OUT / "nl_history_parameter_sets.csv"
DRAWS = d.OUT / "nl_history_abc_draws.csv"
SEED = 20191231


def in_sample_facts(quantities: list[str] | None = QUANTITIES) -> pd.DataFrame:
    """The 2014-2019 facts (of ``quantities``; None: all of them)."""
    facts = read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv"))
    if (facts.date.str[:4].astype(int) > 2019).any():
        raise SystemExit("the calibration facts must all date from 2019 or earlier")
    if quantities is None:
        return facts
    return facts[facts.quantity.isin(quantities)].reset_index(drop=True)


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
    allfacts = in_sample_facts(None)
    facts = allfacts[allfacts.quantity.isin(QUANTITIES)].reset_index(drop=True)
    rng = np.random.default_rng(SEED)
    rows = []
    t0 = time.time()
    for i in range(draws):
        theta = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in PRIORS.items()}
        sim_all = run_once(theta, SEED + i, allfacts)
        sim = sim_all[allfacts.quantity.isin(QUANTITIES).to_numpy()]
        rows.append({**theta, "distance": distance(sim, facts),
                     **{sim_column(q, dt): round(float(v), 1) for q, dt, v in zip(allfacts.quantity, allfacts.date,
                                                                                   sim_all)}})
        print(f"{i + 1}/{draws} ({time.time() - t0:.0f}s) " + " ".join(f"{v:.3f}" for v in list(rows[-1].values())[:4]),
              flush=True)
        pd.DataFrame(rows).to_csv(d.OUT / "nl_history_abc_draws.csv.partial", index=False)
    pd.DataFrame(rows).to_csv(DRAWS, index=False)
    (d.OUT / "nl_history_abc_draws.csv.partial").unlink()
    select(keep)


def select(keep: int = 18) -> None:
    """Joint posterior of the parameters and the model error from the recorded draws (no simulation):
    writes the parameter sets with a model-error scale per quantity (ketenplan.model_error)."""
    from ketenplan.model_error import GROUPS, calibrate, loo_coverage

    draws = with_derived_sims(pd.read_csv(DRAWS))
    facts = in_sample_facts(None)
    kept, summary = calibrate(draws, facts, QUANTITIES, keep, np.random.default_rng(SEED))
    kept["decision_capacity.total@scale"] = (kept.ind_capacity_factor / d.IND_CAPACITY_FACTOR).round(4)
    first = ["draw", "ind_capacity_factor", "decision_capacity.total@scale", "inflow.nareis.share_to_sponsor_home",
             "housing.realisation_rate", "distance", "weight"]
    kept = kept[first + [c for c in kept.columns if c not in first]]
    kept[first[1:]] = kept[first[1:]].round(4)
    kept.to_csv(OUT, index=False)
    loo = loo_coverage(draws, facts, kept)
    cov = loo.groupby(loo.quantity.map(GROUPS)).inside.mean().rename("loo_coverage_80")
    summary = summary.merge(cov.round(3), left_on="group", right_index=True, how="left")
    summary.to_csv(d.OUT / "nl_history_model_error.csv", index=False)
    print(summary.to_string())
    print(f"leave-one-out coverage of the 80% bands: {loo.inside.mean():.0%} of {len(loo)} facts")
    print(kept[first].describe().round(3).to_string())


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Calibrate the history replay's uncertain parameters and its "
                                             "model error on the 2014-2019 facts (docs/backtest.md).")
    ap.add_argument("draws", nargs="?", type=int, default=90, help="prior draws to simulate (default 90)")
    ap.add_argument("keep", nargs="?", type=int, default=18, help="parameter sets to keep (default 18)")
    ap.add_argument("--select-only", action="store_true",
                    help="redo the selection from the recorded draws without simulating")
    a = ap.parse_args()
    if a.draws < 1 or a.keep < 1:
        ap.error(f"draws and keep must be at least 1, found {a.draws} and {a.keep}")
    if a.select_only:  # calibrate_history.py --select-only [KEEP]
        select(a.draws if len([x for x in sys.argv[1:] if not x.startswith("-")]) == 1 else a.keep)
    else:
        main(a.draws, a.keep)
