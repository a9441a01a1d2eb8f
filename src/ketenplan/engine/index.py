"""Unsigned array indices for the compiled loops.

numba indexes with a signed integer as NumPy does, counting a negative index from the end, so every
``a[i]`` also tests the sign and adds the array's length; with an unsigned index it does neither.
In loops that do little but index (the kernel, the case draws, the per-case reductions) that test
is a large share of the work: ``a[unsigned(i)]`` takes 15-25% off the kernel's time on nl_baseline,
with the same arrays. Only for indices that are never negative: a loop that uses it keeps every
-1 it holds (a missing link, an unset slot) out of an index, and ``tests/engine/test_kernel_bounds.py``
runs these loops with numba's bounds checking on, where an index that were negative fails.

``unsigned`` is inlined into each caller, whose compiled code numba caches keyed on the caller's
file alone: a change here must touch those files too (``engine.kernel``, ``engine.compile``,
``engine.results``, ``engine.state``, ``integration.fast``, ``returns.post``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def unsigned(i):
    """``i`` as an unsigned array index: ``a[unsigned(i)]`` is ``a[i]`` for every ``i >= 0``."""
    return np.uint64(i)
