"""Readers of the shipped return data (``ketenplan/data/returns``); they check content and rename
to canonical names at this edge. Bad content raises :class:`~ketenplan.errors.DataError` naming
file, row and column.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan.data import data_path
from ketenplan.errors import data_error
from ketenplan.returns.groups import GROUP_ORDER
from ketenplan.scenario.pillar4 import GroupReturn

FOLDER = "returns"
OUTCOMES = ("p_independent", "p_forced", "p_unsupervised", "p_still_present")


def _read(name: str, required: dict[str, str], path: Path | None = None, rename: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV and check it: ``required`` maps column -> kind (``int``, ``float``, ``share``,
    ``group``, ``str``); ``share`` must lie in [0, 1] (empty allowed), ``group`` must be a known
    nationality group. ``path`` overrides the shipped file (for tests and user data)."""
    p = path if path is not None else data_path(FOLDER, name)
    label = p.name
    try:
        df = pd.read_csv(p)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise data_error(label, f"cannot be read as CSV ({exc})") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise data_error(label, "missing columns", expected=", ".join(required), found=list(df.columns))
    for col, kind in required.items():
        s = df[col]
        if kind in ("int", "float", "share"):
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            if kind == "int":
                bad |= s.isna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise data_error(label, "value is not a number", row=i + 2, column=col, expected="a number", found=s.iloc[i])
            if kind == "share":
                out = (num < 0) | (num > 1)
                if out.any():
                    i = int(np.flatnonzero(out.to_numpy())[0])
                    raise data_error(label, "share out of range", row=i + 2, column=col, expected="a value in [0, 1]",
                                     found=s.iloc[i])
            df[col] = num
        elif kind == "group":
            bad = ~s.isin(GROUP_ORDER)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise data_error(label, "unknown nationality group", row=i + 2, column=col,
                                 expected="one of " + ", ".join(GROUP_ORDER), found=s.iloc[i])
    return df.rename(columns=rename or {})


@lru_cache(maxsize=None)
def nationality_groups(path: Path | None = None) -> pd.DataFrame:
    """``group, iso3, origin_name, grant_rate_2014_2019 [-]``: every origin and its group."""
    df = _read("nl_nationality_groups.csv", {"group": "group", "iso3": "str", "origin_name": "str",
                                              "grant_rate_2014_2019": "share"}, path)
    dup = df.iso3.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise data_error(df.attrs.get("name", "nl_nationality_groups.csv"), "origin in more than one group",
                         row=i + 2, column="iso3", found=df.iso3.iloc[i])
    return df


@lru_cache(maxsize=None)
def group_year(path: Path | None = None) -> pd.DataFrame:
    """Per group and year 2012-2024 [persons/year]: ``new_applications, repeat_applications,
    fi_recognized, fi_other, fi_rejected, fi_closed, fi_total`` (first-instance decisions),
    ``grant_rate`` [-], ``share_new`` [-] and ``safe_country_share`` [-] (UNHCR, NL)."""
    cols = {"group": "group", "year": "int", "new_applications": "int", "repeat_applications": "int",
            "safe_country_new_applications": "int", "fi_recognized": "int", "fi_other": "int",
            "fi_rejected": "int", "fi_closed": "int", "fi_total": "int", "grant_rate": "share",
            "share_new": "share", "safe_country_share": "share"}
    return _read("nl_group_year.csv", cols, path)


def grant_rates(path: Path | None = None) -> pd.DataFrame:
    """Grant rate [-] by year (rows) and group (columns): first-instance grants over grants plus
    rejections; empty where a group had no decision that year. An input of the history replay."""
    df = group_year(path)
    return df.pivot(index="year", columns="group", values="grant_rate").reindex(columns=list(GROUP_ORDER))


@lru_cache(maxsize=None)
def groups(path: Path | None = None) -> pd.DataFrame:
    """2014-2019 summary per group: shares, grant rate and the safe-country flag."""
    return _read("nl_groups.csv", {"group": "group", "label": "str", "new_applications_2014_2019": "int",
                                   "share_new_2014_2019": "share", "grant_rate_2014_2019": "share",
                                   "safe_country_share_2014_2019": "share", "safe_country": "str"}, path)


@lru_cache(maxsize=None)
def return_fit(path: Path | None = None) -> pd.DataFrame:
    """Per-group fitted return outcomes (see docs/returns.md); the four ``p_*`` sum to 1 per row."""
    cols = {"group": "group", "returns_per_order": "float", **{c: "share" for c in OUTCOMES},
            "forced_share_of_aantoonbaar": "share", "mean_months_to_departure": "float",
            "departure_weight_2018_2019": "share"}
    df = _read("nl_group_return_fit.csv", cols, path)
    s = df[list(OUTCOMES)].sum(axis=1)
    bad = (s - 1).abs() > 2e-3
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise data_error("nl_group_return_fit.csv", "outcome probabilities do not sum to 1", row=i + 2,
                         column="+".join(OUTCOMES), expected="1 +- 0.002", found=round(float(s.iloc[i]), 4))
    return df


def group_returns(path: Path | None = None) -> dict[str, GroupReturn]:
    """The fitted outcomes as :class:`GroupReturn` values, keyed by group; the four
    probabilities (rounded to 4 decimals in the file) are rescaled to sum to exactly 1."""
    df = return_fit(path)
    out = {}
    for r in df.itertuples():
        p = [float(getattr(r, c)) for c in OUTCOMES]
        s = sum(p)
        out[r.group] = GroupReturn(group=r.group, **{c: v / s for c, v in zip(OUTCOMES, p)},
                                   mean_months_to_departure=r.mean_months_to_departure)
    return out


@lru_cache(maxsize=None)
def return_fit_check(path: Path | None = None) -> pd.DataFrame:
    """In-sample and held-out errors of the fit: ``check, quantity, year, observed, predicted, error``."""
    return _read("nl_return_fit_check.csv", {"check": "str", "quantity": "str", "year": "str",
                                             "observed": "str", "predicted": "float", "error": "str"}, path)


@lru_cache(maxsize=None)
def dtv_departures(path: Path | None = None) -> pd.DataFrame:
    """DT&V departures by type [persons/year] 2014-2019 and intake by source 2018-2019."""
    return _read("dtv_departures_2014_2019.csv", {"year": "int", "independent": "int", "forced": "int",
                                                   "unsupervised": "float"}, path)


@lru_cache(maxsize=None)
def safe_countries(path: Path | None = None) -> pd.DataFrame:
    """The Dutch list of safe countries of origin: ``iso3, name, listed_2016_2019, listed_later_snapshot``."""
    return _read("nl_safe_countries_of_origin.csv", {"iso3": "str", "name": "str", "listed_2016_2019": "int",
                                                      "listed_later_snapshot": "int"}, path)


@lru_cache(maxsize=None)
def eurostat_orders_returns(path: Path | None = None) -> pd.DataFrame:
    """Eurostat NL third-country nationals ordered to leave and returned [persons/year], 2012-2016."""
    return _read("eurostat_nl_orders_returns_2012_2016.csv", {"year": "int", "citizen": "str", "iso3": "str",
                                                               "ordered_to_leave": "float", "returned": "float"}, path)


@lru_cache(maxsize=None)
def irregular_estimates(path: Path | None = None) -> pd.DataFrame:
    """Published national estimates of people without a right of residence [persons]."""
    return _read("nl_irregular_population_estimates.csv", {"reference_period": "str", "estimate": "int",
                                                            "method": "str", "source_url": "str"}, path)


@lru_cache(maxsize=None)
def irregular_regions_2009(path: Path | None = None) -> pd.DataFrame:
    """2009 estimate by police region [persons] and its share of the national estimate [-]."""
    return _read("nl_irregular_population_regions_2009.csv", {"police_region": "str", "estimate": "int",
                                                               "share_of_national": "share"}, path)
