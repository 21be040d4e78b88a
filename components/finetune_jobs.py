"""Fine-tune tab, jobs half: pick a job, watch it live (progress, figures, loss curves, sample
answers, events), stop / resume / delete / merge it, and read every run in one table."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from playground.finetune.charts_training import loss_chart
from playground.finetune.config import PRESETS, TrainingConfig
from playground.compare.batch_view import format_duration
from playground.finetune.job_view import JobView
from playground.services import Services

SAMPLE_HEADERS = ["Step", "Holdout prompt", "Answer of the model at that step"]
EVENT_HEADERS = ["Time", "Level", "What happened"]
LIST_HEADERS = ["#", "Name", "Base", "Dataset", "Preset", "LoRA", "Training", "Tokens/s", "Train loss", "Holdout loss", "Duration", "Status", "Message"]
STATUS_ICONS = {
    "created": "🆕", "preflight": "⏱️", "starting": "⏳", "running": "🏃", "stopping": "⏸️",
    "stopped": "⏹️", "succeeded": "✅", "failed": "❌",
}
POLL_S = 2.0


def preset_of(config: dict[str, Any]) -> str:
    """The preset whose training settings the job used, or 'Custom'."""
    ignored = {"load_in_4bit", "force_4bit_on_cpu"}
    mine = {k: v for k, v in TrainingConfig.from_dict(config).to_dict().items() if k not in ignored}
    for name, preset in PRESETS.items():
        if {k: v for k, v in preset.to_dict().items() if k not in ignored} == mine:
            return name
    return "Custom"


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%H:%M:%S")


def duration_of(view: JobView) -> str:
    if view.started_at is None:
        return ""
    end = view.finished_at or datetime.now(timezone.utc)
    start = view.started_at if view.started_at.tzinfo else view.started_at.replace(tzinfo=timezone.utc)
    end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    return format_duration((end - start).total_seconds())


def list_row(view: JobView) -> list[Any]:
    c = view.config
    last = lambda values: f"{values[-1]:.3f}" if values else ""  # noqa: E731
    targets = "all linear" if c.get("target") == "all_linear" else "attention"
    training = f"{c.get('epochs', 0):g} epoch(s) · lr {c.get('learning_rate', 0):g} · batch {view.micro_batch}×{view.grad_accum}"
    return [
        view.id, view.name, view.base_name, view.dataset_name, preset_of(c), f"r={c.get('r')}, alpha={c.get('alpha')}, {targets}", training,
        f"{view.tokens_per_s:,.0f}" if view.tokens_per_s else "", last(view.train_losses), last(view.holdout_losses),
        duration_of(view), view.status, view.message,
    ]


def progress_html(view: JobView | None) -> str:
    if view is None:
        return ""
    pct = round(view.progress * 100)
    label = f"{view.name}: step {view.step} of {view.total_steps} ({pct}%)"
    return (
        f"<div class='ft-progress' role='progressbar' aria-valuemin='0' aria-valuemax='100' aria-valuenow='{pct}' aria-label='{html.escape(label)}'"
        " style='width:100%;height:18px;background:#e5e7eb;border-radius:9px;overflow:hidden'>"
        f"<div style='width:{pct}%;height:100%;background:#6366f1;transition:width .5s'></div></div>"
        f"<p style='margin:4px 0 0 0'>{html.escape(label)}</p>"
    )


def status_markdown(view: JobView | None) -> str:
    if view is None:
        return "No job yet. Pick a dataset above and press **Start training**."
    icon = STATUS_ICONS.get(view.status, "")
    figures = [
        f"**Step** {view.step} / {view.total_steps} (epoch {view.epoch:.2f})",
        f"**ETA** {view.eta_text}" if view.eta_text else "",
        f"**Speed** {view.tokens_per_s:,.0f} tokens/s" if view.tokens_per_s else "",
        f"**Peak memory** {view.peak_memory_text}" if view.peak_memory_text else "",
        f"**Batch** {view.effective_batch} effective = {view.micro_batch} per step × {view.grad_accum} accumulation",
    ]
    share = f" ({view.trainable_share:.2%})" if view.trainable_share else ""
    lines = [
        f"### {icon} {html.escape(view.name)} — {view.status}",
        html.escape(view.message),
        " · ".join(f for f in figures if f),
        f"{view.base_name} · {view.dataset_name or 'dataset'} ({view.train_rows} train / {view.holdout_rows} holdout) · "
        f"{view.trainable_params or 0:,} trainable parameters{share} · {view.device}",
    ]
    if view.model_key:
        lines.append(f"🎯 The tuned model **{view.base_name} + {view.name}** is now in every model picker (Compare, Documents, Arena).")
    if view.export_path:
        lines.append(f"📦 Full merged model folder: `{view.export_path}`")
    return "\n\n".join(lines)


def job_choices(services: Services) -> list[tuple[str, int]]:
    return [(f"#{j.id} {j.name} — {STATUS_ICONS.get(j.status, '')} {j.status}", j.id) for j in services.finetune.list_jobs()]


def build_jobs_panel(services: Services) -> dict[str, Any]:
    finetune = services.finetune

    gr.Markdown("### 3. Jobs\nA job keeps running when you close the page; open the tab again (in any browser) to watch it.")
    with gr.Row():
        # Custom values allowed: jobs created after this page was built are still valid picks.
        picker = gr.Dropdown(label="Job", choices=job_choices(services), value=None, allow_custom_value=True, scale=4, elem_id="ft-job-pick")
        refresh_btn = gr.Button("↻ Refresh", size="sm", scale=0, elem_id="ft-job-refresh")
    progress = gr.HTML(elem_id="ft-job-progress")
    status = gr.Markdown(status_markdown(None), elem_id="ft-job-status")
    with gr.Row():
        stop_btn = gr.Button("⏹ Stop (keeps a checkpoint)", interactive=False, elem_id="ft-job-stop")
        resume_btn = gr.Button("↻ Resume from last checkpoint", interactive=False, elem_id="ft-job-resume")
        merge_btn = gr.Button("Merge & export full model", interactive=False, elem_id="ft-job-merge")
        confirm = gr.Checkbox(label="Yes, delete this job", value=False, scale=0, elem_id="ft-job-confirm-delete")
        delete_btn = gr.Button("Delete job", variant="stop", interactive=False, elem_id="ft-job-delete")
    with gr.Row():
        chart = gr.Plot(label="Loss: training and holdout", scale=3, elem_id="ft-job-loss")
        samples = gr.Dataframe(headers=SAMPLE_HEADERS, interactive=False, wrap=True, label="Sample answers to 3 holdout prompts", scale=2, elem_id="ft-job-samples")
    with gr.Accordion("Events", open=False, elem_id="ft-job-events-box"):
        events = gr.Dataframe(headers=EVENT_HEADERS, interactive=False, wrap=True, max_height=260, elem_id="ft-job-events")
    with gr.Accordion("All runs", open=True, elem_id="ft-jobs-list-box"):
        table = gr.Dataframe(headers=LIST_HEADERS, interactive=False, wrap=True, max_height=320, elem_id="ft-jobs-list")
    timer = gr.Timer(POLL_S, active=False)
    buttons = [stop_btn, resume_btn, merge_btn, delete_btn]
    view_outputs = [progress, status, chart, samples, events, *buttons, timer]

    def render(view: JobView | None) -> list[Any]:
        if view is None:
            return ["", status_markdown(None), None, [], [], *[gr.Button(interactive=False)] * 4, gr.Timer(active=False)]
        figure = loss_chart(view.train_steps, view.train_losses, view.holdout_steps, view.holdout_losses, view.total_steps)
        flags = (view.can_stop, view.can_resume, view.can_merge, view.can_delete)
        return [
            progress_html(view), status_markdown(view), figure,
            [[s.step, s.prompt, s.answer] for s in view.samples],
            [[_local(e.at), e.level, e.text] for e in reversed(view.events)],
            *[gr.Button(interactive=flag) for flag in flags], gr.Timer(active=view.is_active),
        ]

    def current(job_id: Any) -> JobView | None:
        return finetune.job_view(int(job_id)) if job_id not in (None, "") else None

    def rows() -> list[list[Any]]:
        return [list_row(finetune.job_view(j.id)) for j in finetune.list_jobs()]

    def choose(job_id: Any) -> gr.Dropdown:
        return gr.Dropdown(choices=job_choices(services), value=job_id)

    @user_errors
    def show(job_id):
        return render(current(job_id))

    @user_errors
    def tick(job_id):
        finetune.reconcile()  # a worker that died is marked failed here, not left "running"
        view = current(job_id)
        if view is not None and not view.is_active:  # it just finished: the list changes once
            return [*render(view), choose(view.id), rows()]
        return [*render(view), gr.skip(), gr.skip()]

    @user_errors
    def attach():
        """On page load: the most recent active job, else the newest one."""
        finetune.reconcile()
        jobs = finetune.list_jobs()
        active = [j for j in jobs if j.status in ("preflight", "starting", "running", "stopping")]
        pick = (active or jobs or [None])[0]
        job_id = pick.id if pick is not None else None
        return [choose(job_id), *render(current(job_id)), rows()]

    @user_errors
    def refresh(job_id):
        return [choose(job_id), *render(current(job_id)), rows()]

    @user_errors
    def stop(job_id):
        return render(finetune.stop(_required(job_id)))

    @user_errors
    def resume(job_id):
        return render(finetune.resume(_required(job_id)))

    @user_errors
    def merge(job_id):
        path = finetune.merge_export(_required(job_id))
        gr.Info(f"Merged and exported to {path}")
        return render(current(job_id))

    @user_errors
    def delete(job_id, confirmed):
        if not confirmed:
            raise gr.Error("Tick “Yes, delete this job” first: its adapter and checkpoints are removed.", print_exception=False)
        gr.Info(finetune.delete(_required(job_id)))
        return [choose(None), *render(None), rows(), False]

    full = [picker, *view_outputs, table]
    picker.input(show, [picker], view_outputs, api_name="ft_job_view")
    refresh_btn.click(refresh, [picker], full, api_name="ft_jobs_refresh")
    timer.tick(tick, [picker], [*view_outputs, picker, table], api_name="ft_job_poll", show_progress="hidden", concurrency_limit=8, concurrency_id="ft_poll")
    stop_btn.click(stop, [picker], view_outputs, api_name="ft_job_stop")
    resume_btn.click(resume, [picker], view_outputs, api_name="ft_job_resume")
    merge_btn.click(merge, [picker], view_outputs, api_name="ft_job_merge")
    delete_btn.click(delete, [picker, confirm], [*full, confirm], api_name="ft_job_delete")
    return {
        "picker": picker, "progress": progress, "status": status, "chart": chart, "samples": samples, "events": events,
        "table": table, "timer": timer, "stop": stop_btn, "resume": resume_btn, "merge": merge_btn, "delete": delete_btn,
        "confirm_delete": confirm, "view_outputs": view_outputs, "full": full, "render": render, "rows": rows, "choose": choose,
        "on_load": (attach, None, full, "ft_attach"),
    }


def _required(job_id: Any) -> int:
    if job_id in (None, ""):
        raise gr.Error("Pick a job first.", print_exception=False)
    return int(job_id)
