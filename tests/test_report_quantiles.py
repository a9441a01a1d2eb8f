"""Quantiles over replicates of any stored table from DuckDB (Results.band_quantiles, used by the
report) equal pandas' on the whole table (P0.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine.results import Results
from ketenplan.ensemble.store import PartitionStore


@pytest.fixture()
def res(tmp_path):
    rng = np.random.default_rng(3)
    store = PartitionStore(tmp_path / "r", chunk=3)
    store.open({"what": "quantiles"})
    months = pd.date_range("2025-01-31", periods=4, freq="ME")
    for r in range(7):
        n = len(months) * 2
        y = rng.gamma(2.0, 10.0, n)
        y[rng.random(n) < 0.2] = np.nan  # e.g. weeks to a decision in a month without decisions
        store.add(r, {"t": pd.DataFrame({"replicate": r, "month": np.tile(months, 2),
                                         "stream": np.repeat(["work", "study"], len(months)), "y": y,
                                         "k": rng.integers(0, 50, n)})})
    store.flush()
    yield Results(scenario=None, metadata={"replicates": 7}, source=store)
    store.close()


def test_band_quantiles_equal_pandas_over_the_whole_table(res):
    t = res.table("t")
    for y in ("y", "k"):
        got = res.band_quantiles("t", "month", y, by="stream")
        want = t.groupby(["stream", "month"])[y].quantile([0.1, 0.5, 0.9]).unstack()
        np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-12)
        assert list(got.index) == list(want.index)
    got = res.band_quantiles("t", "month", "y", where="stream = 'work'", q=(0.25, 0.75))
    want = t[t.stream == "work"].groupby("month").y.quantile([0.25, 0.75]).unstack()
    np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-12)
    assert pd.DatetimeIndex(got.index).equals(pd.DatetimeIndex(want.index))


def test_band_quantiles_of_an_expression_equal_pandas_on_the_derived_column(res):
    """A share whose denominator may be zero (``value``): left out there, as pandas' division by
    ``.where(> 0)`` leaves it NaN; the report's passed and benefit shares are computed so."""
    t = res.table("t")
    t = t.assign(share=t["y"] / t["k"].where(t["k"] > 10))
    assert (t["k"] <= 10).sum() >= 5  # some shares are left out
    got = res.band_quantiles("t", "month", "share", by="stream", value="CASE WHEN k > 10 THEN y / k END")
    want = t.groupby(["stream", "month"])["share"].quantile([0.1, 0.5, 0.9]).unstack()
    np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-12)
    assert list(got.index) == list(want.index)


def test_a_bad_expression_names_the_argument(res):
    from ketenplan.errors import DataError

    with pytest.raises(DataError, match="value: the expression 'y / kk'"):
        res.band_quantiles("t", "month", "share", value="y / kk")
