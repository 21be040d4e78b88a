"""The Judge tab's widgets, one small group per part of the page (no handlers here)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.widgets import model_picker
from playground.arena import report as arena_report
from playground.judge.results import JudgingRunResults
from playground.judge.rubric import EDITOR_HEADERS, default_rubric
from playground.services import Services

TARGET_KINDS = [
    ("Compare run or batch grid", "run"),
    ("Documents question", "rag_question"),
    ("Documents collection (every saved question)", "rag_collection"),
    ("Arena evaluation", "arena"),
]
MODES = [("Rubric: grade each answer", "rubric"), ("Pairwise: judge the Arena battles (sides swapped)", "pairwise")]
INTRO = (
    "An **automatic judge** grades answers with a rubric on a 0–3 scale (one call per criterion, temperature 0.1, "
    "a one-line reason before each score) or compares Arena answers pairwise (twice, sides swapped). "
    "Replies that do not parse are retried once, then shown as **unparsed** — never as 0. "
    "Check the judge against people before trusting it: the study's bar is over 80% exact and over 95% within-one agreement."
)
CONSTRAINED_INFO = (
    "The judge can only write a one-line reason and a valid score; the score is still its own choice. "
    "Small local judges rarely keep to the format otherwise."
)


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
    with gr.Accordion("Rubric", open=False):
        with gr.Row():
            pick = gr.Dropdown(label="Rubric version", choices=[], scale=3, elem_id="judge-rubric-pick")
            refresh = gr.Button("↻", scale=0, size="sm")
        name = gr.Textbox(label="Rubric name", elem_id="judge-rubric-name")
        editor = gr.Dataframe(
            headers=EDITOR_HEADERS,
            column_count=(len(EDITOR_HEADERS), "fixed"),
            interactive=True,
            wrap=True,
            label="Criteria: weights add up to 100; one example for every score 0–3",
            elem_id="judge-rubric-editor",
        )
        save = gr.Button("Save as new version", elem_id="judge-rubric-save")
        message = gr.Markdown()
    return RubricWidgets(pick, refresh, name, editor, save, message)


def run_layout(services: Services) -> RunWidgets:
    with gr.Row():
        model = model_picker(services, "Judge model", scale=3, elem_id="judge-model")
        mode = gr.Radio(label="How", choices=MODES, value="rubric", scale=3)
        constrained = gr.Checkbox(
            label="Hold the judge to the reply format (llama.cpp models)",
            value=True,
            scale=2,
            elem_id="judge-constrained",
            info=CONSTRAINED_INFO,
        )
    with gr.Row():
        kind = gr.Dropdown(label="What to judge", choices=TARGET_KINDS, value="run", scale=2, elem_id="judge-kind")
        target = gr.Dropdown(label="Which one", choices=[], scale=4, elem_id="judge-target")
        refresh = gr.Button("↻ Refresh lists", scale=0, size="sm")
    with gr.Row():
        run = gr.Button("Run the judge", variant="primary", elem_id="judge-run")
        cancel = gr.Button("Cancel", elem_id="judge-cancel")
    progress = gr.Markdown(elem_id="judge-progress")
    return RunWidgets(model, mode, constrained, kind, target, refresh, run, cancel, progress)


def _empty_results() -> JudgingRunResults:
    """No grades yet, on the default rubric: its tables' headers are the ones an empty page shows."""
    return JudgingRunResults(0, "rubric", "run", 0, "", "", "", 0, 0, 0, 0, default_rubric())


def results_layout() -> ResultsWidgets:
    gr.Markdown("### Results")
    with gr.Row():
        job = gr.Dropdown(label="Judging run", choices=[], scale=4, elem_id="judge-job")
        show = gr.Button("Show", scale=0)
    empty = _empty_results()
    summary = gr.Dataframe(
        headers=empty.summary()[0],
        label="Per model (averages leave unparsed and failed grades out)",
        interactive=False,
        wrap=True,
        elem_id="judge-summary",
    )
    grid = gr.Dataframe(
        headers=empty.score_grid()[0] + ["one column per model"],
        label="Score grid: overall score per input and model",
        interactive=False,
        wrap=True,
        elem_id="judge-grid",
    )
    items = gr.Dataframe(
        headers=empty.item_table()[0],
        label="Every answer (select a row to grade it yourself)",
        interactive=False,
        wrap=True,
        max_chars=200,
        elem_id="judge-items",
    )
    verdicts = gr.Dataframe(
        headers=empty.verdict_table()[0],
        label="Pairwise verdicts",
        interactive=False,
        wrap=True,
        elem_id="judge-verdicts",
    )
    distribution = gr.Plot(label="Score distribution")
    return ResultsWidgets(job, show, summary, grid, items, verdicts, distribution)


def human_grade_layout() -> HumanGradeWidgets:
    gr.Markdown("### Your grade (to check the judge)")
    with gr.Row():
        item_ref = gr.Textbox(label="Answer id (from the table)", placeholder="g12", scale=1, elem_id="judge-item")
        criterion = gr.Dropdown(
            label="Criterion",
            choices=["correctness", "comprehensiveness", "readability"],
            value="correctness",
            allow_custom_value=True,
            scale=1,
        )
        score = gr.Radio(label="Grade", choices=["0", "1", "2", "3"], scale=2)
        rater = gr.Textbox(label="Your name", scale=1)
        save = gr.Button("Save grade", scale=0)
    message = gr.Markdown()
    return HumanGradeWidgets(item_ref, criterion, score, rater, save, message)


def agreement_layout() -> AgreementWidgets:
    gr.Markdown("### Agreement with people")
    compute = gr.Button("Compute agreement", elem_id="judge-agreement")
    text = gr.Markdown(elem_id="judge-agreement-text")
    with gr.Row():
        matrix = gr.Plot(label="Raters' majority vs judge")
        board = gr.Dataframe(
            headers=arena_report.LEADERBOARD_HEADERS,
            interactive=False,
            wrap=True,
            label="Arena leaderboard (people's votes)",
        )
    return AgreementWidgets(compute, text, matrix, board)


def judge_layout(services: Services) -> JudgeLayout:
    gr.Markdown(INTRO)
    return JudgeLayout(
        rubric_layout(), run_layout(services), results_layout(), human_grade_layout(), agreement_layout()
    )
