"""Everything the Fine-tune tab shows about one job, as plain values built from its rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from playground.finetune.jobfiles import LOG_FILE
from playground.finetune.tuned_models import finetune_key
from playground.formatting import bytes_text, format_duration
from playground.i18n import Text
from playground.statuses import FinetuneStatus
from playground.stored_text import load

ACTIVE = (FinetuneStatus.PREFLIGHT, FinetuneStatus.STARTING, FinetuneStatus.RUNNING, FinetuneStatus.STOPPING)


@dataclass(frozen=True)
class EventLine:
    at: datetime
    level: str  # info | warning | error
    text: Text | str  # a catalogue Text, or the plain English of a row written before there were keys


@dataclass(frozen=True)
class SampleAnswer:
    step: int
    prompt: str
    answer: str


@dataclass(frozen=True)
class JobSummary:
    id: int
    name: str
    base_name: str
    status: str
    progress: float
    step: int
    total_steps: int
    created_at: datetime


@dataclass(frozen=True)
class JobView:
    id: int
    name: str
    status: str  # a FinetuneStatus value
    message: Text | str  # the worker's progress line: a Text, or plain English (rows written before keys)
    base_key: str
    base_name: str
    prompt_format: str
    dataset_id: int | None
    dataset_name: str
    train_rows: int
    holdout_rows: int
    config: dict[str, Any]
    progress: float  # 0..1
    step: int
    total_steps: int
    checkpoint_step: int
    epoch: float
    eta_s: float | None
    eta_text: str
    tokens_per_s: float | None
    peak_memory_bytes: int | None
    peak_memory_text: Text | str
    device: Text | str  # where training runs: a Text, or plain English (rows written before keys)
    micro_batch: int
    grad_accum: int
    effective_batch: int
    trainable_params: int | None
    total_params: int | None
    trainable_share: float | None  # trainable / total, as PEFT counts them
    preflight: dict[str, Any] | None
    train_steps: list[int] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    holdout_steps: list[int] = field(default_factory=list)
    holdout_losses: list[float] = field(default_factory=list)
    samples: list[SampleAnswer] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)
    model_key: str | None = None  # set once the tuned model can be picked elsewhere
    adapter_path: str | None = None
    export_path: str | None = None
    log_path: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def can_preflight(self) -> bool:
        return self.status == FinetuneStatus.CREATED

    @property
    def can_start(self) -> bool:
        return self.status == FinetuneStatus.CREATED

    @property
    def can_stop(self) -> bool:
        return self.status in (FinetuneStatus.STARTING, FinetuneStatus.RUNNING)

    @property
    def can_resume(self) -> bool:
        return self.status in (FinetuneStatus.STOPPED, FinetuneStatus.FAILED)

    @property
    def can_merge(self) -> bool:
        return self.status == FinetuneStatus.DONE

    @property
    def can_delete(self) -> bool:
        return not self.is_active


def progress_of(step: int, total: int, status: str) -> float:
    if status == FinetuneStatus.DONE:
        return 1.0
    return min(1.0, step / total) if total else 0.0


def summary(job: Any) -> JobSummary:
    return JobSummary(
        id=job.id,
        name=job.name,
        base_name=job.base_name,
        status=job.status,
        progress=progress_of(job.step, job.total_steps, job.status),
        step=job.step,
        total_steps=job.total_steps,
        created_at=job.created_at,
    )


def build_view(job: Any, metrics: list[Any], samples: list[Any], events: list[Any]) -> JobView:
    train = [(m.step, m.loss) for m in metrics if m.kind == "train"]
    holdout = [(m.step, m.loss) for m in metrics if m.kind == "holdout"]
    share = job.trainable_params / job.total_params if job.trainable_params and job.total_params else None
    return JobView(
        id=job.id,
        name=job.name,
        status=job.status,
        message=load(job.message),
        base_key=job.base_model,
        base_name=job.base_name,
        prompt_format=job.prompt_format,
        dataset_id=job.dataset_id,
        dataset_name=job.dataset_name,
        train_rows=job.train_rows,
        holdout_rows=job.holdout_rows,
        config=dict(job.config),
        progress=progress_of(job.step, job.total_steps, job.status),
        step=job.step,
        total_steps=job.total_steps,
        checkpoint_step=job.checkpoint_step,
        epoch=job.epoch,
        eta_s=job.eta_s if job.status in ACTIVE else None,
        eta_text=format_duration(job.eta_s) if job.status in ACTIVE and job.eta_s is not None else "",
        tokens_per_s=job.tokens_per_s,
        peak_memory_bytes=job.peak_memory_bytes,
        peak_memory_text=bytes_text(job.peak_memory_bytes) if job.peak_memory_bytes else "",
        device=load(job.device),
        micro_batch=job.micro_batch,
        grad_accum=job.grad_accum,
        effective_batch=int(job.config.get("batch_size", 1)) * int(job.config.get("grad_accum", 1)),
        trainable_params=job.trainable_params,
        total_params=job.total_params,
        trainable_share=share,
        preflight=job.preflight,
        train_steps=[s for s, _ in train],
        train_losses=[loss for _, loss in train],
        holdout_steps=[s for s, _ in holdout],
        holdout_losses=[loss for _, loss in holdout],
        samples=[SampleAnswer(s.step, s.prompt, s.answer) for s in samples],
        events=[EventLine(e.created_at, e.level, load(e.text)) for e in events],
        model_key=finetune_key(job.id) if job.status == FinetuneStatus.DONE and job.adapter_path else None,
        adapter_path=job.adapter_path,
        export_path=job.export_path,
        log_path=str(Path(job.job_dir) / LOG_FILE) if job.job_dir else "",
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
    )
