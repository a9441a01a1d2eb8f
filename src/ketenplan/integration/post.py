"""Pillars 5 and 6 after the chain: a post-processor that turns one replicate's journeys into
work over time, civic integration, benefit dependency and cost (P6.3, P6.4), the regular
migration streams' waiting times and IND load (P5.1), and the Spreidingswet places beside the
housing task (P6.5); with its key figures and report sections.

Per replicate it builds the permit holders' case arrays (:func:`chain_cases`) from the journeys:

- permit day: the decision day of an asylum grant (first instance, appeal or after an LVV stay),
  the arrival day for nareis and resettlement (permit on arrival);
- housed day: the day housed by a municipality; nareis who join their sponsor live in the
  sponsor's home from arrival; not housed within the horizon: -1;
- wait: registration to decision for the asylum streams (0 for nareis and resettlement), and the
  days in reception after the permit (to the end of the horizon when not housed: censored);
- nationality group: the scenario group's recognition band (``Group.band``), the key of the
  employment model's speeds.

and runs :func:`~ketenplan.integration.employment.employment_over_time` and
:func:`~ketenplan.integration.civic.civic_integration` on them, so a faster chain (shorter
wait and stay in reception) shows in employment through the waiting effect and in civic
integration through the earlier start. Everything is an expected value given the replicate's
journeys; the bands across replicates come from the chain's own randomness.

Per replicate the tables come from one compiled pass over the replicate's case arrays
(:mod:`ketenplan.integration.fast`, P0.1) that applies these definitions and sums what the model
functions sum; :func:`chain_cases` and :func:`ind_load` on the journeys frame and the model
functions are the reference it is tested against (tests/integration/test_integration_fast.py).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ketenplan.engine import registry as R
from ketenplan.engine.results import KPI
from ketenplan.integration.cases import (DEFAULT_GROUP_NAMES, DEFAULT_STREAM_NAMES, IND_STREAMS, PERMIT_OUTCOMES,
                                         REGULAR_STREAMS)

log = logging.getLogger(__name__)

__all__ = ["chain_cases", "run", "run_columns", "KPIS", "report", "REGULAR_STREAMS"]

_DAYS_PER_YEAR = 365.25

KPIS: tuple[KPI, ...] = (
    KPI("regular_decision_weeks", "P5", "weeks", "Regular decision time",
        "application to decision, regular applications (work, knowledge, study, family) decided in the period",
        ("ind",)),
    KPI("regular_grants_per_year", "P5", "persons/year", "Regular permits", "regular residence permits granted",
        ("ind",)),
    KPI("circular_workers_mean", "P5", "persons", "Circular labour migrants at work",
        "circular labour migrants in the Netherlands, mean over the days", ()),
    KPI("employment_3y_share", "P6", "share", "In work 3 years after the permit",
        "expected share of working-age permit holders (permits in the period) in paid work 3 years after the "
        "permit, waiting effect included", ("municipalities",)),
    KPI("waiting_factor_mean", "P6", "-", "Waiting-effect factor",
        "mean multiplier of later employment for the wait and stay in reception beyond the fitted cohorts' "
        "(1 = as the 2014-2017 cohorts)", ("municipalities",)),
    KPI("civic_years_to_pass", "P6", "years", "Time to pass civic integration",
        "expected years from permit to passing, obliged who pass, permits in the period", ("municipalities",)),
    KPI("civic_years_from_application", "P6", "years", "Application to passing civic integration",
        "expected years from the asylum application (arrival for nareis and resettlement) to passing: the wait for "
        "the decision plus the time from permit to passing, permits in the period", ("ind", "municipalities")),
    KPI("civic_passed_3y_share", "P6", "share", "Civic integration passed within 3 years",
        "share of the obliged (permits in the period) who pass within 3 years of the permit", ("municipalities",)),
    KPI("benefit_share_end", "P6", "share", "On benefits at the end",
        "housed working-age permit holders on social assistance, last month", ("municipalities",)),
    KPI("reception_years", "P6", "person-years", "Reception-years",
        "person-years in COA reception (emergency places included) over the period", ("coa",)),
    KPI("benefit_cost_per_year", "P6", "EUR million/year", "Benefit cost",
        "social assistance of housed permit holders not in work", ("municipalities",)),
    KPI("civic_cost_per_year", "P6", "EUR million/year", "Civic integration cost",
        "integration routes started", ("municipalities",)),
    KPI("chain_total_cost_per_year", "P6", "EUR million/year", "Total cost (reception, benefits, civic integration)",
        "reception at the regular and emergency price + benefits + civic integration routes", ()),
)


# ----------------------------------------------------------------------------------------------
# the permit holders of a replicate as integration cases
# ----------------------------------------------------------------------------------------------
def _days(dates: pd.Series, day0: np.datetime64) -> np.ndarray:
    """Grid days of a datetime column (-1 where missing)."""
    d = dates.to_numpy("datetime64[D]")
    out = (d - day0).astype("timedelta64[D]").astype(np.int64)
    return np.where(np.isnat(d), -1, out)


def chain_cases(j: pd.DataFrame, day0, horizon_days: int, bands: dict[str, str]) -> dict:
    """The permit holders of a journeys frame as the integration models' case dict.

    ``bands`` maps the scenario's group names to the employment model's nationality groups
    (recognition bands). See the module docstring for the definitions.
    """
    keep = j["outcome"].isin(PERMIT_OUTCOMES).to_numpy() & j["stream"].isin(DEFAULT_STREAM_NAMES).to_numpy()
    j = j[keep]
    d0 = np.datetime64(day0, "D")
    permit = _days(j["decision_date"], d0)
    arrival = _days(j["arrival_date"], d0)
    permit = np.where(permit < 0, arrival, permit)
    housed = _days(j["housed_date"], d0)
    joined = (j["exit_reason"] == "joined_sponsor").to_numpy()
    housed = np.where(joined & (housed < 0), permit, housed)
    housed = np.where((housed >= 0) & (housed < permit), permit, housed)
    after = np.where(housed >= 0, housed - permit, np.maximum(horizon_days - permit, 0))
    asylum = j["stream"].isin(("first", "subsequent")).to_numpy()
    reg = _days(j["registration_date"], d0)
    wait = np.where(asylum & (reg >= 0), np.maximum(permit - reg, 0), 0)
    gidx = {g: i for i, g in enumerate(DEFAULT_GROUP_NAMES)}
    group = _lookup(j["group"], lambda g: gidx[bands.get(g, "low")])
    sidx = {s: i for i, s in enumerate(DEFAULT_STREAM_NAMES)}
    return {"permit_day": permit, "housed_day": housed, "reception_days_after_permit": after.astype(float),
            "wait_days": wait.astype(float), "group": group, "adults": j["adults"].to_numpy(float),
            "children": j["children"].to_numpy(float), "stream": _lookup(j["stream"], sidx.__getitem__),
            "day0": day0, "horizon_days": int(horizon_days)}


def _lookup(col: pd.Series, index_of) -> np.ndarray:
    """``index_of(str(value))`` for every value of a column, as int64 (a missing value reads
    'nan'): once per category when the column is categorical (a journeys frame), else per row."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        labels = [str(v) for v in col.cat.categories] + ["nan"]  # code -1 (missing): the last
        lut = np.zeros(len(labels), np.int64)
        known = np.zeros(len(labels), np.bool_)
        for k, label in enumerate(labels):
            try:
                lut[k], known[k] = index_of(label), True
            except KeyError:
                pass  # a category no row may use; if one does, the per-row path raises
        if known[codes].all():
            return lut[codes]
    return np.array([index_of(v) for v in col.astype(str)], dtype=np.int64)


def _bands(scenario) -> dict[str, str]:
    return {g.name: g.band for g in scenario.groups}


# ----------------------------------------------------------------------------------------------
# P5: regular streams and IND load
# ----------------------------------------------------------------------------------------------
def _month_start(dates: pd.Series) -> pd.Series:
    """The first day of each date's month, missing dates missing: ``dt.to_period("M").dt.to_timestamp()``
    without building periods (a tenth of the time on a replicate's journeys)."""
    months = dates.to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    return pd.Series(months, index=dates.index, name=dates.name)


def ind_load(j: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Per month and IND stream (asylum first instance, subsequent, the regular purposes):
    applications (registrations), decisions and the mean weeks from application to decision of the
    decisions in the month [persons; weeks]."""
    j = j[j["stream"].isin(IND_STREAMS).to_numpy()]
    reg = j["registration_date"]
    dec = j["decision_date"]
    w = j["persons"].astype(float)
    stream = j["stream"].astype(str)
    a = pd.DataFrame({"month": _month_start(reg), "stream": stream,
                      "persons": w})
    a = a[a["month"] >= start].groupby(["month", "stream"])["persons"].sum().rename("applications")
    dd = dec.notna() & reg.notna()
    weeks = (dec[dd] - reg[dd]).dt.days / 7.0
    d = pd.DataFrame({"month": _month_start(dec[dd]), "stream": stream[dd],
                      "persons": w[dd], "pw": w[dd] * weeks})
    d = d[d["month"] >= start].groupby(["month", "stream"])[["persons", "pw"]].sum()
    d["decision_weeks"] = d["pw"] / d["persons"].where(d["persons"] > 0)
    out = pd.concat([a, d.rename(columns={"persons": "decisions"})[["decisions", "decision_weeks"]]], axis=1)
    out[["applications", "decisions"]] = out[["applications", "decisions"]].fillna(0.0)
    return out.reset_index()


# ----------------------------------------------------------------------------------------------
# the post-processor
# ----------------------------------------------------------------------------------------------
def _spreiding_table(out, scenario) -> pd.DataFrame:
    """Spreidingswet places per municipality beside the run's mean housing task per half-year,
    distributed by population like the taakstelling (P6.5)."""
    from ketenplan.engine.results import tidy_housing
    from ketenplan.integration.spreiding import spreidingswet_key
    from ketenplan.placement.taakstelling import housing_task

    key = spreidingswet_key(scenario.spreiding)
    h = tidy_housing(out)
    mean_task = int(round(float(h["task"].mean()))) if len(h) else 0
    period = str(h["period"].iloc[0]) if len(h) else f"{scenario.simulation.start.year}-H1"
    task = housing_task(mean_task, period)[["municipality", "quota"]].rename(
        columns={"quota": "housing_task_per_half_year"})
    df = key.merge(task, on="municipality", how="left")
    df.insert(0, "replicate", np.int32(out.replicate))
    return df[["replicate", "municipality", "province", "population", "share", "places", "amv_places",
               "housing_task_per_half_year"]]


def run(out, scenario, seed: int) -> dict:
    """Integration tables and key figures of one replicate (see the module docstring).

    The tables come from one compiled pass over the replicate's cases
    (:func:`ketenplan.integration.fast.replicate_columns`), here as frames (:func:`run_columns`
    gives them as NumPy columns); :func:`chain_cases`, :func:`ind_load` and the model functions it
    sums are the reference it is tested against."""
    return {k: pd.DataFrame(v) if isinstance(v, dict) and k != "kpis" else v
            for k, v in run_columns(out, scenario, seed).items()}


def run_columns(out, scenario, seed: int) -> dict:
    """:func:`run` with the integration tables as NumPy columns ({column: array}; the Spreidingswet
    table as a frame): the same columns, types, rows and key figures."""
    from ketenplan.integration.fast import replicate_columns

    c = out.compiled
    g = c.grid
    si = g.start_index
    years = (g.T - si) / _DAYS_PER_YEAR
    start = np.datetime64(pd.Timestamp(g.start).as_unit("ns"))
    rt = replicate_columns(out, scenario)
    rep = np.int32(out.replicate)
    # the months from the start on (the months ascend)
    first = int(np.searchsorted(rt.monthly["month"], start))
    monthly = {"replicate": np.full(len(rt.monthly["month"]) - first, rep)}
    monthly.update({k: a[first:] for k, a in rt.monthly.items()})
    cohorts = {"replicate": np.full(len(rt.cohorts["cohort"]), rep)}
    cohorts.update(rt.cohorts)
    load = {"replicate": np.full(len(rt.ind_load["month"]), rep)}
    load.update(rt.ind_load)

    # key figures over the permits of the reported period
    first_year = pd.Timestamp(g.start).year
    keep = rt.cohorts["cohort"] >= first_year
    w = rt.cohorts["working_age"][keep]
    ob = rt.cohorts["obliged"][keep]
    passed3 = rt.cohorts["passed_within_3y"][keep]
    passers = ob * passed3  # weights for the years to pass
    yrs = rt.cohorts["years_to_pass"][keep]
    good = np.isfinite(yrs) & (ob > 0)

    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    coa = R.derived_stock("coa_occupancy", ss, ls)
    emergency = ls[:, R.LOC["emergency"]]
    reception_eur = float(((coa - emergency) * scenario.reception.cost_regular
                           + emergency * scenario.reception.cost_emergency).sum())
    benefit_eur = _skipna_sum(monthly["benefit_cost_eur"])
    civic_eur = _skipna_sum(monthly["route_cost_eur"])
    hw = monthly["housed_working_age"]

    def wmean(x, wt) -> float:
        return float(np.average(x, weights=wt)) if len(wt) and wt.sum() > 0 else float("nan")

    def ratio(sums: tuple[float, float]) -> float:
        return sums[1] / sums[0] if sums[0] > 0 else float("nan")

    kpis = {
        # regular applications decided from the start on: weeks from application to decision
        "regular_decision_weeks": ratio(rt.regular_decisions),
        "regular_grants_per_year": float(out.flows[si:, R.FLOW["regular_grants"]].sum() / years),
        "circular_workers_mean": float(R.derived_stock("circular_workers", ss, ls).mean()),
        "employment_3y_share": wmean(rt.cohorts["employed_3y"][keep], w),
        "waiting_factor_mean": ratio((rt.waiting[1], rt.waiting[0])),
        "civic_years_to_pass": wmean(yrs[good], (passers[good] if passers[good].sum() > 0 else ob[good])),
        "civic_years_from_application": wmean(
            yrs[good] + rt.cohorts["mean_wait_days"][keep][good] / _DAYS_PER_YEAR,
            (passers[good] if passers[good].sum() > 0 else ob[good])),
        "civic_passed_3y_share": wmean(passed3, ob),
        "benefit_share_end": float(monthly["on_benefits"][-1] / hw[-1]) if len(hw) and hw[-1] > 0 else float("nan"),
        "reception_years": float(coa.sum() / _DAYS_PER_YEAR),
        "benefit_cost_per_year": benefit_eur / years / 1e6,
        "civic_cost_per_year": civic_eur / years / 1e6,
        "chain_total_cost_per_year": (reception_eur + benefit_eur + civic_eur) / years / 1e6,
    }
    tables = {"integration_monthly": monthly, "integration_cohorts": cohorts, "ind_load": load, "kpis": kpis}
    if out.replicate == 0:
        tables["spreidingswet"] = _spreiding_table(out, scenario)
    return tables


def _skipna_sum(a: np.ndarray) -> float:
    """``pd.Series(a).sum()``: the sum with missing values as 0."""
    nan = np.isnan(a)
    return float((np.where(nan, 0.0, a) if nan.any() else a).sum())


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def _band_fig(df: pd.DataFrame, x: str, y: str, title: str, yaxis: str, by: str | None = None):
    """Median and p10-p90 over replicates of ``y`` per ``x`` (one band per ``by`` value)."""
    groups = [(None, df)] if by is None else list(df.groupby(by, observed=True))
    return _quantile_fig([(name, d.groupby(x)[y].quantile([0.1, 0.5, 0.9]).unstack()) for name, d in groups],
                         title, yaxis)


def _quantile_fig(groups: list, title: str, yaxis: str):
    """Median and p10-p90 bands from ``[(name or None, frame of quantiles 0.1 / 0.5 / 0.9 per x)]``."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, q in groups:
        if q.empty:
            continue
        label = "" if name is None else f"{name} "
        fig.add_scatter(x=q.index, y=q[0.9], mode="lines", line=dict(width=0), showlegend=False, name=f"{label}p90")
        fig.add_scatter(x=q.index, y=q[0.1], mode="lines", line=dict(width=0), fill="tonexty", opacity=0.3,
                        showlegend=False, name=f"{label}p10")
        fig.add_scatter(x=q.index, y=q[0.5], mode="lines", name=f"{label}median")
    fig.update_layout(title=title, yaxis_title=yaxis, template="plotly_white", height=380)
    return fig


def report(res) -> dict[str, list]:
    """P5: IND load and waiting times by stream, resettlement, circular places; P6: employment,
    civic integration and benefits over time with bands, employment by cohort, Spreidingswet note."""
    out: dict[str, list] = {"P5": [], "P6": []}
    tables = res.source.tables()
    # quantiles over the replicates in DuckDB: no table of every replicate is read into pandas (the
    # IND load of a 1,000-replicate run is 3.7 million rows)

    def bands(table, x, y, by=None, **kw):
        q = res.band_quantiles(table, x, y, by=by, **kw)
        return [(None, q)] if by is None else [(k, g.droplevel(0)) for k, g in q.groupby(level=0, sort=False)]

    if "ind_load" in tables:
        out["P5"].append(_quantile_fig(bands("ind_load", "month", "decisions", by="stream"),
                                       "IND decisions per month by stream (median and p10-p90)", "persons/month"))
        regular = ", ".join(f"'{s}'" for s in REGULAR_STREAMS)
        out["P5"].append(_quantile_fig(bands("ind_load", "month", "decision_weeks", by="stream",
                                             where=f"stream IN ({regular})"),
                                       "Regular migration: weeks from application to decision (decisions in the "
                                       "month)", "weeks"))
    if "stocks" in tables:
        q = res.band_quantiles("stocks", "date", "persons",
                               where="dimension = 'derived' AND category = 'circular_workers'")
        if not q.empty:
            out["P5"].append(_quantile_fig([(None, q)], "Circular labour migrants at work (places used)", "persons"))
    if "flows" in tables:
        q = res.band_quantiles("flows", "date", "persons", where="flow = 'resettled'")
        if not q.empty:
            out["P5"].append(_quantile_fig([(None, q)], "Resettled refugees arriving per month", "persons/month"))
    if "integration_monthly" in tables:
        out["P6"].append(_quantile_fig(bands("integration_monthly", "month", "employment_rate"),
                                       "Working-age permit holders in paid work (expected share; median and "
                                       "p10-p90)", "share"))
        # a share is left out where its denominator is not positive (as pandas' division by .where(> 0))
        out["P6"].append(_quantile_fig(bands("integration_monthly", "month", "passed_share",
                                             value="CASE WHEN obliged > 0 THEN passed / obliged END"),
                                       "Civic integration: obliged who passed", "share"))
        out["P6"].append(_quantile_fig(bands("integration_monthly", "month", "benefit_share",
                                             value="CASE WHEN housed_working_age > 0 THEN on_benefits / "
                                                   "housed_working_age END"),
                                       "Housed working-age permit holders on benefits", "share"))
    c = res.table("integration_cohorts")
    if not c.empty:
        out["P6"].append(_band_fig(c, "cohort", "employed_3y", "In work 3 years after the permit, by permit cohort "
                                   "(waiting effect included)", "share"))
    sp = res.table("spreidingswet")
    if not sp.empty:
        prov = sp.groupby("province")[["places", "amv_places", "housing_task_per_half_year"]].sum()
        rows = "".join(f"<tr><td>{p}</td><td>{int(r.places):,}</td><td>{int(r.amv_places):,}</td>"
                       f"<td>{int(r.housing_task_per_half_year):,}</td></tr>" for p, r in prov.iterrows())
        out["P6"].append("<p>Spreidingswet (P6.5): reception places per province by the population key "
                         f"({int(prov.places.sum()):,} places), beside the run's mean housing task per half-year "
                         "(replicate 0); per municipality in <code>spreidingswet.parquet</code>.</p>"
                         "<table><tr><th>province</th><th>places</th><th>of which AMV</th>"
                         f"<th>housing task / half-year</th></tr>{rows}</table>")
    return out


#: what ``ketenplan.post`` registers (a plain record, as ``ketenplan.returns.post.SPEC``: no import back up)
SPEC = dict(description="work over time with the waiting effect, civic integration, benefits and cost of permit "
                        "holders; regular streams' IND load; Spreidingswet places (P5.1-P5.3, P6.3-P6.5)",
            run=run, replicates="all", kpis=KPIS, report=report, columns=run_columns)

