"""Civic integration (P6.3): monthly engine against a per-case loop, conservation, the Wi2013 fit
against the published 2014 cohort, and the early-start lever."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from intkit import make_cases
from ketenplan.integration import CivicIntegration, as_cases, civic_by_cohort, civic_integration
from ketenplan.integration.civic import _regime_2021, _routes, _start_offsets
from ketenplan.integration.curves import lognormal_cdf


def reference(cases: dict, p: CivicIntegration) -> pd.DataFrame:
    c = as_cases(cases)
    n_m = c.n_months
    pm = c.month_of(c.permit_day)
    is21 = _regime_2021(c, p)
    early, late, housed = _start_offsets(c, p)
    em = c.month_of(c.permit_day + np.round(early).astype(np.int64))
    lm = c.month_of(c.permit_day + np.round(late).astype(np.int64))
    cols = ["obliged", "exempt", "waiting_to_start", "in_progress", "passed", "passed_wi2013", "passed_b1",
            "passed_onderwijs", "passed_z"]
    out = {k: np.zeros(n_m) for k in cols}
    ne = 1 - p.wi2021_exempt_share
    for i in range(len(c)):
        n = c.adults[i] * p.obliged_share_of_adults
        for m in range(n_m):
            if m < pm[i]:
                continue
            out["obliged"][m] += n
            if not is21[i]:
                out["exempt"][m] += n * p.wi2013_exempt_share
                done = n * (1 - p.wi2013_exempt_share) * p.wi2013_pass_share * float(
                    lognormal_cdf((m - pm[i] + 0.5) / 12, p.wi2013_median_years, p.wi2013_sigma))
                out["passed_wi2013"][m] += done
                out["passed"][m] += done
                out["in_progress"][m] += n * (1 - p.wi2013_exempt_share) - done
                continue
            out["exempt"][m] += n * p.wi2021_exempt_share
            started = 0.0
            for s_month, share in ((em[i], p.early_start_share), (lm[i] if housed[i] else None, 1 - p.early_start_share)):
                if s_month is None or m < s_month:
                    continue
                started += n * share * ne
                for name, (r_share, ok, median) in _routes(p).items():
                    done = n * share * r_share * ok * float(lognormal_cdf((m - s_month + 0.5) / 12, median, p.sigma_wi2021))
                    out[f"passed_{name}"][m] += done
                    out["passed"][m] += done
                    out["in_progress"][m] -= done
            out["in_progress"][m] += started
            out["waiting_to_start"][m] += n * ne - started
    return pd.DataFrame(out)


@pytest.mark.parametrize("day0", [dt.date(2020, 7, 15), dt.date(2023, 3, 1)])
def test_engine_equals_reference(day0):
    cases = make_cases(n=250, day0=day0, seed=5)
    p = CivicIntegration(early_start_share=0.3)
    got, ref = civic_integration(cases, p), reference(cases, p)
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)


def test_states_add_up_to_the_obliged(cases):
    df = civic_integration(cases)
    total = df["exempt"] + df["waiting_to_start"] + df["in_progress"] + df["passed"]
    np.testing.assert_allclose(total, df["obliged"], rtol=1e-12, atol=1e-9)
    for col in ("exempt", "waiting_to_start", "in_progress", "passed"):
        assert (df[col] >= -1e-9).all(), col
    assert (np.diff(df["passed"]) >= -1e-9).all()


def _cohort_2014(n: int = 365) -> dict:
    permit = np.arange(n)
    return {"permit_day": permit, "housed_day": permit + 98, "reception_days_after_permit": np.full(n, 98.0),
            "wait_days": np.full(n, 150.0), "group": np.zeros(n, int), "adults": np.ones(n), "children": np.zeros(n),
            "stream": np.zeros(n, int), "day0": dt.date(2014, 1, 1), "horizon_days": 6 * 365}


@pytest.mark.parametrize("month, col, published", [
    ("2016-09", "passed", 0.06),    # 1-10-2016: 6 % passed (CBS 2018)
    ("2018-09", "passed", 0.58),    # 1-10-2018: 58 % passed (CBS 2019)
    ("2018-09", "exempt", 0.19),    # 19 % exemption or dispensation
])
def test_wi2013_reproduces_2014_cohort(month, col, published):
    df = civic_integration(_cohort_2014()).set_index("month")
    row = df.loc[pd.Timestamp(f"{month}-01")]
    assert abs(row[col] / row["obliged"] - published) < 0.02


def test_wi2021_regime_applies_from_2022():
    early = _cohort_2014()
    late = dict(early, day0=dt.date(2023, 1, 1))
    assert civic_by_cohort(early)["share_wi2021"].eq(0).all()
    assert civic_by_cohort(late)["share_wi2021"].eq(1).all()
    assert (civic_integration(late)["passed_wi2013"] == 0).all()
    assert (civic_integration(early)["passed_b1"] == 0).all()


def test_early_start_speeds_up_passing(cases):
    cases = dict(cases, day0=dt.date(2024, 1, 1))
    slow = civic_integration(cases, CivicIntegration(early_start_share=0.0))
    fast = civic_integration(cases, CivicIntegration(early_start_share=1.0))
    assert (fast["passed"] >= slow["passed"] - 1e-9).all() and (fast["passed"] > slow["passed"]).any()
    assert (fast["waiting_to_start"] <= slow["waiting_to_start"] + 1e-9).all()
    cs = civic_by_cohort(cases, CivicIntegration(early_start_share=0.0))
    cf = civic_by_cohort(cases, CivicIntegration(early_start_share=1.0))
    assert (cf["years_to_pass"] <= cs["years_to_pass"] + 1e-12).all()
    assert (cf["passed_within_3y"] >= cs["passed_within_3y"] - 1e-12).all()


def test_faster_housing_means_earlier_integration(cases):
    cases = dict(cases, day0=dt.date(2024, 1, 1))
    quicker = dict(cases, housed_day=np.where(cases["housed_day"] >= 0,
                                              np.maximum(cases["permit_day"], cases["housed_day"] - 60), -1))
    a, b = civic_by_cohort(cases), civic_by_cohort(quicker)
    assert (b["years_to_pip"] <= a["years_to_pip"] + 1e-12).all()
    assert (b["years_to_pass"] <= a["years_to_pass"] + 1e-12).all()


def test_cohort_shares_in_range(cases):
    df = civic_by_cohort(cases)
    for col in ("share_wi2021", "exempt_share", "passed_within_3y", "unhoused_share"):
        assert df[col].between(0, 1).all(), col
    assert (df["passed_within_3y"] <= 1 - df["exempt_share"] + 1e-12).all()


def test_route_shares_must_leave_room_for_b1():
    with pytest.raises(ValidationError, match="expected at most 1"):
        CivicIntegration(share_onderwijs=0.6, share_z=0.5)
    assert CivicIntegration().share_b1 == pytest.approx(0.50)
