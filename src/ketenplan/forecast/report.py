"""Plots, tables and the self-contained HTML pages of the forecast commands."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ketenplan._io import write_csv, write_text
from ketenplan.forecast.api import Forecast
from ketenplan.forecast.backtest import BacktestResult


#: Styles of the three kinds of month on the fan chart (observed, bridged, forecast).
STYLE_OBSERVED = {"color": "#111111", "width": 2.2}
STYLE_BRIDGED = {"color": "#e66100", "width": 2.2, "dash": "dot"}
STYLE_FORECAST = {"color": "#1f5fa8", "width": 2.4}
Y_HEADROOM = 1.1  # the y-axis reaches this factor above the highest history month or 80% bound
HISTORY_MONTHS = 120  # months of history on the fan chart (from 2015 for a forecast from 2024-12: the surge shows)
FIRST_YEAR = 12  # the y-axis follows the 80% band over this many forecast months


def chart_top(fc: Forecast, history_months: int = HISTORY_MONTHS) -> float:
    """Top of the fan chart's y-axis [persons/month]: the highest of the history shown, the median and the 80%
    band of the first forecast year, plus headroom.

    The 95% band, the 80% band of later months and single sample paths may reach far above (calibrated intervals
    after a surge, a small and noisy series); they are clipped on the chart and the page says how far.
    """
    h = fc.history.tail(history_months)["applicants"].to_numpy(float)
    top = max(float(np.nanmax(h)) if h.size else 0.0, float(fc.table["hi80"].iloc[:FIRST_YEAR].max()),
              float(fc.table["median"].max()))
    return Y_HEADROOM * max(top, 1.0)


def clipped_note(fc: Forecast, n_show: int = 20) -> str:
    """What lies above the chart's top: the 95% band's months and the drawn sample paths (plain text)."""
    top = chart_top(fc)
    shown = fc.paths[fc.paths["path"].isin(sorted(fc.paths["path"].unique())[:n_show])]
    above = shown.groupby("path")["applicants"].max()
    n_above = int((above > top).sum())
    hi95 = fc.table[fc.table["hi95"] > top]
    hi80 = fc.table[fc.table["hi80"] > top]
    parts = []
    if len(hi80):
        parts.append(f"the upper 80% bound in {len(hi80)} of {len(fc.table)} months (from {hi80['month'].iloc[0]}, up "
                     f"to {fc.table['hi80'].max():,.0f})")
    if len(hi95):
        parts.append(f"the upper 95% bound in {len(hi95)} of {len(fc.table)} months (up to {fc.table['hi95'].max():,.0f})")
    if n_above:
        parts.append(f"{n_above} of the {len(above)} drawn sample paths (up to {above.max():,.0f})")
    if not parts:
        return ""
    return (f"The y-axis follows the history and the first year's 80% band (top {top:,.0f} applicants a month); "
            f"{', '.join(parts[:-1]) + ' and ' + parts[-1] if len(parts) > 1 else parts[0]} reach above it and are cut off on the chart. Every value is in forecast.csv "
            f"and paths.csv.")


def forecast_figure(fc: Forecast, n_show: int = 20) -> go.Figure:
    """Fan chart: observed months (solid black), bridged months (dotted orange, on an orange ground) and forecast
    months (blue median with 80%/95% bands and thin grey sample paths, on a blue ground); the y-axis follows the
    history and the 80% band, so far-out paths are clipped (see :func:`clipped_note`)."""
    t, h = fc.table, fc.history.tail(HISTORY_MONTHS)
    fig = go.Figure()
    first_fc, last_fc = t["month"].iloc[0], t["month"].iloc[-1]
    bridged = h[h["kind"] == "bridged"]
    if len(bridged):
        fig.add_vrect(x0=bridged["month"].iloc[0], x1=bridged["month"].iloc[-1], fillcolor="#e66100", opacity=0.07,
                      line_width=0, layer="below", annotation_text="bridged: yearly totals spread over the months",
                      annotation_position="top left", annotation_font_color="#a64500")
    fig.add_vrect(x0=first_fc, x1=last_fc, fillcolor="#1f5fa8", opacity=0.05, line_width=0, layer="below",
                  annotation_text="forecast", annotation_position="top left", annotation_font_color="#1f5fa8")
    for lo, hi, name, alpha in (("lo95", "hi95", "forecast: 95% interval", 0.13), ("lo80", "hi80", "forecast: 80% interval",
                                                                                  0.28)):
        fig.add_trace(go.Scatter(x=list(t["month"]) + list(t["month"][::-1]), y=list(t[hi]) + list(t[lo][::-1]),
                                 fill="toself", fillcolor=f"rgba(31,95,168,{alpha})", line={"width": 0}, name=name,
                                 hoverinfo="skip"))
    for i, pid in enumerate(sorted(fc.paths["path"].unique())[:n_show]):
        d = fc.paths[fc.paths["path"] == pid]
        fig.add_trace(go.Scatter(x=d["month"], y=d["applicants"], mode="lines", line={"width": 0.6, "color": "grey"},
                                 opacity=0.35, showlegend=i == 0, name="forecast: sample paths", legendgroup="paths",
                                 hoverinfo="skip"))
    obs = h[h["kind"] == "observed"]
    if len(obs):
        fig.add_trace(go.Scatter(x=obs["month"], y=obs["applicants"], mode="lines", line=STYLE_OBSERVED,
                                 name="observed (Eurostat monthly)"))
    if len(bridged):
        # start the dotted line at the last observed month so the two kinds join
        b = pd.concat([obs.tail(1), bridged]) if len(obs) else bridged
        fig.add_trace(go.Scatter(x=b["month"], y=b["applicants"], mode="lines+markers", line=STYLE_BRIDGED,
                                 marker={"size": 4, "symbol": "circle-open"},
                                 name="bridged (estimated from Eurostat yearly totals)"))
    fig.add_trace(go.Scatter(x=t["month"], y=t["median"], mode="lines", line=STYLE_FORECAST, name="forecast: median"))
    fig.add_trace(go.Scatter(x=t["month"], y=t["point"], mode="lines",
                             line={"color": STYLE_FORECAST["color"], "width": 1, "dash": "dash"},
                             name="forecast: model point (scored in the backtest)"))
    fig.update_layout(title=f"Asylum applicants per month, {fc.country}: forecast from {fc.origin}",
                      yaxis_title="applicants [persons/month]", template="plotly_white", hovermode="x unified",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12})
    fig.update_yaxes(range=[0, chart_top(fc)])
    return fig


_PAGE_CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #1f5fa8;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#555;font-size:.9em} .note{background:#fff8e6;border-left:4px solid #e6a100;padding:.5em .8em}
.key{display:flex;gap:1.5em;flex-wrap:wrap;margin:.6em 0;font-size:.92em} .key span{white-space:nowrap}
.sw{display:inline-block;width:2.4em;height:0;vertical-align:middle;margin-right:.4em;border-top:3px solid}
table{border-collapse:collapse;margin:1em 0;font-size:.85em} td,th{border:1px solid #ccc;padding:.25em .5em}
th{background:#f0f4f8;text-align:left} td{text-align:right;font-variant-numeric:tabular-nums}
tr.extrapolated td{color:#777}
"""


def write_forecast(fc: Forecast, out: Path) -> list[Path]:
    """Write table, paths, metadata and the plot page; returns the paths written."""
    out = Path(out)
    fig = forecast_figure(fc)
    esc = html.escape
    early = (f" The data of {esc(fc.country)} end in {fc.meta['data_last_month']}, so the forecast starts there."
             if fc.meta.get("data_last_month") and fc.meta["data_last_month"] < fc.meta.get("latest_data_month", "")
             else "")
    note = clipped_note(fc)
    kinds = fc.history["kind"].value_counts()
    bridged = fc.history[fc.history["kind"] == "bridged"]["month"]
    span = f" ({bridged.iloc[0]} to {bridged.iloc[-1]})" if len(bridged) else ""
    table = fc.table.copy()
    cols = ["month", "point", "median", "lo95", "lo80", "hi80", "hi95", "interval_basis"]
    rows = "".join(
        f"<tr class='{esc(str(r['interval_basis']))}'><td style='text-align:left'>{esc(str(r['month']))}</td>"
        + "".join(f"<td>{r[c]:,.0f}</td>" for c in cols[1:-1])
        + f"<td style='text-align:left'>{esc(str(r['interval_basis']))}</td></tr>" for _, r in table.iterrows())
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>ketenplan forecast {esc(fc.country)}"
            f"</title><style>{_PAGE_CSS}</style></head><body>"
            f"<h1>Forecast of asylum applicants, {esc(fc.country)}</h1>"
            f"<p class='meta'>{esc(fc.meta['series'])} · origin {esc(fc.origin)} · {fc.meta['n_paths']:,} sample paths · "
            f"intervals: {esc(str(fc.meta.get('interval_calibration', '')))}</p>"
            f"<div class='key'><span><i class='sw' style='border-color:{STYLE_OBSERVED['color']}'></i>observed months "
            f"({int(kinds.get('observed', 0))}, Eurostat monthly)</span>"
            f"<span><i class='sw' style='border-color:{STYLE_BRIDGED['color']};border-top-style:dotted'></i>bridged months"
            f"{esc(span)}: estimated by spreading Eurostat yearly totals over the months</span>"
            f"<span><i class='sw' style='border-color:{STYLE_FORECAST['color']}'></i>forecast months "
            f"({len(fc.table)}): median, 80% and 95% bands</span></div>"
            + fig.to_html(full_html=False, include_plotlyjs="inline")
            + (f"<p class='note'>{esc(note)}</p>" if note else "")
            + "<h2>What the chart shows</h2>"
            f"<p>Model: the combination of ETS, ARIMA, Theta and a pooled cross-country regression (dashed: the point "
            f"forecast scored in the backtest). The bands, the median and the sample paths add the standardised errors "
            f"of earlier backtest origins to it, calibrated to this country; the median lies above the point forecast "
            f"where those errors were mostly upward. {esc(str(fc.meta.get('error_library', '')).capitalize())}."
            f"{early}</p>"
            "<h2>Table</h2><p class='meta'>persons/month; months marked extrapolated lie beyond the backtested 24 "
            "months.</p><table><tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>" + rows + "</table>"
            "</body></html>")
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
    if "coverage80_path" in m:
        for model, d in m.groupby("model", sort=False):
            f2.add_trace(go.Scatter(x=d["h"], y=d["coverage80_path"], mode="lines+markers", line_dash="dash",
                                    name=f"{model} 80% (path 1..h)", visible="legendonly"))
    f2.add_hrect(y0=0.75, y1=0.85, fillcolor="green", opacity=0.1, line_width=0)
    f2.update_layout(title="Empirical coverage of the 80% intervals: at step h (solid); over the path 1..h, "
                           "the M4 reading (dashed, click the legend)", xaxis_title="horizon [months]",
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
                   ("cov80 path 1..h", "coverage80_path", "{:.2f}"), ("cov95 path 1..h", "coverage95_path", "{:.2f}"),
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
                    "cov80_path": r.coverage80_path, "cov95_path": r.coverage95_path,
                    "n_path_interval": int(r.n_path_interval),
                    "cov_path_ok": ok(r.coverage80_path, lambda v: BAR_COVERAGE[0] <= v <= BAR_COVERAGE[1]),
                    "step_ok": ok(r.mase_ratio_snaive, lambda v: v <= BAR_RATIO),
                    "path_ok": ok(r.mase_path_ratio_snaive, lambda v: v <= BAR_RATIO),
                    "cov_ok": ok(r.coverage80, lambda v: BAR_COVERAGE[0] <= v <= BAR_COVERAGE[1]),
                    "best": ranked.iloc[0].model if len(ranked) else "",
                    "best_step": ranked.iloc[0].mase_ratio_snaive if len(ranked) else float("nan")})
    return out


COUNTRY_COVERAGE_BAND = (0.70, 0.90)  # a country's 80% interval counts as calibrated within this band


def country_coverage(by_country: pd.DataFrame, headline: str = HEADLINE, steps=BAR_STEPS) -> dict:
    """Per-country 80% coverage of the headline model at ``steps``: rows, and how many countries lie in the band.

    Each cell has the coverage at step h (``cov``, ``n`` rows, ``ok``) and over the path 1..h (``cov_path``,
    ``n_path`` complete rows, ``ok_path``); ``within`` and ``within_path`` count the countries in the band.
    """
    d = by_country[(by_country["model"] == headline) & by_country["h"].isin(steps)]
    if d.empty:
        return {"steps": [], "rows": [], "within": {}, "within_path": {}, "n": 0, "nl": None}
    steps = sorted(d["h"].unique())
    lo, hi = COUNTRY_COVERAGE_BAND

    def ok(v):
        return None if v != v else bool(lo <= v <= hi)

    cov = d.pivot(index="geo", columns="h", values="coverage80")
    n = d.pivot(index="geo", columns="h", values="n")
    path = "coverage80_path" in d
    cp = d.pivot(index="geo", columns="h", values="coverage80_path") if path else cov * np.nan
    n_p = d.pivot(index="geo", columns="h", values="n_path") if path else n * 0
    rows = [{"geo": g, "cells": [{"cov": cov.loc[g, h], "n": int(n.loc[g, h]), "ok": ok(cov.loc[g, h]),
                                  "cov_path": cp.loc[g, h], "n_path": int(n_p.loc[g, h]), "ok_path": ok(cp.loc[g, h])}
                                 for h in steps]} for g in cov.index]
    within = {int(h): int(((cov[h] >= lo) & (cov[h] <= hi)).sum()) for h in steps}
    within_path = {int(h): int(((cp[h] >= lo) & (cp[h] <= hi)).sum()) for h in steps}
    nl = None
    if "NL" in cov.index:  # the Dutch bar: the 80% interval covering 75-85% at 6 and 12 months, in both readings
        def bar(v):
            return None if v != v else bool(BAR_COVERAGE[0] <= v <= BAR_COVERAGE[1])

        nl = [{"h": int(h), "cov": cov.loc["NL", h], "cov_path": cp.loc["NL", h], "n": int(n.loc["NL", h]),
               "ok": bar(cov.loc["NL", h]), "ok_path": bar(cp.loc["NL", h])} for h in steps]
    return {"steps": [int(h) for h in steps], "rows": rows, "within": within, "within_path": within_path,
            "n": int(len(cov)), "nl": nl}


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


def write_backtest(res: BacktestResult, out: Path, nl_table: pd.DataFrame | None = None,
                   totals: pd.DataFrame | None = None, totals_rows: pd.DataFrame | None = None) -> list[Path]:
    """Write metrics tables and the HTML page of a backtest; with ``totals`` / ``totals_rows`` the
    backtest of the sample paths' h-month totals (:func:`ketenplan.forecast.totals_backtest.totals_summary`,
    :func:`~ketenplan.forecast.totals_backtest.totals_backtest`) as ``backtest_totals.csv`` and
    ``backtest_totals_rows.csv``."""
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
    tot_view = None
    if totals is not None and len(totals):
        sel = totals[totals["geo"].isin(["all", "NL"])]
        tot_view = {"columns": ["paths", "countries", "h", "origins", "p10-p90 covers", "share [Wilson 90%]",
                                "p5-p95 share", "width", "p90 / previous 12 months", "paths' monthly 80%"],
                    "rows": [{"head": r["paths"] == "reconciled",
                              "cells": [r["paths"], "pooled" if r["geo"] == "all" else r["geo"], int(r["h"]), int(r["n"]),
                                        int(r["inside80"]),
                                        f"{r['coverage80']:.2f} [{r['wilson_lo']:.2f}-{r['wilson_hi']:.2f}]",
                                        f"{r['coverage90']:.2f}", f"{r['width80_rel']:.2f}",
                                        f"{r['p90_prev12']:.2f} ({r['p90_prev12_max']:,.1f})", f"{r['path_cov80']:.2f}"]}
                             for _, r in sel.iterrows()]}
    page = env.get_template("backtest.html.j2").render(
        version=__version__, countries=s["countries"], origins=s["origins"], first_eval=s["first_eval"],
        data_end=s["data_end"], seconds=res.seconds, headline=HEADLINE, bar_ratio=BAR_RATIO,
        bar_steps_text=" and ".join(str(h) for h in BAR_STEPS), cov_lo=BAR_COVERAGE[0], cov_hi=BAR_COVERAGE[1],
        verdict=bar_verdict(m), by_country=country_coverage(res.metrics_by_country),
        band_lo=COUNTRY_COVERAGE_BAND[0], band_hi=COUNTRY_COVERAGE_BAND[1],
        calibration=res.settings.get("calibration", ""), columns=[n for n, _, _ in _METRIC_COLUMNS], rows=rows, figures=parts, nl=nl,
        totals=tot_view)
    paths = [write_csv(out / "backtest_metrics.csv", res.metrics),
             write_csv(out / "backtest_metrics_by_country.csv", res.metrics_by_country),
             write_csv(out / "backtest_forecasts.csv", res.forecasts),
             write_text(out / "backtest.html", page)]
    if nl_table is not None:
        paths.append(write_csv(out / "nl_annual_vs_official.csv", nl_table))
    if totals is not None:
        paths.append(write_csv(out / "backtest_totals.csv", totals))
    if totals_rows is not None:
        paths.append(write_csv(out / "backtest_totals_rows.csv", totals_rows))
    return paths
