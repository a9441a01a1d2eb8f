"""ketenplan: integrated planning, forecasting and scenario simulation for the Dutch migration chain.

Quick use::

    import ketenplan
    sc = ketenplan.load_scenario("nl_baseline")          # or a path to a .toml file
    res = ketenplan.simulate(sc, seed=1)                   # labelled tables + metadata
    res.kpi_summary()
"""

from __future__ import annotations

__version__ = "0.1.0"

from ketenplan.engine import simulate  # noqa: E402
from ketenplan.engine.results import Results  # noqa: E402
from ketenplan.scenario import load_scenario  # noqa: E402
from ketenplan.scenario.schema import Scenario  # noqa: E402

__all__ = ["__version__", "load_scenario", "simulate", "Scenario", "Results"]
