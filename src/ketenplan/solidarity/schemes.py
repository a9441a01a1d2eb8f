"""Declared definitions of the EU responsibility-sharing schemes.

Every figure (weights, caps, thresholds, amounts) is read from ``parameters.csv`` beside this
module, one row per figure with its unit and source; figures no text gives are labelled
``[assumption]`` there. Which states take part in which scheme is declared here, with sources.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from ketenplan.errors import ScenarioError, data_error

SchemeName = Literal["relocation-2015", "dublin-2016", "pact-2024"]
SCHEMES: tuple[str, ...] = ("relocation-2015", "dublin-2016", "pact-2024")
PARAMETERS_FILE = Path(__file__).with_name("parameters.csv")
STATES_FILE = Path(__file__).with_name("states.csv")


class Parameter(BaseModel):
    """One sourced figure of a scheme."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scheme: str
    name: str
    value: float
    unit: str
    source: str
    note: str = ""


class Scheme(BaseModel):
    """A distribution scheme: the weights of its key and its other figures.

    ``weights`` maps a criterion (``population``, ``gdp``, ``past_applications``,
    ``unemployment``) to its weight; the weights must sum to 1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    weights: dict[str, float]
    figures: dict[str, float]
    sources: dict[str, str]

    @field_validator("weights")
    @classmethod
    def _weights_sum_to_one(cls, w: dict[str, float]) -> dict[str, float]:
        for k, v in w.items():
            if not (0.0 <= v <= 1.0) or math.isnan(v):
                raise ValueError(f"weight '{k}' must lie in [0, 1], found {v!r}")
        total = sum(w.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1, found {total!r} ({w})")
        return w

    def figure(self, name: str) -> float:
        """A named figure of the scheme (KeyError-free: raises ScenarioError)."""
        try:
            return self.figures[name]
        except KeyError:
            raise ScenarioError(f"scheme '{self.name}' has no figure '{name}'; "
                                f"expected one of {sorted(self.figures)}") from None

    def replace(self, **changes) -> "Scheme":
        """A validated variant, e.g. ``scheme.replace(weights={...})``."""
        data = self.model_dump()
        data.update(changes)
        return make_scheme(**data)


def make_scheme(**data) -> Scheme:
    """Build a Scheme, turning validation errors into a ScenarioError that says what to fix."""
    try:
        return Scheme(**data)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        msg = "; ".join(e.get("msg", str(e)) for e in getattr(exc, "errors", lambda: [])()) or str(exc)
        raise ScenarioError(f"scheme '{data.get('name')}': {msg}. Fix: give weights in [0, 1] "
                            "that sum to 1") from None


@lru_cache(maxsize=1)
def parameters() -> tuple[Parameter, ...]:
    """All rows of ``parameters.csv``."""
    rows = []
    with PARAMETERS_FILE.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            try:
                row["value"] = float(row["value"])
            except (TypeError, ValueError):
                raise data_error(PARAMETERS_FILE.name, "value is not a number", row=i, column="value",
                                 expected="a number", found=row.get("value")) from None
            if not row.get("source"):
                raise data_error(PARAMETERS_FILE.name, "figure without a source", row=i, column="source",
                                 expected="a source or [assumption]", found=row.get("source"))
            rows.append(Parameter(**row))
    return tuple(rows)


_WEIGHT_PREFIX = "weight_"


def get_scheme(name: str) -> Scheme:
    """The declared scheme ``relocation-2015``, ``dublin-2016`` or ``pact-2024``."""
    if name not in SCHEMES:
        raise ScenarioError(f"unknown scheme {name!r}; expected one of {', '.join(SCHEMES)}")
    rows = [p for p in parameters() if p.scheme == name]
    weights = {p.name[len(_WEIGHT_PREFIX):]: p.value for p in rows if p.name.startswith(_WEIGHT_PREFIX)}
    figures = {p.name: p.value for p in rows if not p.name.startswith(_WEIGHT_PREFIX)}
    sources = {p.name: p.source for p in rows}
    return make_scheme(name=name, weights=weights, figures=figures, sources=sources)


@lru_cache(maxsize=1)
def _states() -> tuple[dict[str, str], ...]:
    with STATES_FILE.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def state_names() -> dict[str, str]:
    """ISO3 code -> English name of every EU+ state known to the module."""
    return {r["iso3"]: r["name"] for r in _states()}


def geo_to_iso3() -> dict[str, str]:
    """Eurostat 2-letter code -> ISO3."""
    return {r["geo"]: r["iso3"] for r in _states()}


def _flag(flag: str) -> list[str]:
    return [r["iso3"] for r in _states() if r[flag] == "1"]


# Participants of each scheme (ISO3), with the text that fixes them.
PARTICIPANTS: dict[str, tuple[str, str]] = {
    "relocation-2015/may-2015": (
        "EU28 without IT, EL (benefitting) and UK, IE, DK (not bound)",
        "COM(2015) 286 proposal of 27 May 2015 (40,000 from IT and EL)"),
    "relocation-2015/sep-2015": (
        "EU28 without IT, EL, HU (benefitting) and UK, IE, DK (not bound)",
        "COM(2015) 451 proposal of 9 Sep 2015 (120,000 from IT, EL, HU)"),
    "dublin-2016": (
        "EU27 plus the Dublin associated states NO, CH, IS (the UK left in 2020; LI has no GDP for 2023 "
        "in the shipped data)",
        "COM(2016) 270; Dublin association agreements; [assumption] UK and LI left out of the replay"),
    "pact-2024": (
        "EU27 without DK (Protocol No 22: Denmark does not take part)",
        "Regulation (EU) 2024/1351; Protocol No 22 TEU/TFEU"),
}


def participants(scheme: str, variant: str | None = None) -> list[str]:
    """ISO3 codes of the states that take part in ``scheme`` (and proposal ``variant``)."""
    if scheme == "relocation-2015":
        variant = variant or "sep-2015"
        base = _flag("eu28_2015")
        drop = {"may-2015": {"ITA", "GRC", "GBR", "IRL", "DNK"},
                "sep-2015": {"ITA", "GRC", "HUN", "GBR", "IRL", "DNK"}}
        if variant not in drop:
            raise ScenarioError(f"unknown relocation-2015 proposal {variant!r}; expected 'may-2015' or 'sep-2015'")
        return [s for s in base if s not in drop[variant]]
    if scheme == "dublin-2016":
        return _flag("eu27") + [s for s in _flag("dublin_associated") if s != "LIE"]
    if scheme == "pact-2024":
        return [s for s in _flag("eu27") if s != "DNK"]
    raise ScenarioError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
