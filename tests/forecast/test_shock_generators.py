"""What-if shock generators: one documented surge profile, surge persons that scale with every later
shock (as the chain engine's ``shocked_first`` does), and month counts / sizes checked, not truncated."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine.compile import TimeGrid, shocked_first
from ketenplan.errors import ScenarioError
from ketenplan.forecast import by_nationality, dip, inflow_sample_paths, level_shift, surge
from ketenplan.forecast.scenarios import param, surge_profile
from ketenplan.scenario.schema import Shock


@pytest.fixture(scope="module")
def paths():
    return inflow_sample_paths("NL", start="2025-01", months=24, n_paths=20, seed=11)


def factor_by_month(shocked: pd.DataFrame, base: pd.DataFrame) -> pd.Series:
    """The (path-independent) factor a generator applied, by month."""
    f = shocked["applicants"].to_numpy() / base["applicants"].to_numpy()
    per = pd.DataFrame({"month": base["month"], "f": f}).groupby("month")["f"]
    assert (per.max() - per.min()).max() < 1e-9  # deterministic factor, the same on every path
    return per.mean()


# --- 1. the surge profile -----------------------------------------------------------------------

@pytest.mark.parametrize("duration, ramp_up, expected", [
    (4, 0, [3, 2.5, 2, 1.5, 1, 1, 1, 1]),  # ramp_up 0: the onset month is the peak
    (1, 0, [3, 1, 1, 1, 1, 1, 1, 1]),  # a one-month surge does something
    (5, 4, [1.4, 1.8, 2.2, 2.6, 3, 1, 1, 1]),  # the peak is reached, then back at 1 at duration
    (8, 4, [1.4, 1.8, 2.2, 2.6, 3, 2.5, 2, 1.5]),
])
def test_surge_profile_rises_to_size_at_ramp_up_and_is_back_at_duration(duration, ramp_up, expected):
    got = surge(np.ones(8), 0, size=3, duration=duration, ramp_up=ramp_up)
    np.testing.assert_allclose(got, expected)
    # with a delayed onset the months before stay at 1 and the shape shifts
    late = surge(np.ones((2, 11)), 3, size=3, duration=duration, ramp_up=ramp_up)
    np.testing.assert_allclose(late[:, :3], 1.0)
    np.testing.assert_allclose(late[0, 3:], expected)
    np.testing.assert_allclose(surge_profile(np.arange(-3, 8), 3, duration, ramp_up), late[0])


@pytest.mark.parametrize("ramp", [0, 1, 3, 4, 6])
def test_surge_onset_month_uses_the_level_shift_convention(ramp):
    size = 2.0  # surge peak 2 x, level shift +100 %: the same rise
    s = surge(np.ones(12), 0, size=size, duration=ramp + 3, ramp_up=ramp)
    ls = level_shift(np.ones(12), 0, size=size - 1, ramp=ramp)
    np.testing.assert_allclose(s[: ramp + 1], ls[: ramp + 1])  # identical up to and including the peak
    assert s[0] == pytest.approx(1 + (size - 1) / (ramp + 1))
    assert s[ramp] == pytest.approx(size) and s.max() == pytest.approx(size)


@pytest.mark.parametrize("duration, ramp_up", [(4, 4), (3, 4), (1, 1)])
def test_surge_without_room_to_fall_back_is_rejected(duration, ramp_up):
    with pytest.raises(ScenarioError, match=r"duration.*ramp_up") as e:
        surge(np.ones(8), 0, size=3, duration=duration, ramp_up=ramp_up)
    assert f"found {duration}" in str(e.value)
    # the chain's scenario schema reaches the same check and names its own keys
    with pytest.raises(ValueError, match=r"duration_months.*ramp_months"):
        Shock(kind="surge", onset=dt.date(2026, 6, 1), size=3.0, duration_months=duration, ramp_months=ramp_up)


def test_default_surge_matches_the_documented_2015_surge(paths):
    """parameters.csv: onset June 2015, peak 4.96 x four months later (October), back at the
    baseline eight months after onset (February); the onset month has 1/5 of the rise."""
    out = surge(paths, "2025-06")
    f = factor_by_month(out, paths)
    peak = param("surge_2015_peak_factor")
    assert param("surge_2015_ramp_up_months") == 4 and param("surge_2015_duration_months") == 8
    assert f["2025-05"] == pytest.approx(1.0)
    assert f["2025-06"] == pytest.approx(1 + (peak - 1) / 5)
    assert f["2025-10"] == pytest.approx(peak) and f.idxmax() == "2025-10"
    assert f["2026-01"] > 1 and f["2026-02"] == pytest.approx(1.0)
    assert (f["2025-06":"2025-10"].diff().dropna() > 0).all()
    assert (f["2025-10":"2026-02"].diff().dropna() < 0).all()


def test_chain_shock_uses_the_same_surge_profile_as_the_python_api():
    shock = Shock(kind="surge", onset=dt.date(2026, 6, 1), group_shares={"syria": 1.0})  # defaults: NL 2015
    assert (shock.size, shock.duration_months, shock.ramp_months) == (4.96, 8, 4)
    offsets = np.arange(-3, 12)
    np.testing.assert_allclose(shock.factor(offsets), surge_profile(offsets, 4.96, 8, 4))
    np.testing.assert_allclose(shock.factor(offsets), surge(np.ones(15), 3))
    zero = Shock(kind="surge", onset=dt.date(2026, 6, 1), size=3.0, duration_months=2, ramp_months=0)
    np.testing.assert_allclose(zero.factor(np.arange(-1, 4)), [1, 3, 2, 1, 1])


# --- 2. surge persons scale with later shocks --------------------------------------------------

COMPOSITIONS = [
    ("dip 0.9", lambda d: dip(d, "2025-06", depth=0.9)),
    ("dip default", lambda d: dip(d, "2025-03")),
    ("cut", lambda d: level_shift(d, "2025-08", size=-0.6, ramp=2)),
    ("rise", lambda d: level_shift(d, "2025-04", size=0.5, ramp=3)),
    ("second surge", lambda d: surge(d, "2025-09", size=2.0, duration=3, ramp_up=1)),
]


@pytest.mark.parametrize("name, other", COMPOSITIONS, ids=[c[0] for c in COMPOSITIONS])
def test_surge_persons_never_exceed_applicants_and_split_is_order_independent(paths, name, other):
    a = other(surge(paths, "2025-06"))
    b = surge(other(paths), "2025-06")
    for c in (a, b):
        extra = c["surge_applicants"].to_numpy()
        assert (extra >= 0).all() and (c["applicants"].to_numpy() - extra >= 0).all(), name
        long = by_nationality(c, {"A": 1.0}, {"B": 1.0})
        assert long["applicants"].ge(0).all(), name
        wide = long.pivot_table(index=["path", "month"], columns="nationality", values="applicants")
        ref = c.set_index(["path", "month"]).sort_index()
        np.testing.assert_allclose(wide["B"].to_numpy(), ref["surge_applicants"].to_numpy())
        np.testing.assert_allclose(wide.sum(axis=1).to_numpy(), ref["applicants"].to_numpy())
    np.testing.assert_allclose(a["applicants"], b["applicants"], rtol=1e-12)
    np.testing.assert_allclose(a["surge_applicants"], b["surge_applicants"], rtol=1e-9, atol=1e-9)


def test_dip_after_surge_scales_the_surge_persons(paths):
    s = surge(paths, "2025-06")
    c = dip(s, "2025-06", depth=0.9)
    in_dip = c["month"].between("2025-06", "2026-05").to_numpy()
    extra, before = c["surge_applicants"].to_numpy(), s["surge_applicants"].to_numpy()
    np.testing.assert_allclose(extra[in_dip], 0.1 * before[in_dip])
    np.testing.assert_allclose(extra[~in_dip], before[~in_dip])
    long = by_nationality(c, {"A": 1.0}, {"B": 1.0})
    assert long["applicants"].min() >= 0


def test_split_mirrors_the_engine_shocked_first():
    """The Python API's surge part equals the engine's extra part of the same shocks."""
    grid = TimeGrid(day0=dt.date(2025, 1, 1), start=dt.date(2025, 1, 1), end=dt.date(2026, 12, 31))
    months = grid.months()
    base = np.linspace(1500.0, 2500.0, len(months))
    shocks = [Shock(kind="surge", onset=dt.date(2025, 6, 1), group_shares={"syria": 1.0}),
              Shock(kind="dip", onset=dt.date(2025, 6, 1), size=0.9),
              Shock(kind="level_shift", onset=dt.date(2025, 9, 1), size=0.3, ramp_months=2),
              Shock(kind="surge", onset=dt.date(2025, 11, 1), size=2.0, duration_months=3, ramp_months=1,
                    group_shares={"syria": 1.0})]
    parts = shocked_first(base, shocks, grid)
    engine_extra = sum(a for a, k in parts if k >= 0)
    df = pd.DataFrame({"path": 0, "month": months.astype(str), "applicants": base})
    df = surge(df, "2025-06")
    df = dip(df, "2025-06", depth=0.9)
    df = level_shift(df, "2025-09", size=0.3, ramp=2)
    df = surge(df, "2025-11", size=2.0, duration=3, ramp_up=1)
    np.testing.assert_allclose(df["applicants"], sum(a for a, _ in parts))
    np.testing.assert_allclose(df["surge_applicants"], engine_extra, atol=1e-9)


# --- 3. a surge is a rise -------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0.5, 0.0, -1.0, float("nan")])
def test_surge_below_one_is_rejected_with_a_hint_to_dip(paths, size):
    with pytest.raises(ScenarioError) as e:
        surge(paths, "2025-03", size=size)
    msg = str(e.value)
    assert "size" in msg and repr(size) in msg and ">= 1" in msg and "dip" in msg, msg
    with pytest.raises(ScenarioError, match="size"):
        surge(np.ones(6), 0, size=size)
    with pytest.raises(ValueError, match=r"size.*>= 1"):
        Shock(kind="surge", onset=dt.date(2026, 6, 1), size=size)


def test_surge_of_size_one_changes_nothing(paths):
    out = surge(paths, "2025-03", size=1.0)
    np.testing.assert_allclose(out["applicants"], paths["applicants"])
    assert (out["surge_applicants"] == 0).all()


# --- 4. month counts are whole numbers ------------------------------------------------------------

@pytest.mark.parametrize("call, name, value", [
    (lambda d: surge(d, 0, duration=2.7), "duration", "2.7"),
    (lambda d: surge(d, 0, ramp_up=1.9), "ramp_up", "1.9"),
    (lambda d: surge(d, 0, duration=True, ramp_up=0), "duration", "True"),
    (lambda d: surge(d, 0, ramp_up=True), "ramp_up", "True"),
    (lambda d: surge(d, 0, duration="8"), "duration", "'8'"),
    (lambda d: level_shift(d, 0, size=0.2, ramp=2.5), "ramp", "2.5"),
    (lambda d: level_shift(d, 0, size=0.2, ramp=True), "ramp", "True"),
    (lambda d: dip(d, 0, duration=2.7), "duration", "2.7"),
    (lambda d: dip(d, 0, duration=np.float64(6.5)), "duration", "6.5"),
])
def test_fractional_or_bool_month_counts_are_rejected(call, name, value):
    with pytest.raises(ScenarioError, match=rf"parameter {name}:.*whole number of months") as e:
        call(np.ones(12))
    assert value in str(e.value)


def test_whole_number_floats_and_numpy_ints_are_accepted():
    a = surge(np.ones(12), 0, size=3, duration=8.0, ramp_up=np.int64(4))
    b = surge(np.ones(12), 0, size=3, duration=8, ramp_up=4)
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(level_shift(np.ones(6), 0, 0.5, ramp=2.0), level_shift(np.ones(6), 0, 0.5, ramp=2))
    np.testing.assert_allclose(dip(np.ones(6), 0, 0.5, duration=np.int32(3)), [0.5, 0.5, 0.5, 1, 1, 1])


def test_dataframe_month_counts_are_checked_too(paths):
    with pytest.raises(ScenarioError, match="duration"):
        surge(paths, "2025-06", duration=2.7)
    with pytest.raises(ScenarioError, match="ramp"):
        level_shift(paths, "2025-06", size=-0.2, ramp=2.5)
