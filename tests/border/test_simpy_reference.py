"""The numba kernel against the SimPy reference (ketenplan.testing_border) on identical draws.

Tolerance 1e-9 s: both consume the same arrival and service times and follow the same queue
discipline, so they give the same waits up to floating-point rounding (SimPy adds delays to its
clock, the kernel takes max(arrival, free-from)); any difference in the discipline (which server
leaves at a roster drop, who comes back, FCFS order) shows as seconds to minutes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenplan.border import day_from_params, run_day, simulate_pool, with_servers
from ketenplan.testing_border import simpy_day_waits, simpy_pool_waits

TOL = 1e-9


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert np.array_equal(np.isfinite(a), np.isfinite(b))
    fin = np.isfinite(a)
    assert np.max(np.abs(a[fin] - b[fin]), initial=0.0) <= TOL


def test_default_day_identical_to_simpy():
    day = day_from_params()
    run = run_day(day, replications=1, seed=11)
    assert len(run.travellers) > 30_000 and run.wait.max() > 600  # a real queue in the morning wave
    _same(run.wait, simpy_day_waits(day, run.travellers))


def test_time_varying_roster_identical_to_simpy():
    """Rosters that drop and rise every hour (including closed eGates), overloaded hours, 3 days."""
    rng = np.random.default_rng(5)
    day = with_servers(day_from_params(), rng.integers(1, 9, 24), rng.integers(0, 4, 24))
    day = replace(day, arrivals=tuple(rng.uniform(50, 700, 24)))
    run = run_day(day, replications=3, seed=2)
    assert (run.wait > 3600).any()
    _same(run.wait, simpy_day_waits(day, run.travellers))


@settings(max_examples=25, deadline=None)
@given(servers=st.lists(st.integers(0, 4), min_size=1, max_size=6),
       n=st.integers(0, 120), seed=st.integers(0, 10_000), mean=st.floats(5.0, 60.0))
def test_random_pools_identical_to_simpy(servers, n, seed, mean):
    """Short 'hours' (100 s) so each traveller meets many roster changes, zero-server hours included."""
    rng = np.random.default_rng(seed)
    hours = len(servers)
    arr = np.sort(rng.uniform(0, 100.0 * hours, n))
    srv = rng.exponential(mean, n)
    start = np.array([0, n])
    s = np.array(servers)
    _same(simpy_pool_waits(arr, srv, start, s, 100.0), simulate_pool(arr, srv, start, s, hour_seconds=100.0))


def test_library_does_not_import_simpy():
    import subprocess
    import sys

    code = ("import sys, ketenplan.border, ketenplan.border.cli; "
            "ketenplan.border.default_day; print('simpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("seed", [1, 2])
def test_seed_reproducible(seed):
    day = day_from_params()
    a, b = run_day(day, 2, seed), run_day(day, 2, seed)
    assert np.array_equal(a.wait, b.wait) and np.array_equal(a.travellers.service, b.travellers.service)
    c = run_day(day, 2, seed + 10)
    assert len(c.travellers) != len(a.travellers) or not np.array_equal(c.wait, a.wait)
