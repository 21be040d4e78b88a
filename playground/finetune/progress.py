"""What the worker process writes to the database: status, progress, curves, samples, events,
and a heartbeat from a background thread so the app can tell a live worker from a dead one."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from playground.statuses import FinetuneStatus
from storage import UnitOfWork
from storage.orm import utc_now

log = logging.getLogger(__name__)
HEARTBEAT_S = 10.0


class JobReporter:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], job_id: int):
        self.uow_factory = uow_factory
        self.job_id = job_id
        self._stop_beating = threading.Event()
        self._beater: threading.Thread | None = None

    def job(self) -> Any:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(self.job_id)
        if job is None:
            raise LookupError(f"fine-tuning job {self.job_id} does not exist")
        return job

    def set(self, **fields: Any) -> None:
        with self.uow_factory() as uow:
            uow.finetune_jobs.update(self.job_id, heartbeat_at=utc_now(), **fields)

    def mark_running(self) -> None:
        """starting -> running, unless the user pressed Stop meanwhile (then it stays stopping)."""
        with self.uow_factory() as uow:
            uow.finetune_jobs.update_if(self.job_id, [FinetuneStatus.STARTING], status=FinetuneStatus.RUNNING)

    def event(self, text: str, level: str = "info") -> None:
        log.info("job %s: %s", self.job_id, text)
        with self.uow_factory() as uow:
            uow.finetune_jobs.add_event(self.job_id, text, level)

    def start_heartbeat(self) -> None:
        self.set(pid=os.getpid())

        def beat() -> None:
            while not self._stop_beating.wait(HEARTBEAT_S):
                try:
                    with self.uow_factory() as uow:
                        uow.finetune_jobs.heartbeat(self.job_id, utc_now())
                except Exception:
                    log.exception("heartbeat failed")

        self._beater = threading.Thread(target=beat, name="finetune-heartbeat", daemon=True)
        self._beater.start()

    def stop_heartbeat(self) -> None:
        self._stop_beating.set()

    def step_done(self, step: int, loss: float, **progress: Any) -> bool:
        """Record one optimizer step; returns whether the user asked to stop."""
        with self.uow_factory() as uow:
            uow.finetune_jobs.add_metric(self.job_id, step, "train", loss)
            uow.finetune_jobs.update(self.job_id, step=step, heartbeat_at=utc_now(), **progress)
            return uow.finetune_jobs.stop_requested(self.job_id)

    def stop_requested(self) -> bool:
        with self.uow_factory() as uow:
            return uow.finetune_jobs.stop_requested(self.job_id)

    def evaluation(self, step: int, holdout_loss: float | None, samples: Sequence[tuple[str, str]]) -> None:
        with self.uow_factory() as uow:
            if holdout_loss is not None:
                uow.finetune_jobs.add_metric(self.job_id, step, "holdout", holdout_loss)
            uow.finetune_jobs.add_samples(self.job_id, step, samples)

    def rewind_to(self, step: int) -> None:
        with self.uow_factory() as uow:
            uow.finetune_jobs.drop_after(self.job_id, step)

    def finish(self, status: FinetuneStatus, message: str, level: str = "info", **fields: Any) -> None:
        """Final status: one transaction so the app never sees the status without its message."""
        log.info("job %s %s: %s", self.job_id, status, message)
        with self.uow_factory() as uow:
            uow.finetune_jobs.update(
                self.job_id,
                status=status,
                message=message,
                pid=None,
                finished_at=utc_now(),
                heartbeat_at=utc_now(),
                **fields,
            )
            uow.finetune_jobs.add_event(self.job_id, message, level)
