"""Keeping each process's in-memory search indexes in step with the shared database.

Every app process holds its own vector and keyword index per collection. Its own uploads
and deletes update them in place; another process's do not reach them. So each query
first reads the collection's signature in the database (ready files, newest file id,
latest indexing time: one small aggregate query) and drops an index built from another
signature, to be reloaded from the database by that query. A process's own write records
the signature before and after it (read inside its transaction, with the collection locked),
so its in-place update does not cost a reload unless someone else wrote in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

Signature = tuple[int, int, datetime | None]
VECTORS, KEYWORDS = "vectors", "keywords"
INDEXES = (VECTORS, KEYWORDS)


class IndexVersions:
    """The signature each loaded index of a collection reflects."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], Signature] = {}
        self._lock = threading.Lock()

    def loaded(self, index: str, collection_id: int, signature: Signature) -> None:
        """An index was (re)loaded from rows read after ``signature`` was."""
        with self._lock:
            self._seen[(index, collection_id)] = signature

    def outdated(self, collection_id: int, signature: Signature) -> list[str]:
        """The indexes of the collection not known to reflect ``signature`` (dropping one not loaded costs nothing)."""
        with self._lock:
            return [name for name in INDEXES if self._seen.get((name, collection_id)) != signature]

    def wrote(self, collection_id: int, before: Signature, after: Signature) -> list[str]:
        """After this process's own write, applied in place: the indexes that now reflect
        ``after`` move on; returns those that missed someone else's write before it (to drop)."""
        missed = []
        with self._lock:
            for name in INDEXES:
                key = (name, collection_id)
                if key not in self._seen:
                    continue
                if self._seen[key] == before:
                    self._seen[key] = after
                else:
                    missed.append(name)
        return missed


def drop_outdated(names: list[str], drops: dict[str, Callable[[int], None]], collection_id: int) -> None:
    for name in names:
        drops[name](collection_id)
