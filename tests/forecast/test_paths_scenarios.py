import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenplan.errors import DataError, ScenarioError
from ketenplan.forecast import (by_nationality, dip, forecast, inflow_sample_paths, level_shift,
                                nareis_from_positive_decisions, nareis_ratio, surge, surge_mix)
from ketenplan.forecast import api
from ketenplan.forecast.nareis import validation_table
from ketenplan.forecast.scenarios import param


def test_inflow_sample_paths_contract():
    df = inflow_sample_paths("NL", start="2025-01", months=30, n_paths=20, seed=7)
    assert list(df.columns) == ["path", "month", "applicants"]
    assert sorted(df["path"].unique()) == list(range(20))
    assert df["month"].iloc[0] == "2025-01" and df["month"].nunique() == 30
    assert df["applicants"].ge(0).all() and np.isfinite(df["applicants"]).all()
    again = inflow_sample_paths("NL", start="2025-01", months=30, n_paths=20, seed=7)
    pd.testing.assert_frame_equal(df, again)
    other = inflow_sample_paths("NL", start="2025-01", months=30, n_paths=20, seed=8)
    assert not np.allclose(df["applicants"], other["applicants"])


def test_paths_from_past_origin_and_far_future():
    past = inflow_sample_paths("NL", start="2016-01", months=12, n_paths=10, seed=0)
    assert past["month"].iloc[0] == "2016-01"
    far = inflow_sample_paths("NL", start="2027-01", months=6, n_paths=5, seed=0)
    assert far["month"].iloc[0] == "2027-01" and len(far) == 30
    with pytest.raises(DataError, match="fewer than 36 months"):
        inflow_sample_paths("NL", start="2009-06", months=6, n_paths=5, seed=0)
    with pytest.raises(ScenarioError):
        inflow_sample_paths("NL", start="2025-13", months=6, n_paths=5, seed=0)


def test_forecast_intervals_ordered_and_calibrated_paths():
    fc = forecast("NL", 24, n_paths=400, seed=1)
    t = fc.table
    assert (t["lo95"] <= t["lo80"]).all() and (t["lo80"] <= t["point"]).all()
    assert (t["point"] <= t["hi80"]).all() and (t["hi80"] <= t["hi95"]).all()
    # median of the paths close to the point forecast (the point is the median)
    med = fc.paths.groupby("month")["applicants"].median().to_numpy()
    assert np.median(np.abs(med / t["point"].to_numpy() - 1)) < 0.25


def test_error_library_reproduces():
    """The shipped error library equals a fresh backtest at one origin."""
    from ketenplan.forecast import models as fm
    from ketenplan.forecast.backtest import Panel, sigma_scale
    lib = api.error_library()
    p = Panel.load()
    T = list(p.months).index(pd.Period("2015-06", freq="M"))
    r = p.codes.index("NL")
    f = fm.forecast_origin(p.X, p.moy, T, 6, p.agg, models=("combo",), rows=[r])["combo"][r]
    x = p.X[r, :T + 1]
    u = (p.X[r, T + 1:T + 7] - f) / sigma_scale(x)
    ref = lib[(lib["geo"] == "NL") & (lib["origin"] == "2015-06")].sort_values("h")["u"].to_numpy()[:6]
    np.testing.assert_allclose(u, ref, atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(onset=st.integers(0, 30), size=st.floats(1.0, 8.0), duration=st.integers(1, 18),
       depth=st.floats(0, 1), shift=st.floats(-1, 2))
def test_generators_properties(onset, size, duration, depth, shift):
    base = np.full((3, 36), 1000.0)
    s = surge(base, onset, size=size, duration=duration, ramp_up=min(4, duration - 1))
    assert np.all(s >= base - 1e-9) and np.all(s[:, :onset] == base[:, :onset])
    assert np.max(s) <= 1000.0 * size + 1e-6
    d = dip(base, onset, depth=depth, duration=duration)
    assert np.all(d <= base + 1e-9) and np.all(d >= 0)
    ls = level_shift(base, onset, size=shift)
    assert np.all(ls >= 0) and np.allclose(ls[:, onset:], 1000.0 * (1 + shift))


def test_generators_on_paths_compose_and_split():
    df = inflow_sample_paths("NL", start="2025-01", months=24, n_paths=5, seed=0)
    out = surge(dip(df, "2025-03"), "2025-06")
    assert list(out.columns[:3]) == ["path", "month", "applicants"]
    peak = out[out["month"] == "2025-10"]["applicants"].to_numpy()
    dipped = dip(df, "2025-03")
    base = dipped[dipped["month"] == "2025-10"]["applicants"].to_numpy()
    assert np.allclose(base, df[df["month"] == "2025-10"]["applicants"].to_numpy() * (1 - param("dip_2020_depth")))
    np.testing.assert_allclose(peak, base * param("surge_2015_peak_factor"))
    assert out["surge_applicants"].ge(0).all()
    mix = surge_mix("NL")
    assert "SYR" in mix and mix["SYR"] == max(mix.values())
    long = by_nationality(out, {"SYR": 0.5, "ERI": 0.5}, mix)
    tot = long.groupby(["path", "month"])["applicants"].sum().sort_index()
    ref = out.set_index(["path", "month"])["applicants"].sort_index()
    np.testing.assert_allclose(tot.to_numpy(), ref.to_numpy())
    with pytest.raises(ScenarioError, match="sum to 1"):
        by_nationality(out, {"SYR": 0.7})
    with pytest.raises(ScenarioError, match="depth"):
        dip(df, "2025-01", depth=1.5)


def test_nareis_link_fit_and_validation():
    r = nareis_ratio()
    assert r == pytest.approx(param("nareis_per_positive_decision"), abs=5e-4)
    v = validation_table()
    val = v[v["period"] == "validation"]
    assert set(val["year"]) == {2020, 2021, 2022, 2023, 2024}
    # out of sample the link stays within a third of the actual figure every year
    assert val["error_pct"].abs().max() < 33
    s = nareis_from_positive_decisions(pd.Series({2023: 10000.0}))
    assert s.index.tolist() == [2024] and s.iloc[0] == pytest.approx(10000 * r)


def test_nl_annual_table_vs_official():
    t = api.nl_annual_table(n_paths=200)
    assert t["year"].min() == 2012 and t["year"].max() == 2024
    assert np.isfinite(t["forecast_eurostat"]).all()
    row16 = t.set_index("year").loc[2016]
    assert row16["actual_chain_total"] == 31642
    assert "93,600" in row16["official_forecasts"]
