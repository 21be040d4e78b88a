"""Compare's batch panel: run the prompt template over every row of a table, in every
column, and watch a rows × columns grid fill in; cancel; export CSV or JSONL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from components.compare_columns import columns_from_values, visible_column_count
from components.file_rows import GRID_SHARE, fit_file_rows, fit_when_changed, table_contents
from components.i18n import L, request_language, say, text
from components.language_widgets import demo_language_choice
from components.run_estimates import after_run, estimate_before_run, estimate_view, estimate_widgets, while_running
from components.ui_errors import user_errors
from components.widgets import StoppableRun, with_progress
from playground.compare.batch import Table, answer_count, demo_files
from playground.compare.batch_read import match_variables, preview_rows
from playground.compare.batch_view import format_progress, grid_table
from playground.compare.templates import template_variables
from playground.errors import InvalidInput
from playground.i18n import t
from playground.languages import ENGLISH
from playground.rendering import inert_inline
from playground.services import Services

FILE_TYPES = [".csv", ".tsv", ".xlsx", ".jsonl"]
PREVIEW_ROWS = 5
# Shares of the grid's width, in percent. Gradio sizes an unsized column to its longest cell on
# one line, which pushed the second model off-screen; sized shares that add up to the table's
# width keep every model's column in view, side by side, and let the answers wrap.
ROW_NUMBER_SHARE = 4.0
INPUTS_SHARE = 26.0  # all the input columns together, at most
INPUT_SHARE = 13.0  # one input column, at most
STOPPING = t("compare.stopping_batch")


def grid_column_widths(input_count: int, answer_count: int) -> list[str]:
    """Widths for the results grid's "#", input and answer columns, as percentages of its width:
    the answers share what the row number and the (clipped) inputs leave."""
    input_share = min(INPUT_SHARE, INPUTS_SHARE / input_count) if input_count else 0.0
    answers = GRID_SHARE - ROW_NUMBER_SHARE - input_share * input_count
    answer_share = answers / max(answer_count, 1)
    shares = [ROW_NUMBER_SHARE, *[input_share] * input_count, *[answer_share] * answer_count]
    return [f"{share:.2f}%" for share in shares]


def answer_column_count(headers: list[str]) -> int:
    """How many of the grid's last headers are its answer columns: "1 · <model>" … "m · <model>"."""
    for count in range(len(headers) - 1, 0, -1):
        if all(h.startswith(f"{i + 1} · ") for i, h in enumerate(headers[-count:])):
            return count
    return 0


def fit_results_grid(value: Any) -> gr.Dataframe:
    """The results grid: hidden until a run fills it, then its columns sized to fit side by side."""
    headers, rows = table_contents(value)
    if not rows:
        return gr.Dataframe(visible=False)
    answers = answer_column_count(headers)
    inputs = len(headers) - 1 - answers  # the "#" column, the inputs shown, then the answers
    return gr.Dataframe(column_widths=grid_column_widths(inputs, answers), visible=True)


def _served_copy(path: Path) -> str:
    """A copy in the temp folder, which Gradio may always serve (the data folder may not be)."""
    folder = Path(tempfile.mkdtemp(prefix="playground-batch-"))
    return str(shutil.copy2(path, folder / path.name))


def _upload_name(path: str) -> str:
    return Path(path).name  # Gradio keeps the uploaded file's own name in its cache folder


def preview_text(table: Table, template_body: str, column_count: int, row_limit: int) -> str:
    """What the file holds and, when the template fits it, how many answers the run will write."""
    columns = inert_inline(", ".join(table.columns))  # the uploaded file's own words: shown as text
    lines = [text("compare.preview_head", file=inert_inline(table.filename), rows=table.row_count, columns=columns)]
    lines += [f"ℹ️ {inert_inline(say(note))}" for note in table.notes]
    variables = template_variables(template_body)
    if not variables:
        lines.append(text("compare.preview_no_variables"))
    else:
        mapping = match_variables(table.columns, variables)
        missing = [v for v in variables if v not in mapping]
        if missing:
            lines.append(text("compare.preview_missing", missing=", ".join(missing), columns=columns))
        else:
            filled = ", ".join(f"`{{{{{v}}}}}` ← {inert_inline(c)}" for v, c in mapping.items())
            answers = answer_count(table, column_count)
            lines.append(
                text(
                    "compare.preview_ready", filled=filled, rows=table.row_count, columns=column_count, answers=answers
                )
            )
    lines.append(text("compare.preview_limit", limit=row_limit))
    return "\n\n".join(lines)


@dataclass
class BatchPanel:
    upload: gr.File
    demo_btn: gr.Button
    demo_language: gr.Radio
    preview_info: gr.Markdown
    preview: gr.Dataframe
    run_btn: gr.Button
    cancel_btn: gr.Button
    estimate_btn: gr.Button
    estimate_info: gr.Markdown
    progress_line: gr.Markdown
    grid: gr.Dataframe
    export_csv_btn: gr.Button
    export_jsonl_btn: gr.Button
    export_file: gr.File
    run_state: gr.State


def batch_panel_layout() -> BatchPanel:
    gr.Markdown(L("compare.batch_intro"))
    with gr.Row():
        upload = gr.File(
            label=L("compare.batch_table"), file_types=FILE_TYPES, type="filepath", scale=3, elem_id="batch-file"
        )
        with gr.Column(scale=1, min_width=160):
            demo_btn = gr.Button(L("compare.load_demo"), elem_id="batch-demo")
            demo_language = demo_language_choice("batch-demo-language")
    preview_info = gr.Markdown(elem_id="batch-preview-info")
    preview = gr.Dataframe(
        label=L("compare.first_rows"),
        interactive=False,
        wrap=True,
        max_height=260,
        visible=False,
        elem_id="batch-preview",
    )
    with gr.Row():
        run_btn = gr.Button(L("compare.run_batch"), variant="primary", elem_id="batch-run")
        cancel_btn = gr.Button(L("compare.cancel_batch"), elem_id="batch-cancel")
        estimate_btn, estimate_info = estimate_widgets("batch")
    progress_line = gr.Markdown(elem_id="batch-progress")
    grid = gr.Dataframe(
        label=L("compare.batch_results"),
        interactive=False,
        wrap=True,
        max_height=600,
        max_chars=140,
        visible=False,  # until a run fills it: its headers are the run's inputs and columns
        elem_id="batch-grid",
    )
    with gr.Row():
        export_csv_btn = gr.Button(L("compare.export_csv"), size="sm", elem_id="batch-export-csv")
        export_jsonl_btn = gr.Button(L("compare.export_jsonl"), size="sm", elem_id="batch-export-jsonl")
    export_file = gr.File(label=L("compare.download"), interactive=False, elem_id="batch-export-file")
    return BatchPanel(
        upload,
        demo_btn,
        demo_language,
        preview_info,
        preview,
        run_btn,
        cancel_btn,
        estimate_btn,
        estimate_info,
        progress_line,
        grid,
        export_csv_btn,
        export_jsonl_btn,
        export_file,
        gr.State(None),
    )


class BatchController:
    def __init__(self, services: Services, run: StoppableRun, template_name_is_dropdown: bool):
        self.batch = services.batch
        self.estimates = services.estimates
        self.templates = services.templates
        self.row_limit = services.settings.batch_row_limit
        self.run = run
        self.template_name_is_dropdown = template_name_is_dropdown

    @user_errors
    def show_preview(self, path: str | None, body: str, count: Any):
        if not path:
            return "", None
        table = self.batch.load(path, _upload_name(path))
        # As many columns as run_batch will run, so the promised figure is the run's total.
        text = preview_text(table, body or "", visible_column_count(count), self.row_limit)
        return text, {"headers": table.columns, "data": preview_rows(table, PREVIEW_ROWS)}

    @user_errors
    def load_demo(self, language: str | None = ENGLISH):
        path, body, name = demo_files(language or ENGLISH)
        info = self.templates.save(name, body)  # saved, so runs record which version they used
        name_update = (
            gr.Dropdown(choices=self.templates.names(), value=info.name)
            if self.template_name_is_dropdown
            else info.name
        )
        return _served_copy(path), body, name_update

    @user_errors
    def run_batch(
        self, path: str | None, body: str, name: str | None, count: Any, *values_and_token: Any, progress=gr.Progress()
    ):
        *values, token = values_and_token
        if not path:
            raise InvalidInput(t("compare.no_table"))
        columns = columns_from_values(values, count)
        table = self.batch.load(path, _upload_name(path))
        estimate = estimate_before_run(lambda: self.estimates.for_batch(columns, body or "", table))
        kept = estimate.to_dict() if estimate is not None else None
        # API callers skip the click's start step: their token goes back into the state, so Cancel reaches this batch.
        token = token or self.run.start()
        with self.run.cancel_event(token) as cancel:
            steps = self.batch.run(
                columns, body or "", name or "", table, cancel, filename=table.filename, estimate=kept
            )
            language = request_language()
            for step in with_progress(steps, progress, unit=text("compare.cells_unit")):
                headers, rows = grid_table(step.grid, max_chars=2000, language=language)
                line = format_progress(step, language)
                if step.finished:  # actual against estimate, from what the run stored
                    line = after_run(line, self.estimates.against(step.run_id) if estimate else None)
                else:
                    line = while_running(line, estimate)
                yield line, {"headers": headers, "data": rows}, step.run_id, token

    @user_errors
    def estimate(self, path: str | None, body: str, count: Any, *values: Any) -> str:
        """What the batch would cost and take, before it runs (refuses what the run would refuse)."""
        if not path:
            raise InvalidInput(t("compare.no_table"))
        table = self.batch.load(path, _upload_name(path))
        return estimate_view(self.estimates.for_batch(columns_from_values(values, count), body or "", table))

    def _export(self, run_id: Any, writer: Callable[[int], Path]) -> str:
        if run_id in (None, ""):
            raise InvalidInput(t("compare.export_nothing"))
        return _served_copy(writer(int(run_id)))

    @user_errors
    def export_csv(self, run_id: Any) -> str:
        return self._export(run_id, self.batch.export_csv)

    @user_errors
    def export_jsonl(self, run_id: Any) -> str:
        return self._export(run_id, self.batch.export_jsonl)


def build_batch_panel(
    services: Services,
    column_inputs: list[gr.components.Component],
    column_count: gr.components.Component,
    template_body: gr.Textbox,
    template_name: gr.components.Component,
) -> None:
    panel = batch_panel_layout()
    run = StoppableRun(services.cancel_tokens, STOPPING)
    controller = BatchController(services, run, isinstance(template_name, gr.Dropdown))
    preview_inputs = [panel.upload, template_body, column_count]
    preview_outputs = [panel.preview_info, panel.preview]
    panel.upload.change(controller.show_preview, preview_inputs, preview_outputs, api_name="batch_preview")
    fit_when_changed(panel.preview, fit_file_rows, [panel.upload, panel.preview])
    fit_when_changed(panel.grid, fit_results_grid, [panel.grid])
    # Adding or removing a Compare column changes how many answers the batch will write.
    column_count.change(
        controller.show_preview,
        preview_inputs,
        preview_outputs,
        api_name="batch_preview_columns",
        show_progress="hidden",
    )
    panel.demo_btn.click(
        controller.load_demo, [panel.demo_language], [panel.upload, template_body, template_name], api_name="batch_demo"
    )
    run.wire(
        panel.run_btn,
        panel.cancel_btn,
        controller.run_batch,
        [panel.upload, template_body, template_name, column_count, *column_inputs],
        [panel.progress_line, panel.grid, panel.run_state, run.token],
        api_name="batch_run",
        stop_api_name="batch_cancel",
        status=panel.progress_line,  # the grid stays visible while it fills
    )
    panel.estimate_btn.click(
        controller.estimate,
        [panel.upload, template_body, column_count, *column_inputs],
        [panel.estimate_info],
        api_name="batch_estimate",
    )
    panel.export_csv_btn.click(
        controller.export_csv, [panel.run_state], [panel.export_file], api_name="batch_export_csv"
    )
    panel.export_jsonl_btn.click(
        controller.export_jsonl, [panel.run_state], [panel.export_file], api_name="batch_export_jsonl"
    )
