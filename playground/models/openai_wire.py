"""The wire format of OpenAI-compatible servers: URLs, server-sent event lines, and error wording."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import quote, urlparse

SSE_DONE = "[DONE]"
SSE_FIELDS = ("data", "event", "id", "retry")
SNIPPET_CHARS = 200


class NotOpenAIResponse(ValueError):
    """Something an OpenAI-compatible server would never send (an HTML page, plain text)."""


def normalize_base_url(url: str | None) -> str:
    """The base URL without spaces, trailing slashes or a pasted ``/chat/completions``."""
    base = (url or "").strip().rstrip("/")
    if base.endswith("/chat/completions"):
        base = base[: -len("/chat/completions")].rstrip("/")
    return base


def chat_completions_url(base_url: str, api_version: str | None = None) -> str:
    """``{base}/chat/completions``, with Azure's ``?api-version=`` when one is given."""
    url = normalize_base_url(base_url) + "/chat/completions"
    return url + f"?api-version={quote(api_version, safe='')}" if api_version else url


def v1_hint(base_url: str) -> str:
    base = normalize_base_url(base_url)
    if "/v1" in urlparse(base).path:
        return ""
    return f" Most servers expect the base URL to end in /v1: try {base}/v1."


def parse_sse_line(line: str) -> dict[str, Any] | str | None:
    """One line of a server-sent event stream: its JSON payload, ``SSE_DONE``, or None for a
    line that carries nothing (blank, comment, keep-alive, event/id/retry field)."""
    line = line.lstrip("\ufeff").rstrip("\r\n")
    if not line.strip() or line.startswith(":"):
        return None
    field, _, value = line.partition(":")
    if field not in SSE_FIELDS:
        raise NotOpenAIResponse(f"not a server-sent event line: {line[:80]!r}")
    value = value.strip()
    if field != "data" or not value:
        return None
    if value == SSE_DONE:
        return SSE_DONE
    try:
        payload = json.loads(value)
    except ValueError as err:
        raise NotOpenAIResponse(f"data is not JSON: {value[:80]!r}") from err
    if not isinstance(payload, dict):
        raise NotOpenAIResponse(f"data is not a JSON object: {value[:80]!r}")
    return payload


def server_error_message(body: str) -> str | None:
    """The human part of a JSON error body (OpenAI's error.message, FastAPI's detail), cut short."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    text = error.get("message") if isinstance(error, dict) else error
    text = text or data.get("detail") or data.get("message")
    if not text:
        return None
    text = text if isinstance(text, str) else json.dumps(text)
    return " ".join(text.split())[:SNIPPET_CHARS]


def http_error_message(
    status: int, server_message: str | None, *, base_url: str, model: str | None, key_sent: bool, key_env: str | None
) -> str:
    detail = f" The server said: {server_message}" if server_message else ""
    if status in (401, 403):
        env = f" or the environment variable {key_env}" if key_env else ""
        if not key_sent:
            where = f"set the environment variable {key_env}" if key_env else "enter one for this endpoint"
            return f"{base_url} needs an API key (HTTP {status}) but none was sent: {where}.{detail}"
        return f"{base_url} rejected the API key (HTTP {status}). Check the key{env}.{detail}"
    if status == 404:
        wrong = f"the URL is wrong or the server does not know the model {model!r}"
        return f"{chat_completions_url(base_url)} was not found (HTTP 404): {wrong}.{v1_hint(base_url)}{detail}"
    if status == 429:
        return f"{base_url} is rate limiting requests (HTTP 429). Wait a moment and try again.{detail}"
    if status >= 500:
        return f"{base_url} had a server error (HTTP {status}).{detail}"
    return f"{base_url} refused the request (HTTP {status}).{detail}"


def connect_error_message(err: Exception, base_url: str) -> str:
    causes: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(c) for c in causes).lower()
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in text:
        return f"Could not connect to {base_url}: nothing is listening there. Is the server running?"
    dns_words = ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo")
    if any(isinstance(c, socket.gaierror) for c in causes) or any(w in text for w in dns_words):
        host = urlparse(base_url).hostname
        return f"Could not find the host {host!r} of {base_url} (DNS lookup failed). Check the address."
    return f"Could not connect to {base_url}: {err}"
