"""Scenario sections of pillar 5: regular migration (P5.1), circular labour migration tied to
return cooperation (P5.2) and the resettlement pipeline (P5.3), each field declared once with its
unit, source (or named assumption) and the years of data it uses.

Sources are the domain notes ``nl_chain.md`` 6.1-6.2 and ``return_legal_integration.md`` 2-3
(codes RM*, M*, F*, RS*, H*); regular migration by purpose after 2013 was largely not found, so
the volumes are the latest published per purpose.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from ketenplan.scenario.schema_base import Duration, Step


def _meta(unit: str, source: str, note: str = "", years: str = "") -> dict:
    return {"unit": unit, "source": source, "note": note, "years": years}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


D25 = dt.date(2025, 1, 1)


class RegularStream(_Frozen):
    """One purpose of regular migration: applications, decision time and grant rate."""

    per_year: tuple[Step, ...] = Field(description="first applications [persons/year]")
    grant_rate: float = Field(ge=0, le=1, description="applications granted [-]")
    decision: Duration = Field(description="application to decision [days]")
    fee_eur: float = Field(ge=0, description="IND fee (leges) per application [EUR]")


_IND19 = "IND jaarcijfers 2019 via openresearch.amsterdam (RM4)"


class RegularMigration(_Frozen):
    """Regular migration (P5.1): labour, knowledge, study and family applications, processed by the IND."""

    labour: RegularStream = Field(
        RegularStream(per_year=(Step(start=D25, value=7100),), grant_rate=0.89,
                      decision=Duration(name="gamma", mean=35.0, cv=0.5), fee_eur=1033),
        json_schema_extra=_meta(
            "persons/year; share; days; EUR",
            "UWV jaarverslag 2018: 7,100 work permits (TWV) granted of 7,900 requests, 89% (RM7); service norm 90% "
            "within 5 weeks (W3); fee 'other purposes' EUR 1,033 (F5, 2019)",
            "labour migrants outside the knowledge-migrant scheme; decision time: the 5-week norm as mean", "2018-2019"))
    knowledge: RegularStream = Field(
        RegularStream(per_year=(Step(start=D25, value=20970),), grant_rate=0.94,
                      decision=Duration(name="gamma", mean=14.0, cv=0.5), fee_eur=582),
        json_schema_extra=_meta(
            "persons/year; share; days; EUR",
            _IND19 + ": knowledge migrants 20,970 (2019); grant rate 94% (IND via Kroes advocaten, 2022, M6/RM5); "
            "2 weeks for a recognised sponsor (F2); fee EUR 582 (F4, 2018)",
            "the 2022 grant rate is the only one found (used as an input, not tuned)", "2018-2022"))
    study: RegularStream = Field(
        RegularStream(per_year=(Step(start=D25, value=20430),), grant_rate=0.95,
                      decision=Duration(name="gamma", mean=30.0, cv=0.5), fee_eur=171),
        json_schema_extra=_meta(
            "persons/year; share; days; EUR", _IND19 + ": study 20,430 (2019); legal period 60 days (F1); fee EUR 171 "
            "(F5, 2019)", "grant rate an assumption like knowledge migrants (recognised institutions sponsor "
            "students); mean decision 30 days, half the legal period", "2019"))
    family: RegularStream = Field(
        RegularStream(per_year=(Step(start=D25, value=35360),), grant_rate=0.80,
                      decision=Duration(name="gamma", mean=75.0, cv=0.5), fee_eur=171),
        json_schema_extra=_meta(
            "persons/year; share; days; EUR", "IND jaarverslag 2017: regular family migration 35,360 (RM2); legal "
            "period 90 days (F1); fee EUR 171 (F5, 2019)",
            "grant rate an assumption (not found; the pre-entry test and income rules refuse some); mean decision "
            "75 days, within the legal 90", "2017-2019"))
    batch_persons: int = Field(25, ge=1, le=1000,
                               description="regular applicants simulated together as one case [persons]",
                               json_schema_extra=_meta(
                                   "persons", "setting: a batch of 25 applications of one purpose and day",
                                   "regular applicants hold no reception place and follow no asylum track: only the "
                                   "IND's load and their waiting times matter, so batches keep the case count near the "
                                   "asylum chain's while the waits stay those of a first-in-first-out queue"))


class CircularMigration(_Frozen):
    """Circular labour migration (P5.2): temporary work places for nationals of one group in exchange
    for readmission cooperation."""

    group: str = Field("", description="nationality group offered the places (empty: none)",
                       json_schema_extra=_meta("-", "setting: no deal in the baseline"))
    places_per_year: float = Field(0.0, ge=0, description="temporary work places offered [persons/year]",
                                   json_schema_extra=_meta(
                                       "persons/year", "setting: a lever; the Spain-Senegal deal of 2006 traded 4,000 "
                                       "temporary work permits against 4,000 returns (Clingendael 2021, P2)"))
    start: dt.date = Field(D25, description="first day of the deal",
                           json_schema_extra=_meta("date", "setting: a lever"))
    stay_months: float = Field(9.0, gt=0, description="length of a circular work stay [months]",
                               json_schema_extra=_meta("months", "assumption: seasonal horticulture",
                                                       "the Clingendael study targets greenhouse horticulture and ICT "
                                                       "(P1); a season of 9 months"))
    cooperation_change: float = Field(0.5, ge=-1, le=1,
                                      description="cooperation change the deal buys for the group [-] (see [cooperation])",
                                      json_schema_extra=_meta(
                                          "-", "assumption: legal pathways buy half the gap to the best cooperating group",
                                          "no measured effect of legal-pathway deals on returns was found (C8, P3); the "
                                          "size is a lever stated with the deal"))


class Resettlement(_Frozen):
    """The resettlement pipeline (P5.3): a yearly quota, selection missions, the lead time from a
    mission to arrival, and direct placement in municipalities."""

    quota: tuple[Step, ...] = Field(
        (Step(start=dt.date(2016, 1, 1), value=500), Step(start=D25, value=200)),
        description="resettlement quota [persons/year]",
        json_schema_extra=_meta(
            "persons/year", "COA (H1): about 500 a year 2016-2019, 500 a year 2020-2023 (H2); the coalition's asylum "
            "deal lowers it to 200 a year (NOS/Nieuwsuur, RS6/H3)", "2024: 760 arrived (Tweede Kamer 2025D08674), "
            "including the EU-Turkey 1-on-1 scheme; the 2025 figure of the Kamerbrief 19637-3324 was not found",
            "2016-2025"))
    missions_per_year: int = Field(4, ge=1, le=12, description="selection missions per year",
                                   json_schema_extra=_meta("missions/year", "COA (H5): 4 missions a year", "", "2015-2024"))
    selection_to_arrival_weeks: float = Field(
        4.0, ge=0, description="lead time from a selection mission to arrival [weeks]",
        json_schema_extra=_meta("weeks", "COA on the EU-Turkey missions (H4): departure about 4 weeks after selection",
                                "the lead time of the regular quota was not found (H8); the EU-Turkey figure used",
                                "2016"))
    direct_placement: bool = Field(True, description="resettled refugees go to a municipality within 48 hours",
                                   json_schema_extra=_meta("switch", "CMO / COA (H7): direct placement since 2011",
                                                           "", "2011-2024"))


class Pillar5(_Frozen):
    regular: RegularMigration = Field(RegularMigration())
    circular: CircularMigration = Field(CircularMigration())
    resettlement: Resettlement = Field(Resettlement())
