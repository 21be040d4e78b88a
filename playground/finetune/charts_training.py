"""Plotly figures of a training run (pure functions: tests read ``fig.to_dict()``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from playground.i18n import DEFAULT_LANGUAGE, t

TRAIN_COLOUR = "#6366f1"
HOLDOUT_COLOUR = "#f97316"


def loss_chart(
    train_steps: Sequence[int],
    train_losses: Sequence[float],
    holdout_steps: Sequence[int] = (),
    holdout_losses: Sequence[float] = (),
    total_steps: int | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> go.Figure:
    """Training loss per step (a line) and holdout loss where it was measured (line + markers).

    A holdout loss that rises while the training loss keeps falling is the sign of
    overfitting, so both share one axis.
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(train_steps),
            y=list(train_losses),
            mode="lines",
            name=t("finetune.chart_training_loss").render(language),
            line=dict(color=TRAIN_COLOUR),
            hovertemplate="step %{x}: %{y:.3f}<extra>training</extra>",
        )
    )
    if holdout_steps:
        fig.add_trace(
            go.Scatter(
                x=list(holdout_steps),
                y=list(holdout_losses),
                mode="lines+markers",
                name=t("finetune.chart_holdout_loss").render(language),
                line=dict(color=HOLDOUT_COLOUR),
                hovertemplate="step %{x}: %{y:.3f}<extra>holdout</extra>",
            )
        )
    title = t("finetune.chart_loss") if train_steps else t("finetune.chart_loss_empty")
    fig.update_layout(
        title=title.render(language),
        xaxis_title=t("finetune.chart_step").render(language),
        yaxis_title=t("finetune.chart_loss_axis").render(language),
        height=340,
        margin=dict(t=50, l=50, r=20, b=45),
        template="plotly_white",
        legend=dict(orientation="h", y=-0.2),
    )
    if total_steps:
        fig.update_xaxes(range=[0, total_steps])
    return fig
