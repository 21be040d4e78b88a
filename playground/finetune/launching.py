"""Starting, stopping, resuming and watching fine-tuning workers, for ``FinetuneService``.

Each launch writes a fresh launch token and takes the job's lease in the same transaction as
the move to "starting"; the worker adopts that lease and renews it, and refuses to run unless the
job's token is its own. ``reconcile`` fails only jobs whose lease expired (or whose holder is a
process on this machine that is gone), never one a live worker elsewhere is training.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playground.errors import InvalidInput
from playground.finetune.job_labels import state_said
from playground.finetune.job_view import JobView
from playground.finetune.jobfiles import LOG_FILE
from playground.finetune.preparation import preparing_message
from playground.finetune.progress import LAUNCH_TOKEN_ENV
from playground.i18n import Text, t
from playground.leases import LeaseInfo, Leases, new_token
from playground.models.registry import ModelRegistry
from playground.settings import Settings
from playground.statuses import FinetuneStatus
from playground.stored_text import dump
from storage import UnitOfWork
from storage.orm import utc_now
from storage.orm_leases import LEASE_FINETUNE

log = logging.getLogger("playground.finetune.jobs")
REPO_ROOT = Path(__file__).resolve().parents[2]


def pid_alive(pid: int | None) -> bool:
    """True if the process exists and is not a zombie (a dead child nobody has reaped yet)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


class JobLifecycle:
    """Mixed into ``FinetuneService``: the worker processes and the job states they move through."""

    settings: Settings
    registry: ModelRegistry
    uow_factory: Callable[[], UnitOfWork]
    leases: Leases
    _procs: dict[int, subprocess.Popen]
    _launch_tokens: dict[int, str]
    _lock: threading.Lock

    if TYPE_CHECKING:

        def job_view(self, job_id: int) -> JobView: ...

    def _launch(self, job_id: int, preflight: bool, token: str) -> None:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        # Every caller has just moved the job into an active status, and active jobs cannot be deleted.
        assert job is not None
        folder = Path(job.job_dir)
        env = dict(os.environ)
        env["PLAYGROUND_HOME"] = str(self.settings.home)
        env["DATABASE_URL"] = self.settings.database_url
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env[LAUNCH_TOKEN_ENV] = token
        env["PLAYGROUND_LEASE_SECONDS"] = str(self.settings.lease_seconds)
        command = [sys.executable, "-m", "playground.finetune.worker", str(job_id)] + (
            ["--preflight"] if preflight else []
        )
        try:
            with (folder / LOG_FILE).open("ab") as log_file:  # the child keeps its own handle; never a pipe
                proc = subprocess.Popen(
                    command,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    env=env,
                    cwd=str(folder),
                )
        except OSError as err:
            text = t("finetune.msg_cannot_launch", error=str(err))
            with self.uow_factory() as uow:
                status = FinetuneStatus.CREATED if preflight else FinetuneStatus.FAILED
                uow.finetune_jobs.update_for_launch(job_id, token, status=status, message=dump(text))
                uow.finetune_jobs.add_event(job_id, dump(text), "error")
                uow.leases.release(LEASE_FINETUNE, job_id, token)
            raise InvalidInput(text) from err
        with self._lock:
            self._procs[job_id] = proc
            self._launch_tokens[job_id] = token
        with self.uow_factory() as uow:
            uow.finetune_jobs.update_for_launch(job_id, token, pid=proc.pid, heartbeat_at=utc_now())
        log.info("Started fine-tuning worker %s for job %s%s", proc.pid, job_id, " (pre-flight)" if preflight else "")

    def _claim_launch(self, job_id: int, allowed: Sequence[str], refusal: str, **fields: Any) -> str:
        """Move the job into an active status, with a fresh launch token and the job's lease, in
        one transaction; returns the token. Refused while a live worker still holds the job (a
        previous run winding down, or one started from another process)."""
        token = new_token()
        with self.uow_factory() as uow:
            if uow.finetune_jobs.update_if(job_id, allowed, launch_token=token, pid=None, **fields):
                lease = self.leases.take_in(uow, LEASE_FINETUNE, job_id, token=token)
                if lease is None:
                    uow.rollback()
                    raise InvalidInput(t("finetune.still_working"))
                lease.wanted = lambda: self._child_running(job_id, token)
            else:
                lease, job = None, uow.finetune_jobs.get(job_id)
        if lease is not None:
            self.leases.keep(lease)  # the app renews it until the worker adopts it
            return token
        if job is None:
            raise InvalidInput(t("finetune.job_missing", job=job_id))
        raise InvalidInput(t(refusal, name=job.name, status=state_said(job.status)))

    def _child_running(self, job_id: int, token: str) -> bool:
        """Whether the worker this process launched with ``token`` may still come to adopt its lease."""
        with self._lock:
            proc = self._procs.get(job_id) if self._launch_tokens.get(job_id) == token else None
        return proc is None or proc.poll() is None  # None: Popen has not returned yet

    def _transition(self, job_id: int, allowed: Sequence[str], refusal: str, **fields: Any) -> None:
        with self.uow_factory() as uow:
            if uow.finetune_jobs.update_if(job_id, allowed, **fields):
                return
            job = uow.finetune_jobs.get(job_id)
        if job is None:
            raise InvalidInput(t("finetune.job_missing", job=job_id))
        raise InvalidInput(t(refusal, name=job.name, status=state_said(job.status)))

    def preflight(self, job_id: int, wait: bool = True, timeout_s: float = 900.0) -> JobView:
        """A few real steps in the worker: measured tokens/s, peak memory and the run's ETA."""
        token = self._claim_launch(
            job_id,
            [FinetuneStatus.CREATED],
            "finetune.cannot_preflight",
            status=FinetuneStatus.PREFLIGHT,
            message=dump(self._first_stage(job_id)),
        )
        self._launch(job_id, preflight=True, token=token)
        return self.wait(job_id, timeout_s) if wait else self.job_view(job_id)

    def start(self, job_id: int) -> JobView:
        token = self._claim_launch(
            job_id,
            [FinetuneStatus.CREATED],
            "finetune.cannot_start",
            status=FinetuneStatus.STARTING,
            stop_requested=False,
            message=dump(self._first_stage(job_id)),
        )
        self._launch(job_id, preflight=False, token=token)
        return self.job_view(job_id)

    def _first_stage(self, job_id: int, resuming: bool = False) -> Text | str:
        """What the worker about to start does first (convert or load the base), so the job says
        it from the moment Start returns; on a resume, and from which step training goes on."""
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None:
            return ""
        first = preparing_message(job.base_path, job.base_folder)
        if resuming and job.checkpoint_step:
            return t("finetune.msg_then_resumes", first=first, step=job.checkpoint_step)
        return first

    def resume(self, job_id: int) -> JobView:
        token = self._claim_launch(
            job_id,
            [FinetuneStatus.STOPPED, FinetuneStatus.FAILED],
            "finetune.cannot_resume",
            status=FinetuneStatus.STARTING,
            stop_requested=False,
            finished_at=None,
            message=dump(self._first_stage(job_id, resuming=True)),
        )
        self._launch(job_id, preflight=False, token=token)
        return self.job_view(job_id)

    def stop(self, job_id: int) -> JobView:
        """Ask the worker to stop after its current step; it saves a checkpoint first. While it is
        still preparing the base (no step has run), it stops at once."""
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
            if job is not None and job.status == FinetuneStatus.STOPPING:
                return self.job_view(job_id)
        preparing = job is not None and job.status == FinetuneStatus.STARTING  # the worker ends at once then
        self._transition(
            job_id,
            [FinetuneStatus.STARTING, FinetuneStatus.RUNNING],
            "finetune.cannot_stop",
            status=FinetuneStatus.STOPPING,
            stop_requested=True,
            message=dump(t("finetune.msg_stopping_preparing" if preparing else "finetune.msg_stopping")),
        )
        return self.job_view(job_id)

    def wait(self, job_id: int, timeout_s: float = 900.0, poll_s: float = 0.5) -> JobView:
        """Block until the job is no longer active (or the timeout passes); for scripts and tests."""
        deadline = time.monotonic() + timeout_s
        while True:
            view = self.job_view(job_id)
            if not view.is_active or time.monotonic() > deadline:
                return view
            proc = self._procs.get(job_id)
            if proc is not None and proc.poll() is not None:
                time.sleep(poll_s)  # the worker may have written its last words just now
                self.reconcile()
                return self.job_view(job_id)
            time.sleep(poll_s)

    def terminate_workers(self) -> int:
        """Kill the workers this service started that still run (tests, a deliberate shutdown);
        closing the app does not call this: training outlives the app by design."""
        killed = 0
        with self._lock:
            for proc in self._procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    killed += 1
        return killed

    # ---- watching ----------------------------------------------------------------------
    def reconcile(self) -> list[int]:
        """Mark jobs whose worker is gone as failed (a pre-flight goes back to created); returns
        their ids. Gone means: its lease expired, or its holder is a process on this machine
        that no longer exists, or it is a worker this process started that has exited."""
        with self._lock:
            for proc in self._procs.values():
                proc.poll()  # reap finished children so their pids stop looking alive
        marked: list[int] = []
        with self.uow_factory() as uow:
            jobs = uow.finetune_jobs.active()
            # Read after the jobs: a launch commits its job and lease together, so a job seen
            # active here has its lease by now (reading the leases first could miss a new one).
            leases = self.leases.all(uow, LEASE_FINETUNE)
        for job in jobs:
            reason = self._why_dead(job, leases.get(job.id))
            if reason is None:
                continue
            fields: dict[str, Any]
            if job.status == FinetuneStatus.PREFLIGHT:
                said = t("finetune.msg_preflight_died", reason=reason)
                fields = {"status": FinetuneStatus.CREATED, "message": dump(said)}
            else:
                said = t("finetune.msg_worker_died", reason=reason, step=job.checkpoint_step)
                fields = {"status": FinetuneStatus.FAILED, "message": dump(said), "finished_at": utc_now()}
            with self.uow_factory() as uow:
                jobs_repo = uow.finetune_jobs
                if jobs_repo.update_for_launch(
                    job.id, job.launch_token, [job.status], pid=None, stop_requested=False, **fields
                ):
                    jobs_repo.add_event(job.id, fields["message"], "error")
                    if job.launch_token:  # a worker that was only late finds its lease gone and stops
                        uow.leases.release(LEASE_FINETUNE, job.id, job.launch_token)
                    marked.append(job.id)
        return marked

    def _why_dead(self, job: Any, lease: LeaseInfo | None) -> Text | str | None:
        with self._lock:
            proc = self._procs.get(job.id) if self._launch_tokens.get(job.id) == job.launch_token else None
        if proc is not None and proc.returncode is not None:
            return t("finetune.reason_worker_exited", code=proc.returncode)
        return self.leases.is_dead(lease)
