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

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ("fixed", "threshold", "forecast"):
            raise ValueError(f"expected 'fixed', 'threshold' or 'forecast', found {v!r}")
        return v
