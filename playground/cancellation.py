"""Stop buttons: a token per long action, so a Stop click reaches the right generation."""

from __future__ import annotations

import threading
import uuid

MAX_TOKENS = 10_000


class CancelTokens:
    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def new(self) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._events[token] = threading.Event()
            self._trim()
        return token

    def event(self, token: str) -> threading.Event:
        """The token's event, made for a token this process did not issue (an API caller's own)."""
        with self._lock:
            event = self._events.setdefault(token, threading.Event())
            self._trim()
            return event

    def _trim(self) -> None:
        # A click whose run was refused before it began never releases its token, nor does a call
        # that names a token of its own; past the cap the oldest go (a run still in flight after
        # that many newer ones would lose only its Stop).
        while len(self._events) > MAX_TOKENS:
            self._events.pop(next(iter(self._events)))

    def cancel(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            event = self._events.get(token)
        if event is None:
            return False
        event.set()
        return True

    def release(self, token: str) -> None:
        with self._lock:
            self._events.pop(token, None)
