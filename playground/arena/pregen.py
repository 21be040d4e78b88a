"""Generating every answer of an evaluation once, in advance, in a background thread.

Resumable (answers already made are skipped), cancellable (between and inside answers),
and a model that fails is set aside (its battles are held back) while the others go on.
Progress lives in the database, so any page — or a page reloaded later — can show it.

A run holds the evaluation's pre-generation lease (``playground.leases``), so a second app
process on the same database sees it running (with its progress line) and does not start a
duplicate; Cancel from that process sets the lease's stop flag, which the holder reads at
its next answer or heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from playground.arena.leaks import find_leaks
from playground.errors import ModelNotFound
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.leases import Lease, Leases
from playground.models.types import GenerationParams, Message
from playground.progress import complete
from storage import ArenaAnswer, UnitOfWork
from storage.orm_leases import LEASE_PREGEN

log = logging.getLogger(__name__)
# After this many failed answers in a row a model is considered broken for this run.
MAX_CONSECUTIVE_FAILURES = 2
# A contestant's stored error when its model is gone from the registry (the UI words it per language).
MODEL_NOT_FOUND = "model not found"


def answer_messages(params: GenerationParams, prompt_text: str) -> list[Message]:
    """What a contestant is asked for one prompt of the set."""
    return ([Message("system", params.system_prompt)] if params.system_prompt else []) + [Message("user", prompt_text)]


@dataclass
class _Job:
    thread: threading.Thread
    cancel: threading.Event
    lease: Lease
    current: Text | str = ""  # the answer being generated; a Text, shown in the reader's language


class PregenJobs:
    def __init__(
        self, recorder: GenerationRecorder, uow_factory: Callable[[], UnitOfWork], leases: Leases | None = None
    ):
        self.recorder = recorder
        self.uow_factory = uow_factory
        self.leases = leases or Leases(uow_factory)
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()

    def _local(self, evaluation_id: int) -> _Job | None:
        with self._lock:
            job = self._jobs.get(evaluation_id)
            return job if job is not None and job.thread.is_alive() else None

    def _elsewhere(self, evaluation_id: int):
        """The live lease of a run in another process (None when there is none)."""
        holder = self.leases.holder(LEASE_PREGEN, evaluation_id)
        return holder if holder is not None and self.leases.is_dead(holder) is None else None

    def running(self, evaluation_id: int) -> bool:
        """Whether answers are being generated, here or by another process on this database."""
        return self._local(evaluation_id) is not None or self._elsewhere(evaluation_id) is not None

    def current(self, evaluation_id: int) -> Text | str:
        """The answer being generated now (another process's run: its lease note, in English)."""
        job = self._local(evaluation_id)
        if job is not None:
            return job.current
        holder = self._elsewhere(evaluation_id)
        return holder.note if holder is not None else ""

    def start(self, evaluation_id: int, estimate: dict | None = None) -> bool:
        """Start (or resume) generating; False if a run for this evaluation is already going,
        in this process or another one. ``estimate``: the run's cost and time estimate, kept
        with the evaluation's run (``playground.estimates``)."""
        with self._lock:
            job = self._jobs.get(evaluation_id)
            if job is not None and job.thread.is_alive():
                return False
            lease = self.leases.acquire(LEASE_PREGEN, evaluation_id, note="starting")
            if lease is None:
                return False
            cancel = threading.Event()
            lease.on_stop = cancel.set  # Cancel pressed in another process
            lease.on_lost = cancel.set  # given up as dead elsewhere: stop rather than race a new run
            thread = threading.Thread(
                target=self._run_safely,
                args=(evaluation_id, cancel, estimate),
                name=f"arena-pregen-{evaluation_id}",
                daemon=True,
            )
            self._jobs[evaluation_id] = _Job(thread, cancel, lease)
        thread.start()
        return True

    def cancel(self, evaluation_id: int) -> bool:
        job = self._local(evaluation_id)
        if job is not None:
            job.cancel.set()
            return True
        return self.leases.request_stop(LEASE_PREGEN, evaluation_id)

    def wait(self, evaluation_id: int, timeout: float | None = None, poll_s: float = 0.2) -> None:
        """Until the run ends, here or (polling its lease) in another process."""
        with self._lock:
            job = self._jobs.get(evaluation_id)
        if job is not None:
            job.thread.join(timeout)
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._elsewhere(evaluation_id) is not None:
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(poll_s)

    def _set_current(self, evaluation_id: int, text: Text | str) -> None:
        with self._lock:
            job = self._jobs.get(evaluation_id)
            if job is not None:
                job.current = text
        if job is not None:
            try:  # the line other processes show; the renewal also reads their stop flag
                self.leases.renew(job.lease, str(text))
            except Exception:
                log.exception("Could not renew the pre-generation lease of arena evaluation %s", evaluation_id)

    def _run_safely(self, evaluation_id: int, cancel: threading.Event, estimate: dict | None = None) -> None:
        try:
            self._run(evaluation_id, cancel, estimate)
        except Exception:
            log.exception("Pre-generation of arena evaluation %s stopped unexpectedly", evaluation_id)
        finally:
            with self._lock:
                job = self._jobs.get(evaluation_id)
            if job is not None:
                try:
                    self.leases.release(job.lease)
                except Exception:  # it expires on its own
                    log.exception("Could not release the pre-generation lease of arena evaluation %s", evaluation_id)

    def _run(self, evaluation_id: int, cancel: threading.Event, estimate: dict | None = None) -> None:
        with self.uow_factory() as uow:
            evaluation = uow.arena.get_evaluation(evaluation_id)
            if evaluation is None:
                return
            run = uow.runs.get(evaluation.run_id) if evaluation.run_id is not None else None
            if run is None:
                run = uow.runs.add(kind="arena", title=evaluation.name, meta={"evaluation_id": evaluation_id})
                evaluation.run_id = run.id
            kept = {k: v for k, v in (run.meta or {}).items() if k != "estimate"}  # an earlier start's is stale
            run.meta = {**kept, "estimate": estimate} if estimate is not None else kept
            run_id, words = evaluation.run_id, list(evaluation.leak_words)
            prompts = [(p.id, p.position, p.text) for p in uow.arena.prompts(evaluation_id) if p.source == "set"]
            contestants = uow.arena.contestants(evaluation_id)
            for contestant in contestants:  # a resume retries models that failed last time
                if contestant.status == "failed":
                    contestant.status, contestant.error = "pending", None
            plan = [(c.id, c.model_key, c.label, dict(c.params), c.position) for c in contestants]
            done = {(a.prompt_id, a.contestant_id) for a in uow.arena.answers(evaluation_id) if a.status == "ok"}
        log.info("Pre-generating arena evaluation %s: %d prompts × %d models", evaluation_id, len(prompts), len(plan))
        for contestant_id, model_key, label, params_dict, position in plan:  # model by model: each loads once
            params = GenerationParams.from_dict(params_dict)
            failures, failed, last_error = 0, False, None
            for prompt_id, prompt_position, prompt_text in prompts:
                if cancel.is_set():
                    log.info("Pre-generation of arena evaluation %s cancelled", evaluation_id)
                    return
                if (prompt_id, contestant_id) in done:
                    continue
                now = t("arena.pregen_current", label=label, number=prompt_position + 1, total=len(prompts))
                self._set_current(evaluation_id, now)
                ok, last_error = self._answer(
                    run_id,
                    prompt_id,
                    prompt_position,
                    prompt_text,
                    contestant_id,
                    model_key,
                    params,
                    position,
                    words,
                    cancel,
                )
                if cancel.is_set():
                    return
                failures = 0 if ok else failures + 1
                if failures >= MAX_CONSECUTIVE_FAILURES or last_error == MODEL_NOT_FOUND:
                    failed = True
                    break
            with self.uow_factory() as uow:
                stored = uow.arena.get_contestant(contestant_id)
                if stored is None:
                    return  # the evaluation was deleted meanwhile
                stored.status = "failed" if failed else "ok"
                stored.error = last_error if failed else None
            if failed:
                log.warning(
                    "Arena evaluation %s: %s failed (%s); its battles are held back", evaluation_id, label, last_error
                )
        self._set_current(evaluation_id, "")

    def _answer(
        self, run_id, prompt_id, prompt_position, prompt_text, contestant_id, model_key, params, position, words, cancel
    ) -> tuple[bool, str | None]:
        messages = answer_messages(params, prompt_text)
        try:
            final = complete(
                self.recorder.stream(
                    run_id, model_key, messages, params, position=position, cancel=cancel, row_index=prompt_position
                )
            )
        except ModelNotFound as err:
            self._save(prompt_id, contestant_id, None, "", "error", str(err), [])
            return False, MODEL_NOT_FOUND
        if final.status == "cancelled":
            return False, None
        if final.error:
            self._save(prompt_id, contestant_id, final.generation_id, final.text, "error", str(final.error), [])
            return False, str(final.error)
        self._save(prompt_id, contestant_id, final.generation_id, final.text, "ok", None, find_leaks(final.text, words))
        return True, None

    def _save(self, prompt_id, contestant_id, generation_id, text, status, error, leaks) -> None:
        with self.uow_factory() as uow:
            if uow.arena.get_contestant(contestant_id) is None:
                return  # deleted meanwhile
            answer = uow.arena.answer_for(prompt_id, contestant_id)
            if answer is None:
                answer = uow.arena.add(
                    ArenaAnswer(prompt_id=prompt_id, contestant_id=contestant_id, text="", status="pending", leaks=[])
                )
            answer.generation_id, answer.text, answer.status, answer.error, answer.leaks = (
                generation_id,
                text,
                status,
                error,
                leaks,
            )
