"""Fine-tune tab, dataset half: upload, recognise or map the columns, check row by row,
preview the exact training text, save and reuse datasets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from components.compare_batch import _served_copy
from components.file_rows import fit_file_rows, fit_when_changed
from components.i18n import L, request_language, say, text
from components.language_widgets import demo_language_choice
from components.tab import Event
from components.ui_errors import user_errors
from components.widgets import kept_value
from playground.finetune.charts import token_length_histogram
from playground.finetune.dataset_service import DEFAULT_MAX_LENGTH, DatasetInfo, DatasetService
from playground.finetune.datasets import ALPACA_KIND, CHAT_KIND, KINDS, ColumnMapping
from playground.i18n import Text
from playground.languages import ENGLISH
from playground.models.embedded import SMOLLM2_KEY
from playground.models.prompt_formats import ALPACA, PROMPT_FORMATS
from playground.rendering import inert_inline
from playground.services import Services

FILE_TYPES = [".csv", ".tsv", ".xlsx", ".jsonl"]
# The problems table's column names: English in the page as built, the reader's language from a handler.
ISSUE_HEADER_KEYS = ("finetune.col_row", "finetune.col_problem", "finetune.col_details")
ISSUE_HEADERS = [str(Text(key)) for key in ISSUE_HEADER_KEYS]
ROLES = ("instruction", "input", "output", "system", "messages")
# Choice labels by value (catalogue keys): L() is called while the page is built (so the page
# carries these texts) or, inside a handler, renders the text in the request's language.
KIND_KEYS = {
    ALPACA_KIND: "finetune.kind_alpaca",
    "prompt_completion": "finetune.kind_prompt_completion",
    CHAT_KIND: "finetune.kind_chat",
}
FORMAT_KEYS = {ALPACA: "finetune.format_alpaca", "chat_template": "finetune.format_chat_template"}
PREVIEW_ROWS = 3


def preview_text(pairs: list[tuple[str, str]]) -> str:
    """Each example's prompt, then the completion the loss is taken on, exactly as trained."""
    blocks = [
        f"{text('finetune.example_prompt', i=i)}\n{prompt}\n{text('finetune.example_completion', i=i)}\n{completion}"
        for i, (prompt, completion) in enumerate(pairs, start=1)
    ]
    return "\n\n".join(blocks)


def issues_table(rows: list[list[Any]]) -> dict[str, Any]:
    """The problems table's value, its headers in the reader's language (the browser does not
    translate Dataframe headers)."""
    return {"headers": [text(key) for key in ISSUE_HEADER_KEYS], "data": rows}


def column_mapping(kind: str | None, columns: Any) -> ColumnMapping | None:
    """The roles the user mapped, or None (then the service recognises the columns itself)."""
    chosen = dict(zip(ROLES, (c or "" for c in columns)))
    wanted = chosen["messages"] if kind == CHAT_KIND else chosen["instruction"] or chosen["output"]
    return ColumnMapping(kind or ALPACA_KIND, **chosen) if wanted else None


def _none() -> tuple[Any, str]:
    """The "no column" choice: a label for the page as built, or rendered in a handler."""
    return (L("finetune.none_choice"), "")


def _picked(value: Any) -> bool:
    return value not in (None, "")


@dataclass
class DatasetWidgets:
    upload: gr.File
    demo: gr.Button
    demo_language: gr.Radio
    detected: gr.Markdown
    first_rows: gr.Dataframe
    mapping_box: gr.Accordion
    kind: gr.Radio
    roles: list[gr.Dropdown]
    name: gr.Textbox
    base_model: gr.Dropdown
    prompt_format: gr.Radio
    max_length: gr.Number
    check: gr.Button
    summary: gr.Markdown
    issues: gr.Dataframe
    histogram: gr.Plot
    preview: gr.Code
    saved: gr.Dropdown
    refresh: gr.Button
    preview_button: gr.Button
    new_name: gr.Textbox
    rename: gr.Button
    confirm_delete: gr.Checkbox
    delete: gr.Button

    @property
    def report_views(self) -> list[Any]:
        return [self.summary, self.issues, self.histogram, self.preview]

    @property
    def preview_inputs(self) -> list[Any]:
        return [self.saved, self.base_model, self.prompt_format]


def dataset_layout(base_choices: dict[str, Any], saved_choices: dict[str, Any]) -> DatasetWidgets:
    gr.Markdown(L("finetune.data_heading"))
    return DatasetWidgets(
        *_source_section(),
        *_mapping_section(),
        *_settings_row(base_choices),
        *_report_section(),
        *_saved_section(saved_choices),
    )


def _source_section() -> tuple[Any, ...]:
    """The file (or the demo set), what was detected in it, and its first rows."""
    with gr.Row():
        upload = gr.File(
            label=L("finetune.data_file"),
            file_types=FILE_TYPES,
            type="filepath",
            scale=3,
            elem_id="ft-data-file",
        )
        with gr.Column(scale=1, min_width=160):
            demo = gr.Button(L("finetune.demo_button"), elem_id="ft-data-demo")
            demo_language = demo_language_choice("ft-data-demo-language")
    detected = gr.Markdown(elem_id="ft-data-detected")
    first_rows = gr.Dataframe(
        label=L("finetune.first_rows"),
        interactive=False,
        wrap=True,
        max_height=240,
        visible=False,
        elem_id="ft-data-first-rows",
    )
    return upload, demo, demo_language, detected, first_rows


def _mapping_section() -> tuple[Any, ...]:
    """Which columns hold the instruction, input, answer (or the chat)."""
    with gr.Accordion(L("finetune.mapping_accordion"), open=False, elem_id="ft-data-mapping") as mapping_box:
        kind = gr.Radio(
            [(L(KIND_KEYS[key]) if key in KIND_KEYS else label, key) for key, label in KINDS.items()],
            value=ALPACA_KIND,
            label=L("finetune.dataset_format"),
            elem_id="ft-data-kind",
        )
        with gr.Row():
            roles = [gr.Dropdown([_none()], value="", label=role, elem_id=f"ft-data-col-{role}") for role in ROLES]
        gr.Markdown(L("finetune.mapping_help"))
    return mapping_box, kind, roles


def _settings_row(base_choices: dict[str, Any]) -> tuple[Any, ...]:
    with gr.Row():
        name = gr.Textbox(
            label=L("finetune.dataset_name"), placeholder=L("finetune.dataset_name_placeholder"), elem_id="ft-data-name"
        )
        base_model = gr.Dropdown(label=L("finetune.base_model_tokens"), elem_id="ft-data-base-model", **base_choices)
        prompt_format = gr.Radio(
            [(L(FORMAT_KEYS[key]) if key in FORMAT_KEYS else label, key) for key, label in PROMPT_FORMATS.items()],
            value=ALPACA,
            label=L("finetune.prompt_format"),
            elem_id="ft-data-format",
        )
        max_length = gr.Number(
            value=DEFAULT_MAX_LENGTH,
            precision=0,
            minimum=16,
            maximum=8192,
            label=L("finetune.max_length"),
            elem_id="ft-data-max-length",
        )
    return name, base_model, prompt_format, max_length


def _report_section() -> tuple[Any, ...]:
    """Check, and what the check found: summary, issues, token lengths, a formatted preview."""
    check = gr.Button(L("finetune.check_button"), variant="primary", elem_id="ft-data-check")
    summary = gr.Markdown(elem_id="ft-data-summary")
    with gr.Row():
        issues = gr.Dataframe(
            headers=ISSUE_HEADERS,
            interactive=False,
            wrap=True,
            max_height=320,
            label=L("finetune.issues_table"),
            scale=3,
            elem_id="ft-data-issues",
        )
        histogram = gr.Plot(label=L("finetune.token_lengths"), scale=2, elem_id="ft-data-histogram")
    preview = gr.Code(
        label=L("finetune.preview_label"),  # says 3 rows: PREVIEW_ROWS
        language=None,
        interactive=False,
        wrap_lines=True,
        max_lines=40,
        elem_id="ft-data-preview",
    )
    return check, summary, issues, histogram, preview


def _saved_section(saved_choices: dict[str, Any]) -> tuple[Any, ...]:
    """The saved datasets: pick, preview, rename, delete."""
    with gr.Row():
        saved = gr.Dropdown(label=L("finetune.saved_datasets"), scale=3, elem_id="ft-data-saved", **saved_choices)
        refresh = gr.Button(L("finetune.refresh"), size="sm", scale=0, elem_id="ft-data-refresh")
        preview_button = gr.Button(L("finetune.preview_button"), size="sm", scale=0, elem_id="ft-data-preview-btn")
    with gr.Row():
        new_name = gr.Textbox(label=L("finetune.new_name"), scale=2, elem_id="ft-data-new-name")
        rename = gr.Button(L("finetune.rename"), size="sm", scale=0, elem_id="ft-data-rename")
        confirm_delete = gr.Checkbox(
            label=L("finetune.confirm_delete"), value=False, scale=0, elem_id="ft-data-confirm-delete"
        )
        delete = gr.Button(L("finetune.delete_dataset"), size="sm", variant="stop", scale=0, elem_id="ft-data-delete")
    return saved, refresh, preview_button, new_name, rename, confirm_delete, delete


class DatasetController:
    def __init__(self, datasets: DatasetService):
        self.datasets = datasets

    # ---- pickers ---------------------------------------------------------------------------
    def saved_choices(self, selected: Any = None) -> dict[str, Any]:
        """The saved datasets, keeping ``selected`` if it still exists, else the newest."""
        items = self.datasets.list_datasets()
        ids = [d.id for d in items]
        choices = [(say(d.label), d.id) for d in items]  # English while the page is built, then the reader's
        return {"choices": choices, "value": kept_value(ids, selected, ids[:1])}

    def base_choices(self, selected: Any = None) -> dict[str, Any]:
        """The models that can be fine-tuned (a narrower list than every model picker's), keeping
        ``selected``, else SmolLM2, else the first."""
        choices = self.datasets.base_model_choices()
        keys = [key for _, key in choices]
        return {"choices": choices, "value": kept_value(keys, selected, (SMOLLM2_KEY, *keys[:1]))}

    def saved_picker(self, selected: Any = None) -> gr.Dropdown:
        return gr.Dropdown(**self.saved_choices(selected))

    @user_errors
    def refresh_base_model(self, selected: Any) -> dict:
        return gr.update(**self.base_choices(selected))

    # ---- reading an upload -----------------------------------------------------------------
    @user_errors
    def inspect(self, path: str | None):
        if not path:
            return (
                "",
                None,
                gr.Accordion(open=False),
                gr.skip(),
                *[gr.Dropdown(choices=[_none()], value="") for _ in ROLES],
                "",
            )
        found = self.datasets.inspect_file(path, Path(path).name)
        columns = [_none()] + [(c, c) for c in found.columns]
        mapping = found.mapping or ColumnMapping(ALPACA_KIND)
        # The file's own names (file, sheet, columns) are shown as text.
        notes = "".join(f"\n\nℹ️ {inert_inline(say(n))}" for n in found.notes)
        message = inert_inline(say(found.message))
        shown = f"**{inert_inline(found.filename)}** · {message}{notes}" if found.mapping else f"⚠️ {message}{notes}"
        rows = {"headers": found.columns, "data": found.first_rows}
        dropdowns = [gr.Dropdown(choices=columns, value=getattr(mapping, role)) for role in ROLES]
        return (
            shown,
            rows,
            gr.Accordion(open=found.mapping is None),
            mapping.kind,
            *dropdowns,
            Path(found.filename).stem,
        )

    @user_errors
    def load_demo(self, language: str | None = ENGLISH):
        return _served_copy(self.datasets.demo_file(language or ENGLISH))

    @user_errors
    def check(self, path, dataset_name, kind, *rest):
        columns, (model_key, fmt, cutoff) = rest[: len(ROLES)], rest[len(ROLES) :]
        if not path:
            raise gr.Error(text("finetune.upload_first"))
        info = self.datasets.import_dataset(
            path,
            dataset_name or "",
            column_mapping(kind, columns),
            int(cutoff or DEFAULT_MAX_LENGTH),
            base_model=model_key or None,
            prompt_format=fmt or ALPACA,
            filename=Path(path).name,
        )
        gr.Info(text("finetune.dataset_saved_toast", name=info.name, usable=info.usable_count, rows=info.row_count))
        return (*self._report(info, model_key, fmt), self.saved_picker(info.id))

    # ---- saved datasets --------------------------------------------------------------------
    @user_errors
    def show(self, dataset_id, model_key, fmt):
        if not _picked(dataset_id):
            return "", issues_table([]), None, ""
        return self._report(self.datasets.get(int(dataset_id)), model_key, fmt)

    @user_errors
    def show_preview(self, dataset_id, model_key, fmt):
        return self._preview(self._required(dataset_id), model_key, fmt)

    @user_errors
    def format_changed(self, dataset_id, model_key, fmt):
        return self._preview(int(dataset_id), model_key, fmt) if _picked(dataset_id) else gr.skip()

    @user_errors
    def refresh(self, dataset_id):
        return self.saved_picker(dataset_id)

    @user_errors
    def rename(self, dataset_id, value):
        info = self.datasets.rename(self._required(dataset_id), value)
        gr.Info(text("finetune.renamed", name=info.name))
        return self.saved_picker(info.id), ""

    @user_errors
    def delete(self, dataset_id, confirmed):
        dataset_id = self._required(dataset_id)
        if not confirmed:
            raise gr.Error(text("finetune.tick_delete"))
        gr.Info(say(self.datasets.delete(dataset_id)))
        return self.saved_picker(None), False

    # ---- formatting ------------------------------------------------------------------------
    def _report(self, info: DatasetInfo, model_key: str | None, fmt: str) -> tuple:
        report = info.report
        name, source = inert_inline(info.name), inert_inline(info.source_name)
        mapping = inert_inline(say(info.mapping.describe()))
        head = text("finetune.saved_head", name=name, source=source, mapping=mapping) + "\n\n"
        language = request_language()
        figure = token_length_histogram(report.lengths, report.max_length, language=language)
        summary = report.summary_markdown(language)
        rows = report.issue_rows(language)
        return head + summary, issues_table(rows), figure, self._preview(info.id, model_key, fmt)

    def _preview(self, dataset_id: int, model_key: str | None, fmt: str) -> str:
        pairs = self.datasets.preview_training_text(
            int(dataset_id), fmt or ALPACA, n=PREVIEW_ROWS, base_model=model_key or None
        )
        return preview_text(pairs)

    @staticmethod
    def _required(dataset_id: Any) -> int:
        if not _picked(dataset_id):
            raise gr.Error(text("finetune.pick_saved_dataset"))
        return int(dataset_id)


@dataclass
class DatasetPanel:
    widgets: DatasetWidgets
    on_open: list[Event] = field(default_factory=list)


def _wire(w: DatasetWidgets, c: DatasetController) -> None:
    w.upload.change(
        c.inspect,
        [w.upload],
        [w.detected, w.first_rows, w.mapping_box, w.kind, *w.roles, w.name],
        api_name="ft_data_inspect",
    )
    fit_when_changed(w.first_rows, fit_file_rows, [w.upload, w.first_rows])
    w.demo.click(c.load_demo, [w.demo_language], [w.upload], api_name="ft_data_demo")
    check_inputs = [w.upload, w.name, w.kind, *w.roles, w.base_model, w.prompt_format, w.max_length]
    w.check.click(c.check, check_inputs, [*w.report_views, w.saved], api_name="ft_data_check")
    w.saved.input(c.show, w.preview_inputs, w.report_views, api_name="ft_data_show")
    w.preview_button.click(c.show_preview, w.preview_inputs, [w.preview], api_name="ft_data_preview")
    w.prompt_format.input(c.format_changed, w.preview_inputs, [w.preview], api_name="ft_data_preview_format")
    w.refresh.click(c.refresh, [w.saved], [w.saved], api_name="ft_data_refresh")
    w.rename.click(c.rename, [w.saved, w.new_name], [w.saved, w.new_name], api_name="ft_data_rename")
    w.delete.click(c.delete, [w.saved, w.confirm_delete], [w.saved, w.confirm_delete], api_name="ft_data_delete")


def build_dataset_panel(services: Services) -> DatasetPanel:
    controller = DatasetController(services.finetune_datasets)
    widgets = dataset_layout(controller.base_choices(), controller.saved_choices())
    _wire(widgets, controller)
    # Models added in the Models tab become tunable bases when the tab is opened again.
    return DatasetPanel(widgets, [Event(controller.refresh_base_model, [widgets.base_model], [widgets.base_model])])
