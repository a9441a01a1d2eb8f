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
    # MASE and 80% coverage, each at step h and over the path 1..h, at h = 6 and 12
    bar_part, country_part = page.split("<h2>Coverage by country")
    assert "The bar" in bar_part and bar_part.count("met</span>") == 8
    # the Dutch bar, at step h and over the path, at 6 and 12 months
    assert country_part.count("met</span>") == 4
    assert f"{v[1]['step']:.3f}" in page
    for r in v:
        assert r["cov80_path"] == m.loc[("combo", r["h"]), "coverage80_path"]
        assert r["cov_path_ok"] == (0.75 <= r["cov80_path"] <= 0.85)
        assert f"{r['cov80_path']:.2f} <span" in page
    from ketenplan.forecast.report import country_coverage

    cc = country_coverage(small_backtest.metrics_by_country)
    b = small_backtest.metrics_by_country.set_index(["model", "geo", "h"])
    for h in cc["steps"]:
        inside = [0.70 <= b.loc[("combo", g, h), "coverage80_path"] <= 0.90 for g in ("NL", "DE", "SE")]
        assert cc["within_path"][h] == sum(inside)
    assert "over the path 1..12" in page
    nl = {c["h"]: c for c in cc["nl"]}
    assert nl[12]["cov_path"] == b.loc[("combo", "NL", 12), "coverage80_path"]
    assert nl[12]["ok"] == (0.75 <= nl[12]["cov"] <= 0.85)


def _toy_forecasts() -> pd.DataFrame:
    """A hand-made backtest output: point 100, 80% interval 90-110, 95% interval 80-120 at every step.

    A: two origins, steps 1-3 all known; B: one origin whose step 3 is not yet known; C: one origin
    whose step 2 has no interval.
    """
    rows = [("A", "2013-03", [100, 115, 130]), ("A", "2013-06", [105, 95, 85]),
            ("B", "2013-03", [89, 150, np.nan]), ("C", "2013-03", [100, 100, 100])]
    recs = []
    for geo, origin, actuals in rows:
        for h, a in enumerate(actuals, start=1):
            recs.append({"model": "combo", "geo": geo, "origin": origin, "h": h, "actual": a, "point": 100.0,
                         "lo95": 80.0, "lo80": 90.0, "hi80": 110.0, "hi95": 120.0, "scale": 10.0})
    fc = pd.DataFrame(recs)
    fc.loc[(fc["geo"] == "C") & (fc["h"] == 2), ["lo95", "lo80", "hi80", "hi95"]] = np.nan
    return fc


def test_path_coverage_against_a_hand_computation():
    from ketenplan.forecast.backtest import _score

    metrics, by_country = _score(_toy_forecasts(), [1, 2, 3], "2012-12")
    m = metrics.set_index("h")
    # step coverage (unchanged reading): h = 1 A, A, C inside and B (89) outside the 80% interval
    assert m.loc[1, "coverage80"] == pytest.approx(3 / 4)
    assert m.loc[2, "coverage80"] == pytest.approx(1 / 3)  # A1 115 out, A2 95 in, B 150 out; C no interval
    assert m.loc[3, "coverage80"] == pytest.approx(1 / 3)  # A1 130 and A2 85 out, C in; B unknown
    # over the path 1..h: per row the share of steps 1..h inside, then the mean over complete rows
    assert m.loc[1, "coverage80_path"] == pytest.approx(m.loc[1, "coverage80"])
    assert m.loc[2, "coverage80_path"] == pytest.approx((1 / 2 + 2 / 2 + 0 / 2) / 3)  # A1, A2, B; C lacks step 2's interval
    assert m.loc[3, "coverage80_path"] == pytest.approx((1 / 3 + 2 / 3) / 2)  # A1, A2; B lacks step 3
    assert m.loc[2, "coverage95_path"] == pytest.approx((2 / 2 + 2 / 2 + 1 / 2) / 3)
    assert m.loc[3, "coverage95_path"] == pytest.approx((2 / 3 + 3 / 3) / 2)
    assert m.loc[[1, 2, 3], "n_path_interval"].tolist() == [4, 3, 2]
    # the path MASE beside it counts C (its errors are known), unlike the path coverage
    assert m.loc[2, "mase_path"] == pytest.approx(np.mean([(0 + 1.5) / 2, (0.5 + 0.5) / 2, (1.1 + 5) / 2, 0]))
    b = by_country.set_index(["geo", "h"])
    assert b.loc[("A", 3), "coverage80_path"] == pytest.approx(1 / 2)
    assert b.loc[("A", 3), "coverage95_path"] == pytest.approx(5 / 6)
    assert b.loc[("B", 2), "coverage80_path"] == pytest.approx(0.0)
    assert np.isnan(b.loc[("C", 2), "coverage80_path"]) and b.loc[("C", 2), "n_path"] == 0
    assert b.loc[("C", 1), "coverage80_path"] == pytest.approx(1.0)
    assert ("B", 3) not in b.index  # no known outcome at step 3


def test_path_coverage_on_the_small_backtest(small_backtest):
    m = small_backtest.metrics.set_index(["model", "h"])
    # at h = 1 the path is the step
    np.testing.assert_allclose(m.xs(1, level="h")["coverage80_path"], m.xs(1, level="h")["coverage80"])
    np.testing.assert_allclose(m.xs(1, level="h")["coverage95_path"], m.xs(1, level="h")["coverage95"])
    # at h = 6: recomputed from the forecast rows, per (country, origin) with all six steps known
    fc = small_backtest.forecasts
    ev = fc[(fc["origin"] >= small_backtest.settings["first_eval"]) & (fc["model"] == "combo") & (fc["h"] <= 6)
            & fc["actual"].notna() & fc["lo80"].notna()]
    inside = ev.assign(i=(ev["actual"] >= ev["lo80"]) & (ev["actual"] <= ev["hi80"]))
    per_row = inside.groupby(["geo", "origin"]).filter(lambda d: len(d) == 6).groupby(["geo", "origin"])["i"].mean()
    assert m.loc[("combo", 6), "coverage80_path"] == pytest.approx(per_row.mean())
    assert m.loc[("combo", 6), "n_path_interval"] == len(per_row)
    b = small_backtest.metrics_by_country.set_index(["model", "geo", "h"])
    assert b.loc[("combo", "NL", 6), "coverage80_path"] == pytest.approx(per_row.loc["NL"].mean())
