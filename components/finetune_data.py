"""Fine-tune tab, dataset half: upload, recognise or map the columns, check row by row,
preview the exact training text, save and reuse datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from components.compare_batch import _served_copy
from playground.finetune.charts import token_length_histogram
from playground.finetune.dataset_service import DEFAULT_MAX_LENGTH, DatasetInfo
from playground.finetune.datasets import ALPACA_KIND, CHAT_KIND, KINDS, ColumnMapping
from playground.finetune.formats import ALPACA, PROMPT_FORMATS
from playground.models.embedded import SMOLLM2_KEY
from playground.services import Services

FILE_TYPES = [".csv", ".tsv", ".xlsx", ".jsonl"]
DEMO = Path(__file__).resolve().parent.parent / "assets" / "demo" / "finetune_support_replies.csv"
ISSUE_HEADERS = ["row", "problem", "details"]
ROLES = ("instruction", "input", "output", "system", "messages")
NONE = ("— none —", "")
PREVIEW_ROWS = 3


def preview_text(pairs: list[tuple[str, str]]) -> str:
    """Each example's prompt, then the completion the loss is taken on, exactly as trained."""
    blocks = [f"════ Example {i}: prompt (the model reads this) ════\n{prompt}\n════ Example {i}: completion (the model learns to write this) ════\n{completion}" for i, (prompt, completion) in enumerate(pairs, start=1)]
    return "\n\n".join(blocks)


def build_dataset_panel(services: Services) -> dict[str, Any]:
    datasets = services.finetune_datasets

    def saved_choices(selected: int | None = None) -> dict[str, Any]:
        items = datasets.list_datasets()
        ids = [d.id for d in items]
        return {"choices": [(d.label, d.id) for d in items], "value": selected if selected in ids else (ids[0] if ids else None)}

    base_choices = datasets.base_model_choices()
    base_keys = [key for _, key in base_choices]

    gr.Markdown(
        "### 1. Dataset\nUpload a table of examples: **instruction / input / output** (Alpaca), **prompt / completion**, "
        "or chat **messages**. It is checked row by row; 10% of the rows (at least a few) are held out to check the tuned model.",
    )
    with gr.Row():
        upload = gr.File(label="Dataset (.csv, .tsv, .xlsx, .jsonl)", file_types=FILE_TYPES, type="filepath", scale=3, elem_id="ft-data-file")
        demo_btn = gr.Button("Load demo dataset (60 support replies)", scale=1, elem_id="ft-data-demo")
    detected = gr.Markdown(elem_id="ft-data-detected")
    first_rows = gr.Dataframe(label="First rows", interactive=False, wrap=True, max_height=240, elem_id="ft-data-first-rows")
    with gr.Accordion("Columns: which column plays which role", open=False, elem_id="ft-data-mapping") as mapping_box:
        kind = gr.Radio([(label, key) for key, label in KINDS.items()], value=ALPACA_KIND, label="Dataset format", elem_id="ft-data-kind")
        with gr.Row():
            role_boxes = {role: gr.Dropdown([NONE], value="", label=role, elem_id=f"ft-data-col-{role}") for role in ROLES}
        gr.Markdown("For prompt / completion, put the prompt column in *instruction* and the completion in *output*. For chat, only *messages* (and optionally *system*) are used.")
    with gr.Row():
        name = gr.Textbox(label="Dataset name", placeholder="defaults to the file name", elem_id="ft-data-name")
        base_model = gr.Dropdown(base_choices, value=SMOLLM2_KEY if SMOLLM2_KEY in base_keys else (base_keys[0] if base_keys else None), label="Base model (its tokenizer counts tokens)", elem_id="ft-data-base-model")
        prompt_format = gr.Radio([(label, key) for key, label in PROMPT_FORMATS.items()], value=ALPACA, label="Prompt format", elem_id="ft-data-format")
        max_length = gr.Number(value=DEFAULT_MAX_LENGTH, precision=0, minimum=16, maximum=8192, label="Cut-off (max tokens per row)", elem_id="ft-data-max-length")
    check_btn = gr.Button("Check & save dataset", variant="primary", elem_id="ft-data-check")
    summary = gr.Markdown(elem_id="ft-data-summary")
    with gr.Row():
        issues = gr.Dataframe(headers=ISSUE_HEADERS, interactive=False, wrap=True, max_height=320, label="Problems, row by row", scale=3, elem_id="ft-data-issues")
        histogram = gr.Plot(label="Token lengths", scale=2, elem_id="ft-data-histogram")
    preview = gr.Code(label=f"Exact training text of the first {PREVIEW_ROWS} rows", language=None, interactive=False, wrap_lines=True, max_lines=40, elem_id="ft-data-preview")
    with gr.Row():
        saved = gr.Dropdown(label="Saved datasets", scale=3, elem_id="ft-data-saved", **saved_choices())
        refresh_btn = gr.Button("↻ Refresh", size="sm", scale=0, elem_id="ft-data-refresh")
        preview_btn = gr.Button("Preview training text", size="sm", scale=0, elem_id="ft-data-preview-btn")
    with gr.Row():
        new_name = gr.Textbox(label="New name", scale=2, elem_id="ft-data-new-name")
        rename_btn = gr.Button("Rename", size="sm", scale=0, elem_id="ft-data-rename")
        confirm = gr.Checkbox(label="Yes, delete it", value=False, scale=0, elem_id="ft-data-confirm-delete")
        delete_btn = gr.Button("Delete dataset", size="sm", variant="stop", scale=0, elem_id="ft-data-delete")

    def saved_picker(selected: int | None = None) -> gr.Dropdown:
        return gr.Dropdown(**saved_choices(selected))

    def report_outputs(info: DatasetInfo, tokenizer_key: str | None, fmt: str) -> tuple:
        report = info.report
        head = f"**Saved “{info.name}”** from {info.source_name}: {info.mapping.describe()}.\n\n"
        figure = token_length_histogram(report.lengths, report.max_length)
        return head + report.summary_markdown(), report.issue_rows(), figure, preview_for(info.id, tokenizer_key, fmt)

    def preview_for(dataset_id: int, tokenizer_key: str | None, fmt: str) -> str:
        tokenizer = datasets.tokenizer(tokenizer_key) if tokenizer_key else None
        return preview_text(datasets.preview_training_text(int(dataset_id), fmt or ALPACA, tokenizer, n=PREVIEW_ROWS))

    @user_errors
    def inspect(path: str | None):
        if not path:
            return ("", None, gr.Accordion(open=False), gr.skip(), *[gr.Dropdown(choices=[NONE], value="") for _ in ROLES], "")
        found = datasets.inspect_file(path, Path(path).name)
        columns = [NONE] + [(c, c) for c in found.columns]
        mapping = found.mapping or ColumnMapping(ALPACA_KIND)
        values = {role: getattr(mapping, role) for role in ROLES}
        notes = "".join(f"\n\nℹ️ {n}" for n in found.notes)
        text = f"**{found.filename}** · {found.message}{notes}" if found.mapping else f"⚠️ {found.message}{notes}"
        rows = {"headers": found.columns, "data": found.first_rows}
        dropdowns = [gr.Dropdown(choices=columns, value=values[role]) for role in ROLES]
        return (text, rows, gr.Accordion(open=found.mapping is None), mapping.kind, *dropdowns, Path(found.filename).stem)

    @user_errors
    def load_demo():
        return _served_copy(DEMO)

    @user_errors
    def check(path, dataset_name, kind_value, *rest):
        columns, (model_key, fmt, cutoff) = rest[: len(ROLES)], rest[len(ROLES) :]
        if not path:
            raise gr.Error("Upload a dataset file first (or press “Load demo dataset”).")
        chosen = dict(zip(ROLES, (c or "" for c in columns)))
        wanted = chosen["messages"] if kind_value == CHAT_KIND else chosen["instruction"] or chosen["output"]
        mapping = ColumnMapping(kind_value or ALPACA_KIND, **chosen) if wanted else None
        info = datasets.import_dataset(
            path, dataset_name or "", mapping, int(cutoff or DEFAULT_MAX_LENGTH),
            base_model=model_key or None, prompt_format=fmt or ALPACA, filename=Path(path).name,
        )
        gr.Info(f"Saved dataset “{info.name}”: {info.usable_count} of {info.row_count} rows usable.")
        return (*report_outputs(info, model_key, fmt), saved_picker(info.id))

    @user_errors
    def show(dataset_id, model_key, fmt):
        if dataset_id in (None, ""):
            return "", [], None, ""
        return report_outputs(datasets.get(int(dataset_id)), model_key, fmt)

    @user_errors
    def show_preview(dataset_id, model_key, fmt):
        if dataset_id in (None, ""):
            raise gr.Error("Pick a saved dataset first.")
        return preview_for(int(dataset_id), model_key, fmt)

    @user_errors
    def format_changed(dataset_id, model_key, fmt):
        return gr.skip() if dataset_id in (None, "") else preview_for(int(dataset_id), model_key, fmt)

    @user_errors
    def refresh(dataset_id):
        return saved_picker(dataset_id)

    @user_errors
    def rename(dataset_id, value):
        if dataset_id in (None, ""):
            raise gr.Error("Pick a saved dataset first.")
        info = datasets.rename(int(dataset_id), value)
        gr.Info(f"Renamed to “{info.name}”.")
        return saved_picker(info.id), ""

    @user_errors
    def delete(dataset_id, confirmed):
        if dataset_id in (None, ""):
            raise gr.Error("Pick a saved dataset first.")
        if not confirmed:
            raise gr.Error("Tick “Yes, delete it” first: jobs can no longer be started from a deleted dataset.")
        gr.Info(datasets.delete(int(dataset_id)))
        return saved_picker(None), False

    roles = [role_boxes[r] for r in ROLES]
    report_views = [summary, issues, histogram, preview]
    upload.change(inspect, [upload], [detected, first_rows, mapping_box, kind, *roles, name], api_name="ft_data_inspect")
    demo_btn.click(load_demo, None, [upload], api_name="ft_data_demo")
    check_btn.click(check, [upload, name, kind, *roles, base_model, prompt_format, max_length], [*report_views, saved], api_name="ft_data_check")
    saved.input(show, [saved, base_model, prompt_format], report_views, api_name="ft_data_show")
    preview_btn.click(show_preview, [saved, base_model, prompt_format], [preview], api_name="ft_data_preview")
    prompt_format.input(format_changed, [saved, base_model, prompt_format], [preview], api_name="ft_data_preview_format")
    refresh_btn.click(refresh, [saved], [saved], api_name="ft_data_refresh")
    rename_btn.click(rename, [saved, new_name], [saved, new_name], api_name="ft_data_rename")
    delete_btn.click(delete, [saved, confirm], [saved, confirm], api_name="ft_data_delete")

    return {
        "file": upload, "demo": demo_btn, "detected": detected, "first_rows": first_rows, "kind": kind, **{f"column_{r}": role_boxes[r] for r in ROLES},
        "name": name, "base_model": base_model, "prompt_format": prompt_format, "max_length": max_length, "check": check_btn,
        "summary": summary, "issues": issues, "histogram": histogram, "preview": preview,
        "saved": saved, "refresh": refresh_btn, "refresh_saved": (refresh, [saved], [saved]),
        "rename": rename_btn, "new_name": new_name, "delete": delete_btn, "confirm_delete": confirm,
    }
