"""Fine-tune tab: base vs tuned on the job's holdout prompts, side by side, as it streams."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from playground.compare.fanout import ColumnState
from playground.finetune.side_by_side import DEFAULT_PROMPTS, Comparison
from playground.services import Services

HEADERS = ["Holdout prompt", "Expected answer", "Base model", "Tuned model"]


def _cell(state: ColumnState) -> str:
    if state.status == "error":
        return f"⚠️ {state.error}"
    if state.status == "waiting":
        return "…"
    return state.text + (" ▌" if state.status == "running" else "")


def comparison_rows(result: Comparison) -> list[list[str]]:
    return [[row.prompt, row.expected, _cell(row.base), _cell(row.tuned)] for row in result.rows]


def comparison_note(result: Comparison) -> str:
    state = "done" if result.finished else f"{result.done} of {len(result.rows)} prompts answered…"
    lines = [
        f"**Base:** {result.base_name} · **Tuned:** {result.tuned_name} · both greedy, both given the same "
        f"{result.prompt_format} prompt, so the difference is the adapter's. Saved in History (run {result.run_id}) — {state}",
    ]
    if result.note:
        lines.append(f"ℹ️ {result.note}")
    return "\n\n".join(lines)


def build_compare_panel(services: Services, picker: Any) -> dict[str, Any]:
    side_by_side = services.side_by_side

    with gr.Accordion("Base vs tuned on the holdout prompts", open=True, elem_id="ft-compare-box"):
        with gr.Row():
            prompts = gr.Slider(1, 20, value=DEFAULT_PROMPTS, step=1, label="Holdout prompts to compare", scale=2, elem_id="ft-compare-n")
            tokens = gr.Slider(16, 512, value=96, step=16, label="Max answer tokens", scale=2, elem_id="ft-compare-tokens")
            run_btn = gr.Button("Compare base vs tuned", variant="primary", scale=1, elem_id="ft-compare-run")
        note = gr.Markdown(elem_id="ft-compare-note")
        table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, elem_id="ft-compare-table")

    @user_errors
    def run(job_id, n, max_tokens):
        if job_id in (None, ""):
            raise gr.Error("Pick a finished job first.", print_exception=False)
        for result in side_by_side.compare(int(job_id), int(n), int(max_tokens)):
            yield comparison_note(result), comparison_rows(result)

    run_btn.click(run, [picker, prompts, tokens], [note, table], api_name="ft_base_vs_tuned")
    return {"run": run_btn, "note": note, "table": table, "service": side_by_side}
