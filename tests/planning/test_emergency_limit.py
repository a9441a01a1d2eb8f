"""An emergency-reception limit (P3.5): emergency places take the overflow of regular places up to
``reception_policy.emergency_limit``; the persons above it stay in the chain without a place. Checked
by hand on arrays, and on a surge run against the same run without a limit (the limit splits a count,
so the chain itself must not change)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import ketenplan
from ketenplan.engine import registry as R
from ketenplan.engine.results import replicate_kpis, split_overflow
from ketenplan.planning.costs import day_quantities
from ketenplan.scenario import ScenarioError, load_scenario, scenario_from_dict
from ketenplan.scenario.planning import ReceptionPolicy

LIMIT = 300


def test_split_by_hand():
    over = np.array([0, 120, 450, 300, 301])
    e, w = split_overflow(over, ReceptionPolicy(emergency_limit=300))
    assert e.tolist() == [0, 120, 300, 300, 300] and w.tolist() == [0, 0, 150, 0, 1]
    e, w = split_overflow(over, ReceptionPolicy())  # no limit: everyone in an emergency place
    assert e.tolist() == over.tolist() and not w.any()
    e, w = split_overflow(over, ReceptionPolicy(emergency_limit=0))  # no emergency reception at all
    assert not e.any() and w.tolist() == over.tolist()
    e, w = split_overflow(over, ReceptionPolicy(emergency_limit=1e30))  # beyond any integer: no limit in effect
    assert e.tolist() == over.tolist() and not w.any() and e.dtype == over.dtype


def test_people_without_a_place_cost_no_reception_price():
    """Ten in COA on a day, four without a regular bed, a limit of one emergency place: six regular, one
    emergency, three without a place; they still count in COA occupancy (the need)."""
    e, w = split_overflow(np.array([4]), ReceptionPolicy(emergency_limit=1))
    q = day_quantities(coa=[10], emergency=e, without_place=w, regular=[6], cap_regular=[6], small=[0],
                       cap_small=[0], standby_held=[0], opened=[0], closed=[0], decisions=[0], housed=[0],
                       housed_adults=[0])
    assert q[0, 0] == 6 and q[0, 1] == 1


def test_limit_must_not_be_negative():
    data = load_scenario("nl_baseline").to_dict()
    data["reception_policy"]["emergency_limit"] = -5
    with pytest.raises(ScenarioError, match=r"reception_policy\.emergency_limit': expected a value >= 0.0, found -5"):
        scenario_from_dict(data, "policy.toml")


@pytest.fixture(scope="module")
def runs():
    base = load_scenario("nl_baseline").replace(**{
        "simulation.end": dt.date(2026, 6, 30), "inflow.shocks": [{"kind": "surge", "onset": dt.date(2025, 3, 1)}]})
    limited = base.replace(**{"reception_policy.emergency_limit": LIMIT})
    kw = dict(seed=11, replicates=2, backend="serial", post=[])
    return base, limited, ketenplan.simulate(base, **kw), ketenplan.simulate(limited, **kw)


def _stock(res, dim, cat, col="persons_mean"):
    s = res.stocks
    return s[(s.dimension == dim) & (s.category == cat)].sort_values(["replicate", "date"])[col].to_numpy()


def test_the_limit_splits_the_overflow_and_changes_nothing_else(runs):
    base, limited, rb, rl = runs
    over = _stock(rb, "location", "emergency", "persons")
    assert over.max() > LIMIT  # the surge overflows the limit, so the test means something
    # the chain is the same run: every other stock and every flow as without a limit
    assert np.array_equal(_stock(rb, "derived", "coa_occupancy", "persons"),
                          _stock(rl, "derived", "coa_occupancy", "persons"))
    assert np.array_equal(rb.flows.sort_values(["replicate", "date", "flow"]).persons.to_numpy(),
                          rl.flows.sort_values(["replicate", "date", "flow"]).persons.to_numpy())
    # on the last day of each month: emergency = min(overflow, limit), without a place = the rest
    e, w = _stock(rl, "location", "emergency", "persons"), _stock(rl, "derived", "without_place", "persons")
    assert np.array_equal(e, np.minimum(over, LIMIT)) and np.array_equal(w, over - np.minimum(over, LIMIT))
    assert not _stock(rb, "derived", "without_place", "persons").any()
    kb, kl = rb.kpi_summary().set_index("kpi")["mean"], rl.kpi_summary().set_index("kpi")["mean"]
    assert kl["emergency_occupancy_peak"] == pytest.approx(LIMIT)
    assert kl["without_place_peak"] == pytest.approx(kb["emergency_occupancy_peak"] - LIMIT)
    assert kl["shortage_days"] == kb["shortage_days"] and kl["without_place_days"] > 0 and kb["without_place_peak"] == 0
    # the reception cost drops by the emergency price of the person-days without a place
    assert kl["reception_cost_per_year"] < kb["reception_cost_per_year"]


def test_reception_cost_of_a_limited_run_by_hand(runs):
    """The key figure against the daily arrays: regular price for everyone with a regular bed, the
    emergency price up to the limit, nothing above it."""
    from ketenplan.engine.compile import compile_replicate
    from ketenplan.engine.rng import replicate_key
    from ketenplan.engine.run import default_hooks, output_of
    from ketenplan.engine.state import Run

    _, limited, _, _ = runs
    c = compile_replicate(limited, replicate_key(np.random.SeedSequence(5, spawn_key=(0,))))
    out = output_of(Run.start(c, default_hooks(c)).finish())
    si = c.grid.start_index
    ls, ss = out.loc_stock[si:], out.stage_stock[si:]
    coa = R.derived_stock("coa_occupancy", ss, ls).astype(float)
    over = ls[:, R.LOC["emergency"]].astype(float)
    r = limited.reception
    hand = ((coa - over) * r.cost_regular + np.minimum(over, LIMIT) * r.cost_emergency).sum()
    years = (c.grid.T - si) / 365.25
    assert replicate_kpis(out, limited)["reception_cost_per_year"] == pytest.approx(hand / years / 1e6, rel=1e-12)
    assert over.max() > LIMIT


def test_run_report_costs_with_a_limit_match_the_key_figure(runs):
    from ketenplan.report import costs_per_month

    _, limited, _, rl = runs
    c = costs_per_month(rl)
    sc = limited
    years = ((sc.simulation.end - sc.simulation.start).days + 1) / 365.25
    occupied = (c.occupied_regular.sum() + c.occupied_emergency.sum()) / years / 1e6
    assert occupied == pytest.approx(rl.kpi_summary().set_index("kpi").loc["reception_cost_per_year", "mean"],
                                     rel=1e-9)
