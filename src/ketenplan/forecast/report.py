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
    fig.add_trace(go.Scatter(x=t["month"], y=t["median"], mode="lines", line={"color": "#1f77b4", "width": 2},
                             name="forecast median"))
    fig.add_trace(go.Scatter(x=t["month"], y=t["point"], mode="lines", line={"color": "#1f77b4", "width": 1, "dash": "dash"},
                             name="model point forecast (scored in the backtest)"))
    fig.update_layout(title=f"Asylum applicants per month, {fc.country}: forecast from {fc.origin}",
                      yaxis_title="applicants [persons/month]", template="plotly_white")
    return fig


def write_forecast(fc: Forecast, out: Path) -> list[Path]:
    """Write table, paths, metadata and the plot page; returns the paths written."""
    out = Path(out)
    fig = forecast_figure(fc)
    early = (f" The data of {html.escape(fc.country)} end in {fc.meta['data_last_month']}, so the forecast starts there."
             if fc.meta.get("data_last_month") and fc.meta["data_last_month"] < fc.meta.get("latest_data_month", "")
             else "")
    page = (f"<html><head><meta charset='utf-8'><title>ketenplan forecast {fc.country}</title></head><body>"
            f"<h1>Forecast of asylum applicants, {html.escape(fc.country)}</h1>"
            f"<p>{html.escape(fc.meta['series'])}. Origin {fc.origin}. Model: combination of ETS, ARIMA, Theta and a "
            f"pooled cross-country regression (dashed, the forecast scored in the backtest). The bands and the median "
            f"come from the errors of earlier backtest origins added to it; the median lies above the point forecast "
            f"where those errors were mostly upward. {html.escape(str(fc.meta.get('error_library', '')).capitalize())}."
            f"{early}</p>"
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


BAR_RATIO = 0.85  # the accuracy bar (docs/forecast.md): MASE at most 0.85 x seasonal naive ...
BAR_STEPS = (6, 12)  # ... at these steps [months]
BAR_COVERAGE = (0.75, 0.85)  # ... and the 80% interval covering 75-85% of outcomes
HEADLINE = "combo"  # declared before the backtest ran (models.py)
_METRIC_COLUMNS = (("model", "model", None), ("h", "h", None), ("rows", "n", "{:.0f}"),
                   ("interval rows", "n_interval", "{:.0f}"), ("MASE", "mase", "{:.3f}"),
                   ("ratio vs snaive", "mase_ratio_snaive", "{:.3f}"),
                   ("path 1..h ratio vs snaive", "mase_path_ratio_snaive", "{:.3f}"),
                   ("ratio vs naive", "mase_ratio_naive", "{:.3f}"), ("sMAPE %", "smape", "{:.1f}"),
                   ("cov80", "coverage80", "{:.2f}"), ("cov95", "coverage95", "{:.2f}"),
                   ("12-month total WAPE", "annual_total_wape", "{:.2f}"),
                   ("12-month total MdAPE", "annual_total_mdape", "{:.2f}"))
_NL_COLUMNS = (("year", "year", "{}"), ("made", "origin", "{}"), ("ketenplan chain total", "forecast_chain_total", "{:,.0f}"),
               ("actual", "actual_chain_total", "{:,.0f}"), ("actual is", "actual_chain_kind", "{}"),
               ("error", "error_pct_chain_total", "{:+.0f}%"), ("official forecasts", "official_forecasts", "{}"),
               ("official error", "official_error_pct", "{}"),
               ("Eurostat part: forecast", "forecast_eurostat", "{:,.0f}"),
               ("80% interval", ("lo80_eurostat", "hi80_eurostat", "interval_errors"), "{:,.0f}-{:,.0f}{}"),
               ("actual", "actual_eurostat", "{:,.0f}"), ("error", "error_pct_eurostat", "{:+.0f}%"))


def _fmt(fmt: str | None, *v) -> str:
    if any(x is None or (isinstance(x, float) and x != x) for x in v):
        return ""
    return str(v[0]) if fmt is None else fmt.format(*v)


def bar_verdict(metrics: pd.DataFrame, headline: str = HEADLINE) -> list[dict]:
    """The bar at each of BAR_STEPS that was scored: the headline model's ratios and coverage.

    ``*_ok`` is True/False, or None where the value could not be computed (no scored rows).
    """
    def ok(v, test):
        return None if v != v else bool(test(v))

    out = []
    cand = metrics
    for h in BAR_STEPS:
        r = metrics[(metrics["model"] == headline) & (metrics["h"] == h)]
        if r.empty:
            continue
        r = r.iloc[0]
        ranked = cand[cand["h"] == h].dropna(subset=["mase_ratio_snaive"]).sort_values("mase_ratio_snaive")
        out.append({"h": h, "step": r.mase_ratio_snaive, "path": r.mase_path_ratio_snaive,
                    "cov80": r.coverage80, "cov95": r.coverage95, "n_interval": int(r.n_interval),
                    "step_ok": ok(r.mase_ratio_snaive, lambda v: v <= BAR_RATIO),
                    "path_ok": ok(r.mase_path_ratio_snaive, lambda v: v <= BAR_RATIO),
                    "cov_ok": ok(r.coverage80, lambda v: BAR_COVERAGE[0] <= v <= BAR_COVERAGE[1]),
                    "best": ranked.iloc[0].model if len(ranked) else "",
                    "best_step": ranked.iloc[0].mase_ratio_snaive if len(ranked) else float("nan")})
    return out


def nl_figure(t: pd.DataFrame) -> go.Figure:
    """Yearly chain total: actual, ketenplan's autumn forecast and the official forecasts."""
    from ketenplan.forecast.data import official_forecasts

    fig = go.Figure()
    fig.add_trace(go.Bar(x=t["year"], y=t["actual_chain_total"], name="actual chain total", marker_color="#bbb"))
    fig.add_trace(go.Scatter(x=t["year"], y=t["forecast_chain_total"], mode="markers", name="ketenplan (autumn before)",
                             marker={"color": "#1f77b4", "size": 11, "symbol": "diamond"}))
    fc, lo, hi = t["forecast_eurostat"], t["lo80_eurostat"], t["hi80_eurostat"]
    fig.add_trace(go.Scatter(x=t["year"] + 0.2, y=fc, mode="markers", name="Eurostat part: ketenplan, 80% interval",
                             error_y={"type": "data", "symmetric": False, "array": hi - fc, "arrayminus": fc - lo,
                                      "color": "#9ecae1"}, marker={"color": "#6baed6", "size": 7}))
    fig.add_trace(go.Scatter(x=t["year"] + 0.2, y=t["actual_eurostat"], mode="markers", name="Eurostat part: actual",
                             marker={"color": "black", "size": 7, "symbol": "circle-open"}))
    off = official_forecasts()
    off = off[off["year"].isin(t["year"])]
    fig.add_trace(go.Scatter(x=off["year"], y=off["forecast_persons"], mode="markers", name="official forecasts",
                             text=off["forecaster"] + ", " + off["made"].astype(str), hovertemplate="%{text}: %{y:,.0f}",
                             marker={"color": "#d62728", "size": 10, "symbol": "x"}))
    fig.update_layout(title="Netherlands: asylum inflow per year (first + subsequent + nareis)", barmode="overlay",
                      xaxis_title="year", yaxis_title="persons per year", template="plotly_white")
    return fig


def write_backtest(res: BacktestResult, out: Path, nl_table: pd.DataFrame | None = None) -> list[Path]:
    """Write metrics tables and the HTML page of a backtest."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from ketenplan import __version__

    out = Path(out)
    figs = backtest_figures(res)
    parts = [f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False) for i, f in enumerate(figs)]
    s = res.settings
    m = res.metrics
    rows = [{"head": r["model"] == HEADLINE,
             "cells": [_fmt(f, r[c]) for _, c, f in _METRIC_COLUMNS]}
            for _, r in m.iterrows()]
    nl = None
    if nl_table is not None:
        cells = []
        for _, r in nl_table.iterrows():
            if r["actual_chain_total"] != r["actual_chain_total"]:  # no actual total: no kind either
                r["actual_chain_kind"] = ""
            r["interval_errors"] = "" if r["interval_errors"] == "known at origin" else " *"
            cells.append([_fmt(f, *(r[x] for x in c)) if isinstance(c, tuple) else _fmt(f, r[c]) for _, c, f in _NL_COLUMNS])
        nl = {"figure": nl_figure(nl_table).to_html(full_html=False, include_plotlyjs=False),
              "columns": [n for n, _, _ in _NL_COLUMNS], "rows": cells,
              "whole_library": bool((nl_table["interval_errors"] != "known at origin").any())}
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=True, undefined=StrictUndefined)
    page = env.get_template("backtest.html.j2").render(
        version=__version__, countries=s["countries"], origins=s["origins"], first_eval=s["first_eval"],
        data_end=s["data_end"], seconds=res.seconds, headline=HEADLINE, bar_ratio=BAR_RATIO,
        bar_steps_text=" and ".join(str(h) for h in BAR_STEPS), cov_lo=BAR_COVERAGE[0], cov_hi=BAR_COVERAGE[1],
        verdict=bar_verdict(m), columns=[n for n, _, _ in _METRIC_COLUMNS], rows=rows, figures=parts, nl=nl)
    paths = [write_csv(out / "backtest_metrics.csv", res.metrics),
             write_csv(out / "backtest_metrics_by_country.csv", res.metrics_by_country),
             write_csv(out / "backtest_forecasts.csv", res.forecasts),
             write_text(out / "backtest.html", page)]
    if nl_table is not None:
        paths.append(write_csv(out / "nl_annual_vs_official.csv", nl_table))
    return paths
