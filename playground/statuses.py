"""Every status word the app stores, in one place. The values are what the database holds.

A finished job is "done" everywhere (batch runs, judge runs, fine-tune jobs); a finished
generation is "ok". Compare with these enums rather than with string literals.
"""

from __future__ import annotations

from enum import StrEnum


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
