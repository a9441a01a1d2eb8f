"""Inflow forecasting with honest backtests (P3.8, P1.1).

Public API:

* :func:`inflow_sample_paths` monthly sample paths of asylum applicants for the chain simulation;
* :func:`forecast` a forecast with 80%/95% intervals and sample paths;
* :func:`run_backtest` the rolling-origin backtest on the shipped series;
* :func:`surge`, :func:`dip`, :func:`level_shift`, :func:`by_nationality` scenario generators;
* :func:`nareis_from_positive_decisions` the nareis link;
* :func:`nl_annual_table` Dutch yearly forecasts beside the official forecasts.
"""

from ketenplan.forecast.api import Forecast, forecast, inflow_sample_paths, nl_annual_table
from ketenplan.forecast.backtest import BacktestResult, run_backtest
from ketenplan.forecast.data import check_series
from ketenplan.forecast.nareis import nareis_from_positive_decisions, nareis_ratio
from ketenplan.forecast.scenarios import (by_nationality, dip, level_shift, nationality_mix, surge,
                                          surge_mix)

__all__ = ["BacktestResult", "Forecast", "by_nationality", "check_series", "dip", "forecast",
           "inflow_sample_paths", "level_shift", "nareis_from_positive_decisions", "nareis_ratio",
           "nationality_mix", "nl_annual_table", "run_backtest", "surge", "surge_mix"]
