"""A participant's call that names a remote URL as a file is refused before Gradio downloads it.

Gradio fetches such a file on the server (public addresses only, but with no size limit and
past ``PLAYGROUND_MAX_UPLOAD_MB``); no Playground page ever sends one.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import gradio.processing_utils as processing_utils
import httpx
import pytest
from gradio_client import Client, handle_file

from components.remote_files import RemoteFileRefusal, names_remote_file
from tests.e2e.arena_doors import ADMIN, serve_room

REMOTE = {"path": "https://example.com/10GB.bin", "meta": {"_type": "gradio.FileData"}, "orig_name": "10GB.bin"}


def test_a_file_object_with_a_url_path_is_found_wherever_it_is_nested():
    assert names_remote_file({"data": [None, [REMOTE]], "fn_index": 3})
    assert names_remote_file({"data": [{"path": "//example.com/x", "orig_name": "x"}]})
    assert names_remote_file([{"path": " HTTP://example.com/x", "meta": {"_type": "gradio.FileData"}}])
    local = {"path": "/tmp/gradio/abc/report.pdf", "meta": {"_type": "gradio.FileData"}}
    assert not names_remote_file({"data": [[local], "see https://example.com", {"path": "https://x"}]})


def _call(app, body: bytes, headers: dict[str, str]) -> tuple[int, dict, list[bytes]]:
    """One POST through ``app``; (status, JSON answer, bodies the inner app received)."""
    answer: dict = {"status": None, "body": b""}
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)] or [b""]

    async def receive():
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/gradio_api/queue/join",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(app(scope, receive, send))
    return answer["status"], json.loads(answer["body"] or b"{}"), app.app.seen


class Inner:
    """The app behind the middleware: records what reached it."""

    def __init__(self):
        self.seen: list[bytes] = []

    async def __call__(self, scope, receive, send):
        message = await receive()
        self.seen.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})


JSON = {"content-type": "application/json"}


def test_the_middleware_refuses_a_remote_file_and_passes_everything_else_unchanged():
    refused = json.dumps({"data": [None, [REMOTE]], "fn_index": 1}).encode()
    status, answer, seen = _call(RemoteFileRefusal(Inner()), refused, JSON)
    assert status == 400 and "uploaded, not given as a web address" in answer["error"] and seen == []

    status, answer, _ = _call(RemoteFileRefusal(Inner()), refused, {**JSON, "accept-language": "pt-BR,pt;q=0.9"})
    assert status == 400 and answer["error"].startswith("Os arquivos precisam ser enviados")

    fine = json.dumps({"data": ["x" * 5000, [{"path": "/tmp/gradio/a.txt", "orig_name": "a.txt"}]]}).encode()
    status, answer, seen = _call(RemoteFileRefusal(Inner()), fine, JSON)
    assert status == 200 and seen == [fine]  # read in pieces, handed on whole

    status, answer, seen = _call(RemoteFileRefusal(Inner(), max_body=4096), fine, JSON)
    assert status == 413 and "too large" in answer["error"] and seen == []


@pytest.mark.slow
def test_the_running_app_never_downloads_a_file_named_by_url(tmp_path, monkeypatch):
    fetched: list[str] = []

    async def recording_download(url, cache_dir):
        fetched.append(url)
        raise RuntimeError("the test's stand-in for a download")

    monkeypatch.setattr(processing_utils, "async_ssrf_protected_download", recording_download)
    monkeypatch.setattr(processing_utils, "ssrf_protected_download", lambda url, cache_dir: fetched.append(url))
    local = tmp_path / "notes.txt"
    local.write_text("Refunds are paid within 14 days.\n\nDeliveries leave at six.")
    with serve_room(tmp_path / "home") as room:
        client = Client(room.url, auth=ADMIN, verbose=False)
        with pytest.raises(httpx.HTTPStatusError, match="400 Bad Request"):
            client.predict(None, [handle_file("https://example.com/10GB.bin")], api_name="/rag_preview")
        assert fetched == []  # refused before Gradio's download was reached
        preview = client.predict(None, [handle_file(str(local))], api_name="/rag_preview")  # uploads still work
        assert preview["data"] == [["notes.txt", "TXT", 1, 58, "", "OK"]]


@pytest.mark.slow
def test_uploaded_files_are_deleted_once_older_than_the_retention(tmp_path):
    """Gradio keeps an upload until told otherwise; the doors tell it (both doors: an upload to
    the rater door, which has no file input at all, is kept otherwise)."""
    from components.doors import mount_doors, serve
    from playground.models.fake import fake_backends
    from playground.services import Services
    from playground.settings import Settings
    from playground.startup import DoorLogins
    from tests.e2e.app_process import free_port

    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'db.sqlite'}", upload_retention_hours=2 / 3600)
    services = Services.create(settings, backends=fake_backends())
    port = free_port()
    served = serve(mount_doors(services, DoorLogins(admin=[ADMIN], rater=None), port=port), host="127.0.0.1", port=port)
    try:
        kept = []
        browser = httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=30)
        login = browser.post("login", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert login.status_code == 200, login.text
        for door in ("", "rate/"):
            answer = browser.post(
                f"{door}gradio_api/upload", files={"files": ("notes.txt", b"uploaded by a participant")}
            )
            assert answer.status_code == 200, answer.text
            kept += answer.json()
        assert all(Path(path).exists() for path in kept)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(Path(path).exists() for path in kept):
            time.sleep(0.5)
        assert not any(Path(path).exists() for path in kept)
    finally:
        served.close()
        services.close()
