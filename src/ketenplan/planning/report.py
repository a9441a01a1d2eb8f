"""The plan page (``plan.html``): a one-screen summary, the policies side by side, the Pareto chart
of expected cost against shortage risk, beds needed at assurance levels with the capacity each
policy held, and costs over time per partner. Self-contained: plotly.js is embedded once."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, StrictUndefined

from ketenplan._io import write_text
from ketenplan.planning.costs import ITEMS, PARTNER_LABELS, PARTNERS
from ketenplan.planning.plan import ASSURANCE, Plan, beds_at_assurance, policy_sources

#: rows of the side-by-side table: (column of Plan.summary(), label, format)
TABLE_ROWS = (
    ("cost_mean_eur", "expected total cost [EUR million]", "meur"),
    ("cost_p10_eur", "total cost p10 [EUR million]", "meur"),
    ("cost_p90_eur", "total cost p90 [EUR million]", "meur"),
    ("cost_per_year_eur", "expected cost per year [EUR million]", "meur"),
    ("cost_coa_eur", "COA (reception) [EUR million]", "meur"),
    ("cost_ind_eur", "IND (decisions) [EUR million]", "meur"),
    ("cost_municipalities_eur", "municipalities (housing) [EUR million]", "meur"),
    ("p_shortage", "probability of any shortage", "pct"),
    ("p_shortage_lo90", "  90% interval of that probability, from", "pct"),
    ("p_shortage_hi90", "  to", "pct"),
    ("emergency_place_days_mean", "emergency place-days (mean)", "num"),
    ("emergency_place_days_p90", "emergency place-days (p90)", "num"),
    ("shortage_days_mean", "days with anyone in an emergency place (mean)", "num"),
    ("p_without_place", "probability of anyone without a place (above the emergency limit)", "pct"),
    ("without_place_person_days_mean", "person-days without a place (mean)", "num"),
    ("days_over_application_centre_cap_mean", "days over the application-centre cap (mean)", "num"),
    ("beds_p90_peak", "beds needed at 90% assurance, peak month", "num"),
    ("capacity_mean_places", "regular + small-scale places held (mean)", "num"),
    ("places_opened_mean", "places opened (mean)", "num"),
    ("places_closed_mean", "places closed (mean)", "num"),
    ("standby_activated_mean", "standby places activated (mean)", "num"),
    ("moves_per_person_mean", "moves per person", "num"),
    ("permit_holders_waiting_mean", "permit holders waiting in reception (mean)", "num"),
    ("decision_time_weeks_mean", "registration to first-instance decision [weeks]", "num"),
)
COLOURS = ("31,119,180", "255,127,14", "44,160,44", "148,103,189", "140,86,75", "227,119,194", "127,127,127")
RED = "rgb(214,39,40)"
LAYOUT = dict(height=360, margin=dict(l=70, r=20, t=70, b=40), legend=dict(orientation="h", y=-0.2))


def _layout(fig: go.Figure, title: str, ytitle: str, xtitle: str | None = None) -> go.Figure:
    fig.update_layout(title=dict(text=title, y=0.97, yanchor="top", font=dict(size=14)), yaxis_title=ytitle,
                      xaxis_title=xtitle, **LAYOUT)
    return fig


def pareto_figure(summary: pd.DataFrame) -> go.Figure:
    """Expected cost per year against the probability of a shortage, one point per policy (error bar:
    p10-p90 of the cost); the non-dominated policies are marked and joined."""
    fig = go.Figure()
    yrs = summary.cost_mean_eur / summary.cost_per_year_eur
    y = summary.cost_per_year_eur / 1e6
    lo = summary.cost_p10_eur / yrs / 1e6
    hi = summary.cost_p90_eur / yrs / 1e6
    front = summary[summary.pareto].sort_values("p_shortage")
    fig.add_trace(go.Scatter(x=front.p_shortage, y=front.cost_per_year_eur / 1e6, mode="lines",
                             line=dict(color="rgba(0,0,0,0.35)", dash="dot"), name="Pareto front", hoverinfo="skip"))
    for k, (r, yy, l_, h_) in enumerate(zip(summary.itertuples(), y, lo, hi)):
        fig.add_trace(go.Scatter(
            x=[r.p_shortage], y=[yy], mode="markers+text", text=[r.policy], textposition="top center",
            name=f"{r.policy}{' (non-dominated)' if r.pareto else ' (dominated)'}",
            marker=dict(size=14 if r.pareto else 10, symbol="star" if r.pareto else "circle-open",
                        color=f"rgb({COLOURS[k % len(COLOURS)]})"),
            error_y=dict(type="data", symmetric=False, array=[h_ - yy], arrayminus=[yy - l_], thickness=1)))
    fig.update_xaxes(range=[-0.05, 1.05], tickformat=".0%")
    return _layout(fig, "Expected cost against shortage risk (one point per policy; stars: non-dominated)",
                   "EUR million per year (p10-p90 bar)", "probability of any shortage (share of runs)")


def beds_figure(plan: Plan, k: int) -> go.Figure:
    """Monthly peak need of policy ``k`` (p10-p90 band, median, beds at 90% assurance) with the
    capacity the policy held (median over runs)."""
    pr = plan.policies[k]
    x = plan.months
    q = np.quantile(pr.need, [0.1, 0.5, 0.9], axis=0)
    b90 = beds_at_assurance(pr.need, (0.9,))[0]
    col = COLOURS[k % len(COLOURS)]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=q[2], line=dict(width=0), showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=q[0], fill="tonexty", line=dict(width=0), name="need p10-p90",
                             fillcolor=f"rgba({col},0.25)"))
    fig.add_trace(go.Scatter(x=x, y=q[1], name="need, median", line=dict(color=f"rgb({col})")))
    fig.add_trace(go.Scatter(x=x, y=b90, name="beds at 90% assurance", line=dict(color=f"rgb({col})", dash="dot")))
    fig.add_trace(go.Scatter(x=x, y=np.median(pr.capacity, axis=0), name="capacity (regular + small-scale places)",
                             line=dict(color=RED, dash="dash")))
    return _layout(fig, f"{pr.policy.name}: monthly peak need (COA occupancy, emergency included) and capacity",
                   "persons / places")


def cost_total_figure(plan: Plan) -> go.Figure:
    """Total cost per month of each policy (mean over runs, with its p10-p90 band)."""
    fig = go.Figure()
    for k, pr in enumerate(plan.policies):
        tot = pr.costs.sum(axis=2) / 1e6
        col = COLOURS[k % len(COLOURS)]
        q = np.quantile(tot, [0.1, 0.9], axis=0)
        fig.add_trace(go.Scatter(x=plan.months, y=q[1], line=dict(width=0), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=plan.months, y=q[0], fill="tonexty", line=dict(width=0), showlegend=False,
                                 fillcolor=f"rgba({col},0.15)", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=plan.months, y=tot.mean(axis=0), name=pr.policy.name,
                                 line=dict(color=f"rgb({col})")))
    return _layout(fig, "Cost per month, all partners (mean over runs, band p10-p90)", "EUR million per month")


def cost_items_figure(plan: Plan, k: int) -> go.Figure:
    """Mean cost per month of policy ``k`` by partner and item, stacked."""
    pr = plan.policies[k]
    mean = pr.costs.mean(axis=0) / 1e6
    fig = go.Figure()
    for j, (partner, item, _, label, _) in enumerate(ITEMS):
        if not np.any(mean[:, j]):
            continue
        fig.add_trace(go.Scatter(x=plan.months, y=mean[:, j], stackgroup="one", mode="lines",
                                 name=f"{PARTNER_LABELS[partner].split(' ')[0]}: {label}"))
    return _layout(fig, f"{pr.policy.name}: cost per month by partner and item (mean over runs)",
                   "EUR million per month")


def headline(plan: Plan, summary: pd.DataFrame) -> dict:
    """The one-screen summary: beds at 90% assurance and when, shortage risk and cost per year of each
    policy, the recommended (cheapest non-dominated) policy and the binding bottleneck."""
    front = summary[summary.pareto].sort_values("cost_mean_eur")
    best = front.iloc[0]
    b90 = beds_at_assurance(plan.policies[0].need, (0.9,))[0]
    m = int(np.argmax(b90))
    return {"beds_p90": float(b90[m]), "beds_p90_month": plan.months[m].strftime("%B %Y"),
            "beds_p50": float(beds_at_assurance(plan.policies[0].need, (0.5,))[0][m]),
            "cheapest_front": str(best.policy), "cheapest_cost_year": float(best.cost_per_year_eur),
            "cheapest_p_shortage": float(best.p_shortage), "bottleneck": plan.bottleneck(),
            "rows": summary.to_dict("records")}


def render_plan(plan: Plan, path: str | Path) -> Path:
    """Write the self-contained plan page."""
    summary = plan.summary()
    figs = [pareto_figure(summary)]
    figs += [beds_figure(plan, k) for k in range(len(plan.policies))]
    figs += [cost_total_figure(plan)] + [cost_items_figure(plan, k) for k in range(len(plan.policies))]
    html = [f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False,
                      div_id=f"fig{i}") for i, f in enumerate(figs)]
    n = len(plan.policies)
    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["num"] = lambda v: "n/a" if pd.isna(v) else (f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}")
    env.filters["meur"] = lambda v: "n/a" if pd.isna(v) else f"{v / 1e6:,.0f}"
    env.filters["pct"] = lambda v: "n/a" if pd.isna(v) else f"{v:.0%}"
    tpl = env.from_string(resources.files("ketenplan.planning").joinpath("plan.html.j2").read_text("utf-8"))
    page = tpl.render(meta=plan.metadata, head=headline(plan, summary), rows=summary.to_dict("records"),
                      pareto=html[0], beds=html[1:1 + n], cost_total=html[1 + n], cost_items=html[2 + n:],
                      policies=policy_sources(plan), levels=[int(round(lv * 100)) for lv in ASSURANCE],
                      partners=[PARTNER_LABELS[p] for p in PARTNERS], years=plan.years,
                      units=_unit_rows(plan), beds_peak=_beds_peak(plan),
                      table_rows=TABLE_ROWS)
    return write_text(path, page)


def _beds_peak(plan: Plan) -> list[dict]:
    """Beds needed at every assurance level in the month where the 90% level peaks, per policy."""
    out = []
    for pr in plan.policies:
        b = beds_at_assurance(pr.need)
        m = int(np.argmax(b[ASSURANCE.index(0.9)]))
        out.append({"policy": pr.policy.name, "month": plan.months[m].strftime("%Y-%m"),
                    "values": [float(v) for v in b[:, m]]})
    return out


def _unit_rows(plan: Plan) -> list[dict]:
    """The unit costs used (the first policy's scenario) with their declared sources."""
    from ketenplan.scenario import parameters_table

    t = parameters_table(plan.policies[0].scenario).set_index("name")
    rows = []
    for partner, item, unit, label, key in ITEMS:
        r = t.loc[key]
        rows.append({"partner": PARTNER_LABELS[partner], "item": label, "key": key, "value": r["value"],
                     "unit": r["unit"], "source": r["source"], "years": r["years"]})
    return rows
