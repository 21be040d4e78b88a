"""The stages a fine-tuning job goes through before its first training step, said in plain words.

Start only writes the job and launches the worker, so the page shows the job at once; the slow
part (converting a GGUF base to a PyTorch folder on first use, 20-45 s, then loading it) is the
worker's first stage, shown as the job's message. Stop works during those stages too: neither
conversion nor loading can be interrupted from inside, so a watcher thread ends the worker
process as soon as Stop is pressed (no training step has run, so nothing is lost).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from playground.formatting import format_duration
from playground.i18n import Text, t
from playground.models.gguf_convert import convert_gguf, converted_folder_for, is_converted
from playground.models.validation import is_gguf_file
from playground.statuses import FinetuneStatus

log = logging.getLogger(__name__)
CONVERTING = t("finetune.msg_converting")  # "Preparing: converting the base model (first use, about 30 s)…"
LOADING = t("finetune.msg_loading")  # "Preparing: loading the base model…"
STOP_POLL_S = 1.0


def is_gguf(path: Path) -> bool:
    return path.is_file() and is_gguf_file(path)


def base_folder_for(path: Path, cache_dir: Path) -> Path:
    """The Hugging Face folder training loads: a GGUF's converted folder (made on first use, so it
    may not exist yet), else the folder itself."""
    return converted_folder_for(path, cache_dir) if is_gguf(path) else path


def needs_conversion(base_path: Path, base_folder: Path) -> bool:
    return is_gguf(base_path) and not is_converted(base_folder)


def preparing_message(base_path: str | Path, base_folder: str | Path) -> Text:
    """What a job about to start does first: convert its base (first use) or load it."""
    return CONVERTING if needs_conversion(Path(base_path), Path(base_folder)) else LOADING


def prepare_base(reporter: Any, job: Any, cache_dir: Path) -> Path:
    """The base model's Hugging Face folder for ``job``, converted here if this is its first use.

    ``reporter`` is the worker's JobReporter: the stage goes into the job's message and events."""
    from playground.finetune.modeling import check_causal_lm_folder

    base_path, folder = Path(job.base_path), Path(job.base_folder)
    if needs_conversion(base_path, folder):
        reporter.set(message=CONVERTING)
        reporter.event(CONVERTING)
        started = time.perf_counter()
        converted = convert_gguf(base_path, cache_dir)
        if converted != folder:  # the app computed another place (the file changed since): record the real one
            reporter.set(base_folder=str(converted))
            folder = converted
        reporter.event(t("finetune.ev_converted", duration=format_duration(time.perf_counter() - started)))
    return check_causal_lm_folder(folder)


def stopped_while_preparing(checkpoint_step: int) -> Text:
    if checkpoint_step:
        return t("finetune.msg_stopped_preparing_resume", step=checkpoint_step)
    return t("finetune.msg_stopped_preparing")


class StopWhilePreparing:
    """A context for the worker's preparation: when Stop is pressed inside it, the job is marked
    stopped and the process ends at once (``end_process``), instead of after a conversion or load that
    cannot be interrupted."""

    def __init__(
        self,
        reporter: Any,
        checkpoint_step: int = 0,
        poll_s: float = STOP_POLL_S,
        end_process: Callable[[int], Any] = os._exit,
    ):
        self.reporter = reporter
        self.checkpoint_step = checkpoint_step
        self.poll_s = poll_s
        self._end_process = end_process
        self._done = threading.Event()
        self._lock = threading.Lock()  # the watcher's stop and the end of preparation never overlap
        self._thread: threading.Thread | None = None
        self.stopped = False

    def __enter__(self) -> StopWhilePreparing:
        self._thread = threading.Thread(target=self._watch, name="finetune-stop-while-preparing", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._lock:
            self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(self.poll_s):
            try:
                requested = self.reporter.stop_requested()
            except Exception:
                log.exception("could not read the stop flag")
                continue
            if not requested:
                continue
            with self._lock:
                if self._done.is_set():
                    return  # preparation ended meanwhile: the training loop honours the flag
                self.stopped = True
                self.reporter.finish(
                    FinetuneStatus.STOPPED, stopped_while_preparing(self.checkpoint_step), stop_requested=False
                )
                for handler in logging.getLogger().handlers:
                    handler.flush()
                self._end_process(0)
                return
