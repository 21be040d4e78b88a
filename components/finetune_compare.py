"""Fine-tune tab: base vs tuned on the job's holdout prompts, side by side, as it streams."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.i18n import L, say, text
from components.ui_errors import user_errors
from components.widgets import GENERATION_EVENTS, with_progress
from playground.compare.fanout import ColumnState
from playground.finetune.side_by_side import DEFAULT_PROMPTS, Comparison, SideBySideService
from playground.rendering import inert_inline
from playground.statuses import GenerationStatus

HEADERS = ["Holdout prompt", "Expected answer", "Base model", "Tuned model"]


def _cell(state: ColumnState) -> str:
    if state.status == GenerationStatus.ERROR:
        return f"⚠️ {inert_inline(say(state.error))}"
    if state.status == GenerationStatus.WAITING:
        return "…"
    return state.text + (" ▌" if state.status == GenerationStatus.RUNNING else "")


def compare_headers() -> list[str]:
    """The table's column names in the reader's language (Dataframe headers are not translated in the browser)."""
    keys = ("finetune.col_holdout_prompt", "finetune.col_expected", "finetune.col_base", "finetune.col_tuned")
    return [text(key) for key in keys]


def comparison_rows(result: Comparison) -> list[list[str]]:
    return [[row.prompt, row.expected, _cell(row.base), _cell(row.tuned)] for row in result.rows]


def comparison_note(result: Comparison) -> str:
    state = (
        text("finetune.compare_state_done")
        if result.finished
        else text("finetune.compare_state_running", done=result.done, total=len(result.rows))
    )
    lines = [
        text(
            "finetune.compare_note",
            base=inert_inline(result.base_name),
            tuned=inert_inline(result.tuned_name),
            format=result.prompt_format,
            run=result.run_id,
            state=state,
            cause=text("finetune.compare_cause_gguf" if result.exported else "finetune.compare_cause_adapter"),
        ),  # fmt: skip
    ]
    if result.note:
        lines.append(f"ℹ️ {say(result.note)}")
    return "\n\n".join(lines)


@dataclass
class CompareWidgets:
    prompts: gr.Slider
    tokens: gr.Slider
    tuned: gr.Dropdown
    run: gr.Button
    note: gr.Markdown
    table: gr.Dataframe


def compare_layout() -> CompareWidgets:
    with gr.Accordion(L("finetune.compare_accordion"), open=True, elem_id="ft-compare-box"):
        with gr.Row():
            prompts = gr.Slider(
                1,
                20,
                value=DEFAULT_PROMPTS,
                step=1,
                label=L("finetune.compare_prompts"),
                scale=2,
                elem_id="ft-compare-n",
            )
            tokens = gr.Slider(
                16, 512, value=96, step=16, label=L("finetune.compare_tokens"), scale=2, elem_id="ft-compare-tokens"
            )
            # The tuned model itself, or one of its GGUF exports (filled in for the picked job).
            tuned = gr.Dropdown(
                label=L("export.compare_tuned_label"),
                info=L("export.compare_tuned_info"),
                choices=[],
                allow_custom_value=True,
                scale=2,
                elem_id="ft-compare-tuned",
            )
            run = gr.Button(L("finetune.compare_button"), variant="primary", scale=1, elem_id="ft-compare-run")
        note = gr.Markdown(elem_id="ft-compare-note")
        table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="ft-compare-table")
    return CompareWidgets(prompts, tokens, tuned, run, note, table)


class CompareController:
    def __init__(self, side_by_side: SideBySideService):
        self.side_by_side = side_by_side

    @user_errors
    def tuned_choices(self, job_id, tuned):
        """The picked job's tuned model and GGUF exports, keeping the one picked if it is still there."""
        choices = self.side_by_side.tuned_choices(int(job_id) if job_id not in (None, "") else None)
        keys = [key for _, key in choices]
        return gr.Dropdown(choices=choices, value=tuned if tuned in keys else (keys[0] if keys else None))

    @user_errors
    def run(self, job_id, n, max_tokens, tuned=None, progress=gr.Progress()):
        if job_id in (None, ""):
            raise gr.Error(text("finetune.pick_finished_job"), print_exception=False)
        comparison = self.side_by_side.compare(int(job_id), int(n), int(max_tokens), tuned_key=tuned or None)
        for result in with_progress(comparison, progress, unit="prompts"):
            yield comparison_note(result), {"headers": compare_headers(), "data": comparison_rows(result)}


def build_compare_panel(side_by_side: SideBySideService, picker: gr.Dropdown) -> CompareWidgets:
    widgets = compare_layout()
    controller = CompareController(side_by_side)
    # A new export appears when the list is opened.
    for trigger, api_name in ((picker.change, "ft_compare_tuned_choices"), (widgets.tuned.focus, False)):
        trigger(
            controller.tuned_choices,
            [picker, widgets.tuned],
            [widgets.tuned],
            api_name=api_name,
            show_progress="hidden",
        )
    widgets.run.click(
        controller.run,
        [picker, widgets.prompts, widgets.tokens, widgets.tuned],
        [widgets.note, widgets.table],
        api_name="ft_base_vs_tuned",
        **GENERATION_EVENTS,
    )
    return widgets
