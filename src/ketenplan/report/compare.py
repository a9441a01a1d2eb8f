"""Scenarios side by side (P0.4): key figures with paired differences, and overlaid stocks.

Every scenario is run with the same root seed, so replicate ``i`` of each draws from the same child
stream ``i`` (common random numbers). The difference of a key figure is taken per replicate and
then summarised, which separates the effect of a measure from replicate noise better than two
independent bands would.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, StrictUndefined

from ketenplan._io import write_csv, write_text
from ketenplan.engine.results import Results
from ketenplan.errors import ScenarioError

COLOURS = ("31,119,180", "255,127,14", "44,160,44", "214,39,40", "148,103,189", "140,86,75")

# stocks overlaid in the comparison page: (dimension, category, title)
STOCKS = (("derived", "coa_occupancy", "COA reception occupancy"),
          ("derived", "ind_pending", "First-instance applications without a decision"),
          ("derived", "permit_holders_in_reception", "Permit holders waiting in reception"),
          ("stage", "waiting_registration", "Waiting for registration"),
          ("stage", "return_outside_reception", "Rejected, awaiting departure outside reception"))


def comparison_table(results: list[Results]) -> pd.DataFrame:
    """One row per key figure and scenario: mean, p10, p90 and, against the first scenario, the
    mean paired difference with its p10 and p90 over replicates (replicates paired by number)."""
    if len(results) < 2:
        raise ScenarioError(f"a comparison needs at least two scenarios, found {len(results)}")
    names = [r.scenario.name for r in results]
    if len(set(names)) < len(names):
        raise ScenarioError(f"scenario names must differ to be compared side by side, found {names}; "
                            "give each file its own 'name'")
    from ketenplan.post import all_kpis

    declared = all_kpis()
    base = results[0].kpis.pivot(index="replicate", columns="kpi", values="value")
    names = [n for n in declared if all(n in set(r.kpis.kpi) for r in results)]
    rows = []
    for res in results:
        k = res.kpis.pivot(index="replicate", columns="kpi", values="value")
        paired = k.index.intersection(base.index)
        diff = k.loc[paired] - base.loc[paired]
        for name in names:
            pillar, unit = declared[name].pillar, declared[name].unit
            v, d = k[name], diff[name]
            rows.append({"kpi": name, "pillar": pillar, "unit": unit, "scenario": res.scenario.name,
                         "mean": v.mean(), "p10": v.quantile(0.1), "p90": v.quantile(0.9),
                         "diff_mean": d.mean(), "diff_p10": d.quantile(0.1), "diff_p90": d.quantile(0.9),
                         "replicates": int(v.notna().sum())})
    return pd.DataFrame(rows)


def _overlay(results: list[Results], dimension: str, category: str, title: str) -> go.Figure:
    fig = go.Figure()
    for res, colour in zip(results, COLOURS * 10):
        w = res.stock(dimension, category)
        w = w.resample("W").last() if len(w) > 800 else w
        q = w.quantile([0.1, 0.5, 0.9], axis=1).T
        name = res.scenario.name
        fig.add_trace(go.Scatter(x=q.index, y=q[0.9], line=dict(width=0), showlegend=False, hoverinfo="skip",
                                 legendgroup=name))
        fig.add_trace(go.Scatter(x=q.index, y=q[0.1], fill="tonexty", line=dict(width=0), showlegend=False,
                                 fillcolor=f"rgba({colour},0.18)", hoverinfo="skip", legendgroup=name))
        fig.add_trace(go.Scatter(x=q.index, y=q[0.5], name=name, line=dict(color=f"rgb({colour})"),
                                 legendgroup=name))
    fig.update_layout(title=f"{title} (median and p10-p90)", yaxis_title="persons", height=340,
                      margin=dict(l=50, r=20, t=50, b=40))
    return fig


def render_comparison(results: list[Results], folder: str | Path) -> Path:
    """Write ``compare.html`` and ``compare_kpis.csv`` into ``folder``; returns the HTML path."""
    folder = Path(folder)
    table = comparison_table(results)
    write_csv(folder / "compare_kpis.csv", table)
    figs = [_overlay(results, *s) for s in STOCKS]
    html_figs = [f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
                 for i, f in enumerate(figs)]
    from ketenplan.post import all_kpis

    names = [r.scenario.name for r in results]
    desc = {k: v.description for k, v in all_kpis().items()}
    wide = []
    for (kpi, pillar, unit), g in table.groupby(["kpi", "pillar", "unit"], sort=False):
        g = g.set_index("scenario").loc[names]
        wide.append({"kpi": kpi, "pillar": pillar, "unit": unit, "desc": desc[kpi],
                     "cells": [dict(mean=r["mean"], diff=r.diff_mean, lo=r.diff_p10, hi=r.diff_p90)
                               for _, r in g.iterrows()]})
    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["num"] = lambda v: "n/a" if pd.isna(v) else (f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}")
    env.filters["signed"] = lambda v: "n/a" if pd.isna(v) else (f"{v:+,.2f}" if abs(v) < 10 else f"{v:+,.0f}")
    tpl = env.from_string(resources.files("ketenplan.report").joinpath("compare.html.j2").read_text("utf-8"))
    meta = results[0].metadata
    html = tpl.render(names=names, rows=wide, figures=html_figs, seed=meta["seed"], replicates=meta["replicates"],
                      start=meta["start"], end=meta["end"], version=meta["version"],
                      scenarios=[(r.scenario.name, r.metadata["scenario_hash"], r.scenario.description)
                                 for r in results])
    return write_text(folder / "compare.html", html)
