"""Parameters of the border-control queue at Schiphol (P1.2), declared once with unit and source.

Sources are the domain notes' border tables: ``nl_chain.md`` section 7 (B1-B11) and
``return_legal_integration.md`` section 6 (G1-G12). Service times per traveller and the extra
seconds of an EES first registration were not found in official statistics (B11, G11); they are
named assumptions with the published statements they lean on given in ``note``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

HOURS = 24

#: Built-in share of a day's entry travellers per hour of the day (local time, hour 0 = 00:00-01:00).
#: Named assumption ``two_wave_profile``; see the ``hourly_profile`` field's note.
TWO_WAVE_PROFILE: tuple[float, ...] = (
    0.006, 0.003, 0.002, 0.002, 0.004, 0.018,   # 00-05: night regime, first arrivals before 06:00
    0.065, 0.085, 0.080, 0.065,                 # 06-09: morning wave (night flights from other continents)
    0.055, 0.050, 0.048, 0.050, 0.052, 0.060,   # 10-15: midday
    0.065, 0.063, 0.060, 0.052,                 # 16-19: late-afternoon / early-evening wave
    0.042, 0.032, 0.026, 0.015,                 # 20-23: evening tail
)


class BorderParams(BaseModel):
    """The default Schiphol entry day: volumes, traveller mix, servers and service times.

    Every field carries ``unit``, ``source`` (publisher/table/year or ``assumption: <name>``),
    ``note`` (reasoning) and ``years`` in ``json_schema_extra``. CLI options override fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    daily_border_travellers: float = Field(
        80_000.0, gt=0, le=1e7,
        description="travellers passing KMar border checks at Schiphol per day, both directions [persons/day]",
        json_schema_extra={
            "unit": "persons/day",
            "source": "KMar magazine 2023-04 'Vakantiedrukte' (nl_chain B2): ~40% of ~200,000 passengers/day "
                      "pass border checks; 85,000-95,000 on busy days",
            "note": "0.40 x 200,000 = 80,000 on an ordinary day; use 90,000 for a busy day.",
            "years": "2023"})
    entry_share: float = Field(
        0.5, gt=0, le=1,
        description="share of the border-check travellers that enter the Schengen area (arrival halls) [share]",
        json_schema_extra={
            "unit": "share",
            "source": "assumption: entry_exit_symmetry",
            "note": "Origin/destination travellers leave as often as they arrive over a season, so entries and "
                    "exits are taken as equal halves of B2's daily checks. The model covers the entry direction, "
                    "where EES first registrations mostly happen.",
            "years": "-"})
    hourly_profile: tuple[float, ...] = Field(
        TWO_WAVE_PROFILE,
        description="share of a day's entry travellers arriving at passport control in each hour 0..23 [share]",
        json_schema_extra={
            "unit": "share per hour (24 values, sum 1)",
            "source": "assumption: two_wave_profile",
            "note": "No hourly count of Schiphol border passages was found (B11). Shape from the qualitative "
                    "statement that Schiphol's peaks are 'early in the morning, and the end of the afternoon and "
                    "beginning of the evening' (press report on the May 2022 crowds, 177,000 travellers/day), "
                    "and the night regime with few flights 23:00-06:00; peak hour 8.5% of the day. Replace with "
                    "a measured profile through --profile FILE.",
            "years": "2022"})
    tcn_share: float = Field(
        0.22, ge=0, le=1,
        description="share of border-check travellers who are third-country nationals subject to EES [share]",
        json_schema_extra={
            "unit": "share",
            "source": "nl_chain B8 / return_legal_integration G10 (Metro, upinthesky, KMar 2025): 15,000-20,000 "
                      "travellers/day at Schiphol registered in EES instead of stamped; B2 (KMar 2023): 80,000 "
                      "border checks/day",
            "note": "17,500 / 80,000 = 0.22 (midpoint of G10 over B2); both counts cover both directions.",
            "years": "2023, 2025"})
    ees_rollout_share: float = Field(
        1.0, ge=0, le=1,
        description="share of third-country crossings processed through EES [share]",
        json_schema_extra={
            "unit": "share",
            "source": "return_legal_integration G4 / nl_chain B8: EES thresholds 10% from 12-10-2025, 35% from "
                      "9-1-2026, 100% by 10-4-2026",
            "note": "1.0 = fully operational (from 10 April 2026); 0.10 or 0.35 reproduce the rollout steps.",
            "years": "2025-2026"})
    ees_first_registration_share: float = Field(
        0.5, ge=0, le=1,
        description="share of EES crossings of third-country nationals that are a first registration [share]",
        json_schema_extra={
            "unit": "share",
            "source": "assumption: ees_half_first_registrations",
            "note": "Not published. In the first weeks nearly every third-country traveller registers for the "
                    "first time (share near 1); records are kept 3 years (B8), so repeat visitors are registered "
                    "on later trips. One half is taken for the first year of full operation.",
            "years": "-"})
    egate_use_share: float = Field(
        0.6, ge=0, le=1,
        description="share of travellers who are not third-country nationals that use an open eGate [share]",
        json_schema_extra={
            "unit": "share",
            "source": "assumption: egate_uptake",
            "note": "eGates take EU/EEA/CH passports (plus selected countries) from age 14 (G1, B4); children "
                    "under 14 and their parents, identity-card holders and those who prefer a desk go to the "
                    "desks, and gates are often out of service (G2). Six in ten of the eligible-nationality "
                    "travellers is taken; no published uptake share was found.",
            "years": "-"})
    egates: int = Field(
        39, ge=0, le=5000,
        description="eGates open to entering travellers [gates]",
        json_schema_extra={
            "unit": "gates",
            "source": "return_legal_integration G1 / nl_chain B4: 78 eGates at Schiphol (arrival and departure "
                      "halls, transfer), 2024-2025; assumption: egates_half_at_entry",
            "note": "Half of the 78 gates taken to serve the entry direction (B4 gives no split by hall).",
            "years": "2024-2025"})
    desks: int = Field(
        30, ge=0, le=5000,
        description="staffed passport-control desks for entering travellers in every hour [desks]",
        json_schema_extra={
            "unit": "desks",
            "source": "nl_chain B3 (KMar magazine 2023): up to 120 border guards per shift; assumption: "
                      "flat_roster_30_desks",
            "note": "120 guards per shift over entry, exit and transfer checks: half at entry (60), of whom "
                    "half sit at a desk at any moment (second line, supervision, breaks) = 30. A flat roster; "
                    "the staffing table gives the roster the target needs.",
            "years": "2023"})
    desk_service_seconds: float = Field(
        45.0, gt=0, le=3600,
        description="mean desk check of a traveller without EES first registration [s/person]",
        json_schema_extra={
            "unit": "s/person",
            "source": "assumption: desk_check_45s",
            "note": "No Dutch figure (B11). The Philippine Bureau of Immigration states a screening 'should only "
                    "take around 45 seconds' per passenger without issues, in line with ICAO (Inquirer, 2019); "
                    "the Port of Dover gave 45-90 s per car of four (11-23 s per person) for the French exit "
                    "check (The Times, 2022-09-28), a lower bound for a full entry check. 45 s is also the "
                    "value of the P1.2 stationary check.",
            "years": "2019, 2022"})
    desk_service_cv: float = Field(
        1.0, gt=0, le=5,
        description="coefficient of variation of the desk service time (gamma; 1 = exponential) [-]",
        json_schema_extra={
            "unit": "-",
            "source": "assumption: exponential_desk_checks",
            "note": "Checks range from a glance at an EU passport to questioning a visitor; the exponential "
                    "(cv 1) is the standard multi-server assumption and makes the model comparable to Erlang C.",
            "years": "-"})
    ees_extra_seconds: float = Field(
        120.0, ge=0, le=3600,
        description="extra desk time of an EES first registration (fingerprints, face, questions) [s/person]",
        json_schema_extra={
            "unit": "s/person",
            "source": "assumption: ees_two_minutes (Port of Dover CEO D. Bannister in The Times, 2022-09-28: "
                      "EES 'may take two minutes per passenger' to register)",
            "note": "No measured enrolment time was found (G11). Consistency: ACI Europe (G5, Dec 2025) reports "
                    "third-country processing up to +70% with 10% of travellers registered, i.e. 0.7 x 45 s / "
                    "0.10 = up to 315 s per registration including outages and missing kiosks; 120 s is the "
                    "working value, use --ees-extra-seconds 315 for the ACI worst case.",
            "years": "2022, 2025"})
    egate_service_seconds: float = Field(
        7.2, gt=0, le=3600,
        description="mean eGate passage time [s/person]",
        json_schema_extra={
            "unit": "s/person",
            "source": "return_legal_integration G9: FastPass FP7 project final report (CORDIS 312583, 2017): "
                      "ABC gate throughput about 500 persons/hour",
            "note": "3600 / 500 = 7.2 s per passage, a demonstrator's throughput: a best case (G2 reports "
                    "outages and slow Dutch passages at Schiphol).",
            "years": "2017"})
    egate_service_cv: float = Field(
        0.5, gt=0, le=5,
        description="coefficient of variation of the eGate passage time (gamma) [-]",
        json_schema_extra={
            "unit": "-",
            "source": "assumption: regular_egate_cycle",
            "note": "A gate runs a fixed sequence (document, face, doors); variation comes from travellers "
                    "placing the passport and rejected attempts, so less than exponential.",
            "years": "-"})
    target_p90_min: float = Field(
        15.0, gt=0, le=1440,
        description="target for the 90th percentile of the wait at passport control [min]",
        json_schema_extra={
            "unit": "min",
            "source": "assumption: p90_15_minutes",
            "note": "No KMar wait target was found (G12). ICAO Annex 9 RP 3.39 (as quoted by ACI) aims at "
                    "clearance within 45 minutes from disembarkation for all formalities (walk, passport, "
                    "baggage, customs); a third of that for the passport queue.",
            "years": "-"})

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != HOURS:
            raise ValueError(f"hourly_profile: expected {HOURS} shares (hours 0..23), found {len(v)}")
        if any(not (x >= 0) for x in v):
            raise ValueError("hourly_profile: expected shares >= 0")
        if abs(sum(v) - 1.0) > 1e-6:
            raise ValueError(f"hourly_profile: expected shares that add up to 1, found {sum(v):.6f}")
        return v

    # -- derived quantities -----------------------------------------------------------------------
    @property
    def entry_travellers_per_day(self) -> float:
        """Travellers entering through passport control per day [persons/day]."""
        return self.daily_border_travellers * self.entry_share

    @property
    def egate_share(self) -> float:
        """Share of all entering travellers who go to an open eGate [share]."""
        return (1.0 - self.tcn_share) * self.egate_use_share

    @property
    def ees_share(self) -> float:
        """Share of all entering travellers making an EES first registration at a desk [share]."""
        return self.tcn_share * self.ees_rollout_share * self.ees_first_registration_share

    def arrivals_per_hour(self) -> tuple[float, ...]:
        """Expected entering travellers in each hour 0..23 [persons/hour]."""
        return tuple(self.entry_travellers_per_day * s for s in self.hourly_profile)


def parameter_table() -> list[dict[str, object]]:
    """One row per field: name, default, unit, source, note, years (for docs and the report)."""
    rows = []
    for name, f in BorderParams.model_fields.items():
        extra = f.json_schema_extra or {}
        default = f.default
        if isinstance(default, tuple):
            default = " ".join(f"{x:g}" for x in default)
        rows.append({"name": name, "default": default, "unit": extra.get("unit"), "description": f.description,
                     "source": extra.get("source"), "note": extra.get("note"), "years": extra.get("years")})
    return rows
