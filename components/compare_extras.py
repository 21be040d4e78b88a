"""Per-column extras of Compare (feedback, repeat ×N) and the difference view."""

from __future__ import annotations

import gradio as gr

from components.ui_errors import user_errors
from components.compare_columns import ColumnForm
from playground.compare.columns import MAX_COLUMNS, make_column
from playground.compare.diff import word_diff
from playground.compare.templates import MAX_VARIABLES, template_variables
from playground.services import Services

MAX_REPEATS = 10


def last_answer(history: list[dict]) -> str:
    return next((m["content"] for m in reversed(history or []) if m["role"] == "assistant"), "")


def build_column_extras(
    services: Services,
    index: int,
    form: ColumnForm,
    prompt: gr.Textbox,
    variable_boxes: list[gr.Textbox],
    template_name: gr.components.Component,
    histories: gr.State,
    generation_ids: gr.State,
) -> None:
    compare = services.compare
    with gr.Row():
        up = gr.Button("Good answer", size="sm", min_width=60, elem_id=f"col{index}-up")
        down = gr.Button("Bad answer", size="sm", min_width=60, elem_id=f"col{index}-down")
        note = gr.Textbox(placeholder="Note on this answer (optional)", show_label=False, scale=3, min_width=120)
    feedback_msg = gr.Markdown()
    with gr.Accordion("Repeat ×N: how stable is this column?", open=False):
        times = gr.Slider(2, MAX_REPEATS, value=3, step=1, label="Times")
        repeat_btn = gr.Button("Repeat", size="sm", elem_id=f"col{index}-repeat")
        stability = gr.Markdown(elem_id=f"col{index}-stability")

    @user_errors
    def rate(gen_ids, text, rating):
        return compare.feedback((gen_ids or [None] * MAX_COLUMNS)[index], rating, text)

    @user_errors
    def repeat(body, hist, n, *rest, progress=gr.Progress()):
        var_values, settings = rest[:MAX_VARIABLES], rest[MAX_VARIABLES:]
        column = make_column(*settings, label=f"Column {index + 1}")
        variables = {name: var_values[i] for i, name in enumerate(template_variables(body)[:MAX_VARIABLES])}
        text = compare.build_prompt(body, variables)
        history = (hist or [[]] * MAX_COLUMNS)[index]
        progress(0, desc="Repeating")
        results, stats = compare.repeat(column, history, text, int(n), progress=lambda done, total: progress(done / total, desc=f"Run {done} of {total}"))
        samples = "\n".join(f"{i + 1}. {r.text.strip()[:160] or '(' + (r.error or r.status) + ')'}" for i, r in enumerate(results))
        return f"{stats.summary()}\n\n{samples}"

    up.click(lambda g, t: rate(g, t, 1), [generation_ids, note], [feedback_msg], api_name=f"compare_feedback_up_{index}")
    down.click(lambda g, t: rate(g, t, -1), [generation_ids, note], [feedback_msg], api_name=f"compare_feedback_down_{index}")
    repeat_btn.click(
        repeat, [prompt, histories, times, *variable_boxes, *form.components()], [stability], api_name=f"compare_repeat_{index}", concurrency_limit=None
    )


def build_diff_panel(histories: gr.State, column_count: gr.State) -> None:
    labels = [(f"Column {i + 1}", i) for i in range(MAX_COLUMNS)]
    with gr.Accordion("Differences between two columns", open=False, elem_id="compare-diff"):
        with gr.Row():
            left = gr.Dropdown(labels, value=0, label="Left")
            right = gr.Dropdown(labels, value=1, label="Right")
            show = gr.Button("Show differences")
        similarity = gr.Markdown()
        with gr.Row():
            left_html = gr.HTML(elem_id="compare-diff-left")
            right_html = gr.HTML(elem_id="compare-diff-right")

    @user_errors
    def differences(hist, count, a, b):
        a, b = int(a), int(b)
        if a == b:
            raise gr.Error("Pick two different columns.")
        if max(a, b) >= int(count):
            raise gr.Error("That column is not shown; add it first.")
        first, second = last_answer((hist or [])[a] if hist else []), last_answer((hist or [])[b] if hist else [])
        if not first and not second:
            raise gr.Error("Run a prompt first: there are no answers to compare.")
        diff = word_diff(first, second)
        return f"Word overlap: **{diff.similarity:.0%}**. Removed words are marked on the left, added words on the right.", diff.left_html, diff.right_html

    show.click(differences, [histories, column_count, left, right], [similarity, left_html, right_html], api_name="compare_diff")
