"""The Judge tab: a rubric (versioned), a judge model, what to judge; a run with progress
and Cancel; results with a score column per model; human grades; agreement with people."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.i18n import request_language, say, text
from components.judge_layout import PER_MODEL_HEADER, JudgeLayout, empty_headers, judge_layout
from components.run_estimates import after_run, estimate_before_run, estimate_view, while_running
from components.tab import Event, TabHandle
from components.ui_errors import refusals, refused_at, user_errors
from components.widgets import (
    StoppableRun,
    refresh_on_focus,
    refresh_pickers,
    with_progress,
)
from playground.arena import report as arena_report
from playground.i18n import t
from playground.judge import charts
from playground.judge.rubric import EDITOR_HEADERS, criteria_from_rows, rows_from_rubric
from playground.judge.service import PAIRWISE
from playground.services import Services

STOPPING = t("judge.stopping")
# The results tables' fixed column names, shown in the reader's language (criterion and model
# names are data and stay as they are).
HEADER_KEYS = {
    "answer": "judge.col_answer",
    "input": "judge.col_input",
    "model": "judge.col_model",
    "overall": "judge.col_overall",
    "judge's reasons": "judge.col_reasons",
    "answers": "judge.col_answers",
    "overall (0–3)": "judge.col_overall_scale",
    "unparsed": "judge.col_unparsed",
    "failed": "judge.col_failed",
    "battle": "judge.col_battle",
    "answer A": "judge.col_answer_a",
    "answer B": "judge.col_answer_b",
    "A-B order": "judge.col_ab_order",
    "B-A order (mapped back)": "judge.col_ba_order",
    "verdict": "judge.col_verdict",
    "order changed it": "judge.col_order_changed",
    PER_MODEL_HEADER: "judge.col_one_per_model",
    # The rubric editor's columns (its rows are read by position, so the names are only shown).
    "criterion": "judge.col_criterion",
    "weight %": "judge.col_weight",
    "description": "judge.col_description",
    "example for 0": "judge.col_example_for_0",
    "example for 1": "judge.col_example_for_1",
    "example for 2": "judge.col_example_for_2",
    "example for 3": "judge.col_example_for_3",
}


def _table(headers: list[str], rows: list[list[Any]], translate: bool = False) -> dict:
    shown = [text(HEADER_KEYS[h]) if translate and h in HEADER_KEYS else h for h in headers]
    return {"headers": shown, "data": rows or [[""] * len(headers)]}


def _rows_of(table: Any) -> list:
    """A Dataframe's rows, whether Gradio hands over a pandas frame or a dict (API callers)."""
    if isinstance(table, dict):  # checked first: a dict has a ``values`` method too
        return table.get("data") or []
    if hasattr(table, "values"):
        return table.values.tolist()
    return list(table or [])


class JudgeController:
    """The Judge tab's handlers: each reads its inputs, asks the JudgeService, formats the answer."""

    def __init__(self, services: Services, stoppable: StoppableRun):
        self.services = services
        self.judge = services.judge
        self.stoppable = stoppable

    # ---- rubrics ----------------------------------------------------------------------------
    @user_errors
    def load_rubric(self, rubric_id):
        rubric = self.judge.get_rubric(rubric_id)
        criteria = gr.update(choices=[c.name for c in rubric.criteria], value=rubric.criteria[0].name)
        return rubric.name, _table(EDITOR_HEADERS, rows_from_rubric(rubric), translate=True), criteria

    @user_errors
    def list_rubrics(self, selected=None):
        choices, value = self.judge.rubric_choices(selected)
        return gr.update(choices=choices, value=value)

    @user_errors
    def save_rubric(self, name, table):
        rubric = self.judge.save_rubric(name, criteria_from_rows(_rows_of(table)))
        saved = text("judge.rubric_saved", label=rubric.label)
        return gr.update(choices=self.judge.list_rubrics(), value=rubric.id), saved

    # ---- lists ------------------------------------------------------------------------------
    @user_errors
    def list_all(self, kind_value, selected_job=None):
        # No model input here (the API takes the kind and the job only), so the judge model keeps
        # whatever the page shows: only its choices change.
        return (
            gr.update(choices=self.services.models.choices()),
            gr.update(choices=self.judge.list_targets(kind_value or "run"), value=None),
            gr.update(choices=self.judge.list_jobs(), value=selected_job),
        )

    @user_errors
    def list_targets(self, kind_value):
        return gr.update(choices=self.judge.list_targets(kind_value or "run"), value=None)

    @user_errors
    def load(self, kind_value):
        """Page load: the rubric versions (the default saved the first time) and every list."""
        return (self.list_rubrics(), *self.list_all(kind_value))

    # ---- running ----------------------------------------------------------------------------
    def check_run(self, judge_key, mode_value, kind_value, target_id, rubric_id, *_rest):
        """What a run refuses, shown next to the judge model, the target or the rubric."""
        with refused_at(0):
            self.judge.check_judge_model(judge_key)
        with refused_at(3):
            self.judge.check_target(mode_value, kind_value, target_id)
        if mode_value != PAIRWISE:
            with refused_at(4):
                self.judge.get_rubric(rubric_id)

    @user_errors
    def run(
        self, judge_key, mode_value, kind_value, target_id, rubric_id, constrained_value, token, progress=gr.Progress()
    ):
        estimates = self.services.estimates
        estimate = estimate_before_run(
            lambda: estimates.for_judge(judge_key, mode_value, kind_value, target_id, rubric_id)
        )
        kept = estimate.to_dict() if estimate is not None else None  # kept with the run
        # An API caller skips the click's first step: its token goes back into the session so
        # that its judge_cancel reaches this run.
        token = token or self.stoppable.start()
        with self.stoppable.cancel_event(token) as cancel:
            steps = self.judge.run_judge(
                judge_key, mode_value, kind_value, target_id, rubric_id, cancel, bool(constrained_value), kept
            )
            step = None
            for step in with_progress(steps, progress, unit="calls"):
                yield while_running(say(step.said), estimate), gr.update(), token
            against = estimates.against(estimates.judge_run_id(step.job_id)) if estimate else None
            jobs = gr.update(choices=self.judge.list_jobs(), value=step.job_id)
            yield after_run(say(step.said), against), jobs, token

    @user_errors
    def estimate(self, judge_key, mode_value, kind_value, target_id, rubric_id):
        """What the run would cost and take, before it starts."""
        found = self.services.estimates.for_judge(judge_key, mode_value, kind_value, target_id, rubric_id)
        return f"{estimate_view(found)}\n\n{text('estimate.judge_retries')}"

    # ---- results ----------------------------------------------------------------------------
    @user_errors
    def show_results(self, job_id):
        results = self.judge.results(job_id)
        return (
            _table(*results.summary(), translate=True),
            _table(*results.score_grid(), translate=True),
            _table(*results.item_table(), translate=True),
            _table(*results.verdict_table(), translate=True),
            charts.score_distribution(results.distribution(), results.heaviest_criterion, language=request_language()),
        )

    @staticmethod
    def empty_results():
        """On page load: the empty results tables' headers in the reader's language."""
        return tuple(
            {"headers": _table(headers, [], translate=True)["headers"], "data": []} for headers in empty_headers()
        )

    def show_selected(self, job_id):
        """The picker changed; cleared (e.g. on page load) clears the results without an error."""
        if job_id in (None, ""):
            return None, None, None, None, None
        return self.show_results(job_id)

    def pick_item(self, evt: gr.SelectData, table):
        try:
            return _rows_of(table)[evt.index[0]][0]
        except (TypeError, IndexError, KeyError):
            return gr.skip()

    # ---- people -----------------------------------------------------------------------------
    @user_errors
    def save_human(self, ref, criterion_name, value, name):
        return say(self.judge.save_human_grade(ref, criterion_name, value, name))

    @user_errors
    def agreement(self, job_id, kind_value, target_id):
        found = self.judge.agreement_with_people(job_id, kind_value, target_id)
        language = request_language()
        parts, figure, rows = [], None, []
        if found.grades is not None:
            parts.append(text("judge.grades_line", sentence=say(found.grades.said)))
        if found.verdicts is not None and found.bias is not None:
            job = found.pairwise_job_id or "—"
            parts.append(text("judge.battles_line", job=job, sentence=say(found.verdicts.said)))
            parts.append(say(found.bias.said))
            pairs = found.verdicts.pairs
            figure = charts.agreement_matrix([h for h, _ in pairs], [j for _, j in pairs], language=language)
            rows = arena_report.leaderboard_rows(found.leaderboard, language) if found.leaderboard is not None else []
        board = {"headers": arena_report.headers(arena_report.LEADERBOARD_HEADER_KEYS, language), "data": rows}
        return "\n\n".join(parts or [text("judge.no_pick")]), figure, board


def _wire(ui: JudgeLayout, controller: JudgeController, stoppable: StoppableRun, services: Services) -> None:
    rubric, run, results, grade, people = ui.rubric, ui.run, ui.results, ui.grade, ui.people
    rubric.refresh.click(controller.list_rubrics, [rubric.pick], [rubric.pick], api_name="judge_rubric_list")
    rubric.pick.change(
        controller.load_rubric,
        [rubric.pick],
        [rubric.name, rubric.editor, grade.criterion],
        api_name="judge_rubric_load",
    )
    rubric.save.click(
        controller.save_rubric,
        [rubric.name, rubric.editor],
        [rubric.pick, rubric.message],
        api_name="judge_rubric_save",
    )
    run.refresh.click(
        controller.list_all, [run.kind, results.job], [run.model, run.target, results.job], api_name="judge_refresh"
    )
    refresh_on_focus(services, run.model)
    run.kind.change(controller.list_targets, [run.kind], [run.target], api_name="judge_targets")
    stoppable.wire(
        run.run,
        run.cancel,
        controller.run,
        [run.model, run.mode, run.kind, run.target, rubric.pick, run.constrained],
        [run.progress, results.job, stoppable.token],
        api_name="judge_run",
        stop_api_name="judge_cancel",
        status=run.progress,
        validator=refusals(controller.check_run),
    )
    run.estimate.click(
        controller.estimate,
        [run.model, run.mode, run.kind, run.target, rubric.pick],
        [run.estimate_info],
        api_name="judge_estimate",
    )
    shown = [results.summary, results.grid, results.items, results.verdicts, results.distribution]
    results.show.click(controller.show_results, [results.job], shown, api_name="judge_results")
    results.job.change(controller.show_selected, [results.job], shown, api_name=False)
    results.items.select(controller.pick_item, [results.items], [grade.item_ref], api_name=False)
    grade.save.click(
        controller.save_human,
        [grade.item_ref, grade.criterion, grade.score, grade.rater],
        [grade.message],
        api_name="judge_human_grade",
    )
    people.compute.click(
        controller.agreement,
        [results.job, run.kind, run.target],
        [people.text, people.matrix, people.board],
        api_name="judge_agreement",
    )


def build_judge_tab(services: Services) -> TabHandle:
    ui = judge_layout(services)
    stoppable = StoppableRun(services.cancel_tokens, STOPPING)
    controller = JudgeController(services, stoppable)
    _wire(ui, controller, stoppable, services)
    page_load = Event(
        controller.load,
        [ui.run.kind],
        [ui.rubric.pick, ui.run.model, ui.run.target, ui.results.job],
        api_name="judge_load",
    )
    results = ui.results
    empty_tables = Event(controller.empty_results, (), [results.summary, results.grid, results.items, results.verdicts])
    return TabHandle(on_open=[refresh_pickers(services, [ui.run.model])], on_load=[page_load, empty_tables])
