"""Finished fine-tuning jobs as models the user can pick in Compare, Documents and Arena.

A tuned model is its base (GGUF file or Hugging Face folder) plus the job's LoRA adapter,
run by the transformers backend and prompted in the format it was trained on. Each GGUF
export of the job (``playground.finetune.gguf_export``) is listed too, as
``finetune/<id>/gguf/<TYPE>``: the merged model as one file, run by llama.cpp (several times
faster on a CPU), prompted in the same format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from playground.finetune.gguf_manifest import ExportRecord, job_exports_dir, list_exports
from playground.finetune.gguf_quantize import QUANT_TYPES
from playground.i18n import t
from playground.models.prompt_formats import PROMPT_FORMATS
from playground.models.types import BackendKind, ModelSource, ModelSpec
from playground.statuses import FinetuneStatus
from storage import UnitOfWork

BASE_SUFFIX = "/base"
GGUF_PART = "gguf"

FINETUNE_PREFIX = "finetune/"


def finetune_key(job_id: int) -> str:
    return f"{FINETUNE_PREFIX}{job_id}"


def base_key_of(job_id: int) -> str:
    """The job's base model prompted in the tuned model's format (for base vs tuned)."""
    return f"{finetune_key(job_id)}{BASE_SUFFIX}"


def gguf_key(job_id: int, quant: str) -> str:
    """The job's GGUF export of type ``quant``, run by llama.cpp."""
    return f"{finetune_key(job_id)}/{GGUF_PART}/{quant}"


def _key_parts(key: str) -> list[str] | None:
    """``finetune/<id>[/...]`` split at "/", with a whole-number id; else None."""
    if not key.startswith(FINETUNE_PREFIX):
        return None
    parts = key[len(FINETUNE_PREFIX) :].split("/")
    return parts if parts[0].isdigit() and parts[0].isascii() else None


def parse_key(key: str) -> tuple[int, bool] | None:
    """(job id, is the base-in-format key) for the tuned or base-in-format key, else None
    (also for a GGUF export's key: see ``parse_gguf_key``)."""
    parts = _key_parts(key)
    if parts is None or len(parts) > 2 or (len(parts) == 2 and "/" + parts[1] != BASE_SUFFIX):
        return None
    return int(parts[0]), len(parts) == 2


def parse_gguf_key(key: str) -> tuple[int, str] | None:
    """(job id, type) for a GGUF export's key, else None."""
    parts = _key_parts(key)
    if parts is None or len(parts) != 3 or parts[1] != GGUF_PART or parts[2] not in QUANT_TYPES:
        return None
    return int(parts[0]), parts[2]


def job_id_of(key: str) -> int | None:
    parsed = parse_key(key)
    return parsed[0] if parsed and not parsed[1] else None


def tuned_model_name(base_name: str, adapter_name: str) -> str:
    return f"{base_name} + {adapter_name}"


def gguf_model_name(base_name: str, adapter_name: str, quant: str) -> str:
    return f"{tuned_model_name(base_name, adapter_name)} (GGUF {quant})"


def gguf_spec(job: Any, path: Path, quant: str, size: int | None = None) -> ModelSpec:
    """A GGUF export of a job (storage.FinetuneJob) as a llama.cpp model in the job's prompt format."""
    return ModelSpec(
        key=gguf_key(job.id, quant),
        name=gguf_model_name(job.base_name, job.name, quant),
        backend=BackendKind.LLAMA_CPP,
        source=ModelSource.FINETUNED,
        path=str(path),
        size_bytes=size,
        description=t("export.description_gguf", base=job.base_name, quant=quant, format=job.prompt_format),
        extra={"prompt_format": job.prompt_format, "finetune_job_id": job.id, "gguf_quant": quant},
    )


def spec_from_export(job: Any, record: ExportRecord) -> ModelSpec:
    return gguf_spec(job, record.gguf_path, record.quant, record.size_bytes)


def spec_from_job(job: Any) -> ModelSpec | None:
    """The spec of a finished job (storage.FinetuneJob), or None when its adapter is gone."""
    if job.status != FinetuneStatus.DONE or not job.adapter_path or not Path(job.adapter_path).is_dir():
        return None
    base = Path(job.base_path)
    size = base.stat().st_size if base.is_file() else None
    return ModelSpec(
        key=finetune_key(job.id),
        name=tuned_model_name(job.base_name, job.name),
        backend=BackendKind.TRANSFORMERS,
        source=ModelSource.FINETUNED,
        path=job.base_path,
        adapter_path=job.adapter_path,
        size_bytes=size,
        description=t(
            "finetune.description_tuned",
            base=job.base_name,
            dataset=job.dataset_name or t("finetune.description_your_data"),
            format=job.prompt_format,
        ),
        extra={"prompt_format": job.prompt_format, "finetune_job_id": job.id},
    )


def base_in_format(tuned: ModelSpec, base_name: str) -> ModelSpec:
    """The tuned model's spec without its adapter: same weights, backend and prompt format,
    so a base vs tuned comparison differs by the adapter alone."""
    fmt = tuned.extra.get("prompt_format", "")
    return replace(
        tuned,
        key=base_key_of(int(tuned.extra.get("finetune_job_id", 0))),
        name=f"{base_name} (base, {fmt} prompt)",
        adapter_path=None,
        description=t("finetune.description_base", base=base_name, format=PROMPT_FORMATS.get(fmt, fmt)),
        extra={**tuned.extra, "role": "base"},
    )


class TunedModelProvider:
    """Finished fine-tune jobs as registry models (a ``playground.models.registry.ModelProvider``):
    ``finetune/<id>`` is the tuned model, ``finetune/<id>/base`` its base in the same format, and
    ``finetune/<id>/gguf/<TYPE>`` each complete GGUF export under ``gguf_root``."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], gguf_root: Path | None = None):
        self.uow_factory = uow_factory
        self.gguf_root = gguf_root  # $PLAYGROUND_HOME/exports/gguf; None lists no exports

    def exports(self, job: Any) -> list[ExportRecord]:
        if self.gguf_root is None or job.status != FinetuneStatus.DONE:
            return []
        return list_exports(job_exports_dir(self.gguf_root, job.id, job.base_name, job.name), job.id, job.name)

    def list_specs(self) -> list[ModelSpec]:
        with self.uow_factory() as uow:
            jobs = uow.finetune_jobs.list([FinetuneStatus.DONE])
        specs: list[ModelSpec] = []
        for job in jobs:
            tuned = spec_from_job(job)
            specs.extend([tuned] if tuned is not None else [])
            specs.extend(spec_from_export(job, record) for record in self.exports(job))
        return specs

    def get_spec(self, key: str) -> ModelSpec | None:
        gguf, parsed = parse_gguf_key(key), parse_key(key)
        job_id = gguf[0] if gguf else parsed[0] if parsed else None
        if job_id is None:
            return None
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None:
            return None
        if gguf is not None:
            return next((spec_from_export(job, r) for r in self.exports(job) if r.quant == gguf[1]), None)
        if (spec := spec_from_job(job)) is None:
            return None
        return base_in_format(spec, job.base_name) if parsed and parsed[1] else spec
