"""The compiled loops (the kernel, the case draws, the reductions and the returns and integration
post-processors) index their arrays with unsigned integers (``engine.index.unsigned``): faster, but
an index that were ever negative would read or write outside an array instead of counting from its
end. These tests run them compiled with numba's bounds checking on (in a process with its own
compile cache), on chains that take every path: queues whose patience runs out, emergency
reception, small-scale routing and triage, nareis following their sponsors, and the Dutch scenarios
from the replayed history. Any index out of bounds raises IndexError there. Both are in the slow
suite (``make test-slow``, which CI runs too): the compile with bounds checks alone takes about a
minute."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PROBE = """
import numpy as np
from numba import njit
from ketenplan.engine.index import unsigned as _u

@njit
def at(a, i):
    return a[_u(i)]

a = np.arange(3)
assert at(a, 2) == 2
try:
    at(a, -1)
except IndexError:
    pass
else:
    raise SystemExit("bounds checking is off: a[_u(-1)] did not raise")
"""

SMALL = """
import datetime as dt
import numpy as np
from ketenplan.testing import small_scenario as small
from ketenplan.engine.run import run_replicate
from ketenplan.engine.results import Keep
from ketenplan.simulation import Reducer

D = dt.date(2025, 1, 1)
cases = [
    {},  # the baseline's chain over two years, from empty
    {"reception.capacity_regular": [{"start": D, "value": 2000}], "reception.capacity_small": [{"start": D, "value": 100}],
     "levers.routing_small_scale": True, "levers.triage": True},  # emergency reception, small-scale routing
    {"registration.capacity_per_day": [{"start": D, "value": 20}],
     "decision_capacity.total": [{"start": D, "value": 40}]},  # long queues: patience runs out
    {"inflow.first.per_year": [{"start": D, "value": 60000}], "inflow.nareis.mode": "endogenous"},
]
n = 0
for i, ch in enumerate(cases):
    sc = small(**ch)
    out = run_replicate(sc, i, np.random.SeedSequence(100 + i))
    Reducer(sc, Keep(resolution="month", journeys="all"), ["returns", "integration"], 1)(out)
    n += int(out.case["arrival_day"].shape[0])
print("cases", n)
"""

DUTCH = """
import numpy as np
import ketenplan
from ketenplan.engine.rng import replicate_seed
from ketenplan.engine.run import run_replicate
from ketenplan.engine.results import Keep
from ketenplan.simulation import Reducer

for name in ("nl_history", "nl_baseline"):
    sc = ketenplan.load_scenario(name)
    out = run_replicate(sc, 1, replicate_seed(sc.simulation.seed, 1))
    Reducer(sc, Keep(resolution="month", journeys="all"), ["returns", "integration"], 1)(out)
    print(name, int(out.case["arrival_day"].shape[0]))
"""


def _checked(code: str, cache) -> str:
    # numba's compile cache of bounds-checked code, kept apart from the usual one (pytest's cache
    # folder: compiled once per checkout, about a minute)
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(cache.mkdir("numba-boundscheck")),
               KETENPLAN_CACHE="off")
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE + code)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


@pytest.mark.slow  # compiling every loop with bounds checks takes about a minute of one core
def test_the_kernel_stays_within_its_arrays_on_small_chains(pytestconfig):
    out = _checked(SMALL, pytestconfig.cache)
    assert int(out.split()[-1]) > 10_000


@pytest.mark.slow
def test_the_kernel_stays_within_its_arrays_on_the_dutch_scenarios(pytestconfig):
    out = _checked(DUTCH, pytestconfig.cache)
    assert "nl_history" in out and "nl_baseline" in out
