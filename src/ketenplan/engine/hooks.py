"""Hooks: what may act on a run between periods.

A run advances period by period (calendar months by default). Before each period every hook
is called with the run as it stands after the previous day: it may read the state (stocks,
queues, flows so far, what was decided) and change the inputs of the current day and later days
(capacities of desks and reception, the housing task's budget). It sees only the past, like a
planner. A hook is any object with ``name`` and ``__call__(run, day)``; it may keep its own
bookkeeping, which the results read through ``tables()``. A hook that changes nothing on most
period starts may say on which it acts (``acts_on(run)``: day indices): when every hook of a run
says so, the run stops only there (and at the first period start ahead of it), which saves the
kernel's calls in between; called on any other period start, such a hook must change nothing.

The housing task (taakstelling) is such a hook: the chain itself knows only a housing desk with a
budget; how large the task is each half-year is a rule that looks back at the grants of the
previous half-year.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R

if TYPE_CHECKING:  # pragma: no cover
    from ketenplan.engine.state import Run


class Hook(Protocol):
    name: str

    def __call__(self, run: "Run", day: int) -> None: ...

    # optional: ``def acts_on(self, run) -> np.ndarray`` (the period starts it may act on, besides its
    # first call), see the module's docstring


def half_years(day0: dt.date, T: int) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Half-year of each day: (index per day, labels like '2025-H1', first day of each half within
    the grid, full length of each half [days]). Computed once per process for a grid (copies handed
    out: every replicate asks)."""
    idx, labels, starts, full = _half_years(day0, int(T))
    return idx.copy(), list(labels), starts.copy(), full.copy()


@functools.lru_cache(maxsize=16)
def _half_years(day0: dt.date, T: int) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    d = pd.date_range(day0, periods=T, freq="D")
    half = (d.year.to_numpy() * 2 + (d.month.to_numpy() > 6)).astype(np.int64)
    change = np.r_[True, half[1:] != half[:-1]]
    idx = np.cumsum(change) - 1
    starts = np.flatnonzero(change)
    labels = [f"{h // 2}-H{h % 2 + 1}" for h in half[starts]]
    full = np.array([((dt.date(int(lb[:4]), 7, 1) - dt.date(int(lb[:4]), 1, 1)) if lb.endswith("H1") else
                      (dt.date(int(lb[:4]) + 1, 1, 1) - dt.date(int(lb[:4]), 7, 1))).days for lb in labels],
                    np.float64)
    return idx, labels, starts, full


@dataclass
class HousingTask:
    """The half-yearly housing task of the municipalities (P6.1), set at the start of each half-year.

    The task is the given value for that half-year (``given``, persons) or, where none is given,
    the permits granted in the previous half-year (the first half-year uses ``initial_expected``),
    times ``scale``. Each day the housing desk receives ``realisation_rate`` x (task + backlog) /
    the length of the half-year [persons/day]; what is not realised in a half-year is carried into
    the next as backlog. Resettled refugees are housed within the task (they take from the budget).

    With a housing ``market`` (P6.5, :class:`~ketenplan.scenario.pillar6.HousingMarket`) the
    half-year's budget is at most what the market can let to the task
    (:func:`ketenplan.integration.housing.housing_market` on task + backlog persons, in households of
    ``persons_per_household``): min(realisation_rate x (task + backlog), market capacity).
    """

    given: dict[str, float]
    scale: float
    realisation_rate: float
    initial_expected: float
    rule: str = "grants_previous_half_year"  # or "given": no task where none is given
    market: object = None  # scenario.pillar6.HousingMarket, or None: no market cap
    persons_per_household: float = 1.0  # persons per dwelling of the task when the market caps it
    initial_backlog: float = 0.0  # task not realised before the run's first half-year [persons]
    name: str = "housing_task"
    # bookkeeping per half-year (filled as the run advances)
    book: dict[str, list[float]] = field(default_factory=dict)
    _half: int = -1
    _prev_grants: float = 0.0
    _backlog: float = 0.0
    _start: int = 0

    def __post_init__(self) -> None:
        self._prev_grants = float(self.initial_expected)
        self._backlog = float(self.initial_backlog)

    def acts_on(self, run: "Run") -> np.ndarray:
        """The first day of each half-year: on any other day (after its first call) it returns at once."""
        return run.halves[2]

    def __call__(self, run: "Run", day: int) -> None:
        idx, labels, starts, full = run.halves
        h = int(idx[day])
        if h == self._half:
            return
        st = run.state
        desk = R.DESK["housing"]
        if self._half >= 0:  # close the previous half-year
            realised = float(st.flows[self._start:day, R.FLOW["housed"]].sum())
            granted = float(st.acc[K.A_PERMITS])
            row = self.book[labels[self._half]]
            row[2], row[3] = realised, granted
            self._backlog = max(row[0] + row[1] - realised, 0.0)
            self._prev_grants = granted
        label = labels[h]
        if label in self.given:
            task = self.given[label]
        elif self.rule == "given":
            task = 0.0
        else:
            task = self._prev_grants
        task *= self.scale
        need = task + self._backlog
        budget = self.realisation_rate * need
        capacity = float("nan")
        if self.market is not None:
            from ketenplan.integration.housing import housing_market

            capacity = housing_market(need, need / self.persons_per_household, self.market).capacity_persons
            budget = min(budget, capacity)
        self.book[label] = [task, self._backlog, 0.0, 0.0, capacity]
        end = int(starts[h + 1]) if h + 1 < len(starts) else run.T
        run.inputs.desk_cap[desk, day:end] = budget / full[h]
        st.budget[desk] = 0.0
        st.acc[K.A_PERMITS] = 0.0
        self._half, self._start = h, day

    def close(self, run: "Run") -> None:
        """Book the running half-year as it stands at the end of the run."""
        if self._half >= 0:
            row = self.book[run.halves[1][self._half]]
            row[2] = float(run.state.flows[self._start:run.day, R.FLOW["housed"]].sum())
            row[3] = float(run.state.acc[K.A_PERMITS])

    def table(self) -> pd.DataFrame:
        """period, task, backlog_in, realised, granted, market_capacity [persons] (NaN: no market cap)"""
        rows = [(p, *v) for p, v in self.book.items()]
        return pd.DataFrame(rows, columns=["period", "task", "backlog_in", "realised", "granted", "market_capacity"])
