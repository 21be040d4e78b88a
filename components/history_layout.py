"""The History tab's widgets (no handlers here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.i18n import L
from playground.history import KINDS

HEADERS = ["Run", "When", "Kind", "Prompt", "Models", "Template", "Answers", "Errors", "Cost"]
# The table's headers in the reader's language (a Dataframe's headers are not translated in the
# browser, so the handlers that fill the table render these keys).
HEADER_KEYS = [f"history.header_{name.lower()}" for name in HEADERS]


@dataclass
class FilterWidgets:
    text: gr.Textbox
    kinds: gr.CheckboxGroup
    model: gr.Dropdown
    template: gr.Dropdown
    date_from: gr.Textbox
    date_to: gr.Textbox
    search: gr.Button

    @property
    def inputs(self) -> list:
        """In the order the search, delete and export handlers take them."""
        return [self.text, self.model, self.template, self.date_from, self.date_to, self.kinds]


@dataclass
class RunActionWidgets:
    run_id: gr.Number
    show: gr.Button
    reopen: gr.Button
    rerun: gr.Button
    stop: gr.Button
    delete: gr.Button
    confirm: gr.Group
    confirm_text: gr.Markdown
    confirm_yes: gr.Button
    confirm_no: gr.Button


@dataclass
class HistoryLayout:
    filters: FilterWidgets
    found: gr.Markdown
    runs_table: gr.Dataframe  # the saved runs the filters match
    actions: RunActionWidgets
    detail: gr.Markdown
    export_format: gr.Radio
    export: gr.Button
    export_file: gr.File


def filter_layout(model_choices: dict[str, Any], template_choices: dict[str, Any]) -> FilterWidgets:
    with gr.Row():
        text = gr.Textbox(
            label=L("history.search_text"), placeholder=L("history.search_placeholder"), scale=3, elem_id="history-text"
        )
        kinds = gr.CheckboxGroup(
            [(L(f"history.kind_{kind}"), kind) for kind in KINDS],
            value=[],
            label=L("history.kinds"),
            scale=2,
            elem_id="history-kinds",
        )
    with gr.Row():
        model = gr.Dropdown(label=L("history.model"), scale=2, elem_id="history-model", **model_choices)
        template = gr.Dropdown(label=L("history.template"), scale=2, elem_id="history-template", **template_choices)
        date_from = gr.Textbox(label=L("history.date_from"), placeholder="2025-01-31", scale=1, elem_id="history-from")
        date_to = gr.Textbox(label=L("history.date_to"), placeholder="2025-12-31", scale=1, elem_id="history-to")
        search = gr.Button(L("history.search"), variant="primary", scale=1, elem_id="history-search")
    return FilterWidgets(text, kinds, model, template, date_from, date_to, search)


def actions_layout(can_reopen: bool) -> RunActionWidgets:
    with gr.Row():
        run_id = gr.Number(label=L("history.run_id"), precision=0, value=None, scale=1, elem_id="history-run-id")
        show = gr.Button(L("history.show"), scale=1, elem_id="history-show")
        reopen = gr.Button(L("history.reopen"), scale=1, elem_id="history-reopen", interactive=can_reopen)
        rerun = gr.Button(L("history.rerun"), scale=1, elem_id="history-rerun")
        stop = gr.Button(L("history.stop"), scale=1, elem_id="history-stop")
        delete = gr.Button(L("history.delete"), variant="stop", scale=1, elem_id="history-delete")
    with gr.Group(visible=False, elem_id="history-confirm") as confirm:
        confirm_text = gr.Markdown()
        with gr.Row():
            confirm_yes = gr.Button(L("history.delete_yes"), variant="stop", elem_id="history-delete-yes")
            confirm_no = gr.Button(L("history.delete_no"), elem_id="history-delete-no")
    return RunActionWidgets(run_id, show, reopen, rerun, stop, delete, confirm, confirm_text, confirm_yes, confirm_no)


def history_layout(
    model_choices: dict[str, Any], template_choices: dict[str, Any], newest_runs: Callable[[], Any], can_reopen: bool
) -> HistoryLayout:
    """``newest_runs`` fills the table on every page load; ``can_reopen``: a Compare tab to reopen runs in exists."""
    gr.Markdown(L("history.intro"))
    filters = filter_layout(model_choices, template_choices)
    found = gr.Markdown(elem_id="history-found")
    runs_table = gr.Dataframe(
        value=newest_runs,
        headers=HEADERS,
        interactive=False,
        wrap=True,
        label=L("history.saved_runs"),
        elem_id="history-table",
    )
    actions = actions_layout(can_reopen)
    detail = gr.Markdown(elem_id="history-detail")
    with gr.Row():
        export_format = gr.Radio(
            [("JSONL", "jsonl"), ("CSV", "csv")], value="jsonl", label=L("history.export_format"), scale=1
        )
        export = gr.Button(L("history.export_listed"), scale=1, elem_id="history-export")
        export_file = gr.File(label=L("history.export_file"), interactive=False, scale=2, elem_id="history-export-file")
    return HistoryLayout(filters, found, runs_table, actions, detail, export_format, export, export_file)
