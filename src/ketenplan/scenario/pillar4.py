"""Scenario sections of pillar 4 (return, country cooperation, detention, LVV, minors, people without
residence) and of the safe-third-country track (P2.2), each declared once with unit and source.

Group names are checked against the scenario's nationality groups by the scenario. Convention (see docs/returns.md): every field carries ``json_schema_extra`` with ``unit``,
``source`` (publisher/table/year, or ``assumption: <name>``), ``note`` and ``years`` (the years
of data the default uses). Per-group return outcomes are shipped tables, read by
:mod:`ketenplan.returns.data` into :class:`GroupReturn` values.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


DTV = "DT&V vertrekcijfers (dienstterugkeerenvertrek.nl/over-dtv/cijfers; Mediatheek/Vertrekcijfers)"


def _meta(unit: str, source: str, note: str = "", years: str = "") -> dict:
    return {"unit": unit, "source": source, "note": note, "years": years}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)




# ----------------------------------------------------------------------------------------------
# P4.1 return by nationality group
# ----------------------------------------------------------------------------------------------
class GroupReturn(_Frozen):
    """Outcome of one case in the return process (a DT&V case) of a nationality group."""

    group: str = Field(description="nationality group (ketenplan.returns.groups)")
    p_independent: float = Field(ge=0, le=1, description="verified independent departure [share of cases]",
                                 json_schema_extra=_meta("share", "fit: Eurostat migr_eiord/migr_eirtn NL 2012-2016 and "
                                                         + DTV + " 2017-2018", "see docs/returns.md", "2012-2018"))
    p_forced: float = Field(ge=0, le=1, description="forced departure [share of cases]",
                            json_schema_extra=_meta("share", "fit: as p_independent", "", "2012-2018"))
    p_unsupervised: float = Field(ge=0, le=1, description="departure without supervision [share of cases]",
                                  json_schema_extra=_meta("share", "fit: as p_independent", "", "2012-2018"))
    p_still_present: float = Field(ge=0, le=1, description="no recorded departure [share of cases]",
                                   json_schema_extra=_meta("share", "fit: as p_independent",
                                                           "fixed by DT&V departures relative to intake 2017-2018", "2017-2018"))
    mean_months_to_departure: float = Field(gt=0, description="mean delay from order to departure [months]",
                                            json_schema_extra=_meta("months", "fit: Eurostat NL 2013-2016 (returns lag orders)",
                                                                    "one exponential delay for all groups", "2012-2016"))

    @model_validator(mode="after")
    def _sum(self) -> "GroupReturn":
        s = self.p_independent + self.p_forced + self.p_unsupervised + self.p_still_present
        if abs(s - 1) > 1e-3:
            raise ValueError(f"group {self.group}: outcome probabilities must sum to 1, found {s:.4f}")
        return self

    @property
    def p_verified(self) -> float:
        """Verified (aantoonbaar) departure: independent plus forced [share of cases]."""
        return self.p_independent + self.p_forced


# ----------------------------------------------------------------------------------------------
# P4.2 country-cooperation lever
# ----------------------------------------------------------------------------------------------
class GroupCooperation(_Frozen):
    """A change in readmission cooperation with the countries of one group."""

    group: str = Field(description="nationality group")
    change: float = Field(0.0, ge=-1, le=1,
                          description="cooperation change [-]: +1 brings verified departure and the forced share "
                                      "to the reference group's level, -1 halts verified departure",
                          json_schema_extra=_meta("-", "assumption: cooperation effect size",
                                                  "no source quantifies the effect of readmission deals or Art. 25a visa "
                                                  "measures on return rates (ECA SR 17/2021: data gaps prevented an impact "
                                                  "estimate; domain note C8); the scale is a scenario input, not a fitted value"))


class CountryCooperation(_Frozen):
    """Country-cooperation lever (readmission cooperation, visa leverage under Art. 25a Visa Code)."""

    changes: tuple[GroupCooperation, ...] = Field((), description="per-group cooperation changes (none = history)",
                                                  json_schema_extra=_meta("list", "setting: no change in the baseline "
                                                                          "(each change's size is the named assumption "
                                                                          "'cooperation effect size')"))
    start_year: int = Field(2025, ge=1990, le=2100, description="year the deal or measure takes effect [year]",
                            json_schema_extra=_meta("year", "setting: the year a deal or measure takes effect"))
    lag_months: float = Field(12.0, ge=0, le=120,
                              description="delay before departures respond [months]",
                              json_schema_extra=_meta(
                                  "months", "assumption: cooperation lag",
                                  "Art. 25a gives a country 6 months to improve before measures (C4); the EU-Gambia "
                                  "arrangement of 16-11-2018 capped forced returns at 50 a month in its first 12 months "
                                  "(C7); so a first effect after 6-12 months, 12 taken", "2018-2021"))
    ramp_months: float = Field(12.0, ge=0, le=120, description="time from first effect to full effect [months]",
                               json_schema_extra=_meta("months", "assumption: cooperation ramp",
                                                       "the Gambia cap of the first 12 months suggests a phased build-up"))
    reference_group: str = Field("west_balkans", description="group whose verified departure and forced share a full "
                                                            "positive change reaches",
                                 json_schema_extra=_meta("-", "assumption: best cooperating group",
                                                         "Western Balkans: EU readmission agreements and visa "
                                                         "liberalisation (leverage), highest fitted verified departure"))

    @model_validator(mode="after")
    def _unique(self) -> "CountryCooperation":
        seen = [c.group for c in self.changes]
        dup = sorted({g for g in seen if seen.count(g) > 1})
        if dup:
            raise ValueError(f"country cooperation: group(s) {', '.join(dup)} given more than once")
        return self


# ----------------------------------------------------------------------------------------------
# P4.1 immigration detention
# ----------------------------------------------------------------------------------------------
class Detention(_Frozen):
    """Immigration detention (vreemdelingenbewaring) as a capacity-constrained stage."""

    places: float = Field(933, ge=0, description="detention places [places]",
                          json_schema_extra=_meta("places", "Masterplan DJI 2013-2018, Kamerstuk 33930-VI nr. 5 (2014), "
                                                  "via stichtinglos.nl (V1)", "planned capacity from 2016", "2016"))
    mean_stay_days: float = Field(50.0, gt=0, description="mean stay in detention [days]",
                                  json_schema_extra=_meta("days", "Staat van Migratie 2020 via meldpuntvreemdelingendetentie.nl (V2)",
                                                          "no figure for 2014-2019 found; a 2020 figure used for a duration "
                                                          "only, not tuned", "2020"))
    stay_cv: float = Field(0.6, gt=0, description="coefficient of variation of the stay [-]",
                           json_schema_extra=_meta("-", "assumption: detention stay spread",
                                                   "families 8-9 days and single adults up to months (V2) imply a wide spread"))
    placements_per_year: float = Field(3500, ge=0, description="placements into detention [persons/year]",
                                       json_schema_extra=_meta(
                                           "persons/year", "Telegraaf 2020-05 citing JenV: 3,780 in 2019, +8% (V3 for 2015-2016)",
                                           "2018 = 3,780 / 1.08 (calc.); 2015: 2,180, 2016: 2,560 (RVK 2016)", "2018"))
    verified_departure_share: float = Field(0.74, ge=0, le=1,
                                            description="releases due to departure that are verified departures [-]",
                                            json_schema_extra=_meta(
                                                "share", "JenV answers via stichtinglos.nl (V4)",
                                                "59% 2015, 70% 2016, 73% 2017, 74% 2018, 75% 2019 (2019 a check)", "2018"))
    patience_days: float = Field(28.0, gt=0, description="longest wait for a detention place before the case leaves "
                                                      "without supervision [days]",
                                 json_schema_extra=_meta("days", "assumption: wait for a detention place",
                                                         "forced removal needs the person to be available and in "
                                                         "detention (D10); someone who waits weeks outside reception for "
                                                         "a place is mostly lost from view: four weeks, like the departure "
                                                         "term (D9)"))
    cost_per_place_day: float = Field(298.0, ge=0, description="cost of a detention place [EUR/place/day]",
                                      json_schema_extra=_meta("EUR/place/day", "Staat van Migratie 2020 via "
                                                              "meldpuntvreemdelingendetentie.nl (K7)",
                                                              "no 2014-2019 figure found; criminal detention 284", "2020"))
    occupancy_check: float = Field(440, ge=0, description="persons in detention on 29-02-2020 [persons], a check "
                                                          "of places x occupancy",
                                   json_schema_extra=_meta("persons", "meldpuntvreemdelingendetentie.nl citing JenV (V5)",
                                                           "3,780 placements x 50 days / 365 = 518 (calc.)", "2020"))

    def expected_occupancy(self) -> float:
        """Little's law: placements [persons/year] x mean stay [days] / 365 [persons]."""
        return self.placements_per_year * self.mean_stay_days / 365.0


# ----------------------------------------------------------------------------------------------
# P4.4 national aliens facilities (LVV)
# ----------------------------------------------------------------------------------------------
class LvvOutcomes(_Frozen):
    """Outcomes of those who leave the LVV (Regioplan/WODC final evaluation, 1,258 leavers)."""

    durable: float = Field(0.18, ge=0, le=1, description="permit after all, assisted return or onward migration [-]",
                           json_schema_extra=_meta("share", "Regioplan for WODC, eindevaluatie pilot LVV (Nov 2022) (L2)",
                                                   "mid-2019 to July 2022; an outcome after 2019 used as a stage default, "
                                                   "no earlier figure exists", "2019-2022"))
    semi_durable: float = Field(0.41, ge=0, le=1, description="new asylum application or medical postponement [-]",
                                json_schema_extra=_meta("share", "as durable", "", "2019-2022"))
    none: float = Field(0.41, ge=0, le=1, description="no solution (leaves without supervision) [-]",
                        json_schema_extra=_meta("share", "as durable", "", "2019-2022"))
    durable_split: tuple[float, float, float] = Field(
        (1 / 3, 1 / 3, 1 / 3), description="durable outcome split: legal stay, return, onward migration [-]",
        json_schema_extra=_meta("share", "assumption: LVV durable split",
                                "the evaluation names the three outcomes without a split; equal thirds"))
    semi_split: tuple[float, float] = Field(
        (0.5, 0.5), description="semi-durable split: new asylum application, medical postponement [-]",
        json_schema_extra=_meta("share", "assumption: LVV semi-durable split", "no split found; halves"))

    @model_validator(mode="after")
    def _sums(self) -> "LvvOutcomes":
        for name, parts in (("durable + semi_durable + none", (self.durable, self.semi_durable, self.none)),
                            ("durable_split", self.durable_split), ("semi_split", self.semi_split)):
            if abs(sum(parts) - 1) > 1e-6:
                raise ValueError(f"LVV outcomes: {name} must sum to 1, found {sum(parts):.4f}")
        return self


class Lvv(_Frozen):
    """Landelijke Vreemdelingenvoorziening: a stage after the departure term."""

    locations: tuple[str, ...] = Field(("Amsterdam", "Eindhoven", "Groningen", "Rotterdam", "Utrecht"),
                                       description="pilot municipalities",
                                       json_schema_extra=_meta("-", "Rijksoverheid 29-11-2018; Kamerbrief 19637-2445 (LV1)", "", "2018"))
    places: float = Field(1500, ge=0, description="national LVV places [places]",
                          json_schema_extra=_meta("places", "Volkskrant 2018-11 on the Rijk-VNG agreement (LV2)",
                                                  "planned; Amsterdam alone ~500 (LV5, 2023); split per location not found", "2018"))
    intake_per_year: float = Field(640, ge=0, description="entries into the LVV [persons/year]",
                                   json_schema_extra=_meta(
                                       "persons/year", "Regioplan/WODC eindevaluatie (L1): 2,065 participants mid-2019 to July 2022",
                                       "2,065 over ~39 months = 635/yr (calc.); the first 9 months took 1,019 (WODC 2020), "
                                       "largely the existing bed-bath-bread population", "2019-2022"))
    request_share: float = Field(0.064, ge=0, le=1,
                                 description="rejected who would leave without supervision and ask for an LVV place [-]",
                                 json_schema_extra=_meta(
                                     "share", "calc.: LVV intake ~640/year (L1) over the departures without supervision "
                                     "of 2018-2019 (8,620 and 9,660, nl_chain 5.2): 640 / 9,140 = 0.07 x the share of "
                                     "them without reception (0.92)", "0.064 for the pilot years; a lever", "2018-2022"))
    patience_days: float = Field(28.0, gt=0, description="longest wait for an LVV place before leaving without "
                                                      "supervision [days]",
                                 json_schema_extra=_meta("days", "assumption: wait for an LVV place",
                                                         "LVV pilots took people in within weeks or referred them on "
                                                         "(Kamerbrief 19637-2445); four weeks"))
    rest_period_days: float = Field(14, ge=0, description="rest period after intake [days]",
                                    json_schema_extra=_meta("days", "Kamerbrief 19637-2445 (LV3)", "", "2018"))
    guidance_mean_months: float = Field(17.0, gt=0, description="mean stay in guidance until leaving [months]",
                                        json_schema_extra=_meta(
                                            "months", "calc. from L1-L2: 2,065 entered, 1,258 left by July 2022",
                                            "constant inflow over 39 months and an exponential stay give 807 present for "
                                            "a mean of 16.9 months (15.6 if the pilot ran 36 months)", "2019-2022"))
    outcomes: LvvOutcomes = Field(LvvOutcomes())
    cost_per_place_day: float = Field(39.0, ge=0, description="funding per place [EUR/place/day]",
                                      json_schema_extra=_meta(
                                          "EUR/place/day", "calc. from LV2: EUR 48m Rijk + ~16m municipalities for 1,500 places",
                                          "spread over the 3-year pilot (LV1): 64e6 / (1,500 x 3 x 365)", "2018"))


# ----------------------------------------------------------------------------------------------
# P4.3 unaccompanied minors (AMV)
# ----------------------------------------------------------------------------------------------
class Minors(_Frozen):
    """Unaccompanied minors (AMV) as their own segment."""

    share_of_first_applications: float = Field(0.065, ge=0, le=1, description="AMV share of first applications [-]",
                                               json_schema_extra=_meta(
                                                   "share", "NIDI Demos / WODC-CBS cohort study (A2): 8,775 of 135,345",
                                                   "~12% 2022 and ~15% 2023 (A2) are later and not used", "2014-2019"))
    share_by_period: tuple[tuple[str, float], ...] = Field(
        (("2014-01..2019-08", 0.065), ("2022", 0.12), ("2023-01..2023-09", 0.15)),
        description="AMV share of first applications by period [-] (reference; only the first sets the default)",
        json_schema_extra=_meta("share", "NIDI Demos (2014-2019); IND 12-10-2023 (2022, 2023) (A2)",
                                "later periods are for comparison and scenarios, not tuned", "2014-2023"))
    grant_rate: float = Field(0.726, ge=0, le=1, description="first-instance grants over grants plus rejections [-]",
                              json_schema_extra=_meta("share", "NIDI / WODC-CBS (A5): 69% permit, 26% rejected, 5% pending",
                                                      "69 / (69 + 26) (calc.), status on 31-12-2019", "2014-2019"))
    age_split: tuple[float, float, float] = Field(
        (0.70, 0.19, 0.11), description="age at arrival: 16-17, 14-15, under 14 [-]",
        json_schema_extra=_meta("share", "NJi citing COA (A9): 1,110 / 305 / 165 of those with an age reported",
                                "a 2022 reception count used for an age split only, not tuned", "2022"))
    guardianship: str = Field("Nidos", description="guardian of every AMV",
                              json_schema_extra=_meta("-", "coa.nl/nl/alleenstaande-jongeren", "all AMV get a Nidos guardian", "current"))
    foster_family_below_age: int = Field(15, ge=0, le=18, description="AMV below this age go to a Nidos foster family [years]",
                                         json_schema_extra=_meta("years", "coa.nl/nl/opvanglocaties/locaties-voor-jongeren", "", "current"))
    small_unit_places: tuple[int, int] = Field((16, 20), description="COA small living unit (kwv) size, 15+ without permit [places]",
                                              json_schema_extra=_meta("places", "coa.nl/nl/alleenstaande-jongeren", "", "current"))
    disappeared_per_year: float = Field(355, ge=0, description="AMV leaving reception to an unknown destination [persons/year]",
                                        json_schema_extra=_meta("persons/year", "NRC via NOS 2019-06: >1,600 in 4.5 years (COA + Nidos)",
                                                                "1,600 / 4.5 (calc.); mostly Moroccan, Algerian, Afghan", "2015-2019"))
    return_requires_adequate_reception: bool = Field(
        True, description="lever: a return decision only where adequate reception in the origin country is established",
        json_schema_extra=_meta("-", "CJEU ruling cited in kst-29344-150; ABRvS 8-6-2022 ECLI:NL:RVS:2022:1530 (A6)",
                                "current law since the CJEU ruling; set False to replay practice before it", "2022"))
    adequate_reception_share: float = Field(0.1, ge=0, le=1,
                                            description="rejected AMV for whom adequate reception is established [-]",
                                            json_schema_extra=_meta("share", "assumption: adequate reception found",
                                                                    "not found; returns of minors are rare (the rest wait to "
                                                                    "18 with a permit-free stay), so a low share"))


# ----------------------------------------------------------------------------------------------
# P4.5 people without a right of residence
# ----------------------------------------------------------------------------------------------
class WithoutResidence(_Frozen):
    """Published national estimates to set beside the simulated stock."""

    estimate_2017_2018_poisson: float = Field(23000, ge=0, description="WODC estimate mid-2017 to mid-2018, Poisson [persons]",
                                              json_schema_extra=_meta("persons", "WODC 16-12-2020 (U1)", "", "2017-2018"))
    estimate_2017_2018_dse: float = Field(58000, ge=0, description="WODC estimate mid-2017 to mid-2018, dual systems [persons]",
                                          json_schema_extra=_meta("persons", "WODC 16-12-2020 (U1)", "", "2017-2018"))
    estimate_2009: float = Field(97145, ge=0, description="estimate 2009 [persons] (range 60,000-133,000)",
                                 json_schema_extra=_meta("persons", "Binnenlands Bestuur citing the 2009 WODC estimate (U3)", "", "2009"))
    regional_table: str = Field("nl_irregular_population_regions_2009.csv",
                                description="shipped split by police region (4 regions named, the rest pooled)",
                                json_schema_extra=_meta("-", "WODC estimate 2009 by police region via Binnenlands Bestuur (U3)",
                                                        "only Utrecht, Rotterdam, Amsterdam, Den Haag are given", "2009"))


# ----------------------------------------------------------------------------------------------
# P2.2 safe third countries
# ----------------------------------------------------------------------------------------------
class GroupInadmissible(_Frozen):
    group: str = Field(description="nationality group")
    share: float = Field(0.0, ge=0, le=1, description="first applications declared inadmissible (safe third country) [-]",
                         json_schema_extra=_meta("share", "assumption: safe-third-country use",
                                                 "no count of NL inadmissibility decisions on this ground was found; the "
                                                 "concept is applied case by case and only where a grant is otherwise likely "
                                                 "(IND IB 2021/8 via AIDA NL); 0 reproduces 2014-2019 practice"))


class SafeThirdCountry(_Frozen):
    """Inadmissibility track for the safe-third-country concept (Art. 38 APD; Aliens Decree art. 3.106a, AIDA NL)."""

    shares: tuple[GroupInadmissible, ...] = Field((), description="per-group inadmissible shares (none = 0 everywhere)",
                                                  json_schema_extra=_meta("list", "setting: not applied in the baseline "
                                                                          "(0 reproduces 2014-2019 practice)"))
    track_days: float = Field(49, gt=0, description="duration of the inadmissibility track [days]",
                              json_schema_extra=_meta("days", "assumption: like the safe-country track",
                                                      "IND: the safe-country track takes ~7 weeks on average (S4)", "2022"))
    p_transfer: float = Field(0.20, ge=0, le=1, description="inadmissible cases transferred to the third country [-]",
                              json_schema_extra=_meta("share", "assumption: readmission like Dublin",
                                                      "transfer needs the third country's consent, as in Dublin where ~20% "
                                                      "of claims end in a transfer (DU2-DU4)", "2014-2021"))
    p_substantive_after_all: float = Field(0.25, ge=0, le=1,
                                           description="inadmissible cases that get a substantive procedure after all [-]",
                                           json_schema_extra=_meta("share", "assumption: inadmissibility overturned",
                                                                   "courts ask for individual country information (AIDA NL: "
                                                                   "Kuwait, UAE, Russia cases); no rate found"))

    @model_validator(mode="after")
    def _check(self) -> "SafeThirdCountry":
        if self.p_transfer + self.p_substantive_after_all > 1 + 1e-9:
            raise ValueError("safe third country: p_transfer + p_substantive_after_all must be at most 1, found "
                             f"{self.p_transfer + self.p_substantive_after_all:.3f}")
        seen = [s.group for s in self.shares]
        dup = sorted({g for g in seen if seen.count(g) > 1})
        if dup:
            raise ValueError(f"safe third country: group(s) {', '.join(dup)} given more than once")
        return self

    @property
    def p_return_track(self) -> float:
        """The rest: cases that enter the group's return outcomes [-]."""
        return 1.0 - self.p_transfer - self.p_substantive_after_all
