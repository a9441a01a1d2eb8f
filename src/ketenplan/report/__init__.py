"""The HTML report: one section per pillar (P1-P6), plots with replicate bands, assumptions last.

Plots read Results only, never engine internals. The page is self-contained: plotly.js is
embedded once, so it opens without a network.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, StrictUndefined

from ketenplan._io import write_text
from ketenplan.engine.results import KPI_TABLE, Results
from ketenplan.scenario import parameters_table, scenario_toml

PILLARS = {
    "P1": "Prevent irregular migration: inflow",
    "P2": "Reception and protection in the region",
    "P3": "A solid and flexible asylum system: registration, procedure, reception",
    "P4": "Less illegality, more return",
    "P5": "Legal migration routes",
    "P6": "Integration and participation: housing of permit holders",
}
NOT_YET = {
    "P5": "Regular migration routes (work, study, family) are not modelled yet; resettlement is part of the "
          "chain and shown here.",
}


def _fan(res: Results, dimension: str, category: str, title: str, ytitle: str = "persons") -> go.Figure:
    w = res.stock(dimension, category)
    w = w.resample("W").last() if len(w) > 800 else w
    return _band(w, title, ytitle)


def _band(w: pd.DataFrame, title: str, ytitle: str) -> go.Figure:
    """p10-p90 band and median over the columns (replicates) of ``w``, by its index (dates)."""
    q = w.quantile([0.1, 0.5, 0.9], axis=1).T
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=q.index, y=q[0.9], line=dict(width=0), showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=q.index, y=q[0.1], fill="tonexty", line=dict(width=0), name="p10-p90",
                             fillcolor="rgba(31,119,180,0.25)"))
    fig.add_trace(go.Scatter(x=q.index, y=q[0.5], name="median", line=dict(color="rgb(31,119,180)")))
    fig.update_layout(title=title, yaxis_title=ytitle, height=340, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _arrivals_fan(res: Results) -> go.Figure | None:
    """Arrivals per month across replicates (p10-p90 and median): the inflow's own spread when the
    first applications come from forecast sample paths, one per replicate."""
    if res.scenario.inflow.source != "forecast":
        return None
    f = res.flows[res.flows.flow == "arrivals"]
    w = (f.assign(month=f.date.dt.to_period("M").dt.to_timestamp())
         .groupby(["month", "replicate"], observed=True).persons.sum().unstack())
    return _band(w, f"Arrivals per month across replicates (first applications from {w.shape[1]} forecast "
                    "sample paths, one per replicate)", "persons/month")


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
                          "stay as the scenario sets them: paths that stay above the decision capacity build "
                          "backlogs that a fixed capacity never clears, so occupancy bands show what unchanged "
                          "capacity would meet, not a prediction.")


def _locations(res: Results) -> go.Figure:
    s = res.stocks[res.stocks.dimension == "location"]
    m = s.groupby(["date", "category"], observed=True).persons.mean().unstack()
    m = m.resample("W").last() if len(m) > 800 else m
    fig = go.Figure()
    for c in ["central", "regular", "small_scale", "freedom_restricting", "emergency"]:
        if c in m:
            fig.add_trace(go.Scatter(x=m.index, y=m[c], stackgroup="one", name=c))
    fig.update_layout(title="Reception occupancy by location type (mean of replicates)", yaxis_title="persons",
                      height=340, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _shortage_probability(res: Results) -> go.Figure:
    """Share of replicates with anyone in an emergency place (no regular bed) at some day of the month."""
    e = res.stock("location", "emergency")
    p = (e > 0).groupby(e.index.to_period("M")).any().mean(axis=1)
    fig = go.Figure(go.Bar(x=p.index.to_timestamp(), y=p.values, name="P(shortage)"))
    fig.update_layout(title=f"Probability of a bed shortage in the month (share of {e.shape[1]} replicates "
                            "with anyone in an emergency place)", yaxis_title="probability",
                      yaxis_range=[0, 1], height=320, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _flows_per_month(res: Results, names: list[str], title: str) -> go.Figure:
    f = res.flows[res.flows.flow.isin(names)]
    f = f.assign(month=f.date.dt.to_period("M").dt.to_timestamp())
    m = f.groupby(["replicate", "month", "flow"], observed=True).persons.sum().groupby(["month", "flow"],
                                                                                     observed=True).mean()
    m = m.unstack()
    fig = go.Figure()
    for c in names:
        if c in m:
            fig.add_trace(go.Scatter(x=m.index, y=m[c], name=c))
    fig.update_layout(title=title, yaxis_title="persons/month", height=340, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _throughput(res: Results) -> go.Figure:
    j = res.journeys
    j = j[j.decision_date.notna() & ~j.warmup & j.stream.isin(["first", "subsequent"])]
    fig = go.Figure()
    for tr in ["general", "safe_country", "dublin"]:
        s = j[j.track == tr]
        if len(s):
            weeks = (s.decision_date - s.registration_date).dt.days / 7
            fig.add_trace(go.Histogram(x=np.repeat(weeks.to_numpy(), s.persons.to_numpy()), name=tr, opacity=0.6,
                                       histnorm="probability", xbins=dict(size=4)))
    fig.update_layout(barmode="overlay", title="Registration to first-instance decision, by track (replicate 0)",
                      xaxis_title="weeks", yaxis_title="share of persons", height=340,
                      margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _housing(res: Results) -> go.Figure:
    h = res.housing.groupby("period")[["task", "backlog_in", "realised"]].mean()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=h.index, y=h.task, name="task"))
    fig.add_trace(go.Bar(x=h.index, y=h.backlog_in, name="backlog carried in"))
    fig.add_trace(go.Bar(x=h.index, y=h.realised, name="realised"))
    fig.update_layout(barmode="group", title="Housing task (taakstelling) per half-year, mean of replicates",
                      yaxis_title="persons", height=340, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def _departures(res: Results) -> go.Figure:
    names = ["departures_independent", "departures_forced", "departures_unsupervised", "dublin_transfers"]
    f = res.flows[res.flows.flow.isin(names)]
    y = f.groupby([f.date.dt.year, "flow", "replicate"], observed=True).persons.sum().groupby(
        level=[0, 1], observed=True).mean().unstack()
    fig = go.Figure()
    for c in names:
        if c in y:
            fig.add_trace(go.Bar(x=y.index, y=y[c], name=c))
    fig.update_layout(barmode="stack", title="Departures per year (mean of replicates)", yaxis_title="persons",
                      height=340, margin=dict(l=50, r=20, t=50, b=40))
    return fig


# Views per chain partner (P0.6): the key figures each partner plans with
PARTNERS = {
    "IND (decisions)": ["first_applications_per_year", "ind_pending_end", "decision_time_general_weeks",
                        "decision_time_safe_weeks", "decision_time_dublin_weeks", "statutory_breach_share",
                        "permits_per_year"],
    "COA (reception)": ["coa_occupancy_peak", "coa_occupancy_mean", "emergency_occupancy_peak", "shortage_days",
                        "reception_cost_per_year", "moves_per_person", "moves_per_school_child",
                        "permit_holders_in_reception_mean"],
    "DT&V (return)": ["departures_independent_per_year", "departures_forced_per_year",
                      "departures_unsupervised_per_year", "without_residence_right_mean"],
    "Police and KMar (registration)": ["arrivals_per_year", "waiting_registration_peak"],
    "Municipalities (housing)": ["housed_per_year", "housing_wait_weeks", "housing_backlog_end",
                                 "resettled_per_year", "nareis_per_year"],
}


def partner_views(res: Results) -> list[dict]:
    """Per chain partner: its key figures (mean, p10, p90 over replicates)."""
    summary = res.kpi_summary().set_index("kpi")
    desc = {k: d for k, _, _, d in KPI_TABLE}
    views = []
    for partner, names in PARTNERS.items():
        rows = [dict(kpi=k, unit=summary.loc[k, "unit"], desc=desc[k], mean=summary.loc[k, "mean"],
                     p10=summary.loc[k, "p10"], p90=summary.loc[k, "p90"]) for k in names if k in summary.index]
        views.append({"partner": partner, "kpis": rows})
    return views


def _municipalities(res: Results) -> tuple[go.Figure | None, list[dict]]:
    """Permit holders placed per province (figure) and the municipalities with the largest task (rows)."""
    m = res.extras.get("placement_by_municipality")
    if m is None or len(m) == 0:
        return None, []
    prov = m.groupby("province")[["persons_optimal", "persons_status_quo", "employed_optimal",
                                  "employed_status_quo"]].sum().sort_values("persons_optimal", ascending=False)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=prov.index, y=prov.employed_status_quo, name="expected employed, status quo"))
    fig.add_trace(go.Bar(x=prov.index, y=prov.employed_optimal, name="expected employed, matched"))
    fig.update_layout(barmode="group", title="Permit holders expected to be employed, by province "
                                             "(first replicate, reported period)", yaxis_title="persons",
                      height=340, margin=dict(l=50, r=20, t=50, b=80))
    top = m.sort_values("persons_optimal", ascending=False).head(15)
    return fig, top.to_dict("records")


def _placement(res: Results) -> go.Figure | None:
    bp = res.extras.get("placement_by_period")
    if bp is None or len(bp) == 0:
        return None
    g = bp.groupby("period")[["expected_employed_optimal", "expected_employed_status_quo", "gain_pct"]].mean()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=g.index, y=g.expected_employed_status_quo, name="status quo (by task only)"))
    fig.add_trace(go.Bar(x=g.index, y=g.expected_employed_optimal, name="matched on expected employment"))
    fig.add_trace(go.Scatter(x=g.index, y=g.gain_pct, name="gain [%]", yaxis="y2", mode="lines+markers"))
    fig.update_layout(barmode="group", title="Permit holders expected to be employed, by half-year of the permit",
                      yaxis_title="persons", yaxis2=dict(title="gain [%]", overlaying="y", side="right",
                                                         rangemode="tozero"),
                      height=360, margin=dict(l=50, r=50, t=50, b=40), legend=dict(orientation="h", y=-0.15))
    return fig


COMPARATORS = ("NLD", "DEU", "BEL", "SWE", "AUT", "FRA", "DNK")


def _solidarity_note(year: int = 2023) -> str:
    """P2: the Netherlands among host countries (UNHCR, World Bank) and its fair share under the 2024 Pact."""
    from html import escape

    from ketenplan.solidarity import distribution_key, host_indicators

    h = host_indicators(year)
    top = h.nsmallest(5, "rank_per_1000_inhabitants")
    rows = pd.concat([top, h[h.iso3.isin(COMPARATORS)]]).drop_duplicates("iso3")
    n = int(h.rank_per_1000_inhabitants.max())
    body = "".join(
        f"<tr><td>{escape(str(r.name))}</td><td class='n'>{r.hosted:,.0f}</td><td class='n'>{r.per_1000_inhabitants:.1f}</td>"
        f"<td class='n'>{int(r.rank_per_1000_inhabitants)}</td>"
        f"<td class='n'>{'n/a' if pd.isna(r.per_usd_million_gdp_ppp) else f'{r.per_usd_million_gdp_ppp:.2f}'}</td></tr>"
        for r in rows.itertuples())
    k = distribution_key("pact-2024", year)
    nl = float(k.loc["NLD", "share"])
    return (f"Refugees hosted at the end of {year} (UNHCR; refugees, World Bank population and GDP), the five largest "
            f"per inhabitant among {n} countries and some European comparators "
            f"(all countries: <code>ketenplan solidarity indicators --year {year}</code>):"
            f"<table><tr><th>country</th><th>hosted</th><th>per 1,000 inhabitants</th><th>rank</th>"
            f"<th>per USD 1 million GDP (PPP)</th></tr>{body}</table>"
            f"Under the 2024 Pact the Dutch fair share ({year} inputs: 50% population, 50% GDP over EU27 minus "
            f"Denmark) is {100 * nl:.2f}%: of the annual pool of 30,000 relocations or EUR 600 million, "
            f"{nl * 30000:,.0f} relocations or EUR {nl * 600:,.1f} million. Keys, allocations and replays of the "
            f"2015 and 2016 schemes: <code>ketenplan solidarity</code> (docs/solidarity.md).")


def _placement_note(res: Results) -> str | None:
    bp = res.extras.get("placement_by_period")
    if bp is None or len(bp) == 0:
        return None
    opt, sq = bp.expected_employed_optimal.sum(), bp.expected_employed_status_quo.sum()
    moves = np.average(bp.moves_per_person, weights=bp.persons)
    early = bp.persons_placed_at_routing.sum() / max(bp.persons.sum(), 1) if "persons_placed_at_routing" in bp else 0.0
    return (f"Placement (P3.7, P6.2), replicate {int(bp.replicate.min())}: matching each half-year's permit "
            f"holders to municipalities within the housing task would employ {opt:,.0f} persons against "
            f"{sq:,.0f} under placement by task only (+{100 * (opt / sq - 1):.1f}%); moves in reception "
            f"{moves:.2f} per person; {100 * early:.0f}% matched already at routing to a small-scale location "
            f"near their future municipality (lever routing_small_scale). Employment model: {res.extras.get('placement_model', 'default')}. "
            f"The default model's coefficients are sourced figures or named assumptions, not a fit "
            f"(see <code>ketenplan place</code> and docs/placement.md). The objective weighs employment only: it "
            f"sends the adults most likely to find work to the municipalities with the best prospects and "
            f"households without employable adults elsewhere, which the per-municipality view below shows; "
            f"spread or fairness between municipalities is not part of it.")


def figures(res: Results) -> dict[str, list[go.Figure]]:
    """The plots of each pillar."""
    return {
        "P1": [f for f in (_arrivals_fan(res),
                           _flows_per_month(res, ["arrivals", "nareis_arrivals", "registrations"],
                                            "Arrivals, nareis and registrations per month (mean of replicates)"))
               if f is not None],
        "P2": [],
        "P3": [_fan(res, "derived", "coa_occupancy", "COA reception occupancy (emergency included)"),
               _locations(res), _shortage_probability(res),
               _fan(res, "derived", "ind_pending", "First-instance applications without a decision"),
               _fan(res, "stage", "waiting_registration", "Waiting for registration"), _throughput(res)],
        "P4": [_departures(res), _fan(res, "stage", "return_outside_reception",
                                      "Rejected, awaiting departure outside reception")],
        "P5": [_flows_per_month(res, ["resettled"], "Resettled refugees per month (mean of replicates)")],
        "P6": [f for f in (_fan(res, "derived", "permit_holders_in_reception", "Permit holders waiting in reception"),
                           _housing(res), _placement(res)) if f is not None],
    }


def render_report(res: Results, path: str | Path, *, title: str | None = None) -> Path:
    """Write the self-contained HTML report for one scenario run."""
    summary = res.kpi_summary()
    desc = {k: d for k, _, _, d in KPI_TABLE}
    figs = figures(res)
    first = True
    sections = []
    for p, name in PILLARS.items():
        html_figs = []
        for f in figs[p]:
            html_figs.append(f.to_html(full_html=False, include_plotlyjs="inline" if first else False))
            first = False
        rows = summary[summary.pillar == p]
        note = _placement_note(res) if p == "P6" else _solidarity_note() if p == "P2" else \
            _forecast_note(res) if p == "P1" else NOT_YET.get(p)
        sections.append({"id": p, "name": name, "figures": html_figs, "note": note,
                         "kpis": [dict(kpi=r.kpi, unit=r.unit, desc=desc[r.kpi], mean=r.mean, p10=r.p10, p90=r.p90)
                                  for r in rows.itertuples()]})
    muni_fig, muni_rows = _municipalities(res)
    muni_html = muni_fig.to_html(full_html=False, include_plotlyjs=False) if muni_fig is not None else ""
    params = parameters_table()
    assumptions = params[params.source.str.startswith("assumption")]
    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["num"] = lambda v: "n/a" if pd.isna(v) else (f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}")
    tpl = env.from_string(resources.files("ketenplan.report").joinpath("report.html.j2").read_text("utf-8"))
    html = tpl.render(title=title or f"ketenplan: {res.scenario.name}", meta=res.metadata, sections=sections,
                      assumptions=assumptions.to_dict("records"), scenario_toml=scenario_toml(res.scenario),
                      description=res.scenario.description, partners=partner_views(res),
                      municipality_figure=muni_html, municipalities=muni_rows)
    return write_text(path, html)
