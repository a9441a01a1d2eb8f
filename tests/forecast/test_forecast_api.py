"""The forecast's table and sample paths: consistent quantiles, bounded tails, the origin rules."""

import numpy as np
import pandas as pd
import pytest

from ketenplan.errors import ScenarioError
from ketenplan.forecast import data as fdata
from ketenplan.forecast import forecast, inflow_sample_paths

NL_RECORD_MONTH = 10_120  # October 2015, Eurostat


def _ordered(t: pd.DataFrame) -> bool:
    return bool(((t.lo95 <= t.lo80) & (t.lo80 <= t["median"]) & (t["median"] <= t.hi80) & (t.hi80 <= t.hi95)).all())


def test_table_does_not_depend_on_paths_or_horizon():
    base = forecast("NL", 24, n_paths=1000, seed=0).table
    for horizon, n_paths, seed in ((25, 1, 0), (36, 5, 3), (60, 1000, 9)):
        t = forecast("NL", horizon, n_paths=n_paths, seed=seed).table
        assert _ordered(t), (horizon, n_paths)
        pd.testing.assert_frame_equal(t.iloc[:24].reset_index(drop=True), base)


def test_median_is_the_median_of_the_paths():
    """Before their totals are reconciled (the reconciled paths' totals are tested in test_totals.py)."""
    fc = forecast("NL", 12, n_paths=4000, seed=1, reconcile=False)
    med = fc.paths.groupby("month")["applicants"].median().to_numpy()
    np.testing.assert_allclose(med, fc.table["median"].to_numpy(), rtol=0.06)


def test_tails_stay_bounded():
    """Standardised errors of small, calm countries (Finland 2015: u = 16.6) once made a Dutch
    month 66 times the national record; the clipped library keeps even the rarest path far below."""
    for seed in (0, 1, 2):
        fc = forecast("NL", 12, n_paths=1000, seed=seed)
        assert fc.paths["applicants"].max() < 20 * NL_RECORD_MONTH


def test_long_horizon_spread_does_not_keep_growing():
    t = forecast("NL", 120, n_paths=50, seed=0).table
    assert (t["interval_basis"].iloc[24:] == "extrapolated").all()
    assert t.hi95.iloc[119] < 1.5 * t.hi95.iloc[23] and t.lo95.iloc[119] > 0.5 * t.lo95.iloc[23]
    assert _ordered(t)


def test_counts_and_origins_are_checked():
    for bad in (True, 0, 2.5):
        with pytest.raises(ScenarioError, match="horizon"):
            forecast("NL", bad)
        with pytest.raises(ScenarioError, match="n_paths"):
            forecast("NL", 3, n_paths=bad)
        with pytest.raises(ScenarioError, match="months"):
            inflow_sample_paths("NL", "2025-01", months=bad)
    for bad in ("2015Q3", "2015-13", "2015-7", "201507"):
        with pytest.raises(ScenarioError, match="YYYY-MM"):
            forecast("NL", 3, origin=bad)


def test_early_origin_says_its_intervals_use_later_errors():
    assert forecast("NL", 24, n_paths=5, origin="2011-09").meta["error_library"].startswith("whole library")
    assert forecast("NL", 24, n_paths=5, origin="2018-09").meta["error_library"].startswith("errors of origins")


def test_inflow_paths_from_the_latest_data():
    df = inflow_sample_paths("NL", start="2023-01", months=36, n_paths=4, seed=2, origin="latest")
    wide = df.pivot(index="month", columns="path", values="applicants")
    assert list(wide.index[[0, -1]]) == ["2023-01", "2025-12"]
    data = fdata.bridged_series("NL")
    data = data[data["month"].astype(str).between("2023-01", "2024-12")]["applicants"].to_numpy(float)
    for p in range(4):  # the data themselves up to 2024-12, then four different forecasts
        np.testing.assert_allclose(wide[p].to_numpy()[:24], data)
    assert wide.iloc[24:].T.drop_duplicates().shape[0] == 4
    # the default is the honest "as forecast then": a forecast from 2022-12
    then = inflow_sample_paths("NL", start="2023-01", months=36, n_paths=4, seed=2)
    assert then.pivot(index="month", columns="path", values="applicants").iloc[:24].T.drop_duplicates().shape[0] == 4
    with pytest.raises(ScenarioError, match="after the last data month"):
        inflow_sample_paths("NL", start="2025-01", months=6, origin="2026-01")


def test_nl_table_marks_intervals_built_on_later_errors():
    from ketenplan.forecast import nl_annual_table

    t = nl_annual_table(n_paths=200).set_index("year")
    assert t.loc[2012, "interval_errors"].startswith("whole library")
    assert (t.loc[2014:, "interval_errors"] == "known at origin").all()


def test_paths_never_exceed_the_cap_even_for_small_noisy_series():
    """Pooled standardised errors on a small, noisy series once gave Estonia 35 million a month
    and Malta (from 2013-01) 9 billion; no path may exceed paths_cap_ratio x the record to date."""
    from ketenplan.forecast.scenarios import param

    for country, origin in (("EE", None), ("LT", None), ("MT", "2012-12"), ("LI", "2012-12")):
        fc = forecast(country, 36, n_paths=500, seed=1, origin=origin)
        y = fdata.bridged_series(country)
        record = y[y["month"].astype(str) <= fc.origin]["applicants"].max()
        cap = param("paths_cap_ratio") * max(record, 1.0)
        assert fc.paths["applicants"].max() <= cap * (1 + 1e-9) and fc.table["hi95"].max() <= cap * (1 + 1e-9)


def test_intervals_never_narrow_and_months_do_not_depend_on_the_horizon():
    for origin in ("2013-06", "2015-09", None):
        t = forecast("NL", 24, n_paths=5, origin=origin).table
        w80 = np.log1p(t.hi80) - np.log1p(t.lo80)
        w95 = np.log1p(t.hi95) - np.log1p(t.lo95)
        assert (np.diff(w80) >= -1e-9).all() and (np.diff(w95) >= -1e-9).all(), origin
        short = forecast("NL", 7, n_paths=5, origin=origin).table
        pd.testing.assert_frame_equal(short, t.iloc[:7])
    a = inflow_sample_paths("NL", "2025-01", 12, n_paths=20, seed=3)
    b = inflow_sample_paths("NL", "2025-01", 36, n_paths=20, seed=3)
    pd.testing.assert_frame_equal(a, b[b["month"] <= "2025-12"].reset_index(drop=True))


def test_origin_spellings():
    latest = forecast("NL", 3, n_paths=5, origin="Latest")
    assert latest.origin == "2024-12"
    a = inflow_sample_paths("NL", pd.Timestamp("2025-01-15"), 3, n_paths=2, origin="LATEST")
    b = inflow_sample_paths("NL", "2025-01", 3, n_paths=2)
    pd.testing.assert_frame_equal(a, b)
