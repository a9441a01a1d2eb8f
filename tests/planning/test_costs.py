"""Costs over time per partner (P3.5, P3.4): the arithmetic against a hand computation on a tiny chain,
the policy's capacity changes reconstructed exactly, and the run's reception cost as the key figures
count it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ketenplan.engine import registry as R
from ketenplan.engine.compile import compile_replicate
from ketenplan.engine.policies import DAYS_PER_MONTH
from ketenplan.engine.results import replicate_kpis
from ketenplan.engine.rng import replicate_key
from ketenplan.engine.run import default_hooks, output_of
from ketenplan.engine.state import Run
from ketenplan.planning.costs import (ITEM_NAMES, cost_frame, day_quantities, month_index, monthly, policy_events,
                                      replicate_costs, replicate_quantities, unit_costs)
from ketenplan.scenario import load_scenario
from ketenplan.scenario.planning import ReceptionPolicy


def test_cost_arithmetic_by_hand():
    """Four days over two months of a tiny chain, every item computed by hand."""
    q = day_quantities(coa=[10, 12, 15, 9], emergency=[0, 0, 3, 0], regular=[8, 10, 10, 7],
                       cap_regular=[10, 10, 10, 10], small=[0, 0, 0, 0], cap_small=[2, 2, 2, 2],
                       standby_held=[5, 5, 0, 0], opened=[0, 0, 2, 0], closed=[0, 0, 0, 1],
                       decisions=[1, 0, 2, 0], housed=[0, 3, 0, 0], housed_adults=[0, 2, 0, 0])
    midx, months = month_index(pd.DatetimeIndex(["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]))
    assert list(midx) == [0, 0, 1, 1] and list(months.strftime("%Y-%m")) == ["2025-01", "2025-02"]
    sc = load_scenario("nl_baseline")
    unit = unit_costs(sc)
    t = cost_frame(months, monthly(q, midx, 2), unit).set_index(["month", "item"]).eur
    jan, feb = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")
    hand = {  # (month, item): EUR
        (jan, "occupied_regular"): (10 + 12) * 74.25, (jan, "occupied_emergency"): 0.0,
        (jan, "empty_places"): ((10 - 8) + 2 + (10 - 10) + 2) * 18.5, (jan, "standby_places"): (5 + 5) * 18.5,
        (jan, "opening"): 0.0, (jan, "closing"): 0.0, (jan, "decisions"): 1 * 10535.0, (jan, "training"): 0.0,
        (jan, "housed"): 3 * 4430.0, (jan, "guidance"): 2 * 2370.0,
        (feb, "occupied_regular"): (15 - 3 + 9) * 74.25, (feb, "occupied_emergency"): 3 * 146.3,
        (feb, "empty_places"): (0 + 2 + 3 + 2) * 18.5, (feb, "standby_places"): 0.0,
        (feb, "opening"): 2 * 3670.0, (feb, "closing"): 1 * 3670.0, (feb, "decisions"): 2 * 10535.0,
        (feb, "training"): 0.0,
        (feb, "housed"): 0.0, (feb, "guidance"): 0.0,
    }
    assert set(t.index) == set(hand)
    for k, v in hand.items():
        assert t[k] == pytest.approx(v, abs=1e-9), k
    assert t.loc[jan].sum() == pytest.approx(30494.5) and t.loc[feb].sum() == pytest.approx(34207.65)


def test_training_per_day_by_hand():
    """Two cohorts hired at reviews on days 10 and 40 (70 and 14 decisions a week), training 2 months of
    10 days, deciding from days 50 and 80; the grid ends on day 75, so the second cohort's training is
    cut at the end. Nothing is paid during the recruitment lead time."""
    from ketenplan.planning.costs import training_per_day
    from ketenplan.scenario.planning import DecisionPolicy

    pol = DecisionPolicy(kind="threshold", training_months=2, lead_months=2)
    table = pd.DataFrame({"day": [10, 40, 70], "hired": [70.0, 14.0, 0.0], "deciding_from": [50, 80, 110]})
    t = training_per_day(table, pol, 75, days_per_month=10.0)
    hand = np.zeros(75)
    hand[30:50] += 10.0  # 70 a week = 10 a day, days 30..49
    hand[60:75] += 2.0  # 14 a week = 2 a day, days 60..74 (79 is past the end)
    assert np.array_equal(t, hand)
    assert not training_per_day(table, DecisionPolicy(), 75, 10.0).any()  # a fixed policy hires nothing
    assert not training_per_day(None, pol, 75, 10.0).any()


def test_policy_events_by_hand():
    """Lead times of 1 month (10 days here) for opening and closing, 0 for standby; the scenario's own
    capacity step counts as places opened."""
    pol = ReceptionPolicy(kind="threshold", standby_places=8, open_lead_months=1, standby_lead_months=0,
                          close_lead_months=1)
    base = np.r_[np.full(10, 100.0), np.full(90, 120.0)]
    table = pd.DataFrame({"day": [20, 60, 95], "opened": [50.0, 0.0, 7.0], "standby_activated": [5.0, 0.0, 0.0],
                          "closed": [0.0, 30.0, 0.0]})
    ev = policy_events(table, pol, 100, base, days_per_month=10.0)
    assert np.flatnonzero(ev["opened"]).tolist() == [10, 30] and ev["opened"][[10, 30]].tolist() == [20.0, 50.0]
    assert np.flatnonzero(ev["closed"]).tolist() == [70] and ev["closed"][70] == 30.0  # day 95 + 10 is past the end
    assert ev["standby_activated"][20] == 5.0 and ev["standby_activated"].sum() == 5.0
    assert (ev["standby_held"][:20] == 8).all() and (ev["standby_held"][20:] == 3).all()
    fixed = policy_events(table, ReceptionPolicy(), 100, base, 10.0)  # a fixed policy: only the own step
    assert fixed["opened"].sum() == 20 and fixed["closed"].sum() == 0 and fixed["standby_held"].sum() == 0


@pytest.fixture(scope="module")
def surge_run():
    sc = load_scenario("nl_baseline").replace(**{
        "simulation.end": dt.date(2027, 6, 30), "simulation.warmup_years": 1,
        "reception_policy.kind": "threshold", "reception_policy.standby_places": 1500,
        "reception_policy.buffer_places": 1000,
        "inflow.shocks": [{"kind": "surge", "onset": dt.date(2025, 3, 1)}]})
    c = compile_replicate(sc, replicate_key(np.random.SeedSequence(7, spawn_key=(0,))))
    run = Run.start(c, default_hooks(c)).finish()
    return sc, c, run, output_of(run)


def test_policy_events_rebuild_the_capacity_the_run_used(surge_run):
    sc, c, run, out = surge_run
    table = run.hook("reception_policy").table()
    base = np.asarray(c.inputs.cap_regular, float)
    ev = policy_events(table, sc.reception_policy, c.grid.T, np.full(c.grid.T, base[0]), DAYS_PER_MONTH)
    assert (base == base[0]).all()  # the baseline's own capacity is flat: every change is the policy's
    rebuilt = base[0] + np.cumsum(ev["opened"] + ev["standby_activated"] - ev["closed"])
    assert np.allclose(rebuilt, out.day_inputs["cap_regular"])
    assert ev["opened"].sum() > 0 and ev["standby_activated"].sum() == 1500


def test_reception_cost_matches_the_key_figure(surge_run):
    """Occupied regular and emergency places cost what the run's key figure counts (engine.results)."""
    sc, c, run, out = surge_run
    costs = replicate_costs(out, sc, run.hook("reception_policy").table(), np.asarray(c.inputs.cap_regular))
    years = (c.grid.T - c.grid.start_index) / 365.25
    occupied = costs[costs.item.isin(["occupied_regular", "occupied_emergency"])].eur.sum()
    assert occupied / years / 1e6 == pytest.approx(replicate_kpis(out, sc)["reception_cost_per_year"], rel=1e-9)
    # person-days: everyone in COA reception on every reported day
    si = c.grid.start_index
    coa = R.derived_stock("coa_occupancy", out.stage_stock[si:], out.loc_stock[si:]).sum()
    pd_ = costs[costs.item.isin(["occupied_regular", "occupied_emergency"])].quantity.sum()
    assert pd_ == coa
    # decisions and housed persons: the run's own flow counts
    assert costs[costs.item == "decisions"].quantity.sum() == out.flows[si:, R.FLOW["decisions"]].sum()
    assert costs[costs.item == "housed"].quantity.sum() == out.flows[si:, R.FLOW["housed"]].sum()
    assert set(costs.item) == set(ITEM_NAMES) and len(costs) == len(ITEM_NAMES) * costs.month.nunique()


def test_unit_costs_follow_the_scenario():
    sc = load_scenario("nl_baseline").replace(**{"costs.ind_decision": 1.0, "reception.cost_emergency": 2.0})
    u = dict(zip(ITEM_NAMES, unit_costs(sc)))
    assert u["decisions"] == 1.0 and u["occupied_emergency"] == 2.0 and u["occupied_regular"] == 74.25


def test_quantities_are_per_reported_day(surge_run):
    sc, c, run, out = surge_run
    q, ev = replicate_quantities(out, np.asarray(c.inputs.cap_regular), run.hook("reception_policy").table(),
                                 sc.reception_policy, DAYS_PER_MONTH)
    assert q.shape == (c.grid.T - c.grid.start_index, len(ITEM_NAMES))
    assert (q >= 0).all()


@pytest.mark.parametrize("resolution", ["month", "day"])
def test_run_report_costs_match_the_key_figure(resolution):
    """The run report's costs per month (from the stored tables) add up to the reception cost key figure,
    and IND and municipal costs to the decisions and housed persons at their unit costs."""
    import ketenplan
    from ketenplan.report import costs_per_month

    sc = load_scenario("nl_baseline").replace(**{"simulation.end": dt.date(2025, 8, 15), "simulation.warmup_years": 1})
    res = ketenplan.simulate(sc, seed=3, replicates=2, backend="serial", post=[], resolution=resolution)
    c = costs_per_month(res)
    years = ((sc.simulation.end - sc.simulation.start).days + 1) / 365.25
    k = res.kpi_summary().set_index("kpi")
    occupied = (c.occupied_regular.sum() + c.occupied_emergency.sum()) / years / 1e6
    assert occupied == pytest.approx(k.loc["reception_cost_per_year", "mean"], rel=1e-9)
    assert len(c) == 8  # January to mid-August
    flows = res.flows.groupby("flow", observed=True).persons.sum() / res.replicates
    assert c.decisions.sum() == pytest.approx(flows["decisions"] * sc.costs.ind_decision, rel=1e-9)
    assert c.housed.sum() == pytest.approx(flows["housed"] * sc.costs.municipality_housed, rel=1e-9)
    assert (c.empty_places >= 0).all()


def test_hired_ind_staff_cost_their_training(surge_run):
    """The IND hiring policy's cohorts are paid from the start of their training (P14: nine months) to the
    day they decide from, at the IND's cost per decision for the decisions a day they will make; the
    recruitment months before are not paid."""
    sc0, *_ = surge_run
    sc = sc0.replace(**{"decision_policy.kind": "threshold"})
    c = compile_replicate(sc, replicate_key(np.random.SeedSequence(7, spawn_key=(0,))))
    run = Run.start(c, default_hooks(c)).finish()
    hiring = run.hook("decision_policy").table()
    assert (hiring.hired > 0).any()
    costs = replicate_costs(output_of(run), sc, run.hook("reception_policy").table(),
                            np.asarray(c.inputs.cap_regular), decision_table=hiring)
    si, T = c.grid.start_index, c.grid.T
    train = int(round(9 * DAYS_PER_MONTH))
    days = [(r.hired / 7.0) * max(min(int(r.deciding_from), T) - max(int(r.deciding_from) - train, si), 0)
            for r in hiring.itertuples() if r.hired > 0]
    tr = costs[costs.item == "training"]
    assert tr.quantity.sum() == pytest.approx(sum(days), rel=1e-12) and sum(days) > 0
    assert tr.eur.sum() == pytest.approx(sum(days) * sc.costs.ind_decision, rel=1e-12)
    assert (tr.partner == "ind").all()
    # without the hiring table nothing is charged for training
    plain = replicate_costs(output_of(run), sc, run.hook("reception_policy").table(), np.asarray(c.inputs.cap_regular))
    assert plain[plain.item == "training"].eur.sum() == 0
