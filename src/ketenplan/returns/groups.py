"""Nationality groups for return and grant-rate modelling (P4.1, P4.2, P0.2).

The named groups hold the origins a policy analyst would name in a country-cooperation deal;
every other origin falls into ``other_high`` or ``other_low`` by its Dutch first-instance grant
rate 2014-2019 (UNHCR refugee statistics). This module is the one place where the groups are
declared; ``tools/derive_groups_returns.py`` and the readers use it.
"""

from __future__ import annotations

from types import MappingProxyType

#: Named groups: ISO 3166 alpha-3 origins (UNHCR codes; UNHCR reports Kosovo under SRB).
NAMED_GROUPS: MappingProxyType = MappingProxyType({
    "syria": ("SYR",),
    "eritrea": ("ERI",),
    "afghanistan": ("AFG",),
    "iraq_iran": ("IRQ", "IRN"),
    "turkey": ("TUR",),
    "maghreb": ("MAR", "DZA", "TUN", "LBY"),
    "west_balkans": ("ALB", "SRB", "XKX", "MKD", "BIH", "MNE"),
    "east_europe_caucasus": ("GEO", "ARM", "AZE", "MDA", "UKR", "BLR"),
    "west_africa": ("NGA", "GMB", "GIN", "SLE", "GHA", "SEN", "CIV", "MLI", "LBR", "GNB",
                    "BFA", "NER", "TGO", "BEN", "MRT", "CPV"),
})

#: Residual groups, split at this first-instance grant rate 2014-2019 [-].
RESIDUAL_THRESHOLD = 0.5
RESIDUAL_HIGH, RESIDUAL_LOW = "other_high", "other_low"

#: Report order of all groups.
GROUP_ORDER: tuple[str, ...] = (*NAMED_GROUPS, RESIDUAL_HIGH, RESIDUAL_LOW)

LABELS: MappingProxyType = MappingProxyType({
    "syria": "Syria",
    "eritrea": "Eritrea",
    "afghanistan": "Afghanistan",
    "iraq_iran": "Iraq and Iran",
    "turkey": "Turkey",
    "maghreb": "Maghreb (Morocco, Algeria, Tunisia, Libya)",
    "west_balkans": "Western Balkans",
    "east_europe_caucasus": "Eastern Europe and Caucasus (Georgia, Armenia, Azerbaijan, Moldova, Ukraine, Belarus)",
    "west_africa": "West Africa",
    "other_high": "Other origins, grant rate 2014-2019 at least 50%",
    "other_low": "Other origins, grant rate 2014-2019 below 50% (or no decision)",
})


def named_group_of(iso3: str) -> str | None:
    """The named group of an origin, or None when it is residual."""
    for group, members in NAMED_GROUPS.items():
        if iso3 in members:
            return group
    return None


def assign(iso3: str, grant_rate_2014_2019: float | None) -> str:
    """Group of an origin: its named group, else ``other_high`` when its 2014-2019 grant rate
    [-] is at least :data:`RESIDUAL_THRESHOLD`, else ``other_low`` (also without decisions)."""
    named = named_group_of(iso3)
    if named is not None:
        return named
    if grant_rate_2014_2019 is not None and grant_rate_2014_2019 == grant_rate_2014_2019 \
            and grant_rate_2014_2019 >= RESIDUAL_THRESHOLD:
        return RESIDUAL_HIGH
    return RESIDUAL_LOW
