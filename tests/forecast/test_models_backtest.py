import numpy as np
import pandas as pd
import pytest

from ketenplan.errors import DataError
from ketenplan.forecast import models as fm
from ketenplan.forecast.backtest import Panel, run_backtest


def test_snaive_and_naive_exact():
    x = np.arange(36.0)
    assert fm.snaive(x, 13).tolist() == list(np.r_[x[24:36], x[24]])
    assert fm.naive(x, 3).tolist() == [35.0, 35.0, 35.0]


def test_single_models_finite_on_real_series_with_zeros():
    p = Panel.load()
    li = p.X[p.codes.index("LI")]  # Liechtenstein: small counts, many zeros
    for name in fm.SINGLE_MODELS:
        out = fm.single(name, li[~np.isnan(li)], 24)
        assert out.shape == (24,) and np.all(np.isfinite(out))


def test_backtest_uses_only_past_data():
    """Forecasts at an origin must not change when later data are removed."""
    full = Panel.load()
    cut = Panel.load(through="2014-06")
    T = list(full.months).index(pd.Period("2014-06", freq="M"))
    a = fm.forecast_origin(full.X, full.moy, T, 6, full.agg, rows=[full.codes.index("NL")])
    b = fm.forecast_origin(cut.X, cut.moy, T, 6, cut.agg, rows=[cut.codes.index("NL")])
    for name in fm.MODELS:
        np.testing.assert_allclose(a[name][full.codes.index("NL")], b[name][cut.codes.index("NL")], rtol=1e-9)


def test_small_backtest_scores(small_backtest):
    m = small_backtest.metrics.set_index(["model", "h"])
    assert set(m.index.get_level_values("model")) == set(fm.MODELS)
    assert np.isfinite(m["mase"]).all() and (m["n"] > 0).all()
    # at h=12 seasonal naive and random walk are the same forecast
    assert m.loc[("snaive", 12), "mase"] == pytest.approx(m.loc[("naive", 12), "mase"])
    # intervals are neither empty nor trivially wide
    cov = m.loc[("combo", 6), "coverage80"]
    assert 0.6 <= cov <= 0.95
    assert (m["coverage95"] >= m["coverage80"]).all()
    # the combination beats seasonal naive one month ahead on these countries
    assert small_backtest.ratio("combo", 1) < 0.8
    fc = small_backtest.forecasts
    ev = fc[fc["actual"].notna() & fc["lo95"].notna()]
    assert (m["n_interval"] > 0.8 * m["n"]).all()
    assert (ev["lo95"] <= ev["lo80"] + 1e-9).all() and (ev["hi80"] <= ev["hi95"] + 1e-9).all()
    assert not fc["point"].isna().any()
    # the path MASE (M4 convention) at step 1 is the step-1 MASE; later it is the mean over steps 1..h
    assert m.loc[("combo", 1), "mase_path"] == pytest.approx(m.loc[("combo", 1), "mase"])
    assert m.loc[("snaive", 6), "mase_path_ratio_snaive"] == pytest.approx(1.0)
    ev = fc[(fc["origin"] >= small_backtest.settings["first_eval"]) & fc["actual"].notna()]
    one = ev[(ev["model"] == "combo")].groupby(["geo", "origin"])
    full6 = one.filter(lambda d: set(range(1, 7)) <= set(d["h"]))
    by = full6[full6["h"] <= 6].assign(ase=lambda d: (d["actual"] - d["point"]).abs() / d["scale"])
    expected = by.groupby(["geo", "origin"])["ase"].mean().mean()
    assert m.loc[("combo", 6), "mase_path"] == pytest.approx(expected)


def test_backtest_bad_arguments():
    with pytest.raises(DataError, match="horizons"):
        run_backtest(["NL"], horizons=(0, 30), n_jobs=1)
    with pytest.raises(DataError, match="unknown"):
        run_backtest(["NL"], models=("magic",), n_jobs=1)


def test_long_horizon_intervals_never_narrow():
    from ketenplan.forecast.backtest import widen_long_horizons

    H = 24
    k = np.arange(1, H + 1)
    Q = np.stack([-2 * np.ones(H), -1 * np.ones(H), np.ones(H), 2 * np.ones(H)], axis=1)
    Q[5] = [-3, -1.5, 1.5, 3]  # a wide step 6 carries over to later steps
    W = widen_long_horizons(Q)
    assert (np.diff(W[:, 2]) >= 0).all() and (np.diff(W[:, 1]) <= 0).all()
    np.testing.assert_allclose(W[:5], Q[:5])
    np.testing.assert_allclose(W[11, 2], 1.5)
    flat = widen_long_horizons(np.tile([-2.0, -1.0, 1.0, 2.0], (H, 1)))
    np.testing.assert_allclose(flat[:12, 2], 1.0)
    np.testing.assert_allclose(flat[:, 2], np.maximum(1.0, np.sqrt(k / 12)))  # random-walk growth after a year
    assert np.isnan(widen_long_horizons(np.full((H, 4), np.nan))).all()


def test_development_candidates_use_only_past_data():
    """The log's feasible candidates must not see data after the origin; the oracle must."""
    from ketenplan.forecast import development as dv

    full, cut = Panel.load(), Panel.load(through="2014-06")
    T = list(full.months).index(pd.Period("2014-06", freq="M"))
    for f in (dv.pooledlr, dv.rwdrift, dv.meanrev):
        a, b = f(full.X, full.moy, T, 12, full.agg), f(cut.X, cut.moy, T, 12, cut.agg)
        assert np.isfinite(a).any()
        np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True)
    a, b = dv.oracle_eu(full.X, full.moy, T, 12, full.agg), dv.oracle_eu(cut.X, cut.moy, T, 12, cut.agg)
    assert not np.allclose(a, b, equal_nan=True)


def test_backtest_page_states_the_bar_from_the_metrics(small_backtest, tmp_path):
    from ketenplan.forecast.report import BAR_RATIO, bar_verdict, write_backtest

    v = bar_verdict(small_backtest.metrics)
    assert [r["h"] for r in v] == [6, 12]  # the bar's steps that were scored
    m = small_backtest.metrics.set_index(["model", "h"])
    for r in v:
        assert r["step"] == m.loc[("combo", r["h"]), "mase_ratio_snaive"]
        assert r["step_ok"] == (r["step"] <= BAR_RATIO) and r["path_ok"] == (r["path"] <= BAR_RATIO)
        assert r["best"] not in ("snaive", "naive") and r["best_step"] <= r["step"]
    write_backtest(small_backtest, tmp_path)
    page = (tmp_path / "backtest.html").read_text()
    assert "The bar" in page and page.count("met</span>") == 6  # step, path and coverage at h = 6 and 12
    assert f"{v[1]['step']:.3f}" in page
