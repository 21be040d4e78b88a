"""A backend that answers from a script instead of a model: the fast test tier and the UI
wiring tests run every service on it without loading weights.

It is a real ``Backend``: it streams in chunks, honours cancel, stop sequences and
``max_tokens``, and ends with a measured ``Usage``, so the recorder, fan-out, batch,
arena and judge code paths run exactly as they do on a real model.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from playground.models.base import Backend, BackendFactory, StopSequenceFilter, UsageClock, chat_messages
from playground.models.types import BackendKind, GenerationParams, GenerationStream, Message, ModelSpec

# Given the model and the chat (system prompt first, as a real backend would see it),
# the whole answer the model would give if nothing stopped it.
Script = Callable[[ModelSpec, Sequence[Mapping[str, str]]], str]

_TOKEN = re.compile(r"\s*\S+|\s+")  # a word with the space before it: one streamed token
FAKE_MEMORY_BYTES = 1024 * 1024


def count_tokens(text: str) -> int:
    """The fake model's tokenizer: one token per word."""
    return len(text.split())


def echo_script(spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> str:
    """A deterministic answer that names the model and repeats the last user message,
    so tests can tell columns (and turns) apart."""
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return f"{spec.name} answers: {last_user}"


class FakeBackend(Backend):
    def __init__(
        self,
        spec: ModelSpec,
        script: Script = echo_script,
        *,
        chunk_delay_s: float = 0.0,
        memory_bytes: int = FAKE_MEMORY_BYTES,
    ):
        super().__init__(spec)
        self.script = script
        self.chunk_delay_s = chunk_delay_s
        self._memory_bytes = memory_bytes
        self._loaded = False
        self.loads = 0

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        if not self._loaded:
            self.loads += 1
            self._loaded = True

    def unload(self) -> None:
        self._loaded = False

    def memory_bytes(self) -> int:
        return 0 if self.spec.is_remote else self._memory_bytes

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> GenerationStream:
        self.load()
        clock = UsageClock()
        chat = chat_messages(messages, params)
        answer = self.script(self.spec, chat)
        stops = StopSequenceFilter(params.stop)
        emitted = 0
        reason = "stop"
        for token in _TOKEN.findall(answer):
            if cancel is not None and cancel.is_set():
                reason = "cancelled"
                break
            if emitted >= params.max_tokens:
                reason = "length"
                break
            if self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
            emitted += 1
            text = stops.feed(token)
            if text:
                clock.mark_token()
                yield text
            if stops.stopped:
                break
        tail = stops.flush()
        if tail:
            clock.mark_token()
            yield tail
        yield clock.finish(
            prompt_tokens=sum(count_tokens(m["content"]) for m in chat),
            completion_tokens=emitted,
            price=self.spec.price,
            finish_reason=reason,
        )


def fake_backends(script: Script = echo_script, *, chunk_delay_s: float = 0.0) -> dict[BackendKind, BackendFactory]:
    """Backend factories for every kind, all answering through the same script; pass them
    to ``Services.create(settings, backends=...)``."""

    def build(spec: ModelSpec) -> Backend:
        return FakeBackend(spec, script, chunk_delay_s=chunk_delay_s)

    return {kind: build for kind in BackendKind}
