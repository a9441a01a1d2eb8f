"""Border-control queues at Schiphol (P1.2): passport desks and eGates as multi-server queues.

- :class:`BorderParams`: the sourced and assumed parameters of the default Schiphol entry day.
- :func:`run_day`, :func:`day_from_params`, :func:`stationary_day`: simulate replicate days.
- :func:`default_day`: the ``border_waits`` table of the default day; :func:`figure`: its chart.
- :func:`staffing_table`: desks and eGates needed per hour for a p90 target.
- :func:`erlang_c_wait`: the stationary M/M/c figures the simulation is checked against.
"""

from __future__ import annotations

import pandas as pd

from ketenplan.border.model import (POOL_COLUMNS, STAFFING_COLUMNS, WAIT_COLUMNS, BorderDay, BorderRun,
                                    Travellers, day_from_params, draw_travellers, run_day, simulate_waits,
                                    staffing_table, stationary_day, with_servers)
from ketenplan.scenario.border import BorderParams, parameter_table
from ketenplan.border.plots import figure
from ketenplan.border.queue import erlang_c, erlang_c_wait, simulate_pool

#: Replicate days and seed of :func:`default_day`.
DEFAULT_REPLICATIONS = 100
DEFAULT_SEED = 1


def default_day(params: BorderParams | None = None) -> pd.DataFrame:
    """The ``border_waits`` table (hour, arrivals, desks, egates, p50_wait_min, p90_wait_min,
    utilisation) of the default Schiphol entry day of ``params`` (100 replicate days, seed 1)."""
    return run_day(day_from_params(params), DEFAULT_REPLICATIONS, DEFAULT_SEED).waits_table()


__all__ = ["BorderDay", "BorderParams", "BorderRun", "DEFAULT_REPLICATIONS", "DEFAULT_SEED", "POOL_COLUMNS",
           "STAFFING_COLUMNS", "Travellers", "WAIT_COLUMNS", "day_from_params", "default_day", "draw_travellers",
           "erlang_c", "erlang_c_wait", "figure", "parameter_table", "run_day", "simulate_pool", "simulate_waits",
           "staffing_table", "stationary_day", "with_servers"]
