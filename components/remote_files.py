"""Refuses event calls that name a remote URL as a file.

Gradio accepts, in any event's input, a file given as ``{"path": "https://...", "meta":
{"_type": "gradio.FileData"}}`` and downloads it on the server before the handler runs. Its
download refuses private addresses, but it has no size limit and bypasses
``PLAYGROUND_MAX_UPLOAD_MB`` (only ``/upload`` checks that): one call could make the server fetch
gigabytes into memory and its cache. No part of Playground's pages ever sends such a file (the
browser uploads files first and then names them by their server path), so a call that does is
refused before Gradio sees it, with a plain message, and logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playground.i18n import LANGUAGE_COOKIE, catalogue, t

log = logging.getLogger(__name__)
MAX_EVENT_BODY = 64 * 1024 * 1024  # an event's JSON (text and file names; files go to /upload)
_URL_PREFIXES = ("http://", "https://", "//")


def names_remote_file(data: Any) -> bool:
    """Whether ``data`` holds a file object (as Gradio reads one) whose path is a URL."""
    if isinstance(data, dict):
        path = data.get("path")
        if isinstance(path, str) and path.strip().lower().startswith(_URL_PREFIXES) and _is_file_object(data):
            return True
        return any(names_remote_file(value) for value in data.values())
    if isinstance(data, list):
        return any(names_remote_file(value) for value in data)
    return False


def _is_file_object(data: dict) -> bool:
    meta = data.get("meta")
    return (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData") or "orig_name" in data


class RemoteFileRefusal:
    """ASGI middleware: a JSON POST to the Gradio API that names a remote file gets a 400."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_EVENT_BODY):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_event_call(scope):
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive, self.max_body)
        if not complete:
            await _refuse(scope, send, 413, "errors.request_too_large")
            return
        if names_remote_file(_json_or_none(body)):
            log.warning("Refused an event call naming a remote file (%s)", scope.get("path"))
            await _refuse(scope, send, 400, "errors.remote_file")
            return
        await self.app(scope, _replay(body, receive), send)


def _is_event_call(scope: Scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "POST" or "/gradio_api/" not in scope.get("path", ""):
        return False
    headers = dict(scope.get("headers") or [])
    return headers.get(b"content-type", b"").split(b";")[0].strip().lower() == b"application/json"


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts), True


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # Gradio answers malformed JSON itself


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the connection's own messages (a disconnect when it comes)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(scope: Scope, send: Send, status: int, key: str) -> None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
    cookies = dict(part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if "=" in part)
    language = catalogue().negotiate(headers.get("accept-language"), cookies.get(LANGUAGE_COOKIE))
    payload = json.dumps({"error": t(key).render(language)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
