"""The one progress protocol every long job speaks, and the helpers around it.

A long job (batch, repeat, RAG ingest and sweep, arena pre-generation, judge, base vs tuned)
reports ``Progress(done, total, message, item)``: how many units are finished, out of how
many, a short sentence for the user, and the item just finished (or None). Jobs that take a
callback take an ``OnProgress``; jobs that stream snapshots yield objects whose ``progress``
property returns a ``Progress``. The UI turns either into its progress bar with one helper
(``components.widgets.progress_reporter``), and ``complete()`` reads a stream to its end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from playground.i18n import Text

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str | Text = ""  # a Text is shown in the reader's language
    item: Any = None  # the unit just finished, when the caller may want it (a question, a file)

    @property
    def fraction(self) -> float:
        if self.total <= 0:
            return 0.0
        return max(0.0, min(1.0, self.done / self.total))


OnProgress = Callable[[Progress], None]


def notify(on_progress: OnProgress | None, done: int, total: int, message: str | Text = "", item: Any = None) -> None:
    """Report to ``on_progress`` if there is one: jobs call this instead of checking for None."""
    if on_progress is not None:
        on_progress(Progress(done, total, message, item))


def scaled(
    on_progress: OnProgress | None, part: int, parts: int, label: str | Text, resolution: int = 1000
) -> OnProgress | None:
    """Progress of part ``part`` (0-based) of ``parts``, mapped onto the whole job.

    A file's chunks or a sweep point's steps then move one bar across the whole job, and the
    message says which part is running. ``resolution`` units make up the whole job.
    """
    if on_progress is None:
        return None
    total = max(1, parts) * resolution

    def report(inner: Progress) -> None:
        done = part * resolution + round(inner.fraction * resolution)
        message: str | Text = label
        if inner.message:
            translated = isinstance(label, Text) or isinstance(inner.message, Text)
            parts = {"label": label, "message": inner.message}
            message = Text("models.progress_part", parts) if translated else f"{label}: {inner.message}"
        on_progress(Progress(done, total, message, inner.item))

    return report


def complete(stream: Iterable[T]) -> T:
    """Read a stream of snapshots to its end and return the last one (the finished state)."""
    last: Any = _NOTHING
    for snapshot in stream:
        last = snapshot
    if last is _NOTHING:
        raise RuntimeError("the stream ended without yielding anything")
    return last


_NOTHING = object()


@dataclass
class RunStatus:
    """How a tracked run ended: running until the body finishes, then done, cancelled or failed."""

    value: str = "running"


@contextmanager
def tracked_run(close: Callable[[str], None]) -> Iterator[RunStatus]:
    """Run the body of a long job and always record how it ended.

    The body sets ``status.value`` to "done" or "cancelled" when it finishes normally. A page
    that goes away mid-stream (GeneratorExit) counts as cancelled, and an error as failed;
    ``close(status)`` runs in every case, so the stored job never stays "running".
    """
    status = RunStatus()
    try:
        yield status
        if status.value == "running":
            status.value = "done"
    except GeneratorExit:
        status.value = "cancelled"
        raise
    except BaseException:
        status.value = "failed"
        raise
    finally:
        close(status.value)
