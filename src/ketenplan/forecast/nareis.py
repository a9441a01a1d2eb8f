"""Nareis (family members joining a permit holder) from positive asylum decisions.

Nareizigers can only follow someone who was granted asylum, and they arrive months after
the decision (apply within three months of the permit, then an IND decision period of
90 days or more and travel). ketenplan therefore models them from the positive first-
instance decisions of the year before, not as a free series:

    nareis[y] = ratio * positive_decisions[y - 1]      [persons/year]

``ratio`` is fitted on 2015-2019 (nareis from CBS/IND, positive decisions from UNHCR);
2020-2024 are held out for validation (:func:`validation_table`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketenplan.errors import DataError
from ketenplan.forecast import data as fdata

FIT_YEARS = (2015, 2019)


def positive_decisions() -> pd.Series:
    """UNHCR first-instance positive decisions (recognised + complementary) in NL by year [persons/year]."""
    d = fdata.nl_decisions()
    return d.set_index("year")["positive"].astype(float)


def nareis_actual() -> pd.Series:
    """Nareizigers by year (CBS/IND figures as shipped) [persons/year]."""
    c = fdata.nl_components()
    return c[c["component"] == "nareizigers"].set_index("year")["persons"].astype(float)


def official_totals() -> pd.Series:
    """Published Dutch total asylum inflow (first + subsequent + nareis) by year, where given."""
    c = fdata.nl_components()
    keep = c[c["component"].isin(["total_inflow_first_subsequent_nareis", "all_asylum_applications_ind"])]
    return keep.groupby("year")["persons"].max().astype(float)


def nareis_ratio(fit_years: tuple[int, int] = FIT_YEARS, lag: int = 1) -> float:
    """Nareis per positive decision ``lag`` years earlier, fitted as sum/sum over ``fit_years``."""
    n, p = nareis_actual(), positive_decisions()
    years = [y for y in range(fit_years[0], fit_years[1] + 1) if y in n.index and (y - lag) in p.index]
    if len(years) < 3:
        raise DataError(f"{fdata.COMPONENTS_FILE}: only {len(years)} years with nareis and decisions in "
                        f"{fit_years}; expected at least 3 to fit the nareis ratio")
    return float(n.loc[years].sum() / p.loc[[y - lag for y in years]].sum())


def nareis_from_positive_decisions(positive: pd.Series, ratio: float | None = None, lag: int = 1) -> pd.Series:
    """Expected nareizigers by year from positive decisions by year (index: year) [persons/year]."""
    r = nareis_ratio() if ratio is None else float(ratio)
    if not np.isfinite(r) or r < 0:
        raise DataError(f"nareis ratio: expected a number >= 0, found {ratio!r}")
    s = pd.Series(positive, dtype=float)
    if (s < 0).any():
        raise DataError(f"positive decisions: negative value in year {s[s < 0].index[0]}")
    out = s * r
    out.index = out.index + lag
    return out.rename("nareis")


def validation_table() -> pd.DataFrame:
    """Nareis predicted from the previous year's positive decisions against the actual figures."""
    r = nareis_ratio()
    pos, act = positive_decisions(), nareis_actual()
    rows = []
    for y in sorted(act.index):
        if (y - 1) not in pos.index:
            continue
        pred = r * pos.loc[y - 1]
        rows.append({"year": y, "positive_decisions_prev_year": pos.loc[y - 1], "nareis_predicted": pred,
                     "nareis_actual": act.loc[y], "error_pct": 100 * (pred - act.loc[y]) / act.loc[y],
                     "period": "fit" if FIT_YEARS[0] <= y <= FIT_YEARS[1] else "validation"})
    return pd.DataFrame(rows)
