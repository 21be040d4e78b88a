"""Storage-level errors, so the services above never catch SQLAlchemy's own exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError


class ConflictError(Exception):
    """A write broke a database constraint: it repeats a unique key (a second vote on one
    battle, a name another request took a moment earlier) or refers to a row that is gone.

    The transaction it happened in is rolled back when the unit of work ends, so callers
    may retry in a new unit of work or treat the first write as the one that stands.
    """


@contextmanager
def conflicts_translated() -> Iterator[None]:
    """Turn an ``IntegrityError`` raised inside the block into a ``ConflictError``."""
    try:
        yield
    except IntegrityError as err:
        raise ConflictError(str(err.orig)) from err
