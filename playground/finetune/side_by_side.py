"""Base vs tuned: the base model and the tuned model answer the job's holdout prompts side by side.

The comparison is only fair when both models read the same text. A tuned model is always
prompted in the format it was trained on (Alpaca or the chat template, rendered by
``playground.models.prompt_formats``). The base model as the registry lists it would be prompted
its own way instead (its chat template, through llama.cpp for an embedded GGUF), so here the
base is run as the tuned model's spec *without the adapter*: the same dequantised weights,
the same transformers backend, the same rendered prompt, greedy decoding for both. Any
difference in the answers comes from the adapter alone. The tuned side may instead be one of the
job's GGUF exports (llama.cpp, the same rendered prompt): then the difference also holds what
conversion and quantisation changed.

Every answer goes through the GenerationRecorder into a run of kind ``finetune_compare``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from playground.compare.fanout import ColumnState, StreamRequest, stream_requests
from playground.errors import InvalidInput, ModelNotFound
from playground.finetune.job_labels import state_said
from playground.finetune.jobfiles import HOLDOUT_FILE, TRAIN_FILE, read_examples
from playground.finetune.tuned_models import base_key_of, finetune_key, parse_gguf_key
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.models.prompt_formats import Example, prompt_messages, user_text
from playground.models.registry import ModelRegistry
from playground.models.types import GenerationParams, Message
from playground.progress import Progress
from playground.statuses import FinetuneStatus
from storage import UnitOfWork

log = logging.getLogger(__name__)
RUN_KIND = "finetune_compare"
DEFAULT_PROMPTS = 5
BASE, TUNED = 0, 1  # column positions in the recorded run


@dataclass(frozen=True)
class Row:
    prompt: str
    expected: str
    base: ColumnState
    tuned: ColumnState


@dataclass(frozen=True)
class Comparison:
    run_id: int
    job_id: int
    base_name: str
    tuned_name: str
    prompt_format: str
    rows: list[Row]
    note: Text | str = ""
    exported: bool = False  # the tuned side is a GGUF export: quantisation differs too

    @property
    def done(self) -> int:
        return sum(1 for r in self.rows if r.base.done and r.tuned.done)

    @property
    def finished(self) -> bool:
        return self.done == len(self.rows)

    @property
    def progress(self) -> Progress:
        return Progress(self.done, len(self.rows), t("finetune.prompts_answered", done=self.done, total=len(self.rows)))


class SideBySideService:
    def __init__(self, registry: ModelRegistry, uow_factory: Callable[[], UnitOfWork]):
        self.registry = registry
        self.uow_factory = uow_factory

    def _examples(self, job: Any) -> tuple[list[Example], Text | str]:
        folder = Path(job.job_dir or "")
        holdout = read_examples(folder / HOLDOUT_FILE)
        if holdout:
            return holdout, ""
        train = read_examples(folder / TRAIN_FILE)
        return train, t("finetune.compare_training_examples")

    def tuned_choices(self, job_id: int | None) -> list[tuple[str, str]]:
        """(name, key) of the job's tuned model and of each of its GGUF exports (run by llama.cpp)."""
        if job_id is None:
            return []
        keys = [finetune_key(int(job_id))]
        keys += [s.key for s in self.registry.list_specs() if (parse_gguf_key(s.key) or (None,))[0] == int(job_id)]
        choices = []
        for key in keys:
            try:
                choices.append((self.registry.get_spec(key).name, key))
            except ModelNotFound:  # the adapter is gone; its GGUF exports may still answer
                continue
        return choices

    def compare(
        self,
        job_id: int,
        limit: int = DEFAULT_PROMPTS,
        max_tokens: int = 96,
        cancel: threading.Event | None = None,
        tuned_key: str | None = None,
    ) -> Iterator[Comparison]:
        """Yield the table as it fills in: one prompt at a time, both models at once. Each snapshot
        speaks the progress protocol (``finished``, ``progress``: prompts answered of all).
        ``tuned_key`` picks one of the job's GGUF exports instead of the tuned model itself."""
        with self.uow_factory() as uow:
            job = uow.finetune_jobs.get(int(job_id))
        if job is None:
            raise InvalidInput(t("finetune.job_missing", job=job_id))
        if job.status != FinetuneStatus.DONE:
            raise InvalidInput(t("finetune.compare_unfinished", name=job.name, status=state_said(job.status)))
        wanted = tuned_key or finetune_key(job.id)
        if wanted != finetune_key(job.id) and (parse_gguf_key(wanted) or (None,))[0] != job.id:
            raise InvalidInput(t("export.not_this_job", name=job.name))
        tuned = self.registry.get_spec(wanted)  # ModelNotFound (plain words) if the adapter or the file is gone
        examples, note = self._examples(job)
        examples = examples[: max(1, int(limit))]
        if not examples:
            raise InvalidInput(t("finetune.no_examples_left", name=job.name))
        base = self.registry.get_spec(base_key_of(job.id))
        recorder = GenerationRecorder(self.registry, self.uow_factory)
        meta = {"finetune_job_id": job.id, "column_names": [base.name, tuned.name], "prompt_format": job.prompt_format}
        run_id = recorder.start_run(RUN_KIND, title=f"Base vs tuned: {job.name}", meta=meta)
        params = GenerationParams(temperature=0.0, max_tokens=int(max_tokens), seed=0)
        rows = [Row(user_text(e), e.output, ColumnState(BASE), ColumnState(TUNED)) for e in examples]

        def snapshot() -> Comparison:
            return Comparison(
                run_id,
                job.id,
                base.name,
                tuned.name,
                job.prompt_format,
                list(rows),
                note,
                wanted != finetune_key(job.id),
            )

        log.info("Base vs tuned for job %s on %d prompts (run %s)", job.id, len(examples), run_id)
        try:
            yield snapshot()
            for index, example in enumerate(examples):
                if cancel is not None and cancel.is_set():
                    break
                messages = tuple(Message(m["role"], m["content"]) for m in prompt_messages(example))
                requests = [
                    StreamRequest(position, key, messages, params, row_index=index)
                    for position, key in ((BASE, base.key), (TUNED, tuned.key))
                ]
                for states in stream_requests(recorder, run_id, requests, cancel):
                    rows[index] = replace(rows[index], base=states[BASE], tuned=states[TUNED])
                    yield snapshot()
        finally:
            self.registry.unload(base.key)  # only needed for the comparison: free its memory now
