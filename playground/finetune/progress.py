"""What the worker process writes to the database: status, progress, curves, samples, events,
and a heartbeat from a background thread (shown in the job's view; liveness itself is the
job's lease, see ``playground.leases``).

Every write of a worker started with a launch token is conditional on the job still
belonging to that launch: once the job was relaunched (or its lease was lost) the worker's
next write raises ``LaunchSuperseded`` and it stops, so two workers never train one job."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from playground.statuses import FinetuneStatus
from playground.stored_text import dump
from storage import UnitOfWork
from storage.orm import utc_now

log = logging.getLogger(__name__)
HEARTBEAT_S = 10.0
LAUNCH_TOKEN_ENV = "PLAYGROUND_LAUNCH_TOKEN"  # how the app hands a worker its launch token


class LaunchSuperseded(Exception):
    """The job no longer belongs to this worker's launch: it must stop without writing."""


class JobReporter:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], job_id: int, launch_token: str | None = None):
        self.uow_factory = uow_factory
        self.job_id = job_id
        self.launch_token = launch_token
        self.lost = threading.Event()  # set when the job's lease was lost: stop at the next write
        # Runs inside the final status's transaction (the worker releases the job's lease there).
        self.on_final: Callable[[UnitOfWork], Any] | None = None
        self._stop_beating = threading.Event()
        self._beater: threading.Thread | None = None

    def _update(self, uow: UnitOfWork, statuses: Sequence[str] | None = None, **fields: Any) -> bool:
        """Write to the job if it is still this launch's; raises LaunchSuperseded when it is not.
        With ``statuses``, a job in another status is left alone (False) rather than an error."""
        if self.lost.is_set():
            raise LaunchSuperseded(f"job {self.job_id}: this worker lost its lease")
        for name in ("message", "device"):  # a Text is stored as its key and values, shown in the reader's language
            if name in fields:
                fields[name] = dump(fields[name])
        if self.launch_token is None:
            if statuses is None:
                uow.finetune_jobs.update(self.job_id, **fields)
                return True
            return uow.finetune_jobs.update_if(self.job_id, statuses, **fields)
        if uow.finetune_jobs.update_for_launch(self.job_id, self.launch_token, statuses, **fields):
            return True
        if statuses is not None and uow.finetune_jobs.update_for_launch(self.job_id, self.launch_token, None):
            return False  # still ours, just in another status
        raise LaunchSuperseded(f"job {self.job_id} was relaunched by another worker")

    def job(self) -> Any:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(self.job_id)
        if job is None:
            raise LookupError(f"fine-tuning job {self.job_id} does not exist")
        return job

    def set(self, **fields: Any) -> None:
        with self.uow_factory() as uow:
            self._update(uow, heartbeat_at=utc_now(), **fields)

    def set_final(self, **fields: Any) -> None:
        """The last write of a run that does not end in ``finish`` (a pre-flight going back to
        "created"): with the release of the job's lease, so a Start right after finds it free."""
        with self.uow_factory() as uow:
            self._update(uow, heartbeat_at=utc_now(), **fields)
            if self.on_final is not None:
                self.on_final(uow)

    def mark_running(self) -> None:
        """starting -> running, unless the user pressed Stop meanwhile (then it stays stopping)."""
        with self.uow_factory() as uow:
            self._update(uow, [FinetuneStatus.STARTING], status=FinetuneStatus.RUNNING)

    def event(self, text: object, level: str = "info") -> None:
        """One line of the job's events: a catalogue Text (stored as its key and values) or plain text."""
        log.info("job %s: %s", self.job_id, text)
        with self.uow_factory() as uow:
            uow.finetune_jobs.add_event(self.job_id, dump(text), level)

    def start_heartbeat(self) -> None:
        self.set(pid=os.getpid())

        def beat() -> None:
            while not self._stop_beating.wait(HEARTBEAT_S):
                try:
                    with self.uow_factory() as uow:
                        self._update(uow, heartbeat_at=utc_now())
                except LaunchSuperseded:
                    return  # the training loop stops at its next write
                except Exception:
                    log.exception("heartbeat failed")

        self._beater = threading.Thread(target=beat, name="finetune-heartbeat", daemon=True)
        self._beater.start()

    def stop_heartbeat(self) -> None:
        self._stop_beating.set()

    def step_done(self, step: int, loss: float, **progress: Any) -> bool:
        """Record one optimizer step; returns whether the user asked to stop."""
        with self.uow_factory() as uow:
            self._update(uow, step=step, heartbeat_at=utc_now(), **progress)
            uow.finetune_jobs.add_metric(self.job_id, step, "train", loss)
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

    def finish(self, status: FinetuneStatus, message: object, level: str = "info", **fields: Any) -> None:
        """Final status: one transaction so the app never sees the status without its message."""
        log.info("job %s %s: %s", self.job_id, status, message)
        with self.uow_factory() as uow:
            self._update(
                uow,
                status=status,
                message=message,
                pid=None,
                finished_at=utc_now(),
                heartbeat_at=utc_now(),
                **fields,
            )
            uow.finetune_jobs.add_event(self.job_id, dump(message), level)
            if self.on_final is not None:
                self.on_final(uow)
