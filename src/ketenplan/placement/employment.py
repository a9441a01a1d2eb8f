"""Employment model: probability that a person is employed at a location, and case weights.

Interface (what a user-fitted model must offer; :class:`EmploymentModel` implements it):

- ``predict(persons, locations) -> ndarray (n_persons, n_locations)`` of probabilities;
- ``case_weights(persons, locations, objective) -> DataFrame`` (case_id x location_id).

``persons`` is one row per person with ``case_id`` and the features ``age`` [years],
``education`` (``low``/``mid``/``high``), ``work_experience`` (0/1) and ``language`` (0/1:
speaks Dutch or English at a working level). ``locations`` has ``location_id`` and ``urbanity``
(0..1, see :func:`urbanity_index`).

The model is logistic::

    logit p = b0 + b_low [edu=low] + b_high [edu=high] + b_work work + b_lang language
              + (g + g_high [edu=high]) (urbanity - 0.5)

and ``p = 0`` outside working age. The **default coefficients are not fitted on data**: they
come from ``parameters.csv`` (two sourced anchors, the rest named assumptions). Fit your own
on registry data with :meth:`EmploymentModel.fit`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize
from scipy.special import expit, logit

from ketenplan.errors import DataError, data_error

log = logging.getLogger(__name__)

__all__ = ["EmploymentModel", "default_employment_model", "load_parameters", "urbanity_index",
           "COEFFICIENTS", "EDUCATION_LEVELS"]

COEFFICIENTS = ("intercept", "education_low", "education_high", "work_experience", "language", "urbanity",
                "urbanity_x_education_high")
EDUCATION_LEVELS = ("low", "mid", "high")


@lru_cache(maxsize=1)
def _parameters_table() -> pd.DataFrame:
    path = Path(str(resources.files("ketenplan.placement").joinpath("parameters.csv")))
    return pd.read_csv(path)


def load_parameters() -> dict[str, float]:
    """The placement module's parameters (name -> value) from ``parameters.csv``."""
    t = _parameters_table()
    return dict(zip(t["name"], t["value"].astype(float)))


def urbanity_index(municipalities: pd.DataFrame) -> pd.Series:
    """0..1 index from the log population density [persons/km2] (0 = least, 1 = most dense).

    Uses ``pop_density_per_km2`` when present, else ``population / (land_area_ha / 100)``.
    """
    if "pop_density_per_km2" in municipalities:
        d = municipalities["pop_density_per_km2"].astype(float)
    else:
        d = municipalities["population_2021"].astype(float) / (municipalities["land_area_ha"].astype(float) / 100)
    ld = np.log(np.maximum(d, 1.0))
    span = ld.max() - ld.min()
    return ((ld - ld.min()) / span) if span > 0 else ld * 0 + 0.5


@dataclass(frozen=True)
class EmploymentModel:
    """Logistic employment model (see the module docstring for the formula)."""

    coefficients: Mapping[str, float]
    working_age: tuple[float, float] = (18, 64)
    source: str = "user"

    def __post_init__(self) -> None:
        missing = [k for k in COEFFICIENTS if k not in self.coefficients]
        if missing:
            raise DataError(f"employment model: coefficients missing {missing}; expected {list(COEFFICIENTS)}")

    # -- features ---------------------------------------------------------------------------
    @staticmethod
    def _person_features(persons: pd.DataFrame, what: str = "persons") -> tuple[np.ndarray, ...]:
        for col in ("age", "education", "work_experience", "language"):
            if col not in persons:
                raise data_error(what, "feature column missing", column=col,
                                 expected="age, education, work_experience, language", found=list(persons.columns))
        edu = persons["education"].astype(str).to_numpy()
        bad = ~np.isin(edu, EDUCATION_LEVELS)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise data_error(what, "unknown education level", row=i, column="education",
                             expected=f"one of {EDUCATION_LEVELS}", found=edu[i])
        age = pd.to_numeric(persons["age"], errors="coerce").to_numpy(float)
        if np.isnan(age).any():
            i = int(np.flatnonzero(np.isnan(age))[0])
            raise data_error(what, "age is not a number", row=i, column="age", found=persons["age"].iloc[i])
        work = persons["work_experience"].astype(float).to_numpy()
        lang = persons["language"].astype(float).to_numpy()
        return age, (edu == "low").astype(float), (edu == "high").astype(float), work, lang

    @staticmethod
    def _urbanity(locations: pd.DataFrame) -> np.ndarray:
        if "urbanity" not in locations:
            raise data_error("locations", "feature column missing", column="urbanity",
                             expected="urbanity in [0, 1] (see urbanity_index)", found=list(locations.columns))
        return locations["urbanity"].astype(float).to_numpy()

    # -- prediction -------------------------------------------------------------------------
    def predict(self, persons: pd.DataFrame, locations: pd.DataFrame) -> np.ndarray:
        """Probabilities (n_persons, n_locations) [probability of employment]."""
        c = self.coefficients
        age, low, high, work, lang = self._person_features(persons)
        u = self._urbanity(locations) - 0.5
        base = c["intercept"] + c["education_low"] * low + c["education_high"] * high \
            + c["work_experience"] * work + c["language"] * lang
        slope = c["urbanity"] + c["urbanity_x_education_high"] * high
        p = expit(base[:, None] + slope[:, None] * u[None, :])
        working = (age >= self.working_age[0]) & (age <= self.working_age[1])
        p[~working] = 0.0
        return p

    def case_weights(self, persons: pd.DataFrame, locations: pd.DataFrame,
                     objective: str = "expected") -> pd.DataFrame:
        """Case x location weights: expected number employed (sum) or P(at least one employed)."""
        p = self.predict(persons, locations)
        codes, cases = pd.factorize(persons["case_id"], sort=False)
        out = np.zeros((len(cases), p.shape[1]))
        if objective == "expected":
            np.add.at(out, codes, p)
        elif objective == "at-least-one":
            np.add.at(out, codes, np.log1p(-np.minimum(p, 1 - 1e-15)))
            out = -np.expm1(out)
        else:
            raise DataError(f"objective: expected 'expected' or 'at-least-one', found {objective!r}")
        return pd.DataFrame(out, index=pd.Index(cases, name="case_id"),
                            columns=pd.Index(locations["location_id"].to_numpy(), name="location_id"))

    # -- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, persons: pd.DataFrame, locations: pd.DataFrame, *, l2: float = 1e-6,
            working_age: tuple[float, float] = (18, 64)) -> "EmploymentModel":
        """Maximum-likelihood fit on registry data.

        ``persons`` needs the person features, ``location_id`` (where the person was housed) and
        ``employed`` (0/1, at the horizon the model should predict); persons outside working age
        are dropped. ``locations`` maps ``location_id`` to ``urbanity``.
        """
        for col in ("location_id", "employed"):
            if col not in persons:
                raise data_error("persons", "column missing for fitting", column=col)
        age, low, high, work, lang = cls._person_features(persons)
        loc_u = pd.Series(cls._urbanity(locations), index=locations["location_id"].to_numpy())
        u = persons["location_id"].map(loc_u).to_numpy(float)
        if np.isnan(u).any():
            i = int(np.flatnonzero(np.isnan(u))[0])
            raise data_error("persons", "location_id not in locations", row=i, column="location_id",
                             found=persons["location_id"].iloc[i])
        y = persons["employed"].astype(float).to_numpy()
        keep = (age >= working_age[0]) & (age <= working_age[1])
        X = np.column_stack([np.ones(keep.sum()), low[keep], high[keep], work[keep], lang[keep],
                             u[keep] - 0.5, high[keep] * (u[keep] - 0.5)])
        y = y[keep]

        def nll(b):
            z = X @ b
            return np.sum(np.logaddexp(0, z) - y * z) + l2 * b @ b, X.T @ (expit(z) - y) + 2 * l2 * b

        res = minimize(nll, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B")
        log.info("employment model fitted on %d persons (converged: %s)", len(y), res.success)
        return cls(dict(zip(COEFFICIENTS, map(float, res.x))), working_age,
                   source=f"fitted on user data ({len(y)} persons of working age)")


def default_employment_model() -> EmploymentModel:
    """The shipped default, built from ``parameters.csv`` (sourced anchors + named assumptions)."""
    p = load_parameters()
    b0 = float(logit(p["employment_p_reference"]))
    g = brentq(lambda x: expit(b0 + x / 2) / expit(b0 - x / 2) - p["employment_location_ratio"], 0.0, 20.0)
    bh = b0 + np.log(p["employment_or_education_high"])
    gh = brentq(lambda x: expit(bh + (g + x) / 2) / expit(bh - (g + x) / 2)
                - p["employment_location_ratio_high_education"], -g, 20.0)
    coef = {"intercept": b0, "education_low": float(np.log(p["employment_or_education_low"])),
            "education_high": float(np.log(p["employment_or_education_high"])),
            "work_experience": float(np.log(p["employment_or_work_experience"])),
            "language": float(np.log(p["employment_or_language"])), "urbanity": float(g),
            "urbanity_x_education_high": float(gh)}
    return EmploymentModel(coef, (p["employment_working_age_min"], p["employment_working_age_max"]),
                           source="default: parameters.csv (sourced anchors and named assumptions; not fitted)")
