"""FinetuneService: create, measure, start, stop, resume, watch, merge and delete fine-tuning jobs.

Training never runs in the app process: each job runs as ``python -m
playground.finetune.worker JOB_ID`` in its own session, logging to a file in the job folder,
and the two talk through the database. ``reconcile`` (run when the app starts) marks jobs
whose worker died as failed, so none shows "running" forever; Resume picks up from the last
checkpoint.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput, ModelNotFound
from playground.finetune.config import TrainingConfig, total_steps, validate
from playground.finetune.job_view import ACTIVE, JobSummary, JobView, build_view, summary
from playground.finetune.jobfiles import HOLDOUT_FILE, LOG_FILE, TRAIN_FILE, job_dir, write_examples
from playground.finetune.tuned_models import finetune_key
from playground.models.embedded import resolve_model_path
from playground.models.prompt_formats import Example, check_format
from playground.models.registry import ModelRegistry
from playground.models.types import BackendKind, ModelSource, ModelSpec
from playground.models.validation import validate_name
from playground.settings import Settings
from playground.statuses import FinetuneStatus
from storage import UnitOfWork
from storage.orm import utc_now

log = logging.getLogger(__name__)
STALE_HEARTBEAT_S = 120.0  # the worker beats every 10 s; two minutes of silence means it is gone
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BaseModel:
    key: str
    name: str
    path: str  # GGUF file or HF folder, as the registry knows it
    folder: Path  # the HF folder training loads


@dataclass(frozen=True)
class TrainableCount:
    trainable: int
    total: int

    @property
    def share(self) -> float:
        return self.trainable / self.total if self.total else 0.0

    @property
    def text(self) -> str:
        return f"{self.trainable:,} trainable parameters of {self.total:,} ({self.share:.2%})"


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


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "model"


class FinetuneService:
    def __init__(self, settings: Settings, registry: ModelRegistry, uow_factory: Callable[[], UnitOfWork]):
        self.settings = settings
        self.registry = registry
        self.uow_factory = uow_factory
        self._procs: dict[int, subprocess.Popen] = {}
        self._bases: dict[str, BaseModel] = {}
        self._counts: dict[tuple[str, int, str], TrainableCount] = {}
        self._lock = threading.Lock()

    # ---- base models ----------------------------------------------------------------
    def base_choices(self) -> list[tuple[str, str]]:
        """(name, key) of every model whose weights are on this machine and can be tuned."""
        return [
            (s.name, s.key)
            for s in self.registry.list_specs()
            if s.backend != BackendKind.OPENAI and not s.adapter_path and s.source != ModelSource.FINETUNED
        ]

    def resolve_base(self, base_key: str) -> BaseModel:
        """The base model's HF folder (a GGUF is converted once and cached), checked to be a causal LM."""
        from playground.finetune.modeling import check_causal_lm_folder
        from playground.models.transformers_backend import TransformersBackend

        key = (base_key or "").strip()
        if not key:
            raise InvalidInput("Pick a base model first.")
        if key in self._bases:
            return self._bases[key]
        try:
            spec: ModelSpec | None = self.registry.get_spec(key)
        except ModelNotFound:
            spec = None
            if not Path(key).expanduser().is_dir():
                raise
        if spec is None:
            folder = check_causal_lm_folder(key)
            base = BaseModel(key=str(folder), name=folder.name, path=str(folder), folder=folder)
        else:
            if spec.is_remote:
                raise InvalidInput(
                    f"{spec.name} is a hosted endpoint: only models whose weights are on this machine can be fine-tuned."
                )
            if spec.adapter_path:
                raise InvalidInput(f"{spec.name} already has an adapter. Pick its base model instead.")
            path = (
                Path(spec.path) / spec.gguf_file
                if spec.path and spec.gguf_file
                else resolve_model_path(spec, self.settings.cache_dir)
            )
            backend = TransformersBackend(spec, cache_dir=self.settings.cache_dir, model_path=path)
            folder = check_causal_lm_folder(backend.model_folder())
            base = BaseModel(key=key, name=spec.name, path=str(path), folder=folder)
        self._bases[key] = base
        return base

    def trainable_params(self, base_key: str, config: TrainingConfig) -> TrainableCount:
        """What PEFT would train, counted on the meta device (no weights are read)."""
        from playground.finetune.modeling import count_trainable

        config = validate(config)
        base = self.resolve_base(base_key)
        cache_key = (str(base.folder), config.r, config.target)
        if cache_key not in self._counts:
            self._counts[cache_key] = TrainableCount(*count_trainable(base.folder, config))
        return self._counts[cache_key]

    # ---- creating ----------------------------------------------------------------------
    def create_job(
        self,
        name: str,
        base_key: str,
        prompt_format: str,
        config: TrainingConfig,
        train_examples: Sequence[Example],
        holdout_examples: Sequence[Example] = (),
        dataset_id: int | None = None,
        dataset_name: str = "",
    ) -> int:
        from transformers import AutoTokenizer

        from playground.finetune.modeling import placement

        name = validate_name(name, "fine-tuned model")
        config = validate(config)
        if not train_examples:
            raise InvalidInput("The training set is empty. Add examples (a few dozen at least) before starting.")
        if not any(e.output.strip() for e in train_examples):
            raise InvalidInput("Every training example has an empty answer, so there is nothing to learn.")
        base = self.resolve_base(base_key)
        check_format(prompt_format, AutoTokenizer.from_pretrained(str(base.folder)))
        count = self.trainable_params(base_key, config)
        with self.uow_factory() as uow:
            if uow.finetune_jobs.name_taken(name):
                raise InvalidInput(f"A fine-tuned model named {name!r} already exists. Choose another name.")
            job = uow.finetune_jobs.add(
                name=name,
                base_model=base.key,
                base_name=base.name,
                base_path=base.path,
                base_folder=str(base.folder),
                prompt_format=prompt_format,
                dataset_id=dataset_id,
                dataset_name=dataset_name or "",
                train_rows=len(train_examples),
                holdout_rows=len(holdout_examples),
                config=config.to_dict(),
                status=FinetuneStatus.CREATED,
                message="Ready: run the pre-flight or start training.",
                total_steps=total_steps(len(train_examples), config),
                micro_batch=config.batch_size,
                grad_accum=config.grad_accum,
                trainable_params=count.trainable,
                total_params=count.total,
                device=placement(config).note,
                stop_requested=False,
            )
            folder = job_dir(self.settings.home, job.id)
            shutil.rmtree(folder, ignore_errors=True)  # a leftover of a deleted job with the same id
            folder.mkdir(parents=True)
            write_examples(folder / TRAIN_FILE, train_examples)
            write_examples(folder / HOLDOUT_FILE, holdout_examples)
            job.job_dir = str(folder)
            uow.finetune_jobs.add_event(
                job.id,
                f"Created with {len(train_examples)} training and {len(holdout_examples)} holdout examples; {count.text}.",
            )
            return job.id

    # ---- running -----------------------------------------------------------------------
    def _launch(self, job_id: int, preflight: bool) -> None:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        # Every caller has just moved the job into an active status, and active jobs cannot be deleted.
        assert job is not None
        folder = Path(job.job_dir)
        env = dict(os.environ)
        env["PLAYGROUND_HOME"] = str(self.settings.home)
        env["DATABASE_URL"] = self.settings.database_url
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
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
            text = f"Could not start the training process ({err})."
            with self.uow_factory() as uow:
                uow.finetune_jobs.update(
                    job_id, status=FinetuneStatus.CREATED if preflight else FinetuneStatus.FAILED, message=text
                )
                uow.finetune_jobs.add_event(job_id, text, "error")
            raise InvalidInput(text) from err
        with self._lock:
            self._procs[job_id] = proc
        with self.uow_factory() as uow:
            uow.finetune_jobs.update(job_id, pid=proc.pid, heartbeat_at=utc_now())
        log.info("Started fine-tuning worker %s for job %s%s", proc.pid, job_id, " (pre-flight)" if preflight else "")

    def _transition(self, job_id: int, allowed: Sequence[str], what: str, **fields: Any) -> None:
        with self.uow_factory() as uow:
            if uow.finetune_jobs.update_if(job_id, allowed, **fields):
                return
            job = uow.finetune_jobs.get(job_id)
        if job is None:
            raise InvalidInput(f"There is no fine-tuning job #{job_id}.")
        raise InvalidInput(f"The job {job.name!r} is {job.status}, so it cannot {what} now.")

    def preflight(self, job_id: int, wait: bool = True, timeout_s: float = 900.0) -> JobView:
        """A few real steps in the worker: measured tokens/s, peak memory and the run's ETA."""
        self._transition(
            job_id,
            [FinetuneStatus.CREATED],
            "run a pre-flight",
            status=FinetuneStatus.PREFLIGHT,
            message="Pre-flight: measuring a few real steps…",
        )
        self._launch(job_id, preflight=True)
        return self.wait(job_id, timeout_s) if wait else self.job_view(job_id)

    def start(self, job_id: int) -> JobView:
        self._transition(
            job_id,
            [FinetuneStatus.CREATED],
            "start",
            status=FinetuneStatus.STARTING,
            stop_requested=False,
            message="Starting the worker…",
        )
        self._launch(job_id, preflight=False)
        return self.job_view(job_id)

    def resume(self, job_id: int) -> JobView:
        self._transition(
            job_id,
            [FinetuneStatus.STOPPED, FinetuneStatus.FAILED],
            "resume",
            status=FinetuneStatus.STARTING,
            stop_requested=False,
            finished_at=None,
            message="Resuming from the last checkpoint…",
        )
        self._launch(job_id, preflight=False)
        return self.job_view(job_id)

    def stop(self, job_id: int) -> JobView:
        """Ask the worker to stop after its current step; it saves a checkpoint first."""
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
            if job is not None and job.status == FinetuneStatus.STOPPING:
                return self.job_view(job_id)
        self._transition(
            job_id,
            [FinetuneStatus.STARTING, FinetuneStatus.RUNNING],
            "be stopped",
            status=FinetuneStatus.STOPPING,
            stop_requested=True,
            message="Stopping after the current step…",
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
    def list_jobs(self) -> list[JobSummary]:
        with self.uow_factory() as uow:
            return [summary(job) for job in uow.finetune_jobs.list()]

    def job_view(self, job_id: int) -> JobView:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
            if job is None:
                raise InvalidInput(f"There is no fine-tuning job #{job_id}.")
            repo = uow.finetune_jobs
            return build_view(job, repo.metrics(job_id), repo.latest_samples(job_id), repo.events(job_id))

    def list_views(self) -> list[JobView]:
        """The full view of every job, newest first (the table of all runs)."""
        return [self.job_view(job.id) for job in self.list_jobs()]

    def poll(self, job_id: int | None) -> JobView | None:
        """The job's view (None without a job) after marking dead workers failed, so a watched
        job never stays "running"."""
        self.reconcile()
        return self.job_view(job_id) if job_id is not None else None

    def job_to_watch(self) -> int | None:
        """The job a freshly opened page shows: the most recent active one, else the newest."""
        self.reconcile()
        jobs = self.list_jobs()
        active = [job for job in jobs if job.status in ACTIVE]
        return (active or jobs)[0].id if jobs else None

    def reconcile(self) -> list[int]:
        """Mark jobs whose worker is gone (or silent for two minutes) as failed; returns their ids."""
        with self._lock:
            for proc in self._procs.values():
                proc.poll()  # reap finished children so their pids stop looking alive
        marked: list[int] = []
        with self.uow_factory() as uow:
            jobs = uow.finetune_jobs.active()
        for job in jobs:
            reason = self._why_dead(job)
            if reason is None:
                continue
            fields: dict[str, Any]
            if job.status == FinetuneStatus.PREFLIGHT:
                fields = {
                    "status": FinetuneStatus.CREATED,
                    "message": f"The pre-flight stopped unexpectedly ({reason}). Run it again or start training.",
                }
            else:
                fields = {
                    "status": FinetuneStatus.FAILED,
                    "message": f"The training process stopped unexpectedly ({reason}). Resume continues from step {job.checkpoint_step}.",
                    "finished_at": utc_now(),
                }
            with self.uow_factory() as uow:
                if uow.finetune_jobs.update_if(job.id, [job.status], pid=None, stop_requested=False, **fields):
                    uow.finetune_jobs.add_event(job.id, fields["message"], "error")
                    marked.append(job.id)
        return marked

    def _why_dead(self, job: Any) -> str | None:
        proc = self._procs.get(job.id)
        if proc is not None and proc.returncode is not None:
            return f"the worker exited with code {proc.returncode}"
        if not pid_alive(job.pid):
            return f"its process {job.pid} is gone" if job.pid else "no process was running it"
        if job.heartbeat_at is None or (utc_now() - job.heartbeat_at).total_seconds() > STALE_HEARTBEAT_S:
            return f"no sign of life for over {STALE_HEARTBEAT_S:.0f} seconds"
        return None

    # ---- afterwards --------------------------------------------------------------------
    def merge_export(self, job_id: int) -> Path:
        """Merge the adapter into an fp32 copy of the base and save a full model folder."""
        from playground.finetune.merge import merge_adapter

        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None or job.status != FinetuneStatus.DONE or not job.adapter_path:
            raise InvalidInput("Only a finished fine-tuning job can be merged and exported.")
        base_folder = Path(job.base_folder)
        if not base_folder.is_dir():  # the conversion cache was cleared: convert again
            base_folder = self.resolve_base(job.base_model).folder
        target = self.settings.home / "exports" / "finetune" / _slug(f"{job.base_name}-{job.name}")
        merge_adapter(base_folder, Path(job.adapter_path), target)
        with self.uow_factory() as uow:
            uow.finetune_jobs.update(job_id, export_path=str(target))
            uow.finetune_jobs.add_event(job_id, f"Merged into a full model folder at {target}.")
        return target

    def delete(self, job_id: int) -> str:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None:
            raise InvalidInput(f"There is no fine-tuning job #{job_id}.")
        if job.status in ACTIVE:
            raise InvalidInput(f"{job.name!r} is {job.status}. Stop it before deleting it.")
        self.registry.forget(finetune_key(job_id))
        if job.job_dir:
            shutil.rmtree(job.job_dir, ignore_errors=True)
        with self.uow_factory() as uow:
            uow.finetune_jobs.delete(job_id)
        self._procs.pop(job_id, None)
        return f"Deleted {job.name!r} and its files. A merged export, if any, is kept."
