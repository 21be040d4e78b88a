"""Compare's batch panel: run the prompt template over every row of a table, in every
column, and watch a rows × columns grid fill in; cancel; export CSV or JSONL."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from components.compare_columns import columns_from_values
from playground.compare.batch import Table, demo_files
from playground.compare.batch_view import format_progress, grid_table
from playground.compare.batch_read import match_variables, preview_rows
from playground.compare.templates import template_variables
from playground.errors import InvalidInput
from playground.services import Services

FILE_TYPES = [".csv", ".tsv", ".xlsx", ".jsonl"]
PREVIEW_ROWS = 5


def _served_copy(path: Path) -> str:
    """A copy in the temp folder, which Gradio may always serve (the data folder may not be)."""
    folder = Path(tempfile.mkdtemp(prefix="playground-batch-"))
    return str(shutil.copy2(path, folder / path.name))


def _upload_name(path: str) -> str:
    return Path(path).name  # Gradio keeps the uploaded file's own name in its cache folder


def preview_text(table: Table, template_body: str, column_count: int, row_limit: int) -> str:
    lines = [f"**{table.filename}** · {table.row_count} row(s) · columns: {', '.join(table.columns)}"]
    lines += [f"ℹ️ {note}" for note in table.notes]
    variables = template_variables(template_body)
    if not variables:
        lines.append("Write the prompt with the table's column names in `{{ }}`, e.g. `{{review}}` — or press **Load demo reviews**.")
    else:
        mapping = match_variables(table.columns, variables)
        missing = [v for v in variables if v not in mapping]
        if missing:
            lines.append(f"⚠️ The file has no column for: {', '.join(missing)}. Its columns are: {', '.join(table.columns)}.")
        else:
            filled = ", ".join(f"`{{{{{v}}}}}` ← {c}" for v, c in mapping.items())
            lines.append(f"✅ {filled} · {table.row_count} row(s) × {column_count} column(s) = {table.row_count * column_count} answers")
    lines.append(f"At most {row_limit} rows per batch.")
    return "\n\n".join(lines)


def build_batch_panel(
    services: Services,
    column_inputs: list[gr.components.Component],
    column_count: gr.components.Component,
    template_body: gr.Textbox,
    template_name: gr.components.Component,
) -> None:
    batch, tokens = services.batch, services.cancel_tokens
    row_limit = services.settings.batch_row_limit

    gr.Markdown(
        "Upload a table (CSV, XLSX or JSONL). Each row fills the prompt's `{{variables}}` from the columns of the same name "
        "and runs in every visible column; the grid below fills in as answers arrive."
    )
    with gr.Row():
        upload = gr.File(label="Table (.csv, .xlsx, .jsonl)", file_types=FILE_TYPES, type="filepath", scale=3, elem_id="batch-file")
        demo_btn = gr.Button("Load demo reviews", scale=1, elem_id="batch-demo")
    preview_info = gr.Markdown(elem_id="batch-preview-info")
    preview = gr.Dataframe(label="First rows", interactive=False, wrap=True, max_height=260, elem_id="batch-preview")
    with gr.Row():
        run_btn = gr.Button("Run batch", variant="primary", elem_id="batch-run")
        cancel_btn = gr.Button("Cancel batch", elem_id="batch-cancel")
    progress_line = gr.Markdown(elem_id="batch-progress")
    grid = gr.Dataframe(
        label="Results (rows × columns) — click a cell to read all of it", interactive=False, wrap=True, max_height=600, max_chars=140, elem_id="batch-grid"
    )
    with gr.Row():
        export_csv_btn = gr.Button("Export CSV", size="sm", elem_id="batch-export-csv")
        export_jsonl_btn = gr.Button("Export JSONL", size="sm", elem_id="batch-export-jsonl")
    export_file = gr.File(label="Download", interactive=False, elem_id="batch-export-file")
    run_state = gr.State(None)
    token_state = gr.State("")

    @user_errors
    def show_preview(path: str | None, body: str, count: Any):
        if not path:
            return "", None
        table = batch.load(path, _upload_name(path))
        text = preview_text(table, body or "", int(count or 1), row_limit)
        return text, {"headers": table.columns, "data": preview_rows(table, PREVIEW_ROWS)}

    @user_errors
    def load_demo():
        path, body, name = demo_files()
        info = services.templates.save(name, body)  # saved, so runs record which version they used
        name_update = gr.Dropdown(choices=services.templates.names(), value=info.name) if isinstance(template_name, gr.Dropdown) else info.name
        return _served_copy(path), body, name_update

    def start() -> str:
        return tokens.new()

    def cancel(token: str | None) -> str:
        return "⏹ Stopping after the answers now being written…" if tokens.cancel(token) else gr.skip()

    @user_errors
    def run_batch(path: str | None, body: str, name: str | None, count: Any, token: str | None, *values: Any, progress=gr.Progress()):
        if not path:
            raise InvalidInput("Upload a table first (or press Load demo reviews).")
        columns = columns_from_values(values, count)
        table = batch.load(path, _upload_name(path))
        token = token or tokens.new()  # API callers skip the click's start step
        try:
            for step in batch.run(columns, body or "", name or "", table, tokens.event(token), filename=table.filename):
                line = format_progress(step)
                if not step.finished:
                    progress((step.done, step.total), desc=line, unit="cells")
                headers, rows = grid_table(step.grid, max_chars=2000)
                yield line, {"headers": headers, "data": rows}, step.run_id, token
        finally:
            tokens.release(token)

    def _export(run_id: Any, writer) -> str:
        if run_id in (None, ""):
            raise InvalidInput("Run a batch first, then export its results.")
        return _served_copy(writer(int(run_id)))

    @user_errors
    def export_csv(run_id: Any) -> str:
        return _export(run_id, batch.export_csv)

    @user_errors
    def export_jsonl(run_id: Any) -> str:
        return _export(run_id, batch.export_jsonl)

    upload.change(show_preview, [upload, template_body, column_count], [preview_info, preview], api_name="batch_preview")
    demo_btn.click(load_demo, None, [upload, template_body, template_name], api_name="batch_demo")
    run_inputs = [upload, template_body, template_name, column_count, token_state, *column_inputs]
    run_btn.click(start, None, [token_state], queue=False, api_name=False).then(
        run_batch,
        run_inputs,
        [progress_line, grid, run_state, token_state],
        api_name="batch_run",
        concurrency_limit=None,  # the model registry already serialises work per model copy
        show_progress_on=[progress_line],  # the grid stays visible while it fills
    )
    cancel_btn.click(cancel, [token_state], [progress_line], queue=False, api_name="batch_cancel")
    export_csv_btn.click(export_csv, [run_state], [export_file], api_name="batch_export_csv")
    export_jsonl_btn.click(export_jsonl, [run_state], [export_file], api_name="batch_export_jsonl")
