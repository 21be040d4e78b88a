"""At most ``generation_concurrency`` model answers at once in the whole process.

Gradio's concurrency group caps events per ``gr.Blocks``, and the app serves two of them from
one process (the facilitator's door and the raters' ``/rate`` door), so that cap alone let
twice the setting generate at once. Every generation takes one of these slots for as long as
it streams, whichever door, tab or background job (batch runs, Arena pre-generation, Judge)
asked for it. A generation never holds more than one slot, so waiting cannot deadlock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from playground.errors import UserFacingError
from playground.i18n import t

log = logging.getLogger(__name__)
POLL_S = 0.2  # how often a waiting generation looks at its Stop


class StoppedWhileWaiting(UserFacingError):
    """Stop was pressed before a slot came free: nothing was generated."""


class GenerationSlots:
    def __init__(self, limit: int):
        self.limit = max(1, int(limit))
        self._slots = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self._busy = 0
        self._waiting = 0

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.contextmanager
    def hold(self, cancel: threading.Event | None = None) -> Iterator[None]:
        """One slot for the body; waits (watching ``cancel``) while all are taken."""
        if not self._slots.acquire(blocking=False):
            self._wait_for_slot(cancel)
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
            self._slots.release()

    def _wait_for_slot(self, cancel: threading.Event | None) -> None:
        with self._lock:
            self._waiting += 1
        log.info("All %d generation slots are busy: a generation waits for one", self.limit)
        try:
            while not self._slots.acquire(timeout=POLL_S):
                if cancel is not None and cancel.is_set():
                    raise StoppedWhileWaiting(t("generation.stopped_while_waiting"))
        finally:
            with self._lock:
                self._waiting -= 1
