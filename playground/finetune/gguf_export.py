"""GGUF export of a finished fine-tuning job: merge → f16 GGUF → quantise → load check → publish.

1. merge: the adapter into an fp32 copy of the base (``FinetuneService.merge_export``; a merged
   folder already there is reused);
2. convert: llama.cpp's converter writes an f16 GGUF (a child process, killed on Stop);
3. quantise: llama.cpp's quantiser makes the chosen type from it (a child process too);
4. check: the tuned model and the exported file answer the holdout prompts greedily, each on
   the app's own backend (transformers, llama.cpp); llama.cpp loading the file is the load check;
5. publish: an Ollama Modelfile and the manifest are written in the staging folder, which then
   takes its type's name (``playground.finetune.gguf_manifest``).

The registry lists each published export as ``finetune/<id>/gguf/<TYPE>``. One export of a
job runs at a time, across app processes too: it holds the job's export lease, and a Stop
pressed in any browser (through that lease) or in this one ends it with nothing kept.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from playground.errors import InvalidInput
from playground.finetune.export_check import (
    CHECK_MAX_TOKENS,
    CHECK_PROMPTS,
    answers_with,
    check_examples,
    load_check,
    merged_spec,
    pair_up,
    reusable_tuned,
)
from playground.finetune.gguf_converter import ExportStopped, convert_to_f16, quantise
from playground.finetune.gguf_manifest import (
    MODELFILE,
    ExportRecord,
    clean_leftovers,
    gguf_file_name,
    gguf_root,
    job_exports_dir,
    list_exports,
    now,
    publish,
    staging_dir,
    write_manifest,
)
from playground.finetune.gguf_quantize import F16, QUANT_TYPES, QuantType, check_quant, default_quant
from playground.finetune.modelfile import modelfile_for, ollama_name
from playground.finetune.tuned_models import gguf_key, gguf_spec
from playground.formatting import bytes_text
from playground.i18n import Text, t
from playground.leases import Leases
from playground.models.registry import ModelRegistry
from playground.models.validation import weight_files
from playground.progress import OnProgress, notify
from playground.settings import Settings
from playground.statuses import FinetuneStatus
from playground.stored_text import dump
from storage import UnitOfWork
from storage.orm_leases import LEASE_GGUF_EXPORT

log = logging.getLogger(__name__)
DISK_MARGIN_BYTES = 64 * 1024 * 1024  # logs, the Modelfile, and slack for the estimate
FP32_BYTES = 4


@dataclass(frozen=True)
class ExportSteps:
    """The two child-process steps; a wiring test swaps them for quick fakes."""

    convert: Callable[[Path, Path, threading.Event, Path], None] = convert_to_f16
    quantise: Callable[[Path, Path, QuantType, threading.Event, Path], None] = quantise


@dataclass
class _Run:
    """One export in flight: what it makes, where, and how far it got."""

    job: Any
    quant: QuantType
    job_dir: Path
    staging: Path
    token: str
    stop: threading.Event
    on_progress: OnProgress | None
    total: int
    done: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.job_dir / f"export-{self.quant.name}.log"  # outside staging: kept when an export fails

    def step(self, message: Text | str) -> None:
        """Say what starts now; the Stop check between steps."""
        if self.stop.is_set():
            raise ExportStopped(t("export.stopped"))
        notify(self.on_progress, self.done, self.total, message)

    def advance(self, message: Text | str = "") -> None:
        self.done += 1
        notify(self.on_progress, self.done, self.total, message)


class GgufExportService:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        uow_factory: Callable[[], UnitOfWork],
        leases: Leases,
        merge: Callable[[int], Path],
        steps: ExportSteps | None = None,
    ):
        self.settings = settings
        self.registry = registry
        self.uow_factory = uow_factory
        self.leases = leases
        self.merge = merge
        self.steps = steps or ExportSteps()
        self.root = gguf_root(settings.home)
        self.check_prompts = CHECK_PROMPTS
        self.max_tokens = CHECK_MAX_TOKENS

    # ---- looking ------------------------------------------------------------------------
    def _job(self, job_id: Any) -> Any:
        try:
            wanted = int(job_id)
        except (TypeError, ValueError):
            raise InvalidInput(t("export.pick_finished_job")) from None
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(wanted)
        if job is None:
            raise InvalidInput(t("finetune.job_missing", job=wanted))
        return job

    def job_dir(self, job: Any) -> Path:
        return job_exports_dir(self.root, job.id, job.base_name, job.name)

    def exports(self, job_id: Any) -> list[ExportRecord]:
        """The job's complete exports (f16 first); none for a job that is not finished."""
        job = self._job(job_id)
        return list_exports(self.job_dir(job), job.id, job.name) if job.status == FinetuneStatus.DONE else []

    def default_quant(self, job_id: Any) -> str:
        return default_quant(self._params(self._job(job_id)))

    def running(self, job_id: int) -> bool:
        return self.leases.holder(LEASE_GGUF_EXPORT, int(job_id)) is not None

    def request_stop(self, job_id: Any) -> bool:
        """Ask the export of this job to stop, wherever it runs; False when none runs."""
        return self.leases.request_stop(LEASE_GGUF_EXPORT, self._job(job_id).id)

    # ---- exporting ------------------------------------------------------------------------
    def export(
        self, job_id: Any, quant: Any, on_progress: OnProgress | None = None, stop: threading.Event | None = None
    ) -> ExportRecord:
        """Export the job as a GGUF of type ``quant``; its record once published. Refuses plainly: an
        unknown type, an unfinished job, an export of this job already running, too little disk."""
        chosen = check_quant(quant)
        job = self._job(job_id)
        if job.status != FinetuneStatus.DONE or not job.adapter_path:
            raise InvalidInput(t("export.unfinished", name=job.name))
        stop = stop or threading.Event()
        lease = self.leases.acquire(LEASE_GGUF_EXPORT, job.id, note=chosen.name)
        if lease is None:
            raise InvalidInput(t("export.already_running", name=job.name))
        lease.on_stop = stop.set  # a Stop pressed in another browser or app process
        try:
            job_dir = self.job_dir(job)
            clean_leftovers(job_dir)
            self._check_disk(job, chosen, job_dir)
            record = self._run(job, chosen, job_dir, on_progress, stop)
        finally:
            self.leases.release(lease)
        return record

    def _run(
        self, job: Any, quant: QuantType, job_dir: Path, on_progress: OnProgress | None, stop: threading.Event
    ) -> ExportRecord:
        token = secrets.token_hex(4)
        examples = check_examples(job, self.check_prompts)
        run = _Run(
            job,
            quant,
            job_dir,
            staging_dir(job_dir, quant.name, token),
            token,
            stop,
            on_progress,
            4 + 2 * len(examples),
        )
        run.staging.mkdir(parents=True)
        try:
            merged = self._timed(run, "merge", lambda: self._merged(job), t("export.stage_merge"))
            gguf = self._make_gguf(run, merged)
            answers = self._check(run, merged, gguf, examples)
            run.step(t("export.stage_publish"))
            record = self._record(run, gguf, answers)
            text, template = modelfile_for(job, merged, gguf, record.ollama_name, quant.name)
            (run.staging / MODELFILE).write_text(text, encoding="utf-8")
            record = replace(record, template=template)
            write_manifest(record)  # last: from here on the export is complete
            final = publish(run.staging, job_dir, quant.name, token)
        except BaseException:
            shutil.rmtree(run.staging, ignore_errors=True)
            raise
        run.advance(t("export.stage_done"))
        self.registry.forget(gguf_key(job.id, quant.name))  # a copy loaded from the file this replaced
        record = replace(record, folder=final)
        self._note(job, record)
        return record

    def _timed(self, run: _Run, name: str, work: Callable[[], Any], message: Text) -> Any:
        run.step(message)
        started = time.perf_counter()
        result = work()
        run.seconds[name] = round(time.perf_counter() - started, 2)
        run.advance(message)
        return result

    def _merged(self, job: Any) -> Path:
        """The merged HF folder: the one Merge & export already wrote, else a new merge."""
        existing = Path(job.export_path) if job.export_path else None
        if existing is not None and (existing / "config.json").is_file() and weight_files(existing):
            return existing
        return self.merge(job.id)

    def _make_gguf(self, run: _Run, merged: Path) -> Path:
        name = gguf_file_name(run.job.base_name, run.job.name, run.quant.name)
        target = run.staging / name
        f16 = target if run.quant.name == F16 else run.staging / gguf_file_name(run.job.base_name, run.job.name, F16)
        convert = self.steps.convert
        self._timed(run, "convert", lambda: convert(merged, f16, run.stop, run.log_path), t("export.stage_convert"))
        if run.quant.name == F16:
            run.seconds["quantise"] = 0.0
            run.advance(t("export.stage_kept_f16"))
            return target
        quantise_step = self.steps.quantise
        message = t("export.stage_quantise", quant=run.quant.name)
        self._timed(run, "quantise", lambda: quantise_step(f16, target, run.quant, run.stop, run.log_path), message)
        f16.unlink(missing_ok=True)
        return target

    def _check(self, run: _Run, merged: Path, gguf: Path, examples: list) -> tuple:
        """The tuned model's greedy answers (reused from an earlier export when the same), then the file's."""
        factory = self.registry.backend_factory
        previous = list_exports(run.job_dir, run.job.id, run.job.name)
        started = time.perf_counter()
        tuned = reusable_tuned(previous, examples, self.max_tokens)
        run.step(t("export.stage_tuned", total=len(examples)))
        if tuned is None:
            spec = merged_spec(run.job, merged)
            tuned = answers_with(factory, spec, examples, self.max_tokens, run.stop, lambda: run.advance())
        else:
            run.done += len(examples)
        run.step(t("export.stage_load_check", quant=run.quant.name, total=len(examples)))
        spec = gguf_spec(run.job, gguf, run.quant.name, gguf.stat().st_size)
        answers = load_check(factory, spec, examples, self.max_tokens, run.stop, lambda: run.advance())
        run.seconds["check"] = round(time.perf_counter() - started, 2)
        return pair_up(examples, tuned, answers)

    def _record(self, run: _Run, gguf: Path, answers: tuple) -> ExportRecord:
        job = run.job
        return ExportRecord(
            job_id=job.id,
            job_name=job.name,
            base_name=job.base_name,
            prompt_format=job.prompt_format,
            quant=run.quant.name,
            gguf_file=gguf.name,
            size_bytes=gguf.stat().st_size,
            ollama_name=ollama_name(job.name, run.quant.name),
            template="",  # what the Modelfile's TEMPLATE is: set once it is written
            max_tokens=self.max_tokens,
            answers=answers,
            seconds=dict(run.seconds),
            created_at=now(),
            folder=run.staging,
        )

    def _note(self, job: Any, record: ExportRecord) -> None:
        text = t(
            "export.ev_exported",
            quant=record.quant,
            path=str(record.gguf_path),
            size=bytes_text(record.size_bytes),
            agree=record.agree,
            total=len(record.answers),
        )
        with self.uow_factory() as uow:
            uow.finetune_jobs.add_event(job.id, dump(text))
        log.info("Exported job %s as %s: %s (%d bytes)", job.id, record.quant, record.gguf_path, record.size_bytes)

    # ---- disk -------------------------------------------------------------------------------
    def _params(self, job: Any) -> int | None:
        """The model's parameter count: as counted at training, else guessed from the base's weights."""
        if job.total_params:
            return int(job.total_params)
        folder = Path(job.base_folder or "")
        files = weight_files(folder) if folder.is_dir() else []
        return sum(f.stat().st_size for f in files) // 2 if files else None  # at 16 bits a weight: errs high

    def _check_disk(self, job: Any, quant: QuantType, job_dir: Path) -> None:
        params = self._params(job) or 0
        merged = self._has_merged(job)
        need = params * 2 + (0 if quant.name == F16 else int(params * quant.bytes_per_param))
        need += (0 if merged else params * FP32_BYTES) + DISK_MARGIN_BYTES
        probe = job_dir
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        if free < need:
            raise InvalidInput(
                t(
                    "export.disk_low",
                    quant=quant.name,
                    need=bytes_text(need),
                    free=bytes_text(free),
                    folder=str(self.root),
                )
            )

    @staticmethod
    def _has_merged(job: Any) -> bool:
        return bool(job.export_path) and (Path(job.export_path) / "config.json").is_file()


def quant_types() -> list[QuantType]:
    return list(QUANT_TYPES.values())
