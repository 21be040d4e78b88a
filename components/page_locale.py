"""Puts the language switch's script first in every page's ``<head>``.

Gradio picks the language of its translations from ``navigator.language`` as soon as its code
starts, before a ``head=`` script of the app has run; so the script that applies the switch's
choice goes into the HTML itself, ahead of Gradio's module script. Only HTML responses are
touched (the page), never the API, files or streams.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from components.i18n import LOCALE_SCRIPT

_HEAD = b"<head>"


class LocaleScript:
    """ASGI middleware: inserts LOCALE_SCRIPT right after ``<head>`` of HTML pages."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.script = LOCALE_SCRIPT.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if not _is_html(message):
                    start["pass"] = True
                    await send(message)
                    return
                start.update(message)
                return
            if start.get("pass") or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body).replace(_HEAD, _HEAD + self.script, 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, send_wrapper)


def _is_html(start: Message) -> bool:
    for key, value in start.get("headers", []):
        if key.lower() == b"content-type":
            return value.split(b";")[0].strip().lower() == b"text/html"
    return False
