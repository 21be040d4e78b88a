"""Start the real app (launcher.py) in a subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def refusal_errors() -> tuple[type[Exception], ...]:
    """What gradio_client raises for a refusal: AppError from a handler, ValidationError from an
    event's validator (components/ui_errors.refusals). Both carry the app's sentence."""
    from gradio_client.exceptions import AppError, ValidationError

    return (AppError, ValidationError)


REFUSED = refusal_errors()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    process: subprocess.Popen
    url: str
    data_dir: Path
    log_path: Path
    startup_s: float

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_app(data_dir: Path, *extra_args: str, env: dict | None = None, timeout_s: float = 90) -> RunningApp:
    port = free_port()
    log_path = data_dir.parent / f"app-{port}.log"
    full_env = {**os.environ, "PLAYGROUND_HOME": str(data_dir), **(env or {})}
    full_env.pop("DATABASE_URL", None) if "DATABASE_URL" not in (env or {}) else None
    started = time.perf_counter()
    with log_path.open("w") as log:  # a file, never a pipe: nobody would drain a pipe
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "launcher.py"),
                "--port",
                str(port),
                "--no-browser",
                "--data-dir",
                str(data_dir),
                *extra_args,
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    app = RunningApp(process, url, data_dir, log_path, 0.0)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.log_tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                app.startup_s = time.perf_counter() - started
                return app
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    app.stop()
    raise RuntimeError(f"the app did not answer within {timeout_s} s:\n{app.log_tail()}")
