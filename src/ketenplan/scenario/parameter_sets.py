"""Parameter sets: plausible values of uncertain inputs, one row per set (P0.5, P3.4).

A run whose scenario names a file in ``simulation.parameter_sets`` applies row ``replicate % n``
of that CSV to replicate ``replicate``, so that its p10-p90 band carries parameter uncertainty as
well as simulation noise. Columns:

- a dotted scenario key (``housing.realisation_rate``): the row's value replaces the scenario's;
- a dotted key with ``@scale`` (``decision_capacity.total@scale``): every value of that step
  series is multiplied by the row's value [-];
- any column without a dot (``distance``, ``ind_capacity_factor``): information, not applied;
  ``model_error_bias:<quantity>`` and ``model_error_sd:<quantity>`` among them are the set's model
  error for that quantity (mean and sd on the log scale), which ``ketenplan.backtest`` adds to the
  bands (:mod:`ketenplan.model_error`).

The shipped set ``nl_chain/nl_history_parameter_sets.csv`` comes from ``tools/calibrate_history.py``
(rejection ABC on 2014-2019 facts only).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.errors import DataError, ScenarioError


def resolve(name: str) -> Path:
    """A path to a CSV, or a shipped data file written ``area/file.csv``."""
    p = Path(name)
    if p.exists():
        return p
    from ketenplan.data import data_path

    try:
        return data_path(*name.split("/"))
    except DataError:
        raise ScenarioError(f"simulation.parameter_sets: no file {name!r}; expected a CSV path or a shipped "
                            "data file such as 'nl_chain/nl_history_parameter_sets.csv'") from None


@functools.lru_cache(maxsize=8)
def load(name: str) -> pd.DataFrame:
    """The parameter sets of ``name`` (only the applied columns), checked: at least one row, numbers."""
    path = resolve(name)
    df = pd.read_csv(path)
    cols = [c for c in df.columns if "." in c]
    if df.empty or not cols:
        raise DataError(f"{path}: parameter sets need at least one row and one column named by a dotted "
                        f"scenario key (e.g. housing.realisation_rate), found columns {list(df.columns)}")
    bad = [c for c in cols if not np.isfinite(pd.to_numeric(df[c], errors="coerce")).all()]
    if bad:
        raise DataError(f"{path}: column(s) {', '.join(bad)} must hold finite numbers in every row")
    return df[cols].astype(float)


@functools.lru_cache(maxsize=8)
def load_info(name: str) -> pd.DataFrame:
    """All columns of the parameter sets of ``name`` (applied and information), checked as ``load``
    checks them; ``model_error_sd:*`` columns must hold finite numbers >= 0 and
    ``model_error_bias:*`` columns finite numbers."""
    load(name)
    path = resolve(name)
    df = pd.read_csv(path)
    cols = [c for c in df.columns if c.startswith(("model_error_sd:", "model_error_bias:"))]
    vals = df[cols].apply(pd.to_numeric, errors="coerce")
    bad = [c for c in cols if not (np.isfinite(vals[c]) & ((vals[c] >= 0) | c.startswith("model_error_bias:"))).all()]
    if bad:
        raise DataError(f"{path}: column(s) {', '.join(bad)} must hold finite numbers in every row, a scale "
                        "(model_error_sd) >= 0 (a model error in log units)")
    df[cols] = vals
    return df


def apply_row(scenario, row: pd.Series):
    """``scenario`` with the values of one parameter set (name and description kept)."""
    data = scenario.to_dict()
    changes: dict[str, object] = {"name": scenario.name, "description": scenario.description}
    for key, value in row.items():
        if key.endswith("@scale"):
            base = key[: -len("@scale")]
            node = data
            for part in base.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise ScenarioError(f"parameter sets: unknown scenario key {base!r} in column {key!r}")
                node = node[part]
            if isinstance(node, (int, float)) and not isinstance(node, bool):
                changes[base] = float(node) * float(value)
                continue
            if not isinstance(node, list) or not all(isinstance(s, dict) and "value" in s for s in node):
                raise ScenarioError(f"parameter sets: column {key!r} scales a number or a step series, but {base} "
                                    "is neither")
            changes[base] = [{**s, "value": float(s["value"]) * float(value)} for s in node]
        else:
            changes[key] = float(value)
    try:
        return scenario.replace(**changes)
    except ScenarioError as e:
        raise ScenarioError(f"parameter sets: {e}") from None


def apply_draws(scenario, row: pd.Series):
    """``scenario`` with one replicate's draws of declared uncertain parameters (``key`` or
    ``key@scale`` -> value): the sections are copied with the new values, without validating the
    whole scenario again (a draw lies within its declared range, which ``scenario.uncertainty``
    checks against the field's bounds)."""
    for col, value in row.items():
        key, scale = (col[: -len("@scale")], True) if col.endswith("@scale") else (col, False)
        scenario = _set(scenario, key.split("."), float(value), scale)
    return scenario


def _set(model, parts: list[str], value: float, scale: bool):
    head, rest = parts[0], parts[1:]
    cur = getattr(model, head)
    if rest:
        new = _set(cur, rest, value, scale)
    elif isinstance(cur, tuple):  # a step series: every value scaled
        new = tuple(s.model_copy(update={"value": float(s.value) * value}) for s in cur)
    else:
        new = float(cur) * value if scale else value
    return model.model_copy(update={head: new})


def for_replicate(scenario, i: int, seed: int | None = None):
    """The scenario of replicate ``i``: row ``i % n`` of ``simulation.parameter_sets`` applied (if
    named), then the replicate's draws of the uncertain parameters (``scenario.uncertainty``; keyed by
    ``seed``, default the scenario's) unless ``simulation.parameter_uncertainty`` is off."""
    from ketenplan.engine.compile import share_tables
    from ketenplan.scenario.uncertainty import draws

    from ketenplan.engine.compile import reads_tables

    name = scenario.simulation.parameter_sets
    out = scenario
    changed: list[str] = []
    if name:
        sets = load(name)
        set_row = sets.iloc[i % len(sets)]
        out = apply_row(out, set_row)
        changed += list(set_row.index)
    row = draws(scenario, scenario.simulation.seed if seed is None else seed, i)
    out = apply_draws(out, row) if len(row) else out
    changed += list(row.index)
    if out is not scenario and not any(reads_tables(k.split("@")[0]) for k in changed):
        share_tables(out, scenario)  # what the replicate changes is read by none of the scenario's tables
    return out
