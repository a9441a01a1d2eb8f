"""Routing, parameters, tables, staffing and the report hooks of the border model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pydantic import ValidationError

from ketenplan.border import (WAIT_COLUMNS, BorderParams, day_from_params, default_day, figure, parameter_table,
                              run_day, simulate_pool, staffing_table, stationary_day, with_servers)
from ketenplan.border.model import DESK, EGATE, MAX_TRAVELLERS, check_day, draw_travellers
from ketenplan.errors import ScenarioError


def test_params_declared_with_unit_source_note_years():
    for name, f in BorderParams.model_fields.items():
        extra = f.json_schema_extra
        assert f.description and "[" in f.description, name
        for key in ("unit", "source", "note", "years"):
            assert extra.get(key), (name, key)
    assert len(parameter_table()) == len(BorderParams.model_fields)
    p = BorderParams()
    with pytest.raises(ValidationError):
        p.desks = 3  # frozen
    with pytest.raises(ValidationError):
        BorderParams(unknown=1)
    with pytest.raises(ValidationError):
        BorderParams(hourly_profile=(1 / 23,) * 23)
    with pytest.raises(ValidationError):
        BorderParams(hourly_profile=(0.5,) + (0.5 / 23,) * 22 + (0.1,))


def test_default_mix_from_sources():
    p = BorderParams()
    assert p.entry_travellers_per_day == pytest.approx(40_000)          # B2 x entry share
    assert p.ees_share == pytest.approx(0.22 * 1.0 * 0.5)                # G10/B2 x G4 x assumption
    assert p.egate_share == pytest.approx(0.78 * 0.6)
    assert sum(p.arrivals_per_hour()) == pytest.approx(40_000)
    assert p.egate_service_seconds == pytest.approx(3600 / 500)          # G9


def test_routing_shares_and_service_means():
    day = day_from_params()
    day = with_servers(day, egates=[0] * 6 + [39] * 18)                  # gates closed 00-06
    tr = draw_travellers(day, 30, 4)
    closed = tr.hour < 6
    assert not (tr.pool[closed] == EGATE).any()                          # closed gates: everybody at desks
    share = (tr.pool[~closed] == EGATE).mean()
    assert share == pytest.approx(day.egate_share, abs=0.005)
    assert not (tr.ees & (tr.pool == EGATE)).any()                       # EES registrations only at desks
    assert tr.ees.mean() == pytest.approx(day.ees_share, abs=0.003)
    plain = (tr.pool == DESK) & ~tr.ees
    assert tr.service[plain].mean() == pytest.approx(45.0, rel=0.01)
    assert tr.service[tr.ees].mean() == pytest.approx(165.0, rel=0.01)
    assert tr.service[tr.pool == EGATE].mean() == pytest.approx(7.2, rel=0.01)
    cv = tr.service[tr.pool == EGATE].std() / tr.service[tr.pool == EGATE].mean()
    assert cv == pytest.approx(0.5, rel=0.03)
    counts = np.bincount(tr.hour, minlength=24) / 30
    assert np.allclose(counts, day.arrivals, rtol=0.05, atol=5)
    for r in range(30):                                                  # sorted arrivals within each day
        a = tr.arrival[tr.rep_start[r]:tr.rep_start[r + 1]]
        assert np.all(np.diff(a) >= 0) and a.min() >= 0 and a.max() < 24 * 3600


def test_ees_registrations_lengthen_desk_waits():
    base = day_from_params(BorderParams(ees_rollout_share=0.10))
    full = day_from_params(BorderParams(ees_rollout_share=1.0))
    w0 = run_day(base, 20, 1).waits_table()
    w1 = run_day(full, 20, 1).waits_table()
    assert w1.p90_wait_min.max() > w0.p90_wait_min.max() + 1.0


def test_default_day_table_and_figure():
    df = default_day()
    assert tuple(df.columns) == WAIT_COLUMNS and len(df) == 24
    assert df.hour.tolist() == list(range(24))
    assert df.arrivals.sum() == pytest.approx(40_000, rel=1e-3)
    assert (df.p90_wait_min >= df.p50_wait_min).all()
    assert df.p90_wait_min.iloc[7:10].max() > 5 and df.p90_wait_min.iloc[0:5].max() < 1  # morning wave
    fig = figure(df)
    names = [t.name for t in fig.data]
    assert {"p50 wait", "p90 wait", "desks", "eGates"} <= set(names)
    small = default_day(BorderParams(daily_border_travellers=20_000))
    assert small.p90_wait_min.max() < df.p90_wait_min.max()


def test_tables_account_for_every_traveller():
    run = run_day(day_from_params(), 5, 2)
    pools = run.pools_table()
    assert pools.arrivals.sum() * 5 == pytest.approx(len(run.travellers), abs=1)
    w = run.waits_table()
    assert set(w.desks) == {30} and set(w.egates) == {39}
    assert np.isfinite(run.wait).all() and (run.wait >= 0).all()


def test_staffing_meets_target_with_common_draws():
    run = run_day(day_from_params(), 10, 3)
    staff = staffing_table(run, 15.0, max_replications=10)
    assert (staff.desk_p90_wait_min <= 15.0 + 1e-6).all()
    _, desk = run.travellers.select(DESK)
    w = simulate_pool(desk.arrival, desk.service, desk.rep_start, staff.desks_needed.to_numpy())
    for h in range(24):
        assert np.quantile(w[desk.hour == h], 0.9) <= 15 * 60 + 1e-6
    # fewer desks in the peak hour on its own breaks the target there or in an earlier hour
    cut = staff.desks_needed.to_numpy().copy()
    h = int(np.argmax(cut))
    cut[h:] -= 1
    w2 = simulate_pool(desk.arrival, desk.service, desk.rep_start, cut)
    worst = max(np.quantile(w2[desk.hour == k], 0.9) for k in range(h + 1))
    assert worst > 15 * 60
    loose = staffing_table(run, 120.0, max_replications=10)
    assert loose.desks_needed.sum() < staff.desks_needed.sum()
    with pytest.raises(ScenarioError):
        staffing_table(run, 0.0)


def test_refuses_absurd_sizes_and_missing_desks():
    with pytest.raises(ScenarioError, match="limit"):
        check_day(stationary_day(1e12, 20), 1)
    with pytest.raises(ScenarioError, match="limit"):
        check_day(day_from_params(), MAX_TRAVELLERS // 40_000 + 1)
    day = with_servers(day_from_params(), desks=[0] + [30] * 23)
    with pytest.raises(ScenarioError, match="desks in hour 0"):
        check_day(day, 1)
    with pytest.raises(ScenarioError, match="arrivals in hour 3"):
        check_day(replace(day_from_params(), arrivals=(1.0,) * 3 + (float("nan"),) + (1.0,) * 20), 1)


def test_every_parameter_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "border.md").read_text()
    for name, f in BorderParams.model_fields.items():
        assert f"`{name}`" in text, name
        src = f.json_schema_extra["source"]
        if src.startswith("assumption: "):
            assert f"**{src.split(': ')[1].split()[0]}**" in text, name
    for name in ("ees_two_minutes", "egates_half_at_entry", "flat_roster_30_desks"):
        assert f"**{name}**" in text
