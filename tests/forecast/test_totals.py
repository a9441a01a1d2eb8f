"""Calibrated h-month totals of the sample paths (P3.8, P0.5): coverage, reconciliation, no look-ahead."""

import numpy as np
import pandas as pd
import pytest

from ketenplan.forecast import api
from ketenplan.forecast import backtest as bt
from ketenplan.forecast import models as fm
from ketenplan.forecast import totals as ft
from ketenplan.forecast import totals_backtest as ftb


# --------------------------------------------------------------------------- coverage computation
def _toy_rows():
    """Ten hand-made (country, origin) totals: A inside 4 of 5, B inside 2 of 5 (p10-p90)."""
    rows = []
    # country A: actual 100 against p10-p90 of 80-120, except one at 130
    for k, a in enumerate([100, 90, 110, 130, 85]):
        rows.append({"geo": "A", "origin": f"2013-{3 * k + 3:02d}", "h": 12, "actual": a, "point": 100.0,
                     "p05": 70.0, "p10": 80.0, "p50": 100.0, "p90": 120.0, "p95": 135.0, "prev12": 50.0,
                     "in80": 80 <= a <= 120, "in90": 70 <= a <= 135, "path_cov80": 0.5})
    for k, a in enumerate([10, 40, 15, 5, 60]):
        rows.append({"geo": "B", "origin": f"2013-{3 * k + 3:02d}", "h": 12, "actual": a, "point": 20.0,
                     "p05": 8.0, "p10": 12.0, "p50": 20.0, "p90": 30.0, "p95": 45.0, "prev12": 10.0,
                     "in80": 12 <= a <= 30, "in90": 8 <= a <= 45, "path_cov80": 1.0})
    return pd.DataFrame(rows)


def test_summary_counts_toy_backtest():
    s = ftb.totals_summary(_toy_rows()).set_index(["geo", "h"])
    assert s.loc[("A", 12), "inside80"] == 4 and s.loc[("B", 12), "inside80"] == 1
    assert s.loc[("all", 12), "inside80"] == 5 and s.loc[("all", 12), "n"] == 10
    assert s.loc[("all", 12), "coverage80"] == pytest.approx(0.5)
    # p5-p95: A inside 5 of 5 (130 <= 135), B: 10, 40, 15 inside, 5 and 60 outside
    assert s.loc[("all", 12), "coverage90"] == pytest.approx(0.8)
    # widths (p90 - p10) / point: A 0.4, B 0.9 -> median over ten rows 0.65
    assert s.loc[("all", 12), "width80_rel"] == pytest.approx(0.65)
    assert s.loc[("A", 12), "p90_prev12"] == pytest.approx(2.4)
    assert s.loc[("all", 12), "p90_prev12_max"] == pytest.approx(3.0)
    assert s.loc[("all", 12), "countries_in_band"] == 1  # A: 0.8 inside 70-90%; B: 0.2 not
    assert s.loc[("all", 12), "path_cov80"] == pytest.approx(0.75)


def _paths(n=4000, H=24, seed=3):
    """Lognormal paths with a persistent level (months move together) and monthly noise."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 0.8, size=(n, 1))
    noise = rng.normal(0, 0.3, size=(n, H))
    base = np.log1p(np.full(H, 2000.0) * (1 + 0.3 * np.sin(np.arange(H))))
    return fm.from_log(base[None, :] + level + noise), base


def _target(H=24):
    q = np.zeros((H, 5))
    for k in range(H):
        w = 0.1 + 0.02 * k
        q[k] = [-2.2 * w, -1.3 * w, 0.05, 1.2 * w, 2.0 * w]
    return q


def test_reconciled_totals_take_the_calibrated_quantiles():
    Y, base = _paths()
    q = _target()
    out = ft.reconcile_totals(Y, base, q)
    for a in (12, 24):
        P = np.log1p(fm.from_log(base[:a]).sum())
        got = np.log1p(out[:, :a].sum(axis=1)) - P
        # the empirical quantiles at the five levels are the targets (log units)
        np.testing.assert_allclose(np.quantile(got, ft.LEVELS), q[a - 1], atol=2e-3)
    # the raw paths were far wider: the check above is not met by doing nothing
    raw = np.log1p(Y[:, :12].sum(axis=1)) - np.log1p(fm.from_log(base[:12]).sum())
    assert abs(np.quantile(raw, 0.9) - q[11, 3]) > 0.2


def test_reconciliation_keeps_ranks_and_monthly_shape():
    Y, base = _paths(n=500)
    out = ft.reconcile_totals(Y, base, _target())
    f1 = out[:, :12] / Y[:, :12]
    np.testing.assert_allclose(f1, f1[:, :1] * np.ones((1, 12)), rtol=1e-12)  # one factor per path in year 1
    # year 2: the log factor moves linearly from year 1's, in equal steps (no jump at the boundary)
    g = np.log(out[:, 11:] / Y[:, 11:])
    steps = np.diff(g, axis=1)
    np.testing.assert_allclose(steps, steps[:, :1] * np.ones((1, 12)), atol=1e-9)
    assert out.shape == Y.shape
    own, new = Y[:, :12].sum(axis=1), out[:, :12].sum(axis=1)
    assert (np.argsort(own, kind="stable") == np.argsort(new, kind="stable")).all()


def test_reconciliation_shorter_and_longer_horizons():
    Y, base = _paths(n=2000, H=36)
    q = _target()
    out = ft.reconcile_totals(Y, base, q)
    f = out[:, 23:] / Y[:, 23:]
    np.testing.assert_allclose(f, f[:, :1] * np.ones((1, 13)), rtol=1e-9)  # months > 24 keep month 24's factor
    short = ft.reconcile_totals(Y[:, :6], base[:6], q)  # a 6-month forecast: its own 6-month total
    got = np.log1p(short.sum(axis=1)) - np.log1p(fm.from_log(base[:6]).sum())
    np.testing.assert_allclose(np.quantile(got, ft.LEVELS), q[5], atol=3e-3)
    one = ft.reconcile_totals(Y[:1], base, q)
    np.testing.assert_array_equal(one, Y[:1])


def test_no_jump_at_the_year_boundary():
    """Month 13 over month 12 moves like neighbouring months do (a block factor made it jump)."""
    Y, base = _paths(n=2000)
    Y[:, 18:] *= np.exp(np.random.default_rng(5).normal(0, 1.5, size=(2000, 1)))  # year-2 blow-ups to undo
    out = ft.reconcile_totals(Y, base, _target())
    jump = np.median(np.abs(np.log(out[:, 12] / out[:, 11])))
    raw = np.median(np.abs(np.log(Y[:, 12] / Y[:, 11])))
    assert jump < 1.3 * raw


def test_cap_is_kept():
    Y, base = _paths(n=1000)
    out = ft.reconcile_totals(Y, base, _target() + 3.0, cap=50_000.0)
    assert out.max() <= 50_000.0


# --------------------------------------------------------------------------- no look-ahead
def test_calibration_uses_no_window_ending_after_the_origin():
    lib = api.error_library()
    p = bt.Panel.load()
    origin = pd.Period("2015-12", freq="M")
    base = ft._library_from_errors(lib, p)
    a = ft.quantiles_from_library(base, origin.ordinal, bt.CALIBRATION, "sigma")
    # change errors of windows that end after the origin (origin 2015-09, steps 4..24; 2016-03, all)
    changed = lib.copy()
    late = ((changed["origin"] == "2015-09") & (changed["h"] >= 4)) | (changed["origin"] == "2016-03")
    changed.loc[late, "u"] = changed.loc[late, "u"] + 5.0
    b = ft.quantiles_from_library(ft._library_from_errors(changed, p), origin.ordinal, bt.CALIBRATION, "sigma")
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    # a window that ended by the origin does change it (origin 2014-12, the 12-month total)
    early = changed.copy()
    e = (early["origin"] == "2014-12") & (early["geo"] == "NL")
    early.loc[e, "u"] = early.loc[e, "u"] + 5.0
    c = ft.quantiles_from_library(ft._library_from_errors(early, p), origin.ordinal, bt.CALIBRATION, "sigma")
    assert not np.allclose(a[1], c[1], equal_nan=True)


def test_totals_library_recovers_the_point_forecast():
    """The point forecast recovered from the library equals a fresh fit of the combination."""
    lib = ft.totals_library()
    p = bt.Panel.load()
    T = list(p.months).index(pd.Period("2016-06", freq="M"))
    r = p.codes.index("NL")
    f = fm.forecast_origin(p.X, p.moy, T, 12, p.agg, models=("combo",), rows=[r])["combo"][r]
    i, j = lib.codes.index("NL"), lib.origins.index("2016-06")
    np.testing.assert_allclose(lib.point[i, j, :12], f, atol=1e-4)


# --------------------------------------------------------------------------- forecast and backtest
def test_forecast_paths_reconciled_and_monthly_table_unchanged():
    fc = api.forecast("NL", 12, n_paths=2000, seed=4, origin="2016-12")
    raw = api.forecast("NL", 12, n_paths=2000, seed=4, origin="2016-12", reconcile=False)
    pd.testing.assert_frame_equal(fc.table, raw.table)  # the monthly intervals do not depend on it
    q, basis = ft.total_quantiles("NL", "2016-12", fc.meta["sigma"])
    assert basis == "country"
    P = np.log1p(fc.table["point"].sum())
    tot = fc.paths.groupby("path")["applicants"].sum().to_numpy()
    np.testing.assert_allclose(np.quantile(np.log1p(tot) - P, ft.LEVELS), q[11], atol=5e-3)
    assert "reconciled" in fc.meta["total_calibration"]


def test_paths_do_not_depend_on_the_horizon():
    """A month's path is the same in a 6-, 12-, 20- and 36-month forecast (same seed): the paths are
    reconciled over whole blocks and then cut."""
    long = api.forecast("NL", 36, n_paths=300, seed=2).paths
    for h in (6, 12, 20):
        short = api.forecast("NL", h, n_paths=300, seed=2).paths
        ref = long[long["month"].isin(short["month"].unique())].reset_index(drop=True)
        np.testing.assert_allclose(short["applicants"].to_numpy(), ref["applicants"].to_numpy(), rtol=1e-9)
    raw6 = api.forecast("NL", 6, n_paths=300, seed=2, reconcile=False).paths
    assert not np.allclose(raw6["applicants"], long[long["month"].isin(raw6["month"].unique())]["applicants"])


@pytest.mark.slow
def test_totals_backtest_nl_reproduces_uncalibrated_figure():
    """The uncalibrated Dutch paths covered 16 of 22 actual 12-month totals (docs/forecast.md)."""
    rows = ftb.totals_backtest(["NL"], (12,), reconcile=False)
    assert len(rows) == 22 and int(rows["in80"].sum()) == 16
    # the backtest draws the same paths forecast() draws at that origin
    fc = api.forecast("NL", 12, n_paths=1000, seed=0, origin="2016-12", reconcile=False)
    tot = fc.paths.groupby("path")["applicants"].sum()
    row = rows[rows["origin"] == "2016-12"].iloc[0]
    assert row["p90"] == pytest.approx(tot.quantile(0.9), rel=1e-6)
