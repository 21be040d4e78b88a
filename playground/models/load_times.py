"""How long each model took to load last time, kept across restarts, and the line a user
reads while a model loads ("Loading Gemma 3 270M (base) (first use, ~15 s)…").

The times live in a small JSON file in the data folder (``load_times.json``), keyed by the
model's file identity (key, backend, path and size, adapter), not by its name alone: a
model replaced by a bigger file under the same name is measured afresh.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from playground.i18n import Text
from playground.models.types import ModelSpec

log = logging.getLogger(__name__)

LOAD_TIMES_FILE = "load_times.json"
MAX_REMEMBERED = 200  # one line per model file; old ones drop off so the file stays small
WAITING_FOR_MODEL = "waiting for the model…"


def model_identity(spec: ModelSpec) -> str:
    """What makes a load take the time it takes: which file, how big, which backend, adapter."""
    parts = [spec.key, str(spec.backend), spec.path or "", str(spec.size_bytes or ""), spec.gguf_file or ""]
    parts.append(spec.adapter_path or "")
    return "|".join(parts)


def format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    return f"~{max(2, round(seconds / 60))} min"


def loading_line(label: str, seconds: float | None, first_use: bool = True) -> str:
    """The status shown while ``label`` loads, from its last measured load time if any (English)."""
    return str(loading_text(label, seconds, first_use))


def loading_text(label: str, seconds: float | None, first_use: bool = True) -> Text:
    """``loading_line`` as a Text, shown in the reader's language."""
    if seconds is None:
        return Text("models.loading_first_use_unknown", {"name": label})
    key = "models.loading_first_use" if first_use else "models.loading"
    return Text(key, {"name": label, "time": format_seconds(seconds)})


class LoadTimeStore:
    """Last measured load time per model file, in ``<home>/load_times.json``.

    Reads the file afresh on each record, so two app processes on one data folder keep each
    other's entries (the last writer of one model's entry wins). A broken file is ignored
    (and rewritten on the next record): it only holds estimates."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._cache: dict[str, dict] | None = None

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            log.warning("Ignoring unreadable model load times in %s: %s", self.path, err)
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("seconds"), int | float)}

    def seconds(self, spec: ModelSpec) -> float | None:
        with self._lock:
            if self._cache is None:
                self._cache = self._read()
            entry = self._cache.get(model_identity(spec))
        return float(entry["seconds"]) if entry else None

    def record(self, spec: ModelSpec, seconds: float) -> None:
        with self._lock:
            data = self._read()
            data.pop(model_identity(spec), None)  # re-inserted last: the newest entries survive the cap
            data[model_identity(spec)] = {"seconds": round(seconds, 2), "name": spec.name, "measured_at": time.time()}
            data = dict(list(data.items())[-MAX_REMEMBERED:])
            self._cache = data
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                partial = self.path.with_suffix(f".tmp{os.getpid()}")
                partial.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
                os.replace(partial, self.path)
            except OSError as err:  # a read-only data folder costs only the estimate
                log.warning("Could not save model load times to %s: %s", self.path, err)
