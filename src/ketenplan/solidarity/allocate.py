"""Integer allocation of a total by a key, with a stated rounding rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ketenplan.errors import ScenarioError

Rounding = Literal["largest-remainder", "per-state"]
ROUNDINGS = ("largest-remainder", "per-state")
#: largest total accepted [persons]: more than the world population (about 8.2e9, UN WPP 2024)
#: cannot be meaningful, and larger totals would lose precision in the quotas (floats)
MAX_TOTAL = 10**10


def _check(shares: np.ndarray, total: int) -> None:
    if isinstance(total, bool) or not isinstance(total, (int, float, np.integer, np.floating)) \
            or not np.isfinite(float(min(total, 1e300))) or int(total) != total or total < 0:
        raise ScenarioError(f"total (--total) must be a whole number of persons >= 0, found {total!r}")
    if total > MAX_TOTAL:
        raise ScenarioError(f"total (--total) {int(total):,}: more persons than live on earth cannot be meaningful; "
                            f"expected at most {MAX_TOTAL:,}")
    if shares.size == 0:
        raise ScenarioError("no states to allocate to")
    if not np.all(np.isfinite(shares)) or np.any(shares < 0):
        raise ScenarioError(f"shares must be finite and >= 0, found {shares.tolist()}")
    if abs(shares.sum() - 1.0) > 1e-6:
        raise ScenarioError(f"shares must sum to 1, found {shares.sum()!r}. Fix: normalise the key")


def largest_remainder(shares: Sequence[float] | np.ndarray, total: int) -> np.ndarray:
    """Hamilton's method: floor of each quota, then one more to the largest remainders.

    Sums exactly to ``total``. Ties in the remainder go to the earlier state (stable order).
    """
    s = np.asarray(shares, dtype=float)
    _check(s, total)
    quota = s / s.sum() * int(total)
    base = np.floor(quota + 1e-12).astype(np.int64)
    left = int(total) - int(base.sum())
    if left > 0:
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:left]] += 1
    return base


def round_each(shares: Sequence[float] | np.ndarray, total: int) -> np.ndarray:
    """Each state's quota rounded on its own (half up), as the Commission's tables did.

    The sum may differ from ``total`` by a few persons (120,000 became 119,998 in 2015).
    """
    s = np.asarray(shares, dtype=float)
    _check(s, total)
    return np.floor(s / s.sum() * int(total) + 0.5).astype(np.int64)


def allocate_shares(shares: pd.Series, total: int, rounding: Rounding = "largest-remainder") -> pd.Series:
    """Integer persons per state for ``total`` persons shared by ``shares`` (a Series by state)."""
    if rounding == "largest-remainder":
        vals = largest_remainder(shares.to_numpy(), total)
    elif rounding == "per-state":
        vals = round_each(shares.to_numpy(), total)
    else:
        raise ScenarioError(f"unknown rounding {rounding!r}; expected one of {', '.join(ROUNDINGS)}")
    return pd.Series(vals, index=shares.index, name="persons")


def allocate(key: pd.DataFrame, total: int, rounding: Rounding = "largest-remainder") -> pd.DataFrame:
    """Allocation table from a key table (``distribution_key`` output): adds ``quota`` (exact,
    persons) and ``persons`` (integer) columns; ``attrs`` records total and rounding."""
    out = key[["name", "share"]].copy()
    out["quota"] = out["share"] * int(total)
    out["persons"] = allocate_shares(key["share"], total, rounding)
    out.attrs = dict(key.attrs)
    out.attrs.update(total=int(total), rounding=rounding, allocated=int(out["persons"].sum()))
    return out


def check_total(key: pd.DataFrame, total: int) -> None:
    """Refuse a ``total`` that cannot be meaningful for a key of real states: more persons than the
    key's states have inhabitants (column ``population`` [persons])."""
    _check(key["share"].to_numpy(float), total)
    if "population" in key.columns:
        pop = float(key["population"].sum())
        if np.isfinite(pop) and total > pop:
            raise ScenarioError(f"total (--total) {int(total):,}: more persons than the {len(key)} states of the key "
                                f"have inhabitants ({pop:,.0f}) cannot be meaningful; expected 0 to {pop:,.0f} "
                                "(the 2015 relocation decisions: 160,000)")
