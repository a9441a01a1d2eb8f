"""Costs over time per chain partner (P3.5, P3.4): quantities of one replicate times declared unit costs.

Every cost is a quantity the run produced times a unit cost declared in the scenario (``reception``
and ``costs`` sections, each with its source or named assumption):

========================  ===============  ===========================================================
item (partner)            quantity         unit cost
========================  ===============  ===========================================================
occupied_regular (COA)    person-days      ``reception.cost_regular``: everyone in COA reception who is
                                           not in an emergency place (central, regular, small-scale,
                                           freedom-restricting and waiting locations)
occupied_emergency (COA)  person-days      ``reception.cost_emergency``: persons in emergency places, up
                                           to ``reception_policy.emergency_limit``; those above it have
                                           no place and no price (counted apart: ``without_place``)
empty_places (COA)        place-days       ``costs.empty_place``: regular and small-scale places held
                                           but not occupied (capacity less occupancy, at least 0)
standby_places (COA)      place-days       ``costs.standby_place``: standby places of the threshold
                                           policy not activated yet
opening (COA)             places           ``costs.open_place``: new places that became available (the
                                           scenario's own capacity steps up, or places the policy ordered);
                                           activating standby places costs nothing extra
closing (COA)             places           ``costs.close_place``: places that were closed
decisions (IND)           persons decided  ``costs.ind_decision``
training (IND)            decisions        ``costs.ind_decision``: IND capacity hired by the decision
                          forgone          policy, per day of its training (the decisions a day it will
                                           make once trained); assumption: staff in training cost what
                                           they cost when deciding (salary, workplace, supervision), and
                                           the IND's cost per decision is its cost per unit of capacity
housed (municipalities)   persons housed   ``costs.municipality_housed``
guidance (municipalities) adults housed    ``costs.municipality_guidance``
========================  ===============  ===========================================================

A one-off cost is counted on the day the change takes effect. Only reported days count (the
warm-up is left out). :func:`day_quantities` is pure arithmetic on arrays, so that it can be checked
by hand; :func:`replicate_quantities` takes the arrays out of a finished run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan.engine import registry as R

#: (partner, item, unit of the quantity, label, scenario key of its unit cost); the order of the columns
#: of every cost array
ITEMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("coa", "occupied_regular", "person-days", "occupied places at the regular price", "reception.cost_regular"),
    ("coa", "occupied_emergency", "person-days", "occupied emergency places", "reception.cost_emergency"),
    ("coa", "empty_places", "place-days", "empty regular places held", "costs.empty_place"),
    ("coa", "standby_places", "place-days", "standby places held", "costs.standby_place"),
    ("coa", "opening", "places", "places opened (one-off)", "costs.open_place"),
    ("coa", "closing", "places", "places closed (one-off)", "costs.close_place"),
    ("ind", "decisions", "decisions", "first-instance decisions", "costs.ind_decision"),
    ("ind", "training", "decisions forgone", "hired staff in training", "costs.ind_decision"),
    ("municipalities", "housed", "persons", "permit holders housed", "costs.municipality_housed"),
    ("municipalities", "guidance", "adults", "social guidance of adults housed", "costs.municipality_guidance"),
)
ITEM_NAMES = tuple(i[1] for i in ITEMS)
PARTNER_OF = {i[1]: i[0] for i in ITEMS}
COST_KEY = {i[1]: i[4] for i in ITEMS}
PARTNERS = ("coa", "ind", "municipalities")
PARTNER_LABELS = {"coa": "COA (reception)", "ind": "IND (decisions)", "municipalities": "Municipalities (housing)"}


def unit_costs(scenario) -> np.ndarray:
    """EUR per unit of each item of :data:`ITEMS`, from the scenario's declarations."""
    def value(key: str) -> float:
        section, name = key.split(".")
        return float(getattr(getattr(scenario, section), name))

    return np.array([value(COST_KEY[n]) for n in ITEM_NAMES])


def day_quantities(*, coa: np.ndarray, emergency: np.ndarray, regular: np.ndarray, cap_regular: np.ndarray,
                   small: np.ndarray, cap_small: np.ndarray, standby_held: np.ndarray, opened: np.ndarray,
                   closed: np.ndarray, decisions: np.ndarray, housed: np.ndarray,
                   housed_adults: np.ndarray, without_place: np.ndarray | float = 0.0,
                   training: np.ndarray | float = 0.0) -> np.ndarray:
    """Quantities per day [days, item] (columns as :data:`ITEMS`).

    ``coa``: persons in COA reception, emergency and those without a place included; ``emergency``:
    persons in emergency places; ``without_place``: persons above the emergency limit (no place, no
    price); ``training``: decisions a day of the IND capacity in training (:func:`training_per_day`);
    ``regular``/``small``: persons in regular / small-scale places and ``cap_regular``/
    ``cap_small`` their places; ``standby_held``: standby places not yet activated; ``opened``/
    ``closed``: places that became available / were closed that day; ``decisions``, ``housed``,
    ``housed_adults``: persons that day."""
    coa, emergency = np.asarray(coa, float), np.asarray(emergency, float)
    empty = (np.maximum(np.asarray(cap_regular, float) - regular, 0.0)
             + np.maximum(np.asarray(cap_small, float) - small, 0.0))
    cols = [coa - emergency - np.asarray(without_place, float), emergency, empty, standby_held, opened, closed, decisions,
            np.broadcast_to(np.asarray(training, float), np.shape(coa)), housed, housed_adults]
    return np.column_stack([np.asarray(x, float) for x in cols])


def month_index(dates: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Month number (0, 1, ...) of each day and the first day of each month."""
    key = dates.year.to_numpy() * 12 + dates.month.to_numpy() - 1
    change = np.r_[True, key[1:] != key[:-1]]
    return np.cumsum(change) - 1, dates[change].to_period("M").to_timestamp()


def monthly(q: np.ndarray, midx: np.ndarray, n_months: int) -> np.ndarray:
    """Sum of daily rows per month [month, column]."""
    out = np.zeros((n_months, q.shape[1]))
    np.add.at(out, midx, q)
    return out


def policy_events(table: pd.DataFrame | None, policy, T: int, base_cap: np.ndarray,
                  days_per_month: float) -> dict[str, np.ndarray]:
    """Per day of the grid: places opened, closed and standby places activated (taking effect that
    day) and standby places held, from the scenario's own capacity series (``base_cap``) and the
    capacity policy's decisions (``table``, one row per review; None for a fixed policy). The lead
    times are those the policy applied (``round(months x days_per_month)`` days)."""
    opened, closed, activated = np.zeros(T), np.zeros(T), np.zeros(T)
    step = np.diff(np.asarray(base_cap, float), prepend=float(base_cap[0]))
    opened += np.maximum(step, 0.0)
    closed += np.maximum(-step, 0.0)
    held = np.zeros(T)
    if table is not None and policy is not None and policy.kind != "fixed":
        m = lambda months: int(round(months * days_per_month))  # noqa: E731
        for r in table.itertuples():
            for lead, n, arr in ((policy.open_lead_months, r.opened, opened),
                                 (policy.standby_lead_months, r.standby_activated, activated),
                                 (policy.close_lead_months, r.closed, closed)):
                at = int(r.day) + m(lead)
                if n and at < T:
                    arr[at] += n
        held = np.maximum(float(policy.standby_places) - np.cumsum(activated), 0.0)
    return {"opened": opened, "closed": closed, "standby_activated": activated, "standby_held": held}


def training_per_day(table: pd.DataFrame | None, policy, T: int, days_per_month: float) -> np.ndarray:
    """Decisions a day of the IND capacity in training, per day of the grid, from the decision policy's
    table (``HiringPolicy.table()``: one row per review; None when nothing was hired): each cohort
    hired at a review trains for ``policy.training_months`` up to the day it decides from (the
    recruitment lead time before it is not paid)."""
    out = np.zeros(T)
    if table is None or policy is None or policy.kind == "fixed":
        return out
    train = int(round(policy.training_months * days_per_month))
    for r in table.itertuples():
        if r.hired > 0:
            end = int(r.deciding_from)
            out[max(end - train, 0):min(end, T)] += r.hired / 7.0
    return out


def replicate_quantities(out, base_cap: np.ndarray, table: pd.DataFrame | None, policy,
                         days_per_month: float, decision_table: pd.DataFrame | None = None,
                         decision_policy=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Quantities per reported day [days, item] of a finished replicate (``engine.run.ReplicateOutput``)
    and the policy's events per reported day (``decision_table``: the IND hiring policy's reviews)."""
    c = out.compiled
    si, T = c.grid.start_index, c.grid.T
    ls, ss = out.loc_stock[si:], out.stage_stock[si:]
    ev = policy_events(table, policy, T, base_cap, days_per_month)
    training = training_per_day(decision_table, decision_policy, T, days_per_month)[si:]
    case, cs = out.case, c.case
    hd = np.asarray(case["housed_day"])
    ok = (hd >= si) & (hd < T)
    size = np.asarray(cs["size"], float)
    adults = size - np.asarray(cs["children"], float)
    housed = np.bincount(hd[ok] - si, weights=size[ok], minlength=T - si)
    housed_adults = np.bincount(hd[ok] - si, weights=adults[ok], minlength=T - si)
    from ketenplan.engine.results import split_overflow

    emergency, without = split_overflow(ls[:, R.LOC["emergency"]], policy)
    q = day_quantities(
        coa=R.derived_stock("coa_occupancy", ss, ls), emergency=emergency, without_place=without,
        regular=ls[:, R.LOC["regular"]], cap_regular=out.day_inputs["cap_regular"][si:],
        small=ls[:, R.LOC["small_scale"]], cap_small=out.day_inputs["cap_small"][si:],
        standby_held=ev["standby_held"][si:], opened=ev["opened"][si:], closed=ev["closed"][si:],
        decisions=out.flows[si:, R.FLOW["decisions"]], housed=housed, housed_adults=housed_adults,
        training=training)
    return q, {k: v[si:] for k, v in ev.items()}


def cost_frame(months: pd.DatetimeIndex, quantities: np.ndarray, unit: np.ndarray) -> pd.DataFrame:
    """A tidy table of monthly costs: month, partner, item, unit, quantity, unit_cost [EUR per unit],
    eur (``quantities``: [month, item])."""
    n = len(months)
    k = len(ITEMS)
    return pd.DataFrame({
        "month": np.repeat(np.asarray(months), k), "partner": np.tile([i[0] for i in ITEMS], n),
        "item": np.tile(ITEM_NAMES, n), "unit": np.tile([i[2] for i in ITEMS], n),
        "quantity": quantities.reshape(-1), "unit_cost": np.tile(unit, n),
        "eur": (quantities * unit).reshape(-1)})


def replicate_costs(out, scenario, table: pd.DataFrame | None = None, base_cap: np.ndarray | None = None,
                    decision_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Monthly costs per partner and item of one finished replicate (see :func:`cost_frame`).

    ``base_cap``: the scenario's own regular capacity per day (default: the capacity the run used,
    i.e. no policy changes); ``table``: the capacity policy's decisions (``ThresholdPolicy.table()``);
    ``decision_table``: the IND hiring policy's reviews (``HiringPolicy.table()``)."""
    from ketenplan.engine.policies import DAYS_PER_MONTH

    si = out.compiled.grid.start_index
    base = out.day_inputs["cap_regular"] if base_cap is None else base_cap
    q, _ = replicate_quantities(out, base, table, scenario.reception_policy, DAYS_PER_MONTH, decision_table,
                                scenario.decision_policy)
    midx, months = month_index(out.compiled.grid.dates()[si:])
    return cost_frame(months, monthly(q, midx, len(months)), unit_costs(scenario))
