"""The scenario: one declared, frozen, validated value that drives every module.

Each field is declared once (here, or in the section modules beside this file: ``pillar4``,
``pillar5``, ``pillar6``, ``border``) with its type, unit, default, source or named assumption and
the years of data it uses (``schema_base.param``). Defaults are the Dutch baseline. Unknown keys
are errors. ``docs/parameters.md`` is generated from these declarations.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from typing import Literal

from pydantic import ConfigDict, Field, field_serializer, field_validator, model_validator

from ketenplan.errors import KetenplanError

from ketenplan.scenario.schema_base import (DAYS_PER_MONTH, Duration, MonthValue, Step, Stream,  # noqa: F401
                                             _Frozen, _key_error, _steps_sorted, param)
from ketenplan.scenario.border import BorderParams
from ketenplan.scenario.pillar4 import (CountryCooperation, Detention, Lvv, Minors, SafeThirdCountry,
                                        WithoutResidence)
from ketenplan.scenario.pillar5 import CircularMigration, RegularMigration, Resettlement
from ketenplan.scenario.pillar6 import CivicIntegration, Employment, HousingMarket, Spreiding
from ketenplan.scenario.costs import Costs
from ketenplan.scenario.planning import DecisionPolicy, ReceptionPolicy


class Nareis(_Frozen):
    """Family reunification (nareis): the cross-link from granted permits to later arrivals."""

    mode: Literal["endogenous", "given"] = param(
        "endogenous", description="endogenous: follows grants with ratio and lag; given: use per_year/monthly",
        unit='switch', source='setting: nareis follows granted permits (N1-N4)', note='the history preset uses the observed nareis instead (given)')
    ratio: float = param(0.32, ge=0, description="nareis persons per granted asylum permit holder [persons/person]",
        unit='persons per granted person', source='derived: nareis 2016-2019 (11,814 + 14,490 + 6,463 + 4,179; IND/JenV) over asylum permits 2015-2018 (33,000 + 37,000 + 29,000 + 16,000; CBS cohort study), one-year lag', note='calibrated on 2015-2019 only; the ratio fell over the period as the Syrian/Eritrean family cohorts completed; uncertainty: the range of the four yearly ratios of the same data (11,814/33,000 = 0.36, 14,490/37,000 = 0.39, 6,463/29,000 = 0.22, 4,179/16,000 = 0.26)', years='2015-2019',
        uncertainty={"name": "uniform", "low": 0.22, "high": 0.39})
    lag: Duration = param(Duration(name="gamma", mean=240.0, cv=0.5),
                          description="time from the sponsor's permit to the family's arrival [days]",
        unit='days', source='derived from statutory periods: apply within 3 months of the permit (N1), IND decision 90 days (+3 months, N2), mvv valid 90 days (N3)', note='mean = 3 + 3 + 2 months; cv an assumption', years='current law')
    per_year: tuple[Step, ...] = param((), description="arrivals [persons/year] when mode = given",
                                       unit="persons/year", source="setting: observed nareis, given in a scenario")
    share_to_sponsor_home: float = param(
        0.156, ge=0, le=1, description="given nareis that join a sponsor who already has a home (no COA stay) [-]",
        unit="share", source="derived: CBS entries into COA reception 2015-2018 (151,000; data/nl_chain/"
        "cbs_cohort_instroom_coa_opvang_2014_2021H1.csv, nareis included where they entered via COA) against first, "
        "subsequent, nareis and resettled arrivals (158,268): the gap of 7,268 over 46,612 nareis",
        note="an upper bound (first applicants who never enter COA fall in the gap too); with endogenous nareis the "
             "chain knows whether the sponsor is housed. The ABC of nl_history draws it from U(0, 0.3) "
             "(tools/calibrate_history.py)", years="2015-2018")
    monthly: tuple[MonthValue, ...] = param((), description="arrivals [persons/month] when mode = given",
                                            unit="persons/month", source="setting: observed nareis, given in a scenario")


SHOCK_DEFAULTS = {  # parameter names in ketenplan/forecast/parameters.csv (sources there)
    "surge": {"size": "surge_2015_peak_factor", "duration_months": "surge_2015_duration_months",
              "ramp_months": "surge_2015_ramp_up_months"},
    "dip": {"size": "dip_2020_depth", "duration_months": "dip_2020_duration_months"},
    "level_shift": {},
}


class Shock(_Frozen):
    """A what-if change of the first-application inflow (P1.1, P3.8), applied as a factor on top of
    the given stream or of every forecast sample path; see ``ketenplan.forecast.scenarios``.

    ``surge``: a triangular bump peaking at ``size`` x the level after ``ramp_months`` and back at
    ``duration_months`` (defaults: the Dutch 2015 surge); ``dip``: ``1 - size`` for
    ``duration_months`` (defaults: 2020); ``level_shift``: ``1 + size`` from the onset on, built up
    over ``ramp_months`` (``size`` required: it is the user's lever). Months count from the onset's
    month (its day is ignored). The extra arrivals of a surge or a rise take their nationality group
    from ``group_shares`` when given (e.g. the 2015 surge was mostly high-recognition origins).
    Missing values are filled from the defaults when the scenario is read, so the stored scenario
    states every number it uses.
    """

    kind: Literal["surge", "dip", "level_shift"] = Field(description="surge | dip | level_shift")
    onset: dt.date = Field(description="first month of the shock (day ignored)")
    size: float = Field(None, description="surge: peak factor [x level]; dip: depth [fraction]; "  # type: ignore[assignment]
                                          "level_shift: relative change [fraction], e.g. -0.2")
    duration_months: int = Field(0, ge=0, description="surge: months from onset back to the level; dip: months")
    ramp_months: int = Field(0, ge=0, description="surge: months to the peak; level_shift: months to build up")
    group_shares: dict[str, float] = Field(default_factory=dict,
                                           description="group mix of the extra arrivals [-]; empty: the groups' shares")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        if not isinstance(data, dict) or data.get("kind") not in SHOCK_DEFAULTS:
            if isinstance(data, dict) and data.get("size") is None:
                data = {**data, "size": 0.0}  # the kind is wrong: report that alone, not a missing size too
            return data
        data = dict(data)
        if data.get("size") is None and data["kind"] == "level_shift":
            raise ValueError("a level_shift needs 'size' (relative change, e.g. -0.2 for a fifth less)")
        missing = {k: v for k, v in SHOCK_DEFAULTS[data["kind"]].items() if data.get(k) is None}
        if missing:
            from ketenplan.forecast.scenarios import param

            for key, name in missing.items():
                data[key] = param(name) if key == "size" else int(param(name))
        return data

    @model_validator(mode="after")
    def _check(self) -> "Shock":
        import numpy as np

        from ketenplan.errors import ScenarioError

        try:
            self.factor(np.arange(-1, 2))
        except ScenarioError as exc:  # the generators name their own arguments; say the scenario keys
            msg = str(exc)
            for theirs, ours in (("parameter depth", "size (the depth)"), ("parameter ramp_up", "ramp_months"),
                                 ("parameter duration", "duration_months"), ("parameter ramp", "ramp_months"),
                                 ("parameter size", "size")):
                msg = msg.replace(theirs, ours)
            raise ValueError(msg.replace("scenario ", "", 1)) from None
        if self.group_shares:
            v = list(self.group_shares.values())
            if any(x < 0 for x in v) or abs(sum(v) - 1) > 1e-3:
                raise ValueError(f"group_shares must be >= 0 and sum to 1, found {self.group_shares}")
        return self

    def factor(self, offsets) -> "np.ndarray":  # noqa: F821
        """Multiplicative factor for months ``offsets`` after the onset (negative: before)."""
        import numpy as np

        from ketenplan.forecast import scenarios as fs

        ones = np.ones(len(offsets))
        onset = -int(offsets[0])  # offsets are consecutive months: index of the onset
        if self.kind == "surge":
            return fs.surge(ones, onset, self.size, self.duration_months, self.ramp_months)
        if self.kind == "dip":
            return fs.dip(ones, onset, self.size, self.duration_months)
        return fs.level_shift(ones, onset, self.size, self.ramp_months)


class Inflow(_Frozen):
    """Inflow streams and the source of the first-application stream."""

    source: Literal["given", "forecast"] = param(
        "forecast", description="given: the streams below; forecast: first applications from the inflow forecast, "
                                "one replicate per sample path (for forecast.horizon_months, then "
                                "forecast.after_horizon)",
        unit="switch",
        source="setting: the forecast's calibrated sample paths, so that a plan's bands carry the inflow's "
               "uncertainty (docs/forecast.md, 'Sample paths as a year's inflow': the p10-p90 of the Dutch "
               "12-month totals covered 17 of 22 actual totals at the origins 2012-12..2018-03, pooled over 32 "
               "countries 79%)",
        note="'given' for what-ifs on a fixed inflow and for the history replay (nl_history)", years="2012-2019")
    forecast_country: str = param("NL", description="country of the forecast series (source = forecast)",
                                  unit="Eurostat country code", source="setting: the Netherlands")
    monthly_profile: tuple[float, ...] = param(
        (0.963, 0.842, 0.849, 0.839, 0.902, 0.897, 0.987, 1.083, 1.220, 1.339, 1.123, 0.957),
        description="relative arrivals by calendar month [-], mean 1 (Eurostat NL 2008-2018)",
        unit='relative', source='Eurostat migr_asyappctzm, NL monthly applicants 2008-2018 (data/nl_chain/nl_monthly_profile_2008_2018.csv)', note="mean of each month relative to its year's monthly mean; peak in September-November (nl_chain.md section 3)", years='2008-2018')
    first: Stream = param(Stream(per_year=(Step(start=dt.date(2025, 1, 1), value=32180),)),
        unit='persons/year', source='Tweede Kamer answer 2025D08674 (first asylum applications 2024, ca. 32,180)', note='the last known year held flat; a driver or forecast replaces it (inflow.source = forecast)', years='2024')
    subsequent: Stream = param(Stream(per_year=(Step(start=dt.date(2025, 1, 1), value=1590),)),
        unit='persons/year', source='Tweede Kamer answer 2025D08674 (subsequent applications 2024)', years='2024')
    nareis: Nareis = Field(Nareis())
    shocks: tuple[Shock, ...] = param((), unit="list", source="setting: none in the baseline (what-if changes)",
                                      description="what-if changes of the first-application inflow, "
                                                     "applied in order ([[inflow.shocks]])")

    @field_validator("forecast_country")
    @classmethod
    def _country(cls, v: str) -> str:
        # lazy: reads the shipped country list only (no statsforecast); stored as the Eurostat code
        # ('gr' -> 'EL', 'GB' -> 'UK') so equal scenarios have equal digests
        from ketenplan.errors import DataError
        from ketenplan.forecast.data import normalise_country

        try:
            return normalise_country(v)
        except DataError as exc:
            msg = str(exc).split(": ", 1)[-1]  # drop the data file's name: the scenario key is named
            raise ValueError(f"{msg} (or the ISO aliases GR for EL, GB for UK)") from None

    @field_validator("monthly_profile")
    @classmethod
    def _profile(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 12:
            raise ValueError(f"needs 12 monthly weights (January..December), found {len(v)}")
        if any(x < 0 for x in v) or abs(sum(v) / 12 - 1) > 0.02:
            raise ValueError(f"weights must be >= 0 with mean 1 (sum 12), found sum {sum(v):.3f}; "
                             "divide each weight by the mean")
        return v


class Group(_Frozen):
    """A nationality group: origins pooled by recognition rate and return behaviour
    (``ketenplan.returns.groups`` lists the origins of the default groups)."""

    name: str
    label: str = Field("", description="what the group holds")
    share: float = Field(ge=0, le=1, description="share of first applications [-]")
    grant_rate: float = Field(ge=0, le=1, description="first-instance grant rate, Dublin excluded [-]")
    safe_country: bool = Field(False, description="triaged to the accelerated (safe country) track")
    shares_by_year: dict[int, float] = Field(default_factory=dict,
                                             description="share of first applications by arrival year [-] (replays)")
    grant_rates_by_year: dict[int, float] = Field(
        default_factory=dict, description="first-instance grant rate by decision year [-] (replays); other years: "
                                          "grant_rate")
    departure_shares: tuple[float, float, float] | None = Field(
        None, description="departures independent, forced, without supervision [-] (None: the national shares of "
                          "[return])")

    @model_validator(mode="after")
    def _check(self) -> "Group":
        for name, d in (("shares_by_year", self.shares_by_year), ("grant_rates_by_year", self.grant_rates_by_year)):
            bad = {y: v for y, v in d.items() if not 0 <= v <= 1}
            if bad:
                raise ValueError(f"group {self.name}: {name} must lie in [0, 1], found {bad}")
        if self.departure_shares is not None:
            if any(x < 0 for x in self.departure_shares) or abs(sum(self.departure_shares) - 1) > 1e-3:
                raise ValueError(f"group {self.name}: departure_shares must be >= 0 and sum to 1, found "
                                 f"{self.departure_shares}")
        return self

    @field_serializer("shares_by_year", "grant_rates_by_year")
    def _year_keys(self, v: dict[int, float]) -> dict[str, float]:
        """Years as text keys, so that a scenario with yearly values writes as TOML."""
        return {str(k): x for k, x in v.items()}

    def grant_rate_in(self, year: int) -> float:
        return self.grant_rates_by_year.get(year, self.grant_rate)

    @property
    def band(self) -> str:
        """Recognition band (high >= 0.7, medium >= 0.3, low >= 0.05, else very_low): the key of the
        employment model's speeds."""
        r = self.grant_rate
        return "high" if r >= 0.7 else "medium" if r >= 0.3 else "low" if r >= 0.05 else "very_low"


class Household(_Frozen):
    """Household composition of a case (persons travelling and applying together)."""

    family_share: float = param(0.2, ge=0, le=1, description="share of cases that are families with children [-]",
        unit='share of cases', source='assumption: household composition', note='no sourced split of cases into families and singles was found; first applicants are mostly single adults (nareis brings most families)')
    family_adults: float = param(1.7, ge=1, description="mean adults in a family case [persons]",
        unit='persons', source='assumption: household composition', note='one or two parents per family case')
    family_children: float = param(2.2, ge=1, description="mean children (school age) in a family case [persons]",
        unit='persons', source='assumption: household composition', note='children of school age per family case')



class Registration(_Frozen):
    """Identification and registration (AVIM) and central reception (COL)."""

    capacity_per_day: tuple[Step, ...] = param(
        (Step(start=dt.date(2025, 1, 1), value=170),), description="registrations [persons/day]",
        unit='persons/day', source='cabinet prognosis cited by Trouw, May 2023: need of 140-170 registrations/day (A11)', note='the upper end of the stated need; 120/day was the 2023 capacity', years='2023')
    col_stay: Duration = param(Duration(name="uniform", low=3, high=10),
                               description="stay in central reception after registration [days]",
        unit='days', source='COA: 3 to 10 days in central reception (A3)', years='2019-2020')
    _v = field_validator("capacity_per_day")(_steps_sorted)


class DecisionCapacity(_Frozen):
    """IND capacity [decisions/week]; a decision is one person. ``pooling = "shared"``: one pool
    (``total``) serves the Dublin, safe-third-country, safe-country and general queues in that
    priority order; ``"per_track"``: each track has its own capacity. The regular applications (P5.1)
    have their own capacity, or share the asylum pool (``regular_shares_asylum_capacity``)."""

    pooling: Literal["shared", "per_track"] = param(
        "shared", description="one IND pool for every asylum track, or a capacity per track", unit="switch",
        source="setting: one pool in priority order (the IND assigns its asylum staff across tracks; P3.4)")
    total: tuple[Step, ...] = param((Step(start=dt.date(2025, 1, 1), value=671),),
        unit='decisions/week', source='IND ~35,000 asylum decisions in 2023 (P15): 35,000 / 52.18 = 671/week',
        note='used when pooling = "shared"; uncertainty: x 0.8-1.2 (assumption: the IND\'s output differs from '
             'its plan by about a fifth: capacity for ~28,000 decisions in 2022 (P13), ~35,000 realised in 2023, '
             '8,500 more than planned (P15))', years='2023',
        uncertainty={"name": "uniform", "low": 0.8, "high": 1.2, "scale": True})

    general: tuple[Step, ...] = param((Step(start=dt.date(2025, 1, 1), value=415),),
        unit='decisions/week', source='IND ~35,000 decisions in 2023 (P15): 671/week, less the Dublin and safe-track demand', note='assumption on the split: the short tracks get what their demand needs (Dublin 0.25 x 32,180 = 8,045/yr = 154/wk; safe 0.75 x 0.22 x 32,180 = 5,310/yr = 102/wk); the general track gets the rest (671 - 256 = 415) and bears any shortfall', years='2023 (IND output), 2024 (inflow)')
    safe: tuple[Step, ...] = param((Step(start=dt.date(2025, 1, 1), value=102),),
        unit='decisions/week', source='IND ~35,000 decisions in 2023 (P15), safe-track demand of the baseline', note='0.75 x 0.2202 x 32,180 / 52.18', years='2023 (IND output), 2014-2019 (group shares), 2024 (inflow)')
    dublin: tuple[Step, ...] = param((Step(start=dt.date(2025, 1, 1), value=154),),
        unit='decisions/week', source='IND ~35,000 decisions in 2023 (P15), Dublin demand of the baseline', note='0.25 x 32,180 / 52.18', years='2023 (IND output), 2014-2016 (Dublin share), 2024 (inflow)')
    regular: tuple[Step, ...] = param(
        (Step(start=dt.date(2025, 1, 1), value=1690),), unit="decisions/week",
        source="assumption: regular capacity keeps pace (the IND decides most regular applications within the legal "
               "90 days, F1): 1.05 x the baseline regular applications (84,010/year) / 52.18",
        note="no count of IND regular staff or output by purpose after 2013 was found (gap list)",
        years="2017-2019 (applications)")
    regular_shares_asylum_capacity: bool = param(
        False, description="lever: regular applications share the asylum pool (after the asylum queues)",
        unit="switch", source="setting: separate capacities (P5.1 lever)")
    _v = field_validator("general", "safe", "dublin", "total", "regular")(_steps_sorted)


class Dublin(_Frozen):
    """The Dublin track: claim on another member state, transfer or lapse."""

    share: float = param(0.25, ge=0, le=1, description="share of first applicants given a Dublin claim [-]",
        unit='share of first applicants', source='Algemene Rekenkamer 2018: on average a quarter of 2014-16 asylum seekers linked to a Dublin procedure (S7)', years='2014-2016')
    accept_rate: float = param(0.71, ge=0, le=1, description="claims accepted [-]",
        unit='share of claims', source='JenV via NRC 2021: 2014-mid 2021 60,040 claims, 42,780 accepted (DU2)', years='2014-2021 (to mid-2021)')
    transfer_rate: float = param(0.30, ge=0, le=1, description="transfers given acceptance [-]",
        unit='share of accepted claims', source='JenV via NRC 2021: 13,670 transfers of 42,780 accepted claims = 0.32 (DU2); 2014-16 14.8% of claims (DU1)', note='0.71 x 0.30 = 21% of claims transferred (DU3: ~20%)', years='2014-2021 (to mid-2021)')
    abscond_rate: float = param(0.80, ge=0, le=1, description="accepted, not transferred: leave unsupervised [-]",
        unit='share of accepted not transferred', source='NOS/JenV 2022: >80% of claims that do not lead to a transfer end in illegality (DU3)', note='the rest lapse to a national procedure after the transfer term', years='2020-2022')
    duration: Duration = param(Duration(name="gamma", mean=150.0, cv=0.5),
                               description="from claim to transfer, absconding or lapse [days]",
        unit='days', source='transfer term 6 months, extendable to 18 (DU5); IND Dublin decision period 14-26 weeks (P17)', note='mean 5 months; cv an assumption', years='current law; 2022 (IND period)')


class Procedure(_Frozen):
    """The asylum procedure after the wait for a decision slot."""

    rvt: Duration = param(Duration(name="fixed", mean=6.0), description="rest and preparation period [days]",
        unit='days', source='rest and preparation period of at least 6 days (P1)', years='current law')
    aa: Duration = param(Duration(name="fixed", mean=8.0), description="general asylum procedure [days]",
        unit='days', source='general asylum procedure of 8 days until 25-6-2021 (P2; 6 days after: P3)', note='the history preset switches to 6 days from 2021-06-25 only through this value being 8 over the calibration span', years='law until 2021-06-25')
    safe_track: Duration = param(Duration(name="gamma", mean=21.0, cv=0.5),
                                 description="accelerated safe-country procedure [days]",
        unit='days', source='Kamervragen 2018: spoor 2 lead time about 3 weeks (P6)', note='IND 2022 gives ~7 weeks (S4); the calibration span keeps 3 weeks', years='2018')
    va_share: float = param(0.22, ge=0, le=1, description="general-track cases referred to the extended procedure [-]",
        unit='share of general track', source='derived from lead times Jul-Aug 2018 (P6): all first 19 wk, spoor 2 3 wk, AA 16 wk, VA 44 wk; with a 17% safe share, (19 - 0.17 x 3)/0.83 = 22.3 = 16 + 28 v gives v = 0.22', note='the split of decisions between AA and VA was not found as such (gap list)', years='2018')
    va: Duration = param(Duration(name="gamma", mean=196.0, cv=0.6), description="extended procedure (VA) [days]",
        unit='days', source='Kamervragen 2018: VA decided after ~44 weeks against ~16 for AA (P6): 28 weeks more', note='cv an assumption', years='2018')
    statutory_months: tuple[Step, ...] = param(
        (Step(start=dt.date(2025, 1, 1), value=6),), description="statutory decision period [months]",
        unit='months', source='Awb/Vw statutory decision period 6 months (P4)', note='the history preset sets 15 months where the extension applied (P4/P5)', years='current law')
    _v = field_validator("statutory_months")(_steps_sorted)


class Appeal(_Frozen):
    share: float = param(0.60, ge=0, le=1, description="rejected applicants who appeal [-]",
        unit='share of rejected', source='assumption: appeal rate', note='not found (gap list); asylum court cases rose from 9,500 (2015) to 23,000 (2019) (R4), which is consistent with most rejected applicants appealing')
    success_rate: float = param(0.08, ge=0, le=1, description="appeals that end in a permit [-]",
        unit='share of appeals', source='IND 2019: 92% of asylum decisions upheld in court (G6)', years='2019')
    duration: Duration = param(Duration(name="gamma", mean=120.0, cv=0.6), description="appeal [days]",
        unit='days', source='assumption: appeal duration', note='court lead times were not found (gap list); appeal deadlines 1-4 weeks (R1) plus hearing and judgment')


class Return(_Frozen):
    """Return after a final rejection (DT&V)."""

    departure_term_days: float = param(28, ge=0, description="departure term with reception, general track [days]",
        unit='days', source='departure term 0 or 28 days with COA reception during the term (D9)', note='0 for the safe-country track', years='current law')
    share_independent: float = param(0.25, ge=0, le=1, description="departures independent (aantoonbaar) [-]",
        unit='share of departures', source='DT&V 2018-2019: 3,610 + 4,460 of 31,760 departures (nl_chain.md 5.2)', years='2018-2019')
    share_forced: float = param(0.17, ge=0, le=1, description="departures forced [-]",
        unit='share of departures', source='DT&V 2018-2019: 2,650 + 2,760 of 31,760', years='2018-2019')
    share_unsupervised: float = param(0.58, ge=0, le=1, description="departures without supervision [-]",
        unit='share of departures', source='DT&V 2018-2019: 8,620 + 9,660 of 31,760; ~57-60% (D1, D2)', years='2018-2019')
    restricted_share: float = param(0.25, ge=0, le=1,
                                    description="rejected who move to a freedom-restricting location [-]",
        unit='share of rejected', source='assumption: VBL and family locations', note='VBL only with a prospect of departure within 12 weeks; families go to a gezinslocatie (4.1); no share was found')
    restricted_stay: Duration = param(Duration(name="gamma", mean=84.0, cv=0.5),
                                      description="stay in a freedom-restricting location (VBL) [days]",
        unit='days', source='VBL at most 12 weeks (4.1); family locations often longer (>3 years)', note='mean at the VBL maximum', years='current rules')
    time_to_departure: Duration = param(Duration(name="gamma", mean=120.0, cv=0.8),
                                        description="from end of reception to recorded departure [days]",
        unit='days', source='assumption: time to a recorded departure', note='no source for the duration of the DT&V process; 4 months')
    by_group: bool = param(True, description="departures split by each group's departure_shares (else the national "
                                             "shares above for every group)", unit="switch",
                           source="setting: by group (P4.1; fit in docs/returns.md)")

    @model_validator(mode="after")
    def _shares(self) -> "Return":
        s = self.share_independent + self.share_forced + self.share_unsupervised
        if abs(s - 1) > 1e-6:
            raise ValueError(f"share_independent + share_forced + share_unsupervised must sum to 1, found {s:.4f}")
        return self


class HalfYearTask(_Frozen):
    period: str = Field(pattern=r"^\d{4}-H[12]$", description="half-year, e.g. '2017-H1'")
    value: float = Field(ge=0, description="housing task [persons/half-year]")


class Housing(_Frozen):
    """Housing of permit holders: the half-yearly task (taakstelling) with carry-over of the backlog."""

    task_rule: Literal["given", "grants_previous_half_year"] = param(
        "grants_previous_half_year",
        description="how the task is set where no given value exists",
        unit='rule', source='COA: the prognosis rests on permit holders in reception, the previous task and expected permits (H2)', note="the model's naive expectation: the persons granted in the previous half-year", years='current practice')
    tasks: tuple[HalfYearTask, ...] = param((), description="given housing tasks [persons/half-year]",
                                            unit="persons/half-year", source="setting: none given in the baseline "
                                            "(the task rule sets each half-year's task)")
    task_scale: float = param(1.0, ge=0, description="multiplier on every task (policy lever) [-]",
        unit='-', source='setting: a neutral lever', note='multiplies every housing task (1 = as set)')
    realisation_rate: float = param(0.78, ge=0, le=1,
                                    description="share of task plus backlog realised in the half-year [-]",
                                    uncertainty={"name": "uniform", "low": 0.52, "high": 0.77},
        unit='share of task + backlog', source='derived: 2016-H2 task 23,000 + backlog 5,283 = 28,000; backlog carried into 2017-H1 6,082; realised (28,000 - 6,082)/28,000 = 0.78', note='calibrated on 2016 only (the one complete half-year in 2014-2019); uncertainty: p10-p90 of the posterior of the calibration of the 2014-2019 replay with model error (0.52-0.77, nl_chain/nl_history_parameter_sets.csv, docs/backtest.md); the 2016-H2 value lies just above it: the other facts of the replay pull the rate down', years='2016')
    lead_time: Duration = param(Duration(name="gamma", mean=98.0, cv=0.3),
                                description="permit to earliest move-out: linking + search + move [days]",
        unit='days', source='linking within 2 weeks + 10 weeks to find a house + 2 weeks to move = 14 weeks (H4)', years='2019-2021 (norm)')


class Reception(_Frozen):
    """Reception capacity (persons) by location type and cost per occupied place."""

    capacity_regular: tuple[Step, ...] = param(
        (Step(start=dt.date(2025, 1, 1), value=41000),), description="regular places (AZC/POL) [persons]",
        unit='persons', source='cabinet target of 41,000 permanent places (C8)', years='2023')
    capacity_small: tuple[Step, ...] = param(
        (Step(start=dt.date(2025, 1, 1), value=0),), description="small-scale places near municipalities [persons]",
        unit='persons', source='assumption: no small-scale routing in the baseline', note='set > 0 with levers.routing_small_scale for P3.7')
    central_capacity: float = param(2000, ge=0, description="central reception Ter Apel maximum [persons]",
        unit='persons', source='Ter Apel maximum of 2,000 persons (A4)', note='soft: days above it are counted', years='2021-2025')
    cost_regular: float = param(74.25, ge=0, description="cost of a regular place [EUR/person/day]",
        unit='EUR/person/day', source='COA: regular place 27,100 EUR per resident in 2022 (K1) / 365', years='2022')
    cost_emergency: float = param(146.3, ge=0, description="cost of an emergency place [EUR/person/day]",
        unit='EUR/person/day', source='COA: emergency place 53,400 EUR per resident in 2022 (K2) / 365', years='2022')
    _v = field_validator("capacity_regular", "capacity_small")(_steps_sorted)


class Levers(_Frozen):
    """Policy levers compared in the report."""

    triage: bool = param(True, description="early triage: safe-country cases to the accelerated track",
        unit='switch', source='track policy since 1 March 2016 (S1): safe-country cases in the accelerated spoor 2', years='2016 on')
    routing_small_scale: bool = param(
        False, description="likely grants go to small-scale locations near their future municipality (P3.7)",
        unit='switch', source='setting: letter 2018, likely grants to small locations near their future municipality (P3.7)', note='off in the baseline (not current practice)')
    likely_grant_threshold: float = param(0.7, ge=0, le=1,
                                          description="group grant rate from which a case counts as likely [-]",
        unit='share', source='assumption: likely grant', note='the high group (grant rate 0.91) counts as likely')
    legal_aid_after_intended_rejection: bool = param(
        False, description="legal aid only after an intended rejection: no RVT for grants (P3.6)",
        unit='switch', source='setting: letter 2018 (P3.6)', note="when on: granted cases skip the 6-day RVT (assumption: the lawyer's preparation is needed only where a rejection is intended)")
    no_hearing_repeat_without_chance: bool = param(
        False, description="subsequent applications without new facts decided without hearing (P3.6)",
        unit='switch', source='setting: letter 2018 (P3.6)', note='when on: subsequent applications that will be rejected are decided in 1 day without hearing or extended procedure (assumption)')


class Placement(_Frozen):
    """Placement of permit holders over the municipalities (P3.7, P6.2), run on the first replicate."""

    enabled: bool = param(True, description="place the first replicate's permit holders per half-year",
                          unit="switch", source="setting: on (P3.7, P6.2)")
    objective: Literal["expected", "at-least-one"] = param(
        "expected", description="expected persons employed, or households with at least one employed",
        unit="switch", source="setting: expected employment (GeoMatch's objective, docs/placement.md)")
    time_limit: float = param(60.0, gt=0, le=3600, description="solver time limit per half-year [s]",
                              unit="s", source="setting: far above the 1-2 s a half-year takes (docs/placement.md)")
    population: Literal["2025", "2021"] = param("2025", description="population year of the housing task key",
                                                unit="year", source="setting: the latest shipped population",
                                                years="2025")


class Solidarity(_Frozen):
    """EU responsibility sharing shown with the run (P2, P3.1): host indicators and the fair share."""

    year: int = param(2023, ge=2000, le=2023, description="year of the host indicators and the key inputs",
                      unit="year", source="setting: the latest year with UNHCR stocks and World Bank population and "
                      "GDP in the shipped data", years="2023")
    scheme: Literal["pact-2024", "relocation-2015", "dublin-2016"] = param(
        "pact-2024", description="distribution key whose Dutch share the report states", unit="switch",
        source="setting: the key in force (Regulation (EU) 2024/1351)")


class Forecast(_Frozen):
    """The inflow forecast that drives first applications when ``inflow.source = 'forecast'``."""

    origin: str = param("latest", pattern=r"^(latest|\d{4}-(0[1-9]|1[0-2]))$",
                        description="last data month the forecast starts from ('latest' or YYYY-MM)",
                        unit="month", source="setting: the last data month of the country")
    horizon_months: int = param(12, ge=1, le=600,
                                description="months after the origin that the forecast's sample paths cover; "
                                            "later months follow forecast.after_horizon [months]",
                                unit="months", source="assumption: the intervals are calibrated to 12 months ahead "
                                                      "(docs/forecast.md: Dutch 80% coverage 0.80 over the path at "
                                                      "12 months; at 24 the 80% interval covers only 0.72-0.77)",
                                note="further out no forecast is claimed (forecast.after_horizon says what follows); "
                                     "the paths' 12- and 24-month totals are calibrated too (docs/forecast.md), but "
                                     "the monthly intervals are scored to 12 months",
                                years="2012-2019 (backtest)")
    after_horizon: Literal["given", "hold"] = param(
        "given", description="first applications after the horizon: 'given' (the scenario's inflow.first) or "
                             "'hold' (each path repeats its last forecast year)",
        unit="switch", source="setting: the forecast where it is calibrated, the planning assumption after it",
        note="'given' keeps the forecast's uncertainty to the months where its intervals are calibrated and "
             "plans the later years on the scenario's level; 'hold' carries each path's last-year level on for "
             "the rest of the run, a level no backtest scored over more than 24 months")


EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


def variant_name(base: str, changed: list[str], limit: int = 80) -> str:
    """The name of a variant of ``base`` with the dotted keys ``changed``: ``base+key1+key2`` (long lists
    shortened to the first keys and a count)."""
    name = base + "".join("+" + k for k in changed)
    if len(name) <= limit:
        return name
    kept = []
    for k in changed:
        if len(base) + sum(len(x) + 1 for x in kept) + len(k) + 12 > limit:
            break
        kept.append(k)
    return base + "".join("+" + k for k in kept) + f"+{len(changed) - len(kept)} more"


class Simulation(_Frozen):
    start: dt.date = param(dt.date(2025, 1, 1), description="first reported day",
        unit='date', source='assumption: planning horizon', note="first reported day of the baseline; the chain on that day is the history replay's, corrected to published stocks (initial_state = 'history'), or an empty chain filled by warmup_years of the first year's inputs (initial_state = 'empty')")
    end: dt.date = param(dt.date(2034, 12, 31), description="last simulated day", unit="date",
                         source="setting: ten reported years")
    warmup_years: int = param(3, ge=0, le=20,
                              description="years simulated before start with the first year's inputs, not reported (initial_state = 'empty' only)",
        unit='years', source='assumption: warm-up', note='longest common stays (extended procedure + appeal + departure) are under 3 years; results before start are discarded')
    replicates: int = param(20, ge=1, le=10000, description="Monte Carlo replicates",
        unit='-', source='assumption: Monte Carlo size', note='p10/p90 of the baseline KPIs move by under 1% between 20 and 50 replicates (tested on the baseline)')
    seed: int = param(20250101, ge=0, description="root seed of the replicate streams", unit="-",
                      source="setting: any integer; replicate i draws from child i of SeedSequence(seed)")
    parameter_sets: str = param(
        "", description="CSV of parameter sets; replicate i applies row i % n (empty: none)", unit="file",
        source="setting: e.g. 'nl_chain/nl_history_parameter_sets.csv' (tools/calibrate_history.py, 2014-2019 "
               "facts only); see ketenplan.scenario.parameter_sets")

    parameter_uncertainty: bool = param(
        True, description="each replicate draws the uncertain parameters from their declared distributions",
        unit="switch", source="setting: honest bands by default (P0.5); scenario.uncertainty",
        note="false: every replicate uses the scenario's values (bands then hold the chain's randomness only)")
    initial_state: str = param(
        "history", description="'history': the chain's state on start, replayed from the history scenario and "
                               "corrected to published stocks; 'empty': an empty chain filled by a warm-up",
        unit="choice", source="setting: plan from today (P3.5); docs/start.md",
        note="'empty' fills the chain with warmup_years of the first year's inputs (what-ifs on a settled chain, "
             "the engine benchmarks); 'history' ignores warmup_years")
    history: str = param("nl_history", description="history scenario replayed to the start day (preset or .toml)",
                         unit="scenario", source="setting: nl_history replays 2012-2024 from shipped data")

    @property
    def grid_start(self) -> dt.date:
        """First simulated day: ``start`` minus ``warmup_years`` (day capped at 28), or ``start``
        without a warm-up; the engine's time grid (and its monthly inflow) begins here. A run from
        history (``initial_state = 'history'``) begins where its history scenario begins."""
        if self.initial_state == "history":
            return _history_grid_start(self.history)
        if self.warmup_years == 0:
            return self.start
        return dt.date(self.start.year - self.warmup_years, self.start.month, min(self.start.day, 28))

    @field_validator("parameter_sets")
    @classmethod
    def _sets_exist(cls, v: str) -> str:
        if v:
            from ketenplan.scenario.parameter_sets import load

            try:
                load(v)
            except KetenplanError as e:
                raise ValueError(str(e)) from None
        return v

    @property
    def inflow_start(self) -> dt.date:
        """First day whose inflow the run draws: the grid's first day from an empty chain, ``start``
        from history (before it the chain is the history replay's)."""
        return self.start if self.initial_state == "history" else self.grid_start

    @field_validator("initial_state")
    @classmethod
    def _initial(cls, v: str) -> str:
        if v not in ("history", "empty"):
            raise ValueError(f"expected 'history' or 'empty', found {v!r}")
        return v

    @model_validator(mode="after")
    def _span(self) -> "Simulation":
        if self.initial_state == "history":
            if self.start.day != 1:
                raise ValueError(f"start ({self.start}) must be the first day of a month when the run starts from "
                                 "history (initial_state = 'history'): the inflow after it is drawn by whole months")
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start}): a run covers at least two days")
        first = dt.date(self.start.year - self.warmup_years, self.start.month, 1)
        if first < EARLIEST or self.end > LATEST:
            raise ValueError(f"the run with its warm-up ({first} to {self.end}) must lie within {EARLIEST} to "
                             f"{LATEST}, the span the calendar arithmetic and the shipped data support")
        return self


@functools.lru_cache(maxsize=8)
def _history_span(history: str) -> tuple[dt.date, dt.date, dt.date]:
    """(first simulated day, start, end) of the history scenario ``history`` (a preset or .toml)."""
    from ketenplan.scenario import load_scenario

    try:
        hist = load_scenario(history, check=False)
    except KetenplanError as e:
        raise ValueError(f"simulation.history = {history!r}: {e}") from None
    if hist.simulation.initial_state != "empty":
        raise ValueError(f"simulation.history = {history!r} must itself start from an empty chain "
                         f"(initial_state = 'empty'), found {hist.simulation.initial_state!r}")
    return hist.simulation.grid_start, hist.simulation.start, hist.simulation.end


def _history_grid_start(history: str) -> dt.date:
    return _history_span(history)[0]


#: the year whose inflow mix and grant rates the baseline's groups take (the latest year of data)
GROUPS_YEAR = 2024


def default_groups(year: int = GROUPS_YEAR) -> tuple[Group, ...]:
    """The nationality groups of the Dutch baseline (``ketenplan.returns.groups``): their share of
    new applications and first-instance grant rate in ``year`` (UNHCR refugee statistics, NL), the
    safe-country flag and their departure shares (fit on Eurostat 2012-2016 and DT&V 2017-2018,
    docs/returns.md). Built from the shipped tables in data/returns."""
    import pandas as pd

    from ketenplan.data import data_path

    gy = pd.read_csv(data_path("returns", "nl_group_year.csv"))
    gy = gy[gy.year == year].set_index("group")
    info = pd.read_csv(data_path("returns", "nl_groups.csv")).set_index("group")
    fit = pd.read_csv(data_path("returns", "nl_group_return_fit.csv")).set_index("group")
    out = []
    shares = gy.share_new / gy.share_new.sum()
    for name in info.index:
        f = fit.loc[name]
        dep = (float(f.departure_share_independent), float(f.departure_share_forced),
               float(f.departure_share_unsupervised))
        dep = tuple(x / sum(dep) for x in dep)
        out.append(Group(name=name, label=str(info.loc[name, "label"]), share=round(float(shares[name]), 6),
                         grant_rate=float(gy.loc[name, "grant_rate"]), safe_country=bool(info.loc[name, "safe_country"]),
                         departure_shares=dep))
    total = sum(g.share for g in out)
    out[-1] = out[-1].model_copy(update={"share": round(out[-1].share + 1 - total, 6)})
    return tuple(out)


def _default_groups() -> tuple[Group, ...]:
    return default_groups()


class Scenario(_Frozen):
    """A complete, validated scenario. Use :meth:`replace` for variants; it is never mutated."""

    name: str = param("nl_baseline", description="scenario name", unit="text", source="setting: a label")
    description: str = param("", description="free text", unit="text", source="setting: a label")
    simulation: Simulation = Field(Simulation())
    inflow: Inflow = Field(Inflow())
    groups: tuple[Group, ...] = param(default_factory=_default_groups,
        unit='share/grant rate/departure shares', source='UNHCR refugee statistics (asylum_applications, asylum_decisions), NL: share of new applications and first-instance grant rate of 2024 (data/returns/nl_group_year.csv); departure shares fitted on Eurostat migr_eiord/migr_eirtn 2012-2016 and DT&V 2017-2018 (data/returns/nl_group_return_fit.csv)', note="11 nationality groups homogeneous in recognition and return (docs/returns.md); maghreb and west_balkans form the safe-country track (at least half their applications from the Dutch list of safe countries of origin 2016-2019)", years='2024 (mix and grant rates), 2012-2018 (departure shares)')
    household: Household = Field(Household())
    registration: Registration = Field(Registration())
    decision_capacity: DecisionCapacity = Field(DecisionCapacity())
    dublin: Dublin = Field(Dublin())
    procedure: Procedure = Field(Procedure())
    appeal: Appeal = Field(Appeal())
    return_: Return = Field(Return(), alias="return")
    housing: Housing = Field(Housing())
    reception: Reception = Field(Reception())
    reception_policy: ReceptionPolicy = Field(ReceptionPolicy())
    decision_policy: DecisionPolicy = Field(DecisionPolicy())
    costs: Costs = Field(Costs())
    levers: Levers = Field(Levers())
    placement: Placement = Field(Placement())
    solidarity: Solidarity = Field(Solidarity())
    forecast: Forecast = Field(Forecast())
    # pillar 4 and the border (P4.1-P4.5, P2.2, P1.2)
    cooperation: CountryCooperation = Field(CountryCooperation())
    detention: Detention = Field(Detention())
    lvv: Lvv = Field(Lvv())
    minors: Minors = Field(Minors())
    without_residence: WithoutResidence = Field(WithoutResidence())
    safe_third_country: SafeThirdCountry = Field(SafeThirdCountry())
    border: BorderParams = Field(BorderParams())
    # pillar 5 (P5.1-P5.3)
    regular: RegularMigration = Field(RegularMigration())
    circular: CircularMigration = Field(CircularMigration())
    resettlement: Resettlement = Field(Resettlement())
    # pillar 6 (P6.3-P6.5)
    employment: Employment = Field(Employment())
    civic_integration: CivicIntegration = Field(CivicIntegration())
    housing_market: HousingMarket = Field(HousingMarket())
    spreiding: Spreiding = Field(Spreiding())

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, validate_default=True)

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: tuple[Group, ...]) -> tuple[Group, ...]:
        if not v:
            raise ValueError("needs at least one nationality group")
        s = sum(g.share for g in v)
        if abs(s - 1) > 1e-3:
            raise ValueError(f"group shares must sum to 1, found {s:.4f}; rescale the 'share' of each [[groups]] entry")
        names = [g.name for g in v]
        if len(set(names)) != len(names):
            raise ValueError(f"group names must be unique, found {names}")
        return v

    @model_validator(mode="after")
    def _group_names(self) -> "Scenario":
        """Group names used by the levers must be the scenario's groups; yearly mixes sum to 1."""
        names = {g.name for g in self.groups}
        refs = [(f"cooperation.changes[{k}].group", c.group) for k, c in enumerate(self.cooperation.changes)]
        refs.append(("cooperation.reference_group", self.cooperation.reference_group))
        refs += [(f"safe_third_country.shares[{k}].group", c.group) for k, c in enumerate(self.safe_third_country.shares)]
        if self.circular.group:
            refs.append(("circular.group", self.circular.group))
        for key, name in refs:
            if name not in names:
                raise _key_error(key, f"unknown group {name!r}; the scenario's groups are {sorted(names)}")
        years = sorted({y for g in self.groups for y in g.shares_by_year})
        for y in years:
            tot = sum(g.shares_by_year.get(y, 0.0) for g in self.groups)
            if abs(tot - 1) > 1e-3:
                raise _key_error("groups", f"shares_by_year of {y} must sum to 1 over the groups, found {tot:.4f}")
        return self

    @model_validator(mode="after")
    def _shock_groups(self) -> "Scenario":
        names = {g.name for g in self.groups}
        for k, sh in enumerate(self.inflow.shocks):
            unknown = sorted(set(sh.group_shares) - names)
            if unknown:
                raise _key_error(f"inflow.shocks[{k}].group_shares", f"unknown group(s) {unknown}; "
                                 f"the scenario's groups are {sorted(names)}")
        return self

    @model_validator(mode="after")
    def _history_loads(self) -> "Scenario":
        if self.simulation.initial_state == "history":
            sim = self.simulation
            try:
                _, first, last = _history_span(sim.history)
            except ValueError as e:
                raise _key_error("simulation.history", str(e)) from None
            last += dt.timedelta(days=1)
            if not first <= sim.start <= last:
                raise _key_error("simulation.start", f"{sim.start}: a run from history (initial_state = 'history') "
                                 f"starts within the replay of {sim.history!r}, {first} to {last} (the day after "
                                 f"its last data day). Fix: start at {last} or earlier, or set "
                                 f"simulation.initial_state = 'empty' (an empty chain with a warm-up)")
        return self

    @model_validator(mode="after")
    def _forecast_covers_grid(self) -> "Scenario":
        if self.inflow.source != "forecast":
            return self
        from ketenplan.forecast.api import first_month  # lazy: data only read for source = forecast

        first = first_month(self.inflow.forecast_country)
        grid0 = self.simulation.inflow_start
        if f"{grid0:%Y-%m}" < first:
            raise _key_error("simulation.start", f"with warmup_years = {self.simulation.warmup_years} the run begins "
                             f"{grid0:%Y-%m}, before the {self.inflow.forecast_country} series of the inflow forecast "
                             f"(source = 'forecast') begins ({first}); every simulated month needs data or a "
                             f"forecast. Fix: start later, use fewer warmup_years, or set inflow.source = 'given'")
        return self

    # ------------------------------------------------------------------------------------------
    def replace(self, **changes: object) -> "Scenario":
        """A new scenario with changes given as dotted keys, e.g. ``replace(**{"levers.triage": False})``.

        A variant is named and described as one unless the changes set ``name`` or ``description``:
        ``nl_baseline+levers.triage`` and "nl_baseline with levers.triage changed", so that a base and
        its variant never share a name in a comparison or the results store."""
        asked = ", ".join(changes)
        changed = [k.replace("__", ".") for k in changes if k not in ("name", "description")]
        if changed and "name" not in changes:
            changes = {**changes, "name": variant_name(self.name, changed)}
        if changed and "description" not in changes:
            changes = {**changes, "description": f"{self.name} with {', '.join(changed)} changed"}
        import difflib

        from ketenplan.errors import ScenarioError
        from ketenplan.scenario import scenario_from_dict

        data = self.to_dict()
        for key, value in changes.items():
            node = data
            parts = key.replace("__", ".").split(".")
            for i, p in enumerate(parts):
                last = i == len(parts) - 1
                if p in node and not last and not isinstance(node[p], dict):
                    raise ScenarioError(f"replace: unknown scenario key '{key}': '{'.'.join(parts[:i + 1])}' is a "
                                        "value, not a section")
                if p not in node:
                    allowed = sorted(node)
                    close = difflib.get_close_matches(p, allowed, n=1)
                    where = ".".join(parts[:i]) or "the scenario"
                    raise ScenarioError(f"replace: unknown scenario key '{key}'"
                                        + (f"; did you mean '{close[0]}'?" if close else "")
                                        + f" Keys of {where}: {', '.join(allowed)}")
                if not last:
                    node = node[p]
            node[parts[-1]] = value
        return scenario_from_dict(data, f"{self.name} with {asked} replaced")

    def to_dict(self) -> dict:
        """Plain data with TOML names (``return`` rather than ``return_``)."""
        return self.model_dump(mode="json", by_alias=True)

    def digest(self) -> str:
        """Stable SHA-256 of the scenario's content (first 16 hex digits)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
