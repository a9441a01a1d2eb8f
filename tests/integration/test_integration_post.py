"""The pillar-5/6 post-processor and the housing market in the run (P5.1, P6.3-P6.5).

Golden values come from the model's formula written out here (log-logistic curve, cohort trend,
group speed, waiting factor), not from the code under test."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine.results import KPI_BY_NAME
from ketenplan.integration.cases import as_cases
from ketenplan.integration.employment import employment_by_cohort
from ketenplan.integration.post import KPIS, chain_cases, run
from ketenplan.post import POST_PROCESSORS, all_kpis
from ketenplan.scenario import load_scenario
from ketenplan.scenario.pillar6 import Employment

DAY0 = dt.date(2014, 1, 1)


def _journeys(wait_days: int, n: int = 4, permit: str = "2016-03-01", stay_after: int = 98, group: str = "syria",
              stream: str = "first") -> pd.DataFrame:
    """``n`` single-adult cases with a permit on ``permit``, registered ``wait_days`` before it and
    housed ``stay_after`` days after it."""
    p = pd.Timestamp(permit)
    return pd.DataFrame({
        "outcome": pd.Categorical(["granted"] * n), "stream": pd.Categorical([stream] * n),
        "registration_date": [p - pd.Timedelta(days=wait_days)] * n, "arrival_date": [p - pd.Timedelta(days=wait_days)] * n,
        "decision_date": [p] * n, "housed_date": [p + pd.Timedelta(days=stay_after)] * n,
        "exit_reason": pd.Categorical(["housed"] * n), "group": pd.Categorical([group] * n),
        "adults": np.ones(n, np.int16), "children": np.zeros(n, np.int16), "persons": np.ones(n, np.int16)})


def _expected_3y(p: Employment, cohort: int, band: str, extra_years: float) -> float:
    """The fitted curve 3 years after the permit, by hand."""
    t50 = p.t50_years * math.exp(-p.cohort_speedup_per_year * (min(max(cohort, p.cohort_first), p.cohort_last)
                                                               - p.cohort_first)) * p.group_speed[band]
    e = p.plateau / (1.0 + (3.0 / t50) ** (-1.0 / p.shape))
    return e * (1.0 - p.waiting_effect_per_year) ** extra_years


def _cohort_3y(j: pd.DataFrame) -> float:
    cases = as_cases(chain_cases(j, DAY0, 6000, {"syria": "high", "iraq_iran": "medium"}))
    return float(employment_by_cohort(cases, Employment())["employed_3y"].iloc[0])


def test_cohort_with_the_reference_wait_follows_the_fitted_curve():
    p = Employment()
    j = _journeys(wait_days=int(p.reference_wait_days), stay_after=int(p.reference_reception_after_permit_days))
    assert _cohort_3y(j) == pytest.approx(_expected_3y(p, 2016, "high", 0.0), rel=1e-9)


def test_one_more_year_of_waiting_lowers_employment_by_the_stated_effect():
    p = Employment()
    ref = _cohort_3y(_journeys(wait_days=150, permit="2017-06-01", group="iraq_iran"))
    late = _cohort_3y(_journeys(wait_days=150 + 365, permit="2017-06-01", group="iraq_iran"))
    # 20 % lower per year waited (365 of 365.25 days here), relative, not 4-5 points flat
    assert late / ref == pytest.approx((1.0 - p.waiting_effect_per_year) ** (365 / 365.25), rel=1e-9)
    assert late == pytest.approx(_expected_3y(p, 2017, "medium", 365 / 365.25), rel=1e-9)


def test_nareis_and_resettled_take_no_waiting_effect_and_regular_streams_are_not_permit_holders():
    j = pd.concat([_journeys(900, stream="nareis"), _journeys(900, stream="labour")], ignore_index=True)
    c = chain_cases(j, DAY0, 6000, {"syria": "high"})
    assert len(c["permit_day"]) == 4  # the labour migrants are not asylum permit holders
    assert (c["wait_days"] == 0).all()


def _short(**changes):
    base = load_scenario("nl_baseline").replace(**{"simulation.end": dt.date(2026, 12, 31),
                                                   "simulation.warmup_years": 1})
    return base.replace(**changes) if changes else base


@pytest.fixture(scope="module")
def short_run():
    from ketenplan.engine.run import run_replicate

    sc = _short()
    return sc, run_replicate(sc, 0, np.random.SeedSequence(3))


def test_post_processor_key_figures_are_declared_and_consistent(short_run):
    sc, out = short_run
    r = run(out, sc, 3)
    declared = all_kpis()
    assert set(r["kpis"]) == {k.name for k in KPIS} and all(n in declared for n in r["kpis"])
    assert {k.pillar for k in KPIS} == {"P5", "P6"} and not set(r["kpis"]) & set(KPI_BY_NAME)
    k = r["kpis"]
    # total = reception (chain's own figure) + benefits + civic routes
    from ketenplan.engine.results import replicate_kpis

    rec = replicate_kpis(out, sc)["reception_cost_per_year"]
    assert k["chain_total_cost_per_year"] == pytest.approx(rec + k["benefit_cost_per_year"] + k["civic_cost_per_year"],
                                                           rel=1e-9)
    assert 0 < k["employment_3y_share"] < Employment().plateau
    # the monthly table sums to the cohort expectations' persons: permits in the period enter once
    m = r["integration_monthly"]
    assert (m["replicate"] == 0).all() and m["month"].min() == pd.Timestamp(sc.simulation.start)
    assert (np.diff(m["obliged"]) >= -1e-9).all()
    sp = r["spreidingswet"]
    assert sp["places"].sum() == sc.spreiding.total_places
    from ketenplan.engine.results import tidy_housing

    assert sp["housing_task_per_half_year"].sum() == int(round(tidy_housing(out)["task"].mean()))
    assert POST_PROCESSORS["integration"].enabled(sc)


def test_regular_streams_ind_load_matches_the_journeys(short_run):
    sc, out = short_run
    from ketenplan.engine.results import journeys

    r = run(out, sc, 3)
    j = journeys(out)
    start = pd.Timestamp(sc.simulation.start)
    lab = j[(j.stream == "labour") & (j.decision_date >= start)]
    load = r["ind_load"]
    assert load.loc[load.stream == "labour", "decisions"].sum() == pytest.approx(lab.persons.sum())


def test_housing_market_cap_binds_when_allocations_are_small(short_run):
    from ketenplan.engine.run import run_replicate

    sc0, free = short_run
    sc = _short(**{"housing_market.enabled": True, "housing_market.lettings_per_half_year": 20000.0})
    capped = run_replicate(sc, 0, np.random.SeedSequence(3))
    h = capped.housing
    hm = sc.housing_market
    pph = float(capped.compiled.case["size"][capped.compiled.case["stream"] == 0].mean())
    for row in h.itertuples():
        need = row.task + row.backlog_in
        hh = need / pph
        # the formula of docs/integration.md, by hand
        pool = hm.lettings_per_half_year * hm.priority_share
        granted = min(hh, pool * hh / (hh + hm.competing_urgent_dwellings), hm.lettings_per_half_year
                      * hm.max_share_permit_holders)
        assert row.market_capacity == pytest.approx(need * min(1.0, granted / hh) if hh > 0 else 0.0, rel=1e-9)
        assert row.realised <= row.market_capacity + 15  # whole cases: at most one case over the budget
    full = free.housing.iloc[1:]
    assert h.iloc[1:]["market_capacity"].lt(full["task"].to_numpy() + full["backlog_in"].to_numpy()).all()
    assert h.iloc[1:]["realised"].sum() < 0.6 * full["realised"].sum()
    assert free.housing["market_capacity"].isna().all()  # off by default: no cap


def test_ukrainians_moving_on_compete_for_the_pool():
    from ketenplan.engine.compile import housing_market_settings

    sc = _short(**{"housing_market.enabled": True, "housing_market.ukrainian_share_moving_on_per_half_year": 0.1})
    s = housing_market_settings(sc, np.array([2, 2]))
    assert s["persons_per_household"] == 2.0
    assert s["market"].competing_urgent_dwellings == pytest.approx(5070.0 + 91220.0 * 0.1 / 2.0)


def test_a_faster_ind_means_fewer_reception_years_and_more_work(short_run):
    """The cross-link of P0.1 on one paired replicate: 25 % more IND capacity shortens the wait,
    so reception-years fall and the waiting factor and employment 3 years after the permit rise."""
    from ketenplan.engine.run import run_replicate

    sc0, out0 = short_run
    sc1 = _short(**{"decision_capacity.total": [{"start": dt.date(2025, 1, 1), "value": 839}]})
    k0 = run(out0, sc0, 3)["kpis"]
    k1 = run(run_replicate(sc1, 0, np.random.SeedSequence(3)), sc1, 3)["kpis"]
    assert k1["reception_years"] < 0.95 * k0["reception_years"]
    assert k1["waiting_factor_mean"] > k0["waiting_factor_mean"] + 0.01
    assert k1["employment_3y_share"] > k0["employment_3y_share"]
    assert k1["civic_years_from_application"] < k0["civic_years_from_application"]
