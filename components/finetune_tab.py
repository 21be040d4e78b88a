"""Fine-tune tab: 1. dataset, 2. training settings and pre-flight, 3. jobs (live view, list,
base vs tuned). Training runs in a worker process; this tab only starts, watches and steers it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from components.finetune_compare import build_compare_panel
from components.finetune_data import build_dataset_panel
from components.finetune_jobs import build_jobs_panel
from components.finetune_training import build_training_panel
from playground.services import Services


def build_finetune_tab(services: Services) -> dict[str, Any]:
    """Build the tab; returns its handles. ``on_load`` lists the (fn, inputs, outputs) that the
    app runs on page load, so a reload or a second browser re-attaches to the running job."""
    data = build_dataset_panel(services)
    training = build_training_panel(services, data)
    jobs = build_jobs_panel(services)
    compare = build_compare_panel(services, jobs["picker"])

    @user_errors
    def start(state, *form):
        job_id, _ = training["create_or_reuse"](state, *form)
        view = services.finetune.start(job_id)
        gr.Info(f"Started “{view.name}”. You can close this page: training goes on, and the tab re-attaches when you come back.")
        return [None, jobs["choose"](job_id), *jobs["render"](view), jobs["rows"]()]

    @user_errors
    def show_prepared(state):
        job_id = state.job_id if state is not None else None
        return [jobs["choose"](job_id), *jobs["render"](services.finetune.job_view(job_id) if job_id else None), jobs["rows"]()]

    training["preflight_event"].then(show_prepared, [training["prepared"]], jobs["full"], api_name=False)
    training["start"].click(start, training["inputs"], [training["prepared"], *jobs["full"]], api_name="ft_start")
    return {"data": data, "training": training, "jobs": jobs, "compare": compare, "on_load": [training["on_load"], jobs["on_load"]]}
