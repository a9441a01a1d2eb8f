"""ketenplan: integrated planning, forecasting and scenario simulation for the Dutch migration chain.

Quick use::

    import ketenplan
    sc = ketenplan.load_scenario("nl_baseline")          # or a path to a .toml file
    res = ketenplan.simulate(sc, seed=1)                   # labelled tables + metadata
    res.kpi_summary()
"""

from __future__ import annotations

__version__ = "0.2.0"

__all__ = ["__version__", "load_scenario", "simulate", "Scenario", "Results"]

_LAZY = {"simulate": ("ketenplan.simulation", "simulate"), "Results": ("ketenplan.engine.results", "Results"),
         "load_scenario": ("ketenplan.scenario", "load_scenario"), "Scenario": ("ketenplan.scenario.schema", "Scenario")}


def __getattr__(name: str):
    """Import the public API on first use, so that ``import ketenplan`` stays light."""
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ketenplan' has no attribute {name!r}")
