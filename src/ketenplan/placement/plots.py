"""Plots of the placement module (Plotly, self-contained HTML with plotly.js inline)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def province_bar_chart(by_province: pd.DataFrame, period: str) -> str:
    """Stacked bars of quota and backlog per province [persons], as self-contained HTML."""
    fig = go.Figure()
    fig.add_bar(x=by_province["province"], y=by_province["quota"], name="quota (share of national task)")
    fig.add_bar(x=by_province["province"], y=by_province["backlog"], name="backlog carried over")
    fig.update_layout(barmode="relative", title=f"Housing task for permit holders by province, {period}",
                      yaxis_title="persons", xaxis_title="province", template="plotly_white")
    return fig.to_html(full_html=True, include_plotlyjs=True)
