"""Plotly figures for the Fine-tune tab (pure functions: tests read ``fig.to_dict()``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from playground.finetune.dataset_check import histogram_bins
from playground.i18n import DEFAULT_LANGUAGE, t

WITHIN = "#6366f1"
BEYOND = "#f97316"


def token_length_histogram(lengths: Sequence[int], cutoff: int, language: str = DEFAULT_LANGUAGE) -> go.Figure:
    """Rows per token-length bin; bins past the cut-off in another colour, the cut-off as a line."""
    bins = histogram_bins(lengths, cutoff)
    edges, counts = bins["edges"], bins["counts"]
    fig = go.Figure(
        go.Bar(
            x=[(a + b) / 2 for a, b in zip(edges, edges[1:])],
            y=counts,
            width=[b - a for a, b in zip(edges, edges[1:])],
            marker_color=[BEYOND if a > cutoff else WITHIN for a in edges[:-1]],
            customdata=[f"{a}–{b - 1}" for a, b in zip(edges, edges[1:])],
            hovertemplate="%{customdata} tokens: %{y} rows<extra></extra>",
            name=t("finetune.chart_rows").render(language),
        )
    )
    fig.add_vline(
        x=cutoff,
        line_dash="dash",
        line_color="#dc2626",
        annotation_text=t("finetune.chart_cutoff", cutoff=cutoff).render(language),
        annotation_position="top right",
    )
    longer = sum(length > cutoff for length in lengths)
    fig.update_layout(
        title=t("finetune.chart_lengths_title", longer=longer, rows=len(lengths)).render(language),
        xaxis_title=t("finetune.chart_tokens_axis").render(language),
        yaxis_title=t("finetune.chart_rows").render(language),
        bargap=0.05,
        height=320,
        margin=dict(t=60, l=50, r=20, b=45),
        showlegend=False,
    )
    return fig
