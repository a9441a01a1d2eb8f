"""The fits behind the defaults (P6.3, P6.4): re-fit on data observed up to 2019, check the
shipped defaults equal the fit, and check the error on the held-back published figures against
the tolerances stated in docs/integration.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketenplan.errors import DataError
from ketenplan.integration import CivicIntegration, Employment
from ketenplan.integration.curves import lognormal_cdf
from ketenplan.integration.fit import fit_all, fit_employment, load_table


@pytest.fixture(scope="module")
def fit():
    return fit_all(cutoff=2019)


def test_defaults_are_the_2019_fit(fit):
    e, p = fit.employment, Employment()
    assert p.t50_years == pytest.approx(e.t50_2014, rel=1e-3)
    assert p.shape == pytest.approx(e.shape, rel=1e-3)
    assert p.cohort_speedup_per_year == pytest.approx(e.speedup_per_year, rel=1e-3)
    assert (p.cohort_first, p.cohort_last) == (e.first_cohort, e.last_cohort) == (2014, 2017)
    for g, v in e.group_speed.items():
        assert p.group_speed[g] == pytest.approx(v, rel=1e-3), g
    assert p.benefit_top == pytest.approx(fit.benefits.top, rel=1e-3)
    assert p.benefit_power == pytest.approx(fit.benefits.power, rel=1e-3)
    c = CivicIntegration()
    assert c.wi2013_median_years == pytest.approx(fit.wi2013.median_years, rel=1e-3)
    assert c.wi2013_sigma == pytest.approx(fit.wi2013.sigma, rel=1e-3)
    assert c.wi2013_exempt_share == fit.wi2013.exempt
    assert c.wi2013_pass_share == pytest.approx(fit.wi2013.pass_share, rel=1e-3)


def test_fit_only_sees_data_up_to_the_cutoff(fit):
    table = load_table("employment_cohorts.csv")
    held = table["observed_year"] >= 2020
    assert held.sum() == 7 and (table.loc[held, "published"] >= 2021).all()
    scrambled = table.copy()
    scrambled.loc[held, "share_employed"] = 0.99          # change every held-back figure
    refit = fit_employment(scrambled, cutoff=2019)
    assert refit.t50_2014 == pytest.approx(fit.employment.t50_2014, rel=1e-12)
    assert refit.speedup_per_year == pytest.approx(fit.employment.speedup_per_year, rel=1e-12)


def test_in_sample_fit_is_close(fit):
    assert fit.employment.in_sample_rmse_pp < 1.5


def test_held_back_years_within_stated_tolerance(fit):
    """docs/integration.md: every held-back all-nationality figure within 7 pp, mean absolute
    error at most 3 pp; nationality figures at 7.5 years within 16 pp (catch-up not modelled)."""
    v = fit.employment.validation
    overall = v[v["group"] == "all"]
    assert len(overall) == 5 and set(overall["cohort"]) == {2014, 2019, 2020, 2021}
    assert overall["error_pp"].abs().max() <= 7.0
    assert overall["error_pp"].abs().mean() <= 3.0
    nat = v[v["group"] != "all"]
    assert nat["error_pp"].abs().max() <= 16.0


def test_one_cohort_cannot_identify_the_trend():
    """Before 2019 only the 2014 cohort is observed: the fit refuses rather than guess the trend."""
    with pytest.raises(DataError, match="from 2 cohorts observed before the end of 2018; found 5 rows from 1"):
        fit_employment(cutoff=2018)


def test_benefit_fit_passes_through_its_points(fit):
    t = fit.benefits.table
    fitted = t[t["in_sample"] & (t["measure"] == "receives_benefit")]
    np.testing.assert_allclose(fitted["predicted"], fitted["share_on_benefit"], atol=1e-9)


def test_wi2013_fit_passes_through_its_points(fit):
    w = fit.wi2013
    for years, passed in ((2.25, 0.06), (4.25, 0.58)):
        assert (1 - w.exempt) * w.pass_share * float(lognormal_cdf(years, w.median_years, w.sigma)) == pytest.approx(passed)


def test_validation_markdown_lists_every_held_back_row(fit):
    md = fit.validation_markdown()
    assert md.count("\n") == 2 + len(fit.employment.validation) - 1
    assert "| 2021 | all | 1 |" in md


def test_sources_on_every_row():
    for name in ("employment_cohorts.csv", "benefit_cohorts.csv", "civic_integration_wi2013.csv",
                 "permits_2014_by_nationality.csv", "spreidingswet_targets.csv"):
        t = load_table(name, columns=("source_url",))
        assert t["source_url"].str.startswith("http").all(), name
        assert isinstance(t, pd.DataFrame)
