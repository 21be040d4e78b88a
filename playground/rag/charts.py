"""Plotly figures for the Documents tab (pure functions: tests read ``fig.to_dict()``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.i18n import DEFAULT_LANGUAGE, t

METRICS = (("precision", "precision@k"), ("recall", "recall@k"), ("ndcg", "nDCG@k"))


def sweep_figure(grid: Sequence[dict], unit: str = "chars", language: str = DEFAULT_LANGUAGE) -> go.Figure:
    """One panel per metric; x = top-k, one line per chunk size; words in the reader's ``language``."""
    size_key = "documents.chart_size_tokens" if unit == "tokens" else "documents.chart_size_chars"
    fig = make_subplots(rows=1, cols=3, subplot_titles=[label for _, label in METRICS], shared_yaxes=True)
    sizes = sorted({g["chunk_size"] for g in grid})
    for col, (metric, _) in enumerate(METRICS, start=1):
        for size in sizes:
            points = sorted((g for g in grid if g["chunk_size"] == size), key=lambda g: g["top_k"])
            fig.add_trace(
                go.Scatter(
                    x=[p["top_k"] for p in points],
                    y=[p[metric] for p in points],
                    mode="lines+markers",
                    name=t(size_key, size=size).render(language),
                    legendgroup=str(size),
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="top-k", row=1, col=col)
    fig.update_yaxes(range=[0, 1.05], title_text=t("documents.chart_score").render(language), row=1, col=1)
    fig.update_layout(
        title=t("documents.chart_title").render(language),
        height=380,
        legend_title_text=t("documents.chart_chunk_size").render(language),
        margin=dict(t=70, l=40, r=20, b=40),
    )
    return fig
