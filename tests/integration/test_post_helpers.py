"""The integration post-processor's column helpers give what the per-row pandas forms give."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ketenplan.integration.post import _lookup, _month_start


def test_month_start_is_period_start():
    s = pd.Series(np.array(["2025-01-31", "NaT", "2024-02-29", "2030-12-01"], dtype="datetime64[s]"), name="d")
    expect = s.dt.to_period("M").dt.to_timestamp()
    pd.testing.assert_series_equal(_month_start(s), expect)


def test_lookup_per_category_equals_per_row():
    index = {"a": 0, "b": 1, "nan": 2}
    cat = pd.Series(pd.Categorical(["b", "a", None, "b"], categories=["a", "b", "unused"]))
    per_row = np.array([index[v] for v in cat.astype(str)], np.int64)
    assert _lookup(cat, index.__getitem__).tolist() == per_row.tolist() == [1, 0, 2, 1]
    assert _lookup(cat.astype(object), index.__getitem__).tolist() == [1, 0, 2, 1]
    with pytest.raises(KeyError):  # a used value without an index fails as per row
        _lookup(pd.Series(pd.Categorical(["a", "unused"])), index.__getitem__)


@pytest.mark.parametrize("day0", [dt.date(2012, 1, 1), dt.date(2011, 3, 17), dt.date(2000, 2, 29)])
def test_calendar_lookup_equals_numpy_calendar(day0):
    """Months and years of grid days by a lookup over their span: numpy's own calendar conversion,
    for dense days (the lookup), few days and far-apart days (the direct conversion), negative days."""
    from ketenplan.integration.cases import Cases, _month_index

    rng = np.random.default_rng(3)
    for days in (rng.integers(-800, 9000, 50_000), np.array([5, -3, 0]), rng.integers(-10**6, 10**6, 1000),
                 np.zeros(0, np.int64), np.full(100, 31)):
        d = np.datetime64(day0, "D") + days.astype("timedelta64[D]")
        month = (d.astype("datetime64[M]") - np.datetime64(day0, "M")).astype(np.int64)
        year = d.astype("datetime64[Y]").astype(int) + 1970
        got_m = _month_index(day0, days)
        got_y = Cases.year_of(SimpleNamespace(day0=day0), days)
        assert got_m.dtype == month.dtype and np.array_equal(got_m, month)
        assert got_y.dtype == year.dtype and np.array_equal(got_y, year)


def test_t50_cells_by_cohort_and_group_equal_the_unique_of_every_case():
    """The employment model's cells of equal t50 found per (cohort, group) pair: numpy's unique over every
    case, also where two groups share a speed (one cell) and for no or one case."""
    from ketenplan.integration.curves import cohort_t50
    from ketenplan.integration.employment import _t50_cells

    rng = np.random.default_rng(0)
    for n in (0, 1, 1000, 50_000):
        cohort, group = rng.integers(2010, 2036, n), rng.integers(0, 4, n)
        t50 = cohort_t50(cohort, 2.5, 0.1, 2014, 2017, np.array([0.8, 1.0, 1.2, 1.2])[group])
        want = np.unique(np.round(t50, 12), return_inverse=True)
        got = _t50_cells(t50, cohort, group)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1].reshape(-1))
