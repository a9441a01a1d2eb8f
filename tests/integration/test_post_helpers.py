"""The integration post-processor's column helpers give what the per-row pandas forms give."""

from __future__ import annotations

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
