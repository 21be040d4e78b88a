"""A participant's listener: a tiny HTTP server on 127.0.0.1 that records every request it gets.

It can also play an OpenAI-compatible server (``/v1/models``, ``/v1/chat/completions``, streamed or
not), redirect every request elsewhere, or reject the key while echoing it back as careless servers do.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.integration.servers import Replies

ANSWER = "Hi from the listener"


class _Handler(Replies):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = {"path": self.path, "headers": dict(self.headers.items()), "body": raw.decode("utf-8", "replace")}
        self.server.owner.requests.append(request)
        return request

    def do_GET(self) -> None:
        self._record()
        self._json(200, {"object": "list", "data": [{"id": "listener-model", "object": "model"}]})

    def do_POST(self) -> None:
        request = self._record()
        owner = self.server.owner
        if owner.redirect_to:
            self.send_response(307)
            self.send_header("Location", owner.redirect_to.rstrip("/") + self.path.removeprefix("/v1"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if owner.mode == "echo":
            said = request["headers"].get("Authorization", "")
            cut = said[: max(len("Bearer ") + 9, len(said) - 3)]  # a server that quotes the key cut short
            message = f"Incorrect API key provided: {said}. Did you mean {cut}?"
            return self._json(401, {"error": {"message": message, "type": "auth"}})
        body = json.loads(request["body"] or "{}")
        if body.get("stream"):
            return self._stream()
        message = {"role": "assistant", "content": ANSWER}
        self._json(200, {"object": "chat.completion", "choices": [{"index": 0, "message": message}]})

    def _stream(self) -> None:
        words = ANSWER.split(" ")
        pieces = [words[0], *(f" {w}" for w in words[1:])]
        chunks = [{"choices": [{"index": 0, "delta": {"content": piece}}]} for piece in pieces]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        self._raw(200, "text/event-stream", data.encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Listener


class Listener:
    """``with Listener() as ear: ... ear.base_url ... ear.requests``."""

    def __init__(self, mode: str = "openai", redirect_to: str | None = None):
        self.mode = mode
        self.redirect_to = redirect_to
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = f"{self.origin}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="key-listener", daemon=True)

    def heard(self, secret: str) -> bool:
        """Whether any part of any request (path, headers, body) carried ``secret``."""
        return any(secret in json.dumps(request) for request in self.requests)

    def authorizations(self) -> list[str | None]:
        return [request["headers"].get("Authorization") for request in self.requests]

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
