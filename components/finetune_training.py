"""Fine-tune tab, training half: job name, outcome presets, the device's truth, every advanced
knob, the trainable-parameter count and a pre-flight of a few real steps."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.ui_errors import user_errors
from playground.errors import InvalidInput
from playground.finetune.config import DEFAULT_PRESET, PRESET_HELP, PRESETS, TARGETS, TrainingConfig, config_from_form, preset, total_steps
from playground.compare.batch_view import format_duration
from playground.formatting import format_bytes
from playground.services import Services

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
PRESET_LINES = "\n".join(f"- **{name}** — {PRESET_HELP[name]}" for name in PRESETS)
PREFLIGHT_POLL_S = 1.0


@functools.lru_cache(maxsize=1)
def has_gpu() -> bool:
    from playground.finetune.modeling import has_cuda

    return has_cuda()


def device_note() -> str:
    if has_gpu():
        return "🟢 **GPU found**: training loads the base in 4-bit (QLoRA: NF4, double quantisation, bf16 compute) and trains a LoRA adapter on it."
    return (
        "🖥️ **No GPU found**: this trains LoRA on a full-precision base on the CPU. "
        "4-bit (QLoRA) stays available in *Advanced* but is much slower on a CPU."
    )


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


@dataclass(frozen=True)
class Prepared:
    """The job a pre-flight created, so Start reuses it while the settings stay the same."""

    job_id: int
    signature: str


def build_training_panel(services: Services, data: dict[str, Any]) -> dict[str, Any]:
    finetune, datasets = services.finetune, services.finetune_datasets

    gr.Markdown("### 2. Training\nPick what you want to teach; the defaults are the LoRA study's winner (r=8 on all linear layers).")
    with gr.Row():
        name = gr.Textbox(label="Name of the tuned model", placeholder="filled in from the dataset and preset", scale=2, elem_id="ft-train-name")
        preset_pick = gr.Radio(list(PRESETS), value=DEFAULT_PRESET, label="Preset", scale=3, elem_id="ft-train-preset")
    gr.Markdown(PRESET_LINES, elem_id="ft-train-preset-help")
    device = gr.Markdown(elem_id="ft-train-device")
    with gr.Accordion("Advanced settings", open=False, elem_id="ft-train-advanced"):
        defaults = knob_values(DEFAULT_PRESET)[: len(KNOBS)]
        inputs: list[Any] = []
        with gr.Row():
            for (field, label), value in zip(KNOBS[:4], defaults[:4]):
                if field == "target":
                    inputs.append(gr.Radio([(text, key) for key, text in TARGETS.items()], value=value, label=label, elem_id="ft-train-target"))
                else:
                    inputs.append(gr.Number(value=value, label=label, precision=None if field == "dropout" else 0, elem_id=f"ft-train-{field}"))
        with gr.Row():
            for (field, label), value in zip(KNOBS[4:], defaults[4:]):
                whole = field not in ("epochs", "learning_rate")
                inputs.append(gr.Number(value=value, label=label, precision=0 if whole else None, elem_id=f"ft-train-{field}"))
        four_bit = gr.Checkbox(value=False, label="4-bit base (QLoRA). Off: LoRA on a full-precision base.", elem_id="ft-train-4bit")
    knobs = [*inputs, four_bit]
    with gr.Row():
        check_btn = gr.Button("Check trainable parameters", elem_id="ft-train-check")
        preflight_btn = gr.Button("Pre-flight (measure a few real steps)", elem_id="ft-train-preflight")
        start_btn = gr.Button("▶ Start training", variant="primary", elem_id="ft-train-start")
    report = gr.Markdown(elem_id="ft-train-report")
    prepared = gr.State(None)

    dataset_inputs = [data["saved"], data["base_model"], data["prompt_format"]]
    form = [name, preset_pick, *knobs]

    def suggested_name(dataset_id: Any, preset_name: str) -> str:
        if dataset_id in (None, ""):
            return ""
        stem = f"{datasets.get(int(dataset_id)).name} – {preset_name.split(' (')[0]}"
        taken = {job.name for job in finetune.list_jobs()}
        candidate, n = stem, 2
        while candidate in taken:
            candidate, n = f"{stem} {n}", n + 1
        return candidate

    def signature(dataset_id, base_key, fmt, job_name, preset_name, values) -> str:
        return repr((dataset_id, base_key, fmt, job_name, preset_name, config_from(preset_name, list(values)).to_dict()))

    def prepare(dataset_id, base_key, fmt, job_name, preset_name, *values) -> tuple[str, str, TrainingConfig]:
        """(signature, job name, config) of the form, or a plain refusal."""
        if dataset_id in (None, ""):
            raise InvalidInput("Pick a saved dataset in step 1 first (or load the demo dataset and press “Check & save dataset”).")
        if not base_key:
            raise InvalidInput("Pick a base model in step 1 first.")
        config = config_from(preset_name, list(values))
        job_name = (job_name or "").strip() or suggested_name(dataset_id, preset_name)
        sig = signature(dataset_id, base_key, fmt, job_name, preset_name, values)
        return sig, job_name, config

    def create_or_reuse(state: Prepared | None, dataset_id, base_key, fmt, job_name, preset_name, *values) -> tuple[int, str]:
        """A job in state 'created' with exactly these settings (made now if needed), and its signature."""
        sig, job_name, config = prepare(dataset_id, base_key, fmt, job_name, preset_name, *values)
        if state is not None:
            try:
                old = finetune.job_view(state.job_id)
            except InvalidInput:  # deleted meanwhile
                old = None
            if old is not None and old.status == "created":
                if state.signature == sig:
                    return state.job_id, sig
                finetune.delete(state.job_id)  # measured with other settings and never trained
        train, holdout = datasets.split(int(dataset_id))
        info = datasets.get(int(dataset_id))
        return finetune.create_job(job_name, base_key, fmt, config, train, holdout, dataset_id=info.id, dataset_name=info.name), sig

    @user_errors
    def on_load():
        return device_note(), knob_values(DEFAULT_PRESET)[-1]

    @user_errors
    def on_preset(dataset_id, preset_name):
        return (suggested_name(dataset_id, preset_name), *knob_values(preset_name))

    @user_errors
    def on_dataset(dataset_id, preset_name):
        return suggested_name(dataset_id, preset_name)

    @user_errors
    def check(dataset_id, base_key, fmt, job_name, preset_name, *values):
        config = config_from(preset_name, list(values))
        count = finetune.trainable_params(base_key, config)
        lines = [f"**{count.text}**, as PEFT reports it.", f"Effective batch {config.effective_batch} ({config.batch_size} × {config.grad_accum} accumulation)."]
        if dataset_id not in (None, ""):
            train, holdout = datasets.split(int(dataset_id))
            lines.append(f"{len(train)} training and {len(holdout)} holdout examples → {total_steps(len(train), config)} steps over {config.epochs:g} epoch(s).")
        return "\n\n".join(lines)

    @user_errors
    def run_preflight(state, dataset_id, base_key, fmt, job_name, preset_name, *values):
        job_id, sig = create_or_reuse(state, dataset_id, base_key, fmt, job_name, preset_name, *values)
        state = Prepared(job_id, sig)
        finetune.preflight(job_id, wait=False)
        started = time.monotonic()
        view = finetune.job_view(job_id)
        while view.is_active:
            yield f"⏳ **Pre-flight running** ({time.monotonic() - started:.0f} s): loading the model and timing a few real training steps…", state
            time.sleep(PREFLIGHT_POLL_S)
            finetune.reconcile()
            view = finetune.job_view(job_id)
        yield preflight_text(view), state

    preset_pick.input(on_preset, [data["saved"], preset_pick], [name, *knobs], api_name="ft_train_preset")
    data["saved"].change(on_dataset, [data["saved"], preset_pick], [name], api_name=False)
    check_btn.click(check, [*dataset_inputs, *form], [report], api_name="ft_train_check")
    preflight_event = preflight_btn.click(run_preflight, [prepared, *dataset_inputs, *form], [report, prepared], api_name="ft_train_preflight")
    return {
        "name": name, "preset": preset_pick, "device": device, "knobs": knobs, "four_bit": four_bit, "check": check_btn,
        "preflight": preflight_btn, "start": start_btn, "report": report, "prepared": prepared,
        "inputs": [prepared, *dataset_inputs, *form], "create_or_reuse": create_or_reuse, "preflight_event": preflight_event, "on_load": (on_load, None, [device, four_bit], "ft_device"),
    }


def preflight_text(view: Any) -> str:
    result = view.preflight or {}
    if result.get("error") or not result:
        return f"⚠️ **Pre-flight did not finish.** {view.message}"
    share = f" ({view.trainable_share:.2%})" if view.trainable_share else ""
    return (
        f"✅ **Pre-flight measured {result.get('steps_measured', '?')} real steps** on {result.get('device', view.device)}:\n\n"
        f"- **{result.get('tokens_per_s') or 0:,.0f} tokens/s**, peak memory **{format_bytes(result.get('peak_memory_bytes'))}**\n"
        f"- The full run of {result.get('total_steps')} steps should take about **{format_duration(result.get('eta_s') or 0)}**\n"
        f"- {view.trainable_params or 0:,} trainable parameters{share}\n\n"
        "Press **Start training** to run it (the job is ready in the list below)."
    )
