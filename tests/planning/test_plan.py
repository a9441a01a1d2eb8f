"""plan-capacity (P3.5, P3.4): beds at assurance levels, the Pareto front, common random numbers,
policies that differ in the expected direction, policy files and the command's errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketenplan.cli import app
from ketenplan.errors import ScenarioError
from ketenplan.planning import (apply_policy, beds_at_assurance, builtin_policies, pareto_front, plan_capacity,
                                read_policy, resolve_policies)
from ketenplan.scenario import load_scenario

runner = CliRunner()
SURGE = [{"kind": "surge", "onset": dt.date(2025, 3, 1)}]


def _short(end=dt.date(2026, 6, 30), **changes):
    return load_scenario("nl_baseline").replace(**{"simulation.end": end, "simulation.warmup_years": 1, **changes})


def test_beds_at_assurance_against_numpy_and_by_hand():
    runs, months = 100, 3
    need = np.arange(runs)[:, None] * 10.0 + np.arange(months)[None, :]  # run r, month m: 10 r + m
    rng = np.random.default_rng(3)
    need = need[rng.permutation(runs)]  # the order of the runs does not matter
    b = beds_at_assurance(need)
    # linear interpolation between order statistics: level q sits at position q x 99
    for k, lv in enumerate((0.5, 0.8, 0.9, 0.95)):
        assert np.allclose(b[k], lv * 99 * 10 + np.arange(months))
    assert np.allclose(b, np.quantile(need, [0.5, 0.8, 0.9, 0.95], axis=0))
    # the meaning: with b90 beds the month's peak is covered in at least 90% of the runs
    assert ((need <= b[2]).mean(axis=0) >= 0.9).all()


def test_pareto_front_by_hand():
    cost = np.array([10.0, 12.0, 11.0, 10.0, 15.0])
    risk = np.array([0.5, 0.1, 0.6, 0.5, 0.1])
    # 0 and 3 tie (neither dominates the other), 2 is dominated by 0, 4 by 1
    assert pareto_front(cost, risk).tolist() == [True, True, False, True, False]


@pytest.fixture(scope="module")
def surge_plan():
    sc = _short(end=dt.date(2027, 6, 30), **{"inflow.shocks": SURGE})
    return plan_capacity(sc, list(builtin_policies().values()), runs=2, seed=11, backend="serial")


def test_common_random_numbers_across_policies_and_invocations(surge_plan):
    """The same seed gives the fixed policy's runs identically in a second invocation; every policy
    sees the same cases (need in the first month, before any policy can act, is the same)."""
    sc = surge_plan.scenario
    again = plan_capacity(sc, [builtin_policies()["fixed"]], runs=2, seed=11, backend="serial")
    a, b = surge_plan.policies[0], again.policies[0]
    assert np.array_equal(a.need, b.need) and np.array_equal(a.quantities, b.quantities)
    pd.testing.assert_frame_equal(a.scalars, b.scalars)
    first = [pr.need[:, 0] for pr in surge_plan.policies]
    assert all(np.array_equal(first[0], f) for f in first[1:])
    # the decisions (IND) do not depend on reception capacity: identical under every policy
    dec = [pr.quantities[:, :, 6] for pr in surge_plan.policies]
    assert all(np.array_equal(dec[0], d) for d in dec[1:])
    other = plan_capacity(sc, [builtin_policies()["fixed"]], runs=2, seed=12, backend="serial")
    assert not np.array_equal(other.policies[0].need, a.need)


def test_policies_differ_in_the_expected_direction(surge_plan):
    """Under a surge, capacity that follows the need (myopic) takes most of the overflow out of emergency
    places; a buffer with standby places takes out more, at a higher holding cost (empty and standby
    places) than fixed capacity."""
    s = surge_plan.summary().set_index("policy")
    e = s.emergency_place_days_mean
    assert e["buffer"] < e["myopic"] < 0.5 * e["fixed"]
    holding = {pr.policy.name: pr.costs[:, :, [2, 3]].sum(axis=(1, 2)).mean() for pr in surge_plan.policies}
    assert holding["buffer"] > holding["fixed"]
    assert s.loc["buffer", "standby_activated_mean"] == 2000 and s.loc["fixed", "places_opened_mean"] == 0
    # emergency places cost twice a regular one: fixed capacity is the dearest under a surge
    assert s.loc["fixed", "cost_mean_eur"] > max(s.loc["myopic", "cost_mean_eur"], s.loc["buffer", "cost_mean_eur"])
    assert not s.loc["fixed", "pareto"]


def test_plan_tables(surge_plan):
    b = surge_plan.beds_needed()
    assert list(b.columns) == ["month", "policy", "p50", "p80", "p90", "p95", "capacity_median"]
    assert (b.p50 <= b.p80).all() and (b.p80 <= b.p90).all() and (b.p90 <= b.p95).all()
    assert len(b) == 3 * len(surge_plan.months) and b.month.iloc[0] == "2025-01"
    c = surge_plan.costs_monthly()
    tot = c.groupby("policy").eur_mean.sum()
    s = surge_plan.summary().set_index("policy")
    assert np.allclose(tot[s.index], s.cost_mean_eur)
    assert np.allclose(s.cost_coa_eur + s.cost_ind_eur + s.cost_municipalities_eur, s.cost_mean_eur)
    assert (s.cost_p10_eur <= s.cost_mean_eur + 1e-6).all() and (s.cost_mean_eur <= s.cost_p90_eur + 1e-6).all()
    assert "persons waiting" in surge_plan.bottleneck()


def test_policy_file_applies_and_errors_name_the_file_and_key(tmp_path):
    good = tmp_path / "wide.toml"
    good.write_text('name = "wide"\ndescription = "a larger buffer"\n[reception_policy]\nkind = "threshold"\n'
                    'buffer_places = 5000\n[costs]\nopen_place = 1000\n')
    p = read_policy(good)
    sc = apply_policy(_short(), p)
    assert (p.name, sc.reception_policy.buffer_places, sc.costs.open_place) == ("wide", 5000, 1000)
    assert sc.inflow == _short().inflow
    bad_key = tmp_path / "typo.toml"
    bad_key.write_text('[reception_policy]\nbuffer_placs = 10\n')
    with pytest.raises(ScenarioError, match=r"(?s)typo\.toml.*reception_policy\.buffer_placs.*buffer_places"):
        apply_policy(_short(), read_policy(bad_key))
    section = tmp_path / "inflow.toml"
    section.write_text('[inflow]\nsource = "forecast"\n')
    with pytest.raises(ScenarioError, match=r"inflow\.toml: unknown key 'inflow'"):
        read_policy(section)
    with pytest.raises(ScenarioError, match="neither a built-in policy"):
        resolve_policies(["nonsense"])
    with pytest.raises(ScenarioError, match=r"nosuch\.toml: no such policy file; expected a policy \.toml file or a "
                       r"built-in policy \(fixed, myopic, buffer\)"):
        resolve_policies([str(tmp_path / "nosuch.toml")])
    with pytest.raises(ScenarioError, match="is a folder; expected a policy .toml file"):
        resolve_policies([str(tmp_path)])
    with pytest.raises(ScenarioError, match="must differ"):
        resolve_policies(["fixed,fixed"])
    assert [p.name for p in resolve_policies(["fixed,myopic", str(good)])] == ["fixed", "myopic", "wide"]


def test_cli_bad_policy_file_names_file_and_key_and_leaves_nothing(tmp_path):
    pol = tmp_path / "bad.toml"
    pol.write_text('[reception_policy]\nkind = "sometimes"\n')
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan-capacity", "nl_baseline", "--policies", str(pol), "--runs", "2", "--out", str(out)])
    assert r.exit_code == 2
    assert "bad.toml" in r.output and "reception_policy.kind" in r.output and "Traceback" not in r.output
    assert not out.exists()
    r = runner.invoke(app, ["plan-capacity", "nl_baseline", "--runs", "0", "--out", str(out)])
    assert r.exit_code == 2 and "--runs" in r.output and not out.exists()
    r = runner.invoke(app, ["plan-capacity", "nl_baseline", "--policies", str(tmp_path / "missing.toml"),
                            "--out", str(out)])
    assert r.exit_code == 2 and "missing.toml" in r.output and not out.exists()


def test_cli_writes_the_plan(tmp_path):
    sc = tmp_path / "short.toml"
    sc.write_text('base = "nl_baseline"\nname = "short"\n[simulation]\nend = 2025-06-30\nwarmup_years = 1\n')
    out = tmp_path / "out"
    r = runner.invoke(app, ["plan-capacity", str(sc), "--runs", "2", "--backend", "serial", "--out", str(out),
                            "--policies", "fixed", "--policies", "buffer"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["beds_needed.csv", "costs_monthly.csv", "plan.html",
                                                     "plan_summary.csv"]
    s = pd.read_csv(out / "plan_summary.csv")
    assert s.policy.tolist() == ["fixed", "buffer"] and (s.runs == 2).all()
    b = pd.read_csv(out / "beds_needed.csv")
    assert b.month.nunique() == 6 and set(b.policy) == {"fixed", "buffer"}


def test_a_policy_with_its_own_capacity_runs_on_the_same_cases(tmp_path):
    """A policy that changes the capacity series is compiled on its own, on the same random numbers."""
    from ketenplan.planning.plan import compile_groups

    f = tmp_path / "more.toml"
    f.write_text('name = "more"\n[[reception.capacity_regular]]\nstart = 2025-01-01\nvalue = 90000\n')
    pols = [builtin_policies()["fixed"], builtin_policies()["buffer"], read_policy(f)]
    sc = _short(**{"inflow.shocks": SURGE})
    assert compile_groups([apply_policy(sc, p) for p in pols]) == [[0, 1], [2]]
    plan = plan_capacity(sc, pols, runs=2, seed=5, backend="serial")
    fixed, _, more = plan.policies
    assert np.array_equal(fixed.quantities[:, :, 6], more.quantities[:, :, 6])  # the same decisions
    assert more.scalars.emergency_place_days.sum() == 0 < fixed.scalars.emergency_place_days.sum()
    assert (more.capacity == 90000).all()


def test_wilson_interval_against_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    from ketenplan._stats import wilson_interval

    for k, n in ((0, 20), (20, 20), (7, 20), (130, 1000)):
        lo, hi = proportion_confint(k, n, alpha=0.1, method="wilson")
        assert wilson_interval(k, n, 0.9) == pytest.approx((lo, hi), abs=1e-12)
    assert wilson_interval(0, 20)[1] == pytest.approx(0.11916, abs=1e-5)  # 0 of 20: up to 12% is not ruled out
