"""Helpers of the integration-model tests: small random replicates on a daily grid."""

from __future__ import annotations

import datetime as dt

import numpy as np


def make_cases(n: int = 400, horizon: int = 2200, day0: dt.date = dt.date(2020, 7, 15), seed: int = 7,
               before: int = 400, same_wait: bool = False) -> dict:
    """Random permit holders: some permitted before day 0, some never housed within the horizon.

    ``same_wait``: every case waits the reference 150 days and stays 98 days after the permit,
    so every waiting factor is 1.
    """
    rng = np.random.default_rng(seed)
    permit = rng.integers(-before, horizon, n)
    stay = rng.gamma(2.0, 90.0, n).round()
    housed = np.where(permit + stay < horizon, permit + stay, -1).astype(int)
    rec = np.where(housed >= 0, housed - permit, np.maximum(horizon - permit, 0))
    wait = np.full(n, 150.0) if same_wait else rng.gamma(2.0, 110.0, n)
    return {"permit_day": permit, "housed_day": housed,
            "reception_days_after_permit": np.full(n, 98.0) if same_wait else rec.astype(float),
            "wait_days": wait, "group": rng.integers(0, 4, n), "adults": rng.choice([0.0, 1.0, 1.0, 2.0, 3.0], n),
            "children": rng.choice([0.0, 1.0, 3.0], n), "stream": rng.integers(0, 4, n), "day0": day0,
            "horizon_days": horizon}