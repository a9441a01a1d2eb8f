"""Work over time (P6.4): the monthly engine against a per-case reference loop, properties, and
the end-to-end reproduction of published CBS cohort figures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from intkit import make_cases
from ketenplan.errors import DataError
from ketenplan.integration import Employment, as_cases, case_employment, employment_by_cohort, employment_over_time
from ketenplan.integration.curves import benefit_share, employment_share
from ketenplan.integration.employment import YEAR_BUCKETS, _benefit_eur_month, _case_t50, waiting_factors


def reference(cases: dict, p: Employment) -> pd.DataFrame:
    """Per-case, per-month loop: the definition the vectorised engine must reproduce."""
    c = as_cases(cases)
    n_m = c.n_months
    pm, hm = c.month_of(c.permit_day), c.month_of(np.maximum(c.housed_day, 0))
    f, t50, cost = waiting_factors(c, p), _case_t50(c, p), _benefit_eur_month(c, p)
    w = c.adults * p.working_age_share_of_adults
    cols = ["working_age", "employed", "housed_working_age", "on_benefits", "benefit_cost_eur"]
    cols += [f"{k}_y{b}" for k in ("working_age", "employed") for b in YEAR_BUCKETS]
    out = {k: np.zeros(n_m) for k in cols}
    for i in range(len(c)):
        if w[i] == 0:
            continue
        for m in range(n_m):
            k = m - pm[i]
            if k < 0:
                continue
            e = min(1.0, f[i] * float(employment_share((k + 0.5) / 12, t50[i], p.shape, p.plateau)))
            b = YEAR_BUCKETS[min(k // 12, 5)]
            out["working_age"][m] += w[i]
            out["employed"][m] += w[i] * e
            out[f"working_age_y{b}"][m] += w[i]
            out[f"employed_y{b}"][m] += w[i] * e
            if c.housed[i] and hm[i] <= m:
                share = float(benefit_share(e, p.plateau, p.benefit_top, p.benefit_floor, p.benefit_power))
                out["housed_working_age"][m] += w[i]
                out["on_benefits"][m] += w[i] * share
                out["benefit_cost_eur"][m] += w[i] * cost[i] * share
    return pd.DataFrame(out)


def test_engine_equals_reference_when_waits_are_equal():
    cases = make_cases(n=300, same_wait=True)
    p = Employment()
    got, ref = employment_over_time(cases, p), reference(cases, p)
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)


def test_engine_close_to_reference_with_varying_waits(cases):
    """Linear quantities exact; benefits use the mean waiting factor per bin (second order: < 1 %)."""
    p = Employment()
    got, ref = employment_over_time(cases, p), reference(cases, p)
    for col in ("working_age", "employed", "housed_working_age", "employed_y2", "working_age_y5plus"):
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)
    for col in ("on_benefits", "benefit_cost_eur"):
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-2, atol=1e-6, err_msg=col)


def test_longer_waiting_never_raises_employment(cases):
    base = employment_over_time(cases)
    longer = dict(cases, wait_days=cases["wait_days"] + 180.0)
    slower = employment_over_time(longer)
    assert (slower["employed"] <= base["employed"] + 1e-9).all()
    assert (slower["employed"] < base["employed"]).any()
    assert (slower["on_benefits"] >= base["on_benefits"] - 1e-9).all()
    c_base, c_slow = employment_by_cohort(cases), employment_by_cohort(longer)
    assert (c_slow["employed_3y"] <= c_base["employed_3y"] + 1e-12).all()
    # one extra year of waiting: -20 % relative (Hainmueller et al. 2016), i.e. -4 to -5 pp at ~22 %
    one_year = dict(cases, wait_days=cases["wait_days"] + 365.25)
    ratio = case_employment(one_year) / case_employment(cases)
    asylum = cases["stream"] <= 1                      # 'first', 'subsequent'
    np.testing.assert_allclose(ratio[asylum & (case_employment(cases) < 0.9)], 0.80, rtol=1e-9)
    np.testing.assert_allclose(ratio[~asylum], 1.0)    # nareis and resettlement: no waiting effect


def test_longer_reception_after_permit_lowers_employment(cases):
    later = dict(cases, reception_days_after_permit=cases["reception_days_after_permit"] + 90.0)
    asylum = cases["stream"] <= 1
    assert (case_employment(later)[asylum] < case_employment(cases)[asylum]).all()
    assert (case_employment(later)[~asylum] == case_employment(cases)[~asylum]).all()
    assert (case_employment(later, Employment(reception_after_permit_weight=0.0))
            == case_employment(cases, Employment(reception_after_permit_weight=0.0))).all()


def test_shares_in_range_and_deterministic(cases):
    a, b = employment_over_time(cases), employment_over_time(cases)
    pd.testing.assert_frame_equal(a, b)
    assert ((a["employment_rate"] >= 0) & (a["employment_rate"] <= 1)).all()
    assert (a["employed"] <= a["working_age"] + 1e-9).all()
    assert (a["housed_working_age"] <= a["working_age"] + 1e-9).all()
    assert (a["on_benefits"] <= a["housed_working_age"] + 1e-9).all()
    assert (a["on_benefits"] >= 0).all() and (a["benefit_cost_eur"] >= 0).all()
    per_bucket = a[[f"working_age_y{x}" for x in YEAR_BUCKETS]].sum(axis=1)
    np.testing.assert_allclose(per_bucket, a["working_age"])
    coh = employment_by_cohort(cases)
    for col in ("employed_1y", "employed_3y", "employed_5y", "on_benefits_3y", "beyond_horizon_3y"):
        assert coh[col].between(0, 1).all(), col
    assert (coh["employed_1y"] <= coh["employed_3y"]).all() and (coh["employed_3y"] <= coh["employed_5y"]).all()


def test_group_speed_orders_groups():
    p = Employment()
    base = make_cases(n=200, same_wait=True)
    by_group = [case_employment(dict(base, group=np.full(200, g)), p).mean() for g in range(4)]
    # 'medium' (Iraq, Iran, Afghanistan) rises fastest, 'high' (Syria, Eritrea) slowest (CBS 2014 table)
    assert by_group[1] > by_group[2] > by_group[0]
    assert by_group[2] == by_group[3]


def _uniform_cohort(year: int, n: int = 366, horizon_years: int = 10) -> dict:
    """One household per day of permit year ``year``, waits at the fitted cohorts' reference."""
    day0 = dt.date(year, 1, 1)
    p = Employment()
    permit = np.arange(n)
    horizon = horizon_years * 366
    return {"permit_day": permit, "housed_day": permit + 98, "reception_days_after_permit": np.full(n, 98.0),
            "wait_days": np.full(n, p.reference_wait_days), "group": np.zeros(n, int), "adults": np.ones(n),
            "children": np.zeros(n), "stream": np.zeros(n, int), "day0": day0, "horizon_days": horizon,
            "group_names": ("all",)}


@pytest.mark.parametrize("month, published, tol, what", [
    ("2016-12", 0.11, 0.015, "2014 cohort 2.5 years after the permit, CBS 2018 (in sample)"),
    ("2020-06", 0.43, 0.03, "2014 cohort mid-2020, CBS 2021 (held back)"),
    ("2022-06", 0.45, 0.04, "2014 cohort mid-2022, CBS 2023 (held back)"),
])
def test_monthly_engine_reproduces_published_2014_cohort(month, published, tol, what):
    cases = _uniform_cohort(2014)
    df = employment_over_time(cases).set_index("month")
    rate = float(df.loc[pd.Timestamp(f"{month}-01"), "employment_rate"])
    assert abs(rate - published) <= tol, f"{what}: model {rate:.3f} vs published {published}"


def test_benefit_dependency_reproduces_2014_cohort():
    """90 % and 84 % received a benefit 1.5 and 2.5 years after the permit (CBS 2018)."""
    cases = _uniform_cohort(2014)
    df = employment_over_time(cases).set_index("month")
    for month, published in (("2015-12", 0.90), ("2016-12", 0.84)):
        row = df.loc[pd.Timestamp(f"{month}-01")]
        assert abs(row["on_benefits"] / row["housed_working_age"] - published) < 0.015


def test_benefit_cost_uses_household_norms():
    p = Employment()
    single = _uniform_cohort(2024, n=10)
    couple = dict(single, adults=np.full(10, 2.0))
    s = employment_over_time(single, p)["benefit_cost_eur"] / employment_over_time(single, p)["on_benefits"]
    c = employment_over_time(couple, p)["benefit_cost_eur"] / employment_over_time(couple, p)["on_benefits"]
    np.testing.assert_allclose(s.dropna(), 974.27 * 1.05)
    np.testing.assert_allclose(c.dropna(), 1391.82 * 1.05 / 2)


def test_large_replicate_conserves_persons():
    cases = make_cases(n=200_000, horizon=3650, seed=11)
    df = employment_over_time(cases)
    assert df["working_age"].iloc[-1] == pytest.approx(cases["adults"].sum())
    assert df["housed_working_age"].iloc[-1] == pytest.approx(cases["adults"][cases["housed_day"] >= 0].sum())


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c.pop("wait_days"), "keys missing"),
    (lambda c: c.update(group=c["group"][:-1]), "'group': expected 400 elements"),
    (lambda c: c.update(group=c["group"] + 10), "'group' element 0: expected an index 0..3"),
    (lambda c: c.update(adults=-c["adults"] - 1), "'adults' element 0: expected a non-negative number"),
    (lambda c: c.update(day0="2020-01-01"), "'day0': expected a datetime.date"),
    (lambda c: c.update(horizon_days=0), "'horizon_days': expected a positive whole number"),
])
def test_bad_input_names_the_key(cases, mutate, message):
    mutate(cases)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        employment_over_time(cases)
