"""The reduction as NumPy columns (what an ensemble's worker keeps) against the frames of
reduce_replicate and the stocks' numpy formulation: the same columns, types and numbers, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine.results import (Keep, _periods, _reported, reduce_columns, reduce_replicate, stock_columns,
                                      stock_series)
from ketenplan.engine.run import run_replicate


@pytest.fixture(scope="module")
def run():
    from ketenplan.testing import small_scenario

    sc = small_scenario()
    return sc, run_replicate(sc, 3, np.random.SeedSequence(11))


def _stocks_reference(out, resolution: str) -> dict[str, np.ndarray]:
    """The stocks table from the [days, k] array of stock_series, reduced with numpy."""
    labels, arr = stock_series(out)
    _, dates = _reported(out)
    pidx, starts = _periods(dates, resolution)
    n_p, n_k = len(starts), arr.shape[1]
    if resolution == "day":
        end, mean, mx = arr, arr.astype(np.float64), arr
    else:
        bounds = np.r_[np.flatnonzero(np.r_[True, pidx[1:] != pidx[:-1]]), len(pidx)]
        end = arr[bounds[1:] - 1]
        csum = np.vstack([np.zeros((1, n_k)), np.cumsum(arr, axis=0, dtype=np.float64)])
        mean = (csum[bounds[1:]] - csum[bounds[:-1]]) / np.diff(bounds)[:, None]
        mx = np.maximum.reduceat(arr, bounds[:-1], axis=0)
    return {"replicate": np.full(n_p * n_k, out.replicate, np.int32), "date": np.repeat(starts.values, n_k),
            "dimension": np.tile(np.array([d for d, _ in labels], dtype=object), n_p),
            "category": np.tile(np.array([c for _, c in labels], dtype=object), n_p),
            "persons": end.reshape(-1), "persons_mean": mean.reshape(-1), "persons_max": mx.reshape(-1)}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fmM":
        return bool(np.array_equal(a.view(np.int64), b.view(np.int64)))
    return bool((a == b).all())


@pytest.mark.parametrize("resolution", ["month", "day"])
def test_stock_columns_equal_the_numpy_formulation(run, resolution):
    _, out = run
    got, want = stock_columns(out, resolution), _stocks_reference(out, resolution)
    assert list(got) == list(want)
    for c in want:
        assert _same(got[c], want[c]), c


@pytest.mark.parametrize("resolution", ["month", "day"])
def test_reduce_columns_are_the_columns_of_reduce_replicate(run, resolution):
    sc, out = run
    keep = Keep(resolution=resolution, journeys="none")
    frames = reduce_replicate(out, sc, keep)
    cols = reduce_columns(out, sc, keep)
    assert list(frames) == list(cols) == ["kpis", "stocks", "flows", "housing", "capacity"]
    for name, df in frames.items():
        c = cols[name]
        assert isinstance(df.index, pd.RangeIndex)
        assert list(c) == list(df.columns), name
        for k in df.columns:
            assert _same(c[k], df[k].to_numpy()), (name, k)


def test_plain_tables_take_columns_as_they_come(run):
    from ketenplan.ensemble.store import Columns, plain_tables

    sc, out = run
    cols = reduce_columns(out, sc, Keep(journeys="none"))
    got = plain_tables(cols)
    want = plain_tables(reduce_replicate(out, sc, Keep(journeys="none")))
    for name in cols:
        assert isinstance(got[name], Columns) and got[name].names == want[name].names
        assert all(_same(a, b) for a, b in zip(got[name].arrays, want[name].arrays)), name
