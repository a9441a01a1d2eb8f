"""Parameters of the pillar-6 integration models (P6.3 civic integration, P6.4 work over time,
P6.5 housing market and Spreidingswet), each declared once with unit, source and years.

Fitted values are recomputed by :mod:`ketenplan.integration.fit` (``tools/fit_integration.py``)
from the CSVs in ``ketenplan/data/integration``; ``tests/integration`` re-fits and checks that
the defaults below still equal the fit. Fits use data observed up to 2019 only.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Employment", "CivicIntegration", "HousingMarket", "Spreiding", "IntegrationParams"]

_CBS_2018 = "https://www.cbs.nl/nl-nl/nieuws/2018/16/11-procent-van-statushouders-heeft-werk"
_FIT = ("fit of CBS cohort figures observed up to 2019 (data/integration/employment_cohorts.csv; "
        "ketenplan.integration.fit.fit_employment)")


def _f(default, *, unit: str, source: str, description: str, note: str = "", years: str = "", **kw):
    """A Field in the house convention (unit, source, note, years in json_schema_extra)."""
    return Field(default, description=f"{description} [{unit}]",
                 json_schema_extra={"unit": unit, "source": source, "note": note, "years": years}, **kw)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Employment(_Frozen):
    """Work over time (P6.4): log-logistic rise to a plateau by years since permit, cohort trend,
    nationality-group speed, the waiting-time effect, benefit dependency and its cost."""

    plateau: float = _f(
        0.50, ge=0.05, le=1, unit="share", description="long-run share of working-age permit holders in paid work",
        source="CBS via NRC 2004-01-12, https://www.nrc.nl/nieuws/2004/01/12/helft-vindt-werk-in-vijf-jaar-7669336-a782939",
        note="'de helft ... heeft binnen vijf jaar werk' (asylum migrants settled mid-1990s); the 2014-2017 cohort "
             "figures up to 2019 (at most 3 years after the permit) cannot identify the plateau themselves",
        years="1995-2000")
    t50_years: float = _f(
        3.422, gt=0, unit="years", description="years since permit at which the 2014 cohort reaches half the plateau",
        source=_FIT, years="observed 2015-2019")
    shape: float = _f(
        0.2677, gt=0, unit="-", description="log-logistic scale of the rise (smaller = steeper)", source=_FIT,
        years="observed 2015-2019")
    cohort_speedup_per_year: float = _f(
        0.08111, ge=-1, le=1, unit="1/year", description="relative fall of t50 per later permit cohort",
        source=_FIT, note="2016 cohort 27 % and 2017 cohort 12 % at 3 and 2 years vs 19 % and 6 % for 2014",
        years="cohorts 2014-2017")
    cohort_first: int = _f(2014, unit="year", description="first permit cohort of the fit (earlier cohorts take its speed)",
                           source="CBS cohort study starts with the 2014 permits", years="2014")
    cohort_last: int = _f(
        2017, unit="year", description="last fitted permit cohort; later cohorts keep its speed",
        source="assumption: no_trend_extrapolation", note="the trend is not extrapolated beyond the data", years="2017")
    group_speed: dict[str, float] = _f(
        {"high": 1.067, "medium": 0.7898, "low": 0.8674, "very_low": 0.8674}, unit="-",
        description="t50 multiplier per nationality group (above 1 = slower); unknown groups take 1",
        source=f"fit on the CBS 2014-cohort table by nationality, {_CBS_2018}, weighted by 2014 permits "
               "(data/integration/permits_2014_by_nationality.csv)",
        note="high = Syria and Eritrea, medium = Iraq, Iran and Afghanistan, low and very_low = CBS 'Other'",
        years="observed 2014-2017")
    waiting_effect_per_year: float = _f(
        0.20, ge=0, lt=1, unit="share/year",
        description="relative fall of later employment per extra year waited for the asylum decision",
        source="Hainmueller, Hangartner & Lawrence 2016, Science Advances 2(8) e1600432, "
               "https://pmc.ncbi.nlm.nih.gov/articles/PMC4972466",
        note="'one additional year of waiting reduces the subsequent employment rate by 4 to 5 percentage points, "
             "a 16 to 23% drop'; 20 % is their headline; no Dutch per-year coefficient was found (domain notes X2-X5)",
        years="applications 1994-2004 (Switzerland)")
    waiting_effect_streams: tuple[str, ...] = _f(
        ("first", "subsequent"), unit="-", description="streams whose wait and reception stay move employment; "
                                                       "other streams (nareis, resettlement) take the cohort average",
        source="assumption: waiting_effect_asylum_only (the effect is measured for asylum seekers waiting for a "
               "decision; family members and resettled refugees get their permit on arrival)")
    reference_wait_days: float = _f(
        150.0, ge=0, unit="days", description="average registration-to-decision wait of the fitted 2014-2017 cohorts",
        source="assumption: reference_wait (NRC 2017-06-22: 80 % of Syrians arriving in 2014 had a permit within half a "
               "year, 94 % within 18 months; TK answer ah-tk-20182019-349: IND average 19 weeks in Jul-Aug 2018)",
        note="the CBS curves already contain this wait; only the difference from it changes employment",
        years="2014-2018")
    reception_after_permit_weight: float = _f(
        1.0, ge=0, le=1, unit="-", description="weight of a day in reception after the permit, relative to a day of "
                                              "waiting for the decision",
        source="assumption: reception_counts_as_waiting (Dutch evidence on time in reception: WODC/EUR/CBS/RIVM 2024 "
               "Syrian study, https://nltimes.nl/2024/11/04/refugees-quickly-leave-asylum-centers-integrate-faster-dutch-society; "
               "Bakker, Dagevos & Engbersen 2014, https://link.springer.com/article/10.1007/s12134-013-0296-2)",
        note="Dutch studies find longer stays in reception lower later work but give no per-year coefficient")
    reference_reception_after_permit_days: float = _f(
        98.0, ge=0, unit="days", description="reference stay in reception after the permit in the fitted cohorts",
        source="norm of 2 + 10 + 2 weeks from permit to housing (Rijksoverheid / COA, nl_chain.md 5.1 H4)",
        years="2019-2021")
    working_age_share_of_adults: float = _f(
        1.0, ge=0, le=1, unit="share", description="adults of working age (18-64)",
        source="assumption: adults_working_age", note="cases carry adults and children, not ages; children ageing "
                                                      "into working age within the horizon are not counted")
    benefit_top: float = _f(
        0.9126, ge=0, le=1, unit="share", description="share on a benefit with nobody employed",
        source="fit on the 2014 cohort: 90 % and 84 % receiving a benefit 1.5 and 2.5 years after the permit "
               "(CBS 2018, https://www.nrc.nl/nieuws/2018/04/16/na-tweeenhalf-jaar-heeft-11-procent-asielzoekers-werk-a1599607)",
        years="observed 2016-2017")
    benefit_floor: float = _f(
        0.20, ge=0, le=1, unit="share", description="share on a benefit once employment reaches the plateau",
        source="CBS via NRC 2004-01-12 (early-1990s asylum men: 'minder dan 20 procent afhankelijk van een uitkering' "
               "within ten years), https://www.nrc.nl/nieuws/2004/01/12/helft-vindt-werk-in-vijf-jaar-7669336-a782939",
        years="1990-2000")
    benefit_power: float = _f(
        0.3988, gt=0, unit="-", description="curvature of benefit dependency against employment (below 1 = falls faster)",
        source="fit on the same two 2014-cohort points", years="observed 2016-2017",
        note="bijstand is means-tested per household and early jobs are part-time with top-up")
    benefit_single_eur_month: float = _f(
        974.27, ge=0, unit="EUR/month", description="net social-assistance norm, single adult 21 to pension age",
        source="Participatiewet norms 1 Jan 2019 excl. holiday allowance, https://www.kempengemeenten.nl/normen-en-bedragen-minimabeleid; "
               "https://www.stroomopwaarts.nl/Inwoners/Bijzondere_bijstand/MVS_regelingen/Hoogte_van_de_bijstandsuitkering",
        years="2019")
    benefit_couple_eur_month: float = _f(
        1391.82, ge=0, unit="EUR/month", description="net social-assistance norm, couple (both 21 to pension age)",
        source="same as benefit_single_eur_month", years="2019")
    holiday_allowance: float = _f(0.05, ge=0, le=1, unit="share", description="holiday allowance on top of the norm",
                                  source="Participatiewet (5 % vakantietoeslag), same sources", years="2019")

    @model_validator(mode="after")
    def _check(self) -> "Employment":
        if self.cohort_last < self.cohort_first:
            raise ValueError(f"cohort_last ({self.cohort_last}) must not be before cohort_first ({self.cohort_first})")
        if self.benefit_floor > self.benefit_top:
            raise ValueError(f"benefit_floor ({self.benefit_floor}) must not exceed benefit_top ({self.benefit_top})")
        bad = {k: v for k, v in self.group_speed.items() if not v > 0}
        if bad:
            raise ValueError(f"group_speed: expected positive multipliers, found {bad}")
        return self


class CivicIntegration(_Frozen):
    """Civic integration (P6.3): Wi2013 for permits before the switch date, Wi2021 routes after."""

    wi2021_start: dt.date = _f(dt.date(2022, 1, 1), unit="date",
                               description="first permit date under the Wet inburgering 2021",
                               source="Stb. 2021, 38, https://zoek.officielebekendmakingen.nl/stb-2021-38.html", years="2022")
    obliged_share_of_adults: float = _f(1.0, ge=0, le=1, unit="share",
                                        description="adults who are obliged to integrate (18 to pension age)",
                                        source="assumption: adults_obliged (ages not in the case data)")
    wi2013_exempt_share: float = _f(
        0.19, ge=0, le=1, unit="share", description="Wi2013: obliged who get an exemption or dispensation",
        source="CBS Asiel en integratie 2019 via https://nationaleonderwijsgids.nl/sections/cursussen/articles/48529-6-op-10-statushouders-uit-2014-heeft-inburgeringsdiploma",
        years="2014 cohort at 1-10-2018")
    wi2013_pass_share: float = _f(
        0.9753, ge=0, le=1, unit="share", description="Wi2013: non-exempt who eventually pass",
        source="assumption: wi2013_pending_pass ((58 + 21) / 81: the 21 % within (extended) term on 1-10-2018 pass)",
        years="2014 cohort at 1-10-2018")
    wi2013_median_years: float = _f(
        3.503, gt=0, unit="years", description="Wi2013: median years from permit to passing",
        source="fit through 6 % passed on 1-10-2016 and 58 % on 1-10-2018 (2014 cohort; data/integration/civic_integration_wi2013.csv)",
        years="observed 2016-2018")
    wi2013_sigma: float = _f(0.3090, gt=0, unit="-", description="Wi2013: lognormal sigma of the time to pass",
                             source="same fit", years="observed 2016-2018")
    share_onderwijs: float = _f(
        0.25, ge=0, le=1, unit="share", description="Wi2021: obliged asylum permit holders in the education route",
        source="Divosa 2022 ('verwacht dat een kwart van de statushouders de onderwijsroute zal gaan volgen'), "
               "https://www.divosa.nl/publicaties/factsheet-statushouders-rapportage-werk-onderwijs-en-inburgering-eerste-helft-2021",
        note="an expectation before the law took effect; realised route shares were not found", years="2021")
    share_z: float = _f(
        0.20, ge=0, le=1, unit="share", description="Wi2021: obliged in the Z-route (self-reliance)",
        source="assumption: z_route_like_wi2013_exemptions (the Z-route takes the people who under Wi2013 got an "
               "exemption: 19 % of the 2014 cohort)", note="route shares NOT FOUND (SWI 2022-2024 excerpts)")
    wi2021_exempt_share: float = _f(
        0.05, ge=0, le=1, unit="share", description="Wi2021: obliged exempted (medical, diploma)",
        source="assumption: wi2021_exemptions_rare (exemption now only after trying; most former exemptions go to the Z-route)")
    pass_b1: float = _f(0.90, ge=0, le=1, unit="share", description="Wi2021: B1-route participants who comply",
                        source="assumption: b1_compliance (NOT FOUND; below the Wi2013 97.5 % because B1 is harder than A2, "
                               "above the 58 % passed by year 4 because compliance at A2 after trying counts)")
    pass_onderwijs: float = _f(0.85, ge=0, le=1, unit="share",
                               description="Wi2021: education-route participants who comply",
                               source="assumption: onderwijs_compliance (NOT FOUND)")
    pass_z: float = _f(0.95, ge=0, le=1, unit="share", description="Wi2021: Z-route participants who comply",
                       source="assumption: z_compliance (NOT FOUND; the Z-route is completed by effort, not an exam)")
    median_years_b1: float = _f(2.5, gt=0, unit="years", description="Wi2021: median years from PIP to complying, B1",
                                source="assumption: within the 3-year term that starts at the PIP (Wi2021 art. 7)")
    median_years_onderwijs: float = _f(2.5, gt=0, unit="years",
                                       description="Wi2021: median years from PIP to complying, education route",
                                       source="assumption: within the 3-year term",
                                       note="Wi2021 gives 3 years to comply (art. 7); the education route mostly runs "
                                            "through a school year or two, so the middle of the term")
    median_years_z: float = _f(3.0, gt=0, unit="years", description="Wi2021: median years from PIP to complying, Z-route",
                               source="assumption: Z-route completed at the end of the 3-year term")
    sigma_wi2021: float = _f(0.309, gt=0, unit="-", description="Wi2021: lognormal sigma of the time to comply",
                             source="assumption: same spread as the fitted Wi2013 time to pass")
    koppeling_days: float = _f(14.0, ge=0, unit="days", description="permit to linking with a municipality",
                               source="COA links within 2 weeks of the permit (Rijksoverheid; nl_chain.md 5.1 H4)",
                               years="2019-2021")
    intake_to_pip_days: float = _f(
        90.0, ge=0, unit="days", description="Wi2021: start of municipal guidance (housing or early start) to the PIP",
        source="assumption: pip_delay (CBS SWI 2022: for almost half the asylum migrants it took more than 3 months "
               "from the start of the obligation to the brede intake, "
               "https://www.cbs.nl/nl-nl/longread/rapportages/2024/statistiek-wet-inburgering--swi---2022/5-inburgering-in-de-vestigingsgemeente)",
        years="2022")
    early_start_share: float = _f(
        0.10, ge=0, le=1, unit="share",
        description="Wi2021: permit holders whose municipality starts intake and PIP in reception, after linking",
        source="assumption: early_start_rare (CBS SWI 2023: 'gemeenten wachten veelal tot het moment dat de inburgeraar "
               "in de gemeente gehuisvest wordt', https://cbs.nl/nl-nl/longread/rapportages/2024/statistiek-wet-inburgering--swi---2023/5-inburgering-in-de-vestigingsgemeente)",
        note="the law allows the start after linking (a lever: 1 = every municipality starts early)", years="2023")
    cost_per_route_eur: float = _f(
        10000.0, ge=0, unit="EUR/person", description="integration trajectory cost per obliged non-exempt person, "
                                                      "counted when the route starts",
        source="SZW average trajectory price over the three routes (EUR 10,000; about 11,600 in 2025 after indexation), "
               "Divosa, https://divosa.nl/publicaties/wet-inburgering-vraag-en-antwoord/financien/kosten-voorzieningen-spuk",
        note="also used for Wi2013 (assumption: same price level)", years="2021")

    @model_validator(mode="after")
    def _check(self) -> "CivicIntegration":
        s = self.share_onderwijs + self.share_z + self.wi2021_exempt_share
        if s > 1 + 1e-12:
            raise ValueError(f"share_onderwijs + share_z + wi2021_exempt_share = {s:.3f}; expected at most 1 "
                             f"(the B1 route takes the rest)")
        return self

    @property
    def share_b1(self) -> float:
        """Wi2021: obliged in the B1 route (the rest) [share]."""
        return max(0.0, 1.0 - self.share_onderwijs - self.share_z - self.wi2021_exempt_share)


class HousingMarket(_Frozen):
    """Social-housing market for the housing task (P6.5), per half-year."""

    enabled: bool = _f(
        False, unit="switch", description="cap the housing task's realised housing by what the market can let",
        source="setting: off keeps the housing task as the realisation rate alone (the calibrated chain); on applies "
               "ketenplan.integration.housing.housing_market each half-year")
    lettings_per_half_year: float = _f(
        84500.0, ge=0, unit="dwellings/half-year", description="corporation dwellings let to a new household",
        source="CBS: 169,000 vacated corporation dwellings in 2021, https://www.cbs.nl/nl-nl/nieuws/2024/03/6-procent-vrijgekomen-corporatiewoningen-in-2021-naar-statushouders "
               "(162,500 in 2022, 161,000 in 2023)",
        note="the earliest national count found is for 2021; a market size, not a fitted parameter", years="2021")
    priority_share: float = _f(
        0.12, ge=0, le=1, unit="share", description="lettings that go with priority to urgent groups incl. permit holders",
        source="assumption: priority_pool (no national share of urgent lettings found; NOS 2018 reports it rising in the big "
               "cities, https://nos.nl/artikel/2244999-steeds-meer-sociale-huurwoningen-naar-mensen-met-urgentieverklaring.html)")
    max_share_permit_holders: float = _f(
        0.06, ge=0, le=1, unit="share", description="ceiling on the lettings that may go to households of the housing task",
        source="CBS: 4-6 % of vacated corporation dwellings went to households with permit holders in 2018-2021, "
               "https://www.blikopnieuws.nl/nieuws/305475/cbs-7-procent-vrijgekomen-corporatiewoningen-in-2022-naar-statushouders.html",
        note="upper end of 2018-2021; 7 % in 2022, 8 % in 2023, Aedes ~10 % expected for 2023-2024", years="2018-2021")
    permit_holder_weight: float = _f(1.0, ge=0, unit="-",
                                     description="priority weight of permit holders against other urgent households",
                                     source="assumption: equal_priority (priority for permit holders is optional since "
                                            "July 2017, Huisvestingswet art. 28; nl_chain.md 5.1 H10)")
    competing_urgent_dwellings: float = _f(
        5070.0, ge=0, unit="dwellings/half-year", description="other urgent households seeking a letting",
        source="assumption: other_urgent_half_the_pool (other urgent groups claim half of the priority pool: "
               "0.5 x 0.12 x 84,500)", note="add displaced Ukrainians leaving municipal reception with "
                                             "ukrainian_competing_dwellings()")
    other_supply_dwellings: float = _f(
        0.0, ge=0, unit="dwellings/half-year",
        description="dwellings for the task outside corporation lettings (flex homes, private rent, shared housing)",
        source="assumption: no_other_supply (a lever; not counted in the CBS lettings figures)")
    ukrainian_persons_per_dwelling: float = _f(
        2.0, gt=0, unit="persons/dwelling", description="displaced Ukrainians per dwelling when they move on",
        source="assumption: ukrainian_household_size",
        note="displaced Ukrainians are mostly mothers with children (TPD arrivals 2022); two persons a dwelling")
    ukrainian_persons_in_municipal_reception: float = _f(
        91220.0, ge=0, unit="persons", description="displaced Ukrainians in municipal reception (GOO)",
        source="JenV via nieuws.nl 2024-03-26, https://nieuws.nl/algemeen/20240326/meer-plek-voor-oekraiense-vluchtelingen-in-opvanglocaties/ "
               "(91,220 places in use; domain notes K10)", years="2024")
    ukrainian_share_moving_on_per_half_year: float = _f(
        0.0, ge=0, le=1, unit="share", description="share of them seeking an urgent corporation letting each half-year",
        source="assumption: ukrainians_stay_in_goo (temporary protection runs to March 2027 and no count of displaced "
               "Ukrainians moving from GOO into corporation lettings was found)",
        note="a lever: the dwellings they seek are added to competing_urgent_dwellings (ukrainian_competing_dwellings)")


class Spreiding(_Frozen):
    """Spreidingswet distribution of reception places (P6.5)."""

    total_places: int = _f(96000, ge=0, unit="places", description="national task of reception places",
                           source="Staatscourant 31-1-2024 via https://www.nhnieuws.nl/nieuws/n139683/spreidingswet-gaat-in-provincies-moeten-1-november-plan-inleveren",
                           years="2025-2026")
    amv_share: float = _f(0.085, ge=0, le=1, unit="share",
                          description="places for unaccompanied minors within each municipality's number",
                          source="same source ('ongeveer 8,5 procent van het totale aantal plekken per gemeente')",
                          years="2025-2026")
    population_column: str = _f("population_2025", unit="-",
                                description="population column of data/placement/municipalities.csv used as the key",
                                source="CBS figures as compiled in data/placement (see its SOURCES.md)", years="2025")
    wealth_weight: float = _f(
        0.0, ge=0, unit="-", description="strength of the wealth correction: places ~ population x (1 + w x score)",
        source="assumption: wealth_correction_omitted (the law corrects by the CBS SES-WOA score; the formula was NOT "
               "FOUND and no SES-WOA table is shipped)",
        note="give a score per municipality (e.g. SES-WOA) and a weight to apply a correction of this form")


class IntegrationParams(_Frozen):
    """All pillar-6 integration sections."""

    employment: Employment = Field(default_factory=Employment)
    civic: CivicIntegration = Field(default_factory=CivicIntegration)
    housing: HousingMarket = Field(default_factory=HousingMarket)
    spreiding: Spreiding = Field(default_factory=Spreiding)
