"""Choose the IND capacity factor of the nl_history preset on 2014-2019 facts only.

Usage: python tools/calibrate_history.py RAW_DATA_DIR
Runs the history for a few factors and prints the median absolute percentage error of the
in-sample facts (facts_nl_2014_2019.csv: every row dates from 2019 or earlier). No 2020+ figure
is read.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import derive_chain_data as d  # noqa: E402

from ketenplan.backtest import backtest, read_facts  # noqa: E402
from ketenplan.data import data_path  # noqa: E402
from ketenplan.simulation import simulate  # noqa: E402
from ketenplan.scenario import scenario_from_dict  # noqa: E402


def main(raw: Path) -> None:
    facts = read_facts(data_path("nl_chain", "facts_nl_2014_2019.csv"))
    assert (facts.date.str[:4].astype(int) <= 2019).all()
    for factor in (1.0, 1.5, 2.0, 2.5, 3.0):
        data = tomllib.loads(d.history_preset(raw, factor))
        data["simulation"]["end"] = data["simulation"]["end"].replace(year=2019)
        res = simulate(scenario_from_dict(data), replicates=4, keep_journeys="all")
        bt = backtest(facts, res)
        print(f"factor {factor}: overall MdAPE {np.nanmedian(bt.table.error_pct.abs()):.1f}%  " +
              "  ".join(f"{r.quantity} {r.mdape_pct:.0f}%" for r in bt.summary.itertuples()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
