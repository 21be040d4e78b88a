"""What an OpenAI-compatible model turned out to need, learnt from its own 400 errors.

Reasoning models (OpenAI's o-series, the GPT-5 family, and Azure deployments of them) refuse
``max_tokens`` ("Use 'max_completion_tokens' instead") and sampling settings such as
``temperature`` ("Only the default (1) value is supported"). Rather than keep a list of model
names by hand, the backend reads the error, adapts the request once, and the adaptation (a
"quirk") is saved with the model so the next request, and the next start, send it right.

Quirks are a small JSON object: ``{"max_tokens_field": "max_completion_tokens",
"drop": ["temperature", "top_p"]}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_TOKENS_FIELD = "max_tokens_field"
DROP = "drop"
# Request fields a model may refuse that can be left out without changing what was asked.
DROPPABLE = ("temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty", "logprobs")
_NAMED = re.compile(r"unsupported (?:parameter|value)s?:?\s*'([A-Za-z_]+)'", re.IGNORECASE)
_NOT_SUPPORTED = re.compile(r"'([A-Za-z_]+)' (?:is not supported|does not support)", re.IGNORECASE)

QuirkSink = Callable[[dict[str, Any]], None]


def apply(body: dict[str, Any], quirks: dict[str, Any] | None) -> dict[str, Any]:
    """``body`` as this model wants it (a new dict; ``body`` is left as it was)."""
    if not quirks:
        return body
    adapted = dict(body)
    field = quirks.get(MAX_TOKENS_FIELD)
    if field and "max_tokens" in adapted:
        adapted[field] = adapted.pop("max_tokens")
    for name in quirks.get(DROP) or ():
        adapted.pop(name, None)
    return adapted


def _error_parts(text: str) -> tuple[str, str | None]:
    """(message, param) of an OpenAI-style error body; the raw text when it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return text, None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, list) and error and isinstance(error[0], dict):  # some proxies wrap it in a list
        error = error[0].get("error", error[0])
    if not isinstance(error, dict):
        return text, None
    param = error.get("param")
    return str(error.get("message") or text), param if isinstance(param, str) else None


def learn(error_text: str, sent: dict[str, Any], quirks: dict[str, Any] | None) -> dict[str, Any] | None:
    """The quirks after this 400 error, or None when the error teaches nothing new (a real refusal)."""
    message, param = _error_parts(error_text)
    named = [m.group(1) for pattern in (_NAMED, _NOT_SUPPORTED) for m in pattern.finditer(message)]
    candidates = [p for p in (param, *named) if p and p in sent]
    if not candidates:
        return None
    current = dict(quirks or {})
    name = candidates[0]
    if name == "max_tokens" and "max_completion_tokens" in message:
        if current.get(MAX_TOKENS_FIELD) == "max_completion_tokens":
            return None
        current[MAX_TOKENS_FIELD] = "max_completion_tokens"
        return current
    if name in DROPPABLE and name not in (current.get(DROP) or ()):
        current[DROP] = sorted({*(current.get(DROP) or ()), name})
        return current
    return None


def describe(quirks: dict[str, Any] | None) -> list[str]:
    """The adaptations in words for the model's details (field names, not translated)."""
    if not quirks:
        return []
    said = []
    if quirks.get(MAX_TOKENS_FIELD):
        said.append(f"{quirks[MAX_TOKENS_FIELD]} instead of max_tokens")
    said.extend(f"no {name}" for name in quirks.get(DROP) or ())
    return said
