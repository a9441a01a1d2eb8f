"""Small real scenarios for the chain tests, built from the shipped baseline."""

from __future__ import annotations

import datetime as dt

from ketenplan.scenario import load_scenario


def small(**changes):
    """The baseline shortened to two years without warm-up and with one replicate."""
    base = load_scenario("nl_baseline")
    ch = {"simulation.start": dt.date(2025, 1, 1), "simulation.end": dt.date(2026, 12, 31),
          "simulation.warmup_years": 0, "simulation.replicates": 1}
    ch.update(changes)
    return base.replace(**ch)
