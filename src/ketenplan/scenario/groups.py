"""Default nationality groups, read from the shipped derived table (UNHCR, NL, 2014-2019)."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from ketenplan.data import data_path

GROUPS_FILE = ("nl_chain", "nl_origin_groups_2014_2019.csv")


@lru_cache(maxsize=1)
def default_groups():
    """Origins pooled in four recognition-rate bands; the lowest band is the safe-country track.

    Shares are new applications 2014-2019 and grant rates are first-instance grants over grants
    plus rejections 2014-2019 (UNHCR refugee statistics, Netherlands); see SOURCES.md.
    """
    from ketenplan.scenario.schema import Group

    df = pd.read_csv(data_path(*GROUPS_FILE))
    return tuple(Group(name=r.group, share=float(r.share), grant_rate=float(r.grant_rate),
                       safe_country=(r.group == "very_low")) for r in df.itertuples())
