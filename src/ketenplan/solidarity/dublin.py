"""Sourced Dublin rates for the national chain's Dublin track (claims, acceptance, transfers).

Figures are those of the Dutch chain notes (items DU1-DU6: JenV answers to parliament, the
Algemene Rekenkamer, CBS as reported). Rates marked ``derived`` are ratios of two sourced counts.
No Eurostat Dublin tables (migr_dubro/migr_dubto) are shipped, so no EU cross-check is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ketenplan.errors import DataError, ScenarioError


@dataclass(frozen=True)
class SourcedValue:
    """A value with its unit, the period it covers and its source."""

    value: float
    unit: str
    period: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class DublinRates:
    """Outgoing Dublin procedure of one country: rates [1] and durations [months], each sourced.

    ``acceptance_rate`` = accepted claims / outgoing claims; ``transfer_rate`` = transfers /
    outgoing claims; ``transfer_given_acceptance`` = transfers / accepted claims.
    """

    country: str
    years: tuple[int, ...]
    acceptance_rate: SourcedValue
    transfer_rate: SourcedValue
    transfer_given_acceptance: SourcedValue
    transfer_deadline_months: SourcedValue
    transfer_deadline_max_months: SourcedValue
    observations: tuple[dict, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """Plain dict (name -> {value, unit, period, source, note})."""
        out = {"country": self.country, "years": list(self.years)}
        for name in ("acceptance_rate", "transfer_rate", "transfer_given_acceptance",
                     "transfer_deadline_months", "transfer_deadline_max_months"):
            out[name] = vars(getattr(self, name)).copy()
        out["observations"] = [dict(o) for o in self.observations]
        return out


_SRC_DU1 = "nu.nl/algemeen/5307308 and rekenkamer.nl (Algemene Rekenkamer 2018, 'Asielinstroom'); nl_chain DU1"
_SRC_DU2 = "NRC 2021-06-11 citing JenV (nrc.nl/nieuws/2021/06/11/asielzoekers-terugsturen-naar-eu-aankomstland-lukt-vaak-niet-a4046928); nl_chain DU2"
_SRC_DU3 = "NH Nieuws n92911 citing NOS/JenV, Oct 2022; nl_chain DU3"
_SRC_DU4 = "Tweede Kamer, Kamervragen 2025D22408 (2025Z06865); nl_chain DU4"
_SRC_DU5 = "Tweede Kamer, Kamervragen 2025D22408: 'De standaard overdrachtstermijn is zes maanden ... tot maximaal 18 maanden'; Regulation (EU) 604/2013 Art. 29; nl_chain DU5"
_SRC_DU6 = "Metro 2025-06 citing CBS (metronieuws.nl/in-het-nieuws/binnenland/2025/06/asielzoekers-overdragen-nederland-dublinverordening); nl_chain DU6"

# Outgoing claims, accepted claims and transfers for the Netherlands, as sourced counts.
# period: (first year, last year); None = not given by the source.
_NL_OBSERVATIONS: tuple[dict, ...] = (
    {"period": (2014, 2016), "claims": 19979, "accepted": None, "transfers": 2953, "source": _SRC_DU1,
     "note": "transfer rate 14.8% as published"},
    {"period": (2014, 2021), "claims": 60040, "accepted": 42780, "transfers": 13670, "source": _SRC_DU2,
     "note": "2014 to mid-2021"},
    {"period": (2023, 2023), "claims": 11440, "accepted": 7960, "transfers": 2450, "source": _SRC_DU4,
     "note": "transfers 'ca.'"},
    {"period": (2024, 2024), "claims": 8830, "accepted": 5780, "transfers": 1700, "source": _SRC_DU4,
     "note": "transfers counted up to 1 April 2025, so not final"},
    {"period": (2024, 2024), "claims": 8000, "accepted": 6000, "transfers": 2245, "source": _SRC_DU6,
     "note": "'8,000+' requests, '~3/4' accepted (6,000 is 3/4 of 8,000); CBS count of transfers out"},
)


def dublin_rates(country: str = "NL", years: Sequence[int] | None = None) -> DublinRates:
    """Sourced outgoing Dublin rates for ``country`` (only ``"NL"`` is available).

    ``years`` selects the observations whose period overlaps the years (default: all). The rates
    pool the selected counts (sum of transfers / sum of claims). Raises ``DataError`` when no
    observation covers the years.
    """
    if country.upper() not in ("NL", "NLD"):
        raise ScenarioError(f"Dublin rates are available for NL only, found country {country!r}")
    obs = list(_NL_OBSERVATIONS)
    if years is not None:
        ys = set(int(y) for y in years)
        obs = [o for o in obs if any(o["period"][0] <= y <= o["period"][1] for y in ys)]
    if not obs:
        raise DataError(f"no sourced Dublin figures for NL cover the years {sorted(years or [])}; "
                        "expected years within 2014-2024 (2014-2021, 2023, 2024)")
    # avoid double counting: DU6 duplicates DU4 for 2024; prefer the government answer (DU4) in pooled rates
    pooled = [o for o in obs if not (o["source"] == _SRC_DU6 and any(p["source"] == _SRC_DU4 and p["period"] == o["period"] for p in obs))]
    with_acc = [o for o in pooled if o["accepted"] is not None]
    def period(os_):
        return f"{min(o['period'][0] for o in os_)}-{max(o['period'][1] for o in os_)}"
    def srcs(os_):
        return "; ".join(dict.fromkeys(o["source"] for o in os_))
    claims = sum(o["claims"] for o in pooled)
    transfers = sum(o["transfers"] for o in pooled)
    acc_claims = sum(o["claims"] for o in with_acc)
    accepted = sum(o["accepted"] for o in with_acc)
    acc_transfers = sum(o["transfers"] for o in with_acc)
    if not with_acc:
        acceptance = SourcedValue(float("nan"), "1", period(pooled), srcs(pooled), "no accepted counts in these years")
        t_given_a = acceptance
    else:
        acceptance = SourcedValue(accepted / acc_claims, "1", period(with_acc), srcs(with_acc),
                                  "derived: accepted / outgoing claims, pooled")
        t_given_a = SourcedValue(acc_transfers / accepted, "1", period(with_acc), srcs(with_acc),
                                 "derived: transfers / accepted claims, pooled")
    transfer = SourcedValue(transfers / claims, "1", period(pooled), srcs(pooled),
                            "derived: transfers / outgoing claims, pooled")
    all_years = sorted({y for o in obs for y in range(o["period"][0], o["period"][1] + 1)})
    return DublinRates(
        country="NL", years=tuple(all_years), acceptance_rate=acceptance, transfer_rate=transfer,
        transfer_given_acceptance=t_given_a,
        transfer_deadline_months=SourcedValue(6.0, "months", "current", _SRC_DU5, "standard transfer period"),
        transfer_deadline_max_months=SourcedValue(18.0, "months", "current", _SRC_DU5,
                                                  "extended period (absconding)"),
        observations=tuple({**o, "period": f"{o['period'][0]}-{o['period'][1]}"} for o in obs),
    )
