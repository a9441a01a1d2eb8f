"""Parameter uncertainty by default: each uncertain parameter declares the distribution of its
plausible values in the schema (``param(..., uncertainty={...})``), and every replicate of a run
draws its own value (P0.5, P3.4).

A declaration is ``{"name": "uniform", "low": a, "high": b}`` or ``{"name": "triangular", "low": a,
"mode": m, "high": b}``; with ``"scale": True`` the draw multiplies the scenario's value (every
value of a step series), so a user's own value keeps its uncertainty around it; without, the draw
is the value. The draw of replicate ``i`` is a keyed uniform (``engine.rng``, purpose
``parameters``) of the run's seed, the parameter's name and ``i``: the same seed gives the same
draws on every backend and in every scenario of a comparison (common random numbers), and a
parameter added later does not change the others' draws. A distribution of values (no ``scale``)
describes the default: a scenario that sets its own value keeps it in every replicate.

``simulation.parameter_uncertainty = false`` switches the draws off (every replicate uses the
scenario's values); a parameter that ``simulation.parameter_sets`` sets is taken from the set.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pandas as pd

from ketenplan.errors import ScenarioError


@functools.lru_cache(maxsize=1)
def uncertain_parameters() -> tuple[tuple[str, dict], ...]:
    """(dotted key, distribution) of every declared parameter with an ``uncertainty``."""
    from ketenplan.scenario import declared_parameters

    out = []
    for key, meta in declared_parameters():
        dist = (meta or {}).get("uncertainty")
        if dist:
            check(key, dist)
            out.append((key, dict(dist)))
    return tuple(out)


def check(key: str, dist: dict) -> None:
    name = dist.get("name")
    need = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high")}.get(name)
    if need is None:
        raise ScenarioError(f"{key}: uncertainty 'name' must be 'uniform' or 'triangular', found {name!r}")
    missing = [k for k in need if k not in dist]
    if missing:
        raise ScenarioError(f"{key}: a {name} uncertainty needs {', '.join(need)}; missing {', '.join(missing)}")
    lo, hi = float(dist["low"]), float(dist["high"])
    mode = float(dist.get("mode", lo))
    if not lo <= mode <= hi or lo == hi:
        raise ScenarioError(f"{key}: uncertainty needs low <= mode <= high and low < high, found {dist}")
    if not dist.get("scale"):  # the draws are applied without validation: they must lie within the field's bounds
        from ketenplan.scenario.schema import Scenario

        model, parts = Scenario, key.split(".")
        for part in parts[:-1]:
            model = model.model_fields[part].annotation
        for m in model.model_fields[parts[-1]].metadata:
            for attr, ok in (("ge", lambda b: lo >= b), ("gt", lambda b: lo > b), ("le", lambda b: hi <= b),
                             ("lt", lambda b: hi < b)):
                bound = getattr(m, attr, None)
                if bound is not None and not ok(bound):
                    raise ScenarioError(f"{key}: uncertainty {lo:g}-{hi:g} leaves the field's bound {attr} {bound}")


def quantile(dist: dict, u: float) -> float:
    """The value at probability ``u`` of a declared distribution (inverse CDF)."""
    lo, hi = float(dist["low"]), float(dist["high"])
    if dist["name"] == "uniform":
        return lo + u * (hi - lo)
    m = float(dist["mode"])
    cut = (m - lo) / (hi - lo)
    if u < cut:
        return lo + np.sqrt(u * (hi - lo) * (m - lo))
    return hi - np.sqrt((1 - u) * (hi - lo) * (hi - m))


def _uniform(seed: int, key: str, i: int) -> float:
    from ketenplan.engine import rng as G

    root = G.replicate_key(G.replicate_seed(seed, 2**31 - 1))  # a key of its own, apart from every replicate's
    return float(G.uniforms(root, G.P["parameters"], zlib.crc32(key.encode()), int(i))[0])


@functools.lru_cache(maxsize=1)
def _default():
    from ketenplan.scenario.schema import Scenario

    return Scenario()


def _value(scenario, key: str):
    v = scenario
    for part in key.split("."):
        v = getattr(v, part)
    return v


def draws(scenario, seed: int, i: int) -> pd.Series:
    """Replicate ``i``'s draws as a parameter-set row (``key`` or ``key@scale`` -> value); empty when
    the scenario switches parameter uncertainty off."""
    if not scenario.simulation.parameter_uncertainty:
        return pd.Series(dtype=float)
    taken = set()
    if scenario.simulation.parameter_sets:
        from ketenplan.scenario.parameter_sets import load

        taken = {c.split("@")[0] for c in load(scenario.simulation.parameter_sets).columns}
    row = {}
    for key, dist in uncertain_parameters():
        if key in taken or (not dist.get("scale") and _value(scenario, key) != _value(_default(), key)):
            continue
        v = quantile(dist, _uniform(seed, key, i))
        row[key + "@scale" if dist.get("scale") else key] = v
    return pd.Series(row, dtype=float)


def describe(scenario) -> str:
    """Which parameters a run's bands carry the uncertainty of, for the report ('' when none)."""
    if not scenario.simulation.parameter_uncertainty:
        return ""
    parts = []
    for key, d in uncertain_parameters():
        rng = (f"{d['low']:g}-{d['high']:g}" + (f" (mode {d['mode']:g})" if "mode" in d else ""))
        parts.append(f"{key} ({d['name']} {rng}{' x the value' if d.get('scale') else ''})")
    return "the uncertainty of " + "; ".join(parts) if parts else ""


def band_sources(scenario) -> str:
    """What a run's p10-p90 bands contain besides the chain's own randomness, in words (report)."""
    sim = scenario.simulation
    parts = []
    if sim.parameter_sets:
        parts.append(f"the parameter sets of {sim.parameter_sets} (one row per replicate)")
    d = describe(scenario)
    if d:
        parts.append(d)
    if scenario.inflow.source == "forecast":
        f = scenario.forecast
        after = ("then the given inflow.first, without inflow uncertainty" if f.after_horizon == "given"
                 else "then each path's last forecast year held")
        parts.append(f"the inflow forecast's uncertainty (one sample path of {scenario.inflow.forecast_country} "
                     f"first applications per replicate, calibrated 12-month totals) for the first "
                     f"{f.horizon_months} months after the forecast's origin, {after}")
    else:
        parts.append("no inflow uncertainty (the inflow is given: a what-if; inflow.source = 'forecast' draws it)")
    if sim.initial_state == "history":
        parts.append("no uncertainty of the starting stocks (the state on the start day is taken as known)")
    return "; ".join(parts)
