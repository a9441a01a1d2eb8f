"""Model error of the replay (ketenplan.model_error): bands, coverage and the scale's posterior on toys
whose answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from ketenplan import model_error as me

Z80 = norm.ppf(0.9)  # 1.2816: the 80% central band of a normal


def test_band_of_one_lognormal_is_the_closed_form():
    for s in (0.05, 0.3, 1.0):
        assert me.band([100.0] * 5, s, 0.1) == pytest.approx(100 * np.exp(-Z80 * s), rel=1e-5)
        assert me.band([100.0] * 5, s, 0.9) == pytest.approx(100 * np.exp(Z80 * s), rel=1e-5)


def test_band_without_model_error_is_the_plain_quantile():
    v = np.array([3.0, 10.0, 7.0, 12.0])
    assert me.band(v, np.zeros(4), 0.1) == pytest.approx(np.quantile(v, 0.1))
    assert me.band(v, 0.0, 0.9) == pytest.approx(np.quantile(v, 0.9))


def test_band_with_a_bias_is_shifted():
    assert me.band([100.0] * 3, 0.2, 0.5, bias=0.3) == pytest.approx(100 * np.exp(0.3), rel=1e-5)


def test_band_of_a_mixture_solves_the_mixture_cdf():
    v, s = np.array([80.0, 120.0, 200.0]), np.array([0.1, 0.4, 0.2])
    for q in (0.1, 0.5, 0.9):
        x = me.band(v, s, q)
        assert np.mean(norm.cdf((np.log(x) - np.log(v)) / s)) == pytest.approx(q, abs=1e-5)


def test_a_known_scale_gives_the_known_coverage():
    rng = np.random.default_rng(7)
    s0 = 0.25
    obs = 1000 * np.exp(rng.normal(0, s0, 40_000))
    assert me.coverage(obs, 1000, s0) == pytest.approx(0.80, abs=0.01)
    # a band half as wide covers 2 Phi(1.2816 / 2) - 1 = 47.8%
    assert me.coverage(obs, 1000, s0 / 2) == pytest.approx(2 * norm.cdf(Z80 / 2) - 1, abs=0.01)


def test_the_scale_is_recovered_from_residuals():
    rng = np.random.default_rng(11)
    r = rng.normal(0, 0.3, 400)
    med = me.posterior_sd_quantile(r, 0.5)
    lo, hi = me.posterior_sd_quantile(r, [0.025, 0.975])
    assert med == pytest.approx(0.3, rel=0.08)
    assert lo < 0.3 < hi and hi / lo < 1.4  # 400 residuals pin s to about +-7%


def test_one_residual_leaves_the_scale_wide():
    lo, hi = me.posterior_sd_quantile(np.array([0.2]), [0.1, 0.9])
    assert hi / lo > 5  # not identified by one fact


def test_marginal_likelihood_matches_quadrature():
    """p(r) = integral over the bias (normal prior) and the scale (log-uniform prior), by brute force."""
    r = np.array([0.1, -0.3, 0.2])
    ls = np.linspace(np.log(me.SD_PRIOR[0]), np.log(me.SD_PRIOR[1]), 4001)
    b = np.linspace(-3, 3, 3001)
    s = np.exp(ls)
    like = np.prod(norm.pdf(r[:, None, None], loc=b[None, None, :], scale=s[None, :, None]), axis=0)
    over_b = np.trapezoid(like * norm.pdf(b, scale=me.TAU_B)[None, :], b, axis=1)
    ref = np.trapezoid(over_b, ls) / (ls[-1] - ls[0])
    assert np.exp(me.log_marginal_likelihood(r)) == pytest.approx(ref, rel=0.01)


def test_a_systematic_error_is_read_as_the_bias_and_the_band_covers_80_percent():
    rng = np.random.default_rng(5)
    r = 0.3 + rng.normal(0, 0.1, 60)  # the simulator 26% low, scattered by 10%
    s = me.posterior_sd_quantile(r, 0.5)
    m, v = me.bias_posterior(r, s)
    assert s == pytest.approx(0.1, rel=0.15) and m == pytest.approx(0.3, abs=0.03)
    new = 0.3 + rng.normal(0, 0.1, 20_000)  # facts the calibration did not see
    sd = np.sqrt(s ** 2 + v)
    # the known coverage of that band: P(|N(0.3 - m, 0.1^2)| <= 1.2816 sd), near 80% as s and m are near
    known = norm.cdf((Z80 * sd - (0.3 - m)) / 0.1) - norm.cdf((-Z80 * sd - (0.3 - m)) / 0.1)
    assert me.coverage(np.exp(new), 1.0, sd, bias=m) == pytest.approx(known, abs=0.01)
    assert known == pytest.approx(0.8, abs=0.06)
    # without the bias the same scale covers far fewer of them
    assert me.coverage(np.exp(new), 1.0, np.sqrt(s ** 2 + v)) < 0.2


def test_calibrate_weights_the_draw_that_fits_and_gives_every_set_a_scale():
    facts = pd.DataFrame({"date": ["2015", "2016", "2017", "2016"],
                          "quantity": ["coa_occupancy"] * 3 + ["departures_forced"],
                          "value": [100.0, 200.0, 150.0, 50.0]})
    good = {"sim:coa_occupancy@2015": 105.0, "sim:coa_occupancy@2016": 190.0, "sim:coa_occupancy@2017": 160.0}
    bad = {k: v * f for (k, v), f in zip(good.items(), (2.0, 0.5, 1.5))}  # a wrong shape, not a level
    draws = pd.DataFrame([{"theta": 1.0, **good, "sim:departures_forced@2016": 20.0},
                          {"theta": 2.0, **bad, "sim:departures_forced@2016": 50.0}])
    kept, summary = me.calibrate(draws, facts, ["coa_occupancy"], 10, np.random.default_rng(3))
    assert (kept.theta == 1.0).all() and kept.weight.iloc[0] > 0.99
    assert {"model_error_sd:coa_occupancy", "model_error_sd:departures_forced",
            "model_error_bias:coa_occupancy"} <= set(kept.columns)
    assert (kept["model_error_sd:coa_occupancy"] >= me.SD_PRIOR[0]).all()
    # the good draw is 0-7% off: its bias is near 0 (shrunk toward the prior mean)
    assert kept["model_error_bias:coa_occupancy"].abs().max() < 0.1
    s = summary.set_index("group")
    assert s.loc["coa_occupancy", "informs_parameters"] and not s.loc["departures_forced", "informs_parameters"]
    # departures do not weigh the parameters: the bad draw fits them exactly, yet gets no weight
    assert s.loc["coa_occupancy", "sd_p50"] < s.loc["departures_forced", "sd_p50"]


def test_a_level_error_weighs_the_parameters_but_the_bias_then_absorbs_it():
    """Weights hold the bias at 0, so a draw off by a constant factor loses (the parameters carry the
    level; a free bias would make it nearly as likely: it is confounded with such a parameter)."""
    facts = pd.DataFrame({"date": ["2015", "2016", "2017"], "quantity": ["coa_occupancy"] * 3,
                          "value": [100.0, 200.0, 150.0]})
    good = {"sim:coa_occupancy@2015": 105.0, "sim:coa_occupancy@2016": 190.0, "sim:coa_occupancy@2017": 160.0}
    level = {k: v * 1.5 for k, v in good.items()}
    draws = pd.DataFrame([{"theta": 1.0, **good}, {"theta": 2.0, **level}])
    kept, _ = me.calibrate(draws, facts, ["coa_occupancy"], 100, np.random.default_rng(3))
    assert (kept.theta == 1.0).mean() > 0.95
    lml_free = [me.log_marginal_likelihood(me.log_residuals(list(d.values()), facts.value)) for d in (good, level)]
    assert abs(lml_free[0] - lml_free[1]) < 1.5  # with a free bias the two fit nearly alike
    # given the level draw, its bias is inferred near log(1 / 1.5)
    m, _ = me.bias_posterior(me.log_residuals(list(level.values()), facts.value), 0.05)
    assert m == pytest.approx(np.log(1 / 1.5), abs=0.05)
