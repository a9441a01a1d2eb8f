"""Fits of the integration models to the shipped published figures (P6.3, P6.4).

Everything here recomputes the defaults in :mod:`ketenplan.scenario.pillar6` from the CSVs in
``ketenplan/data/integration`` (one source URL per row), so the numbers can be checked:

- :func:`fit_employment` -- the work-over-time curve on CBS cohort figures **observed up to the
  cut-off year** (default 2019); every later published figure is kept back and only predicted,
  giving the validation table (error per cohort and year).
- :func:`fit_benefits` -- the link from employment to benefit dependency (2014 cohort, CBS 2018).
- :func:`fit_wi2013` -- the Wi2013 time-to-pass curve (2014 cohort, CBS 2016 and 2018).
- :func:`fit_all` -- all three; ``tools/fit_integration.py`` prints the result.

An observation is *in sample* when it describes the situation before the end of the cut-off year:
``observed_year < cutoff + 1``, where ``observed_year = cohort + 0.5 + years_since_permit``
(permits spread over the cohort year, so its middle is the reference).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import ndtri

from ketenplan.data import data_path
from ketenplan.errors import DataError, data_error
from ketenplan.integration.curves import benefit_share, cohort_t50, employment_share

log = logging.getLogger(__name__)

__all__ = ["EmploymentFit", "BenefitFit", "Wi2013Fit", "IntegrationFit", "fit_employment", "fit_benefits",
           "fit_wi2013", "fit_all", "load_table", "CHAIN_GROUP_NATIONALITIES", "PLATEAU_ANCHOR",
           "BENEFIT_FLOOR_ANCHOR", "WI2013_PASS_SHARE"]

#: Chain nationality groups (recognition-rate bands, ``scenario/groups.py``) and the nationalities
#: of the CBS 2014 table that stand for them: 'high' is mostly Syria and Eritrea, 'medium' Iraq,
#: Iran and Afghanistan (nl_origin_groups_2014_2019.csv, top origins); the rest is CBS 'Other'.
CHAIN_GROUP_NATIONALITIES = {"high": ("Syria", "Eritrea"), "medium": ("Iraq", "Iran", "Afghanistan"),
                             "low": ("Other",), "very_low": ("Other",)}
#: Long-run share employed (the plateau): 'de helft van de asielmigranten die zich halverwege de
#: jaren negentig in Nederland hebben gevestigd, heeft binnen vijf jaar werk' (CBS, NRC 2004-01-12).
PLATEAU_ANCHOR = 0.50
#: Long-run benefit dependency: early-1990s asylum men 'minder dan 20 procent afhankelijk van een
#: uitkering' within ten years (CBS, NRC 2004-01-12).
BENEFIT_FLOOR_ANCHOR = 0.20
#: Wi2013: the 21 % not yet passed but within (extended) term on 1-10-2018 are assumed to pass
#: eventually, the 2 % past the term not: (58 + 21) / (100 - 19) of the non-exempt.
WI2013_PASS_SHARE = (0.58 + 0.21) / (1.0 - 0.19)

_EMPLOYMENT_COLUMNS = ("cohort", "group", "years_since_permit", "share_employed", "observed_year", "source_url")
_BENEFIT_COLUMNS = ("cohort", "years_since_permit", "share_on_benefit", "observed_year", "measure", "source_url")
_WI2013_COLUMNS = ("cohort", "years_since_permit", "passed", "exempt", "source_url")


def load_table(name: str, folder: str | Path | None = None, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read ``name`` from ``folder`` (default: the shipped ``data/integration``) and check its columns."""
    path = Path(folder) / name if folder is not None else data_path("integration", name)
    if not path.exists():
        raise DataError(f"{path}: file not found; expected the integration data table {name}")
    df = pd.read_csv(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise data_error(path, "columns missing", expected=", ".join(columns), found=list(df.columns))
    for c in ("years_since_permit",):
        if c in df.columns and (pd.to_numeric(df[c], errors="coerce").isna() | (df[c] < 0)).any():
            i = int(np.flatnonzero(pd.to_numeric(df[c], errors="coerce").isna() | (df[c] < 0))[0])
            raise data_error(path, "not a non-negative number", row=i + 2, column=c, found=df[c].iloc[i])
    return df


def _in_sample(df: pd.DataFrame, cutoff: int) -> np.ndarray:
    return (df["observed_year"].to_numpy(float) < cutoff + 1).astype(bool)


# ----------------------------------------------------------------------------------------------
# employment
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmploymentFit:
    """Fitted work-over-time curve and its out-of-sample validation."""

    cutoff: int
    plateau: float
    t50_2014: float
    shape: float
    speedup_per_year: float
    first_cohort: int
    last_cohort: int
    nationality_speed: dict[str, float]
    group_speed: dict[str, float]
    in_sample_rmse_pp: float
    table: pd.DataFrame = field(repr=False)

    def predict(self, cohort, years, speed=1.0):
        """Share employed for permit cohort(s) ``cohort`` at ``years`` since the permit."""
        t50 = cohort_t50(cohort, self.t50_2014, self.speedup_per_year, self.first_cohort, self.last_cohort, speed)
        return employment_share(years, t50, self.shape, self.plateau)

    @property
    def validation(self) -> pd.DataFrame:
        """The held-back rows (observed after the cut-off) with prediction and error [pp]."""
        return self.table[~self.table["in_sample"]].reset_index(drop=True)


def _weights(folder) -> dict[str, float]:
    w = load_table("permits_2014_by_nationality.csv", folder, ("nationality", "permits_2014_thousands"))
    return dict(zip(w["nationality"], w["permits_2014_thousands"].astype(float)))


def fit_employment(table: pd.DataFrame | None = None, *, cutoff: int = 2019, plateau: float = PLATEAU_ANCHOR,
                   folder: str | Path | None = None) -> EmploymentFit:
    """Fit ``t50``, ``shape`` and the cohort speed-up on the all-nationality rows observed
    before the end of ``cutoff``; then one speed multiplier per nationality (2014 table) and per
    chain group (permit-weighted mix of its nationalities). Residuals are in share points.
    """
    df = load_table("employment_cohorts.csv", folder, _EMPLOYMENT_COLUMNS) if table is None else table.copy()
    df["in_sample"] = _in_sample(df, cutoff)
    overall = df[(df["group"] == "all") & df["in_sample"]]
    if len(overall) < 3 or overall["cohort"].nunique() < 2:
        raise DataError(f"employment fit: need at least 3 all-nationality rows from 2 cohorts observed before "
                        f"the end of {cutoff}; found {len(overall)} rows from {overall['cohort'].nunique()} cohorts")
    first, last = int(overall["cohort"].min()), int(overall["cohort"].max())
    c, t, y = (overall[k].to_numpy(float) for k in ("cohort", "years_since_permit", "share_employed"))

    def res(p):
        return employment_share(t, cohort_t50(c, np.exp(p[0]), p[2], first, last), np.exp(p[1]), plateau) - y

    sol = least_squares(res, x0=[np.log(3.0), np.log(0.4), 0.05], bounds=([-3, -4, -1], [4, 2, 1]))
    t50, shape, k = float(np.exp(sol.x[0])), float(np.exp(sol.x[1])), float(sol.x[2])
    rmse = float(np.sqrt(np.mean(sol.fun ** 2)))

    # speed multipliers per nationality (rows of the 2014 table, in sample)
    nat_rows = df[(df["group"] != "all") & df["in_sample"]]
    base_t50 = float(cohort_t50(2014, t50, k, first, last))

    def speed_for(tt, yy):
        sol_g = least_squares(lambda p: employment_share(tt, base_t50 * np.exp(p[0]), shape, plateau) - yy,
                              x0=[0.0], bounds=([-4], [4]))
        return float(np.exp(sol_g.x[0]))

    nat_speed = {g: speed_for(r["years_since_permit"].to_numpy(float), r["share_employed"].to_numpy(float))
                 for g, r in nat_rows.groupby("group")}
    weights = _weights(folder)
    group_speed = {}
    for grp, nats in CHAIN_GROUP_NATIONALITIES.items():
        sub = nat_rows[nat_rows["group"].isin(nats)]
        if sub.empty:
            group_speed[grp] = 1.0
            continue
        w = sub["group"].map(weights).fillna(0.0)
        mix = (sub.assign(w=w, wy=w * sub["share_employed"]).groupby("years_since_permit")[["w", "wy"]].sum())
        group_speed[grp] = speed_for(mix.index.to_numpy(float), (mix["wy"] / mix["w"]).to_numpy(float))

    # predictions for every row (nationality rows with their own speed)
    speeds = df["group"].map(lambda g: 1.0 if g == "all" else nat_speed.get(g, 1.0)).to_numpy(float)
    pred = employment_share(df["years_since_permit"].to_numpy(float),
                            cohort_t50(df["cohort"].to_numpy(float), t50, k, first, last, speeds), shape, plateau)
    out = df.assign(predicted=pred, error_pp=100.0 * (pred - df["share_employed"].to_numpy(float)))
    log.info("employment fit (cut-off %d): t50_2014=%.3f shape=%.3f speedup=%.4f, in-sample RMSE %.2f pp",
             cutoff, t50, shape, k, 100 * rmse)
    return EmploymentFit(cutoff, plateau, t50, shape, k, first, last, nat_speed, group_speed, 100.0 * rmse, out)


# ----------------------------------------------------------------------------------------------
# benefits
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenefitFit:
    """Benefit-dependency link ``floor + (top - floor) * (1 - e / plateau) ** power``."""

    top: float
    floor: float
    power: float
    table: pd.DataFrame = field(repr=False)


def fit_benefits(emp: EmploymentFit, table: pd.DataFrame | None = None, *, floor: float = BENEFIT_FLOOR_ANCHOR,
                 folder: str | Path | None = None) -> BenefitFit:
    """Solve ``top`` and ``power`` from the in-sample 'receives_benefit' rows of the 2014 cohort
    (two points, an exact solve) with ``floor`` fixed; predict every row."""
    df = load_table("benefit_cohorts.csv", folder, _BENEFIT_COLUMNS) if table is None else table.copy()
    df["in_sample"] = _in_sample(df, emp.cutoff)
    fit_rows = df[df["in_sample"] & (df["measure"] == "receives_benefit")].sort_values("years_since_permit")
    if len(fit_rows) < 2:
        raise DataError(f"benefit fit: need two 'receives_benefit' rows observed before the end of {emp.cutoff}; "
                        f"found {len(fit_rows)}")
    e = emp.predict(fit_rows["cohort"].to_numpy(float), fit_rows["years_since_permit"].to_numpy(float))
    x = np.log(1.0 - e / emp.plateau)
    yb = fit_rows["share_on_benefit"].to_numpy(float) - floor
    if (yb <= 0).any():
        raise DataError(f"benefit fit: observed benefit shares must exceed the floor {floor}")
    # log(yb) = log(top - floor) + power * x  -> least squares line (exact for two points)
    power, intercept = np.polyfit(x, np.log(yb), 1)
    top = float(floor + np.exp(intercept))
    pred = benefit_share(emp.predict(df["cohort"].to_numpy(float), df["years_since_permit"].to_numpy(float)),
                         emp.plateau, top, floor, power)
    out = df.assign(predicted=pred, error_pp=100.0 * (pred - df["share_on_benefit"].to_numpy(float)))
    return BenefitFit(top, floor, float(power), out)


# ----------------------------------------------------------------------------------------------
# civic integration, Wi2013
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wi2013Fit:
    """Wi2013 regime: exempt share, eventual pass share of the non-exempt, lognormal time to pass."""

    exempt: float
    pass_share: float
    median_years: float
    sigma: float


def fit_wi2013(table: pd.DataFrame | None = None, *, cutoff: int = 2019, pass_share: float = WI2013_PASS_SHARE,
               folder: str | Path | None = None) -> Wi2013Fit:
    """Solve the lognormal time to pass [years since permit] through the two 2014-cohort points:
    ``passed(t) = (1 - exempt) * pass_share * F(t)``; ``exempt`` from the latest point."""
    df = load_table("civic_integration_wi2013.csv", folder, _WI2013_COLUMNS) if table is None else table.copy()
    df["observed_year"] = df["cohort"] + 0.5 + df["years_since_permit"]
    df = df[_in_sample(df, cutoff)].sort_values("years_since_permit")
    if len(df) < 2 or df["exempt"].dropna().empty:
        raise DataError(f"Wi2013 fit: need two points of one cohort (one with the exempt share) observed before "
                        f"the end of {cutoff}; found {len(df)}")
    exempt = float(df["exempt"].dropna().iloc[-1])
    f = df["passed"].to_numpy(float) / ((1.0 - exempt) * pass_share)
    if not ((f > 0) & (f < 1)).all():
        raise DataError("Wi2013 fit: passed shares must lie strictly between 0 and the eventual pass share")
    z = ndtri(f)
    lt = np.log(df["years_since_permit"].to_numpy(float))
    sigma = (lt[-1] - lt[0]) / (z[-1] - z[0])
    mu = lt[-1] - z[-1] * sigma
    return Wi2013Fit(exempt, float(pass_share), float(np.exp(mu)), float(sigma))


# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntegrationFit:
    """All fits of one cut-off."""

    employment: EmploymentFit
    benefits: BenefitFit
    wi2013: Wi2013Fit

    def validation_markdown(self) -> str:
        """The held-back rows as a Markdown table (observed vs predicted, error in share points)."""
        lines = ["| cohort | group | years since permit | observed in | published | observed | predicted | error (pp) |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in self.employment.validation.itertuples():
            lines.append(f"| {r.cohort} | {r.group} | {r.years_since_permit:g} | {r.observed_year:g} | {r.published} "
                         f"| {100 * r.share_employed:.1f} % | {100 * r.predicted:.1f} % | {r.error_pp:+.1f} |")
        return "\n".join(lines)


def fit_all(folder: str | Path | None = None, cutoff: int = 2019) -> IntegrationFit:
    """Employment, benefit and Wi2013 fits on the tables in ``folder`` (default: shipped)."""
    emp = fit_employment(cutoff=cutoff, folder=folder)
    return IntegrationFit(emp, fit_benefits(emp, folder=folder), fit_wi2013(cutoff=cutoff, folder=folder))

