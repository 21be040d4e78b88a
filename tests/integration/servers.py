"""Servers for integration tests: a real ``llama_cpp.server`` subprocess, and a tiny
stdlib OpenAI-compatible server that misbehaves on purpose."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

LLAMA_SERVER_START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_llama_cpp_server(
    model_path: str | Path,
    port: int,
    *,
    log_dir: str | Path | None = None,
    model_alias: str | None = None,
    n_threads: int = 2,
) -> tuple[subprocess.Popen, str]:
    """Start ``python -m llama_cpp.server`` on 127.0.0.1:PORT; return (process, base URL).

    The log goes to a file: a pipe that nobody drains fills up and stalls the server.
    """
    log_path = Path(log_dir or tempfile.mkdtemp(prefix="llama-server-")) / f"llama-server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(n_threads),
    ]
    if model_alias:
        command += ["--model_alias", model_alias]
    return serve_until_answering(command, port, log_path)


def serve_until_answering(command: list[str], port: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    """Run a ``llama_cpp.server`` command (its log to ``log_path``: a pipe that nobody drains
    fills up and stalls the server) until its ``/v1/models`` answers; (process, base URL)."""
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + LLAMA_SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}:\n{_log_tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop_process(process)
    raise RuntimeError(
        f"llama_cpp.server did not answer within {LLAMA_SERVER_START_TIMEOUT_S:g} s:\n{_log_tail(log_path)}"
    )


def stop_process(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout_s)


# ---- a misbehaving OpenAI-compatible server ---------------------------------------------

MODES = (
    "ok",  # valid SSE, with usage when stream_options asks for it
    "401",  # rejects the key, and echoes it back in the error message as careless servers do
    "404",
    "500",  # JSON error with a long message
    "garbage",  # 200 with an HTML page
    "hang",  # sleeps longer than the client waits
    "drop",  # two SSE chunks, then the socket closes in the middle of the chunked body
    "drop_plain",  # two SSE chunks, then a clean close of an HTTP/1.0 body with no [DONE]
    "no_usage",  # valid SSE without a usage object, whatever the request asks
    "reject_stream_options",  # 400 when stream_options is present, otherwise like no_usage
    "ignore_stream",  # answers a streaming request with one plain JSON completion
)
PIECES = ("Hello", " there", ",", " friend", "!")
PROMPT_TOKENS = 11


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


class Replies(BaseHTTPRequestHandler):
    """Whole replies with a length, shared by the test servers."""

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode())

    def _raw(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Handler(Replies):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        owner = self.server.owner
        owner.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        mode = owner.mode
        if mode == "hang":
            owner.release.wait(owner.hang_s)
            mode = "ok"
        if mode == "401":
            auth = self.headers.get("Authorization", "")
            return self._json(401, {"error": {"message": f"Incorrect API key provided: {auth}", "type": "auth"}})
        if mode == "404":
            return self._json(404, {"detail": "Not Found"})
        if mode == "500":
            return self._json(500, {"error": {"message": "CUDA out of memory. " + "x" * 400}})
        if mode == "garbage":
            return self._raw(200, "text/html", b"<!DOCTYPE html>\n<html><body>Welcome to nginx!</body></html>\n")
        if mode == "reject_stream_options" and "stream_options" in body:
            return self._json(400, {"error": {"message": "Unrecognized request argument supplied: stream_options"}})
        if not body.get("stream") or mode == "ignore_stream":
            return self._json(200, self._completion(body))
        with_usage = mode == "ok" and bool((body.get("stream_options") or {}).get("include_usage"))
        self._stream(body, with_usage=with_usage, drop=mode in ("drop", "drop_plain"), chunked=mode != "drop_plain")

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        text = "".join(PIECES[: body.get("max_tokens") or len(PIECES)])
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": 1, "total_tokens": PROMPT_TOKENS + 1},
        }

    def _stream(self, body: dict[str, Any], *, with_usage: bool, drop: bool, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        pieces = PIECES[: body.get("max_tokens") or len(PIECES)]
        events = [": keep-alive comment\n\n", "event: message\n"]
        events += [f"data: {json.dumps(_chunk({'content': p}))}\n\n" for p in pieces]
        if drop:
            events = events[:4]  # the comment, the event line and two content chunks
        else:
            finish = "length" if len(pieces) < len(PIECES) else "stop"
            events.append(f"data: {json.dumps(_chunk({}, finish))}\n\n")
            if with_usage:
                usage = {
                    "prompt_tokens": PROMPT_TOKENS,
                    "completion_tokens": len(pieces),
                    "total_tokens": PROMPT_TOKENS + len(pieces),
                }
                events.append(
                    f"data: {json.dumps({'object': 'chat.completion.chunk', 'choices': [], 'usage': usage})}\n\n"
                )
            events.append("data: [DONE]\n\n")
        for event in events:
            data = event.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
            self.wfile.flush()
            time.sleep(0.01)
        if chunked and not drop:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = drop or not chunked


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: MisbehavingServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up on purpose in these tests
            super().handle_error(request, client_address)


class MisbehavingServer:
    """``with MisbehavingServer() as server: server.mode = "401"; ... server.base_url``."""

    def __init__(self, mode: str = "ok", hang_s: float = 5.0):
        self.mode = mode
        self.hang_s = hang_s
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="misbehaving-server", daemon=True)

    @property
    def last_headers(self) -> dict[str, str]:
        """Lower-cased header names of the last request."""
        return self.requests[-1]["headers"] if self.requests else {}

    def start(self) -> MisbehavingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> MisbehavingServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
