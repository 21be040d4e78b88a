"""FinetuneService: create, measure, start, stop, resume, watch, merge and delete fine-tuning jobs.

Training never runs in the app process: each job runs as ``python -m
playground.finetune.worker JOB_ID`` in its own session, logging to a file in the job folder,
and the two talk through the database. ``reconcile`` (run when the app starts) marks jobs
whose worker died as failed, so none shows "running" forever; Resume picks up from the last
checkpoint.

Several app processes (or replicas on one PostgreSQL) may share the jobs. Each launch writes
a fresh launch token and takes the job's lease in the same transaction as the move to
"starting"; the worker adopts that lease and renews it, and refuses to run unless the job's
token is its own. ``reconcile`` fails only jobs whose lease expired (or whose holder is a
process on this machine that is gone), never one a live worker elsewhere is training.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from playground.errors import InvalidInput, ModelNotFound
from playground.finetune.config import TrainingConfig, total_steps, validate
from playground.finetune.gguf_manifest import gguf_root, job_exports_dir, remove_job_exports
from playground.finetune.gguf_quantize import QUANT_TYPES
from playground.finetune.job_labels import state_said
from playground.finetune.job_view import ACTIVE, JobSummary, JobView, build_view, summary
from playground.finetune.jobfiles import HOLDOUT_FILE, TRAIN_FILE, job_dir, write_examples
from playground.finetune.launching import JobLifecycle, pid_alive  # noqa: F401 - pid_alive: tests import it here
from playground.finetune.preparation import base_folder_for, is_gguf
from playground.finetune.tuned_models import finetune_key, gguf_key
from playground.i18n import Text, t
from playground.leases import Leases
from playground.models.embedded import resolve_model_path
from playground.models.gguf_convert import convert_gguf
from playground.models.prompt_formats import CHAT_TEMPLATE, Example, check_format
from playground.models.registry import ModelRegistry
from playground.models.types import BackendKind, ModelSource, ModelSpec
from playground.models.validation import validate_name
from playground.settings import Settings
from playground.statuses import FinetuneStatus
from playground.stored_text import dump
from storage import UnitOfWork
from storage.orm_leases import LEASE_FINETUNE, LEASE_GGUF_EXPORT

log = logging.getLogger(__name__)


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
    def text(self) -> Text:
        """ "12,345 trainable parameters of 1,234,567 (1.00%)", in the reader's number format."""
        return t("finetune.trainable_count", trainable=self.trainable, total=self.total, share=self.share)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "model"


class FinetuneService(JobLifecycle):
    def __init__(self, settings: Settings, registry: ModelRegistry, uow_factory: Callable[[], UnitOfWork]):
        self.settings = settings
        self.registry = registry
        self.uow_factory = uow_factory
        self._procs: dict[int, subprocess.Popen] = {}
        self._launch_tokens: dict[int, str] = {}  # the launch each of self._procs was started for
        self.leases = Leases(uow_factory, settings.lease_seconds)
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

        key = (base_key or "").strip()
        if key in self._bases:
            return self._bases[key]
        base = self.locate_base(key)
        if is_gguf(Path(base.path)):
            folder = convert_gguf(Path(base.path), self.settings.cache_dir)
            base = replace(base, folder=check_causal_lm_folder(folder))
        self._bases[key] = base
        return base

    def locate_base(self, base_key: str) -> BaseModel:
        """The base model and the HF folder training will load, without converting a GGUF (20-45 s
        on first use): the worker converts it as the job's first stage, so Start returns at once."""
        from playground.finetune.modeling import check_causal_lm_folder

        key = (base_key or "").strip()
        if not key:
            raise InvalidInput(t("finetune.pick_base"))
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
            return BaseModel(key=str(folder), name=folder.name, path=str(folder), folder=folder)
        if spec.is_remote:
            raise InvalidInput(t("finetune.hosted_base", name=spec.name))
        if spec.adapter_path:
            raise InvalidInput(t("finetune.has_adapter", name=spec.name))
        path = (
            Path(spec.path) / spec.gguf_file
            if spec.path and spec.gguf_file
            else resolve_model_path(spec, self.settings.cache_dir)
        )
        folder = base_folder_for(path, self.settings.cache_dir)
        return BaseModel(
            key=key, name=spec.name, path=str(path), folder=folder if is_gguf(path) else check_causal_lm_folder(folder)
        )

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
        """The job, in state 'created'. Quick: a GGUF base is converted (and the parameters are
        counted, unless "Check" already did) by the worker, as the first stage of its run."""
        from playground.finetune.modeling import placement

        name = validate_name(name, "fine-tuned model")
        config = validate(config)
        _check_training_set(train_examples)
        base = self.locate_base(base_key)
        self._check_format(prompt_format, base)
        count = self._counts.get((str(base.folder), config.r, config.target))
        with self.uow_factory() as uow:
            if uow.finetune_jobs.name_taken(name):
                raise InvalidInput(t("finetune.tuned_name_exists", name=name))
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
                message=dump(t("finetune.msg_ready")),
                total_steps=total_steps(len(train_examples), config),
                micro_batch=config.batch_size,
                grad_accum=config.grad_accum,
                trainable_params=count.trainable if count else None,
                total_params=count.total if count else None,
                device=dump(placement(config).note),
                stop_requested=False,
            )
            job.job_dir = str(self._write_examples(job.id, train_examples, holdout_examples))
            uow.finetune_jobs.add_event(job.id, dump(_created_event(len(train_examples), len(holdout_examples), count)))
            return job.id

    def _write_examples(self, job_id: int, train: Sequence[Example], holdout: Sequence[Example]) -> Path:
        """The job's folder with its training and holdout examples (what the worker reads)."""
        folder = job_dir(self.settings.home, job_id)
        shutil.rmtree(folder, ignore_errors=True)  # a leftover of a deleted job with the same id
        folder.mkdir(parents=True)
        write_examples(folder / TRAIN_FILE, train)
        write_examples(folder / HOLDOUT_FILE, holdout)
        return folder

    def _check_format(self, prompt_format: str, base: BaseModel) -> None:
        """Refuse the chat-template format for a base without a template; only the tokenizer is read
        (from the GGUF itself while its folder is not converted yet)."""
        if check_format(prompt_format) != CHAT_TEMPLATE:
            return
        from playground.finetune.tokenizers import load_tokenizer, tokenizer_for

        try:
            tokenizer = tokenizer_for(self.registry, base.key)
        except ModelNotFound:  # a model folder given by its path, not a registry key
            tokenizer = load_tokenizer(base.folder, self.settings.cache_dir, base.name)
        check_format(prompt_format, tokenizer)

    # ---- watching (starting and stopping: launching.JobLifecycle) ---------------------
    def list_jobs(self) -> list[JobSummary]:
        with self.uow_factory() as uow:
            return [summary(job) for job in uow.finetune_jobs.list()]

    def job_view(self, job_id: int) -> JobView:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
            if job is None:
                raise InvalidInput(t("finetune.job_missing", job=job_id))
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

    # ---- afterwards --------------------------------------------------------------------
    def merge_export(self, job_id: int) -> Path:
        """Merge the adapter into an fp32 copy of the base and save a full model folder."""
        from playground.finetune.merge import merge_adapter

        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None or job.status != FinetuneStatus.DONE or not job.adapter_path:
            raise InvalidInput(t("finetune.merge_unfinished"))
        base_folder = Path(job.base_folder)
        if not base_folder.is_dir():  # the conversion cache was cleared: convert again
            base_folder = self.resolve_base(job.base_model).folder
        target = self.settings.home / "exports" / "finetune" / _slug(f"{job.base_name}-{job.name}")
        merge_adapter(base_folder, Path(job.adapter_path), target)
        with self.uow_factory() as uow:
            uow.finetune_jobs.update(job_id, export_path=str(target))
            uow.finetune_jobs.add_event(job_id, dump(t("finetune.ev_merged", path=str(target))))
        return target

    def delete(self, job_id: int) -> Text:
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None:
            raise InvalidInput(t("finetune.job_missing", job=job_id))
        if job.status in ACTIVE:
            raise InvalidInput(t("finetune.delete_active", name=job.name, status=state_said(job.status)))
        if self.leases.holder(LEASE_GGUF_EXPORT, job_id) is not None:
            raise InvalidInput(t("export.delete_while_exporting", name=job.name))
        for key in (finetune_key(job_id), *(gguf_key(job_id, quant) for quant in QUANT_TYPES)):
            self.registry.forget(key)
        if job.job_dir:
            shutil.rmtree(job.job_dir, ignore_errors=True)
        remove_job_exports(job_exports_dir(gguf_root(self.settings.home), job.id, job.base_name, job.name))
        with self.uow_factory() as uow:
            uow.finetune_jobs.delete(job_id)
            uow.leases.drop(LEASE_FINETUNE, job_id)
            uow.leases.drop(LEASE_GGUF_EXPORT, job_id)
        self._procs.pop(job_id, None)
        return t("finetune.job_deleted", name=job.name)


def _check_training_set(train_examples: Sequence[Example]) -> None:
    if not train_examples:
        raise InvalidInput(t("finetune.training_set_empty"))
    if not any(e.output.strip() for e in train_examples):
        raise InvalidInput(t("finetune.empty_answers"))


def _created_event(train: int, holdout: int, count: TrainableCount | None) -> Text:
    if count:
        return t("finetune.ev_created_counted", train=train, holdout=holdout, count=count.text)
    return t("finetune.ev_created", train=train, holdout=holdout)
