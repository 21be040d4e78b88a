"""Plotly figures for the Arena (pure functions: data in, figure out)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.arena.leaderboard import Leaderboard
from playground.i18n import DEFAULT_LANGUAGE, t


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=40, r=20, t=50, b=40), template="plotly_white")
    return fig


NOTHING_TO_PLOT = {"cost": t("arena.nothing_cost"), "latency": t("arena.nothing_latency")}
# Each chart takes ``language``: its titles and axes in that language (English by default).


def empty_chart(title: str, sentence: str) -> go.Figure:
    """No axes, just the sentence that says why there is nothing to plot."""
    fig = go.Figure()
    fig.add_annotation(text=sentence, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=14))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=200)


def ratings_chart(board: Leaderboard, language: str = DEFAULT_LANGUAGE) -> go.Figure:
    """Each model's rating with its 95% bootstrap interval, best on top."""
    rows = list(reversed(board.rows))
    fig = go.Figure(
        go.Scatter(
            x=[r.rating for r in rows],
            y=[r.name for r in rows],
            mode="markers",
            error_x=dict(
                type="data",
                symmetric=False,
                array=[0 if math.isnan(r.upper) else r.upper - r.rating for r in rows],
                arrayminus=[0 if math.isnan(r.lower) else r.rating - r.lower for r in rows],
            ),
            hovertemplate="%{y}: %{x:.0f}<extra></extra>",
        )
    )
    fig.update_xaxes(title=t("arena.axis_rating_interval").render(language))
    return _layout(fig, t("arena.chart_ratings").render(language), height=max(250, 60 + 40 * len(rows)))


def matrix_heatmap(
    names: Sequence[str], matrix: np.ndarray | None, title: str, percent: bool, language: str = DEFAULT_LANGUAGE
) -> go.Figure:
    """Row model against column model; blank where they never met."""
    values = np.full((len(names), len(names)), np.nan) if matrix is None else np.asarray(matrix, dtype=float)
    if percent:
        text = [["" if math.isnan(v) else f"{v:.0%}" for v in row] for row in values]
    else:
        text = [["" if math.isnan(v) or v == 0 else f"{v:.0f}" for v in row] for row in values]
    z = [[None if math.isnan(v) else float(v) for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(names),
            y=list(names),
            text=text,
            texttemplate="%{text}",
            colorscale="RdBu" if percent else "Blues",
            zmin=0 if percent else None,
            zmax=1 if percent else None,
            hovertemplate="%{y} vs %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title=t("arena.axis_model").render(language))
    fig.update_xaxes(title=t("arena.axis_opponent").render(language))
    return _layout(fig, title)


def win_rate_heatmap(board: Leaderboard, language: str = DEFAULT_LANGUAGE) -> go.Figure:
    title = t("arena.chart_win_rate_title").render(language)
    return matrix_heatmap(board.names, board.win_rate, title, percent=True, language=language)


def count_heatmap(board: Leaderboard, language: str = DEFAULT_LANGUAGE) -> go.Figure:
    title = t("arena.chart_counts_title").render(language)
    return matrix_heatmap(board.names, board.counts, title, percent=False, language=language)


def quality_against(board: Leaderboard, what: str, language: str = DEFAULT_LANGUAGE) -> go.Figure:
    """Rating against mean latency (what="latency") or mean cost per answer (what="cost")."""
    attr, label = ("latency_s", t("arena.axis_latency")) if what == "latency" else ("cost_usd", t("arena.axis_cost"))
    known = [r for r in board.rows if getattr(r, attr) is not None]
    unknown = [r.name for r in board.rows if getattr(r, attr) is None]
    if what == "cost" and all(r.cost_source == "local" for r in known):
        known = []  # only local models' $0 (by choice): no price to plot against

    title = (t("arena.chart_latency") if what == "latency" else t("arena.chart_cost")).render(language)
    if not known:
        why = NOTHING_TO_PLOT[what] if board.rows else t("arena.nothing_no_votes")
        return empty_chart(title, why.render(language))
    fig = go.Figure(
        go.Scatter(
            x=[getattr(r, attr) for r in known],
            y=[r.rating for r in known],
            text=[r.name for r in known],
            mode="markers+text",
            textposition="top center",
            cliponaxis=False,  # a name above the top or edge point stays readable
            hovertemplate="%{text}: %{y:.0f} at %{x}<extra></extra>",
        )
    )
    fig.update_xaxes(title=label.render(language), automargin=True)
    fig.update_yaxes(title=t("arena.axis_rating").render(language), automargin=True)
    if unknown:
        title += t("arena.unknown_for", names=", ".join(unknown)).render(language)
    return _layout(fig, title, height=380)
