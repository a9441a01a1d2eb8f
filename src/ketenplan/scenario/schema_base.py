"""Building blocks of the scenario schema: the declaration helper ``param``, durations, step
series, monthly values and streams (used by every scenario section)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

DAYS_PER_MONTH = 365.25 / 12


def _key_error(key: str, msg: str) -> PydanticCustomError:
    """A validation error located at ``key`` (as the user writes it, e.g. 'inflow.shocks[1].group_shares'),
    for checks of a whole model that concern one key inside it; shown as ``'key': msg``."""
    return PydanticCustomError("scenario_key", "{key}: {msg}", {"key": key, "msg": msg})


def param(default=..., *, unit: str, source: str, note: str = "", years: str = "",
          uncertainty: dict | None = None, **field_kw):
    """A scenario field declared once with everything known about it: its default (the Dutch
    baseline), unit, source (a publication, or ``assumption: <name>`` with the reasoning in
    ``note``, or ``setting: <what>`` for a choice that is no figure), the years of data the default
    uses, and, for an uncertain figure, the distribution of its plausible values (``uncertainty``:
    ``{"name": "uniform"|"triangular"|"normal", ...}``). Defaults, ``docs/parameters.md``, the
    report's assumptions and the parameter draws of an ensemble all come from these declarations."""
    extra = {"unit": unit, "source": source, "note": note, "years": years}
    if uncertainty:
        extra["uncertainty"] = dict(uncertainty)
    return Field(default, json_schema_extra=extra, **field_kw)


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


def steps_sorted(v: tuple[Step, ...]) -> tuple[Step, ...]:
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



_steps_sorted = steps_sorted
