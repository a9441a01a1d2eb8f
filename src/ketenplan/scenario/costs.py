"""Scenario section of the unit costs per chain partner (P3.5, P3.4): what a place, a decision and a
housed permit holder cost, beside the prices of occupied places in ``reception``.

COA pays for every place it holds, occupied or not: an occupied regular place at
``reception.cost_regular``, an occupied emergency place at ``reception.cost_emergency``, an empty
regular place and a standby place (kept ready in an existing location) at their own daily cost, and
a one-off cost for each place it opens or closes. The IND is charged per first-instance decision,
the municipalities per permit holder housed. Sources refer to the domain notes (nl_chain.md section
4.4) or to the publication named in the field; prices are of the year stated and are not indexed.
"""

from __future__ import annotations

from ketenplan.scenario.schema_base import _Frozen, param

_VACANCY = ("NOS 2018-01-19 'Lege asielzoekerscentra kosten COA miljoenen' (COA confirms the order of magnitude): "
            "vacancy cost 142 m EUR in 2017 and 110 m EUR other costs of scaling down, capacity cut from about "
            "60,000 to 30,000 beds")


class Costs(_Frozen):
    """Unit costs of capacity, decisions and housing by chain partner [EUR]."""

    empty_place: float = param(
        18.5, ge=0, description="cost of an empty regular place held (vacancy) [EUR/place/day]",
        unit="EUR/place/day",
        source=f"derived: {_VACANCY}; 142e6 / 365 / about 21,000 empty places (mean capacity about 45,000 "
               "while capacity fell linearly from 60,000 to 30,000, less mean occupancy about 24,000 from "
               "27,028 end-2016 and 21,037 end-2017, C6) = 18.5",
        note="the linear capacity path is an assumption; the figure is the place-bound share (buildings, "
             "leases, upkeep) of a place that nobody occupies", years="2016-2017")
    standby_place: float = param(
        18.5, ge=0, description="cost of a standby place kept ready in an existing location [EUR/place/day]",
        unit="EUR/place/day",
        source="assumption: a standby place costs what an empty regular place costs (costs.empty_place)",
        note="standby places are reserve places within existing locations (C2, L4): furnished and empty, "
             "under existing agreements; no separate published price")
    open_place: float = param(
        3670.0, ge=0, description="one-off cost of opening a new regular place [EUR/place]", unit="EUR/place",
        source="assumption: opening costs what closing costs (costs.close_place)",
        note="no published cost per place opened; opening (contracts, fitting out, staff) mirrors closing "
             "(buying out contracts, moving residents and staff); PwC put the property costs of scaling "
             "up and down at about 20 m EUR a year over ten years (COA news on the Rekenkamer report)")
    close_place: float = param(
        3670.0, ge=0, description="one-off cost of closing a regular place [EUR/place]", unit="EUR/place",
        source=f"derived: {_VACANCY}; 110e6 / 30,000 places closed = 3,670",
        note="the 110 m EUR include buying out multi-year contracts, moving residents and staff, write-offs",
        years="2017")
    ind_decision: float = param(
        10535.0, ge=0, description="IND cost per first-instance asylum decision [EUR/decision]",
        unit="EUR/decision",
        source="derived: IND asylum spending 198 m EUR in 2014 (NRC 2015-06-03, figures of the state "
               "secretary) / 18,794 first-instance decisions in 2014 (UNHCR, "
               "data/nl_chain/nl_first_instance_decisions_unhcr_2010_2024.csv) = 10,535",
        note="the 198 m EUR cover all IND asylum work (appeals, subsequent applications), so this is an "
             "average cost per decision, not a marginal one", years="2014")
    municipality_housed: float = param(
        4430.0, ge=0, description="payment to the municipality per permit holder housed [EUR/person]",
        unit="EUR/person",
        source="VNG: 'geld volgt vergunninghouder', 4,430 EUR per permit holder housed (septembercirculaire "
               "gemeentefonds 2016)", years="2016")
    municipality_guidance: float = param(
        2370.0, ge=0, description="social guidance per adult permit holder housed [EUR/person aged 18+]",
        unit="EUR/person",
        source="VNG: maatschappelijke begeleiding raised from 1,000 to 2,370 EUR per permit holder obliged to "
               "integrate (18 to pension age), structural from 2016", years="2016",
        note="charged per housed adult (persons less children); pensioners are not told apart")
