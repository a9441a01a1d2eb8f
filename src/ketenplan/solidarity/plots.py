"""Plotly figures (self-contained HTML with plotly.js inline)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def to_html(fig: go.Figure) -> str:
    """Self-contained HTML (plotly.js inline, viewable offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def key_bar(key: pd.DataFrame, title: str) -> go.Figure:
    d = key.sort_values("share", ascending=False)
    fig = go.Figure(go.Bar(x=d["name"], y=100 * d["share"], text=[f"{v:.2f}%" for v in 100 * d["share"]],
                           hovertemplate="%{x}: %{y:.3f}%<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="share of the key [%]", xaxis_title="state")
    return fig


def allocation_bar(alloc: pd.DataFrame, title: str) -> go.Figure:
    d = alloc.sort_values("persons", ascending=False)
    fig = go.Figure(go.Bar(x=d["name"], y=d["persons"], text=d["persons"],
                           hovertemplate="%{x}: %{y:,} persons<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="persons", xaxis_title="state")
    return fig


def simulation_figure(res: pd.DataFrame, title: str, focus: str = "NLD") -> go.Figure:
    """Top: net relocations (in - out) per state and year (heatmap). Bottom: the focus state's
    applications against its reference number, with relocations in and out."""
    net = (res.assign(net=res["relocations_in"] - res["relocations_out"])
           .pivot(index="name", columns="year", values="net"))
    fig = make_subplots(rows=2, cols=1, subplot_titles=("net relocations (in - out) [persons]",
                                                        f"{focus}: applications, reference number, relocations"),
                        vertical_spacing=0.12, row_heights=[0.6, 0.4])
    fig.add_trace(go.Heatmap(z=net.values, x=[str(c) for c in net.columns], y=list(net.index),
                             colorscale="RdBu", zmid=0, colorbar=dict(len=0.55, y=0.72)), row=1, col=1)
    f = res[res.iso3 == focus]
    if not f.empty:
        yrs = [str(y) for y in f["year"]]
        fig.add_trace(go.Bar(x=yrs, y=f["applications"], name="applications (A+R)"), row=2, col=1)
        fig.add_trace(go.Scatter(x=yrs, y=f["reference_number"], name="reference number", mode="lines+markers"),
                      row=2, col=1)
        fig.add_trace(go.Bar(x=yrs, y=f["relocations_in"], name="relocations in"), row=2, col=1)
        fig.add_trace(go.Bar(x=yrs, y=-f["relocations_out"], name="relocations out (negative)"), row=2, col=1)
    fig.update_layout(title=title, height=1000, barmode="group")
    return fig


def indicators_bar(ind: pd.DataFrame, column: str, title: str, top: int = 25) -> go.Figure:
    d = ind.dropna(subset=[column]).sort_values(column, ascending=False).head(top)
    fig = go.Figure(go.Bar(x=d["name"], y=d[column], hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    fig.update_layout(title=title, yaxis_title=column, xaxis_title="country of asylum")
    return fig
