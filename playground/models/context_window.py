"""Refuse a request that cannot fit the model's context window, before anything is sent.

A request needs its prompt's tokens plus the answer's ``max_tokens``; when the model's window
(``ModelSpec.context_length``, or the backend's own, e.g. llama.cpp's ``n_ctx``) is smaller, the
server would only answer with an HTTP 400 (or llama.cpp with an error), so the app says so
plainly instead, naming the model, the window and the size.

Counting: exact where the backend has the model's tokenizer at hand (llama.cpp counts the very
prompt it would send, chat template included). Elsewhere an estimate, stated in the message as
"about": ``ESTIMATE_CHARS_PER_TOKEN`` characters per token plus ``ESTIMATE_TOKENS_PER_MESSAGE``
for each message's role markers. Four characters a token is the usual figure for English with
GPT-style tokenizers; most other text (Portuguese, code, other scripts) takes more tokens per
character, so the estimate errs low: the app never refuses a prompt that would have fit, and
one that the estimate lets through but is still too long meets the server's own refusal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from playground.errors import InvalidInput
from playground.i18n import t

ESTIMATE_CHARS_PER_TOKEN = 4
ESTIMATE_TOKENS_PER_MESSAGE = 4  # OpenAI's chat format spends 3-4 tokens a message on its markers


class ContextTooLong(InvalidInput):
    """The prompt and the answer it asks for do not fit the model's context window."""


@dataclass(frozen=True)
class PromptSize:
    tokens: int
    exact: bool  # counted with the model's tokenizer, not estimated


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` is, erring low (see the module's docstring)."""
    return math.ceil(len(text) / ESTIMATE_CHARS_PER_TOKEN)


def estimate_prompt_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """About how many tokens a chat request's messages are (OpenAI-style dicts, system prompt included)."""
    return sum(estimate_tokens(m.get("content") or "") + ESTIMATE_TOKENS_PER_MESSAGE for m in messages)


def check_fits(model: str, window: int | None, prompt: PromptSize, max_tokens: int) -> None:
    """Raise ContextTooLong when ``prompt`` plus ``max_tokens`` exceeds ``window`` (None: not known)."""
    if not window or prompt.tokens + max_tokens <= window:
        return
    values = {
        "model": model,
        "window": window,
        "prompt": prompt.tokens,
        "max_tokens": max_tokens,
        "total": prompt.tokens + max_tokens,
    }
    if prompt.tokens >= window:
        raise ContextTooLong(
            t("context.prompt_too_long" if prompt.exact else "context.prompt_too_long_about", **values)
        )
    raise ContextTooLong(
        t("context.answer_does_not_fit" if prompt.exact else "context.answer_does_not_fit_about", **values)
    )
