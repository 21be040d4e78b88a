"""Plotly figures for the Fine-tune tab (pure functions: tests read ``fig.to_dict()``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from playground.finetune.dataset_check import histogram_bins

WITHIN = "#6366f1"
BEYOND = "#f97316"


def token_length_histogram(lengths: Sequence[int], cutoff: int) -> go.Figure:
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
            name="rows",
        )
    )
    fig.add_vline(
        x=cutoff,
        line_dash="dash",
        line_color="#dc2626",
        annotation_text=f"cut-off {cutoff}",
        annotation_position="top right",
    )
    longer = sum(length > cutoff for length in lengths)
    fig.update_layout(
        title=f"Token length per row ({longer} of {len(lengths)} longer than the cut-off)",
        xaxis_title="tokens in the training text",
        yaxis_title="rows",
        bargap=0.05,
        height=320,
        margin=dict(t=60, l=50, r=20, b=45),
        showlegend=False,
    )
    return fig
