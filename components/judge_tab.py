"""The Judge tab: a rubric (versioned), a judge model, what to judge; a run with progress
and Cancel; results with a score column per model; human grades; agreement with people."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from playground.arena import report as arena_report
from playground.judge import charts
from playground.judge.rubric import EDITOR_HEADERS, criteria_from_rows, rows_from_rubric
from playground.services import Services

TARGET_KINDS = [
    ("Compare run or batch grid", "run"),
    ("Documents question", "rag_question"),
    ("Documents collection (every saved question)", "rag_collection"),
    ("Arena evaluation", "arena"),
]
MODES = [("Rubric: grade each answer", "rubric"), ("Pairwise: judge the Arena battles (sides swapped)", "pairwise")]


def _table(headers: list[str], rows: list[list[Any]]) -> dict:
    return {"headers": headers, "data": rows or [[""] * len(headers)]}


def build_judge_tab(services: Services) -> dict:
    judge, tokens = services.judge, services.cancel_tokens

    gr.Markdown(
        "An **automatic judge** grades answers with a rubric on a 0–3 scale (one call per criterion, temperature 0.1, "
        "a one-line reason before each score) or compares Arena answers pairwise (twice, sides swapped). "
        "Replies that do not parse are retried once, then shown as **unparsed** — never as 0. "
        "Check the judge against people before trusting it: the study's bar is over 80% exact and over 95% within-one agreement."
    )
    with gr.Accordion("Rubric", open=False):
        with gr.Row():
            rubric_pick = gr.Dropdown(label="Rubric version", choices=[], scale=3, elem_id="judge-rubric-pick")
            rubric_refresh = gr.Button("↻", scale=0, size="sm")
        rubric_name = gr.Textbox(label="Rubric name", elem_id="judge-rubric-name")
        editor = gr.Dataframe(
            headers=EDITOR_HEADERS, column_count=(len(EDITOR_HEADERS), "fixed"), interactive=True, wrap=True,
            label="Criteria: weights add up to 100; one example for every score 0–3", elem_id="judge-rubric-editor",
        )
        rubric_save = gr.Button("Save as new version", elem_id="judge-rubric-save")
        rubric_msg = gr.Markdown()
    with gr.Row():
        model = gr.Dropdown(label="Judge model", choices=services.models.choices(), scale=3, elem_id="judge-model")
        mode = gr.Radio(label="How", choices=MODES, value="rubric", scale=3)
        constrained = gr.Checkbox(
            label="Hold the judge to the reply format (llama.cpp models)", value=True, scale=2, elem_id="judge-constrained",
            info="The judge can only write a one-line reason and a valid score; the score is still its own choice. Small local judges rarely keep to the format otherwise.",
        )
    with gr.Row():
        kind = gr.Dropdown(label="What to judge", choices=TARGET_KINDS, value="run", scale=2, elem_id="judge-kind")
        target = gr.Dropdown(label="Which one", choices=[], scale=4, elem_id="judge-target")
        refresh = gr.Button("↻ Refresh lists", scale=0, size="sm")
    with gr.Row():
        run_btn = gr.Button("Run the judge", variant="primary", elem_id="judge-run")
        cancel_btn = gr.Button("Cancel", elem_id="judge-cancel")
    progress_md = gr.Markdown(elem_id="judge-progress")
    token_state = gr.State("")

    gr.Markdown("### Results")
    with gr.Row():
        job = gr.Dropdown(label="Judging run", choices=[], scale=4, elem_id="judge-job")
        show = gr.Button("Show", scale=0)
    summary = gr.Dataframe(label="Per model (averages leave unparsed and failed grades out)", interactive=False, wrap=True)
    grid = gr.Dataframe(label="Score grid: overall score per input and model", interactive=False, wrap=True)
    items = gr.Dataframe(label="Every answer (select a row to grade it yourself)", interactive=False, wrap=True, max_chars=200)
    verdicts = gr.Dataframe(label="Pairwise verdicts", interactive=False, wrap=True)
    distribution = gr.Plot(label="Score distribution")

    gr.Markdown("### Your grade (to check the judge)")
    with gr.Row():
        item_ref = gr.Textbox(label="Answer id (from the table)", placeholder="g12", scale=1, elem_id="judge-item")
        criterion = gr.Dropdown(label="Criterion", choices=["correctness", "comprehensiveness", "readability"], value="correctness", allow_custom_value=True, scale=1)
        score = gr.Radio(label="Grade", choices=["0", "1", "2", "3"], scale=2)
        rater = gr.Textbox(label="Your name", scale=1)
        save_grade = gr.Button("Save grade", scale=0)
    grade_msg = gr.Markdown()

    gr.Markdown("### Agreement with people")
    agreement_btn = gr.Button("Compute agreement", elem_id="judge-agreement")
    agreement_md = gr.Markdown(elem_id="judge-agreement-text")
    with gr.Row():
        matrix = gr.Plot(label="Raters' majority vs judge")
        board = gr.Dataframe(headers=arena_report.LEADERBOARD_HEADERS, interactive=False, wrap=True, label="Arena leaderboard (people's votes)")

    # ---- handlers ---------------------------------------------------------------------------
    @user_errors
    def load_rubric(rubric_id):
        rubric = judge.get_rubric(rubric_id)
        return rubric.name, _table(EDITOR_HEADERS, rows_from_rubric(rubric)), gr.update(choices=[c.name for c in rubric.criteria], value=rubric.criteria[0].name)

    @user_errors
    def list_rubrics(selected=None):
        default = judge.get_rubric(None)  # saved as version 1 the first time
        choices = judge.list_rubrics()
        value = selected if selected in [v for _, v in choices] else default.id
        return gr.update(choices=choices, value=value)

    @user_errors
    def save_rubric(name, table):
        rows = table.values.tolist() if hasattr(table, "values") else (table or {}).get("data", table) or []
        rubric = judge.save_rubric(name, criteria_from_rows(rows))
        return gr.update(choices=judge.list_rubrics(), value=rubric.id), f"Saved **{rubric.label}**. New grades use it; earlier grades keep the version they used."

    @user_errors
    def list_all(kind_value, selected_job=None):
        return (
            gr.update(choices=services.models.choices()),
            gr.update(choices=judge.list_targets(kind_value or "run"), value=None),
            gr.update(choices=judge.list_jobs(), value=selected_job),
        )

    @user_errors
    def list_targets(kind_value):
        return gr.update(choices=judge.list_targets(kind_value or "run"), value=None)

    def start() -> str:
        return tokens.new()

    def cancel(token):
        return "⏹ Stopping after the judge call now running…" if tokens.cancel(token) else gr.skip()

    @user_errors
    def run(judge_key, mode_value, kind_value, target_id, rubric_id, token, constrained_value=True, progress=gr.Progress()):
        token = token or tokens.new()  # API callers skip the click's start step
        try:
            if mode_value == "pairwise":
                steps = judge.judge_battles(judge_key, target_id if kind_value == "arena" else None, tokens.event(token), bool(constrained_value))
            else:
                steps = judge.grade(judge_key, rubric_id, kind_value, target_id, tokens.event(token), bool(constrained_value))
            step = None
            for step in steps:
                if not step.finished:
                    progress((step.done, step.total), desc=step.summary, unit="calls")
                yield step.summary, gr.update(), token
            yield step.summary, gr.update(choices=judge.list_jobs(), value=step.job_id), token
        finally:
            tokens.release(token)

    @user_errors
    def show_results(job_id):
        result = judge.results(job_id)
        counts = result.distribution()
        heaviest = max(result.criteria, key=lambda c: c.weight).name if result.criteria else ""
        return (
            _table(*result.summary()), _table(*result.score_grid()), _table(*result.item_table()), _table(*result.verdict_table()),
            charts.score_distribution(counts, heaviest),
        )

    def show_selected(job_id):
        """The picker changed; cleared (e.g. on page load) clears the results without an error."""
        if job_id in (None, ""):
            return None, None, None, None, None
        return show_results(job_id)

    def pick_item(evt: gr.SelectData, table):
        try:
            row = evt.index[0]
            data = table.values.tolist() if hasattr(table, "values") else table["data"]
            return data[row][0]
        except (TypeError, IndexError, KeyError):
            return gr.skip()

    @user_errors
    def save_human(ref, criterion_name, value, name):
        return judge.set_human_grade(ref, criterion_name, value, name)

    @user_errors
    def agreement(job_id, kind_value, target_id):
        parts, figure, rows = [], None, []
        if job_id not in (None, ""):
            result = judge.results(job_id)
            if result.mode == "rubric":
                parts.append("**Grades:** " + judge.grade_agreement(job_id).sentence)
            elif result.target_kind == "arena":
                kind_value, target_id = "arena", result.target_id
        if kind_value == "arena" and target_id not in (None, ""):
            verdict, bias, used_job = judge.verdict_agreement(target_id)
            parts.append(f"**Battles** (judging run #{used_job or '—'}): " + verdict.sentence)
            parts.append(bias.sentence)
            figure = charts.agreement_matrix([h for h, _ in verdict.pairs], [j for _, j in verdict.pairs])
            rows = arena_report.leaderboard_rows(services.arena.leaderboard(target_id))
        if not parts:
            parts.append("Pick a judging run (rubric) or an Arena evaluation (pairwise) first.")
        return "\n\n".join(parts), figure, rows

    @user_errors
    def on_load(kind_value):
        return (list_rubrics(), *list_all(kind_value))

    gr.on(None, on_load, [kind], [rubric_pick, model, target, job], api_name="judge_load", queue=False)
    rubric_refresh.click(list_rubrics, [rubric_pick], [rubric_pick], api_name="judge_rubric_list")
    rubric_pick.change(load_rubric, [rubric_pick], [rubric_name, editor, criterion], api_name="judge_rubric_load")
    rubric_save.click(save_rubric, [rubric_name, editor], [rubric_pick, rubric_msg], api_name="judge_rubric_save")
    refresh.click(list_all, [kind, job], [model, target, job], api_name="judge_refresh")
    model.focus(lambda: gr.update(choices=services.models.choices()), None, [model], api_name=False, queue=False)
    kind.change(list_targets, [kind], [target], api_name="judge_targets")
    run_btn.click(start, None, [token_state], queue=False, api_name=False).then(
        run, [model, mode, kind, target, rubric_pick, token_state, constrained], [progress_md, job, token_state],
        api_name="judge_run", concurrency_limit=None, show_progress_on=[progress_md],  # judge calls queue per model copy in the registry
    )
    cancel_btn.click(cancel, [token_state], [progress_md], queue=False, api_name="judge_cancel")
    show.click(show_results, [job], [summary, grid, items, verdicts, distribution], api_name="judge_results")
    job.change(show_selected, [job], [summary, grid, items, verdicts, distribution], api_name=False)
    items.select(pick_item, [items], [item_ref], api_name=False)
    save_grade.click(save_human, [item_ref, criterion, score, rater], [grade_msg], api_name="judge_human_grade")
    agreement_btn.click(agreement, [job, kind, target], [agreement_md, matrix, board], api_name="judge_agreement")
    return {"rubric": rubric_pick, "load": (list_rubrics, [rubric_pick], [rubric_pick]), "lists": (list_all, [kind, job], [model, target, job])}
