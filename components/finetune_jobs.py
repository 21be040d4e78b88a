"""Fine-tune tab, jobs half: pick a job, watch it live (progress, figures, loss curves, sample
answers, events), stop / resume / delete / merge it, and read every run in one table."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from components.i18n import L, request_language, say, text
from components.tab import Event
from components.ui_errors import user_errors
from playground.finetune.charts_training import loss_chart
from playground.finetune.config import PRESETS, TrainingConfig
from playground.finetune.job_labels import STATE_ICONS
from playground.finetune.job_view import JobView
from playground.finetune.jobs import FinetuneService
from playground.formatting import format_duration
from playground.rendering import inert_inline

SAMPLE_HEADERS = ["Step", "Holdout prompt", "Answer of the model at that step"]
EVENT_HEADERS = ["Time", "Level", "What happened"]
LIST_HEADERS = [
    "#",
    "Name",
    "Base",
    "Dataset",
    "Preset",
    "LoRA",
    "Training",
    "Tokens/s",
    "Train loss",
    "Holdout loss",
    "Duration",
    "Status",
    "Message",
]
POLL_S = 2.0
_STATE_KEYS = {
    "created": "finetune.state_created",
    "preflight": "finetune.state_preflight",
    "starting": "finetune.state_starting",
    "running": "finetune.state_running",
    "stopping": "finetune.state_stopping",
    "stopped": "finetune.state_stopped",
    "done": "finetune.state_done",
    "failed": "finetune.state_failed",
}


def state_word(status: str) -> str:
    """A job's state as one word in the reader's language ("preparing", "running", …); the
    words are playground.finetune.job_labels' in English."""
    key = _STATE_KEYS.get(str(status))
    return text(key) if key else str(status)


def job_label(job_id: int, name: str, status: str) -> str:
    """The Job dropdown's label: "#3 support replies — 🏃 running" (job_labels.job_label, translated)."""
    shown = f"{STATE_ICONS.get(status, '')} {state_word(status)}".strip()
    return f"#{job_id} {name} — {shown}"


def preset_of(config: dict[str, Any]) -> str:
    """The preset whose training settings the job used, or 'Custom'."""
    ignored = {"load_in_4bit", "force_4bit_on_cpu"}
    mine = {k: v for k, v in TrainingConfig.from_dict(config).to_dict().items() if k not in ignored}
    for name, preset in PRESETS.items():
        if {k: v for k, v in preset.to_dict().items() if k not in ignored} == mine:
            return name
    return text("finetune.preset_custom")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _local(moment: datetime | None) -> str:
    return "" if moment is None else _utc(moment).astimezone().strftime("%H:%M:%S")


def duration_of(view: JobView) -> str:
    if view.started_at is None:
        return ""
    end = view.finished_at or datetime.now(UTC)
    return format_duration((_utc(end) - _utc(view.started_at)).total_seconds())


def _last(values: list[float]) -> str:
    return f"{values[-1]:.3f}" if values else ""


def list_row(view: JobView) -> list[Any]:
    c = view.config
    targets = "all linear" if c.get("target") == "all_linear" else "attention"
    training = f"{c.get('epochs', 0):g} epoch(s) · lr {c.get('learning_rate', 0):g} · batch {view.micro_batch}×{view.grad_accum}"
    return [
        view.id,
        view.name,
        view.base_name,
        view.dataset_name,
        preset_of(c),
        f"r={c.get('r')}, alpha={c.get('alpha')}, {targets}",
        training,
        f"{view.tokens_per_s:,.0f}" if view.tokens_per_s else "",
        _last(view.train_losses),
        _last(view.holdout_losses),
        duration_of(view),
        state_word(view.status),
        say(view.message),
    ]


def progress_html(view: JobView | None) -> str:
    if view is None:
        return ""
    pct = round(view.progress * 100)
    label = text("finetune.progress_label", name=view.name, step=view.step, total=view.total_steps, pct=pct)
    return (
        f"<div class='ft-progress' role='progressbar' aria-valuemin='0' aria-valuemax='100' aria-valuenow='{pct}' aria-label='{html.escape(label)}'"
        " style='width:100%;height:18px;background:#e5e7eb;border-radius:9px;overflow:hidden'>"
        f"<div style='width:{pct}%;height:100%;background:#6366f1;transition:width .5s'></div></div>"
        f"<p style='margin:4px 0 0 0'>{html.escape(label)}</p>"
    )


def status_markdown(view: JobView | None) -> str:
    if view is None:
        return text("finetune.no_job")
    figures = [
        text("finetune.fig_step", step=view.step, total=view.total_steps, epoch=f"{view.epoch:.2f}"),
        text("finetune.fig_eta", eta=view.eta_text) if view.eta_text else "",
        text("finetune.fig_speed", speed=f"{view.tokens_per_s:,.0f}") if view.tokens_per_s else "",
        text("finetune.fig_memory", memory=view.peak_memory_text) if view.peak_memory_text else "",
        text("finetune.fig_batch", batch=view.effective_batch, size=view.micro_batch, accum=view.grad_accum),
    ]
    dataset = inert_inline(view.dataset_name or text("finetune.dataset_word"))
    lines = [
        f"### {STATE_ICONS.get(view.status, '')} {inert_inline(view.name)} — {state_word(view.status)}",
        inert_inline(say(view.message)),  # the worker's progress line, stored (in English) with the job
        " · ".join(f for f in figures if f),
        text(
            "finetune.status_rows",
            base=inert_inline(view.base_name),
            dataset=dataset,
            train=view.train_rows,
            holdout=view.holdout_rows,
            trainable=trainable_text(view),
            device=view.device,
        ),  # fmt: skip
    ]
    if view.model_key:
        lines.append(text("finetune.tuned_everywhere", base=inert_inline(view.base_name), name=inert_inline(view.name)))
    if view.export_path:
        lines.append(text("finetune.merged_folder", path=view.export_path))
    return "\n\n".join(lines)


def trainable_text(view: JobView) -> str:
    if view.trainable_params is None:  # the worker counts them once the base model is loaded
        return text("finetune.trainable_pending")
    share = f" ({view.trainable_share:.2%})" if view.trainable_share else ""
    return text("finetune.trainable", params=f"{view.trainable_params:,}", share=share)


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
                [],
                [],
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
            [[s.step, s.prompt, s.answer] for s in view.samples],
            [[_local(e.at), e.level, e.text] for e in reversed(view.events)],
            *[gr.Button(interactive=flag) for flag in flags],
            gr.Timer(active=view.is_active),
        ]

    def rows(self) -> list[list[Any]]:
        return [list_row(view) for view in self.finetune.list_views()]

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
