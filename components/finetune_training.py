"""Fine-tune tab, training half: job name, outcome presets, the device's truth, every advanced
knob, the trainable-parameter count and a pre-flight of a few real steps."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.finetune_data import DatasetWidgets
from components.i18n import L, say, text
from components.tab import Event
from components.ui_errors import user_errors
from playground.finetune.config import (
    DEFAULT_PRESET,
    PRESETS,
    TARGETS,
    TrainingConfig,
    config_from_form,
    fit_max_length,
    preset,
)
from playground.finetune.job_drafts import JobDrafts, JobForm, PreflightWait, Prepared, TrainingPlan, require_choices
from playground.finetune.job_view import JobView
from playground.formatting import bytes_text, format_duration
from playground.i18n import Text
from playground.rendering import inert_inline
from playground.services import Services
from playground.stored_text import load

# Advanced knobs, in screen order: (config field, label). The 4-bit checkbox comes last.
KNOBS: list[tuple[str, str]] = [
    ("r", "LoRA rank r"),
    ("alpha", "LoRA alpha"),
    ("dropout", "LoRA dropout"),
    ("target", "Target modules"),
    ("epochs", "Epochs"),
    ("learning_rate", "Learning rate"),
    ("batch_size", "Batch size (examples per step on the device)"),
    ("grad_accum", "Gradient accumulation (steps per update)"),
    ("max_length", "Max length (tokens per example)"),
    ("eval_every", "Holdout loss + sample answers every N steps (0 = about 10 times)"),
]
# Labels by field or value (catalogue keys); L() is called while the page is built, so the page
# carries these texts. Preset names are the stored values; their labels follow the reader's language.
KNOB_KEYS = {
    "r": "finetune.knob_r",
    "alpha": "finetune.knob_alpha",
    "dropout": "finetune.knob_dropout",
    "target": "finetune.knob_target",
    "epochs": "finetune.knob_epochs",
    "learning_rate": "finetune.knob_learning_rate",
    "batch_size": "finetune.knob_batch_size",
    "grad_accum": "finetune.knob_grad_accum",
    "max_length": "finetune.knob_max_length",
    "eval_every": "finetune.knob_eval_every",
}
TARGET_KEYS = {
    "attention": "finetune.target_attention",
    "all_linear": "finetune.target_all_linear_plain",
    "all_linear_head": "finetune.target_all_linear_head",
}
PRESET_KEYS = {
    DEFAULT_PRESET: "finetune.preset_recommended",
    "Quick test": "finetune.preset_quick",
    "Teach a style": "finetune.preset_style",
    "Teach facts": "finetune.preset_facts",
}


def _label(keys: dict[str, str], name: str, fallback: str) -> Any:
    return L(keys[name]) if name in keys else fallback


MAX_LENGTH = [field for field, _ in KNOBS].index("max_length")


@functools.lru_cache(maxsize=1)
def has_gpu() -> bool:
    from playground.finetune.modeling import has_cuda

    return has_cuda()


def device_note() -> str:
    if has_gpu():
        return text("finetune.gpu_found")
    return text("finetune.no_gpu")


def knob_values(name: str) -> list[Any]:
    """The preset's advanced values in KNOBS order, then the 4-bit box (on only with a GPU)."""
    config = preset(name)
    return [getattr(config, field) for field, _ in KNOBS] + [config.load_in_4bit and has_gpu()]


def config_from(preset_name: str, values: list[Any]) -> TrainingConfig:
    overrides = dict(zip([field for field, _ in KNOBS], values[: len(KNOBS)]))
    four_bit = bool(values[len(KNOBS)])
    # Ticking 4-bit on a CPU is the user's explicit choice; unticked means a full-precision base everywhere.
    overrides.update(load_in_4bit=four_bit, force_4bit_on_cpu=four_bit and not has_gpu())
    return config_from_form(preset_name or DEFAULT_PRESET, overrides)


def job_form(
    dataset_id: Any, base_key: str, fmt: str, job_name: str, preset_name: str, values: Sequence[Any]
) -> JobForm:
    """The form as one value; the choices of step 1 are refused before the settings are checked."""
    require_choices(dataset_id, base_key)
    return JobForm(dataset_id, base_key, fmt, job_name, preset_name, config_from(preset_name, list(values)))


def plan_text(plan: TrainingPlan, head_note: Text | str = "") -> str:
    """The Check report; ``head_note`` says what "all linear + output head" does with this base's head."""
    config = plan.config
    lines = [
        text("finetune.plan_count", count=say(plan.count.text)),
        *([say(head_note)] if head_note else []),
        text("finetune.plan_batch", batch=config.effective_batch, size=config.batch_size, accum=config.grad_accum),
    ]
    if plan.train_rows is not None:
        lines.append(
            text(
                "finetune.plan_rows",
                train=plan.train_rows,
                holdout=plan.holdout_rows,
                steps=plan.steps,
                epochs=Text("finetune.number_short", {"value": float(config.epochs)}),
            )  # fmt: skip
        )
    return "\n\n".join(lines)


def preflight_wait_text(wait: PreflightWait) -> str:
    if not wait.finished:
        message = inert_inline(say(wait.view.message))
        return text(
            "finetune.preflight_running",
            seconds=Text("finetune.number_whole", {"value": round(wait.elapsed_s)}),
            message=message,
        )
    return preflight_text(wait.view)


def preflight_text(view: JobView) -> str:
    result = view.preflight or {}
    if result.get("error") or not result:
        return text("finetune.preflight_unfinished", message=say(view.message))
    share = Text("finetune.share_suffix", {"share": view.trainable_share}) if view.trainable_share else ""
    return text(
        "finetune.preflight_done",
        steps=result.get("steps_measured", "?"),
        device=load(result["device"]) if result.get("device") else view.device,
        speed=Text("finetune.number_whole", {"value": round(result.get("tokens_per_s") or 0)}),
        memory=bytes_text(result.get("peak_memory_bytes")),
        total=result.get("total_steps"),
        eta=format_duration(result.get("eta_s") or 0),
        params=Text("finetune.number_whole", {"value": view.trainable_params or 0}),
        share=share,
    )


@dataclass
class TrainingWidgets:
    name: gr.Textbox
    preset: gr.Radio
    device: gr.Markdown
    knobs: list[Any]  # the KNOBS inputs, then the 4-bit checkbox
    check: gr.Button
    preflight: gr.Button
    start: gr.Button
    report: gr.Markdown
    prepared: gr.State  # the Prepared job of the last pre-flight, or None
    length_note: gr.Markdown  # what the max length does to the chosen dataset's rows

    @property
    def max_length(self) -> gr.Number:
        return self.knobs[MAX_LENGTH]

    @property
    def four_bit(self) -> gr.Checkbox:
        return self.knobs[-1]

    @property
    def form(self) -> list[Any]:
        return [self.name, self.preset, *self.knobs]


def _knob_inputs() -> list[Any]:
    """The advanced settings at the default preset's values, in KNOBS order, then the 4-bit box."""
    defaults = knob_values(DEFAULT_PRESET)[: len(KNOBS)]
    inputs: list[Any] = []
    with gr.Row():
        for (field, label), value in zip(KNOBS[:4], defaults[:4]):
            if field == "target":
                inputs.append(
                    gr.Radio(
                        [(_label(TARGET_KEYS, key, shown), key) for key, shown in TARGETS.items()],
                        value=value,
                        label=_label(KNOB_KEYS, field, label),
                        elem_id="ft-train-target",
                    )
                )
            else:
                inputs.append(
                    gr.Number(
                        value=value,
                        label=_label(KNOB_KEYS, field, label),
                        precision=None if field == "dropout" else 0,
                        elem_id=f"ft-train-{field}",
                    )
                )
    with gr.Row():
        for (field, label), value in zip(KNOBS[4:], defaults[4:]):
            whole = field not in ("epochs", "learning_rate")
            inputs.append(
                gr.Number(
                    value=value,
                    label=_label(KNOB_KEYS, field, label),
                    precision=0 if whole else None,
                    elem_id=f"ft-train-{field}",
                )
            )
    inputs.append(gr.Checkbox(value=False, label=L("finetune.four_bit"), elem_id="ft-train-4bit"))
    return inputs


def training_layout() -> TrainingWidgets:
    gr.Markdown(L("finetune.training_heading"))
    with gr.Row():
        name = gr.Textbox(
            label=L("finetune.tuned_name"),
            placeholder=L("finetune.tuned_name_placeholder"),
            scale=2,
            elem_id="ft-train-name",
        )
        preset_pick = gr.Radio(
            [(_label(PRESET_KEYS, name, name), name) for name in PRESETS],
            value=DEFAULT_PRESET,
            label=L("finetune.preset"),
            scale=3,
            elem_id="ft-train-preset",
        )
    gr.Markdown(L("finetune.preset_lines_study"), elem_id="ft-train-preset-help")
    length_note = gr.Markdown(elem_id="ft-train-length-note")
    device = gr.Markdown(elem_id="ft-train-device")
    with gr.Accordion(L("finetune.advanced"), open=False, elem_id="ft-train-advanced"):
        knobs = _knob_inputs()
    with gr.Row():
        check = gr.Button(L("finetune.check_params"), elem_id="ft-train-check")
        preflight = gr.Button(L("finetune.preflight_button"), elem_id="ft-train-preflight")
        start = gr.Button(L("finetune.start_button"), variant="primary", elem_id="ft-train-start")
    report = gr.Markdown(elem_id="ft-train-report")
    return TrainingWidgets(
        name, preset_pick, device, knobs, check, preflight, start, report, gr.State(None), length_note
    )


class TrainingController:
    def __init__(self, drafts: JobDrafts):
        self.drafts = drafts

    @user_errors
    def show_device(self):
        return device_note(), knob_values(DEFAULT_PRESET)[-1]

    def _fit(self, dataset_id: Any, wanted: Any) -> tuple[Any, str]:
        """The max length that keeps the checked dataset's rows whole (see fit_max_length), and its note."""
        if dataset_id in (None, "") or wanted in (None, ""):
            return wanted, ""
        report = self.drafts.datasets.get(int(dataset_id)).report
        fit = fit_max_length(int(wanted), report.lengths, report.max_length)
        return fit.max_length, say(fit.note)

    @user_errors
    def preset_chosen(self, dataset_id, preset_name):
        values = knob_values(preset_name)
        values[MAX_LENGTH], note = self._fit(dataset_id, values[MAX_LENGTH])
        return (self.drafts.suggested_name(dataset_id, preset_name), *values, note)

    @user_errors
    def dataset_chosen(self, dataset_id, preset_name, max_length):
        return (self.drafts.suggested_name(dataset_id, preset_name), *self._fit(dataset_id, max_length))

    @user_errors
    def check(self, dataset_id, base_key, fmt, job_name, preset_name, *values):
        from playground.finetune.modeling import output_head_note

        plan = self.drafts.plan(base_key, config_from(preset_name, list(values)), dataset_id)
        return plan_text(plan, output_head_note(self.drafts.jobs.resolve_base(base_key).folder, plan.config))

    @user_errors
    def run_preflight(self, state: Prepared | None, dataset_id, base_key, fmt, job_name, preset_name, *values):
        form = job_form(dataset_id, base_key, fmt, job_name, preset_name, values)
        for wait in self.drafts.preflight(state, form):
            yield preflight_wait_text(wait), wait.prepared

    def start(self, state: Prepared | None, dataset_id, base_key, fmt, job_name, preset_name, *values) -> JobView:
        """Train the form's job (the tab formats the result for the jobs panel)."""
        return self.drafts.start(state, job_form(dataset_id, base_key, fmt, job_name, preset_name, values))


@dataclass
class TrainingPanel:
    widgets: TrainingWidgets
    controller: TrainingController
    inputs: list[Any]  # what Start and Pre-flight read: the prepared job, the dataset choices, the form
    preflight_done: Any  # the pre-flight event, for the jobs panel to follow with the prepared job
    on_load: Event


def build_training_panel(services: Services, data: DatasetWidgets) -> TrainingPanel:
    w = training_layout()
    c = TrainingController(JobDrafts(services.finetune, services.finetune_datasets))
    dataset_inputs = [data.saved, data.base_model, data.prompt_format]
    inputs = [w.prepared, *dataset_inputs, *w.form]
    w.preset.input(
        c.preset_chosen, [data.saved, w.preset], [w.name, *w.knobs, w.length_note], api_name="ft_train_preset"
    )
    data.saved.change(
        c.dataset_chosen, [data.saved, w.preset, w.max_length], [w.name, w.max_length, w.length_note], api_name=False
    )
    w.check.click(c.check, [*dataset_inputs, *w.form], [w.report], api_name="ft_train_check")
    preflight_done = w.preflight.click(c.run_preflight, inputs, [w.report, w.prepared], api_name="ft_train_preflight")
    on_load = Event(c.show_device, (), [w.device, w.four_bit], api_name="ft_device")
    return TrainingPanel(w, c, inputs, preflight_done, on_load)
