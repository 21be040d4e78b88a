"""Fine-tune tab, jobs half: pick a job, watch it live (progress, figures, loss curves, sample
answers, events), stop / resume / delete / merge it, and read every run in one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.finetune_job_format import (  # noqa: F401 - list_row, preset_of, state_word: imported from here too
    EVENT_HEADER_KEYS,
    EVENT_HEADERS,
    LIST_HEADER_KEYS,
    LIST_HEADERS,
    SAMPLE_HEADER_KEYS,
    SAMPLE_HEADERS,
    event_rows,
    job_label,
    list_row,
    preset_of,
    progress_html,
    state_word,
    status_markdown,
    table,
)
from components.i18n import L, request_language, say, text
from components.tab import Event
from components.ui_errors import user_errors
from playground.finetune.charts_training import loss_chart
from playground.finetune.job_view import JobView
from playground.finetune.jobs import FinetuneService

POLL_S = 2.0


def job_choices(finetune: FinetuneService) -> list[tuple[str, int]]:
    """The Job dropdown's choices, each labelled from the job's current status."""
    return [(job_label(j.id, j.name, j.status), j.id) for j in finetune.list_jobs()]


def labels_of(choices: list[tuple[str, int]]) -> tuple[str, ...]:
    return tuple(label for label, _ in choices)


def _job_id(job_id: Any) -> int | None:
    return int(job_id) if job_id not in (None, "") else None


def _required(job_id: Any) -> int:
    if job_id in (None, ""):
        raise gr.Error(text("finetune.pick_job"), print_exception=False)
    return int(job_id)


@dataclass
class JobsWidgets:
    picker: gr.Dropdown
    refresh: gr.Button
    progress: gr.HTML
    status: gr.Markdown
    stop: gr.Button
    resume: gr.Button
    merge: gr.Button
    confirm_delete: gr.Checkbox
    delete: gr.Button
    chart: gr.Plot
    samples: gr.Dataframe
    events: gr.Dataframe
    table: gr.Dataframe
    timer: gr.Timer
    shown: gr.State  # the Job dropdown's labels as this page last got them

    @property
    def view_outputs(self) -> list[Any]:
        """What one job's view fills in (``JobsController.render``'s order)."""
        return [
            self.progress,
            self.status,
            self.chart,
            self.samples,
            self.events,
            self.stop,
            self.resume,
            self.merge,
            self.delete,
            self.timer,
        ]

    @property
    def full(self) -> list[Any]:
        """The picker, the job's view, the table of all runs and the labels sent (``JobsController.full``)."""
        return [self.picker, *self.view_outputs, self.table, self.shown]


def jobs_layout(choices: list[tuple[str, int]]) -> JobsWidgets:
    gr.Markdown(L("finetune.jobs_heading"))
    with gr.Row():
        # Custom values allowed: jobs created after this page was built are still valid picks.
        picker = gr.Dropdown(
            label=L("finetune.job"),
            choices=choices,
            value=None,
            allow_custom_value=True,
            scale=4,
            elem_id="ft-job-pick",
        )
        refresh = gr.Button(L("finetune.refresh"), size="sm", scale=0, elem_id="ft-job-refresh")
    progress = gr.HTML(elem_id="ft-job-progress")
    status = gr.Markdown(L("finetune.no_job"), elem_id="ft-job-status")
    with gr.Row():
        stop = gr.Button(L("finetune.stop_job"), interactive=False, elem_id="ft-job-stop")
        resume = gr.Button(L("finetune.resume_job"), interactive=False, elem_id="ft-job-resume")
        merge = gr.Button(L("finetune.merge_job"), interactive=False, elem_id="ft-job-merge")
        confirm = gr.Checkbox(
            label=L("finetune.confirm_delete_job"), value=False, scale=0, elem_id="ft-job-confirm-delete"
        )
        delete = gr.Button(L("finetune.delete_job"), variant="stop", interactive=False, elem_id="ft-job-delete")
    with gr.Row():
        chart = gr.Plot(label=L("finetune.loss_chart"), scale=3, elem_id="ft-job-loss")
        samples = gr.Dataframe(
            headers=SAMPLE_HEADERS,
            interactive=False,
            wrap=True,
            label=L("finetune.samples_table"),
            scale=2,
            elem_id="ft-job-samples",
        )
    with gr.Accordion(L("finetune.events"), open=False, elem_id="ft-job-events-box"):
        events = gr.Dataframe(
            headers=EVENT_HEADERS, interactive=False, wrap=True, max_height=260, elem_id="ft-job-events"
        )
    with gr.Accordion(L("finetune.all_runs"), open=True, elem_id="ft-jobs-list-box"):
        table = gr.Dataframe(headers=LIST_HEADERS, interactive=False, wrap=True, max_height=320, elem_id="ft-jobs-list")
    timer = gr.Timer(POLL_S, active=False)
    return JobsWidgets(
        picker,
        refresh,
        progress,
        status,
        stop,
        resume,
        merge,
        confirm,
        delete,
        chart,
        samples,
        events,
        table,
        timer,
        gr.State(labels_of(choices)),
    )


class JobsController:
    def __init__(self, finetune: FinetuneService):
        self.finetune = finetune

    # ---- formatting, shared with the training half ------------------------------------------
    def render(self, view: JobView | None) -> list[Any]:
        if view is None:
            return [
                "",
                status_markdown(None),
                None,
                table(SAMPLE_HEADER_KEYS, []),
                table(EVENT_HEADER_KEYS, []),
                *[gr.Button(interactive=False)] * 4,
                gr.Timer(active=False),
            ]
        figure = loss_chart(
            view.train_steps,
            view.train_losses,
            view.holdout_steps,
            view.holdout_losses,
            view.total_steps,
            language=request_language(),
        )
        flags = (view.can_stop, view.can_resume, view.can_merge, view.can_delete)
        return [
            progress_html(view),
            status_markdown(view),
            figure,
            table(SAMPLE_HEADER_KEYS, [[s.step, s.prompt, s.answer] for s in view.samples]),
            table(EVENT_HEADER_KEYS, event_rows(view)),
            *[gr.Button(interactive=flag) for flag in flags],
            gr.Timer(active=view.is_active),
        ]

    def rows(self) -> dict[str, Any]:
        """The table of all runs, headers in the reader's language."""
        return table(LIST_HEADER_KEYS, [list_row(view) for view in self.finetune.list_views()])

    def full(self, job_id: Any, view: JobView | None) -> list[Any]:
        """The picker on ``job_id``, its view, the table of all runs and the labels sent (``JobsWidgets.full``)."""
        choices = job_choices(self.finetune)
        return [gr.Dropdown(choices=choices, value=job_id), *self.render(view), self.rows(), labels_of(choices)]

    def full_for(self, job_id: Any) -> list[Any]:
        return self.full(job_id, self.view_of(job_id))

    def view_of(self, job_id: Any) -> JobView | None:
        job_id = _job_id(job_id)
        return self.finetune.job_view(job_id) if job_id is not None else None

    # ---- handlers ------------------------------------------------------------------------------
    @user_errors
    def show(self, job_id):
        return self.render(self.view_of(job_id))

    @user_errors
    def tick(self, job_id, shown):
        """While a job is active: its view; and the Job dropdown and the table of runs whenever a
        job's state changed (preparing → running → done), so no label lags behind its job."""
        view = self.finetune.poll(_job_id(job_id))
        choices = job_choices(self.finetune)
        labels = labels_of(choices)
        if labels == tuple(shown or ()):
            return [*self.render(view), gr.skip(), gr.skip(), gr.skip()]
        picker = gr.Dropdown(choices=choices, value=view.id if view is not None else None)
        return [*self.render(view), picker, self.rows(), labels]

    @user_errors
    def attach(self):
        """On page load: the most recent active job, else the newest one."""
        return self.full_for(self.finetune.job_to_watch())

    @user_errors
    def refresh(self, job_id):
        return self.full_for(job_id)

    @user_errors
    def stop(self, job_id):
        view = self.finetune.stop(_required(job_id))
        return self.full(view.id, view)  # the state changed: the dropdown label changes with it

    @user_errors
    def resume(self, job_id):
        view = self.finetune.resume(_required(job_id))
        return self.full(view.id, view)

    @user_errors
    def merge(self, job_id):
        path = self.finetune.merge_export(_required(job_id))
        gr.Info(text("finetune.merged_toast", path=path))
        return self.render(self.view_of(job_id))

    @user_errors
    def delete(self, job_id, confirmed):
        if not confirmed:
            raise gr.Error(text("finetune.tick_delete_job"), print_exception=False)
        gr.Info(say(self.finetune.delete(_required(job_id))))
        return [*self.full(None, None), False]


@dataclass
class JobsPanel:
    widgets: JobsWidgets
    controller: JobsController
    on_load: Event  # re-attach to the running (else newest) job after a reload or in a second browser


def _wire(w: JobsWidgets, c: JobsController) -> None:
    w.picker.input(c.show, [w.picker], w.view_outputs, api_name="ft_job_view")
    w.refresh.click(c.refresh, [w.picker], w.full, api_name="ft_jobs_refresh")
    w.timer.tick(
        c.tick,
        [w.picker, w.shown],
        [*w.view_outputs, w.picker, w.table, w.shown],
        api_name="ft_job_poll",
        show_progress="hidden",
        concurrency_limit=8,
        concurrency_id="ft_poll",
    )
    w.stop.click(c.stop, [w.picker], w.full, api_name="ft_job_stop")
    w.resume.click(c.resume, [w.picker], w.full, api_name="ft_job_resume")
    w.merge.click(c.merge, [w.picker], w.view_outputs, api_name="ft_job_merge")
    w.delete.click(c.delete, [w.picker, w.confirm_delete], [*w.full, w.confirm_delete], api_name="ft_job_delete")


def build_jobs_panel(finetune: FinetuneService) -> JobsPanel:
    controller = JobsController(finetune)
    widgets = jobs_layout(job_choices(finetune))
    _wire(widgets, controller)
    return JobsPanel(widgets, controller, Event(controller.attach, (), widgets.full, api_name="ft_attach"))
