"""The one interface every model backend implements, and the helpers they share."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from playground.models.types import GenerationParams, GenerationStream, Message, ModelSpec, Price, Usage


class Backend(ABC):
    """Turns ``(messages, GenerationParams)`` into a stream of text chunks ending with a Usage.

    A backend is created cheaply; ``load()`` does the heavy work and is idempotent. The
    registry serialises generation per backend, so implementations need not be re-entrant.
    """

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    @property
    @abstractmethod
    def loaded(self) -> bool: ...

    @abstractmethod
    def load(self) -> None:
        """Load weights (or check the endpoint). Raises ModelLoadError with a plain message."""

    @abstractmethod
    def unload(self) -> None: ...

    @abstractmethod
    def memory_bytes(self) -> int:
        """Estimated resident memory once loaded; 0 for remote models."""

    @abstractmethod
    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> GenerationStream:
        """Yield text chunks, then one Usage. Stops early (finish_reason "cancelled") when
        ``cancel`` is set."""

    def context_window(self) -> int | None:
        """The most tokens (prompt and answer together) one request may use; None when not known.
        A backend that sets its own window (llama.cpp's ``n_ctx``) says so here."""
        return self.spec.context_length

    def count_prompt_tokens(self, messages: Sequence[Message], params: GenerationParams) -> int | None:
        """The prompt's tokens exactly as this model would read them, or None where no tokenizer
        is at hand (the caller then estimates: ``playground.models.context_window``)."""
        return None


BackendFactory = Callable[[ModelSpec], Backend]


def chat_messages(messages: Sequence[Message], params: GenerationParams) -> list[dict[str, str]]:
    """The messages as OpenAI-style dicts, with the system prompt from params first.

    A system message already in ``messages`` wins over ``params.system_prompt``.
    """
    out = [m.to_dict() for m in messages]
    if params.system_prompt.strip() and not any(m["role"] == "system" for m in out):
        out.insert(0, {"role": "system", "content": params.system_prompt})
    return out


PLAIN_USER_PREFIX = "User:"
PLAIN_ASSISTANT_PREFIX = "Assistant:"


def plain_completion_prompt(messages: Sequence[dict[str, str]]) -> tuple[str, tuple[str, ...]]:
    """Prompt text and extra stop sequences for a base model that has no chat template.

    A single user turn is continued as plain text (what a base model does best); a longer
    conversation is written as a ``User:`` / ``Assistant:`` transcript, stopped at the next
    ``User:`` line.
    """
    system = [m["content"] for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    head = ("\n".join(system) + "\n\n") if system else ""
    if len(turns) == 1 and turns[0]["role"] == "user":
        return head + turns[0]["content"], ()
    lines = []
    for turn in turns:
        prefix = PLAIN_USER_PREFIX if turn["role"] == "user" else PLAIN_ASSISTANT_PREFIX
        lines.append(f"{prefix} {turn['content']}")
    lines.append(PLAIN_ASSISTANT_PREFIX)
    return head + "\n".join(lines), ("\n" + PLAIN_USER_PREFIX,)


class UsageClock:
    """Measures time to first token and total time for one generation."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_token_at: float | None = None

    def mark_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def finish(
        self,
        *,
        prompt_tokens: int | None,
        completion_tokens: int | None,
        price: Price | None,
        finish_reason: str | None,
        tokens_estimated: bool = False,
    ) -> Usage:
        total = time.perf_counter() - self.started
        ttft = None if self.first_token_at is None else self.first_token_at - self.started
        cost = None
        if price is not None and prompt_tokens is not None and completion_tokens is not None:
            cost = price.cost(prompt_tokens, completion_tokens)
        return Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            ttft_s=ttft,
            total_s=total,
            cost_usd=cost,
            tokens_estimated=tokens_estimated,
            finish_reason=finish_reason,
        )


class StopSequenceFilter:
    """Holds back text that could be the start of a stop sequence, for backends that cannot
    stop on strings themselves. ``feed`` returns text safe to show; ``stopped`` turns True
    once a stop sequence appeared (the sequence itself is never shown)."""

    def __init__(self, stops: Sequence[str]):
        self.stops = tuple(s for s in stops if s)
        self.buffer = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return text
        self.buffer += text
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self.buffer = self.buffer[:cut], ""
            return out
        hold = max(len(s) - 1 for s in self.stops)
        # keep only a tail that is a prefix of some stop sequence
        keep = 0
        for n in range(min(hold, len(self.buffer)), 0, -1):
            tail = self.buffer[-n:]
            if any(s.startswith(tail) for s in self.stops):
                keep = n
                break
        out = self.buffer[: len(self.buffer) - keep]
        self.buffer = self.buffer[len(self.buffer) - keep :]
        return out

    def flush(self) -> str:
        out, self.buffer = ("" if self.stopped else self.buffer), ""
        return out
