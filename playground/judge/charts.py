"""Plotly figures for the judge, built by pure functions from plain counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from playground.i18n import DEFAULT_LANGUAGE, t
from playground.judge.results import SCORE_LABELS

_GREY = "#9ca3af"


def score_distribution(
    counts: Mapping[str, Mapping[str, int]], criterion: str = "", language: str = DEFAULT_LANGUAGE
) -> go.Figure:
    """Grouped bars: for each model, how many answers got 0, 1, 2, 3 (and how many replies
    did not parse or failed — shown, not hidden, so a weak judge is visible)."""
    fig = go.Figure()
    for model, by_score in counts.items():
        fig.add_bar(name=model, x=list(SCORE_LABELS), y=[int(by_score.get(label, 0)) for label in SCORE_LABELS])
    title = t("judge.chart_scores", criterion=" · " + criterion if criterion else "").render(language)
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis_title=t("judge.axis_score").render(language),
        yaxis_title=t("judge.axis_answers").render(language),
        legend_title=t("judge.axis_model").render(language),
        margin={"l": 50, "r": 20, "t": 50, "b": 50},
    )
    if not counts:
        fig.add_annotation(text=t("judge.no_grades").render(language), showarrow=False, font={"color": _GREY})
    return fig


def agreement_matrix(
    human: Sequence[str],
    judge: Sequence[str],
    labels: Sequence[str] = ("a", "b", "tie"),
    language: str = DEFAULT_LANGUAGE,
) -> go.Figure:
    """Heatmap of the raters' majority (rows) against the judge (columns); the diagonal is agreement."""
    index = {label: i for i, label in enumerate(labels)}
    z = [[0] * len(labels) for _ in labels]
    for h, j in zip(human, judge):
        if h in index and j in index:
            z[index[h]][index[j]] += 1
    names = [label.upper() if len(label) == 1 else label for label in labels]
    fig = go.Figure(
        go.Heatmap(z=z, x=names, y=names, colorscale="Blues", text=z, texttemplate="%{text}", showscale=False)
    )
    fig.update_layout(
        title=t("judge.matrix_chart").render(language),
        xaxis_title=t("judge.axis_judge").render(language),
        yaxis_title=t("judge.axis_majority").render(language),
        yaxis={"autorange": "reversed"},
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
    )
    return fig
