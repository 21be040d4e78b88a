"""Every status word the app stores, in one place. The values are what the database holds.

A finished job is "done" everywhere (batch runs, judge runs, fine-tune jobs); a finished
generation is "ok". Compare with these enums rather than with string literals.
"""

from __future__ import annotations

from enum import StrEnum

from playground.i18n import Text, catalogue


class GenerationStatus(StrEnum):
    """One answer from one model (Compare columns, batch cells, judge calls, arena answers)."""

    WAITING = "waiting"
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    """A long run that is not a worker process: a batch, a judge run."""

    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class FinetuneStatus(StrEnum):
    """A fine-tune job's life; the worker process moves it from STARTING to an ending."""

    CREATED = "created"
    PREFLIGHT = "preflight"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    DONE = "done"  # stored as "succeeded" before migration 0003
    FAILED = "failed"


def status_text(status: str) -> Text:
    """A stored status word as the reader sees it (e.g. "cancelled" → "cancelado" in Portuguese);
    a word the catalogue does not know is shown as it is."""
    key = f"models.status_{status}"
    return Text(key) if catalogue().has(key) else Text("models.status_other", {"status": str(status)})
