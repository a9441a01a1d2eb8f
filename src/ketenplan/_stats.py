"""Small statistical helpers shared by the forecast backtests and the capacity plans."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(k: float, n: int, level: float = 0.9) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` at two-sided ``level`` (Wilson 1927): how
    precisely ``n`` trials pin down a share (a coverage, a probability of a shortage). NaN for n <= 0."""
    if n <= 0:
        return math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(mid - half, 0.0), min(mid + half, 1.0)
