"""Tables of fine-tuning jobs: the job itself (settings, live progress written by the worker
process, stop flag), its loss curves, sample answers and events.

``dataset_id`` is a plain integer, not a foreign key: the datasets table comes from another
migration branch, and a job keeps its own copy of the data in its folder anyway.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base, UtcDateTime, utc_now


class FinetuneJob(Base):
    __tablename__ = "finetune_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    base_model: Mapped[str] = mapped_column(String(1100), nullable=False)  # the registry key of the base model
    base_name: Mapped[str] = mapped_column(String(300), nullable=False)
    base_path: Mapped[str] = mapped_column(Text, nullable=False)  # GGUF file or HF folder, as the registry knows it
    base_folder: Mapped[str] = mapped_column(Text, nullable=False)  # the HF folder training loads
    prompt_format: Mapped[str] = mapped_column(String(32), nullable=False)
    dataset_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dataset_name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    train_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    holdout_rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # created | preflight | starting | running | stopping | stopped | done | failed
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="created", index=True)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    job_dir: Mapped[str] = mapped_column(Text, nullable=False, default="")
    adapter_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    export_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    stop_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Written with the move to "starting" (or "preflight"); only the worker given it may run the job.
    launch_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    checkpoint_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    epoch: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    tokens_seen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tokens_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    eta_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    trainable_params: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    total_params: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    micro_batch: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    grad_accum: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    device: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    preflight: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class FinetuneMetric(Base):
    __tablename__ = "finetune_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("finetune_jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # train | holdout
    loss: Mapped[float] = mapped_column(Float, nullable=False)


class FinetuneSample(Base):
    __tablename__ = "finetune_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("finetune_jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    prompt_index: Mapped[int] = mapped_column(Integer, nullable=False)
    prompt: Mapped[str] = mapped_column(Text, nullable=False)
    answer: Mapped[str] = mapped_column(Text, nullable=False)


class FinetuneEvent(Base):
    __tablename__ = "finetune_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("finetune_jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    level: Mapped[str] = mapped_column(String(16), nullable=False, default="info")  # info | warning | error
    text: Mapped[str] = mapped_column(Text, nullable=False)
