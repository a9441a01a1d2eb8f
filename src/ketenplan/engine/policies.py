"""Capacity policies: hooks that set reception capacity from what a planner has seen (P3.5).

A policy acts at the start of a month, from the first reported day on (the warm-up replays the
capacity as given). It reads only the state up to the day before (occupancy of every COA location,
the places in its own pipeline) and changes ``run.inputs.cap_regular`` from a later day on, so a
decision never depends on what happens after it is taken (tests/engine/test_policies.py checks
this by changing the inflow after a decision).

:class:`ThresholdPolicy` is the myopic rule of practice (scenario section ``reception_policy``,
``kind = "threshold"``): every ``review_months`` the places needed are the observed occupancy of all
COA locations divided by the occupancy norm, plus a buffer. More than the capacity plus what is
already ordered: standby places are activated first (after ``standby_lead_months``), new places
ordered for the rest (after ``open_lead_months``). Less than the capacity: places the policy opened
that have reached their minimum life are closed (after ``close_lead_months``), never below the
scenario's own capacity series.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ketenplan.engine import registry as R

if TYPE_CHECKING:  # pragma: no cover
    from ketenplan.engine.state import Run

DAYS_PER_MONTH = 365.25 / 12


def _review_due(policy, day: int) -> bool:
    """Whether a policy called at the start of every month reviews on ``day``: its first month on or
    after its start day, then every ``review_months`` months (counts the months it has seen)."""
    if day < policy.start_day or day == 0:
        return False
    policy._months_seen += 1
    return (policy._months_seen - 1) % policy.review_months == 0


@dataclass
class ThresholdPolicy:
    """Open and close regular reception places from the observed occupancy (see the module)."""

    review_months: int
    occupancy_norm: float
    buffer_places: float
    standby_places: float
    standby_lead_months: int
    open_lead_months: int
    min_life_months: int
    close_lead_months: int
    start_day: int  # the first reported day: the policy acts from the first review on or after it
    forecast_country: str | None = None  # kind 'forecast': add the forecast's extra arrivals to the need
    name: str = "reception_policy"
    #: places the policy opened and not yet closed: [day they became available (or will), places]
    cohorts: list[list[float]] = field(default_factory=list)
    standby_left: float = 0.0
    book: list[tuple] = field(default_factory=list)
    _months_seen: int = 0

    def __post_init__(self) -> None:
        self.standby_left = float(self.standby_places)

    @classmethod
    def from_scenario(cls, p, start_day: int) -> "ThresholdPolicy":
        return cls(p.review_months, p.occupancy_norm, p.buffer_places, p.standby_places, p.standby_lead_months,
                   p.open_lead_months, p.min_life_months, p.close_lead_months, start_day,
                   forecast_country=p.forecast_country if p.kind == "forecast" else None)

    def expected_extra(self, run: "Run", day: int) -> float:
        """Kind 'forecast': the applicants the inflow forecast expects over the next ``open_lead_months``
        beyond those of the same number of months just observed [persons] (>= 0), with the forecast
        made from the month before ``day`` on the data available then (``forecast_extra``)."""
        if not self.forecast_country:
            return 0.0
        d = run.compiled.grid.day0 + dt.timedelta(days=day)
        origin = (pd.Period(d, freq="M") - 1).strftime("%Y-%m")
        return forecast_extra(self.forecast_country, origin, max(int(self.open_lead_months), 1))

    def _add(self, run: "Run", day: int, places: float) -> None:
        """Capacity changes by ``places`` from ``day`` on (nothing when the day is past the end)."""
        if day < run.T:
            run.inputs.cap_regular[day:] += places

    def __call__(self, run: "Run", day: int) -> None:
        if not _review_due(self, day):
            return
        m = lambda months: int(round(months * DAYS_PER_MONTH))  # noqa: E731
        occupied = float(run.state.loc_stock[day - 1, R.locations_of("coa")].sum())
        regular = float(run.inputs.cap_regular[day - 1])
        ordered = float(sum(n for d, n in self.cohorts if d >= day))  # in the pipeline, not yet available
        need = occupied / self.occupancy_norm + self.buffer_places + self.expected_extra(run, day)
        # places other than the regular ones (central reception, small-scale, restricted, and the
        # application centre where people wait to register) hold their persons too: the need for
        # regular places is what the others do not take (a registration queue is not relieved by
        # regular places; its persons come to need one only once they are registered)
        others = float(run.state.loc_stock[day - 1, [R.LOC[n] for n in (
            "central", "small_scale", "freedom_restricting", "waiting_registration")]].sum())
        need_regular = max(need - others, 0.0)
        opened = standby = closed = 0.0
        gap = float(np.ceil(need_regular - (regular + ordered)))  # whole places
        if gap > 0:
            standby = min(gap, self.standby_left)
            if standby > 0:
                at = day + m(self.standby_lead_months)
                self.standby_left -= standby
                self.cohorts.append([at, standby])
                self._add(run, at, standby)
            opened = gap - standby
            if opened > 0:
                at = day + m(self.open_lead_months)
                self.cohorts.append([at, opened])
                self._add(run, at, opened)
        elif regular - need_regular > 0 and ordered == 0:
            surplus = float(np.floor(regular - need_regular))
            at = day + m(self.close_lead_months)
            for c in sorted(self.cohorts, key=lambda c: -c[0]):  # the newest old-enough places first
                if surplus <= 0:
                    break
                if day - c[0] < m(self.min_life_months):
                    continue
                n = min(c[1], surplus)
                c[1] -= n
                surplus -= n
                closed += n
                self._add(run, at, -n)
            self.cohorts = [c for c in self.cohorts if c[1] > 0]
        self.book.append((day, occupied, regular, need_regular, ordered, standby, opened, closed))

    def table(self) -> pd.DataFrame:
        """One row per review: day, observed occupancy (all COA locations), regular capacity, the need
        for regular places, places already ordered, standby activated, new places ordered, places
        closed [persons]."""
        return pd.DataFrame(self.book, columns=["day", "occupied", "regular_capacity", "need_regular", "ordered",
                                                "standby_activated", "opened", "closed"])


@functools.lru_cache(maxsize=512)
def forecast_extra(country: str, origin: str, months: int) -> float:
    """Applicants the point forecast from ``origin`` (YYYY-MM, the last month it sees) expects in the next
    ``months`` months, less the applicants of the ``months`` months up to the origin [persons], at
    least 0. Both from the same series (Eurostat applicants, bridged after 2019-04), so the
    difference is the expected change of inflow a planner would have seen then."""
    from ketenplan.forecast import data as fdata
    from ketenplan.forecast import forecast
    from ketenplan.forecast.api import last_month

    # a review after the last data month (a run into the future) sees the data up to that month; the
    # months between it and the review are the forecast's too
    o = min(pd.Period(origin, freq="M"), pd.Period(last_month(country), freq="M"))
    gap = (pd.Period(origin, freq="M") - o).n
    hist = fdata.bridged_series(fdata.normalise_country(country))
    known = hist[hist["month"].astype(str) <= str(o)]["applicants"].to_numpy(float)
    fc = forecast(country, horizon=gap + months, n_paths=1, seed=0, origin=str(o))
    series = np.concatenate([known, fc.table["point"].to_numpy(float)[:gap + months]])
    ahead = series[len(series) - months:]
    past = series[len(series) - 2 * months:len(series) - months]
    return float(max(ahead.sum() - past.sum(), 0.0))


@dataclass
class HiringPolicy:
    """Hire IND decision capacity when the first-instance stock exceeds ``target_weeks`` of capacity
    (``scenario.planning.DecisionPolicy``); sees only the state before the review day."""

    review_months: int
    target_weeks: float
    lead_months: int
    training_months: int
    max_growth: float
    start_day: int
    name: str = "decision_policy"
    cohorts: list[list[float]] = field(default_factory=list)  # [day it decides from, decisions/week]
    book: list[tuple] = field(default_factory=list)
    _months_seen: int = 0

    @classmethod
    def from_scenario(cls, p, start_day: int) -> "HiringPolicy":
        return cls(p.review_months, p.target_weeks, p.lead_months, p.training_months, p.max_growth, start_day)

    def __call__(self, run: "Run", day: int) -> None:
        if not _review_due(self, day):
            return
        desk = R.DESK["ind_general"]
        st = run.state
        pending = float(R.derived_stock("ind_pending", st.stage_stock[day - 1:day], st.loc_stock[day - 1:day])[0])
        weekly = float(run.inputs.desk_cap[desk, day - 1]) * 7.0
        training = float(sum(n for d, n in self.cohorts if d >= day))
        need = pending / self.target_weeks
        hire = min(max(need - weekly - training, 0.0), self.max_growth * weekly)
        at = day + int(round((self.lead_months + self.training_months) * DAYS_PER_MONTH))
        if hire > 0:
            self.cohorts.append([at, hire])
            if at < run.T:
                run.inputs.desk_cap[desk, at:] += hire / 7.0
        self.book.append((day, pending, weekly, training, hire, at))

    def table(self) -> pd.DataFrame:
        """One row per review: day, IND first-instance stock [persons], capacity [decisions/week], capacity
        in training, hired [decisions/week], the day the hired capacity decides from."""
        return pd.DataFrame(self.book, columns=["day", "ind_pending", "capacity_per_week", "in_training", "hired",
                                                "deciding_from"])


def policy_hooks(policy, start_day: int, decision=None) -> list:
    """The hooks of a scenario's ``reception_policy`` (none for ``fixed``) and ``decision_policy``."""
    hooks = [HiringPolicy.from_scenario(decision, start_day)] if decision is not None and \
        decision.kind == "threshold" else []
    if policy is None or policy.kind == "fixed":
        return hooks
    if policy.kind in ("threshold", "forecast"):
        return [ThresholdPolicy.from_scenario(policy, start_day)] + hooks
    raise ValueError(f"reception_policy.kind: unknown policy {policy.kind!r}")  # pragma: no cover (validated)

