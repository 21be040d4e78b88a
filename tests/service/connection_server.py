"""A small stdlib server that plays the servers a connection meets: an OpenAI-compatible one (its
model list can change between calls), Ollama (``/api/tags``), Azure OpenAI (deployment URLs,
``api-version``, the ``api-key`` header), a reasoning model that refuses ``max_tokens`` and
``temperature`` with OpenAI's own error bodies, a web page, and a key that lists but cannot generate.
Every request is recorded (path, headers, body)."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.integration.servers import Replies

ANSWER = "Hello from the test server"
MAX_TOKENS_ERROR = {
    "error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
}
TEMPERATURE_ERROR = {
    "error": {
        "message": "Unsupported value: 'temperature' does not support 0.7 with this model. "
        "Only the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
}
OLLAMA_TAGS = {
    "models": [
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "size": 2019393189,
            "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
        },
        {
            "name": "qwen2.5:0.5b",
            "model": "qwen2.5:0.5b",
            "size": 397821319,
            "details": {
                "format": "gguf",
                "family": "qwen2",
                "parameter_size": "494.03M",
                "quantization_level": "Q4_K_M",
            },
        },
    ]
}


class _Handler(Replies):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        self.server.owner.requests.append(request)
        return request

    def do_GET(self) -> None:
        self._record()
        owner = self.server.owner
        parts = urlsplit(self.path)
        if owner.redirect_to:
            self.send_response(307)
            self.send_header("Location", owner.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if owner.html:
            return self._raw(200, "text/html", b"<!DOCTYPE html><html><body>Welcome to nginx!</body></html>")
        if parts.path == "/api/tags" and owner.ollama:
            return self._json(200, OLLAMA_TAGS)
        if parts.path == "/openai/deployments" and owner.azure:
            if parse_qs(parts.query).get("api-version") != ["2022-12-01"]:
                return self._json(404, {"error": {"code": "404", "message": "Resource not found"}})
            data = [
                {"id": m, "model": "gpt-4o-mini", "status": "succeeded", "object": "deployment"} for m in owner.models
            ]
            return self._json(200, {"data": data, "object": "list"})
        if parts.path == "/v1/models" and owner.models_status == 200 and not owner.azure:
            data = [{"id": m, "object": "model", "owned_by": "test"} for m in owner.models]
            if owner.context_length:  # as vLLM lists it (max_model_len)
                data = [{**item, "max_model_len": owner.context_length} for item in data]
            return self._json(200, {"object": "list", "data": data})
        self._json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        request = self._record()
        owner = self.server.owner
        body = request["body"] or {}
        parts = urlsplit(self.path)
        if owner.azure:
            deployment = parts.path.removeprefix("/openai/deployments/").removesuffix("/chat/completions")
            if not parse_qs(parts.query).get("api-version"):
                return self._json(404, {"error": {"code": "404", "message": "Resource not found"}})
            if deployment not in owner.models or "api-key" not in request["headers"]:
                return self._json(401, {"error": {"code": "401", "message": "Access denied"}})
        elif parts.path != "/v1/chat/completions":
            return self._json(404, {"detail": "Not Found"})
        if owner.post_status:
            return self._json(owner.post_status, {"error": {"message": "This key may not use this model."}})
        if owner.reasoning and "max_tokens" in body:
            return self._json(400, MAX_TOKENS_ERROR)
        if owner.reasoning and "temperature" in body:
            return self._json(400, TEMPERATURE_ERROR)
        self._json(200, _completion(body))


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body.get("model") or "deployment",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ConnectionServer


class ConnectionServer:
    """``with ConnectionServer(models=["a", "b"]) as server: ... server.base_url`` (ends in /v1)."""

    def __init__(
        self,
        models: list[str] | None = None,
        *,
        ollama: bool = False,
        azure: bool = False,
        reasoning: bool = False,
        html: bool = False,
        models_status: int = 200,
        post_status: int | None = None,
        redirect_to: str | None = None,
        context_length: int | None = None,
    ):
        self.models = list(models or [])
        self.ollama, self.azure, self.reasoning, self.html = ollama, azure, reasoning, html
        self.models_status = models_status
        self.post_status = post_status
        self.redirect_to = redirect_to
        self.context_length = context_length
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.base_url = f"{self.origin}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="connection-server", daemon=True)

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["body"] is not None]

    def __enter__(self) -> ConnectionServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
