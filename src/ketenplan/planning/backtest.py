"""The decision backtest (P3.5): replay 2014-2019 as a planner would have lived it.

The chain is driven by what actually came in (``nl_history``, the point replay: inflow, IND
output and grant rates as observed), and each policy sets the regular reception capacity month by
month from what it could know then:

- ``actual``: the capacity the chain actually had (the shipped series of ``nl_history``: 20,000
  places to 2015, 48,000 from 2016, 27,000 in 2018, 30,300 in 2019; see the preset's header);
- ``myopic``: the threshold rule on observed occupancy (reviews twice a year, C5; 96% norm, C1;
  six months to open, L1/C11; twelve months' minimum life, L3), starting from the 2013 level of
  20,000 places and never below it;
- ``buffer``: the same with 2,000 places above the need and 2,000 standby places (C2);
- ``forecast``: the same as myopic plus, at each review, the applicants the inflow forecast made
  then (origin: the month before the review, data up to it only) expects over the lead time beyond
  those of the months just observed.

Every policy runs the same cases (common random numbers); overflow goes to emergency places at
their price. Costs are the plan's (``planning.costs``: COA by place type, opening and closing,
IND per decision, municipalities); a shortage is any emergency place-day.

    python -m ketenplan.planning.backtest [--runs N]     # prints the table of docs/planning.md
"""

from __future__ import annotations

import argparse
import datetime as dt

import pandas as pd

from ketenplan.planning.plan import Policy, plan_capacity

BASE_PLACES = 20000.0  # nl_history's regular capacity before 2016 (2013 occupancy 15,394 at 80%)
END = dt.date(2019, 12, 31)
COLUMNS = {"cost_per_year_eur": "EUR m per year", "cost_coa_eur": "COA total [EUR m]",
           "p_shortage": "P(shortage)", "shortage_days_mean": "days with emergency places",
           "emergency_place_days_mean": "emergency place-days", "places_opened_mean": "places opened",
           "places_closed_mean": "places closed", "capacity_mean_places": "mean regular places"}


def policies() -> list[Policy]:
    base = {"reception": {"capacity_regular": [{"start": dt.date(2012, 1, 1), "value": BASE_PLACES}]}}
    rule = {"kind": "threshold", "buffer_places": 0.0, "standby_places": 0.0}
    return [
        Policy("actual", {"reception_policy": {"kind": "fixed"}},
               description="the regular capacity the chain actually had (nl_history's series)"),
        Policy("myopic", {**base, "reception_policy": rule},
               description="threshold rule on observed occupancy from 20,000 places"),
        Policy("buffer", {**base, "reception_policy": {**rule, "buffer_places": 2000.0, "standby_places": 2000.0}},
               description="the threshold rule with 2,000 places of margin and 2,000 standby places"),
        Policy("forecast", {**base, "reception_policy": {**rule, "kind": "forecast"}},
               description="the threshold rule plus the forecast's extra arrivals over the lead time"),
    ]


def scenario():
    from ketenplan.scenario import load_scenario

    sc = load_scenario("nl_history")
    return sc.replace(**{"simulation.end": END, "simulation.parameter_sets": ""})


def decision_backtest(runs: int = 8, seed: int | None = None, backend: str = "processes",
                      workers: int | None = None) -> pd.DataFrame:
    """One row per policy with the plan's key figures over 2014-2019 (see the module)."""
    plan = plan_capacity(scenario(), policies(), runs, seed, backend=backend, workers=workers,
                         shortage_from_months=0)
    s = plan.summary().set_index("policy")
    return s


def markdown(s: pd.DataFrame) -> str:
    rows = ["| policy | " + " | ".join(COLUMNS.values()) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, r in s.iterrows():
        cells = []
        for k in COLUMNS:
            v = r[k]
            cells.append(f"{v:.0%}" if k == "p_shortage" else f"{v / 1e6:,.0f}" if k.endswith("_eur") else f"{v:,.0f}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the decision backtest's table; a bad argument is one line on stderr and exit code 2."""
    import sys

    from ketenplan.errors import KetenplanError

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8, help="runs per policy (common random numbers)")
    a = ap.parse_args(argv)
    try:
        print(markdown(decision_backtest(a.runs)))
    except KetenplanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
