"""The per-column settings form of Compare, shared by live runs and batch runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.i18n import L
from components.widgets import model_picker
from playground.compare.columns import (
    MAX_COLUMNS,
    ColumnConfig,
    format_stop,
    make_column,
)
from playground.i18n import t
from playground.services import Services

FIELDS_PER_COLUMN = 7  # model, system prompt, temperature, top_p, max tokens, seed, stop


@dataclass
class ColumnForm:
    """The Gradio components of one column's settings, in FIELDS_PER_COLUMN order."""

    model: gr.Dropdown
    system_prompt: gr.Textbox
    temperature: gr.Slider
    top_p: gr.Slider
    max_tokens: gr.Slider
    seed: gr.Number
    stop: gr.Textbox

    def components(self) -> list[gr.components.Component]:
        return [self.model, self.system_prompt, self.temperature, self.top_p, self.max_tokens, self.seed, self.stop]


def build_column_form(services: Services, index: int, default_model: str | None) -> ColumnForm:
    # Custom values allowed: a reopened run may name a removed model; the service then says so plainly.
    model = model_picker(
        services, L("compare.model"), value=default_model, allow_custom_value=True, elem_id=f"col{index}-model"
    )
    with gr.Accordion(L("compare.settings"), open=False, elem_id=f"col{index}-settings"):
        system_prompt = gr.Textbox(label=L("compare.system_prompt"), lines=2, elem_id=f"col{index}-system")
        with gr.Row():
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label=L("compare.temperature"))
            top_p = gr.Slider(0.05, 1.0, value=0.95, step=0.05, label=L("compare.top_p"))
        with gr.Row():
            cap = services.settings.max_tokens  # the server lowers anything above it anyway
            max_tokens = gr.Slider(1, cap, value=min(256, cap), step=1, label=L("compare.max_tokens"))
            seed = gr.Number(value=-1, precision=0, label=L("compare.seed"))
        stop = gr.Textbox(label=L("compare.stop_sequences"), lines=2)
    return ColumnForm(model, system_prompt, temperature, top_p, max_tokens, seed, stop)


def visible_column_count(count: Any) -> int:
    """How many columns are shown, so run, from the column-count state."""
    return max(1, min(int(count or 1), MAX_COLUMNS))


def columns_from_values(values: Sequence[Any], count: int) -> list[ColumnConfig]:
    """ColumnConfigs from the flat form values of all MAX_COLUMNS columns; only the first
    ``count`` (the visible ones) are used."""
    count = visible_column_count(count)
    columns = []
    for index in range(count):
        chunk = values[index * FIELDS_PER_COLUMN : (index + 1) * FIELDS_PER_COLUMN]
        columns.append(make_column(*chunk, label=t("compare.column_label", n=index + 1)))
    return columns


def values_from_column(column: ColumnConfig) -> list[Any]:
    """Form values for one column (to reopen a saved run or sync settings)."""
    return [
        column.model_key,
        column.system_prompt,
        column.temperature,
        column.top_p,
        column.max_tokens,
        -1 if column.seed is None else column.seed,
        format_stop(column.stop),
    ]
