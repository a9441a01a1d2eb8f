"""Scenario section of the capacity policies (P3.5): how reception capacity follows the need.

``fixed`` keeps the scenario's capacity series as given (the default, what every earlier run did).
``threshold`` is the rule COA follows in practice: at every review (twice a year, C5) it estimates
the places needed from the occupancy it observes (occupancy / the planning occupancy norm of 96%,
C1, plus a buffer), activates standby places first (within weeks, L4) and orders new locations for
the rest (a lead time, L1/C11); places it opened are closed again, after a minimum life (L3), when
the need has stayed below the capacity for a review. It sees only what has happened: the myopic
rule that the planning tools are measured against. Source codes refer to the domain notes
(nl_chain.md, section 4).
"""

from __future__ import annotations

from pydantic import field_validator

from ketenplan.scenario.schema_base import _Frozen, param

_NOTES = "nl_chain.md section 4 (COA capacity)"


class ReceptionPolicy(_Frozen):
    """A capacity policy for regular reception places, applied by a hook month by month."""

    kind: str = param("fixed", description="'fixed' (the capacity series as given), 'threshold' (opens and closes "
                                           "places at each review from the observed occupancy) or 'forecast' (the "
                                           "threshold rule plus the arrivals the inflow forecast expects over the "
                                           "lead time beyond the recent ones)",
                      unit="choice", source="setting: the baseline keeps the given capacity series")
    review_months: int = param(6, ge=1, le=24, description="months between capacity decisions [months]",
                               unit="months", source=f"COA decides twice a year on scaling up or down (C5, {_NOTES})",
                               years="2018-2022")
    occupancy_norm: float = param(0.96, gt=0, le=1,
                                  description="share of available places that can be used (planning norm) [-]",
                                  unit="share", source=f"COA planning norm: 96% of available places used (C1, {_NOTES})",
                                  years="2022")
    buffer_places: float = param(0.0, ge=0, description="places kept above the estimated need [persons]",
                                 unit="persons", source="setting: no buffer above the need in the myopic rule",
                                 note="COA kept about 2,000 reserve places in 2018-2020 (C2): set 2000 to plan with it")
    standby_places: float = param(0.0, ge=0, description="standby places that can be activated quickly [persons]",
                                  unit="persons", source="setting: none in the baseline",
                                  note="reserve capacity of about 2,000 places within existing locations 2018-2020 (C2)")
    standby_lead_months: int = param(1, ge=0, le=24, description="time to activate standby places [months]",
                                     unit="months",
                                     source=f"reserve capacity in existing locations activated within weeks (L4, {_NOTES})",
                                     years="2018")
    open_lead_months: int = param(6, ge=0, le=60, description="time from the decision to open new places [months]",
                                  unit="months",
                                  source=f"assumption: six months (a zoning-plan repair 'can take half a year', L1; "
                                         f"Spreidingswet places within 6 months of the decision, C11; {_NOTES})",
                                  note="no hard average lead time is published (nl_chain.md 4.3); 7 of 12 projects "
                                       "in 2019 were delayed by months to years (L1)", years="2019-2024")
    min_life_months: int = param(12, ge=0, le=120, description="minimum life of places the policy opens [months]",
                                 unit="months",
                                 source=f"administrative agreements of 2015/16: residence at least 1 year (L3, {_NOTES})",
                                 years="2016")
    forecast_country: str = param("NL", description="country whose inflow forecast the 'forecast' rule reads",
                                  unit="country", source="setting: the Dutch forecast (docs/forecast.md)",
                                  note="the extra need is the point forecast's applicants over the next "
                                       "open_lead_months less those of the same span just observed, made at each "
                                       "review from the data available then; assumption: all of them still need a "
                                       "bed when the places open (stays exceed the lead time)")
    close_lead_months: int = param(3, ge=0, le=24, description="time from the decision to close places [months]",
                                   unit="months",
                                   source="assumption: one quarter of notice to residents and the municipality",
                                   note="no published figure (nl_chain.md 4.3)")

    emergency_limit: float | None = param(
        None, ge=0, description="most persons emergency reception can take on a day; the overflow above it has no "
                                "place [persons] (not set: no limit)",
        unit="persons", source="setting: no limit in the baseline (emergency places take any overflow, at "
                               "reception.cost_emergency)",
        note="emergency places (hotels, halls, ships, crisis reception of the safety regions) are found as needed "
             "(nl_chain.md section 4); in 2022 they were not found fast enough and people slept outside the "
             "application centre. With a limit, the persons above it stay in the chain without a place: they "
             "count in COA occupancy (the need) and as persons without a place, and cost no reception price")

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ("fixed", "threshold", "forecast"):
            raise ValueError(f"expected 'fixed', 'threshold' or 'forecast', found {v!r}")
        return v


class DecisionPolicy(_Frozen):
    """A hiring policy for the IND's asylum decision capacity (P3.4, P3.5), applied by a hook: at each
    review, when the first-instance stock would take longer than ``target_weeks`` to decide at the
    current capacity (plus what is being trained), capacity is hired for the excess, up to
    ``max_growth`` of the current capacity per review; it decides from ``lead_months`` +
    ``training_months`` after the review on and stays (no dismissals within the horizon). The IND is
    charged per decision (``costs``), so hired capacity costs through the decisions it makes."""

    kind: str = param("fixed", description="'fixed' (the decision capacity series as given) or 'threshold' (hires "
                                           "when the stock exceeds target_weeks of capacity)",
                      unit="choice", source="setting: the baseline keeps the given capacity series")
    review_months: int = param(6, ge=1, le=24, description="months between hiring decisions [months]",
                               unit="months", source="assumption: the half-yearly cycle of the chain's production "
                                                     "forecasts (MPP), as COA's capacity decisions (C5)",
                               note="the IND plans its capacity on the same multi-year production forecast")
    target_weeks: float = param(26.0, gt=0, description="stock the IND may hold, in weeks of capacity [weeks]",
                                unit="weeks", source="statutory decision period of 6 months (P4): a stock larger "
                                                     "than 26 weeks of capacity cannot be decided in time",
                                years="2015-2024")
    lead_months: int = param(3, ge=0, le=24, description="time from the decision to hire to a new employee's start "
                                                         "[months]", unit="months",
                             source="assumption: three months of recruitment",
                             note="no published figure; the training time below dominates")
    training_months: int = param(9, ge=0, le=36, description="training before new asylum staff decide [months]",
                                 unit="months", source="IND: new asylum staff decide after a training of more than "
                                                       "nine months (P14, nl_chain.md)", years="2022")
    max_growth: float = param(0.25, gt=0, le=5, description="most capacity hired per review, as a share of the "
                                                            "current capacity [-]", unit="share",
                              source="assumption: a quarter of the capacity per half-year",
                              note="the IND raised its output from ~28,000 (2022, P13) to ~35,000 decisions (2023, "
                                   "P15), a quarter in a year; faster growth needs trainers the IND does not have")

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ("fixed", "threshold"):
            raise ValueError(f"expected 'fixed' or 'threshold', found {v!r}")
        return v
