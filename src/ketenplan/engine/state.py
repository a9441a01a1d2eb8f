"""A run's state and ``advance``: run the chain to a date, let hooks act, go on.

    run = Run.start(compiled, hooks=[...])
    run.advance(until=dt.date(2027, 1, 1))     # days before that date are simulated
    run.state.stock[...]                        # look at the state, change run.inputs.* from today on
    run.advance()                               # to the end of the grid

``advance`` moves in periods (calendar months) and calls every hook at the start of each period.
A run advanced in one call or in many gives the same arrays: the kernel's whole state lives in
``run.state``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from ketenplan.engine import kernel as K
from ketenplan.engine import registry as R
from ketenplan.engine.index import unsigned as _u  # a[_u(i)]: no negative-index fix-up
from ketenplan.engine.hooks import Hook, half_years
from ketenplan.errors import InvariantError


#: the kernel's per-case day numbers (32 bits in the state, ``kernel.CASE_INT``) that a run's
#: outputs hand back as int64
WIDE_RESULTS = ("arrival_day", "reg_day", "decision_day", "housed_day", "exit_day")


def period_starts(day0: dt.date, T: int, freq: str = "month") -> np.ndarray:
    """First day (index) of every period of the grid: day 0 and each first of a month
    (``freq='month'``), or every day (``'day'``), or day 0 only (``'none'``: one period)."""
    if freq == "none":
        return np.array([0], np.int64)
    if freq == "day":
        return np.arange(T, dtype=np.int64)
    if freq != "month":
        raise ValueError(f"period must be 'month', 'day' or 'none', found {freq!r}")
    return _month_starts(day0, int(T)).copy()  # built once per grid (every run asks)


@functools.lru_cache(maxsize=16)
def _month_starts(day0: dt.date, T: int) -> np.ndarray:
    d = pd.date_range(day0, periods=T, freq="D")
    first = np.flatnonzero(d.day.to_numpy() == 1)
    return np.unique(np.r_[0, first]).astype(np.int64)


@dataclass
class Run:
    """One replicate in progress: compiled inputs, the kernel state, hooks and the day reached."""

    compiled: "object"  # engine.compile.Compiled
    inputs: K.Inputs
    state: K.State
    hooks: list[Hook] = field(default_factory=list)
    replicate: int = 0
    period: str = "month"

    @classmethod
    def start(cls, compiled, hooks: list[Hook] | None = None, *, replicate: int = 0, period: str = "month") -> "Run":
        inp = compiled.inputs
        # the run owns its day inputs: hooks change them from the current day on
        inp = inp._replace(**{f: np.array(getattr(inp, f), copy=True) for f in K.DAY_FIELDS + ("branch",)})
        if getattr(compiled, "start", None) is not None:  # from a snapshot of history (engine.snapshot)
            from ketenplan.engine.snapshot import start_state

            st = start_state(inp, compiled)
        else:
            st = K.new_state(inp, compiled.case["arrival_day"], compiled.grid.T)
        run = cls(compiled, inp, st, list(hooks or []), replicate, period)
        run._periods = period_starts(compiled.grid.day0, compiled.grid.T, period)
        run._halves = None
        return run

    # ------------------------------------------------------------------------------------------
    @property
    def T(self) -> int:
        return self.compiled.grid.T

    @property
    def day(self) -> int:
        """The first day not simulated yet (0 .. T)."""
        return int(self.state.ivar[K.V_DAY])

    @property
    def date(self) -> dt.date:
        return self.compiled.grid.day0 + dt.timedelta(days=self.day)

    @property
    def halves(self):
        """(half-year index per day, labels, first day of each half, full length of each half [days])"""
        if self._halves is None:
            self._halves = half_years(self.compiled.grid.day0, self.T)
        return self._halves

    def day_of(self, date: dt.date) -> int:
        return (date - self.compiled.grid.day0).days

    def advance(self, until: dt.date | int | None = None) -> "Run":
        """Simulate up to (not including) ``until`` (a date or a day index; default: the end),
        calling the hooks at the start of every period. Raises InvariantError on a broken invariant."""
        end = self.T if until is None else (self.day_of(until) if isinstance(until, dt.date) else int(until))
        end = min(max(end, self.day), self.T)
        d = self.day
        periods = self._stops()
        while d < end:
            k = int(np.searchsorted(periods, d, side="right"))  # stops <= d
            if k > 0 and periods[k - 1] == d:  # the first day of a period: hooks act on what happened before it
                for h in self.hooks:
                    h(self, d)
            stop = min(int(periods[k]) if k < len(periods) else self.T, end)
            err = K.advance(self.inputs, self.state, d, stop)
            if err:
                raise InvariantError(f"replicate {self.replicate}: {K.ERRORS.get(int(err), f'kernel error {err}')}"
                                     f" (by day {self.day}, {self.date})")
            d = stop
        return self

    def _stops(self) -> np.ndarray:
        """The period starts at which the run stops to call its hooks: all of them, or, when every hook
        declares the days it may act on (``acts_on(run)``, see ``engine.hooks.Hook``), those among
        them and the first period start still ahead. Without hooks the kernel runs through: a run
        in many periods gives the same arrays as one call, and each call costs its arguments'
        dispatch (about 40 microseconds: 5 ms of a ten-year run stepped by month)."""
        periods = self._periods
        if not self.hooks:
            return periods[:0]
        acts = [getattr(h, "acts_on", None) for h in self.hooks]
        if any(a is None for a in acts):
            return periods
        keep = np.isin(periods, np.concatenate([np.asarray(a(self), np.int64) for a in acts]))
        ahead = np.flatnonzero(periods >= self.day)
        if ahead.size:
            keep[ahead[0]] = True
        return periods[keep]

    def finish(self) -> "Run":
        """Advance to the end and close the hooks' bookkeeping."""
        self.advance()
        for h in self.hooks:
            close = getattr(h, "close", None)
            if close:
                close(self)
        return self

    def reception_days(self) -> np.ndarray:
        """Days in reception per case up to the day reached (spells still open count to that day)."""
        return self.case_results()["reception_days"]

    def case_results(self) -> dict[str, np.ndarray]:
        """The per-case day numbers of the state (:data:`WIDE_RESULTS`) as int64, and the days in
        reception per case up to the day reached (``reception_days``; spells still open count to
        that day): one pass over the cases instead of a widened copy and temporaries per array."""
        st = self.state
        out = np.empty((len(WIDE_RESULTS) + 1, st.loc.shape[0]), np.int64)
        _case_results(self.day, st.loc, st.rec_entry, st.reception_days, K.LOC_NONE, K.LOC_WAITING, out,
                      *(getattr(st, f) for f in WIDE_RESULTS))
        return {"reception_days": out[0], **{f: out[1 + k] for k, f in enumerate(WIDE_RESULTS)}}

    def hook(self, name: str):
        for h in self.hooks:
            if h.name == name:
                return h
        raise KeyError(f"no hook named {name!r}; hooks: {[h.name for h in self.hooks]}")


@njit(cache=True, nogil=True)
def _case_results(day, loc, rec_entry, reception_days, loc_none, loc_waiting, out, a0, a1, a2, a3, a4):
    for i in range(loc.shape[0]):
        r = np.int64(reception_days[_u(i)])
        if loc[_u(i)] != loc_none and loc[_u(i)] != loc_waiting and rec_entry[_u(i)] >= 0:
            r += day - np.int64(rec_entry[_u(i)])
        out[0, _u(i)] = r
        out[1, _u(i)] = a0[_u(i)]
        out[2, _u(i)] = a1[_u(i)]
        out[3, _u(i)] = a2[_u(i)]
        out[4, _u(i)] = a3[_u(i)]
        out[5, _u(i)] = a4[_u(i)]


def check_conservation(run: Run) -> None:
    """Persons arrived (asylum chain arrivals and regular applicants) = persons in a stage (gone stages
    count everyone who went there), and the
    persons holding a reception place = the persons in stages that count toward 'reception'."""
    st = run.state
    T = run.day
    arrived = np.cumsum(st.flows[:T, K.F_ARRIVALS] + st.flows[:T, R.FLOW["regular_applications"]])
    present = st.stage_stock[:T, 1:].sum(axis=1)
    bad = np.flatnonzero(arrived != present)
    if bad.size:
        d = int(bad[0])
        raise InvariantError(f"replicate {run.replicate}: persons not conserved on day {d}: arrived {arrived[d]}, "
                             f"in a stage {present[d]}")
    in_places = st.loc_stock[:T, R.locations_of("coa")].sum(axis=1)
    in_stages = st.stage_stock[:T, R.stages_in("reception")].sum(axis=1)
    bad = np.flatnonzero(in_places != in_stages)
    if bad.size:
        d = int(bad[0])
        raise InvariantError(f"replicate {run.replicate}: reception occupancy {in_places[d]} differs from the "
                             f"persons in reception stages {in_stages[d]} on day {d}")
