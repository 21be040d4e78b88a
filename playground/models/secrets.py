"""API keys typed into the UI at runtime: kept in this process's memory only, never on disk."""

from __future__ import annotations

import threading


class SecretStore:
    """A thread-safe ``{model key: API key}`` dict whose repr never shows the values."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def set(self, key: str, value: str) -> None:
        value = (value or "").strip()
        with self._lock:
            if value:
                self._values[key] = value
            else:
                self._values.pop(key, None)

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._values.get(key)

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._values

    def __repr__(self) -> str:
        with self._lock:
            return f"SecretStore(keys={sorted(self._values)!r})"
