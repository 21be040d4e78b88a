"""The quality check of a GGUF export: the holdout prompts answered greedily by the tuned model
(the merged folder, on the transformers backend) and by the exported file (on the app's
llama.cpp backend, which must load it: that is the load check), both prompted in the job's
format. Greedy answers are deterministic, so two that differ differ because of conversion and
quantisation; how many agree (exactly, after stripping) is what the chosen type costs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from playground.errors import ModelLoadError
from playground.finetune.gguf_converter import ExportStopped
from playground.finetune.gguf_manifest import AnswerPair, ExportRecord
from playground.finetune.jobfiles import HOLDOUT_FILE, TRAIN_FILE, read_examples
from playground.finetune.tuned_models import finetune_key, tuned_model_name
from playground.i18n import t
from playground.models.base import Backend
from playground.models.prompt_formats import Example, prompt_messages, user_text
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec, Usage

CHECK_PROMPTS = 5
CHECK_MAX_TOKENS = 32


def check_examples(job: Any, limit: int = CHECK_PROMPTS) -> list[Example]:
    """The job's holdout prompts (its training prompts when it kept none back), at most ``limit``."""
    folder = Path(job.job_dir or "")
    examples = read_examples(folder / HOLDOUT_FILE) or read_examples(folder / TRAIN_FILE)
    return examples[:limit]


def merged_spec(job: Any, merged: Path) -> ModelSpec:
    """The merged folder as a transformers model prompted in the job's format (not listed anywhere)."""
    return ModelSpec(
        key=f"{finetune_key(job.id)}/merged",
        name=tuned_model_name(job.base_name, job.name),
        backend=BackendKind.TRANSFORMERS,
        source=ModelSource.FINETUNED,
        path=str(merged),
        extra={"prompt_format": job.prompt_format, "finetune_job_id": job.id},
    )


def greedy_answers(
    backend: Backend,
    examples: Sequence[Example],
    max_tokens: int,
    stop: threading.Event,
    answered: Callable[[], None] = lambda: None,
) -> list[str]:
    """Each example's answer, greedy (temperature 0), in order; ExportStopped on Stop."""
    params = GenerationParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    answers: list[str] = []
    for example in examples:
        if stop.is_set():
            raise ExportStopped(t("export.stopped"))
        messages = [Message(m["role"], m["content"]) for m in prompt_messages(example)]
        pieces = [p for p in backend.stream(messages, params, cancel=stop) if not isinstance(p, Usage)]
        if stop.is_set():
            raise ExportStopped(t("export.stopped"))
        answers.append("".join(str(p) for p in pieces))
        answered()
    return answers


def answers_with(
    factory: Callable[[ModelSpec], Backend],
    spec: ModelSpec,
    examples: Sequence[Example],
    max_tokens: int,
    stop: threading.Event,
    answered: Callable[[], None] = lambda: None,
) -> list[str]:
    """Load ``spec`` with the app's backend for it, answer, unload."""
    backend = factory(spec)
    try:
        backend.load()
        return greedy_answers(backend, examples, max_tokens, stop, answered)
    finally:
        backend.unload()


def load_check(
    factory: Callable[[ModelSpec], Backend],
    spec: ModelSpec,
    examples: Sequence[Example],
    max_tokens: int,
    stop: threading.Event,
    answered: Callable[[], None] = lambda: None,
) -> list[str]:
    """The exported file's answers through the app's llama.cpp backend; a plain refusal when
    llama.cpp cannot load it or fails while answering."""
    try:
        return answers_with(factory, spec, examples, max_tokens, stop, answered)
    except ExportStopped:
        raise
    except ModelLoadError as err:
        raise ModelLoadError(t("export.load_check_failed", error=str(err))) from err


def reusable_tuned(previous: Sequence[ExportRecord], examples: Sequence[Example], max_tokens: int) -> list[str] | None:
    """The tuned model's answers from an earlier export of the job on the same prompts and length:
    greedy answers do not change, so they need not be generated again."""
    prompts = [user_text(e) for e in examples]
    for record in previous:
        if record.max_tokens == max_tokens and [a.prompt for a in record.answers] == prompts:
            return [a.tuned for a in record.answers]
    return None


def pair_up(examples: Sequence[Example], tuned: Sequence[str], gguf: Sequence[str]) -> tuple[AnswerPair, ...]:
    return tuple(AnswerPair(user_text(e), a, b) for e, a, b in zip(examples, tuned, gguf))
