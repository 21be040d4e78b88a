"""Finished fine-tuning jobs as models the user can pick in Compare, Documents and Arena.

A tuned model is its base (GGUF file or Hugging Face folder) plus the job's LoRA adapter,
run by the transformers backend and prompted in the format it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from playground.i18n import t
from playground.models.prompt_formats import PROMPT_FORMATS
from playground.models.types import BackendKind, ModelSource, ModelSpec
from playground.statuses import FinetuneStatus
from storage import UnitOfWork

BASE_SUFFIX = "/base"

FINETUNE_PREFIX = "finetune/"


def finetune_key(job_id: int) -> str:
    return f"{FINETUNE_PREFIX}{job_id}"


def base_key_of(job_id: int) -> str:
    """The job's base model prompted in the tuned model's format (for base vs tuned)."""
    return f"{finetune_key(job_id)}{BASE_SUFFIX}"


def parse_key(key: str) -> tuple[int, bool] | None:
    """(job id, is the base-in-format key) for a fine-tune key, else None."""
    if not key.startswith(FINETUNE_PREFIX):
        return None
    rest = key[len(FINETUNE_PREFIX) :]
    is_base = rest.endswith(BASE_SUFFIX)
    try:
        return int(rest[: -len(BASE_SUFFIX)] if is_base else rest), is_base
    except ValueError:
        return None


def job_id_of(key: str) -> int | None:
    parsed = parse_key(key)
    return parsed[0] if parsed and not parsed[1] else None


def tuned_model_name(base_name: str, adapter_name: str) -> str:
    return f"{base_name} + {adapter_name}"


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
    ``finetune/<id>`` is the tuned model, ``finetune/<id>/base`` its base in the same format."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]):
        self.uow_factory = uow_factory

    def list_specs(self) -> list[ModelSpec]:
        with self.uow_factory() as uow:
            jobs = uow.finetune_jobs.list([FinetuneStatus.DONE])
        return [spec for spec in map(spec_from_job, jobs) if spec is not None]

    def get_spec(self, key: str) -> ModelSpec | None:
        parsed = parse_key(key)
        if parsed is None:
            return None
        job_id, is_base = parsed
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(job_id)
        if job is None or (spec := spec_from_job(job)) is None:
            return None
        return base_in_format(spec, job.base_name) if is_base else spec
