"""Per-column extras of Compare (feedback, repeat ×N) and the difference view."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.compare_columns import ColumnForm
from components.i18n import L, request_language, say, text
from components.ui_errors import user_errors
from components.widgets import GENERATION_EVENTS, progress_reporter
from playground.compare.columns import MAX_COLUMNS, make_column
from playground.compare.diff import word_diff
from playground.compare.templates import MAX_VARIABLES, variable_values
from playground.i18n import t
from playground.rendering import inert_inline
from playground.services import Services
from playground.statuses import status_text

MAX_REPEATS = 10


def last_answer(history: list[dict]) -> str:
    return next((m["content"] for m in reversed(history or []) if m["role"] == "assistant"), "")


# ---- feedback and repeat ×N, under each column -----------------------------------------
@dataclass
class ColumnExtras:
    up: gr.Button
    down: gr.Button
    note: gr.Textbox
    feedback_msg: gr.Markdown
    times: gr.Slider
    repeat_btn: gr.Button
    stability: gr.Markdown


def column_extras_layout(index: int) -> ColumnExtras:
    with gr.Row():
        up = gr.Button(L("compare.good_answer"), size="sm", min_width=60, elem_id=f"col{index}-up")
        down = gr.Button(L("compare.bad_answer"), size="sm", min_width=60, elem_id=f"col{index}-down")
        note = gr.Textbox(placeholder=L("compare.feedback_note"), show_label=False, scale=3, min_width=120)
    feedback_msg = gr.Markdown()
    with gr.Accordion(L("compare.repeat_accordion"), open=False):
        times = gr.Slider(2, MAX_REPEATS, value=3, step=1, label=L("compare.times"))
        repeat_btn = gr.Button(L("compare.repeat"), size="sm", elem_id=f"col{index}-repeat")
        stability = gr.Markdown(elem_id=f"col{index}-stability")
    return ColumnExtras(up, down, note, feedback_msg, times, repeat_btn, stability)


class ColumnExtrasController:
    """The handlers of one column's extras; ``index`` is the column they belong to."""

    def __init__(self, services: Services, index: int):
        self.compare = services.compare
        self.index = index

    def _rate(self, gen_ids: list | None, text: str, rating: int) -> str:
        return say(self.compare.feedback((gen_ids or [None] * MAX_COLUMNS)[self.index], rating, text))

    @user_errors
    def rate_up(self, gen_ids: list | None, text: str) -> str:
        return self._rate(gen_ids, text, 1)

    @user_errors
    def rate_down(self, gen_ids: list | None, text: str) -> str:
        return self._rate(gen_ids, text, -1)

    @user_errors
    def repeat(self, body, hist, n, *rest, progress=gr.Progress()):
        var_values, settings = rest[:MAX_VARIABLES], rest[MAX_VARIABLES:]
        column = make_column(*settings, label=t("compare.column_label", n=self.index + 1))
        text = self.compare.build_prompt(body, variable_values(body, var_values))
        history = (hist or [[]] * MAX_COLUMNS)[self.index]
        results, stats = self.compare.repeat(
            column, history, text, int(n), on_progress=progress_reporter(progress, unit=text("compare.repeat_unit"))
        )
        language = request_language()
        samples = "\n".join(
            f"{i + 1}. {inert_inline(r.text.strip()[:160] or '(' + say(r.error or status_text(r.status), language) + ')')}"
            for i, r in enumerate(results)
        )
        return f"{stats.summary(language)}\n\n{samples}"


def build_column_extras(
    services: Services,
    index: int,
    form: ColumnForm,
    prompt: gr.Textbox,
    variable_boxes: list[gr.Textbox],
    histories: gr.State,
    generation_ids: gr.State,
) -> None:
    extras = column_extras_layout(index)
    controller = ColumnExtrasController(services, index)
    extras.up.click(
        controller.rate_up,
        [generation_ids, extras.note],
        [extras.feedback_msg],
        api_name=f"compare_feedback_up_{index}",
    )
    extras.down.click(
        controller.rate_down,
        [generation_ids, extras.note],
        [extras.feedback_msg],
        api_name=f"compare_feedback_down_{index}",
    )
    extras.repeat_btn.click(
        controller.repeat,
        [prompt, histories, extras.times, *variable_boxes, *form.components()],
        [extras.stability],
        api_name=f"compare_repeat_{index}",
        **GENERATION_EVENTS,
    )


# ---- differences between two columns ---------------------------------------------------
@dataclass
class DiffPanel:
    left: gr.Dropdown
    right: gr.Dropdown
    show: gr.Button
    similarity: gr.Markdown
    left_html: gr.HTML
    right_html: gr.HTML


def diff_panel_layout() -> DiffPanel:
    labels = [(L(f"compare.column_{i + 1}"), i) for i in range(MAX_COLUMNS)]
    with gr.Accordion(L("compare.diff_accordion"), open=False, elem_id="compare-diff"):
        with gr.Row():
            left = gr.Dropdown(labels, value=0, label=L("compare.left"))
            right = gr.Dropdown(labels, value=1, label=L("compare.right"))
            show = gr.Button(L("compare.show_differences"))
        similarity = gr.Markdown()
        with gr.Row():
            left_html = gr.HTML(elem_id="compare-diff-left")
            right_html = gr.HTML(elem_id="compare-diff-right")
    return DiffPanel(left, right, show, similarity, left_html, right_html)


class DiffController:
    @user_errors
    def differences(self, hist, count, a, b):
        a, b = int(a), int(b)
        if a == b:
            raise gr.Error(text("compare.no_two_columns"))
        if max(a, b) >= int(count):
            raise gr.Error(text("compare.diff_column_hidden"))
        first, second = last_answer((hist or [])[a] if hist else []), last_answer((hist or [])[b] if hist else [])
        if not first and not second:
            raise gr.Error(text("compare.diff_no_answers"))
        diff = word_diff(first, second)
        return (
            text("compare.diff_overlap", share=f"{diff.similarity:.0%}"),
            diff.left_html,
            diff.right_html,
        )


def build_diff_panel(histories: gr.State, column_count: gr.State) -> None:
    panel = diff_panel_layout()
    inputs = [histories, column_count, panel.left, panel.right]
    panel.show.click(
        DiffController().differences,
        inputs,
        [panel.similarity, panel.left_html, panel.right_html],
        api_name="compare_diff",
    )
