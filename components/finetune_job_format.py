"""How one fine-tuning job reads on the Fine-tune tab, in the reader's language: its status
heading, progress bar, event lines, and its row in the table of all runs (with the tables'
headers, which the browser does not translate)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from components.i18n import say, text
from playground.finetune.config import PRESETS, TrainingConfig
from playground.finetune.job_labels import STATE_ICONS
from playground.finetune.job_view import JobView
from playground.formatting import format_duration
from playground.i18n import Text
from playground.rendering import inert_inline

# Dataframe headers are not translated in the browser: the page is built with the English ones
# and every handler that fills a table sends them in the reader's language (``headers``).
SAMPLE_HEADER_KEYS = ("finetune.col_step", "finetune.col_sample_prompt", "finetune.col_sample_answer")
EVENT_HEADER_KEYS = ("finetune.col_time", "finetune.col_level", "finetune.col_what_happened")
LIST_HEADER_KEYS = (
    "finetune.col_number",
    "finetune.col_name",
    "finetune.col_base_short",
    "finetune.col_dataset",
    "finetune.col_preset",
    "finetune.col_lora",
    "finetune.col_training",
    "finetune.col_tokens_per_s",
    "finetune.col_train_loss",
    "finetune.col_holdout_loss",
    "finetune.col_duration",
    "finetune.col_status",
    "finetune.col_message",
)
SAMPLE_HEADERS = [str(Text(key)) for key in SAMPLE_HEADER_KEYS]
EVENT_HEADERS = [str(Text(key)) for key in EVENT_HEADER_KEYS]
LIST_HEADERS = [str(Text(key)) for key in LIST_HEADER_KEYS]
LEVEL_KEYS = {"info": "finetune.level_info", "warning": "finetune.level_warning", "error": "finetune.level_error"}
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


def headers(keys: tuple[str, ...]) -> list[str]:
    """A table's column names in the reader's language."""
    return [text(key) for key in keys]


def table(keys: tuple[str, ...], rows: list[list[Any]]) -> dict[str, Any]:
    """A Dataframe's value with its headers in the reader's language."""
    return {"headers": headers(keys), "data": rows}


def _last(values: list[float]) -> str:
    return text("finetune.cell_loss", loss=values[-1]) if values else ""


def level_word(level: str) -> str:
    key = LEVEL_KEYS.get(level)
    return text(key) if key else level


def event_rows(view: JobView) -> list[list[Any]]:
    """Newest first: time, level, and the line in the reader's language (old rows: their English)."""
    return [[_local(e.at), level_word(e.level), say(e.text)] for e in reversed(view.events)]


def list_row(view: JobView) -> list[Any]:
    c = view.config
    target = "finetune.cell_all_linear" if c.get("target") == "all_linear" else "finetune.cell_attention"
    training = text(
        "finetune.cell_training",
        epochs=float(c.get("epochs", 0)),
        lr=float(c.get("learning_rate", 0)),
        size=view.micro_batch,
        accum=view.grad_accum,
    )
    return [
        view.id,
        view.name,
        view.base_name,
        view.dataset_name,
        preset_of(c),
        text("finetune.cell_lora", r=c.get("r"), alpha=c.get("alpha"), target=Text(target)),
        training,
        text("finetune.cell_speed", speed=view.tokens_per_s) if view.tokens_per_s else "",
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
        text("finetune.figure_step", step=view.step, total=view.total_steps, epoch=float(view.epoch or 0)),
        text("finetune.fig_eta", eta=view.eta_text) if view.eta_text else "",
        text("finetune.figure_speed", speed=view.tokens_per_s) if view.tokens_per_s else "",
        text("finetune.fig_memory", memory=view.peak_memory_text) if view.peak_memory_text else "",
        text("finetune.fig_batch", batch=view.effective_batch, size=view.micro_batch, accum=view.grad_accum),
    ]
    dataset = inert_inline(view.dataset_name or text("finetune.dataset_word"))
    lines = [
        f"### {STATE_ICONS.get(view.status, '')} {inert_inline(view.name)} — {state_word(view.status)}",
        inert_inline(say(view.message)),  # the worker's progress line (a stored Text, or an old row's English)
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
    if view.trainable_share:
        return text("finetune.trainable_share", params=view.trainable_params, share=view.trainable_share)
    return text("finetune.trainable_plain", params=view.trainable_params)
