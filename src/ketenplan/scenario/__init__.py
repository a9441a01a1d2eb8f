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

__all__ = ["Scenario", "load_scenario", "preset_names", "scenario_toml", "plausibility", "parameters_table",
           "declared_parameters"]


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


def _key(loc: tuple) -> str:
    """A location as the user writes the key: list positions in brackets, 'inflow.shocks[0].kind'."""
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _date_example(found: object) -> str:
    """A TOML date for the fix of a date written otherwise: the found month or day if it is one."""
    import re

    m = re.fullmatch(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?\s*", found) if isinstance(found, str) else None
    if m and 1 <= int(m[2]) <= 12:
        return f"{m[1]}-{m[2]}-{m[3] or '01'}"
    return "2025-06-01"


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        key = _key(loc) or "(top level)"
        found = e.get("input")
        typ = e["type"]
        if typ == "scenario_key":  # a check of a whole section that names the key inside it (schema._key_error)
            inner = e["ctx"]["key"]
            where = f"{_key(loc)}.{inner}" if loc else inner
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
        elif typ == "literal_error":  # one of a fixed set of words, e.g. a shock's kind
            allowed = e["msg"].replace("Input should be ", "")
            lines.append(f"'{key}': expected {allowed}, found {found_s}. Fix: use one of {allowed}")
        elif typ.startswith("date_"):  # a string '2025-06', a number or a date-time where a date belongs
            lines.append(f"'{key}': expected a date, found {found_s}. Fix: write a TOML date like "
                         f"{_date_example(found)} (no quotes)")
        elif typ in ("tuple_type", "list_type"):
            hint = (f"; a series over time is a list of steps: [{{start = 2025-01-01, value = {found}}}]"
                    if isinstance(found, (int, float)) and not isinstance(found, bool) else "")
            lines.append(f"'{key}': expected a list [...], found {found_s}{hint}. Fix: write the value as a list")
        elif typ.endswith("_parsing") or typ.endswith("_type"):
            lines.append(f"'{key}': expected {e['msg'].replace('Input should be ', '')}, found {found_s}. "
                         f"Fix: correct the value's type")
        elif typ == "missing":
            lines.append(f"'{key}': a required key is missing. Fix: add it")
        else:
            msg = e["msg"].replace("Value error, ", "")
            # a value error of a whole section already says what it found; don't append "(found dict)"
            # ... nor repeat a found value the message already quotes
            said = isinstance(found, (dict, list)) or (isinstance(found, str) and found_s in msg)
            lines.append(f"'{key}': {msg}" + ("" if said else f" (found {found_s})"))
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


def _dotted_keys(data: Mapping, prefix: str = "") -> list[str]:
    """The dotted keys a (partial) scenario sets: leaves, and lists as one key."""
    out = []
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.extend(_dotted_keys(v, key + "."))
        else:
            out.append(key)
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
        raw = path.read_bytes()
        # a byte-order mark (as some Windows editors save UTF-8) is not TOML, but says nothing either
        return tomllib.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); save the scenario file as UTF-8") from None
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file; give a path to a .toml file or one of the presets: "
                            f"{', '.join(preset_names())}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc}). Fix the syntax at that line") from None


def load_scenario(source: str | Path, overrides: Mapping | None = None, *, strict: bool = False,
                  check: bool = True) -> Scenario:
    """Load a scenario from a TOML file or a preset name, apply ``overrides`` and validate.

    A file may start from a preset with a top-level ``base = "nl_history"`` key; its other keys
    override the preset. Plausibility checks warn, or raise ScenarioError when ``strict``
    (``check=False``: validation only, no plausibility checks).
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
        own = dict(data)
        data = _deep_merge(_read_toml(_preset_path(base)), data)
        data.pop("base", None)
        if "description" not in own:  # a variant never carries its base's description
            changed = [k for k in _dotted_keys(own) if k != "name"]
            data["description"] = (f"{base} with {', '.join(changed)} changed" if changed else f"{base} as it is")
    if overrides:
        data = _deep_merge(data, overrides)
    sc = scenario_from_dict(data, origin)
    if check:
        plausibility(sc, strict=strict, origin=origin)
    return sc


def scenario_toml(scenario: Scenario) -> str:
    """The full scenario as TOML (every field, defaults included; an optional field that is not set,
    such as ``reception_policy.emergency_limit``, is left out, as TOML has no null): a start for one's
    own file."""
    data = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
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
    dc = sc.decision_capacity
    if dc.pooling == "shared":
        dec_total = max(s.value for s in dc.total) * 52.18
        base = type(dc)()
        unused = [k for k in ("general", "safe", "dublin") if getattr(dc, k) != getattr(base, k)]
        check("decision_capacity_unused", not unused,
              f"'decision_capacity.{unused[0] if unused else ''}' is set but not used: with pooling = 'shared' one pool "
              f"('decision_capacity.total') serves every track. Set total, or pooling = 'per_track'")
    else:
        dec_total = sum(max(s.value for s in steps) for steps in (dc.general, dc.safe, dc.dublin)) * 52.18
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
    grid0 = sc.simulation.inflow_start
    history = sc.simulation.initial_state == "history"
    for k, shock in enumerate(sc.inflow.shocks):
        check("shock_within_horizon", (shock.onset.year, shock.onset.month) <= (sc.simulation.end.year,
                                                                                  sc.simulation.end.month),
              f"inflow.shocks[{k}] ({shock.kind}) starts {shock.onset}, after the simulation ends "
              f"({sc.simulation.end}): it has no effect")
        early = _months_before_grid(shock.onset, grid0)
        if early > 0:
            cut = _shock_effect_in_grid(shock, early, sc)
            check("shock_within_horizon", False,
                  f"inflow.shocks[{k}] ({shock.kind}) starts {shock.onset}, before the simulation grid starts "
                  + (f"drawing inflow ({grid0}: the chain before the start is replayed from "
                     f"{sc.simulation.history}): " if history else
                     f"({grid0}: simulation start {sc.simulation.start} minus warmup_years = "
                     f"{sc.simulation.warmup_years}): ") + (
                      "it has no effect" if not cut else
                      f"only its months from {grid0:%Y-%m} on are simulated; its first {early} month(s) lie "
                      "before the grid and are cut off")
                  + f". Move the onset to {grid0:%Y-%m}-01 or later"
                  + (" (or set simulation.initial_state = 'empty' with a warm-up)" if history else
                     ", or raise warmup_years"))
        adds = shock.kind == "surge" and shock.size > 1 or shock.kind == "level_shift" and shock.size > 0
        check("shock_group_shares_unused", adds or not shock.group_shares,
              f"'inflow.shocks[{k}].group_shares' is ignored: a {shock.kind} with size {shock.size:g} adds no "
              f"persons, so there are no extra arrivals to give this group mix (only a surge with size > 1 or "
              f"a level_shift with size > 0 does). Remove group_shares from this shock")
    if sc.inflow.source == "forecast":
        _check_forecast_data(sc, check)
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


#: A country's forecast data ending this many months before the latest data month count as ended early.
FORECAST_DATA_LAG_MONTHS = 12


def _month_index(d) -> int:
    return d.year * 12 + d.month - 1


def _months_before_grid(onset, grid0) -> int:
    """Whole months from a shock's onset month to the grid's first month (> 0: the onset lies before the
    grid; the engine applies shocks by month, the onset's day ignored)."""
    return _month_index(grid0) - _month_index(onset)


def _shock_effect_in_grid(shock, early: int, sc: Scenario) -> bool:
    """Whether a shock starting ``early`` months before the grid changes any month of the grid."""
    import numpy as np

    n = _month_index(sc.simulation.end) - _month_index(sc.simulation.inflow_start) + 1
    return bool(np.any(np.abs(shock.factor(np.arange(early, early + n)) - 1.0) > 1e-12))


def _check_forecast_data(sc: Scenario, check) -> None:
    """forecast_data_ends_early: the forecast country's data end long before the other countries' and
    before the grid starts, so the run's inflow is forecast from that old month."""
    from ketenplan.forecast.api import last_month  # lazy: no forecast data read unless source = forecast
    from ketenplan.forecast.data import countries

    country = sc.inflow.forecast_country
    last = last_month(country)
    latest = max(last_month(c) for c in countries())

    def idx(ym: str) -> int:
        return int(ym[:4]) * 12 + int(ym[5:7]) - 1

    grid0 = sc.simulation.inflow_start
    ahead = _month_index(grid0) - 1 - idx(last)  # months from the forecast origin to the grid's month before
    lag = idx(latest) - idx(last)
    check("forecast_data_ends_early", lag <= FORECAST_DATA_LAG_MONTHS or ahead <= 0,
          f"inflow.forecast_country = '{country}': its data end {last}, {lag} months before the latest data "
          f"month ({latest}); the first-application inflow is then forecast from {last}, {ahead} months "
          f"before the simulation grid starts ({grid0:%Y-%m}), so the run's inflow is a long-range forecast "
          f"with wide intervals that ignores everything after {last}. Choose a country with data to "
          f"{latest}, or give the inflow (source = 'given')")


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


def _fmt_value(v) -> str:
    """A parameter value as one line: durations as family(mean, cv), step series as 'v from date'."""
    from ketenplan.scenario.schema import Duration, Group, HalfYearTask, MonthValue, Step

    if isinstance(v, Duration):
        if v.name == "fixed":
            return f"fixed({v.mean:g})"
        if v.name == "uniform":
            return f"uniform({v.low:g}, {v.high:g})"
        if v.name == "exponential":
            return f"exponential(mean={v.mean:g})"
        return f"{v.name}(mean={v.mean:g}, cv={v.cv:g})"
    if isinstance(v, BaseModel) and hasattr(v, "per_year"):  # a stream
        parts = [_fmt_value(v.per_year)] if v.per_year else []
        if getattr(v, "monthly", ()):
            parts.append(f"{len(v.monthly)} given months")
        return "; ".join(parts) or "none"
    if isinstance(v, tuple):
        if not v:
            return "none"
        if all(isinstance(x, Step) for x in v):
            return ", ".join(f"{x.value:g} from {x.start}" for x in v)
        if all(isinstance(x, Group) for x in v):
            return f"{len(v)} groups: " + ", ".join(f"{g.name} {g.share:.4f}/{g.grant_rate:.4f}" for g in v)
        if all(isinstance(x, HalfYearTask) for x in v):
            return ", ".join(f"{x.period}: {x.value:g}" for x in v)
        if all(isinstance(x, MonthValue) for x in v):
            return f"{len(v)} given months"
        if all(isinstance(x, (int, float)) for x in v):
            return ",".join(f"{x:g}" for x in v)
        return f"{len(v)} entries"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def declared_parameters(model: type[BaseModel] | None = None, prefix: str = ""):
    """Every declared parameter of the scenario schema: (dotted key, path of attribute names, metadata).
    A field with metadata (``schema.param``) is one parameter; a section without is walked."""
    from ketenplan.scenario.schema import Scenario

    model = model or Scenario
    for name, f in model.model_fields.items():
        key = prefix + (f.alias or name)
        meta = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else None
        ann = f.annotation
        if meta is not None:
            yield key, meta
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from declared_parameters(ann, key + ".")
        else:
            yield key, None


def _get(scenario, key: str):
    node = scenario
    for part in key.split("."):
        node = getattr(node, "return_" if part == "return" else part)
    return node


def parameters_table(scenario: Scenario | None = None):
    """The scenario's parameters as declared in the schema: key, value (of ``scenario``, default the
    baseline), default, unit, source, note, years, kind (sourced | assumption | setting) and whether
    the value differs from the default."""
    import pandas as pd

    sc = scenario or Scenario()
    base = Scenario()
    rows = []
    for key, meta in declared_parameters():
        if meta is None:
            raise ScenarioError(f"scenario field {key!r} is declared without its unit and source; declare it with "
                                "schema.param(...)")
        value, default = _get(sc, key), _get(base, key)
        src = meta["source"]
        kind = "assumption" if src.startswith("assumption") else "setting" if src.startswith("setting") else "sourced"
        rows.append(dict(name=key, value=_fmt_value(value), default=_fmt_value(default), unit=meta["unit"],
                         source=src, note=meta.get("note", ""), years=meta.get("years", ""), kind=kind,
                         differs=value != default, uncertainty=str(meta.get("uncertainty", "") or "")))
    return pd.DataFrame(rows)
