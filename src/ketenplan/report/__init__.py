"""The HTML report: a one-screen summary first, then one section per pillar (P1-P6) with plots of
replicate bands, the views per chain partner, the assumptions and the scenario last.

Plots read Results only (quantiles computed by DuckDB over the stored replicates), never engine
internals. The page is self-contained: plotly.js is embedded once, so it opens without a network.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, StrictUndefined

from ketenplan._io import write_text
from ketenplan.engine import registry as R
from ketenplan.engine.results import PARTNERS, Results

PILLARS = {
    "P1": "Prevent irregular migration: inflow",
    "P2": "Reception and protection in the region",
    "P3": "A solid and flexible asylum system: registration, procedure, reception",
    "P4": "Less illegality, more return",
    "P5": "Legal migration routes",
    "P6": "Integration and participation: housing, civic integration and work of permit holders",
}
NOT_YET: dict[str, str] = {}
BLUE = "31,119,180"
LAYOUT = dict(height=340, margin=dict(l=60, r=20, t=70, b=40), title_y=0.97, title_yanchor="top",
              legend=dict(orientation="h", y=-0.18))


def _layout(fig: go.Figure, title: str, ytitle: str, **kw) -> go.Figure:
    """Title above the plot area (clear of the toolbar), axis label, legend below."""
    fig.update_layout(title=dict(text=title, y=0.97, yanchor="top", font=dict(size=14)), yaxis_title=ytitle,
                      **{**LAYOUT, **kw})
    return fig


def _band(q: pd.DataFrame, title: str, ytitle: str, lines: dict[str, pd.Series] | None = None) -> go.Figure:
    """p10-p90 band and median over replicates (``q``: rows = dates, columns 0.1, 0.5, 0.9), with
    optional reference lines (capacities)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=q.index, y=q[0.9], line=dict(width=0), showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=q.index, y=q[0.1], fill="tonexty", line=dict(width=0), name="p10-p90",
                             fillcolor=f"rgba({BLUE},0.25)"))
    fig.add_trace(go.Scatter(x=q.index, y=q[0.5], name="median", line=dict(color=f"rgb({BLUE})")))
    for (name, s), dash in zip((lines or {}).items(), ("dash", "dot", "dashdot")):
        fig.add_trace(go.Scatter(x=s.index, y=s.values, name=name, line=dict(color="rgb(214,39,40)", dash=dash)))
    return _layout(fig, title, ytitle)


def _fan(res: Results, dimension: str, category: str, title: str, ytitle: str = "persons",
         lines: dict[str, pd.Series] | None = None) -> go.Figure:
    return _band(res.quantiles(dimension, category), title, ytitle, lines)


def capacity_lines(res: Results) -> dict[str, pd.Series]:
    """Reception capacity over time (median over replicates: policies may change it per replicate)."""
    if "capacity" not in res.source.tables():
        return {}
    c = res.source.query("SELECT date, resource, median(value) AS v FROM capacity WHERE resource IN "
                         "('reception_regular', 'reception_small_scale') GROUP BY ALL ORDER BY date")
    w = c.pivot(index="date", columns="resource", values="v").fillna(0.0)
    if w.empty:
        return {}
    total = w.sum(axis=1)
    return {"regular + small-scale places": total}


def _arrivals_fan(res: Results) -> go.Figure | None:
    """Arrivals per month across replicates (p10-p90 and median): the inflow's own spread when the
    first applications come from forecast sample paths, one per replicate."""
    if res.scenario.inflow.source != "forecast":
        return None
    q = res.source.query(
        "SELECT m AS date, quantile_cont(s, 0.1) AS a, quantile_cont(s, 0.5) AS b, quantile_cont(s, 0.9) AS c "
        "FROM (SELECT replicate, date_trunc('month', date) AS m, sum(persons) AS s FROM flows WHERE flow = 'arrivals' "
        "GROUP BY ALL) GROUP BY m ORDER BY m").set_index("date")
    q.columns = [0.1, 0.5, 0.9]
    return _band(q, f"Arrivals per month across replicates ({res.replicates} forecast sample paths, one per "
                    "replicate)", "persons/month")


def _forecast_note(res: Results) -> str | None:
    """What a forecast-driven inflow means for the figures of this report."""
    inflow, sim = res.scenario.inflow, res.scenario.simulation
    if inflow.source != "forecast":
        return None
    from ketenplan.forecast.api import last_month

    c, last = inflow.forecast_country, last_month(inflow.forecast_country)
    begin, end = f"{sim.grid_start:%Y-%m}", f"{sim.end:%Y-%m}"
    src = (f"First applications come from the inflow forecast for {c} (Eurostat applicants less the scenario's "
           f"subsequent applications), one sample path per replicate (docs/forecast.md). ")
    if end <= last:
        return src + (f"Every month of this run ({begin} to {end}) lies within the data, which end {last}: all "
                      f"replicates get the same first applications, so the bands show only the chain's own "
                      f"randomness.")
    start = (f"Every month of the run ({begin} on) is forecast, from the last data month of {c} ({last}). "
             if begin > last else f"Months up to {last} replay the data, later months are forecast. ")
    return src + start + ("The bands of every figure therefore include the uncertainty of the inflow. Capacities "
                          "stay as the scenario (and its capacity policies, if any) set them.")


def _monthly_mean(res: Results, flows: list[str]) -> pd.DataFrame:
    """Mean over replicates of each flow's monthly total (rows: months, columns: flows)."""
    names = ", ".join("'" + f + "'" for f in flows)
    df = res.source.query(
        f"SELECT m AS date, flow, avg(s) AS v FROM (SELECT replicate, date_trunc('month', date) AS m, flow, "
        f"sum(persons) AS s FROM flows WHERE flow IN ({names}) GROUP BY ALL) GROUP BY ALL ORDER BY m")
    return df.pivot(index="date", columns="flow", values="v")


def _flows_per_month(res: Results, names: list[str], title: str) -> go.Figure:
    m = _monthly_mean(res, names)
    fig = go.Figure()
    for c in names:
        if c in m:
            fig.add_trace(go.Scatter(x=m.index, y=m[c], name=c.replace("_", " ")))
    return _layout(fig, title, "persons/month")


def _locations(res: Results) -> go.Figure:
    m = res.source.query("SELECT date, category, avg(persons) AS v FROM stocks WHERE dimension = 'location' "
                         "GROUP BY ALL ORDER BY date").pivot(index="date", columns="category", values="v")
    fig = go.Figure()
    for c in [lc.name for lc in R.LOCATIONS if lc.kind == "coa"]:
        if c in m:
            fig.add_trace(go.Scatter(x=m.index, y=m[c], stackgroup="one", name=c.replace("_", " ")))
    for name, s in capacity_lines(res).items():
        fig.add_trace(go.Scatter(x=s.index, y=s.values, name=name, line=dict(color="rgb(214,39,40)", dash="dash")))
    return _layout(fig, "Reception occupancy by location type (mean of replicates)", "persons")


def costs_per_month(res: Results) -> pd.DataFrame:
    """Costs per month by partner and item, mean over replicates [EUR] (rows: months, columns: items
    of ``planning.costs.ITEMS`` that the stored tables hold): occupied regular and emergency places,
    empty regular and small-scale places, IND decisions, permit holders housed, at the scenario's
    unit costs. Standby places, opening and closing and social guidance need the capacity policy's
    decisions or the housed adults, which a run does not store: ``ketenplan plan-capacity`` counts them."""
    from ketenplan.planning.costs import ITEM_NAMES, unit_costs

    sc = res.scenario
    per_day = res.metadata.get("resolution", "month") == "day"
    days = pd.Series(pd.date_range(sc.simulation.start, sc.simulation.end, freq="D").to_period("M")).value_counts()
    days.index = days.index.to_timestamp()
    st = res.source.query(
        "SELECT m AS date, k, avg(s) AS v FROM (SELECT replicate, date_trunc('month', date) AS m, "
        "dimension || ':' || category AS k, sum(persons_mean) AS s FROM stocks WHERE (dimension = 'derived' AND "
        "category IN ('coa_occupancy', 'without_place')) OR (dimension = 'location' AND category IN ('emergency', 'regular', "
        "'small_scale')) GROUP BY ALL) GROUP BY ALL").pivot(index="date", columns="k", values="v")
    cap = res.source.query(
        "SELECT m AS date, resource AS k, avg(s) AS v FROM (SELECT replicate, date_trunc('month', date) AS m, resource, "
        "sum(value) AS s FROM capacity WHERE resource IN ('reception_regular', 'reception_small_scale') GROUP BY ALL) "
        "GROUP BY ALL").pivot(index="date", columns="k", values="v") if "capacity" in res.source.tables() else None
    fl = _monthly_mean(res, ["decisions", "housed"])
    st.index = pd.DatetimeIndex(st.index)
    mult = 1.0 if per_day else days.reindex(st.index).to_numpy(float)
    q = pd.DataFrame(index=st.index)
    emergency = st.get("location:emergency", 0.0) * mult
    without = st.get("derived:without_place", 0.0) * mult  # above the emergency limit: no place, no price
    q["occupied_regular"] = st["derived:coa_occupancy"] * mult - emergency - without
    q["occupied_emergency"] = emergency
    if cap is not None:
        cap.index = pd.DatetimeIndex(cap.index)
        cap = cap.reindex(st.index).fillna(0.0)
        q["empty_places"] = ((cap.get("reception_regular", 0.0) * mult - st.get("location:regular", 0.0) * mult)
                             .clip(lower=0.0)
                             + (cap.get("reception_small_scale", 0.0) * mult
                                - st.get("location:small_scale", 0.0) * mult).clip(lower=0.0))
    fl.index = pd.DatetimeIndex(fl.index)
    fl = fl.reindex(st.index).fillna(0.0)
    q["decisions"] = fl.get("decisions", 0.0)
    q["housed"] = fl.get("housed", 0.0)
    unit = dict(zip(ITEM_NAMES, unit_costs(sc)))
    return pd.DataFrame({k: q[k] * unit[k] for k in q.columns}, index=q.index).sort_index()


def _costs(res: Results) -> go.Figure:
    from ketenplan.planning.costs import ITEMS, PARTNER_LABELS

    c = costs_per_month(res) / 1e6
    labels = {i[1]: f"{PARTNER_LABELS[i[0]].split(' ')[0]}: {i[3]}" for i in ITEMS}
    fig = go.Figure()
    for k in c.columns:
        fig.add_trace(go.Scatter(x=c.index, y=c[k], stackgroup="one", mode="lines", name=labels[k]))
    return _layout(fig, "Costs per month by partner (mean of replicates)<br><sup>standby places, opening and "
                        "closing: ketenplan plan-capacity</sup>", "EUR million per month")


def shortage_probability(res: Results) -> pd.Series:
    """Share of replicates with anyone without a regular bed (in an emergency place, or without a place
    above the emergency limit) on some day of each month."""
    df = res.source.query(
        "SELECT m AS date, avg(CASE WHEN mx > 0 THEN 1.0 ELSE 0.0 END) AS p FROM (SELECT replicate, "
        "date_trunc('month', date) AS m, max(persons_max) AS mx FROM stocks WHERE (dimension = 'location' AND "
        "category = 'emergency') OR (dimension = 'derived' AND category = 'without_place') GROUP BY ALL) "
        "GROUP BY m ORDER BY m")
    return df.set_index("date").p


def _shortage_probability(res: Results) -> go.Figure:
    p = shortage_probability(res)
    fig = go.Figure(go.Bar(x=p.index, y=p.values, name="P(shortage)"))
    return _layout(fig, f"Probability of a bed shortage in the month<br><sup>share of {res.replicates} replicates "
                        "with anyone in an emergency place</sup>", "probability", yaxis_range=[0, 1])


def throughput_histogram(res: Results, bin_weeks: int = 4) -> pd.DataFrame:
    """Persons by weeks from registration to first-instance decision per track (journeys kept), binned:
    track, weeks (bin start), share of the track's persons."""
    j = res.journeys
    if j.empty:
        return pd.DataFrame(columns=["track", "weeks", "share"])
    j = j[j.decision_date.notna() & ~j.warmup & j.stream.isin(["first", "subsequent"])]
    weeks = ((j.decision_date - j.registration_date).dt.days / 7.0).to_numpy()
    b = (np.floor(weeks / bin_weeks) * bin_weeks).astype(int)
    df = pd.DataFrame({"track": j.track.astype(str).to_numpy(), "weeks": b, "persons": j.persons.to_numpy()})
    g = df.groupby(["track", "weeks"], as_index=False).persons.sum()
    g["share"] = g.persons / g.groupby("track").persons.transform("sum")
    return g


def _throughput(res: Results) -> go.Figure:
    g = throughput_histogram(res)
    fig = go.Figure()
    for tr in ["general", "safe_country", "dublin"]:
        s = g[g.track == tr]
        if len(s):
            fig.add_trace(go.Bar(x=s.weeks + 2, y=s.share, width=4, name=tr.replace("_", " "), opacity=0.6))
    kept = "replicate 0" if res.metadata.get("journeys") == "first" else "all replicates kept"
    return _layout(fig, f"Registration to first-instance decision, by track ({kept})", "share of persons",
                   barmode="overlay", xaxis_title="weeks")


def _housing(res: Results) -> go.Figure:
    h = res.housing.groupby("period")[["task", "backlog_in", "realised"]].mean()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=h.index, y=h.task, name="task"))
    fig.add_trace(go.Bar(x=h.index, y=h.backlog_in, name="backlog carried in"))
    fig.add_trace(go.Bar(x=h.index, y=h.realised, name="realised"))
    return _layout(fig, "Housing task (taakstelling) per half-year, mean of replicates", "persons", barmode="group")


def _departures(res: Results) -> go.Figure:
    names = ["departures_independent", "departures_forced", "departures_unsupervised", "dublin_transfers"]
    q = ", ".join("'" + n + "'" for n in names)
    y = res.source.query(f"SELECT y, flow, avg(s) AS v FROM (SELECT replicate, year(date) AS y, flow, sum(persons) "
                         f"AS s FROM flows WHERE flow IN ({q}) GROUP BY ALL) GROUP BY ALL ORDER BY y").pivot(
        index="y", columns="flow", values="v")
    fig = go.Figure()
    for c in names:
        if c in y:
            fig.add_trace(go.Bar(x=y.index, y=y[c], name=c.replace("_", " ")))
    return _layout(fig, "Departures per year (mean of replicates)", "persons", barmode="stack")


def partner_views(res: Results, rows: list[dict] | None = None) -> list[dict]:
    """Per chain partner: its key figures (mean, p10, p90 over replicates; ``rows``: those of
    :func:`_kpi_rows` when computed already)."""
    from ketenplan.post import all_kpis

    rows, declared = (_kpi_rows(res) if rows is None else rows), all_kpis()
    return [{"partner": label, "kpis": [r for r in rows if key in declared[r["kpi"]].partners]}
            for key, label in PARTNERS.items()]


def _kpi_rows(res: Results) -> list[dict]:
    from ketenplan.post import all_kpis

    declared = all_kpis()
    s = res.kpi_summary()
    out = []
    for r in s.itertuples():
        k = declared[r.kpi]
        out.append(dict(kpi=r.kpi, label=k.label, pillar=k.pillar, unit=r.unit, desc=k.description, mean=r.mean,
                        p10=r.p10, p90=r.p90))
    return out


def _placement_tables(res: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = res.source.tables()
    bp = res.table("placement_by_period") if "placement_by_period" in names else pd.DataFrame()
    bm = res.table("placement_by_municipality") if "placement_by_municipality" in names else pd.DataFrame()
    return bp, bm


def _municipalities(res: Results) -> tuple[go.Figure | None, list[dict]]:
    """Permit holders placed per province (figure) and the municipalities with the most persons placed."""
    _, m = _placement_tables(res)
    if m.empty:
        return None, []
    prov = m.groupby("province")[["persons_optimal", "persons_status_quo", "employed_optimal",
                                  "employed_status_quo"]].sum().sort_values("persons_optimal", ascending=False)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=prov.index, y=prov.employed_status_quo, name="expected employed, status quo"))
    fig.add_trace(go.Bar(x=prov.index, y=prov.employed_optimal, name="expected employed, matched"))
    _layout(fig, "Permit holders expected to be employed, by province (first replicate, reported period)", "persons",
            barmode="group")
    top = m.sort_values("persons_optimal", ascending=False).head(15)
    return fig, top.to_dict("records")


def _placement(res: Results) -> go.Figure | None:
    bp, _ = _placement_tables(res)
    if bp.empty:
        return None
    g = bp.groupby("period")[["expected_employed_optimal", "expected_employed_status_quo", "gain_pct"]].mean()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=g.index, y=g.expected_employed_status_quo, name="status quo (by task only)"))
    fig.add_trace(go.Bar(x=g.index, y=g.expected_employed_optimal, name="matched on expected employment"))
    fig.add_trace(go.Scatter(x=g.index, y=g.gain_pct, name="gain [%]", yaxis="y2", mode="lines+markers"))
    return _layout(fig, "Permit holders expected to be employed, by half-year of the permit", "persons",
                   barmode="group", yaxis2=dict(title="gain [%]", overlaying="y", side="right", rangemode="tozero"),
                   margin=dict(l=60, r=60, t=70, b=40))


COMPARATORS = ("NLD", "DEU", "BEL", "SWE", "AUT", "FRA", "DNK")


SCHEME_TEXT = {"pact-2024": "Under the 2024 Pact the Dutch fair share ({year} inputs: 50% population, 50% GDP over "
                            "EU27 minus Denmark) is {share:.2f}%: of the annual pool of 30,000 relocations or EUR 600 "
                            "million, {n:,.0f} relocations or EUR {eur:,.1f} million.",
               "relocation-2015": "Under the 2015 relocation key ({year} inputs) the Dutch share is {share:.2f}%.",
               "dublin-2016": "Under the 2016 corrective allocation key ({year} inputs) the Dutch share is "
                              "{share:.2f}%."}


def _solidarity_note(scenario) -> str:
    """P2: the Netherlands among host countries (UNHCR, World Bank) and its share under the scenario's
    key (``[solidarity] year, scheme``)."""
    from html import escape

    from ketenplan.solidarity import distribution_key, host_indicators

    year, scheme = scenario.solidarity.year, scenario.solidarity.scheme

    h = host_indicators(year)
    top = h.nsmallest(5, "rank_per_1000_inhabitants")
    rows = pd.concat([top, h[h.iso3.isin(COMPARATORS)]]).drop_duplicates("iso3")
    n = int(h.rank_per_1000_inhabitants.max())
    body = "".join(
        f"<tr><td>{escape(str(r.name))}</td><td class='n'>{r.hosted:,.0f}</td><td class='n'>{r.per_1000_inhabitants:.1f}</td>"
        f"<td class='n'>{int(r.rank_per_1000_inhabitants)}</td>"
        f"<td class='n'>{'n/a' if pd.isna(r.per_usd_million_gdp_ppp) else f'{r.per_usd_million_gdp_ppp:.2f}'}</td></tr>"
        for r in rows.itertuples())
    k = distribution_key(scheme, year)
    nl = float(k.loc["NLD", "share"])
    share_text = SCHEME_TEXT[scheme].format(year=year, share=100 * nl, n=nl * 30000, eur=nl * 600)
    return (f"Refugees hosted at the end of {year} (UNHCR; refugees, World Bank population and GDP), the five largest "
            f"per inhabitant among {n} countries and some European comparators "
            f"(all countries: <code>ketenplan solidarity indicators --year {year}</code>):"
            f"<table><tr><th>country</th><th>hosted</th><th>per 1,000 inhabitants</th><th>rank</th>"
            f"<th>per USD 1 million GDP (PPP)</th></tr>{body}</table>"
            f"{share_text} Keys, allocations and replays of the 2015 and 2016 schemes: "
            f"<code>ketenplan solidarity</code> (docs/solidarity.md).")


def _placement_note(res: Results) -> str | None:
    bp, _ = _placement_tables(res)
    if bp.empty:
        return None
    opt, sq = bp.expected_employed_optimal.sum(), bp.expected_employed_status_quo.sum()
    early = bp.persons_placed_at_routing.sum() / max(bp.persons.sum(), 1) if "persons_placed_at_routing" in bp else 0.0
    model = str(bp.model.iloc[0]) if "model" in bp else "default"
    return (f"Placement (P3.7, P6.2), replicate {int(bp.replicate.min())}: matching each half-year's permit "
            f"holders to municipalities within the housing task would employ {opt:,.0f} persons against "
            f"{sq:,.0f} under placement by task only (+{100 * (opt / sq - 1):.1f}%); "
            f"{100 * early:.0f}% matched already at routing to a small-scale location "
            f"near their future municipality (lever routing_small_scale). Employment model: {model}. "
            f"The default model's coefficients are sourced figures or named assumptions, not a fit "
            f"(see <code>ketenplan place</code> and docs/placement.md). The objective weighs employment only: it "
            f"sends the adults most likely to find work to the municipalities with the best prospects and "
            f"households without employable adults elsewhere, which the per-municipality view below shows; "
            f"spread or fairness between municipalities is not part of it. Moves in reception: see the key figure "
            f"'Moves per person' in P3 (one definition for the whole report).")


def summary(res: Results) -> dict:
    """The one-screen summary: peak occupancy and when, the probability of a shortage, cost per year,
    the largest stocks and waits, and the binding bottleneck."""
    s = res.kpi_summary().set_index("kpi")
    q = res.quantiles("derived", "coa_occupancy", column="persons_max", q=(0.5, 0.9))
    peak_date = q[0.9].idxmax() if len(q) else None
    p = shortage_probability(res)
    waits = {"registration": s.loc["waiting_registration_peak", "mean"],
             "IND decision": s.loc["decision_time_general_weeks", "mean"],
             "housing": s.loc["housing_wait_weeks", "mean"]}
    pend = s.loc["ind_pending_end", "mean"]
    # the binding bottleneck: the stage where most persons wait on average (derived from the stock means)
    m = res.source.query("SELECT category, avg(persons_mean) AS v FROM stocks WHERE dimension = 'stage' AND category IN "
                         "('waiting_registration', 'waiting_decision_general', 'waiting_decision_safe', "
                         "'dublin_waiting', 'housing_queue') GROUP BY category ORDER BY v DESC")
    labels = {st.name: st.label for st in R.STAGES}
    bottleneck = (f"{labels[m.category.iloc[0]]} (on average {m.v.iloc[0]:,.0f} persons waiting)"
                  if len(m) and m.v.iloc[0] > 0 else "none: no queue holds anyone on average")
    return dict(
        beds_p90=float(q[0.9].max()) if len(q) else float("nan"), beds_p50=float(q[0.5].max()) if len(q) else float("nan"),
        peak_month=peak_date.strftime("%B %Y") if peak_date is not None else "n/a",
        p_shortage_any=float(p.max()) if len(p) else 0.0,
        months_shortage_over_half=int((p > 0.5).sum()),
        cost=s.loc["reception_cost_per_year", "mean"], cost_p10=s.loc["reception_cost_per_year", "p10"],
        cost_p90=s.loc["reception_cost_per_year", "p90"], decision_weeks=waits["IND decision"],
        housing_weeks=waits["housing"], ind_pending_end=pend, bottleneck=bottleneck,
        replicates=res.replicates,
    )


def figures(res: Results, post: dict[str, dict[str, list]] | None = None) -> dict[str, list[go.Figure]]:
    """The plots of each pillar: the chain's own, then those of the post-processors that ran (``post``:
    their sections when made already, see :func:`_post_sections`)."""
    figs = _chain_figures(res)
    for name, extra in (_post_sections(res) if post is None else post).items():
        for pillar, items in extra.items():
            figs.setdefault(pillar, []).extend(x for x in items if isinstance(x, go.Figure))
    return figs


def _post_sections(res: Results) -> dict[str, dict[str, list]]:
    """What each post-processor that ran adds to the report, by pillar (figures and HTML notes)."""
    from ketenplan.post import POST_PROCESSORS

    out = {}
    for name in res.metadata.get("post_processors", []):
        p = POST_PROCESSORS.get(name)
        if p is not None and p.report is not None:
            out[name] = p.report(res) or {}
    return out


def _chain_figures(res: Results) -> dict[str, list[go.Figure]]:
    cap = capacity_lines(res)
    return {
        "P1": [f for f in (_arrivals_fan(res),
                           _flows_per_month(res, ["arrivals", "nareis_arrivals", "registrations"],
                                            "Arrivals, nareis and registrations per month (mean of replicates)"))
               if f is not None],
        "P2": [],
        "P3": [_fan(res, "derived", "coa_occupancy", "COA reception occupancy, emergency included "
                    "(end of month, median and p10-p90)", lines=cap),
               _locations(res), _shortage_probability(res), _costs(res),
               _fan(res, "derived", "ind_pending", "First-instance applications without a decision"),
               _fan(res, "stage", "waiting_registration", "Waiting for registration"), _throughput(res)],
        "P4": [_departures(res), _fan(res, "derived", "without_residence",
                                      "Rejected, outside reception or in detention, awaiting departure")],
        "P5": [_flows_per_month(res, ["resettled"], "Resettled refugees per month (mean of replicates)")],
        "P6": [f for f in (_fan(res, "derived", "permit_holders_in_reception", "Permit holders waiting in reception"),
                           _housing(res), _placement(res)) if f is not None],
    }


def as_run(res: Results):
    """The scenario as run: the seed and replicates given at the call (e.g. ``--seed``) replace the file's."""
    m = res.metadata
    if "seed" not in m or "replicates" not in m:
        return res.scenario
    return res.scenario.replace(**{"simulation.seed": int(m["seed"]), "simulation.replicates": int(m["replicates"])})


def assumptions(res: Results) -> dict[str, list[dict]]:
    """The run's parameters as declared in the schema: the named assumptions with the values of this
    run (marking those that differ from the default), and every parameter this run changed."""
    from ketenplan.scenario import parameters_table

    t = parameters_table(as_run(res))
    return {"assumptions": t[t.kind == "assumption"].to_dict("records"),
            "changed": t[t.differs & ~t.name.isin(["name", "description"])].to_dict("records")}


def write_outputs(res: Results, folder: str | Path, report: str = "report.html") -> list[Path]:
    """``res.to_parquet(folder)`` and :func:`render_report` into ``folder``, side by side: the
    Parquet tables are exported by DuckDB in a second thread, with a connection of its own to the
    stored replicates (DuckDB works without Python's lock), while this thread builds the report.
    The same files as one after the other; a 1,000-replicate run's export (about 3 s) no longer
    waits for the report."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    folder = Path(folder)
    twin = replace(res, source=type(res.source)(res.source.folder))  # its own DuckDB connection
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export") as pool:
            exported = pool.submit(twin.to_parquet, folder)
            page = render_report(res, folder / report)
            return exported.result() + [page]  # the export's error, if any, is raised here
    finally:
        twin.source.close()


def render_report(res: Results, path: str | Path, *, title: str | None = None) -> Path:
    """Write the self-contained HTML report for one scenario run."""
    rows = _kpi_rows(res)
    post = _post_sections(res)  # once: each post-processor's report reads its tables over all replicates
    figs = figures(res, post)
    first = True
    sections = []
    for p, name in PILLARS.items():
        html_figs = []
        for f in figs[p]:
            html_figs.append(f.to_html(full_html=False, include_plotlyjs="inline" if first else False))
            first = False
        note = _placement_note(res) if p == "P6" else _solidarity_note(res.scenario) if p == "P2" else \
            _forecast_note(res) if p == "P1" else NOT_YET.get(p)
        notes = [note] if note else []
        for extra in post.values():
            notes += [x for x in extra.get(p, []) if isinstance(x, str)]
        sections.append({"id": p, "name": name, "figures": html_figs, "note": "<br><br>".join(notes) or None,
                         "kpis": [r for r in rows if r["pillar"] == p]})
    muni_fig, muni_rows = _municipalities(res)
    muni_html = muni_fig.to_html(full_html=False, include_plotlyjs=False) if muni_fig is not None else ""
    from ketenplan.scenario import scenario_toml

    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["num"] = lambda v: "n/a" if pd.isna(v) else (f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}")
    tpl = env.from_string(resources.files("ketenplan.report").joinpath("report.html.j2").read_text("utf-8"))
    html = tpl.render(title=title or f"ketenplan: {res.scenario.name}", meta=res.metadata, sections=sections,
                      summary=summary(res), assumptions=assumptions(res), scenario_toml=scenario_toml(as_run(res)),
                      description=res.scenario.description, partners=partner_views(res, rows),
                      municipality_figure=muni_html, municipalities=muni_rows)
    return write_text(path, html)
