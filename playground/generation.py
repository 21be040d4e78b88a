"""Run one generation through the registry and record it in the database.

Every tab that generates (Models' try box, Compare, Arena, ...) goes through here, so every
answer is saved with its parameters, output, usage figures and any error, the same way.
It is also where the server's cap on answer length (``Settings.max_tokens``) is enforced, so
no tab, stored configuration or API call can ask a model for more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from playground.errors import UserFacingError
from playground.generation_slots import StoppedWhileWaiting
from playground.i18n import Text, t
from playground.models.base import Backend, chat_messages
from playground.models.context_window import PromptSize, check_fits, estimate_prompt_tokens
from playground.models.pricing import priced_usage
from playground.models.registry import ModelRegistry
from playground.models.types import GenerationParams, Message, ModelSpec, Usage
from storage import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class GenerationUpdate:
    """The state of one generation as it streams: the text so far, and at the end the usage."""

    generation_id: int
    text: str
    done: bool = False
    usage: Usage | None = None
    error: str | Text | None = None  # a Text is shown in the reader's language; the database keeps English
    status: str = "running"
    note: str | None = None  # something the server changed about the request (e.g. max tokens lowered)
    note_text: Text | None = None  # the same note, to show in the reader's language


def cap_note(params: GenerationParams, cap: int) -> Text | None:
    """What lowering ``params`` to the server's cap changes, or None when it changes nothing."""
    return t("models.max_tokens_lowered", asked=params.max_tokens, cap=cap) if params.max_tokens > cap else None


def capped_params(params: GenerationParams, cap: int) -> tuple[GenerationParams, str | None]:
    """``params`` with ``max_tokens`` lowered to the server's cap, and a note (English) when it was."""
    note = cap_note(params, cap)
    if note is None:
        return params, None
    return replace(params, max_tokens=cap), str(note)


def ensure_fits(spec: ModelSpec, backend: Backend, messages: Sequence[Message], params: GenerationParams) -> None:
    """Refuse (ContextTooLong) a request too long for the model's window, before it is sent:
    counted by the model's tokenizer where the backend has one, else estimated."""
    window = backend.context_window() or spec.context_length
    if not window:
        return
    exact = backend.count_prompt_tokens(messages, params)
    size = (
        PromptSize(exact, True)
        if exact is not None
        else PromptSize(estimate_prompt_tokens(chat_messages(messages, params)), False)
    )
    check_fits(spec.name, window, size, params.max_tokens)


class GenerationRecorder:
    def __init__(self, registry: ModelRegistry, uow_factory: Callable[[], UnitOfWork]):
        self.registry = registry
        self.uow_factory = uow_factory

    def start_run(
        self, kind: str, title: str = "", meta: dict | None = None, template_version_id: int | None = None
    ) -> int:
        with self.uow_factory() as uow:
            run = uow.runs.add(kind=kind, title=title[:500], meta=meta or {})
            run.template_version_id = template_version_id
            return run.id

    def stream(
        self,
        run_id: int,
        model_key: str,
        messages: Sequence[Message],
        params: GenerationParams,
        *,
        position: int = 0,
        cancel: threading.Event | None = None,
        turn: int = 0,
        attempt: int = 0,
        row_index: int | None = None,
    ) -> Iterator[GenerationUpdate]:
        spec = self.registry.get_spec(model_key)
        note_text = cap_note(params, self.registry.settings.max_tokens)
        params, note = capped_params(params, self.registry.settings.max_tokens)
        update = partial(GenerationUpdate, note=note, note_text=note_text)  # every update carries the note
        where = {"position": position, "turn": turn, "attempt": attempt, "row_index": row_index}
        gen_id = self._start(run_id, spec, messages, params, where)
        if note:
            log.info("Generation %s with %s: %s", gen_id, model_key, note)
        text = ""
        final: GenerationUpdate | None = None
        try:
            with self.registry.generation_slots.hold(cancel), self.registry.use(model_key) as backend:
                ensure_fits(spec, backend, messages, params)  # one place for every tab: nothing sent if too long
                for event in backend.stream(messages, params, cancel):
                    if isinstance(event, Usage):
                        event = priced_usage(event, spec)  # the price as it is now (an override counts at once)
                        status = "cancelled" if event.finish_reason == "cancelled" else "ok"
                        final = update(gen_id, text, done=True, usage=event, status=status)
                        self._finish(gen_id, text, status, event, None)
                        break
                    text += event
                    yield update(gen_id, text)
            if final is None:
                raise RuntimeError("the backend ended without reporting usage")
        except StoppedWhileWaiting:
            final = update(gen_id, text, done=True, status="cancelled")
            self._finish(gen_id, text, "cancelled", None, None)
        except UserFacingError as err:
            log.warning("Generation %s with %s failed: %s", gen_id, model_key, err)
            said = err.message if isinstance(err.message, Text) else str(err)
            final = update(gen_id, text, done=True, error=said, status="error")
            self._finish(gen_id, text, "error", None, str(err))
        except Exception as err:
            log.exception("Generation %s with %s failed unexpectedly", gen_id, model_key)
            message = t("generation.failed_unexpectedly", model=spec.name, error=f"{type(err).__name__}: {err}")
            final = update(gen_id, text, done=True, error=message, status="error")
            self._finish(gen_id, text, "error", None, str(message))
        finally:
            if final is None:  # the consumer went away mid-stream (browser closed, task cancelled)
                self._finish(gen_id, text, "cancelled", None, str(t("generation.abandoned")))
        yield final

    def _start(
        self, run_id: int, spec: ModelSpec, messages: Sequence[Message], params: GenerationParams, where: dict
    ) -> int:
        """The generation's row, "running", with what it was asked; its id."""
        with self.uow_factory() as uow:
            gen = uow.generations.add(
                run_id=run_id,
                model_key=spec.key,
                model_name=spec.name,
                backend=str(spec.backend),
                messages=[m.to_dict() for m in messages],
                params=params.to_dict(),
                status="running",
                **where,
            )
            return gen.id

    def _finish(self, gen_id: int, text: str, status: str, usage: Usage | None, error: str | None) -> None:
        fields: dict = {"output": text, "status": status, "error": error, "finished_at": datetime.now(UTC)}
        if usage is not None:
            fields.update(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                tokens_estimated=usage.tokens_estimated,
                ttft_s=usage.ttft_s,
                total_s=usage.total_s,
                tokens_per_s=usage.tokens_per_s,
                cost_usd=usage.cost_usd,
                price_source=usage.price_source,
                finish_reason=usage.finish_reason,
            )
        with self.uow_factory() as uow:
            uow.generations.update(gen_id, **fields)
