"""plan-capacity --optimise: a seeded Optuna search of the threshold family under a shortage limit."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from ketenplan.cli import app
from ketenplan.planning.optimise import SPACE, optimise_policy
from ketenplan.testing import small_scenario


def _sc(**extra):
    return small_scenario(**{"simulation.end": dt.date(2025, 12, 31),
                             "reception.capacity_regular": [{"start": dt.date(2025, 1, 1), "value": 9000}], **extra})


def test_the_chosen_policy_is_the_cheapest_feasible_trial_and_the_search_is_reproducible():
    kw = dict(runs=2, trials=5, max_shortage=1.0, backend="serial", shortage_from_months=0, check_seeds=1)
    a = optimise_policy(_sc(), **kw)
    b = optimise_policy(_sc(), **kw)
    assert a.trials.equals(b.trials)  # seeded sampler, common random numbers: the same trials
    t = a.trials
    assert len(t) == 5 and t.feasible.all()
    best = t.loc[t.cost_mean_eur.idxmin()]
    chosen = a.chosen.changes["reception_policy"]
    assert chosen["kind"] == "threshold"
    for k, (lo, hi, step) in SPACE.items():
        assert chosen[k] == best[k] and lo <= chosen[k] <= hi
        assert abs((chosen[k] - lo) / step - round((chosen[k] - lo) / step)) < 1e-6  # on the grid
    # stability: the chosen and up to two runners-up on one other seed, the cheapest feasible marked
    s = a.stability
    assert set(s.seed) == {_sc().simulation.seed + 1} and "optimised" in set(s.policy)
    assert s.cheapest.sum() == 1 and s.loc[s.cheapest, "cost_mean_eur"].iloc[0] == s[s.feasible].cost_mean_eur.min()
    assert a.stable_share in (0.0, 1.0)


def test_a_limit_no_trial_meets_chooses_nothing():
    sc = _sc(**{"inflow.shocks": [{"kind": "surge", "onset": dt.date(2025, 2, 1)}]})
    o = optimise_policy(sc, runs=2, trials=3, max_shortage=0.0, backend="serial", shortage_from_months=0,
                        check_seeds=1)
    assert o.chosen is None and not o.trials.feasible.any() and o.stability.empty


@pytest.mark.parametrize("args, must", [(["--max-shortage", "2"], "--max-shortage"),
                                        (["--policies", "fixed"], "leave out --policies")])
def test_optimise_options_are_checked_before_anything_runs(tmp_path, args, must):
    out = tmp_path / "plan"
    r = CliRunner().invoke(app, ["plan-capacity", "nl_baseline", "--optimise", "--out", str(out), *args])
    assert r.exit_code == 2 and must in r.output and not out.exists()
