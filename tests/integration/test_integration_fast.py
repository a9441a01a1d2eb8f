"""The integration post-processor's compiled pass (integration.fast) against the reference: the
journeys frame (engine.results.journeys), chain_cases / ind_load on it, and the model functions
(employment_over_time, civic_integration, employment_by_cohort, civic_by_cohort) combined as the
post-processor defines its tables and key figures (P0.1, P5.1, P6.3, P6.4).

Tables must match in columns, dtypes and rows; floats to 1e-12 relative (sums accumulate case by
case in the pass, by blocks in pandas and numpy) with an absolute allowance of 1e-12 of the
column's largest value for columns that are differences of sums (waiting to start, in progress)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine import registry as R
from ketenplan.integration import post as P

RTOL = 1e-12


def reference_run(out, sc) -> dict:
    """The post-processor's tables and key figures from the journeys frame and the model functions
    (the formulation before the compiled pass)."""
    from ketenplan.engine.results import journeys
    from ketenplan.integration.cases import as_cases
    from ketenplan.integration.civic import civic_by_cohort, civic_integration
    from ketenplan.integration.employment import employment_by_cohort, employment_over_time, waiting_factors

    g = out.compiled.grid
    si = g.start_index
    start = pd.Timestamp(g.start)
    years = (g.T - si) / 365.25
    j = journeys(out)
    cases = as_cases(P.chain_cases(j, g.day0, g.T, P._bands(sc)))
    emp_p, civ_p = sc.employment, sc.civic_integration
    monthly = employment_over_time(cases, emp_p).merge(civic_integration(cases, civ_p), on="month")
    monthly = monthly[monthly["month"] >= start].reset_index(drop=True)
    monthly.insert(0, "replicate", np.int32(out.replicate))
    ec, cc = employment_by_cohort(cases, emp_p), civic_by_cohort(cases, civ_p)
    cohorts = ec.merge(cc, on="cohort", how="outer")
    cohorts.insert(0, "replicate", np.int32(out.replicate))
    load = P.ind_load(j, start)
    load.insert(0, "replicate", np.int32(out.replicate))

    ecp, ccp = ec[ec["cohort"] >= start.year], cc[cc["cohort"] >= start.year]
    w = ecp["working_age"].to_numpy(float)
    f = waiting_factors(cases, emp_p)
    wa = cases.adults * emp_p.working_age_share_of_adults
    ok = (cases.permit_day >= si) & (wa > 0)
    ob = ccp["obliged"].to_numpy(float)
    passers = ob * ccp["passed_within_3y"].to_numpy(float)
    yrs = ccp["years_to_pass"].to_numpy(float)
    good = np.isfinite(yrs) & (ob > 0)
    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    coa = R.derived_stock("coa_occupancy", ss, ls)
    emergency = ls[:, R.LOC["emergency"]]
    reception_eur = float(((coa - emergency) * sc.reception.cost_regular + emergency * sc.reception.cost_emergency).sum())
    benefit_eur, civic_eur = float(monthly["benefit_cost_eur"].sum()), float(monthly["route_cost_eur"].sum())
    reg = j[j["stream"].isin(P.REGULAR_STREAMS) & (j["decision_date"] >= start) & j["registration_date"].notna()]
    rweeks = ((reg["decision_date"] - reg["registration_date"]).dt.days / 7.0).to_numpy()
    last = monthly.iloc[-1] if len(monthly) else None

    def wmean(x, wt) -> float:
        return float(np.average(x, weights=wt)) if len(wt) and wt.sum() > 0 else float("nan")

    wt = passers[good] if passers[good].sum() > 0 else ob[good]
    kpis = {
        "regular_decision_weeks": wmean(rweeks, reg["persons"].to_numpy(float)),
        "regular_grants_per_year": float(out.flows[si:, R.FLOW["regular_grants"]].sum() / years),
        "circular_workers_mean": float(R.derived_stock("circular_workers", ss, ls).mean()),
        "employment_3y_share": wmean(ecp["employed_3y"].to_numpy(float), w),
        "waiting_factor_mean": wmean(f[ok], wa[ok]),
        "civic_years_to_pass": wmean(yrs[good], wt),
        "civic_years_from_application": wmean(
            yrs[good] + ecp.set_index("cohort")["mean_wait_days"].reindex(ccp["cohort"]).to_numpy(float)[good]
            / 365.25, wt),
        "civic_passed_3y_share": wmean(ccp["passed_within_3y"].to_numpy(float), ob),
        "benefit_share_end": float(last["on_benefits"] / last["housed_working_age"])
        if last is not None and last["housed_working_age"] > 0 else float("nan"),
        "reception_years": float(coa.sum() / 365.25),
        "benefit_cost_per_year": benefit_eur / years / 1e6,
        "civic_cost_per_year": civic_eur / years / 1e6,
        "chain_total_cost_per_year": (reception_eur + benefit_eur + civic_eur) / years / 1e6,
    }
    return {"integration_monthly": monthly, "integration_cohorts": cohorts, "ind_load": load, "kpis": kpis,
            "permit_holders": len(cases)}


def assert_same_table(name: str, got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns), name
    assert got.shape == want.shape, name
    assert isinstance(got.index, pd.RangeIndex) and isinstance(want.index, pd.RangeIndex), name
    for col in want.columns:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        assert a.dtype == b.dtype, (name, col, a.dtype, b.dtype)
        if a.dtype.kind == "f":
            assert np.array_equal(np.isnan(a), np.isnan(b)), (name, col)
            fin = np.isfinite(b)
            scale = float(np.abs(b[fin]).max()) if fin.any() else 0.0
            np.testing.assert_allclose(a[fin], b[fin], rtol=RTOL, atol=1e-12 * scale, err_msg=f"{name}.{col}")
        else:
            assert np.array_equal(a, b), (name, col)


def assert_same_run(got: dict, want: dict) -> None:
    for name in ("integration_monthly", "integration_cohorts", "ind_load"):
        assert_same_table(name, got[name], want[name])
    assert got["kpis"].keys() == want["kpis"].keys()
    for k, v in want["kpis"].items():
        assert got["kpis"][k] == pytest.approx(v, rel=RTOL, nan_ok=True), k


def _baseline_out():
    from ketenplan.engine.run import run_replicate
    from ketenplan.ensemble import replicate_seed
    from ketenplan.scenario import load_scenario

    sc = load_scenario("nl_baseline")
    return sc, run_replicate(sc, 1, replicate_seed(1, 1))


def test_the_pass_gives_the_reference_tables_on_a_baseline_replicate():
    """A ten-year nl_baseline replicate from the 2024 starting point (about 170,000 permit holders)."""
    sc, out = _baseline_out()
    want = reference_run(out, sc)
    assert want["permit_holders"] > 100_000
    got = P.run(out, sc, 1)
    assert_same_run(got, want)
    assert got["ind_load"]["stream"].nunique() == 6 and len(got["integration_cohorts"]) >= 10


def _small(**changes):
    from ketenplan.testing import small_scenario

    return small_scenario(**changes)


@pytest.mark.parametrize("changes", [
    {},
    # a start in mid-month, Wi2021 from mid-run, fractional days and weights, other streams without the
    # waiting effect, couples' benefit
    {"simulation.start": dt.date(2025, 3, 17), "civic_integration.wi2021_start": dt.date(2025, 9, 1),
     "civic_integration.koppeling_days": 20.5, "civic_integration.intake_to_pip_days": 60.5,
     "civic_integration.early_start_share": 0.4, "employment.reception_after_permit_weight": 0.35,
     "employment.waiting_effect_streams": ("first",), "employment.working_age_share_of_adults": 0.8},
], ids=["small", "variant"])
def test_the_pass_gives_the_reference_tables_on_a_small_scenario(changes):
    from ketenplan.engine.run import run_replicate

    sc = _small(**changes)
    out = run_replicate(sc, 0, np.random.SeedSequence(11))
    want = reference_run(out, sc)
    assert want["permit_holders"] > 100
    assert_same_run(P.run(out, sc, 11), want)


def test_a_replicate_without_permit_holders_gives_empty_tables_like_the_reference():
    """Every case's outcome set to pending: no permit holders, the IND load remains."""
    from ketenplan.engine.run import run_replicate

    sc = _small(**{"simulation.end": dt.date(2025, 3, 31)})
    out = run_replicate(sc, 0, np.random.SeedSequence(1))
    out.case["outcome"][:] = R.OUTCOMES.index("pending")
    want = reference_run(out, sc)
    assert want["permit_holders"] == 0 and len(want["ind_load"]) > 0
    got = P.run(out, sc, 1)
    assert len(got["integration_cohorts"]) == 0
    assert_same_run(got, want)


def test_calendar_of_days_is_numpy_calendar():
    from ketenplan.integration.fast import calendar_of_days

    days = np.concatenate([np.arange(-800_000, 800_000, 97), np.arange(-2000, 60_000)]).astype(np.int64)
    d = days.astype("datetime64[D]")
    years, months = calendar_of_days(days)
    assert np.array_equal(years, d.astype("datetime64[Y]").astype(np.int64))
    assert np.array_equal(months, d.astype("datetime64[M]").astype(np.int64))
