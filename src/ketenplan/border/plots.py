"""Chart of the border day: p50 and p90 wait per hour with the desks and eGates on duty."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def figure(df: pd.DataFrame, title: str = "Passport control: waiting time per hour") -> go.Figure:
    """p50 and p90 wait [min] per hour (lines, left axis) and desks / eGates (bars, right axis)
    from a ``border_waits`` table (columns hour, desks, egates, p50_wait_min, p90_wait_min)."""
    missing = {"hour", "desks", "egates", "p50_wait_min", "p90_wait_min"} - set(df.columns)
    if missing:
        from ketenplan.errors import DataError
        raise DataError(f"border_waits table: missing column(s) {', '.join(sorted(missing))}")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=df["hour"], y=df["desks"], name="desks", marker_color="rgba(31,119,180,0.30)",
                secondary_y=True)
    fig.add_bar(x=df["hour"], y=df["egates"], name="eGates", marker_color="rgba(44,160,44,0.25)",
                secondary_y=True)
    fig.add_scatter(x=df["hour"], y=df["p50_wait_min"], name="p50 wait", mode="lines+markers",
                    line={"color": "#1f77b4"}, secondary_y=False)
    fig.add_scatter(x=df["hour"], y=df["p90_wait_min"], name="p90 wait", mode="lines+markers",
                    line={"color": "#d62728"}, secondary_y=False)
    fig.update_layout(title=title, barmode="group", template="plotly_white", legend={"orientation": "h"},
                      hovermode="x unified")
    fig.update_xaxes(title_text="hour of arrival", dtick=1)
    fig.update_yaxes(title_text="wait [min]", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="desks / eGates open", secondary_y=True, rangemode="tozero", showgrid=False)
    return fig


def to_html(fig: go.Figure) -> str:
    """Self-contained HTML page of ``fig``."""
    return fig.to_html(full_html=True, include_plotlyjs=True)
