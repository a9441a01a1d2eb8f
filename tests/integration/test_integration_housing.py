"""Housing market (P6.5): realisable housing of permit holders per half-year."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenplan.errors import DataError
from ketenplan.integration import HousingMarket, housing_market, ukrainian_competing_dwellings

tasks = st.floats(0, 60000)
demand = st.floats(0, 50000)


def test_default_half_year_by_hand():
    """84,500 lettings x 12 % = 10,140 pool; 6,000 households vs 5,070 others -> 5,493 rationed;
    the 6 % ceiling (5,070) binds; capacity 10,000 x 5,070 / 6,000 persons."""
    r = housing_market(10000, 6000)
    assert r.pool_dwellings == pytest.approx(10140)
    assert r.granted_dwellings == pytest.approx(5070)
    assert r.binding == "permit-holder ceiling"
    assert r.capacity_persons == pytest.approx(10000 * 5070 / 6000)
    assert r.shortfall_persons == pytest.approx(10000 - 8450)


def test_small_task_is_housed_in_full():
    r = housing_market(1500, 900)
    assert r.capacity_persons == 1500 and r.binding == "task" and r.shortfall_persons == 0


def test_pool_binds_when_urgent_demand_is_high():
    r = housing_market(10000, 6000, competing_urgent_dwellings=20000)
    assert r.binding == "priority pool"
    assert r.granted_dwellings == pytest.approx(10140 * 6000 / 26000)


@settings(max_examples=60, deadline=None)
@given(task=tasks, share=st.floats(0.3, 1.0), other=demand, extra=demand)
def test_more_competition_never_raises_capacity(task, share, other, extra):
    hh = max(task * share, 1e-9) if task > 0 else 0.0
    a = housing_market(task, hh, competing_urgent_dwellings=other)
    b = housing_market(task, hh, competing_urgent_dwellings=other + extra)
    assert b.capacity_persons <= a.capacity_persons + 1e-9
    assert 0 <= a.capacity_persons <= task + 1e-9


@settings(max_examples=60, deadline=None)
@given(task=tasks, lettings=st.floats(0, 200000), extra=st.floats(0, 100000))
def test_more_lettings_never_lowers_capacity(task, lettings, extra):
    hh = task * 0.6
    a = housing_market(task, hh, lettings=lettings)
    b = housing_market(task, hh, lettings=lettings + extra)
    assert b.capacity_persons >= a.capacity_persons - 1e-9
    assert 0 <= a.share_realisable <= 1


def test_other_supply_adds_dwellings():
    p = HousingMarket(other_supply_dwellings=1000)
    assert housing_market(10000, 6000, p).granted_dwellings == pytest.approx(6000)


def test_ukrainians_compete_for_the_pool():
    """91,220 displaced Ukrainians in municipal reception (March 2024, domain notes K10), 10 %
    moving on per half-year at 2 per dwelling: 4,561 extra urgent households."""
    extra = ukrainian_competing_dwellings(91220, 0.10)
    assert extra == pytest.approx(4561)
    p = HousingMarket(max_share_permit_holders=0.10)      # the Aedes 2023-2024 level: the pool binds
    base = housing_market(20000, 12000, p, lettings=80000)
    tight = housing_market(20000, 12000, p, lettings=80000,
                           competing_urgent_dwellings=p.competing_urgent_dwellings + extra)
    assert tight.binding == "priority pool"
    assert tight.capacity_persons < base.capacity_persons


@pytest.mark.parametrize("kwargs, message", [
    ({"task_persons": -1}, "task_persons: expected a non-negative number"),
    ({"task_persons": 10, "task_households": 0}, "task_households: expected a positive number"),
    ({"task_persons": 10, "competing_urgent_dwellings": -5}, "competing_urgent_dwellings: expected a non-negative"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(DataError, match=message):
        housing_market(**kwargs)
