"""Finished fine-tuning jobs as models the user can pick in Compare, Documents and Arena.

A tuned model is its base (GGUF file or Hugging Face folder) plus the job's LoRA adapter,
run by the transformers backend and prompted in the format it was trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.models.types import BackendKind, ModelSource, ModelSpec

FINETUNE_PREFIX = "finetune/"


def finetune_key(job_id: int) -> str:
    return f"{FINETUNE_PREFIX}{job_id}"


def job_id_of(key: str) -> int | None:
    if not key.startswith(FINETUNE_PREFIX):
        return None
    try:
        return int(key[len(FINETUNE_PREFIX) :])
    except ValueError:
        return None


def tuned_model_name(base_name: str, adapter_name: str) -> str:
    return f"{base_name} + {adapter_name}"


def spec_from_job(job: Any) -> ModelSpec | None:
    """The spec of a succeeded job (storage.FinetuneJob), or None when its adapter is gone."""
    if job.status != "succeeded" or not job.adapter_path or not Path(job.adapter_path).is_dir():
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
        description=f"{job.base_name} with a LoRA adapter fine-tuned on {job.dataset_name or 'your data'} ({job.prompt_format} format).",
        extra={"prompt_format": job.prompt_format, "finetune_job_id": job.id},
    )
