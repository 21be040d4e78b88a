"""Repository for fine-tuning jobs and their metrics, samples and events.

The app and the worker process both write here, each in short transactions: the worker
its progress, the app the stop flag. ``update`` touches only the named columns so neither
overwrites the other's.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.orm_finetune_jobs import FinetuneEvent, FinetuneJob, FinetuneMetric, FinetuneSample

# playground.finetune.job_view.ACTIVE spelled out: storage imports nothing from playground.
ACTIVE_STATUSES = ("preflight", "starting", "running", "stopping")


class FinetuneJobRepository:
    def __init__(self, session: Session):
        self.session = session

    # ---- jobs ----------------------------------------------------------------------
    def add(self, **fields: Any) -> FinetuneJob:
        job = FinetuneJob(**fields)
        self.session.add(job)
        self.session.flush()
        return job

    def get(self, job_id: int) -> FinetuneJob | None:
        return self.session.get(FinetuneJob, job_id)

    def list(self, statuses: Sequence[str] | None = None) -> list[FinetuneJob]:
        query = select(FinetuneJob).order_by(FinetuneJob.created_at.desc(), FinetuneJob.id.desc())
        if statuses is not None:
            query = query.where(FinetuneJob.status.in_(list(statuses)))
        return list(self.session.scalars(query))

    def active(self) -> builtins.list[FinetuneJob]:
        return self.list(ACTIVE_STATUSES)

    def update(self, job_id: int, **fields: Any) -> None:
        self.session.execute(update(FinetuneJob).where(FinetuneJob.id == job_id).values(**fields))

    def update_if(self, job_id: int, statuses: Sequence[str], **fields: Any) -> bool:
        """Change the job only if its status is one of ``statuses`` (a compare-and-set, so two
        clicks or a click racing the worker cannot both win). True if it changed."""
        result = self.session.execute(
            update(FinetuneJob).where(FinetuneJob.id == job_id, FinetuneJob.status.in_(list(statuses))).values(**fields)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # SQLAlchemy types execute(DML) as Result; it is a CursorResult

    def update_for_launch(
        self, job_id: int, launch_token: str | None, statuses: Sequence[str] | None = None, **fields: Any
    ) -> bool:
        """Change the job only while it still belongs to the launch ``launch_token`` (and, with
        ``statuses``, is in one of them): a worker of an older launch, or a clean-up that read
        the job before a new launch, then changes nothing. True if it changed."""
        token_matches = (
            FinetuneJob.launch_token.is_(None) if launch_token is None else FinetuneJob.launch_token == launch_token
        )
        query = update(FinetuneJob).where(FinetuneJob.id == job_id, token_matches)
        if statuses is not None:
            query = query.where(FinetuneJob.status.in_(list(statuses)))
        result = self.session.execute(query.values(**fields))
        return bool(result.rowcount)  # type: ignore[attr-defined]  # execute(DML) gives a CursorResult

    def stop_requested(self, job_id: int) -> bool:
        return bool(self.session.scalar(select(FinetuneJob.stop_requested).where(FinetuneJob.id == job_id)))

    def heartbeat(self, job_id: int, at: datetime) -> None:
        self.update(job_id, heartbeat_at=at)

    def delete(self, job_id: int) -> bool:
        job = self.get(job_id)
        if job is None:
            return False
        self.session.delete(job)
        self.session.flush()
        return True

    def name_taken(self, name: str) -> bool:
        return bool(self.session.scalar(select(func.count()).select_from(FinetuneJob).where(FinetuneJob.name == name)))

    # ---- metrics, samples, events ------------------------------------------------------
    def add_metric(self, job_id: int, step: int, kind: str, loss: float) -> None:
        self.session.add(FinetuneMetric(job_id=job_id, step=step, kind=kind, loss=loss))

    def metrics(self, job_id: int) -> builtins.list[FinetuneMetric]:
        query = (
            select(FinetuneMetric)
            .where(FinetuneMetric.job_id == job_id)
            .order_by(FinetuneMetric.step, FinetuneMetric.id)
        )
        return list(self.session.scalars(query))

    def add_samples(self, job_id: int, step: int, pairs: Sequence[tuple[str, str]]) -> None:
        for index, (prompt, answer) in enumerate(pairs):
            self.session.add(FinetuneSample(job_id=job_id, step=step, prompt_index=index, prompt=prompt, answer=answer))

    def latest_samples(self, job_id: int) -> builtins.list[FinetuneSample]:
        last = select(func.max(FinetuneSample.step)).where(FinetuneSample.job_id == job_id).scalar_subquery()
        query = (
            select(FinetuneSample)
            .where(FinetuneSample.job_id == job_id, FinetuneSample.step == last)
            .order_by(FinetuneSample.prompt_index)
        )
        return list(self.session.scalars(query))

    def add_event(self, job_id: int, text: str, level: str = "info", at: datetime | None = None) -> None:
        fields: dict[str, Any] = {"job_id": job_id, "text": text, "level": level}
        if at is not None:
            fields["created_at"] = at
        self.session.add(FinetuneEvent(**fields))

    def events(self, job_id: int) -> builtins.list[FinetuneEvent]:
        query = (
            select(FinetuneEvent)
            .where(FinetuneEvent.job_id == job_id)
            .order_by(FinetuneEvent.created_at, FinetuneEvent.id)
        )
        return list(self.session.scalars(query))

    def drop_after(self, job_id: int, step: int) -> None:
        """Forget metrics and samples past ``step``: a resumed run redoes those steps."""
        for table in (FinetuneMetric, FinetuneSample):
            self.session.execute(delete(table).where(table.job_id == job_id, table.step > step))
