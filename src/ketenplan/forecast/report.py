"""Plots, tables and the self-contained HTML pages of the forecast commands."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from ketenplan._io import write_csv, write_text
from ketenplan.forecast.api import Forecast
from ketenplan.forecast.backtest import BacktestResult


def forecast_figure(fc: Forecast, n_show: int = 20) -> go.Figure:
    """Fan chart: history, 80%/95% bands, median and a few sample paths."""
    t, h = fc.table, fc.history.tail(72)
    fig = go.Figure()
    for lo, hi, name, alpha in (("lo95", "hi95", "95% interval", 0.15), ("lo80", "hi80", "80% interval", 0.3)):
        fig.add_trace(go.Scatter(x=list(t["month"]) + list(t["month"][::-1]), y=list(t[hi]) + list(t[lo][::-1]),
                                 fill="toself", fillcolor=f"rgba(31,119,180,{alpha})", line={"width": 0}, name=name))
    for pid in sorted(fc.paths["path"].unique())[:n_show]:
        d = fc.paths[fc.paths["path"] == pid]
        fig.add_trace(go.Scatter(x=d["month"], y=d["applicants"], mode="lines", line={"width": 0.6, "color": "grey"},
                                 opacity=0.4, showlegend=bool(pid == 0), name="sample paths"))
    for kind, dash in (("observed", None), ("bridged", "dot")):
        d = h[h["kind"] == kind]
        if len(d):
            fig.add_trace(go.Scatter(x=d["month"], y=d["applicants"], mode="lines", line={"color": "black", "dash": dash},
                                     name=f"{kind} (Eurostat)"))
    fig.add_trace(go.Scatter(x=t["month"], y=t["point"], mode="lines", line={"color": "#1f77b4", "width": 2},
                             name="forecast median"))
    fig.update_layout(title=f"Asylum applicants per month, {fc.country}: forecast from {fc.origin}",
                      yaxis_title="applicants [persons/month]", template="plotly_white")
    return fig


def write_forecast(fc: Forecast, out: Path) -> list[Path]:
    """Write table, paths, metadata and the plot page; returns the paths written."""
    out = Path(out)
    fig = forecast_figure(fc)
    page = (f"<html><head><meta charset='utf-8'><title>ketenplan forecast {fc.country}</title></head><body>"
            f"<h1>Forecast of asylum applicants, {html.escape(fc.country)}</h1>"
            f"<p>{html.escape(fc.meta['series'])}. Origin {fc.origin}. Model: combination of ETS, ARIMA, Theta and a "
            f"pooled cross-country regression; intervals from backtest errors.</p>"
            + fig.to_html(full_html=False, include_plotlyjs="inline")
            + fc.table.round(0).to_html(index=False) + "</body></html>")
    return [write_csv(out / "forecast.csv", fc.table), write_csv(out / "paths.csv", fc.paths),
            write_text(out / "forecast.json", json.dumps(fc.meta, indent=2)), write_text(out / "forecast.html", page)]


def backtest_figures(res: BacktestResult) -> list[go.Figure]:
    m = res.metrics
    f1 = go.Figure()
    for model, d in m.groupby("model", sort=False):
        f1.add_trace(go.Scatter(x=d["h"], y=d["mase_ratio_snaive"], mode="lines+markers", name=model))
    for model, d in m.groupby("model", sort=False):
        f1.add_trace(go.Scatter(x=d["h"], y=d["mase_path_ratio_snaive"], mode="lines+markers", line_dash="dash",
                                name=f"{model} (path 1..h)", visible="legendonly"))
    f1.add_hline(y=0.85, line_dash="dot", annotation_text="0.85")
    f1.update_layout(title="MASE relative to seasonal naive: at step h (solid); over the path 1..h, "
                           "the M4 convention (dashed, click the legend)", xaxis_title="horizon [months]",
                     yaxis_title="MASE / MASE(snaive)", template="plotly_white")
    f2 = go.Figure()
    for model, d in m.groupby("model", sort=False):
        f2.add_trace(go.Scatter(x=d["h"], y=d["coverage80"], mode="lines+markers", name=f"{model} 80%"))
    f2.add_hrect(y0=0.75, y1=0.85, fillcolor="green", opacity=0.1, line_width=0)
    f2.update_layout(title="Empirical coverage of the 80% intervals", xaxis_title="horizon [months]",
                     yaxis_title="share of outcomes inside", template="plotly_white")
    return [f1, f2]


def write_backtest(res: BacktestResult, out: Path, nl_table: pd.DataFrame | None = None) -> list[Path]:
    """Write metrics tables and the HTML page of a backtest."""
    out = Path(out)
    figs = backtest_figures(res)
    parts = [f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False) for i, f in enumerate(figs)]
    s = res.settings
    nl_html = ""
    if nl_table is not None:
        nl_html = ("<h2>Netherlands: forecast of the calendar-year total beside the official forecasts</h2>"
                   "<p>Eurostat definition (first + subsequent applicants) and chain total (+ nareis linked to "
                   "positive decisions of the year before). Official forecasts refer to the chain total.</p>"
                   + nl_table.round(1).to_html(index=False))
    page = ("<html><head><meta charset='utf-8'><title>ketenplan forecast backtest</title></head><body>"
            "<h1>Rolling-origin backtest of the inflow forecasts</h1>"
            f"<p>{len(s['countries'])} countries ({', '.join(s['countries'])}); origins every quarter "
            f"{s['origins'][0]}..{s['origins'][-1]}, scored from {s['first_eval']}; data to {s['data_end']}. "
            f"Run time {res.seconds:.1f} s. Every model is refitted at each origin on data up to it; intervals "
            "come from errors of earlier origins only.</p>"
            + res.metrics.round(3).to_html(index=False) + "".join(parts) + nl_html + "</body></html>")
    paths = [write_csv(out / "backtest_metrics.csv", res.metrics),
             write_csv(out / "backtest_metrics_by_country.csv", res.metrics_by_country),
             write_csv(out / "backtest_forecasts.csv", res.forecasts),
             write_text(out / "backtest.html", page)]
    if nl_table is not None:
        paths.append(write_csv(out / "nl_annual_vs_official.csv", nl_table))
    return paths
