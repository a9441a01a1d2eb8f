"""The queue kernel against hand traces and the Erlang C formula (P1.2 bar)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from erlang_ref import erlang_c_independent
from typer.testing import CliRunner

from ketenplan.border import erlang_c, erlang_c_wait, run_day, simulate_pool, stationary_day


def test_erlang_c_textbook_and_independent():
    # M/M/2 with load 1 (rho 0.5): P(wait) = 2 rho^2 / (1 + rho) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)
    # M/M/1: P(wait) = rho
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-12)
    for c, lam, s in ((20, 1200, 45), (5, 300, 50), (80, 5000, 50), (150, 10_000, 52)):
        ours = erlang_c_wait(lam, c, s)
        ref = erlang_c_independent(c, lam, s)
        for k in ("p_wait", "mean_wait_s", "p90_wait_s"):
            assert ours[k] == pytest.approx(ref[k], rel=1e-9, abs=1e-12), (c, lam, k)
    with pytest.raises(ValueError):
        erlang_c(10, 10.0)


def test_kernel_hand_trace_single_server():
    # one server, services 30 s, arrivals at 0, 10, 20 -> waits 0, 20, 40
    w = simulate_pool(np.array([0.0, 10.0, 20.0]), np.full(3, 30.0), np.array([0, 3]), np.array([1]))
    assert w.tolist() == [0.0, 20.0, 40.0]


def test_kernel_hand_trace_roster_drop_and_rise():
    # 'hours' of 100 s; 2 servers, then 1, then 2. A: busy 0-150; B: 10-60 then 90-140.
    # At 100 the server free first from then on (B, at 140) leaves. Traveller at 110 waits for A (150).
    # At 200 the removed server comes back; traveller at 205 finds both servers free.
    arr = np.array([0.0, 10.0, 90.0, 110.0, 160.0, 205.0])
    srv = np.array([150.0, 50.0, 50.0, 30.0, 100.0, 10.0])
    w = simulate_pool(arr, srv, np.array([0, 6]), np.array([2, 1, 2]), hour_seconds=100.0)
    # 110 starts at 150 (wait 40), ends 180; 160 starts at 180 (wait 20), ends 280; 205 starts at 205
    assert w.tolist() == [0.0, 0.0, 0.0, 40.0, 20.0, 0.0]


def test_kernel_no_server_left_is_inf():
    w = simulate_pool(np.array([10.0, 150.0]), np.array([5.0, 5.0]), np.array([0, 2]), np.array([1, 0]),
                      hour_seconds=100.0)
    assert w[0] == 0.0 and np.isinf(w[1])


def test_stationary_agrees_with_erlang_c_library_run():
    """1200/h, 20 desks, 45 s exponential: mean wait and P(wait > 0) within 2%, p90 within 3%
    (sampling error at this size ~0.6%, ~0.3%, ~0.7%: a wrong server count or discipline moves
    them by 30% or more)."""
    run = run_day(stationary_day(1200, 20, 0, service_seconds=45), replications=348, seed=1)
    s = run.summary()
    ref = erlang_c_independent(20, 1200, 45)
    assert s["mean_wait_s"] == pytest.approx(ref["mean_wait_s"], rel=0.02)
    assert s["p_wait"] == pytest.approx(ref["p_wait"], rel=0.02)
    assert s["p90_wait_s"] == pytest.approx(ref["p90_wait_s"], rel=0.03)


def test_stationary_heavier_load_p90():
    """17 desks at load 15 (rho 0.88): a case with a real queue; the p90 formula of Erlang C."""
    run = run_day(stationary_day(1200, 17, 0, service_seconds=45), replications=100, seed=3)
    s = run.summary()
    ref = erlang_c_independent(17, 1200, 45)
    assert s["mean_wait_s"] == pytest.approx(ref["mean_wait_s"], rel=0.05)
    assert s["p_wait"] == pytest.approx(ref["p_wait"], rel=0.02)
    assert s["p90_wait_s"] == pytest.approx(ref["p90_wait_s"], rel=0.05)


def _app():
    from ketenplan.cli import app

    return app


def test_cli_bar_command_agrees_with_erlang_c(tmp_path):
    """The P1.2 bar as a user runs it: ketenplan border --arrivals-per-hour 1200 --desks 20
    --egates 0 --service-seconds 45 prints the simulated and Erlang C figures; both within 2% of
    the independent formula."""
    res = CliRunner().invoke(_app(), ["border", "--arrivals-per-hour", "1200", "--desks", "20", "--egates", "0",
                                      "--service-seconds", "45", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    ref = erlang_c_independent(20, 1200, 45)
    mean = float(re.search(r"mean wait\s+([\d.]+) s", res.output).group(1))
    pw = float(re.search(r"P\(wait>0\)\s+([\d.]+)", res.output).group(1))
    assert mean == pytest.approx(ref["mean_wait_s"], rel=0.02)
    assert pw == pytest.approx(ref["p_wait"], rel=0.02)
    assert (tmp_path / "border_waits.csv").exists()
