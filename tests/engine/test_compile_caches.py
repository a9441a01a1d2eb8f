"""Per-process caches of compile: the grid's lookups and the per-scenario tables give what a fresh
computation gives, and a replicate whose changed parameters feed a table builds its own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan.engine import compile as C
from ketenplan.engine.hooks import half_years
from ketenplan.scenario import load_scenario


def _grid():
    return C.time_grid(load_scenario("nl_baseline"))


def test_grid_steps_equal_step_values_on_the_dates():
    sc = load_scenario("nl_baseline")
    g = C.time_grid(sc)
    for steps in (sc.reception.capacity_regular, sc.decision_capacity.total, sc.procedure.statutory_months):
        got = C.grid_steps(steps, g)
        assert np.array_equal(got, C.step_values(steps, g.dates()))
        got[:] = -1  # a copy: the cache is untouched
        assert np.array_equal(C.grid_steps(steps, g), C.step_values(steps, g.dates()))


def test_month_of_day_and_bounds_match_the_calendar():
    g = _grid()
    mod = C._month_of_day(g.day0, g.end)
    dates = g.dates()
    months = g.months()
    # each day's month index points at the month that holds the date
    assert np.array_equal(months[mod].year, dates.year) and np.array_equal(months[mod].month, dates.month)
    _, months_abs, lo, hi = C._month_bounds(g)
    assert lo[0] == 0 and hi[-1] == g.T - 1 and np.array_equal(lo[1:], hi[:-1] + 1)
    assert np.array_equal(months_abs, months.year * 12 + months.month - 1)


def test_half_years_copies():
    g = _grid()
    idx, labels, starts, full = half_years(g.day0, g.T)
    labels.append("x")
    idx[:] = 0
    idx2, labels2, _, _ = half_years(g.day0, g.T)
    assert "x" not in labels2 and idx2[-1] == len(labels2) - 1
    d = pd.date_range(g.day0, periods=g.T, freq="D")
    assert labels2[idx2[200]] == f"{d[200].year}-H{1 if d[200].month <= 6 else 2}"


def test_inflow_parts_with_a_path_equal_the_given_level_when_the_path_is_the_given_level():
    sc = load_scenario("nl_baseline").replace(**{"inflow.source": "given"})
    g = C.time_grid(sc)
    parts, first = C.inflow_parts(sc, g)
    again, first2 = C.inflow_parts(sc, g, first.copy())
    assert [p[:2] for p in parts] == [p[:2] for p in again]
    for (_, _, a, _), (_, _, b, _) in zip(parts, again):
        assert np.array_equal(a, b)


def test_tables_are_shared_only_when_no_changed_key_feeds_them():
    assert C.reads_tables("groups") and C.reads_tables("return.share_forced") and C.reads_tables("inflow.first")
    assert not C.reads_tables("inflow.nareis.ratio") and not C.reads_tables("housing.realisation_rate")
    assert not C.reads_tables("decision_capacity.total") and not C.reads_tables("inflow.firstx")
