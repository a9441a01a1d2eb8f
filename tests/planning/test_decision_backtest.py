"""The decision backtest 2014-2019 (planning.backtest): policies replayed against the inflow that came."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from ketenplan.engine.compile import step_values
from ketenplan.engine.policies import forecast_extra
from ketenplan.planning import backtest as B


@pytest.fixture(scope="module")
def table():
    return B.decision_backtest(runs=2, backend="serial")


def test_the_actual_policy_holds_the_capacity_the_chain_had(table):
    sc = B.scenario()
    days = pd.date_range(sc.simulation.start, B.END, freq="D")
    real = step_values(sc.reception.capacity_regular, days) + step_values(sc.reception.capacity_small, days)
    assert table.loc["actual", "capacity_mean_places"] == pytest.approx(real.mean(), rel=0.01)
    assert set(table.index) == {"actual", "myopic", "buffer", "forecast"}


def test_seeing_the_forecast_never_leaves_more_people_in_emergency_places_than_the_myopic_rule(table):
    # the same cases under both; the forecast rule's need is the myopic need plus a non-negative term
    assert table.loc["forecast", "emergency_place_days_mean"] <= table.loc["myopic", "emergency_place_days_mean"]
    assert table.loc["buffer", "emergency_place_days_mean"] <= table.loc["myopic", "emergency_place_days_mean"]
    md = B.markdown(table)
    assert md.count("\n") == 5 and "| actual |" in md


def test_the_forecast_rule_uses_only_what_was_known_at_each_review():
    # mid-2015 the forecast saw the surge coming; early 2016 it did not expect more than the months before
    assert forecast_extra("NL", "2015-06", 6) > 3000
    assert forecast_extra("NL", "2015-12", 6) == 0.0
    # made from an origin, it cannot see later data: the same call gives the same number whatever came after
    from ketenplan.forecast import forecast

    fc = forecast("NL", horizon=6, n_paths=1, seed=0, origin="2015-06")
    assert fc.history["month"].astype(str).max() == "2015-06"
    assert np.isfinite(fc.table["point"].to_numpy(float)).all()


def test_a_bad_run_count_is_one_line_and_exit_code_2(capsys):
    assert B.main(["--runs", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --runs") and err.count("\n") == 1
