"""The Judge tab's widgets, one small group per part of the page (no handlers here)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.i18n import L
from components.run_estimates import estimate_widgets
from components.widgets import model_picker
from playground.arena import report as arena_report
from playground.judge.results import JudgingRunResults
from playground.judge.rubric import EDITOR_HEADERS, default_rubric
from playground.services import Services

# (catalogue key, value): L() is called while the page is built, so the page carries these texts.
TARGET_KINDS = [
    ("judge.kind_run", "run"),
    ("judge.kind_rag_question", "rag_question"),
    ("judge.kind_rag_collection", "rag_collection"),
    ("judge.kind_arena", "arena"),
]
MODES = [("judge.mode_rubric", "rubric"), ("judge.mode_pairwise", "pairwise")]


def _choices(pairs: list[tuple[str, str]]) -> list[tuple]:
    return [(L(key), value) for key, value in pairs]


@dataclass
class RubricWidgets:
    pick: gr.Dropdown
    refresh: gr.Button
    name: gr.Textbox
    editor: gr.Dataframe
    save: gr.Button
    message: gr.Markdown


@dataclass
class RunWidgets:
    model: gr.Dropdown
    mode: gr.Radio
    constrained: gr.Checkbox
    kind: gr.Dropdown
    target: gr.Dropdown
    refresh: gr.Button
    run: gr.Button
    cancel: gr.Button
    progress: gr.Markdown
    estimate: gr.Button
    estimate_info: gr.Markdown


@dataclass
class ResultsWidgets:
    """The results of the judging run picked in ``job``."""

    job: gr.Dropdown
    show: gr.Button
    summary: gr.Dataframe
    grid: gr.Dataframe
    items: gr.Dataframe
    verdicts: gr.Dataframe
    distribution: gr.Plot


@dataclass
class HumanGradeWidgets:
    item_ref: gr.Textbox
    criterion: gr.Dropdown
    score: gr.Radio
    rater: gr.Textbox
    save: gr.Button
    message: gr.Markdown


@dataclass
class AgreementWidgets:
    compute: gr.Button
    text: gr.Markdown
    matrix: gr.Plot
    board: gr.Dataframe


@dataclass
class JudgeLayout:
    rubric: RubricWidgets
    run: RunWidgets
    results: ResultsWidgets
    grade: HumanGradeWidgets
    people: AgreementWidgets


def rubric_layout() -> RubricWidgets:
    with gr.Accordion(L("judge.rubric_accordion"), open=False):
        with gr.Row():
            pick = gr.Dropdown(label=L("judge.rubric_version"), choices=[], scale=3, elem_id="judge-rubric-pick")
            refresh = gr.Button("↻", scale=0, size="sm")
        name = gr.Textbox(label=L("judge.rubric_name"), elem_id="judge-rubric-name")
        editor = gr.Dataframe(
            headers=EDITOR_HEADERS,
            column_count=(len(EDITOR_HEADERS), "fixed"),
            interactive=True,
            wrap=True,
            label=L("judge.rubric_editor"),
            elem_id="judge-rubric-editor",
        )
        save = gr.Button(L("judge.save_rubric"), elem_id="judge-rubric-save")
        message = gr.Markdown()
    return RubricWidgets(pick, refresh, name, editor, save, message)


def run_layout(services: Services) -> RunWidgets:
    with gr.Row():
        model = model_picker(services, L("judge.judge_model"), scale=3, elem_id="judge-model")
        mode = gr.Radio(label=L("judge.how"), choices=_choices(MODES), value="rubric", scale=3)
        constrained = gr.Checkbox(
            label=L("judge.constrained"),
            value=True,
            scale=2,
            elem_id="judge-constrained",
            info=L("judge.constrained_info"),
        )
    with gr.Row():
        kind = gr.Dropdown(
            label=L("judge.what_to_judge"), choices=_choices(TARGET_KINDS), value="run", scale=2, elem_id="judge-kind"
        )
        target = gr.Dropdown(label=L("judge.which_one"), choices=[], scale=4, elem_id="judge-target")
        refresh = gr.Button(L("judge.refresh_lists"), scale=0, size="sm")
    with gr.Row():
        run = gr.Button(L("judge.run_button"), variant="primary", elem_id="judge-run")
        cancel = gr.Button(L("judge.cancel"), elem_id="judge-cancel")
        estimate, estimate_info = estimate_widgets("judge")
    progress = gr.Markdown(elem_id="judge-progress")
    return RunWidgets(model, mode, constrained, kind, target, refresh, run, cancel, progress, estimate, estimate_info)


def _empty_results() -> JudgingRunResults:
    """No grades yet, on the default rubric: its tables' headers are the ones an empty page shows."""
    return JudgingRunResults(0, "rubric", "run", 0, "", "", "", 0, 0, 0, 0, default_rubric())


# Stands for the model columns in the score grid before a run is shown.
PER_MODEL_HEADER = "one column per model"


def empty_headers() -> list[list[str]]:
    """The results tables' headers on an empty page, in English: summary, grid, items, verdicts."""
    empty = _empty_results()
    grid = empty.score_grid()[0] + [PER_MODEL_HEADER]
    return [empty.summary()[0], grid, empty.item_table()[0], empty.verdict_table()[0]]


def results_layout() -> ResultsWidgets:
    gr.Markdown(L("judge.results_heading"))
    with gr.Row():
        job = gr.Dropdown(label=L("judge.judging_run"), choices=[], scale=4, elem_id="judge-job")
        show = gr.Button(L("judge.show"), scale=0)
    summary_headers, grid_headers, item_headers, verdict_headers = empty_headers()
    summary = gr.Dataframe(
        headers=summary_headers,
        label=L("judge.summary_table"),
        interactive=False,
        wrap=True,
        elem_id="judge-summary",
    )
    grid = gr.Dataframe(
        headers=grid_headers,
        label=L("judge.grid_table"),
        interactive=False,
        wrap=True,
        elem_id="judge-grid",
    )
    items = gr.Dataframe(
        headers=item_headers,
        label=L("judge.items_table"),
        interactive=False,
        wrap=True,
        max_chars=200,
        elem_id="judge-items",
    )
    verdicts = gr.Dataframe(
        headers=verdict_headers,
        label=L("judge.verdicts_table"),
        interactive=False,
        wrap=True,
        elem_id="judge-verdicts",
    )
    distribution = gr.Plot(label=L("judge.distribution_chart"))
    return ResultsWidgets(job, show, summary, grid, items, verdicts, distribution)


def human_grade_layout() -> HumanGradeWidgets:
    gr.Markdown(L("judge.your_grade_heading"))
    with gr.Row():
        item_ref = gr.Textbox(label=L("judge.answer_id"), placeholder="g12", scale=1, elem_id="judge-item")
        criterion = gr.Dropdown(
            label=L("judge.criterion"),
            choices=["correctness", "comprehensiveness", "readability"],
            value="correctness",
            allow_custom_value=True,
            scale=1,
        )
        score = gr.Radio(label=L("judge.grade"), choices=["0", "1", "2", "3"], scale=2)
        rater = gr.Textbox(label=L("judge.your_name"), scale=1)
        save = gr.Button(L("judge.save_grade"), scale=0)
    message = gr.Markdown()
    return HumanGradeWidgets(item_ref, criterion, score, rater, save, message)


def agreement_layout() -> AgreementWidgets:
    gr.Markdown(L("judge.agreement_heading"))
    compute = gr.Button(L("judge.compute_agreement"), elem_id="judge-agreement")
    text = gr.Markdown(elem_id="judge-agreement-text")
    with gr.Row():
        matrix = gr.Plot(label=L("judge.matrix_chart"))
        board = gr.Dataframe(
            headers=arena_report.LEADERBOARD_HEADERS,
            interactive=False,
            wrap=True,
            label=L("judge.arena_board"),
        )
    return AgreementWidgets(compute, text, matrix, board)


def judge_layout(services: Services) -> JudgeLayout:
    gr.Markdown(L("judge.intro"))
    return JudgeLayout(
        rubric_layout(), run_layout(services), results_layout(), human_grade_layout(), agreement_layout()
    )
