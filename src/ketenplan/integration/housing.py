"""The housing market as a limit on housing permit holders (P6.5).

Per half-year, corporations let ``lettings`` dwellings. A share ``priority_share`` of them goes
with priority to urgent households; permit holders of the housing task compete there with other
urgent households (medical or social urgency, people leaving shelters, displaced Ukrainians moving
on from municipal reception). The pool is rationed in proportion to (weighted) demand, permit
holders get at most ``max_share_permit_holders`` of all lettings, plus any other supply (flex
homes, private rent)::

    need      = task households (one dwelling per household of the task)
    pool      = lettings * priority_share
    granted   = min(need, pool * w * need / (w * need + other_urgent), lettings * max_share) + other_supply
    capacity  = task persons * min(1, granted / need)

so realised housing falls short of the task when lettings shrink or urgent demand grows.
The chain's housing hook calls :func:`housing_market` once per half-year with the task it has.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketenplan.errors import DataError
from ketenplan.scenario.pillar6 import HousingMarket, IntegrationParams

__all__ = ["HousingCapacity", "housing_market", "ukrainian_competing_dwellings"]


@dataclass(frozen=True)
class HousingCapacity:
    """Result of one half-year: what the market can house and why."""

    task_persons: float
    task_households: float
    capacity_persons: float
    capacity_households: float
    pool_dwellings: float
    granted_dwellings: float
    binding: str

    @property
    def shortfall_persons(self) -> float:
        """Persons of the task the market cannot house this half-year."""
        return max(0.0, self.task_persons - self.capacity_persons)

    @property
    def share_realisable(self) -> float:
        """Capacity as a share of the task [0..1] (1 when there is no task)."""
        return 1.0 if self.task_persons <= 0 else self.capacity_persons / self.task_persons


def _hm(params: HousingMarket | IntegrationParams | None) -> HousingMarket:
    if params is None:
        return HousingMarket()
    return params.housing if isinstance(params, IntegrationParams) else params


def housing_market(task_persons: float, task_households: float | None = None,
                   params: HousingMarket | IntegrationParams | None = None, *,
                   competing_urgent_dwellings: float | None = None, lettings: float | None = None) -> HousingCapacity:
    """Realisable housing for permit holders in one half-year.

    ``task_persons`` [persons] is the half-year's housing task (with backlog), ``task_households``
    [households] the number of households in it (default: the task persons, i.e. one dwelling per
    person). ``competing_urgent_dwellings`` and ``lettings`` [dwellings/half-year] override the
    parameters for this half-year (e.g. with :func:`ukrainian_competing_dwellings` added).
    """
    p = _hm(params)
    hh = task_persons if task_households is None else task_households
    for name, v in (("task_persons", task_persons), ("task_households", hh)):
        if not v >= 0:
            raise DataError(f"housing_market {name}: expected a non-negative number, found {v!r}")
    if task_persons > 0 and hh <= 0:
        raise DataError(f"housing_market task_households: expected a positive number when task_persons > 0, found {hh!r}")
    other = p.competing_urgent_dwellings if competing_urgent_dwellings is None else competing_urgent_dwellings
    let = p.lettings_per_half_year if lettings is None else lettings
    for name, v in (("competing_urgent_dwellings", other), ("lettings", let)):
        if not v >= 0:
            raise DataError(f"housing_market {name}: expected a non-negative number, found {v!r}")
    pool = let * p.priority_share
    if hh <= 0:
        return HousingCapacity(task_persons, hh, 0.0, 0.0, pool, 0.0, "no task")
    demand = p.permit_holder_weight * hh
    rationed = pool * demand / (demand + other) if demand + other > 0 else 0.0
    ceiling = let * p.max_share_permit_holders
    limits = {"task": hh, "priority pool": rationed, "permit-holder ceiling": ceiling}
    binding = min(limits, key=limits.get)
    granted = min(min(limits.values()) + p.other_supply_dwellings, hh)
    if granted >= hh:
        binding = "task"
    persons = task_persons if granted >= hh else min(task_persons, task_persons * granted / hh)
    return HousingCapacity(task_persons, hh, persons, granted, pool, granted, binding)


def ukrainian_competing_dwellings(persons_in_municipal_reception: float, share_moving_on_per_half_year: float,
                                  params: HousingMarket | IntegrationParams | None = None) -> float:
    """Dwellings per half-year sought by displaced Ukrainians leaving municipal reception (GOO).

    ``persons_in_municipal_reception`` [persons] (e.g. 91,220 in March 2024; domain notes K10),
    ``share_moving_on_per_half_year`` [share] that seeks a regular (urgent) letting in the half-year.
    """
    p = _hm(params)
    if not persons_in_municipal_reception >= 0 or not 0 <= share_moving_on_per_half_year <= 1:
        raise DataError("ukrainian_competing_dwellings: expected persons >= 0 and a share in [0, 1], found "
                        f"{persons_in_municipal_reception!r} and {share_moving_on_per_half_year!r}")
    return persons_in_municipal_reception * share_moving_on_per_half_year / p.ukrainian_persons_per_dwelling
