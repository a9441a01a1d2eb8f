"""The scenario: one declared, frozen, validated value that drives every module.

Each field is declared once here with its type, unit (in the description) and default.
Defaults are the Dutch baseline; the source or named assumption behind every default is in
``parameters.csv`` beside this file (one row per dotted key). Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

DAYS_PER_MONTH = 365.25 / 12


def _key_error(key: str, msg: str) -> PydanticCustomError:
    """A validation error located at ``key`` (as the user writes it, e.g. 'inflow.shocks[1].group_shares'),
    for checks of a whole model that concern one key inside it; shown as ``'key': msg``."""
    return PydanticCustomError("scenario_key", "{key}: {msg}", {"key": key, "msg": msg})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------
class Duration(_Frozen):
    """A duration distribution in days, declared in the scenario so the file states the uncertainty.

    ``fixed``: always ``mean``; ``exponential``: mean ``mean``; ``gamma`` / ``lognormal``: mean ``mean``
    and coefficient of variation ``cv``; ``uniform``: between ``low`` and ``high``. Draws are rounded
    up to whole days.
    """

    name: Literal["fixed", "exponential", "gamma", "lognormal", "uniform"] = Field(
        "fixed", description="distribution family")
    mean: float = Field(0.0, ge=0, description="mean [days]")
    cv: float = Field(0.0, ge=0, description="coefficient of variation [-] (gamma, lognormal)")
    low: float = Field(0.0, ge=0, description="lower bound [days] (uniform)")
    high: float = Field(0.0, ge=0, description="upper bound [days] (uniform)")

    @model_validator(mode="after")
    def _check(self) -> "Duration":
        if self.name == "uniform" and self.high < self.low:
            raise ValueError(f"uniform duration needs low <= high, found low={self.low}, high={self.high}")
        if self.name in ("gamma", "lognormal") and self.cv <= 0:
            raise ValueError(f"{self.name} duration needs cv > 0, found cv={self.cv}; use name='fixed' for no spread")
        return self

    def expected(self) -> float:
        """Expected value [days] before rounding up."""
        return (self.low + self.high) / 2 if self.name == "uniform" else self.mean


class Step(_Frozen):
    """One step of a piecewise-constant series: ``value`` holds from ``start`` until the next step."""

    start: dt.date
    value: float = Field(ge=0)


def _steps_sorted(v: tuple[Step, ...]) -> tuple[Step, ...]:
    if not v:
        raise ValueError("needs at least one step, e.g. [{start = 2025-01-01, value = 100}]")
    starts = [s.start for s in v]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise ValueError(f"steps must have strictly increasing start dates, found {[str(s) for s in starts]}")
    return v


class MonthValue(_Frozen):
    """A value for one calendar month, ``month`` as 'YYYY-MM'."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    value: float = Field(ge=0)


class Stream(_Frozen):
    """An inflow stream in persons: either a yearly level (``per_year`` steps, spread over months
    by the monthly profile) or explicit monthly values (``monthly``, which win where given)."""

    per_year: tuple[Step, ...] = Field((), description="arrivals [persons/year], piecewise constant")
    monthly: tuple[MonthValue, ...] = Field((), description="arrivals [persons/month] for given months")


class Nareis(_Frozen):
    """Family reunification (nareis): the cross-link from granted permits to later arrivals."""

    mode: Literal["endogenous", "given"] = Field(
        "endogenous", description="endogenous: follows grants with ratio and lag; given: use per_year/monthly")
    ratio: float = Field(0.32, ge=0, description="nareis persons per granted asylum permit holder [persons/person]")
    lag: Duration = Field(Duration(name="gamma", mean=240.0, cv=0.5),
                          description="time from the sponsor's permit to the family's arrival [days]")
    per_year: tuple[Step, ...] = Field((), description="arrivals [persons/year] when mode = given")
    monthly: tuple[MonthValue, ...] = Field((), description="arrivals [persons/month] when mode = given")


SHOCK_DEFAULTS = {  # parameter names in ketenplan/forecast/parameters.csv (sources there)
    "surge": {"size": "surge_2015_peak_factor", "duration_months": "surge_2015_duration_months",
              "ramp_months": "surge_2015_ramp_up_months"},
    "dip": {"size": "dip_2020_depth", "duration_months": "dip_2020_duration_months"},
    "level_shift": {},
}


class Shock(_Frozen):
    """A what-if change of the first-application inflow (P1.1, P3.8), applied as a factor on top of
    the given stream or of every forecast sample path; see ``ketenplan.forecast.scenarios``.

    ``surge``: a triangular bump peaking at ``size`` x the level after ``ramp_months`` and back at
    ``duration_months`` (defaults: the Dutch 2015 surge); ``dip``: ``1 - size`` for
    ``duration_months`` (defaults: 2020); ``level_shift``: ``1 + size`` from the onset on, built up
    over ``ramp_months`` (``size`` required: it is the user's lever). Months count from the onset's
    month (its day is ignored). The extra arrivals of a surge or a rise take their nationality group
    from ``group_shares`` when given (e.g. the 2015 surge was mostly high-recognition origins).
    Missing values are filled from the defaults when the scenario is read, so the stored scenario
    states every number it uses.
    """

    kind: Literal["surge", "dip", "level_shift"] = Field(description="surge | dip | level_shift")
    onset: dt.date = Field(description="first month of the shock (day ignored)")
    size: float = Field(None, description="surge: peak factor [x level]; dip: depth [fraction]; "  # type: ignore[assignment]
                                          "level_shift: relative change [fraction], e.g. -0.2")
    duration_months: int = Field(0, ge=0, description="surge: months from onset back to the level; dip: months")
    ramp_months: int = Field(0, ge=0, description="surge: months to the peak; level_shift: months to build up")
    group_shares: dict[str, float] = Field(default_factory=dict,
                                           description="group mix of the extra arrivals [-]; empty: the groups' shares")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        if not isinstance(data, dict) or data.get("kind") not in SHOCK_DEFAULTS:
            if isinstance(data, dict) and data.get("size") is None:
                data = {**data, "size": 0.0}  # the kind is wrong: report that alone, not a missing size too
            return data
        data = dict(data)
        if data.get("size") is None and data["kind"] == "level_shift":
            raise ValueError("a level_shift needs 'size' (relative change, e.g. -0.2 for a fifth less)")
        missing = {k: v for k, v in SHOCK_DEFAULTS[data["kind"]].items() if data.get(k) is None}
        if missing:
            from ketenplan.forecast.scenarios import param

            for key, name in missing.items():
                data[key] = param(name) if key == "size" else int(param(name))
        return data

    @model_validator(mode="after")
    def _check(self) -> "Shock":
        import numpy as np

        from ketenplan.errors import ScenarioError

        try:
            self.factor(np.arange(-1, 2))
        except ScenarioError as exc:  # the generators name their own arguments; say the scenario keys
            msg = str(exc)
            for theirs, ours in (("parameter depth", "size (the depth)"), ("parameter ramp_up", "ramp_months"),
                                 ("parameter duration", "duration_months"), ("parameter ramp", "ramp_months"),
                                 ("parameter size", "size")):
                msg = msg.replace(theirs, ours)
            raise ValueError(msg.replace("scenario ", "", 1)) from None
        if self.group_shares:
            v = list(self.group_shares.values())
            if any(x < 0 for x in v) or abs(sum(v) - 1) > 1e-3:
                raise ValueError(f"group_shares must be >= 0 and sum to 1, found {self.group_shares}")
        return self

    def factor(self, offsets) -> "np.ndarray":  # noqa: F821
        """Multiplicative factor for months ``offsets`` after the onset (negative: before)."""
        import numpy as np

        from ketenplan.forecast import scenarios as fs

        ones = np.ones(len(offsets))
        onset = -int(offsets[0])  # offsets are consecutive months: index of the onset
        if self.kind == "surge":
            return fs.surge(ones, onset, self.size, self.duration_months, self.ramp_months)
        if self.kind == "dip":
            return fs.dip(ones, onset, self.size, self.duration_months)
        return fs.level_shift(ones, onset, self.size, self.ramp_months)


class Inflow(_Frozen):
    """Inflow streams and the source of the first-application stream."""

    source: Literal["given", "forecast"] = Field(
        "given", description="given: the streams below; forecast: first applications from the inflow forecast, "
                             "one replicate per sample path")
    forecast_country: str = Field("NL", description="country of the forecast series (source = forecast)")
    monthly_profile: tuple[float, ...] = Field(
        (0.963, 0.842, 0.849, 0.839, 0.902, 0.897, 0.987, 1.083, 1.220, 1.339, 1.123, 0.957),
        description="relative arrivals by calendar month [-], mean 1 (Eurostat NL 2008-2018)")
    first: Stream = Field(Stream(per_year=(Step(start=dt.date(2025, 1, 1), value=32180),)))
    subsequent: Stream = Field(Stream(per_year=(Step(start=dt.date(2025, 1, 1), value=1590),)))
    resettlement: Stream = Field(Stream(per_year=(Step(start=dt.date(2025, 1, 1), value=760),)))
    nareis: Nareis = Field(Nareis())
    shocks: tuple[Shock, ...] = Field((), description="what-if changes of the first-application inflow, "
                                                     "applied in order ([[inflow.shocks]])")

    @field_validator("forecast_country")
    @classmethod
    def _country(cls, v: str) -> str:
        # lazy: reads the shipped country list only (no statsforecast); stored as the Eurostat code
        # ('gr' -> 'EL', 'GB' -> 'UK') so equal scenarios have equal digests
        from ketenplan.errors import DataError
        from ketenplan.forecast.data import normalise_country

        try:
            return normalise_country(v)
        except DataError as exc:
            msg = str(exc).split(": ", 1)[-1]  # drop the data file's name: the scenario key is named
            raise ValueError(f"{msg} (or the ISO aliases GR for EL, GB for UK)") from None

    @field_validator("monthly_profile")
    @classmethod
    def _profile(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 12:
            raise ValueError(f"needs 12 monthly weights (January..December), found {len(v)}")
        if any(x < 0 for x in v) or abs(sum(v) / 12 - 1) > 0.02:
            raise ValueError(f"weights must be >= 0 with mean 1 (sum 12), found sum {sum(v):.3f}; "
                             "divide each weight by the mean")
        return v


class Group(_Frozen):
    """A nationality group: origins pooled by first-instance recognition rate."""

    name: str
    share: float = Field(ge=0, le=1, description="share of first applications [-]")
    grant_rate: float = Field(ge=0, le=1, description="first-instance grant rate, Dublin excluded [-]")
    safe_country: bool = Field(False, description="triaged to the accelerated (safe country) track")


class Household(_Frozen):
    """Household composition of a case (persons travelling and applying together)."""

    uam_share: float = Field(0.085, ge=0, le=1, description="share of cases that are unaccompanied minors [-]")
    family_share: float = Field(0.2, ge=0, le=1, description="share of cases that are families with children [-]")
    family_adults: float = Field(1.7, ge=1, description="mean adults in a family case [persons]")
    family_children: float = Field(2.2, ge=1, description="mean children (school age) in a family case [persons]")

    @model_validator(mode="after")
    def _check(self) -> "Household":
        if self.uam_share + self.family_share > 1:
            raise ValueError(f"uam_share + family_share must be <= 1, found {self.uam_share + self.family_share:.3f}")
        return self


class Registration(_Frozen):
    """Identification and registration (AVIM) and central reception (COL)."""

    capacity_per_day: tuple[Step, ...] = Field(
        (Step(start=dt.date(2025, 1, 1), value=170),), description="registrations [persons/day]")
    col_stay: Duration = Field(Duration(name="uniform", low=3, high=10),
                               description="stay in central reception after registration [days]")
    _v = field_validator("capacity_per_day")(_steps_sorted)


class DecisionCapacity(_Frozen):
    """IND first-instance capacity per track [decisions/week]; a decision is one person."""

    general: tuple[Step, ...] = Field((Step(start=dt.date(2025, 1, 1), value=415),))
    safe: tuple[Step, ...] = Field((Step(start=dt.date(2025, 1, 1), value=102),))
    dublin: tuple[Step, ...] = Field((Step(start=dt.date(2025, 1, 1), value=154),))
    _v = field_validator("general", "safe", "dublin")(_steps_sorted)


class Dublin(_Frozen):
    """The Dublin track: claim on another member state, transfer or lapse."""

    share: float = Field(0.25, ge=0, le=1, description="share of first applicants given a Dublin claim [-]")
    accept_rate: float = Field(0.71, ge=0, le=1, description="claims accepted [-]")
    transfer_rate: float = Field(0.30, ge=0, le=1, description="transfers given acceptance [-]")
    abscond_rate: float = Field(0.80, ge=0, le=1, description="accepted, not transferred: leave unsupervised [-]")
    duration: Duration = Field(Duration(name="gamma", mean=150.0, cv=0.5),
                               description="from claim to transfer, absconding or lapse [days]")


class Procedure(_Frozen):
    """The asylum procedure after the wait for a decision slot."""

    rvt: Duration = Field(Duration(name="fixed", mean=6.0), description="rest and preparation period [days]")
    aa: Duration = Field(Duration(name="fixed", mean=8.0), description="general asylum procedure [days]")
    safe_track: Duration = Field(Duration(name="gamma", mean=21.0, cv=0.5),
                                 description="accelerated safe-country procedure [days]")
    va_share: float = Field(0.22, ge=0, le=1, description="general-track cases referred to the extended procedure [-]")
    va: Duration = Field(Duration(name="gamma", mean=196.0, cv=0.6), description="extended procedure (VA) [days]")
    statutory_months: tuple[Step, ...] = Field(
        (Step(start=dt.date(2025, 1, 1), value=6),), description="statutory decision period [months]")
    _v = field_validator("statutory_months")(_steps_sorted)


class Appeal(_Frozen):
    share: float = Field(0.60, ge=0, le=1, description="rejected applicants who appeal [-]")
    success_rate: float = Field(0.08, ge=0, le=1, description="appeals that end in a permit [-]")
    duration: Duration = Field(Duration(name="gamma", mean=120.0, cv=0.6), description="appeal [days]")


class Return(_Frozen):
    """Return after a final rejection (DT&V)."""

    departure_term_days: float = Field(28, ge=0, description="departure term with reception, general track [days]")
    share_independent: float = Field(0.25, ge=0, le=1, description="departures independent (aantoonbaar) [-]")
    share_forced: float = Field(0.17, ge=0, le=1, description="departures forced [-]")
    share_unsupervised: float = Field(0.58, ge=0, le=1, description="departures without supervision [-]")
    restricted_share: float = Field(0.25, ge=0, le=1,
                                    description="rejected who move to a freedom-restricting location [-]")
    restricted_stay: Duration = Field(Duration(name="gamma", mean=84.0, cv=0.5),
                                      description="stay in a freedom-restricting location (VBL) [days]")
    time_to_departure: Duration = Field(Duration(name="gamma", mean=120.0, cv=0.8),
                                        description="from end of reception to recorded departure [days]")
    detention: Duration = Field(Duration(name="gamma", mean=50.0, cv=0.6),
                                description="immigration detention before a forced departure [days]")

    @model_validator(mode="after")
    def _shares(self) -> "Return":
        s = self.share_independent + self.share_forced + self.share_unsupervised
        if abs(s - 1) > 1e-6:
            raise ValueError(f"share_independent + share_forced + share_unsupervised must sum to 1, found {s:.4f}")
        return self


class HalfYearTask(_Frozen):
    period: str = Field(pattern=r"^\d{4}-H[12]$", description="half-year, e.g. '2017-H1'")
    value: float = Field(ge=0, description="housing task [persons/half-year]")


class Housing(_Frozen):
    """Housing of permit holders: the half-yearly task (taakstelling) with carry-over of the backlog."""

    task_rule: Literal["given", "grants_previous_half_year"] = Field(
        "grants_previous_half_year",
        description="how the task is set where no given value exists")
    tasks: tuple[HalfYearTask, ...] = Field((), description="given housing tasks [persons/half-year]")
    task_scale: float = Field(1.0, ge=0, description="multiplier on every task (policy lever) [-]")
    realisation_rate: float = Field(0.78, ge=0, le=1,
                                    description="share of task plus backlog realised in the half-year [-]")
    lead_time: Duration = Field(Duration(name="gamma", mean=98.0, cv=0.3),
                                description="permit to earliest move-out: linking + search + move [days]")


class Reception(_Frozen):
    """Reception capacity (persons) by location type and cost per occupied place."""

    capacity_regular: tuple[Step, ...] = Field(
        (Step(start=dt.date(2025, 1, 1), value=41000),), description="regular places (AZC/POL) [persons]")
    capacity_small: tuple[Step, ...] = Field(
        (Step(start=dt.date(2025, 1, 1), value=0),), description="small-scale places near municipalities [persons]")
    central_capacity: float = Field(2000, ge=0, description="central reception Ter Apel maximum [persons]")
    cost_regular: float = Field(74.25, ge=0, description="cost of a regular place [EUR/person/day]")
    cost_emergency: float = Field(146.3, ge=0, description="cost of an emergency place [EUR/person/day]")
    _v = field_validator("capacity_regular", "capacity_small")(_steps_sorted)


class Levers(_Frozen):
    """Policy levers compared in the report."""

    triage: bool = Field(True, description="early triage: safe-country cases to the accelerated track")
    routing_small_scale: bool = Field(
        False, description="likely grants go to small-scale locations near their future municipality (P3.7)")
    likely_grant_threshold: float = Field(0.7, ge=0, le=1,
                                          description="group grant rate from which a case counts as likely [-]")
    legal_aid_after_intended_rejection: bool = Field(
        False, description="legal aid only after an intended rejection: no RVT for grants (P3.6)")
    no_hearing_repeat_without_chance: bool = Field(
        False, description="subsequent applications without new facts decided without hearing (P3.6)")


EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


class Simulation(_Frozen):
    start: dt.date = Field(dt.date(2025, 1, 1), description="first reported day")
    end: dt.date = Field(dt.date(2034, 12, 31), description="last simulated day")
    warmup_years: int = Field(3, ge=0, le=20,
                              description="years simulated before start with the first year's inputs, not reported")
    replicates: int = Field(20, ge=1, le=10000, description="Monte Carlo replicates")
    seed: int = Field(20250101, ge=0, description="root seed of the replicate streams")

    @property
    def grid_start(self) -> dt.date:
        """First simulated day: ``start`` minus ``warmup_years`` (day capped at 28), or ``start``
        without a warm-up; the engine's time grid (and its monthly inflow) begins here."""
        if self.warmup_years == 0:
            return self.start
        return dt.date(self.start.year - self.warmup_years, self.start.month, min(self.start.day, 28))

    @model_validator(mode="after")
    def _span(self) -> "Simulation":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start}): a run covers at least two days")
        first = dt.date(self.start.year - self.warmup_years, self.start.month, 1)
        if first < EARLIEST or self.end > LATEST:
            raise ValueError(f"the run with its warm-up ({first} to {self.end}) must lie within {EARLIEST} to "
                             f"{LATEST}, the span the calendar arithmetic and the shipped data support")
        return self


def _default_groups() -> tuple[Group, ...]:
    from ketenplan.scenario.groups import default_groups

    return default_groups()


class Scenario(_Frozen):
    """A complete, validated scenario. Use :meth:`replace` for variants; it is never mutated."""

    name: str = Field("nl_baseline", description="scenario name")
    description: str = Field("", description="free text")
    simulation: Simulation = Field(Simulation())
    inflow: Inflow = Field(Inflow())
    groups: tuple[Group, ...] = Field(default_factory=_default_groups)
    household: Household = Field(Household())
    registration: Registration = Field(Registration())
    decision_capacity: DecisionCapacity = Field(DecisionCapacity())
    dublin: Dublin = Field(Dublin())
    procedure: Procedure = Field(Procedure())
    appeal: Appeal = Field(Appeal())
    return_: Return = Field(Return(), alias="return")
    housing: Housing = Field(Housing())
    reception: Reception = Field(Reception())
    levers: Levers = Field(Levers())

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, validate_default=True)

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: tuple[Group, ...]) -> tuple[Group, ...]:
        if not v:
            raise ValueError("needs at least one nationality group")
        s = sum(g.share for g in v)
        if abs(s - 1) > 1e-3:
            raise ValueError(f"group shares must sum to 1, found {s:.4f}; rescale the 'share' of each [[groups]] entry")
        names = [g.name for g in v]
        if len(set(names)) != len(names):
            raise ValueError(f"group names must be unique, found {names}")
        return v

    @model_validator(mode="after")
    def _shock_groups(self) -> "Scenario":
        names = {g.name for g in self.groups}
        for k, sh in enumerate(self.inflow.shocks):
            unknown = sorted(set(sh.group_shares) - names)
            if unknown:
                raise _key_error(f"inflow.shocks[{k}].group_shares", f"unknown group(s) {unknown}; "
                                 f"the scenario's groups are {sorted(names)}")
        return self

    @model_validator(mode="after")
    def _forecast_covers_grid(self) -> "Scenario":
        if self.inflow.source != "forecast":
            return self
        from ketenplan.forecast.api import first_month  # lazy: data only read for source = forecast

        first = first_month(self.inflow.forecast_country)
        grid0 = self.simulation.grid_start
        if f"{grid0:%Y-%m}" < first:
            raise _key_error("simulation.start", f"with warmup_years = {self.simulation.warmup_years} the run begins "
                             f"{grid0:%Y-%m}, before the {self.inflow.forecast_country} series of the inflow forecast "
                             f"(source = 'forecast') begins ({first}); every simulated month needs data or a "
                             f"forecast. Fix: start later, use fewer warmup_years, or set inflow.source = 'given'")
        return self

    # ------------------------------------------------------------------------------------------
    def replace(self, **changes: object) -> "Scenario":
        """A new scenario with changes given as dotted keys, e.g. ``replace(**{"levers.triage": False})``."""
        data = self.to_dict()
        for key, value in changes.items():
            node = data
            parts = key.replace("__", ".").split(".")
            for p in parts[:-1]:
                if p not in node or not isinstance(node[p], dict):
                    raise KeyError(f"unknown scenario key '{key}'")
                node = node[p]
            if parts[-1] not in node:
                raise KeyError(f"unknown scenario key '{key}'")
            node[parts[-1]] = value
        return Scenario.model_validate(data)

    def to_dict(self) -> dict:
        """Plain data with TOML names (``return`` rather than ``return_``)."""
        return self.model_dump(mode="json", by_alias=True)

    def digest(self) -> str:
        """Stable SHA-256 of the scenario's content (first 16 hex digits)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
