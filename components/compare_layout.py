"""Compare tab, layout: the prompt and template row, 1-4 columns (model, settings, chat,
figures) and the batch and differences panels. Handlers live in ``compare_tab``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import gradio as gr

from components.compare_columns import (
    ColumnForm,
    build_column_form,
)
from components.compare_extras import build_column_extras, build_diff_panel
from components.i18n import L, text
from components.language_widgets import language_note, wire_language_note
from playground.compare.columns import MAX_COLUMNS
from playground.compare.service import empty_histories
from playground.compare.templates import (
    MAX_VARIABLES,
)
from playground.services import Services

START_COLUMNS = 2


def visible_columns(count: int) -> list[gr.Column]:
    return [gr.Column(visible=i < count) for i in range(MAX_COLUMNS)]


def variable_fields(names: Sequence[str], values: Sequence[str]) -> list[gr.Textbox]:
    """The variable boxes showing ``names`` (each labelled with its variable) holding ``values``;
    the boxes after them hidden and empty."""
    return [
        gr.Textbox(label=names[i], visible=True, value=values[i] or "")
        if i < len(names)
        else gr.Textbox(visible=False, value="")
        for i in range(MAX_VARIABLES)
    ]


def is_base_model(services: Services, key: str | None) -> bool:
    try:
        spec = services.models.describe(key) if key else None
    except Exception:  # noqa: BLE001 - an unknown key is reported when the column runs
        return False
    return spec is not None and not spec.chat_template


def base_model_note(services: Services, key: str | None) -> str:
    """The note under a column whose model is a base model, in the reader's language."""
    return text("compare.base_model_note") if is_base_model(services, key) else ""


# ---- layout -----------------------------------------------------------------------------
@dataclass
class CompareColumn:
    block: gr.Column
    form: ColumnForm
    model_note: gr.Markdown
    chatbot: gr.Chatbot
    figures: gr.Markdown


@dataclass
class CompareLayout:
    template_name: gr.Dropdown
    load_template_btn: gr.Button
    save_template_btn: gr.Button
    template_info: gr.Markdown
    prompt: gr.Textbox
    variable_boxes: list[gr.Textbox]
    send_btn: gr.Button
    stop_btn: gr.Button
    new_btn: gr.Button
    add_col_btn: gr.Button
    remove_col_btn: gr.Button
    sync: gr.Checkbox
    column_count: gr.State
    histories: gr.State
    run_state: gr.State
    generation_ids: gr.State
    variable_names: gr.State  # the variable each box holds, in order (values follow names, never places)
    columns: list[CompareColumn] = field(default_factory=list)

    @property
    def forms(self) -> list[ColumnForm]:
        return [c.form for c in self.columns]

    @property
    def column_inputs(self) -> list[gr.components.Component]:
        return [component for form in self.forms for component in form.components()]

    @property
    def turn_outputs(self) -> list[gr.components.Component]:
        """What a sent message (or New conversation) updates: chats, figures, the conversation."""
        return [
            *(c.chatbot for c in self.columns),
            *(c.figures for c in self.columns),
            self.histories,
            self.run_state,
            self.generation_ids,
        ]


def _template_row(services: Services) -> tuple[gr.Dropdown, gr.Button, gr.Button]:
    """The saved prompt templates: a name to pick or type, Load and Save."""
    with gr.Row():
        template_name = gr.Dropdown(
            choices=services.templates.names(),
            value=None,
            allow_custom_value=True,
            label=L("compare.template_name"),
            scale=3,
            elem_id="compare-template-name",
        )
        load_template_btn = gr.Button(L("compare.load_template"), scale=1)
        save_template_btn = gr.Button(L("compare.save_template"), scale=1)
    return template_name, load_template_btn, save_template_btn


def compare_layout(services: Services) -> CompareLayout:
    gr.Markdown(L("compare.intro"))
    template_name, load_template_btn, save_template_btn = _template_row(services)
    template_info = gr.Markdown(elem_id="compare-template-info")
    prompt = gr.Textbox(
        label=L("compare.prompt"),
        lines=4,
        placeholder=L("compare.prompt_placeholder"),
        elem_id="compare-prompt",
    )
    prompt_language_note = language_note("compare-language-note")
    with gr.Row():
        variable_boxes = [
            gr.Textbox(label=f"variable {i + 1}", visible=False, lines=2, elem_id=f"compare-var{i}")
            for i in range(MAX_VARIABLES)
        ]
    with gr.Row():
        send_btn = gr.Button(L("compare.send"), variant="primary", elem_id="compare-send")
        stop_btn = gr.Button(L("compare.stop_all"), elem_id="compare-stop")
        new_btn = gr.Button(L("compare.new_conversation"), elem_id="compare-new")
    with gr.Row():
        add_col_btn = gr.Button(L("compare.add_column"), size="sm", elem_id="compare-add-column")
        remove_col_btn = gr.Button(L("compare.remove_column"), size="sm", elem_id="compare-remove-column")
        sync = gr.Checkbox(label=L("compare.sync_settings"), value=False)
    layout = CompareLayout(
        template_name,
        load_template_btn,
        save_template_btn,
        template_info,
        prompt,
        variable_boxes,
        send_btn,
        stop_btn,
        new_btn,
        add_col_btn,
        remove_col_btn,
        sync,
        column_count=gr.State(START_COLUMNS),
        histories=gr.State(empty_histories()),
        run_state=gr.State(None),
        generation_ids=gr.State([None] * MAX_COLUMNS),
        variable_names=gr.State([]),
    )
    _columns_layout(services, layout)
    wire_language_note(
        services,
        prompt_language_note,
        [prompt, *variable_boxes],
        [c.form.model for c in layout.columns],
        layout.column_count,
    )
    build_diff_panel(layout.histories, layout.column_count)
    return layout


def _columns_layout(services: Services, layout: CompareLayout) -> None:
    """The MAX_COLUMNS columns (the first START_COLUMNS shown), alternating two models."""
    choices = services.models.choices()
    default_model = services.settings.default_model_key
    second_model = next((key for _, key in choices if key != default_model), default_model)
    with gr.Row(equal_height=False):
        for index in range(MAX_COLUMNS):
            with gr.Column(visible=index < START_COLUMNS, min_width=260, elem_id=f"compare-col{index}") as block:
                gr.Markdown(L(f"compare.column_heading_{index + 1}"))
                form = build_column_form(services, index, default_model if index % 2 == 0 else second_model)
                # The heading above names the chat, so the chat shows no label of its own: Gradio
                # floats that label over the conversation, where it covered the first message.
                chatbot = gr.Chatbot(
                    label=L(f"compare.column_{index + 1}"),
                    show_label=False,
                    height=360,
                    elem_id=f"compare-chat{index}",
                    buttons=["copy"],
                )
                figures = gr.Markdown(elem_id=f"compare-figures{index}", elem_classes=["compare-figures"])
                # Below the answer and its figures, not above: a note in one column only would
                # push that column's answer box lower than its neighbours'.
                note = gr.Markdown(
                    L("compare.base_model_note") if is_base_model(services, form.model.value) else "",
                    elem_id=f"compare-model-note{index}",
                    elem_classes=["compare-model-note"],
                )
                build_column_extras(
                    services, index, form, layout.prompt, layout.variable_boxes, layout.histories, layout.generation_ids
                )
            layout.columns.append(CompareColumn(block, form, note, chatbot, figures))


# ---- handlers ---------------------------------------------------------------------------
