"""Fine-tune tab: 1. dataset, 2. training settings and pre-flight, 3. jobs (live view, list,
base vs tuned). Training runs in a worker process; this tab only starts, watches and steers it."""

from __future__ import annotations

import gradio as gr

from components.finetune_compare import build_compare_panel
from components.finetune_data import build_dataset_panel
from components.finetune_export import build_export_panel
from components.finetune_jobs import JobsController, build_jobs_panel
from components.finetune_training import TrainingController, build_training_panel
from components.i18n import text
from components.tab import TabHandle
from components.ui_errors import user_errors
from playground.finetune.job_drafts import Prepared
from playground.services import Services


class FinetuneController:
    """The handlers that span two halves: Start (training form -> jobs view) and showing the job a
    pre-flight prepared."""

    def __init__(self, training: TrainingController, jobs: JobsController):
        self.training = training
        self.jobs = jobs

    @user_errors
    def start(self, state: Prepared | None, *form):
        view = self.training.start(state, *form)
        gr.Info(text("finetune.started_toast", name=view.name))
        return [None, *self.jobs.full(view.id, view)]

    @user_errors
    def show_prepared(self, state: Prepared | None):
        return self.jobs.full_for(state.job_id if state is not None else None)


def build_finetune_tab(services: Services) -> TabHandle:
    """Build the tab. ``on_load`` re-attaches a reload or a second browser to the running job;
    ``on_open`` refreshes the base-model picker."""
    data = build_dataset_panel(services)
    training = build_training_panel(services, data.widgets)
    jobs = build_jobs_panel(services.finetune)
    build_export_panel(services.gguf_exports, services.cancel_tokens, jobs.widgets.picker)
    build_compare_panel(services.side_by_side, jobs.widgets.picker)
    controller = FinetuneController(training.controller, jobs.controller)
    full = jobs.widgets.full
    training.preflight_done.then(controller.show_prepared, [training.widgets.prepared], full, api_name=False)
    training.widgets.start.click(
        controller.start, training.inputs, [training.widgets.prepared, *full], api_name="ft_start"
    )
    return TabHandle(on_open=data.on_open, on_load=[training.on_load, jobs.on_load])
