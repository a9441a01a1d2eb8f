"""Scenarios: load and validate TOML files or presets, show them, check plausibility.

Two tiers of validation:
1. structure (load time): unknown keys, wrong types, values out of range, shares that do not sum
   to 1 raise :class:`ketenplan.errors.ScenarioError` naming the key, the expected and the found
   value, and how to fix it;
2. plausibility (named checks in :func:`plausibility`): warn with
   :class:`ketenplan.errors.PlausibilityWarning`, or raise under ``strict=True``.
"""

from __future__ import annotations

import difflib
import logging
import tomllib
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import tomli_w
from pydantic import BaseModel, ValidationError

from ketenplan.errors import PlausibilityWarning, ScenarioError
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)

__all__ = ["Scenario", "load_scenario", "preset_names", "scenario_toml", "plausibility", "parameters_table"]


def preset_names() -> list[str]:
    """Names of the built-in scenarios (``nl_baseline``, ``nl_history``, ...)."""
    folder = resources.files("ketenplan.scenario").joinpath("presets")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _preset_path(name: str) -> Path:
    return Path(str(resources.files("ketenplan.scenario").joinpath("presets", f"{name}.toml")))


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (for 'did you mean' suggestions)."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = None
        for n, f in model.model_fields.items():
            if part in (n, f.alias):
                field = f
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        cand = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = cand[0] if cand else None
    return model


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        found = e.get("input")
        typ = e["type"]
        if typ == "scenario_key":  # a check of a whole section that names the key inside it (schema._key_error)
            where = ".".join([*(str(p) for p in loc), e["ctx"]["key"]])
            lines.append(f"'{where}': {e['ctx']['msg']}")
            continue
        if typ == "extra_forbidden":
            model = _model_at(loc)
            allowed = _allowed_keys(model) if model else []
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            lines.append(f"unknown key '{key}'; {hint}allowed here: {', '.join(allowed)}. "
                         f"Fix: remove or rename the key")
            continue
        found_s = repr(found) if not isinstance(found, (dict, list)) else type(found).__name__
        ctx = e.get("ctx") or {}
        if typ in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
            bound = {"less_than_equal": "<= ", "greater_than_equal": ">= ", "less_than": "< ",
                     "greater_than": "> "}[typ]
            limit = next(iter(ctx.values()), "")
            lines.append(f"'{key}': expected a value {bound}{limit}, found {found_s}. "
                         f"Fix: set '{loc[-1]}' within range")
        elif typ.endswith("_parsing") or typ.endswith("_type") or typ == "literal_error":
            lines.append(f"'{key}': expected {e['msg'].replace('Input should be ', '')}, found {found_s}. "
                         f"Fix: correct the value's type")
        elif typ == "missing":
            lines.append(f"'{key}': a required key is missing. Fix: add it")
        else:
            msg = e["msg"].replace("Value error, ", "")
            # a value error of a whole section already says what it found; don't append "(found dict)"
            lines.append(f"'{key}': {msg}" + ("" if isinstance(found, (dict, list)) else f" (found {found_s})"))
    n = len(lines)
    return f"{source}: {n} problem{'s' if n != 1 else ''} in the scenario:\n  - " + "\n  - ".join(lines)


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def scenario_from_dict(data: Mapping, source: str = "<scenario>") -> Scenario:
    """Validate plain data (TOML names) into a Scenario, or raise ScenarioError."""
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, source)) from None


def _read_toml(path: Path) -> dict:
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder; expected a scenario .toml file")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); save the scenario file as UTF-8") from None
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file; give a path to a .toml file or one of the presets: "
                            f"{', '.join(preset_names())}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc}). Fix the syntax at that line") from None


def load_scenario(source: str | Path, overrides: Mapping | None = None, *, strict: bool = False) -> Scenario:
    """Load a scenario from a TOML file or a preset name, apply ``overrides`` and validate.

    A file may start from a preset with a top-level ``base = "nl_history"`` key; its other keys
    override the preset. Plausibility checks warn, or raise ScenarioError when ``strict``.
    """
    src = str(source)
    if src in preset_names():
        data = _read_toml(_preset_path(src))
        origin = f"preset {src}"
    else:
        path = Path(src)
        if path.suffix != ".toml" and not path.exists():
            raise ScenarioError(f"'{src}' is neither a preset ({', '.join(preset_names())}) nor a .toml file")
        data = _read_toml(path)
        origin = str(path)
    if src not in preset_names():
        if not data:
            warnings.warn(f"{origin}: the file sets nothing; the built-in defaults (nl_baseline) are used",
                          PlausibilityWarning, stacklevel=2)
        data.setdefault("name", Path(src).stem)  # a file's scenario is named after the file unless it says
    base = data.pop("base", None)
    if base is not None:
        if base not in preset_names():
            raise ScenarioError(f"{origin}: 'base' expected one of {', '.join(preset_names())}, found {base!r}")
        data = _deep_merge(_read_toml(_preset_path(base)), data)
        data.pop("base", None)
    if overrides:
        data = _deep_merge(data, overrides)
    sc = scenario_from_dict(data, origin)
    plausibility(sc, strict=strict, origin=origin)
    return sc


def scenario_toml(scenario: Scenario) -> str:
    """The full scenario as TOML (every field, defaults included): a start for one's own file."""
    data = scenario.model_dump(mode="python", by_alias=True)
    head = (f"# ketenplan scenario '{scenario.name}' (all fields; units and sources: docs/parameters.md)\n"
            f"# Validate with: ketenplan validate FILE.toml\n\n")
    return head + tomli_w.dumps(data)


# ----------------------------------------------------------------------------------------------
# plausibility: named checks
# ----------------------------------------------------------------------------------------------
def plausibility(scenario: Scenario, *, strict: bool = False, origin: str | None = None) -> list[str]:
    """Run the named plausibility checks; returns the messages (warns, or raises when strict)."""
    sc = scenario
    msgs: list[str] = []

    def check(name: str, ok: bool, text: str) -> None:
        if not ok:
            msgs.append(f"[{name}] {text}")

    first = max((s.value for s in sc.inflow.first.per_year), default=0.0)
    dec_total = sum(max(s.value for s in steps) for steps in
                    (sc.decision_capacity.general, sc.decision_capacity.safe, sc.decision_capacity.dublin)) * 52.18
    check("decision_capacity_vs_inflow", dec_total >= 0.5 * first,
          f"IND decision capacity ({dec_total:,.0f}/year at most) is below half of the first applications "
          f"({first:,.0f}/year): the queue for a decision grows without bound")
    reg = max(s.value for s in sc.registration.capacity_per_day) * 365
    check("registration_capacity_vs_inflow", reg >= first,
          f"registration capacity ({reg:,.0f}/year) is below first applications ({first:,.0f}/year)")
    check("dublin_rates", sc.dublin.accept_rate * sc.dublin.transfer_rate <= 0.6,
          "more than 60% of Dublin claims end in a transfer; sources give 15-25%")
    check("horizon_length", (sc.simulation.end - sc.simulation.start).days <= 366 * 50,
          "horizon longer than 50 years")
    for k, shock in enumerate(sc.inflow.shocks):
        check("shock_within_horizon", shock.onset <= sc.simulation.end,
              f"inflow.shocks[{k}] ({shock.kind}) starts {shock.onset}, after the simulation ends "
              f"({sc.simulation.end}): it has no effect")
    defaults = dict(_step_series(Scenario()))  # the defaults hold from any start; only given series count
    for key, steps in _step_series(sc):
        if steps and steps[0].start > sc.simulation.start and steps != defaults.get(key):
            check("series_starts_late", False,
                  f"'{key}' starts {steps[0].start}, after the simulation starts ({sc.simulation.start}); "
                  f"its first value ({steps[0].value:g}) is used before that date too. Add a step at "
                  f"{sc.simulation.start} to state the earlier value")
    where = origin or f"scenario '{sc.name}'"
    for m in msgs:
        if strict:
            raise ScenarioError(f"{where} failed a plausibility check (strict mode): {m}")
        warnings.warn(m, PlausibilityWarning, stacklevel=2)
    return msgs


def _step_series(sc: Scenario):
    """(dotted key, steps) of every piecewise-constant series in the scenario."""
    from ketenplan.scenario.schema import Step

    def walk(node, prefix):
        for name, field in type(node).model_fields.items():
            value = getattr(node, name)
            key = f"{prefix}{field.alias or name}"
            if isinstance(value, BaseModel):
                yield from walk(value, key + ".")
            elif isinstance(value, tuple) and value and all(isinstance(v, Step) for v in value):
                yield key, value

    yield from walk(sc, "")


def parameters_table():
    """The shipped parameters table (name, value, unit, source, note) as a DataFrame."""
    import pandas as pd

    return pd.read_csv(Path(str(resources.files("ketenplan.scenario").joinpath("parameters.csv"))))
