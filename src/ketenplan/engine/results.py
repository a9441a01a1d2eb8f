"""Results: labelled, tidy tables with metadata, built from the kernel's raw arrays.

Nobody parses printed rows: every table has named dimensions (replicate, date, dimension,
category, ...) and the object carries the package version, the scenario hash and the seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ketenplan import __version__
from ketenplan.engine import kernel as K
from ketenplan.engine.run import ReplicateOutput
from ketenplan.scenario.schema import Scenario

# stocks that make up COA reception (persons in a reception place, emergency included)
COA_LOCS = [K.LOC_CENTRAL, K.LOC_REGULAR, K.LOC_SMALL, K.LOC_RESTRICTED, K.LOC_EMERGENCY]
PENDING_STAGES = [K.DUBLIN, K.WAIT_DECISION, K.PROCEDURE, K.VA]
PERMIT_STAGES = [K.PERMIT_LEAD, K.HOUSING_QUEUE]

# KPI -> pillar (the single mapping that feeds the report)
KPI_TABLE = [
    # name, pillar, unit, description
    ("arrivals_per_year", "P1", "persons/year", "all arrivals (first, subsequent, nareis, resettlement)"),
    ("first_applications_per_year", "P1", "persons/year", "first asylum applications"),
    ("nareis_per_year", "P1", "persons/year", "family reunification arrivals (follow grants)"),
    ("waiting_registration_peak", "P3", "persons", "peak number waiting for registration"),
    ("coa_occupancy_peak", "P3", "persons", "peak persons in COA reception (emergency included)"),
    ("coa_occupancy_mean", "P3", "persons", "mean persons in COA reception"),
    ("emergency_occupancy_peak", "P3", "persons", "peak persons in emergency places"),
    ("shortage_days", "P3", "days", "days with anyone in an emergency place (no regular bed)"),
    ("reception_cost_per_year", "P3", "EUR million/year", "reception cost at regular and emergency prices"),
    ("ind_pending_end", "P3", "persons", "first-instance applications without a decision on the last day"),
    ("decision_time_general_weeks", "P3", "weeks", "registration to first-instance decision, general track"),
    ("decision_time_safe_weeks", "P3", "weeks", "registration to decision, safe-country track"),
    ("decision_time_dublin_weeks", "P3", "weeks", "registration to transfer or absconding, Dublin track"),
    ("statutory_breach_share", "P3", "share", "decisions after the statutory period"),
    ("moves_per_person", "P3", "moves/person", "moves between reception locations, cases that left reception"),
    ("moves_per_school_child", "P3", "moves/person", "the same, for school-age children"),
    ("departures_independent_per_year", "P4", "persons/year", "independent (recorded) departures"),
    ("departures_forced_per_year", "P4", "persons/year", "forced departures"),
    ("departures_unsupervised_per_year", "P4", "persons/year", "departures without supervision"),
    ("without_residence_right_mean", "P4", "persons", "rejected persons awaiting departure outside reception"),
    ("resettled_per_year", "P5", "persons/year", "resettled refugees (straight to a municipality)"),
    ("permits_per_year", "P6", "persons/year", "asylum permits (first instance and appeal)"),
    ("housed_per_year", "P6", "persons/year", "permit holders housed in a municipality"),
    ("permit_holders_in_reception_mean", "P6", "persons", "permit holders waiting in reception"),
    ("housing_wait_weeks", "P6", "weeks", "permit to housing, permit holders housed in the period"),
    ("housing_backlog_end", "P6", "persons", "housing task not realised, carried into the next half-year"),
]
KPI_PILLAR = {k: p for k, p, _, _ in KPI_TABLE}


@dataclass
class Results:
    """Labelled result tables of one scenario run (all replicates) with metadata."""

    scenario: Scenario
    metadata: dict
    stocks: pd.DataFrame  # replicate, date, dimension (stage|location), category, persons
    flows: pd.DataFrame  # replicate, date, flow, persons
    housing: pd.DataFrame  # replicate, period, task, backlog_in, realised, granted
    journeys: pd.DataFrame  # per case (replicates as kept)
    kpis: pd.DataFrame  # replicate, pillar, kpi, unit, value
    extras: dict = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.metadata["seed"])

    def kpi_summary(self) -> pd.DataFrame:
        """KPIs across replicates: mean, p10, p50, p90."""
        g = self.kpis.groupby(["pillar", "kpi", "unit"], sort=False)["value"]
        out = pd.DataFrame({"mean": g.mean(), "p10": g.quantile(0.1), "p50": g.median(), "p90": g.quantile(0.9)})
        return out.reset_index()

    def stock(self, dimension: str, category: str) -> pd.DataFrame:
        """One stock as a wide frame: rows = dates, columns = replicates."""
        s = self.stocks[(self.stocks.dimension == dimension) & (self.stocks.category == category)]
        return s.pivot(index="date", columns="replicate", values="persons")

    def to_parquet(self, folder: str | Path) -> list[Path]:
        """Write every table as Parquet (atomically) and the metadata as JSON."""
        import json

        from ketenplan._io import write_parquet, write_text

        folder = Path(folder)
        paths = []
        for name in ("stocks", "flows", "housing", "journeys", "kpis"):
            paths.append(write_parquet(folder / f"{name}.parquet", getattr(self, name)))
        for name, value in self.extras.items():  # post-processed tables, e.g. placement_by_period
            if isinstance(value, pd.DataFrame):
                paths.append(write_parquet(folder / f"{name}.parquet", value))
        paths.append(write_text(folder / "metadata.json", json.dumps(self.metadata, indent=2, default=str)))
        return paths


def _dates(out: ReplicateOutput) -> pd.DatetimeIndex:
    return out.compiled.grid.dates()[out.compiled.grid.start_index:]


def tidy_stocks(out: ReplicateOutput) -> pd.DataFrame:
    si = out.compiled.grid.start_index
    dates = _dates(out)
    frames = []
    for dim, arr, names in (("stage", out.stage_stock[si:, 1:K.EXITED], K.STAGE_NAMES[1:K.EXITED]),
                            ("location", out.loc_stock[si:], K.LOC_NAMES)):
        n_t, n_k = arr.shape
        frames.append(pd.DataFrame({
            "replicate": np.int32(out.replicate), "date": np.repeat(dates.values, n_k),
            "dimension": dim, "category": np.tile(np.array(names, dtype=object), n_t),
            "persons": arr.reshape(-1).astype(np.int64)}))
    # derived stocks used across the product
    coa = out.loc_stock[si:, COA_LOCS].sum(axis=1)
    pend = out.stage_stock[si:, PENDING_STAGES].sum(axis=1)
    perm = out.stage_stock[si:, PERMIT_STAGES].sum(axis=1)
    pend_all = pend + out.stage_stock[si:, K.APPEAL]  # first instance or appeal (UNHCR's "asylum-seekers")
    for cat, arr in (("coa_occupancy", coa), ("ind_pending", pend), ("permit_holders_in_reception", perm),
                     ("asylum_pending_all_levels", pend_all)):
        frames.append(pd.DataFrame({"replicate": np.int32(out.replicate), "date": dates.values,
                                    "dimension": "derived", "category": cat, "persons": arr.astype(np.int64)}))
    df = pd.concat(frames, ignore_index=True)
    for c in ("dimension", "category"):
        df[c] = df[c].astype("category")
    return df


def tidy_flows(out: ReplicateOutput) -> pd.DataFrame:
    si = out.compiled.grid.start_index
    dates = _dates(out)
    arr = out.flows[si:]
    n_t, n_k = arr.shape
    df = pd.DataFrame({"replicate": np.int32(out.replicate), "date": np.repeat(dates.values, n_k),
                       "flow": np.tile(np.array(K.FLOW_NAMES, dtype=object), n_t),
                       "persons": arr.reshape(-1).astype(np.int64)})
    df["flow"] = df["flow"].astype("category")
    return df


def tidy_housing(out: ReplicateOutput) -> pd.DataFrame:
    hb = out.half_book
    df = pd.DataFrame({"replicate": out.replicate, "period": out.compiled.half_labels, "task": hb[:, K.H_TASK],
                       "backlog_in": hb[:, K.H_BACKLOG_IN], "realised": hb[:, K.H_REALISED],
                       "granted": hb[:, K.H_GRANTED]})
    start = out.compiled.grid.start
    first = f"{start.year}-H{1 if start.month <= 6 else 2}"
    return df[df.period >= first].reset_index(drop=True)


def journeys(out: ReplicateOutput) -> pd.DataFrame:
    """One row per case that arrived within the horizon (warm-up arrivals included, flagged)."""
    c = out.compiled
    r = out.case
    T = c.grid.T
    arrived = (r["arrival_day"] >= 0) & (r["arrival_day"] < T)
    idx = np.flatnonzero(arrived)
    day0 = np.datetime64(c.grid.day0, "D")

    def as_date(a):
        a = a[idx]
        return np.where(a >= 0, day0 + a.astype("timedelta64[D]"), np.datetime64("NaT"))

    size = c.case["size"][idx]
    kids = c.case["children"][idx]
    df = pd.DataFrame({
        "replicate": np.int32(out.replicate), "case_id": idx.astype(np.int64), "persons": size.astype(np.int16),
        "adults": (size - kids).astype(np.int16), "children": kids.astype(np.int16),
        "group": pd.Categorical.from_codes(c.case["group"][idx], categories=list(c.group_names)),
        "stream": pd.Categorical.from_codes(c.case["stream"][idx], categories=list(K.STREAM_NAMES)),
        "track": pd.Categorical.from_codes(c.case["track"][idx], categories=list(K.TRACK_NAMES)),
        "routed_small_scale": c.case["routed"][idx],
        "arrival_date": as_date(r["arrival_day"]), "registration_date": as_date(r["reg_day"]),
        "decision_date": as_date(r["decision_day"]),
        "outcome": pd.Categorical.from_codes(r["outcome"][idx], categories=list(K.OUTCOME_NAMES)),
        "housed_date": as_date(r["housed_day"]), "exit_date": as_date(r["exit_day"]),
        "exit_reason": pd.Categorical.from_codes(r["exit_reason"][idx], categories=list(K.EXIT_NAMES)),
        "moves": r["moves"][idx].astype(np.int16), "reception_days": r["reception_days"][idx].astype(np.int32),
        "statutory_breach": r["breach"][idx].astype(bool),
        "warmup": r["arrival_day"][idx] < c.grid.start_index,
    })
    return df


def kpis(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Key figures of one replicate over the reported period (start..end)."""
    c = out.compiled
    si = c.grid.start_index
    years = (c.grid.T - si) / 365.25
    fl = out.flows[si:]
    ss = out.stage_stock[si:]
    ls = out.loc_stock[si:]
    r = out.case
    cs = c.case
    coa = ls[:, COA_LOCS].sum(axis=1)

    def per_year(col: int) -> float:
        return float(fl[:, col].sum() / years)

    # decision times per track, for decisions in the reported period
    dec = r["decision_day"]
    reg = r["reg_day"]
    size = cs["size"]
    in_period = (dec >= si) & (reg >= 0)

    def mean_weeks(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        w = size[mask]
        return float(np.average((a[mask] - b[mask]) / 7.0, weights=w)) if w.sum() > 0 else float("nan")

    asylum = (cs["stream"] == K.STREAM_FIRST) | (cs["stream"] == K.STREAM_SUBSEQUENT)
    dt_general = mean_weeks(in_period & asylum & (cs["track"] == K.TRACK_GENERAL), dec, reg)
    dt_safe = mean_weeks(in_period & (cs["track"] == K.TRACK_SAFE), dec, reg)
    dt_dublin = mean_weeks(in_period & (cs["track"] == K.TRACK_DUBLIN), dec, reg)
    decided = in_period & asylum
    def ratio(num: float, den: float) -> float:  # n/a (NaN) when nobody is counted, like the mean times
        return float(num / den) if den > 0 else float("nan")

    breach_share = ratio((r["breach"][decided] * size[decided]).sum(), size[decided].sum())
    left = (r["exit_day"] >= si) & (r["reg_day"] >= 0)
    moves_pp = ratio((r["moves"][left] * size[left]).sum(), size[left].sum())
    kids = cs["children"]
    moves_child = ratio((r["moves"][left] * kids[left]).sum(), kids[left].sum())
    housed = (r["housed_day"] >= si) & (r["decision_day"] >= 0) & (cs["stream"] != K.STREAM_RESETTLEMENT)
    hw = mean_weeks(housed, r["housed_day"], r["decision_day"])
    cost = (coa - ls[:, K.LOC_EMERGENCY]) * scenario.reception.cost_regular + \
        ls[:, K.LOC_EMERGENCY] * scenario.reception.cost_emergency
    last_half = out.half_book[-1]
    values = {
        "arrivals_per_year": per_year(K.F_ARRIVALS),
        "first_applications_per_year": float(size[(cs["stream"] == K.STREAM_FIRST) & (r["arrival_day"] >= si)
                                                  & (r["arrival_day"] < c.grid.T)].sum() / years),
        "nareis_per_year": per_year(K.F_NAREIS_ARRIVALS),
        "waiting_registration_peak": float(ss[:, K.WAIT_REG].max()),
        "coa_occupancy_peak": float(coa.max()),
        "coa_occupancy_mean": float(coa.mean()),
        "emergency_occupancy_peak": float(ls[:, K.LOC_EMERGENCY].max()),
        "shortage_days": float((ls[:, K.LOC_EMERGENCY] > 0).sum()),
        "reception_cost_per_year": float(cost.sum() / years / 1e6),
        "ind_pending_end": float(ss[-1, PENDING_STAGES].sum()),
        "decision_time_general_weeks": dt_general,
        "decision_time_safe_weeks": dt_safe,
        "decision_time_dublin_weeks": dt_dublin,
        "statutory_breach_share": breach_share,
        "moves_per_person": moves_pp,
        "moves_per_school_child": moves_child,
        "departures_independent_per_year": per_year(K.F_DEP_INDEPENDENT),
        "departures_forced_per_year": per_year(K.F_DEP_FORCED),
        "departures_unsupervised_per_year": per_year(K.F_DEP_UNSUPERVISED),
        "without_residence_right_mean": float(ss[:, [K.RETURN_OUTSIDE, K.DETENTION]].sum(axis=1).mean()),
        "resettled_per_year": float(size[(cs["stream"] == K.STREAM_RESETTLEMENT) & (r["arrival_day"] >= si)
                                         & (r["arrival_day"] < c.grid.T)].sum() / years),
        "permits_per_year": per_year(K.F_GRANTS),
        "housed_per_year": per_year(K.F_HOUSED),
        "permit_holders_in_reception_mean": float(ss[:, PERMIT_STAGES].sum(axis=1).mean()),
        "housing_wait_weeks": hw,
        "housing_backlog_end": float(max(last_half[K.H_TASK] + last_half[K.H_BACKLOG_IN] - last_half[K.H_REALISED],
                                         0.0)),
    }
    rows = [(out.replicate, p, k, u, values[k]) for k, p, u, _ in KPI_TABLE]
    return pd.DataFrame(rows, columns=["replicate", "pillar", "kpi", "unit", "value"])


def build_results(scenario: Scenario, outs: list[ReplicateOutput], seed: int, backend: str,
                  keep_journeys: str = "first", extras: dict | None = None) -> Results:
    outs = sorted(outs, key=lambda o: o.replicate)
    keep = outs if keep_journeys == "all" else outs[:1] if keep_journeys == "first" else []
    meta = {
        "package": "ketenplan", "version": __version__, "scenario": scenario.name,
        "scenario_hash": scenario.digest(), "seed": int(seed), "replicates": len(outs), "backend": backend,
        "start": str(scenario.simulation.start), "end": str(scenario.simulation.end),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cases_simulated": int(sum(o.compiled.n_cases for o in outs)),
        "persons_arrived": int(sum(o.flows[:, K.F_ARRIVALS].sum() for o in outs)),
    }
    return Results(
        scenario=scenario, metadata=meta,
        stocks=pd.concat([tidy_stocks(o) for o in outs], ignore_index=True),
        flows=pd.concat([tidy_flows(o) for o in outs], ignore_index=True),
        housing=pd.concat([tidy_housing(o) for o in outs], ignore_index=True),
        journeys=pd.concat([journeys(o) for o in keep], ignore_index=True) if keep else journeys(outs[0]).iloc[:0],
        kpis=pd.concat([kpis(o, scenario) for o in outs], ignore_index=True),
        extras=extras or {},
    )
