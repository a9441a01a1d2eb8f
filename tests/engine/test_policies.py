"""Capacity policies (P3.5): the threshold rule opens places from what it has seen, after its lead
times, never below the scenario's own capacity, and closes only places past their minimum life."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ketenplan.engine import registry as R
from ketenplan.engine.compile import compile_replicate
from ketenplan.engine.policies import DAYS_PER_MONTH
from ketenplan.engine.rng import replicate_key
from ketenplan.engine.run import default_hooks
from ketenplan.engine.state import Run
from ketenplan.scenario import load_scenario

SURGE = dt.date(2026, 1, 1)


def _run(**changes):
    sc = load_scenario("nl_baseline").replace(**{"simulation.end": dt.date(2029, 12, 31), **changes})
    c = compile_replicate(sc, replicate_key(np.random.SeedSequence(1, spawn_key=(0,))))
    return c, Run.start(c, default_hooks(c)).finish()


@pytest.fixture(scope="module")
def runs():
    surge = [{"kind": "surge", "onset": SURGE}]
    return {kind: _run(**{"reception_policy.kind": kind, "inflow.shocks": surge}) for kind in ("fixed", "threshold")}


def _emergency_days(c, run):
    return float(run.state.loc_stock[c.grid.start_index:, R.LOC["emergency"]].sum())


def test_fixed_leaves_capacity_as_given(runs):
    c, run = runs["fixed"]
    assert np.array_equal(run.inputs.cap_regular, c.inputs.cap_regular)
    with pytest.raises(KeyError):
        run.hook("reception_policy")


def test_threshold_follows_the_need(runs):
    cf, fixed = runs["fixed"]
    ct, thr = runs["threshold"]
    # the same cases arrive (common random numbers); capacity that follows the need takes most of the
    # overflow out of emergency places
    assert np.array_equal(cf.case["arrival_day"], ct.case["arrival_day"])
    assert _emergency_days(ct, thr) < 0.25 * _emergency_days(cf, fixed)
    # never below the scenario's own capacity
    assert (thr.inputs.cap_regular >= ct.inputs.cap_regular - 1e-9).all()


def test_changes_come_exactly_after_the_lead_times(runs):
    c, run = runs["threshold"]
    p = c.policy
    book = run.hook("reception_policy").table()
    m = lambda months: int(round(months * DAYS_PER_MONTH))  # noqa: E731
    expected = np.zeros(c.grid.T)
    for r in book.itertuples():
        for lead, n in ((p.open_lead_months, r.opened), (p.standby_lead_months, r.standby_activated),
                        (p.close_lead_months, -r.closed)):
            if n and r.day + m(lead) < c.grid.T:
                expected[r.day + m(lead)] += n
    added = np.diff(np.r_[0.0, run.inputs.cap_regular - c.inputs.cap_regular])
    assert np.allclose(added, expected)
    assert book.opened.sum() > 0
    # reviews every review_months from the first reported day
    assert book.day.iloc[0] == c.grid.start_index and len(book) >= 8


def test_decisions_see_only_the_past(runs):
    """A surge that starts later changes nothing that was decided before it started."""
    c1, early = runs["threshold"]
    later = dt.date(2027, 7, 1)
    c2, late = _run(**{"reception_policy.kind": "threshold", "inflow.shocks": [{"kind": "surge", "onset": later}]})
    d = (later - c2.grid.day0).days
    b1, b2 = early.hook("reception_policy").table(), late.hook("reception_policy").table()
    none = _run(**{"reception_policy.kind": "threshold"})[1].hook("reception_policy").table()
    before = b2.day < d
    assert before.sum() >= 4
    assert b2[before].equals(none[none.day < d])  # the later surge: decisions before it as without any
    assert not b1[b1.day < d].equals(none[none.day < d])  # the early surge does change them


def test_closes_only_places_past_their_minimum_life():
    # a one-year surge met by enough IND capacity: the need falls again and places close
    sc_changes = {"reception_policy.kind": "threshold", "reception_policy.min_life_months": 12,
                  "decision_capacity.total": [{"start": dt.date(2025, 1, 1), "value": 2500}],
                  "inflow.shocks": [{"kind": "surge", "onset": SURGE, "duration_months": 12}]}
    c, run = _run(**sc_changes)
    book = run.hook("reception_policy").table()
    first_open = book[book.opened > 0].day.min()
    closes = book[book.closed > 0]
    assert len(closes) and closes.closed.sum() <= book.opened.sum() + book.standby_activated.sum()
    life = int(round(12 * DAYS_PER_MONTH))
    assert (closes.day >= first_open + life).all()
    # every cohort closed had lived its minimum life when the closure was decided
    opened = book[book.opened > 0]
    available = opened.day + int(round(c.policy.open_lead_months * DAYS_PER_MONTH))
    for r in closes.itertuples():
        assert r.closed <= opened.opened[available <= r.day - life].sum() + 1e-9
    # back to the scenario's own capacity once the surge is over
    assert run.inputs.cap_regular[-1] == c.inputs.cap_regular[-1]


def test_hiring_adds_ind_capacity_after_lead_and_training_and_sees_only_the_past():
    surge = [{"kind": "surge", "onset": SURGE}]
    c0, fixed = _run(**{"inflow.shocks": surge})
    c, hired = _run(**{"inflow.shocks": surge, "decision_policy.kind": "threshold"})
    desk = R.DESK["ind_general"]
    t = hired.hook("decision_policy").table()
    assert (t.hired > 0).any()
    wait = int(round((3 + 9) * DAYS_PER_MONTH))  # lead_months + training_months (P14)
    base = c.inputs.desk_cap[desk]
    added = hired.inputs.desk_cap[desk] - base
    # every hire decides exactly from lead + training after its review, and adds what the table says
    for r in t[t.hired > 0].itertuples():
        assert r.deciding_from == r.day + wait
    expected = np.zeros_like(added)
    for r in t[t.hired > 0].itertuples():
        expected[int(r.deciding_from):] += r.hired / 7.0
    assert np.allclose(added, expected)
    # a hire follows a stock above target_weeks of capacity, at most max_growth of the capacity
    h = t[t.hired > 0]
    assert (h.ind_pending / 26.0 > h.capacity_per_week + h.in_training).all()
    assert (h.hired <= 0.25 * h.capacity_per_week + 1e-9).all()
    # before the first hired capacity decides, the two runs are the same; afterwards the stock is lower
    first = int(h.deciding_from.min())
    assert np.array_equal(fixed.state.stage_stock[:first], hired.state.stage_stock[:first])
    pend = lambda run: R.derived_stock("ind_pending", run.state.stage_stock, run.state.loc_stock)  # noqa: E731
    assert pend(hired)[-1] < pend(fixed)[-1]
