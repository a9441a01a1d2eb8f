"""The numba kernel against the SimPy reference (ketenplan.testing) on the same compiled inputs.

The reference is a separate, process-per-case SimPy model walking the same declared chain. With
SimPy's same-time tie rule set to the kernel's (last scheduled first) both must give identical
arrays; with SimPy's own rule (first scheduled first) key statistics must agree within 2%.
"""

from __future__ import annotations

import copy
import datetime as dt
import math

import numpy as np
import pytest

from ketenplan.engine import registry as R
from ketenplan.engine.compile import compile_replicate
from ketenplan.engine.rng import replicate_key
from ketenplan.engine.run import run_compiled
from ketenplan.testing import key_statistics, output_differences, relative_difference, run_reference

pytest.importorskip("simpy")

TOLERANCE_FIFO = 0.02  # plain SimPy tie order: key statistics within 2%
S, F, L = R.STAGE, R.FLOW, R.LOC


def _base():
    from ketenplan.scenario import load_scenario

    return load_scenario("nl_baseline").replace(**{"simulation.initial_state": "empty"})  # the reference's start


def stressed_scenario():
    """Two years (+1 warm-up) at 3,000 first applications/year with every constraint binding:
    registration and IND capacity short, too few regular places (emergency reception and
    upgrades), small-scale routing with a small capacity, given housing tasks, a capacity step."""
    y0 = dt.date(2025, 1, 1)
    return _base().replace(**{
        "simulation.start": y0, "simulation.end": dt.date(2026, 12, 31), "simulation.warmup_years": 1,
        "simulation.replicates": 1,
        "inflow.first.per_year": [{"start": y0, "value": 3000}],
        "inflow.subsequent.per_year": [{"start": y0, "value": 150}],
        "resettlement.quota": [{"start": y0, "value": 80}], "resettlement.direct_placement": False,
        "decision_capacity.pooling": "per_track", "detention.places": 15, "lvv.places": 8, "lvv.request_share": 0.5,
        "safe_third_country.shares": [{"group": "syria", "share": 0.2}], "minors.adequate_reception_share": 0.0,
        "registration.capacity_per_day": [{"start": y0, "value": 9}],
        "decision_capacity.general": [{"start": y0, "value": 25}, {"start": dt.date(2025, 9, 1), "value": 40}],
        "decision_capacity.safe": [{"start": y0, "value": 8}],
        "decision_capacity.dublin": [{"start": y0, "value": 12}],
        "reception.capacity_regular": [{"start": y0, "value": 1800}, {"start": dt.date(2026, 3, 1), "value": 1500}],
        "reception.capacity_small": [{"start": y0, "value": 120}],
        "levers.routing_small_scale": True,
        "housing.tasks": [{"period": "2025-H2", "value": 400}, {"period": "2026-H1", "value": 250}],
    })


LEVER_VARIANTS = {
    "pooled": {"decision_capacity.pooling": "shared", "decision_capacity.total": [{"start": dt.date(2024, 1, 1),
                                                                                  "value": 40}],
               "decision_capacity.regular_shares_asylum_capacity": True,
               "cooperation.changes": [{"group": "maghreb", "change": 1.0}], "cooperation.start_year": 2025,
               "cooperation.lag_months": 2},
    "levers": {"levers.triage": False, "levers.legal_aid_after_intended_rejection": True,
               "levers.no_hearing_repeat_without_chance": True, "housing.task_scale": 1.3,
               "inflow.nareis.mode": "given", "inflow.nareis.per_year": [{"start": dt.date(2025, 1, 1), "value": 500}]},
    "tight_reception": {"reception.capacity_regular": [{"start": dt.date(2024, 1, 1), "value": 900}],
                        "registration.capacity_per_day": [{"start": dt.date(2024, 1, 1), "value": 7}]},
}


def _compile(sc, seed):
    return compile_replicate(sc, replicate_key(np.random.SeedSequence(seed)))


@pytest.fixture(scope="module")
def compiled():
    return _compile(stressed_scenario(), 20250101)


@pytest.mark.parametrize("variant", sorted(LEVER_VARIANTS))
def test_simpy_reference_identical_variants(variant):
    c = _compile(stressed_scenario().replace(**LEVER_VARIANTS[variant]), 7)
    eng = run_compiled(copy.deepcopy(c))
    assert output_differences(eng, run_reference(copy.deepcopy(c))) == {}


@pytest.fixture(scope="module")
def engine_out(compiled):
    return run_compiled(copy.deepcopy(compiled))


def test_scenario_exercises_the_whole_chain(compiled, engine_out):
    """Guard against a vacuous comparison: every mechanism must be active in this scenario."""
    ls, ss, fl, r = engine_out.loc_stock, engine_out.stage_stock, engine_out.flows, engine_out.case
    assert ls[:, L["emergency"]].max() > 0 and ls[:, L["small_scale"]].max() > 0
    assert ss[:, S["waiting_registration"]].max() > 0 and ss[:, S["waiting_decision_general"]].max() > 0
    assert ss[:, S["housing_queue"]].max() > 0 and ss[:, S["extended_procedure"]].max() > 0
    assert ss[:, S["return_restricted"]].max() > 0 and ss[:, S["dublin_waiting"]].max() > 0
    assert fl[:, F["nareis_arrivals"]].sum() > 0 and fl[:, F["dublin_transfers"]].sum() > 0
    assert (r["outcome"] == R.OUTCOME["granted_on_appeal"]).any() and fl[:, F["statutory_breaches"]].sum() > 0
    assert fl[:, F["departures_forced"]].sum() > 0 and fl[:, F["housed"]].sum() > 0
    # the pillar-4 and pillar-5 stages: detention and LVV places bind, waits run out, minors wait, regular
    assert fl[:, F["renege_detention"]].sum() > 0 and fl[:, F["lvv_entries"]].sum() > 0
    assert fl[:, F["renege_lvv"]].sum() > 0 and ss[:, S["minor_until_18"]].max() > 0
    assert fl[:, F["third_country_transfers"]].sum() > 0 and fl[:, F["regular_grants"]].sum() > 0
    assert fl[:, F["joined_sponsor"]].sum() > 0 and fl[:, F["minors_aged_out"]].sum() > 0
    # emergency places free up for regular ones: the emergency stock falls on some days
    assert (np.diff(ls[:, L["emergency"]]) < 0).any()


def test_simpy_reference_identical(compiled, engine_out):
    ref = run_reference(copy.deepcopy(compiled))
    assert output_differences(engine_out, ref) == {}
    ks, kr = key_statistics(engine_out), key_statistics(ref)
    for k in ks:
        assert ks[k] == kr[k] or (math.isnan(ks[k]) and math.isnan(kr[k])), k


def test_simpy_plain_tie_rule_agrees(compiled, engine_out):
    """SimPy's own same-time order (first scheduled first) reorders same-day events only."""
    ref = run_reference(copy.deepcopy(compiled), tie="fifo")
    ks, kr = key_statistics(engine_out), key_statistics(ref)
    for k in ("coa_occupancy_mean", "decision_wait_general_days", "decision_wait_safe_days",
              "decision_wait_dublin_days", "housing_wait_days", "grants", "departures"):
        assert relative_difference(ks[k], kr[k]) <= TOLERANCE_FIFO, (k, ks[k], kr[k])


def test_comparison_detects_a_difference(compiled, engine_out):
    """The oracle can fail: one case's longer procedure must show up in the comparison."""
    c = copy.deepcopy(compiled)
    i = int(np.flatnonzero((c.case["stream"] == R.STREAM["first"]) & (c.case["arrival_day"] > 30)
                           & (c.inputs.track == R.TRACK["general"]))[0])
    c.inputs.dur[i, R.DURATION["procedure"]] += 3
    diff = output_differences(engine_out, run_reference(c))
    assert diff.get("stage_stock", 0) > 0 and diff.get("exit_day", 0) > 0
