"""Pillar-4 and border outputs of a run (P4.1-P4.5, P1.2): a post-processor on each replicate.

Tables (each with a ``replicate`` column; read them with ``Results.table(name)``):

* ``p4_departures``: year, group, outcome (independent, forced, unsupervised, still_present),
  persons. Departures come from the per-case exit (reason and day, persons = case size), so per
  outcome they sum to the engine's departure flows over the reported period. ``still_present``:
  persons of cases whose final outcome is a rejection (or inadmissibility), decided on or before
  31 December, with no recorded exit by then (in the return process, LVV, detention, waiting until
  18, outside reception; a case still in appeal counts too) [persons at year end].
* ``p4_facilities``: year, facility (detention, lvv), places, mean_occupancy, peak_occupancy
  [persons], place_days, cost_eur_million (occupied place-days x the section's
  ``cost_per_place_day``), entries [persons/year] and the published reference (detention
  placements, LVV intake, detention occupancy) beside them.
* ``p4_minors``: year, unaccompanied-minor (AMV) arrivals, their share of first applications and
  the published share of that period, decisions (granted, rejected), guardian, reception type
  (Nidos foster family below ``foster_family_below_age``, COA small living units above it), the
  rejected waiting in reception until 18, those ageing out, and the published disappearances.
* ``p4_without_residence``: month, the stock awaiting departure (the engine's derived stock
  ``without_residence``), in the LVV, minors waiting until 18, departures without supervision
  since the start (cumulative), and ``stock`` = awaiting + LVV [persons, last day of the month].
* ``p4_without_residence_by_region``: the year-end stock by region, with its key (see
  :data:`REGION_KEY`).
* ``p4_reference``: the published national estimates of people without a right of residence.
* ``border_waits``, ``border_staffing`` (first replicate only): the default Schiphol entry day of
  the ``border`` section and the desks and eGates per hour that keep the p90 wait under target.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from ketenplan.engine import registry as R
from ketenplan.engine.results import KPI
from ketenplan.engine.run import ReplicateOutput
from ketenplan.scenario.schema import Scenario

log = logging.getLogger(__name__)

OUTCOMES = ("independent", "forced", "unsupervised", "still_present")
_EXIT_OF = {"independent": "departed_independent", "forced": "departed_forced", "unsupervised": "departed_unsupervised"}
_FLOW_OF = {"independent": "departures_independent", "forced": "departures_forced",
            "unsupervised": "departures_unsupervised"}
#: Final outcomes after which a case enters the return process (still present until it leaves).
_RETURN_OUTCOMES = ("rejected", "inadmissible")

#: Named assumption 'regional key of the stock without residence': the LVV residents are spread
#: evenly over the LVV locations (no split per location was found, Lvv.places note); everyone else
#: awaiting departure is spread like the 2009 WODC estimate by police region (the only published
#: regional split, U3; U4: none for 2017-2018). Police regions are placed in their province.
REGION_KEY = ("assumption: regional key of the stock without residence - LVV residents evenly over the LVV "
              "locations; the others like the WODC 2009 estimate by police region (without_residence.regional_table)")
POLICE_REGION_PROVINCE = {"Utrecht": "Utrecht", "Rotterdam-Rijnmond": "Zuid-Holland",
                          "Amsterdam-Amstelland": "Noord-Holland", "Haaglanden": "Zuid-Holland"}

#: Replicate days of the border's default day in a run (the ``ketenplan border`` command uses 100)
BORDER_DAYS = 20
BORDER_STAFFING_DAYS = 10

KPIS = (
    KPI("detention_occupancy_mean", "P4", "persons", "Detention occupancy",
        "persons in immigration detention, mean over the days", ("dtv",)),
    KPI("detention_cost_per_year", "P4", "EUR million/year", "Detention cost",
        "occupied detention place-days x detention.cost_per_place_day", ("dtv",)),
    KPI("lvv_occupancy_mean", "P4", "persons", "LVV occupancy",
        "persons in the national aliens facilities (LVV), mean over the days", ("dtv", "municipalities")),
    KPI("lvv_cost_per_year", "P4", "EUR million/year", "LVV cost",
        "occupied LVV place-days x lvv.cost_per_place_day", ("dtv", "municipalities")),
    KPI("minors_aged_out_per_year", "P4", "persons/year", "Minors ageing out",
        "rejected unaccompanied minors who turn 18 in reception and enter the departure route", ("coa", "dtv")),
    KPI("without_residence_stock_end", "P4", "persons", "Without residence at the end",
        "awaiting departure (derived stock without_residence) plus LVV residents on the last day", ("dtv",)),
)


# ----------------------------------------------------------------------------------------------
# pieces (pure functions of the replicate's arrays)
# ----------------------------------------------------------------------------------------------
def _days(out: ReplicateOutput) -> tuple[int, pd.DatetimeIndex]:
    g = out.compiled.grid
    return g.start_index, g.dates()


def _years_of(out: ReplicateOutput) -> np.ndarray:
    """Calendar year of each reported day."""
    si, dates = _days(out)
    return dates[si:].year.to_numpy()


def departures_table(out: ReplicateOutput) -> pd.DataFrame:
    """Departures by outcome and nationality group per year, and the still-present stock at year end."""
    si, dates = _days(out)
    c, r = out.compiled, out.case
    T = c.grid.T
    size = c.case["size"].astype(np.int64)
    group = c.case["group"].astype(np.int64)
    names = list(c.group_names)
    G = len(names)
    year_of_day = dates.year.to_numpy()
    years = np.unique(year_of_day[si:])
    y0 = int(years[0])
    exit_day, exit_reason = r["exit_day"], r["exit_reason"]
    ny = len(years)

    def grid_of(yi: np.ndarray, g: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.bincount(yi * G + g, weights=w, minlength=ny * G).reshape(ny, G)

    rows = []
    reported = np.flatnonzero((exit_day >= si) & (exit_day < T))  # exits in the reported period
    reason = exit_reason[reported]
    for outcome, ex in _EXIT_OF.items():
        m = reported[reason == R.EXITS.index(ex)]
        rows.append((outcome, grid_of(year_of_day[exit_day[m]] - y0, group[m], size[m]).astype(np.int64)))
    # still present at the end of each year: +persons from the year of the decision, -persons from
    # the year of the exit (years before the reported period count as its first year)
    ret = _is_return_outcome(r["outcome"]) & (r["decision_day"] >= 0)
    dec, ext = r["decision_day"][ret], exit_day[ret]
    g_ret, s_ret = group[ret], size[ret].astype(np.float64)
    yi_dec = np.clip(year_of_day[dec] - y0, 0, None)
    left = ext >= 0
    yi_ext = np.clip(year_of_day[ext[left]] - y0, 0, None)
    delta = grid_of(yi_dec, g_ret, s_ret) - grid_of(yi_ext, g_ret[left], s_ret[left])
    rows.append(("still_present", np.rint(np.cumsum(delta, axis=0)).astype(np.int64)))
    parts = []
    for outcome, grid in rows:
        parts.append(pd.DataFrame({"year": np.repeat(years, G), "group": np.tile(names, len(years)),
                                   "outcome": outcome, "persons": grid.reshape(-1)}))
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "replicate", np.int32(out.replicate))
    return df


def _is_return_outcome(outcome: np.ndarray) -> np.ndarray:
    """True where the outcome code is one of :data:`_RETURN_OUTCOMES` (a table over the registry's outcomes)."""
    table = np.zeros(len(R.OUTCOMES), bool)
    table[[R.OUTCOMES.index(o) for o in _RETURN_OUTCOMES]] = True
    return table[outcome]


def _per_year(values: np.ndarray, years: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    s = pd.Series(values).groupby(years)
    agg = getattr(s, how)()
    return agg.index.to_numpy(), agg.to_numpy()


def facilities_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Detention and LVV per year: occupancy (the stage stock), place-days, cost, entries, references."""
    si, _ = _days(out)
    yrs = _years_of(out)
    det, lvv = scenario.detention, scenario.lvv
    spec = (("detention", "detention", "detention_entries", det.places, det.cost_per_place_day,
             det.placements_per_year, det.occupancy_check),
            ("lvv", "lvv", "lvv_entries", lvv.places, lvv.cost_per_place_day, lvv.intake_per_year, float("nan")))
    parts = []
    for facility, stage, flow, places, cost, ref_entries, ref_occ in spec:
        stock = out.stage_stock[si:, R.STAGE[stage]].astype(np.float64)
        years, mean = _per_year(stock, yrs, "mean")
        _, peak = _per_year(stock, yrs, "max")
        _, pdays = _per_year(stock, yrs, "sum")
        _, entries = _per_year(out.flows[si:, R.FLOW[flow]].astype(np.float64), yrs, "sum")
        parts.append(pd.DataFrame({"year": years, "facility": facility, "places": float(places),
                                   "mean_occupancy": mean, "peak_occupancy": peak, "place_days": pdays,
                                   "cost_eur_million": pdays * cost / 1e6, "entries": entries,
                                   "reference_entries_per_year": float(ref_entries),
                                   "reference_occupancy": float(ref_occ)}))
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "replicate", np.int32(out.replicate))
    return df


def share_below_age(age: float, age_split: tuple[float, float, float]) -> float:
    """Share of unaccompanied minors younger than ``age`` at arrival [-], with the age bands 16-17,
    14-15 and 12-13 of ``minors.age_split`` and ages uniform within a band (as the engine draws them)."""
    bands = ((16.0, age_split[0]), (14.0, age_split[1]), (12.0, age_split[2]))
    return float(sum(w * min(max((age - lo) / 2.0, 0.0), 1.0) for lo, w in bands))


def _published_share(periods: tuple[tuple[str, float], ...], year: int) -> float:
    """The published AMV share of a period covering ``year`` ('2022', '2014-01..2019-08'), else NaN."""
    for label, value in periods:
        a, _, b = label.partition("..")
        if int(a[:4]) <= year <= int((b or a)[:4]):
            return float(value)
    return float("nan")


def minors_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """Unaccompanied minors per year: arrivals, decisions, guardianship, reception type, ageing out."""
    si, dates = _days(out)
    c, r = out.compiled, out.case
    mn = scenario.minors
    T = c.grid.T
    year_of_day = dates.year.to_numpy()
    yrs = year_of_day[si:]
    years = np.unique(yrs)
    size = c.case["size"].astype(np.float64)
    first = c.case["stream"] == R.STREAM["first"]
    uam = c.case["uam"].astype(bool)
    arr = c.case["arrival_day"]
    arrived = (arr >= si) & (arr < T)

    def by_year(mask: np.ndarray, day: np.ndarray) -> np.ndarray:
        m = mask & (day >= si) & (day < T)
        return np.bincount(year_of_day[day[m]] - int(years[0]), weights=size[m], minlength=len(years))

    uam_arrivals = by_year(first & uam & arrived, arr)
    first_arrivals = by_year(first & arrived, arr)
    out_code = r["outcome"]
    granted = by_year(uam & np.isin(out_code, [R.OUTCOMES.index("granted"), R.OUTCOMES.index("granted_on_appeal")]),
                      r["decision_day"])
    rejected = by_year(uam & _is_return_outcome(out_code), r["decision_day"])
    foster = share_below_age(float(mn.foster_family_below_age), mn.age_split)
    unit = 0.5 * (mn.small_unit_places[0] + mn.small_unit_places[1])
    _, waiting = _per_year(out.stage_stock[si:, R.STAGE["minor_until_18"]].astype(np.float64), yrs, "mean")
    _, aged_out = _per_year(out.flows[si:, R.FLOW["minors_aged_out"]].astype(np.float64), yrs, "sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(first_arrivals > 0, uam_arrivals / np.maximum(first_arrivals, 1), np.nan)
    df = pd.DataFrame({
        "replicate": np.int32(out.replicate), "year": years, "arrivals": uam_arrivals,
        "share_of_first_applications": share,
        "published_share": [_published_share(mn.share_by_period, int(y)) for y in years],
        "granted": granted, "rejected": rejected, "guardian": mn.guardianship,
        "foster_family": uam_arrivals * foster, "coa_small_units": uam_arrivals * (1 - foster),
        "small_units_filled": np.ceil(uam_arrivals * (1 - foster) / unit),
        "waiting_until_18_mean": waiting, "aged_out": aged_out,
        "reference_disappeared_per_year": float(mn.disappeared_per_year)})
    return df


def without_residence_tables(out: ReplicateOutput, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stock without a right of residence per month and its regional split at each year end."""
    si, dates = _days(out)
    ss, ls = out.stage_stock[si:], out.loc_stock[si:]
    d = dates[si:]
    awaiting = R.derived_stock("without_residence", ss, ls).astype(np.int64)
    lvv = ss[:, R.STAGE["lvv"]].astype(np.int64)
    minors = ss[:, R.STAGE["minor_until_18"]].astype(np.int64)
    unsup = np.cumsum(out.flows[si:, R.FLOW["departures_unsupervised"]].astype(np.int64))
    key = d.year.to_numpy() * 12 + d.month.to_numpy()
    last = np.r_[key[1:] != key[:-1], True]
    month = pd.DataFrame({"replicate": np.int32(out.replicate),
                          "date": d[last].to_period("M").to_timestamp(),
                          "awaiting_departure": awaiting[last], "in_lvv": lvv[last], "minors_waiting": minors[last],
                          "departed_unsupervised_cumulative": unsup[last],
                          "stock": awaiting[last] + lvv[last]})
    # regional split at each year end
    from ketenplan.data import data_path
    from ketenplan.returns.data import irregular_regions_2009
    from ketenplan.placement import load_municipalities

    wr = scenario.without_residence
    reg = irregular_regions_2009(data_path("returns", wr.regional_table))
    locs = list(scenario.lvv.locations)
    prov = load_municipalities().set_index("municipality")["province"]
    yend = np.r_[d.year.to_numpy()[1:] != d.year.to_numpy()[:-1], True]
    rows = []
    for i in np.flatnonzero(yend):
        y = int(d[i].year)
        for loc in locs:
            rows.append((y, f"LVV {loc}", prov.get(loc, ""), "lvv", lvv[i] / len(locs)))
        for _, rr in reg.iterrows():
            name = str(rr["police_region"])
            rows.append((y, name, POLICE_REGION_PROVINCE.get(name, "other"), "awaiting_departure",
                         awaiting[i] * float(rr["share_of_national"])))
    by_region = pd.DataFrame(rows, columns=["year", "region", "province", "part", "persons"])
    by_region.insert(0, "replicate", np.int32(out.replicate))
    by_region["key"] = REGION_KEY
    return month, by_region


def reference_table(out: ReplicateOutput, scenario: Scenario) -> pd.DataFrame:
    """The published national estimates of people without a right of residence (WODC)."""
    wr = scenario.without_residence
    return pd.DataFrame({
        "replicate": np.int32(out.replicate),
        "estimate": ["2009 (police records)", "2017-2018 Poisson", "2017-2018 dual systems"],
        "period_mid": pd.to_datetime(["2009-07-01", "2018-01-01", "2018-01-01"]),
        "persons": [wr.estimate_2009, wr.estimate_2017_2018_poisson, wr.estimate_2017_2018_dse],
        "source": ["WODC 2009 estimate via Binnenlands Bestuur (U3)", "WODC 16-12-2020 (U1)", "WODC 16-12-2020 (U1)"]})


def border_tables(scenario: Scenario, seed: int) -> dict[str, pd.DataFrame]:
    """The default entry day of the scenario's ``border`` section and the staffing for its p90 target."""
    from ketenplan.border import day_from_params, run_day, staffing_table

    b = scenario.border
    # the hourly arrivals spelled out (BorderParams.arrivals_per_hour), so every field read is seen
    arrivals = tuple(b.daily_border_travellers * b.entry_share * s for s in b.hourly_profile)
    run = run_day(dataclasses.replace(day_from_params(b), arrivals=arrivals), BORDER_DAYS, seed)
    waits = run.waits_table()
    staff = staffing_table(run, b.target_p90_min, max_replications=BORDER_STAFFING_DAYS)
    waits.insert(0, "replicate", np.int32(0))
    staff.insert(0, "replicate", np.int32(0))
    return {"border_waits": waits, "border_staffing": staff}


def run(out: ReplicateOutput, scenario: Scenario, seed: int) -> dict:
    """All pillar-4 tables and key figures of one replicate (and the border day on replicate 0)."""
    si = out.compiled.grid.start_index
    years = (out.compiled.grid.T - si) / 365.25
    fac = facilities_table(out, scenario)
    month, by_region = without_residence_tables(out, scenario)
    minors = minors_table(out, scenario)
    tables = {"p4_departures": departures_table(out), "p4_facilities": fac, "p4_minors": minors,
              "p4_without_residence": month, "p4_without_residence_by_region": by_region,
              "p4_reference": reference_table(out, scenario)}
    ss = out.stage_stock[si:]
    tables["kpis"] = {
        "detention_occupancy_mean": float(ss[:, R.STAGE["detention"]].mean()),
        "detention_cost_per_year": float(fac.loc[fac.facility == "detention", "cost_eur_million"].sum() / years),
        "lvv_occupancy_mean": float(ss[:, R.STAGE["lvv"]].mean()),
        "lvv_cost_per_year": float(fac.loc[fac.facility == "lvv", "cost_eur_million"].sum() / years),
        "minors_aged_out_per_year": float(out.flows[si:, R.FLOW["minors_aged_out"]].sum() / years),
        "without_residence_stock_end": float(month["stock"].iloc[-1]),
    }
    if out.replicate == 0:
        tables.update(border_tables(scenario, seed))
    return tables


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def _mean_over_replicates(df: pd.DataFrame, by: list[str], cols: list[str]) -> pd.DataFrame:
    return df.groupby(by, as_index=False)[cols].mean()


def report(res) -> dict[str, list]:
    """P4: departures by outcome and group, detention and LVV occupancy and cost, minors, the stock
    without residence with the national estimates and its regional split. P1: the border day."""
    import plotly.graph_objects as go

    out: dict[str, list] = {"P4": [], "P1": []}
    dep = res.table("p4_departures")
    if len(dep):
        n = dep.replicate.nunique()
        tot = dep.groupby(["year", "outcome"], as_index=False).persons.sum().assign(persons=lambda x: x.persons / n)
        fig = go.Figure()
        for o in OUTCOMES:
            t = tot[tot.outcome == o]
            fig.add_bar(x=t.year, y=t.persons, name=o.replace("_", " "))
        fig.update_layout(title="Departures by outcome per year (still present: at year end; mean of replicates)",
                          barmode="group", template="plotly_white", yaxis_title="persons")
        out["P4"].append(fig)
        grp = dep.groupby(["group", "outcome"], as_index=False).persons.sum()
        yrs = dep.year.nunique()
        grp = grp.assign(persons=grp.persons / n / yrs)
        fig = go.Figure()
        for o in OUTCOMES:
            t = grp[grp.outcome == o]
            fig.add_bar(x=t.group, y=t.persons, name=o.replace("_", " "))
        fig.update_layout(title="Departures by nationality group, mean per year (still present: mean year-end stock)",
                          barmode="stack", template="plotly_white", yaxis_title="persons/year")
        out["P4"].append(fig)
    fac = res.table("p4_facilities")
    if len(fac):
        m = _mean_over_replicates(fac, ["year", "facility"], ["mean_occupancy", "places", "cost_eur_million",
                                                              "entries", "reference_entries_per_year"])
        fig = go.Figure()
        for f in ("detention", "lvv"):
            t = m[m.facility == f]
            fig.add_scatter(x=t.year, y=t.mean_occupancy, name=f"{f}: mean occupancy", mode="lines+markers")
            fig.add_scatter(x=t.year, y=t.places, name=f"{f}: places", mode="lines", line={"dash": "dot"})
        fig.update_layout(title="Detention and LVV: occupancy and places", template="plotly_white",
                          yaxis_title="persons")
        out["P4"].append(fig)
        out["P4"].append("<b>Detention and LVV per year (mean of replicates)</b>"
                         + m.round(1).to_html(index=False, border=0))
    mn = res.table("p4_minors")
    if len(mn):
        cols = ["arrivals", "share_of_first_applications", "published_share", "granted", "rejected", "foster_family",
                "coa_small_units", "small_units_filled", "waiting_until_18_mean", "aged_out",
                "reference_disappeared_per_year"]
        t = mn.groupby("year", as_index=False)[cols].mean()
        out["P4"].append("<b>Unaccompanied minors (guardian: " + str(mn.guardian.iloc[0]) + "; mean of replicates)"
                         "</b>" + t.round(3).to_html(index=False, border=0))
    wr = res.table("p4_without_residence")
    if len(wr):
        q = wr.groupby("date").stock.quantile([0.05, 0.5, 0.95]).unstack()
        fig = go.Figure()
        fig.add_scatter(x=q.index, y=q[0.95], line={"width": 0}, showlegend=False)
        fig.add_scatter(x=q.index, y=q[0.05], fill="tonexty", line={"width": 0}, name="5-95%")
        fig.add_scatter(x=q.index, y=q[0.5], name="awaiting departure + LVV (median)")
        ref = res.table("p4_reference")
        for _, r in ref[ref.replicate == ref.replicate.min()].iterrows():
            fig.add_hline(y=r.persons, line={"dash": "dot"}, annotation_text=f"{r.estimate}: {r.persons:,.0f}")
        fig.update_layout(title="People without a right of residence in view of the chain, beside the national "
                                "estimates (which also count overstayers and those never in the chain)",
                          template="plotly_white", yaxis_title="persons")
        out["P4"].append(fig)
        reg = res.table("p4_without_residence_by_region")
        if len(reg):
            last = reg[reg.year == reg.year.max()]
            t = last.groupby(["region", "province"], as_index=False).persons.sum()
            t["persons"] = t.persons / last.replicate.nunique()
            out["P4"].append(f"<b>Stock without residence by region, end of {int(reg.year.max())}</b>"
                             f"<p>Key: {REGION_KEY}.</p>" + t.round(0).to_html(index=False, border=0))
    bw = res.table("border_waits")
    if len(bw):
        from ketenplan.border import figure

        out["P1"].append(figure(bw, "Passport control at Schiphol, default entry day (border section)"))
        st = res.table("border_staffing")
        if len(st):
            bad = bw[bw.p90_wait_min > float(st.target_p90_min.iloc[0])]
            extra = (st.desks_needed - st.desks).clip(lower=0)
            out["P1"].append(
                f"<p>Border (P1.2): with the roster of the scenario the p90 wait exceeds the target of "
                f"{float(st.target_p90_min.iloc[0]):g} min in {len(bad)} of 24 hours"
                + (f" (hours {', '.join(str(h) for h in bad.hour)})" if len(bad) else "")
                + f". Keeping p90 under target needs at most {int(st.desks_needed.max())} desks and "
                f"{int(st.egates_needed.max())} eGates in an hour ({int(extra.sum())} extra desk-hours over "
                f"the day). {BORDER_DAYS} simulated days; <code>ketenplan border</code> gives the full run.</p>")
    return {k: v for k, v in out.items() if v}



#: The registered post-processor's fields: ``ketenplan.post.POST_PROCESSORS["returns"]`` is
#: ``PostProcessor("returns", **SPEC)`` (this module does not import ketenplan.post).
SPEC = dict(description="departures by outcome and nationality group, detention and LVV occupancy and cost, "
                        "unaccompanied minors, the stock without residence by region (P4.1-P4.5); the border's "
                        "default day and staffing (P1.2, first replicate)",
            run=run, replicates="all", kpis=KPIS, report=report)
