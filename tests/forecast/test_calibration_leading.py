"""Per-country interval calibration (development log C1-C4), the Frontex leading indicator (D7/D8),
the command's memory and origin checks, and the fan chart page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketenplan.forecast import backtest as bt
from ketenplan.forecast import forecast, inflow_sample_paths
from ketenplan.forecast.backtest import Panel


# --- calibration ---------------------------------------------------------------------------------

def _toy(C=6, J=40, H=3, seed=0, scales=None):
    """Standardised errors of C countries at J quarterly origins; country c has spread scales[c]."""
    rng = np.random.default_rng(seed)
    scales = np.ones(C) if scales is None else np.asarray(scales, float)
    U = rng.standard_normal((C, J, H)) * scales[:, None, None]
    orig_t = np.arange(J) * 3
    return U, orig_t


def test_pooled_calibration_is_the_pooled_empirical_quantile():
    U, ot = _toy()
    Q = bt._interval_quantiles(U, ot, "pooled")
    j, k = 30, 2
    pool = U[:, ot + k <= ot[j], k - 1].ravel()
    expected = bt.widen_long_horizons(np.quantile(pool, bt.QUANTILES)[None, :].repeat(3, 0))[k - 1]
    # steps 1..k never narrow: compare with the pooled quantile directly where it is the widest so far
    np.testing.assert_allclose(Q[:, j, 0], np.quantile(U[:, ot + 1 <= ot[j], 0].ravel(), bt.QUANTILES)[None, :]
                               .repeat(U.shape[0], 0))
    assert np.all(Q[:, j, k - 1, 2] >= expected[2] - 1e-12)
    assert np.allclose(Q[0, j], Q[1, j])  # the same for every country


def test_mixture_without_own_errors_is_pooled_and_with_many_is_the_countrys_own():
    rng = np.random.default_rng(1)
    block = np.vstack([rng.standard_normal(400), 5 * rng.standard_normal(400), np.full(400, np.nan)])
    q = bt._mixture_quantiles(block, n0=12)
    pooled = np.quantile(block[:2][np.isfinite(block[:2])], bt.QUANTILES)
    np.testing.assert_allclose(q[2], pooled, rtol=0.02, atol=0.05)  # no own errors: the pool
    own = np.quantile(block[1], bt.QUANTILES)
    np.testing.assert_allclose(q[1], own, rtol=0.1)  # 400 own errors against n0 = 12: nearly its own
    assert q[1, 2] > 3 * q[0, 2]


def test_aci_levels_follow_the_gibbs_candes_update():
    U_prev = np.array([[0.0, 5.0, 5.0, 0.0]])  # two inside, two outside the 80% and 95% intervals
    Q_prev = np.tile([-2.0, -1.0, 1.0, 2.0], (1, 4, 1))
    lv = bt.aci_levels(U_prev, Q_prev, gamma=0.05)
    a80 = 0.20 + 0.05 * (4 * 0.20 - 2)
    a95 = 0.05 + 0.05 * (4 * 0.05 - 2)
    lo95, hi95 = bt.ACI_CLIP[0]
    a95 = min(max(a95, lo95), hi95)
    np.testing.assert_allclose(lv[0], [a95 / 2, a80 / 2, 1 - a80 / 2, 1 - a95 / 2])
    none = bt.aci_levels(np.full((1, 3), np.nan), np.full((1, 3, 4), np.nan), 0.05)
    np.testing.assert_allclose(none[0], bt.QUANTILES)  # no known outcome: nominal levels


def test_calibration_uses_only_errors_known_at_the_origin():
    """Changing errors whose outcome lies after an origin must not change that origin's intervals."""
    U, ot = _toy(scales=[1, 1, 2, 2, 0.5, 0.5])
    j = 25
    for method in ("mixture", "scaled", "mixture_aci"):
        Q = bt._interval_quantiles(U, ot, method)
        V = U.copy()
        for k in range(1, U.shape[2] + 1):
            V[:, ot + k > ot[j], k - 1] *= 50.0
        Q2 = bt._interval_quantiles(V, ot, method)
        np.testing.assert_allclose(Q[:, :j + 1], Q2[:, :j + 1], err_msg=method)


def test_calibration_widens_a_volatile_country_and_narrows_a_calm_one():
    U, ot = _toy(C=8, J=60, scales=[3, 1, 1, 1, 1, 1, 1, 0.3], seed=4)
    Q = bt._interval_quantiles(U, ot, "mixture_aci")
    P = bt._interval_quantiles(U, ot, "pooled")
    j = 55
    w = Q[:, j, 0, 2] - Q[:, j, 0, 1]
    wp = P[:, j, 0, 2] - P[:, j, 0, 1]
    assert w[0] > 1.5 * wp[0] and w[7] < 0.6 * wp[7]
    # and the calibrated 80% intervals cover about 80% of each country's later outcomes
    inside = (U[:, 30:, 0] >= Q[:, 30:, 0, 1]) & (U[:, 30:, 0] <= Q[:, 30:, 0, 2])
    assert np.all(np.abs(inside.mean(axis=1) - 0.8) < 0.15), inside.mean(axis=1)


def test_unknown_calibration_is_refused():
    from ketenplan.errors import DataError, ScenarioError

    U, ot = _toy()
    with pytest.raises(DataError, match="calibration"):
        bt._interval_quantiles(U, ot, "magic")
    with pytest.raises(ScenarioError, match="calibration"):
        forecast("NL", 3, n_paths=2, calibration="magic")


def test_forecast_reproduces_the_backtest_interval_at_a_backtest_origin(small_backtest):
    """The forecast's calibrated interval at an origin of the backtest is the backtest's (same errors, same misses)."""
    fc = forecast("NL", 12, n_paths=5, origin="2017-03")
    assert fc.meta["interval_calibration"].startswith("per country")
    lib_q = fc.table[["lo80", "hi80"]].to_numpy()
    from ketenplan.forecast.api import country_quantiles

    Q = country_quantiles("NL", "2017-03")
    med_u = np.log1p(fc.table["point"].to_numpy())
    sig = fc.meta["sigma"]
    np.testing.assert_allclose(np.log1p(lib_q[:, 0]), med_u + sig * Q[:12, 1], rtol=1e-9)
    np.testing.assert_allclose(np.log1p(lib_q[:, 1]), med_u + sig * Q[:12, 2], rtol=1e-9)


def test_default_paths_are_the_calibrated_ones_and_seeded():
    a = inflow_sample_paths("NL", start="2025-01", months=12, n_paths=30, seed=5, origin="latest")
    b = inflow_sample_paths("NL", start="2025-01", months=12, n_paths=30, seed=5, origin="latest")
    c = inflow_sample_paths("NL", start="2025-01", months=12, n_paths=30, seed=5, origin="latest",
                            calibration="country")
    p = inflow_sample_paths("NL", start="2025-01", months=12, n_paths=30, seed=5, origin="latest",
                            calibration="pooled")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert list(a.columns) == ["path", "month", "applicants"]
    assert not np.allclose(a["applicants"], p["applicants"])


# --- leading indicator ---------------------------------------------------------------------------

def test_directed_detections_sum_to_the_detections():
    """Every detection is directed to exactly one country's share: summed over countries they are the total."""
    from ketenplan.forecast import leading as ld

    p = Panel.load()
    T = list(p.months).index(pd.Period("2015-09", freq="M"))
    d = ld.directed(p.months, p.codes, T)
    det = ld.detections()
    m = pd.Period("2015-08", freq="M")
    col = list(p.months).index(m)
    assert d[:, col].sum() == pytest.approx(det.loc[m].sum(), rel=1e-9)
    assert np.isnan(d[:, T]).all()  # published a month later: not known at the origin
    assert ld.share_year(pd.Period("2015-03", freq="M")) == 2013 and ld.share_year(pd.Period("2015-04", freq="M")) == 2014
    assert ld.share_year(pd.Period("2012-03", freq="M")) is None
    assert 2_000_000 > det.loc["2015"].to_numpy().sum() > 1_800_000  # 1.82 million detections in 2015


def test_leading_indicator_uses_only_data_known_at_the_origin(monkeypatch):
    """D7 must not change when applications after the origin are cut or detections after T - 1 are changed."""
    from ketenplan.forecast import leading as ld

    full, cut = Panel.load(), Panel.load(through="2014-06")
    T = list(full.months).index(pd.Period("2014-06", freq="M"))
    a = ld.frontex(full.X, full.moy, T, 12, full.agg, full.months, full.codes)
    b = ld.frontex(cut.X, cut.moy, T, 12, cut.agg, cut.months, cut.codes)
    assert np.isfinite(a[full.codes.index("NL")]).all()  # (Croatia has no 36 months yet: no forecast)
    np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True)
    det = ld.detections().copy()
    det.loc[det.index >= pd.Period("2014-06", freq="M")] *= 10.0
    monkeypatch.setattr(ld, "detections", lambda: det)
    c = ld.frontex(full.X, full.moy, T, 12, full.agg, full.months, full.codes)
    np.testing.assert_allclose(a, c, rtol=1e-9, equal_nan=True)
    det.loc[pd.Period("2014-05", freq="M")] *= 10.0  # the last published month does count
    d = ld.frontex(full.X, full.moy, T, 12, full.agg, full.months, full.codes)
    assert not np.allclose(a, d, equal_nan=True)


# --- command and page ----------------------------------------------------------------------------

def _app():
    from ketenplan.cli import app

    return app


@pytest.mark.parametrize("args, needle", [
    (["--paths", "1000000000000"], "--paths 1000000000000"),
    (["--origin", "2030-01"], "--origin 2030-01"),
    (["--origin", "13/2020"], "--origin '13/2020'"),
    (["--origin", "2009-01"], "--origin 2009-01"),
])
def test_refused_forecasts_leave_no_folder(tmp_path, args, needle):
    out = tmp_path / "new" / "out"
    res = CliRunner().invoke(_app(), ["forecast", *args, "--out", str(out)])
    assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output, res.output
    assert not out.exists() and not out.parent.exists()


def test_paths_memory_message_names_estimate_and_fit():
    from ketenplan.errors import ScenarioError
    from ketenplan.forecast.api import check_paths_memory

    with pytest.raises(ScenarioError) as e:
        check_paths_memory(10 ** 12, 24, "--paths")
    msg = str(e.value)
    assert "GB of memory" in msg and "at most" in msg and "paths fit" in msg and "--paths <=" in msg
    check_paths_memory(1000, 24, "--paths")  # an ordinary run passes


def test_fan_chart_tells_the_three_kinds_apart_and_follows_the_bands(tmp_path):
    from ketenplan.forecast.report import STYLE_BRIDGED, STYLE_FORECAST, STYLE_OBSERVED, chart_top, forecast_figure

    fc = forecast("NL", 24, n_paths=200, seed=0)
    fig = forecast_figure(fc)
    names = {tr.name: tr for tr in fig.data}
    obs = names["observed (Eurostat monthly)"]
    br = names["bridged (estimated from Eurostat yearly totals)"]
    med = names["forecast: median"]
    styles = {(tr.line.color, tr.line.dash) for tr in (obs, br, med)}
    assert len(styles) == 3  # three distinct line styles
    assert (STYLE_OBSERVED["color"], STYLE_BRIDGED["color"], STYLE_FORECAST["color"]) == (obs.line.color, br.line.color,
                                                                                        med.line.color)
    assert max(br.x) == "2024-12" and max(obs.x) == "2019-04"
    top = fig.layout.yaxis.range[1]
    assert top == pytest.approx(chart_top(fc))
    assert top >= fc.table["hi80"].iloc[:12].max() and top >= 10_120 and top < fc.paths["applicants"].max()
    CliRunner().invoke(_app(), ["forecast", "--paths", "200", "--out", str(tmp_path)])
    page = (tmp_path / "forecast.html").read_text()
    assert "<style>" in page and "bridged months" in page and "observed months" in page


def test_forecast_page_draws_in_a_real_browser(tmp_path):
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                   None)
    if browser is None:
        if os.environ.get("KETENPLAN_REQUIRE_BROWSER") == "1":
            pytest.fail("no browser found but KETENPLAN_REQUIRE_BROWSER=1")
        pytest.skip("no Chromium on this machine")
    res = CliRunner().invoke(_app(), ["forecast", "--paths", "100", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    page = tmp_path / "o" / "forecast.html"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = "\n".join(line for line in proc.stderr.splitlines() if ":CONSOLE" in line)
    assert len(re.findall(r'class="plotly-graph-div js-plotly-plot"', proc.stdout)) == 1
    assert "Uncaught" not in console and "Error" not in console, console


def test_log_mixture_equals_mixture_when_the_scale_never_changes():
    """C6 rescales a country's own errors by sigma(then) / sigma(now); with a constant scale it is C4."""
    U, ot = _toy(scales=[1, 1, 2, 2, 0.5, 0.5], J=30)
    sig = np.full(U.shape[:2], 0.3)
    a = bt._interval_quantiles(U, ot, "mixture_aci")
    b = bt._interval_quantiles(U, ot, "mixture_aci_log", sig=sig)
    np.testing.assert_allclose(a, b, equal_nan=True)
    sig2 = sig.copy()
    sig2[:, 20:] *= 3.0  # the scale triples: own errors weigh a third in today's units
    c = bt._interval_quantiles(U, ot, "mixture_aci_log", sig=sig2)
    assert np.nanmean(c[:, 25:, 0, 2] - c[:, 25:, 0, 1]) < np.nanmean(a[:, 25:, 0, 2] - a[:, 25:, 0, 1])
