"""Measure the nl_history replay's errors and band coverage, in and out of sample, with and without
the model error (docs/backtest.md).

Usage: python tools/measure_history_bands.py [OUT_CSV]

Runs the shipped preset once (one replicate per parameter set, 2012-2024, its seed) and backtests the
same run against the 2014-2019 facts and the 2020-2024 facts twice: bands of simulation noise and
parameter sets only, and bands that add the model error the sets carry. Prints one table per
facts file with both, and the overall coverage; writes all rows to OUT_CSV if given.
"""

from __future__ import annotations

import sys

import pandas as pd

from ketenplan.backtest import backtest, read_facts
from ketenplan.data import data_path
from ketenplan.scenario import load_scenario
from ketenplan.scenario.parameter_sets import load
from ketenplan.simulation import simulate


def main(out: str | None = None) -> None:
    sc = load_scenario("nl_history")
    res = simulate(sc, replicates=len(load(sc.simulation.parameter_sets)), keep_journeys="all", resolution="day")
    rows = []
    for name in ("facts_nl_2014_2019.csv", "facts_nl_2020_2024_oos.csv"):
        facts = read_facts(data_path("nl_chain", name))
        for with_error in (False, True):
            bt = backtest(facts, res, model_error=with_error)
            t = bt.table
            inside = (t.observed >= t.p10) & (t.observed <= t.p90)
            s = bt.summary.assign(facts=name, model_error=with_error)
            rows.append(s)
            rows.append(pd.DataFrame([{"quantity": "ALL", "rows": len(t), "coverage_80": inside.mean(),
                                       "mdape_pct": t.error_pct.abs().median(), "bias_pct": t.error_pct.median(),
                                       "facts": name, "model_error": with_error}]))
    allr = pd.concat(rows, ignore_index=True)
    cols = ["facts", "model_error", "quantity", "rows", "mdape_pct", "mdae", "bias_pct", "coverage_80", "band"]
    print(allr[cols].round(3).to_string(index=False))
    if out:
        allr[cols].to_csv(out, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:2])
