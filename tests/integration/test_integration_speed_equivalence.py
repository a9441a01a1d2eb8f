"""The integration post-processor's NumPy-column path (``run_columns``, what the ensemble's workers
call) against its frame formulation: the same columns, types, rows and key figures, bit for bit.

The reference here is the post-processor as it was written on frames: the tables of
:func:`~ketenplan.integration.fast.replicate_tables`, filtered, given their ``replicate`` column
and reduced to the key figures with pandas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine import registry as R
from ketenplan.integration import post as P

_DAYS_PER_YEAR = 365.25


def frame_run(out, scenario) -> dict:
    """The post-processor's tables and key figures from frames (without the Spreidingswet table)."""
    from ketenplan.integration.fast import replicate_tables

    g = out.compiled.grid
    si = g.start_index
    years = (g.T - si) / _DAYS_PER_YEAR
    start = pd.Timestamp(g.start)
    rt = replicate_tables(out, scenario)
    monthly = rt.monthly
    monthly = monthly[(monthly["month"] >= start).to_numpy()].reset_index(drop=True)
    monthly.insert(0, "replicate", np.int32(out.replicate))
    cohorts = rt.cohorts.copy()
    cohorts.insert(0, "replicate", np.int32(out.replicate))
    load = rt.ind_load
    load.insert(0, "replicate", np.int32(out.replicate))
    cp = rt.cohorts[(rt.cohorts["cohort"] >= start.year).to_numpy()]
    w = cp["working_age"].to_numpy(float)
    ob = cp["obliged"].to_numpy(float)
    passed3 = cp["passed_within_3y"].to_numpy(float)
    passers = ob * passed3
    yrs = cp["years_to_pass"].to_numpy(float)
    good = np.isfinite(yrs) & (ob > 0)
    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    coa = R.derived_stock("coa_occupancy", ss, ls)
    emergency = ls[:, R.LOC["emergency"]]
    reception_eur = float(((coa - emergency) * scenario.reception.cost_regular
                           + emergency * scenario.reception.cost_emergency).sum())
    benefit_eur = float(monthly["benefit_cost_eur"].sum())
    civic_eur = float(monthly["route_cost_eur"].sum())
    hw = monthly["housed_working_age"].to_numpy(float)
    last = monthly.iloc[-1] if len(monthly) else None

    def wmean(x, wt) -> float:
        return float(np.average(x, weights=wt)) if len(wt) and wt.sum() > 0 else float("nan")

    def ratio(sums) -> float:
        return sums[1] / sums[0] if sums[0] > 0 else float("nan")

    wt = passers[good] if passers[good].sum() > 0 else ob[good]
    kpis = {
        "regular_decision_weeks": ratio(rt.regular_decisions),
        "regular_grants_per_year": float(out.flows[si:, R.FLOW["regular_grants"]].sum() / years),
        "circular_workers_mean": float(R.derived_stock("circular_workers", ss, ls).mean()),
        "employment_3y_share": wmean(cp["employed_3y"].to_numpy(float), w),
        "waiting_factor_mean": ratio((rt.waiting[1], rt.waiting[0])),
        "civic_years_to_pass": wmean(yrs[good], wt),
        "civic_years_from_application": wmean(
            yrs[good] + cp["mean_wait_days"].to_numpy(float)[good] / _DAYS_PER_YEAR, wt),
        "civic_passed_3y_share": wmean(passed3, ob),
        "benefit_share_end": float(last["on_benefits"] / last["housed_working_age"])
        if last is not None and hw[-1] > 0 else float("nan"),
        "reception_years": float(coa.sum() / _DAYS_PER_YEAR),
        "benefit_cost_per_year": benefit_eur / years / 1e6,
        "civic_cost_per_year": civic_eur / years / 1e6,
        "chain_total_cost_per_year": (reception_eur + benefit_eur + civic_eur) / years / 1e6,
    }
    return {"integration_monthly": monthly, "integration_cohorts": cohorts, "ind_load": load, "kpis": kpis}


def assert_identical(columns: dict, frames: dict) -> None:
    for name in ("integration_monthly", "integration_cohorts", "ind_load"):
        got, want = columns[name], frames[name]
        assert isinstance(got, dict), name
        assert list(got) == list(want.columns), name
        for col in want.columns:
            a, b = np.asarray(got[col]), want[col].to_numpy()
            assert a.dtype == b.dtype and a.shape == b.shape, (name, col, a.dtype, b.dtype, a.shape, b.shape)
            if a.dtype.kind == "f":
                assert np.array_equal(a.view(np.int64), b.view(np.int64)), (name, col)  # NaN and -0.0 alike
            else:
                assert np.array_equal(a, b), (name, col)
        # the frame the columns make is the frame of the formulation on frames
        pd.testing.assert_frame_equal(pd.DataFrame(got), want, check_exact=True)
    assert list(columns["kpis"]) == list(frames["kpis"])
    for k, v in frames["kpis"].items():
        g = columns["kpis"][k]
        assert type(g) is type(v) and (g == v or (g != g and v != v)), (k, g, v)


def _small(**changes):
    from ketenplan.testing import small_scenario

    return small_scenario(**changes)


@pytest.mark.parametrize("changes", [
    {},
    {"simulation.start": dt.date(2025, 3, 17), "civic_integration.wi2021_start": dt.date(2025, 9, 1),
     "employment.reception_after_permit_weight": 0.35, "employment.waiting_effect_streams": ("first",)},
], ids=["small", "variant"])
def test_columns_are_the_frame_formulation_bit_for_bit(changes):
    from ketenplan.engine.run import run_replicate

    sc = _small(**changes)
    for replicate in (0, 1):
        out = run_replicate(sc, replicate, np.random.SeedSequence(5 + replicate))
        got = P.run_columns(out, sc, 5)
        assert ("spreidingswet" in got) == (replicate == 0)
        assert_identical(got, frame_run(out, sc))
        # run: the same tables as frames
        frames = P.run(out, sc, 5)
        for name in ("integration_monthly", "integration_cohorts", "ind_load"):
            pd.testing.assert_frame_equal(frames[name], pd.DataFrame(got[name]), check_exact=True)


def test_columns_without_permit_holders_are_the_frame_formulation():
    from ketenplan.engine.run import run_replicate

    sc = _small(**{"simulation.end": dt.date(2025, 3, 31)})
    out = run_replicate(sc, 1, np.random.SeedSequence(1))
    out.case["outcome"][:] = R.OUTCOMES.index("pending")
    got = P.run_columns(out, sc, 1)
    assert len(got["integration_cohorts"]["cohort"]) == 0
    assert_identical(got, frame_run(out, sc))


@pytest.mark.parametrize("values", [[], [1.5, 2.25, -0.5], [np.nan, 1.0, 3.0], [np.nan], [0.1] * 300,
                                    list(np.random.default_rng(3).random(277))])
def test_skipna_sum_is_pandas_series_sum(values):
    a = np.asarray(values, dtype=float)
    assert np.float64(P._skipna_sum(a)).view(np.int64) == np.float64(pd.Series(a).sum()).view(np.int64)
