"""Repository for leases on work in flight (see ``storage.orm_leases``).

Every change is one conditional statement, so two processes racing for one lease cannot
both win: taking an expired lease is an UPDATE guarded by ``expires_at``, creating one an
INSERT that yields to the unique (kind, resource) constraint, and renewing or releasing
one an UPDATE or DELETE guarded by its token. Times come from the caller, so a test can
move the clock.
"""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.orm_leases import WorkLease


class LeaseRepository:
    def __init__(self, session: Session):
        self.session = session

    def take(
        self, kind: str, resource_id: int, owner: str, token: str, now: datetime, expires_at: datetime, note: str = ""
    ) -> bool:
        """Hold the lease if nobody holds a live one: take over an expired row, or create it.
        False when another holder's lease is still live."""
        fields = dict(
            owner=owner, token=token, acquired_at=now, renewed_at=now, expires_at=expires_at, stop_requested=False
        )
        taken = self.session.execute(
            update(WorkLease)
            .where(WorkLease.kind == kind, WorkLease.resource_id == resource_id, WorkLease.expires_at <= now)
            .values(note=note, **fields)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount:  # type: ignore[attr-defined]  # execute(DML) gives a CursorResult
            return True
        return self._insert_unless_held(dict(kind=kind, resource_id=resource_id, note=note, **fields))

    def _insert_unless_held(self, row: dict) -> bool:
        dialect = self.session.get_bind().dialect.name
        if dialect in ("sqlite", "postgresql"):
            module = sqlite if dialect == "sqlite" else postgresql
            statement = module.insert(WorkLease).values(**row).on_conflict_do_nothing().returning(WorkLease.id)
            # RETURNING, not rowcount: drivers disagree on the rowcount of a skipped insert (psycopg says -1).
            return self.session.execute(statement).scalar() is not None
        try:  # another database: let the unique constraint answer inside a savepoint
            with self.session.begin_nested():
                self.session.execute(insert(WorkLease).values(**row))
            return True
        except IntegrityError:
            return False

    def renew(
        self,
        kind: str,
        resource_id: int,
        token: str,
        owner: str,
        now: datetime,
        expires_at: datetime,
        note: str | None = None,
    ) -> WorkLease | None:
        """Extend the lease ``owner`` holds with ``token``; None when it no longer does (it was
        released, cleaned up, taken over, or handed to the process it was taken for)."""
        return self._extend(kind, resource_id, token, owner, now, expires_at, WorkLease.owner == owner, note=note)

    def adopt(
        self, kind: str, resource_id: int, token: str, owner: str, now: datetime, expires_at: datetime
    ) -> WorkLease | None:
        """Make ``owner`` the holder of the lease taken with ``token`` (a worker process taking
        over the launch lease its app took for it); None when that token holds nothing."""
        return self._extend(kind, resource_id, token, owner, now, expires_at)

    def _extend(self, kind, resource_id, token, owner, now, expires_at, *conditions, note=None) -> WorkLease | None:
        fields = dict(owner=owner, renewed_at=now, expires_at=expires_at)
        if note is not None:
            fields["note"] = note
        changed = self.session.execute(
            update(WorkLease)
            .where(WorkLease.kind == kind, WorkLease.resource_id == resource_id, WorkLease.token == token, *conditions)
            .values(**fields)
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            return None
        return self.get(kind, resource_id)

    def set_note(self, kind: str, resource_id: int, token: str, note: str) -> bool:
        changed = self.session.execute(
            update(WorkLease)
            .where(WorkLease.kind == kind, WorkLease.resource_id == resource_id, WorkLease.token == token)
            .values(note=note)
            .execution_options(synchronize_session=False)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    def release(self, kind: str, resource_id: int, token: str) -> bool:
        """Give the lease up; False when ``token`` did not hold it any more."""
        gone = self.session.execute(
            delete(WorkLease)
            .where(WorkLease.kind == kind, WorkLease.resource_id == resource_id, WorkLease.token == token)
            .execution_options(synchronize_session=False)
        )
        return bool(gone.rowcount)  # type: ignore[attr-defined]

    def drop(self, kind: str, resource_id: int) -> bool:
        """Remove the lease whoever holds it (the work it covered was cleaned up)."""
        gone = self.session.execute(
            delete(WorkLease)
            .where(WorkLease.kind == kind, WorkLease.resource_id == resource_id)
            .execution_options(synchronize_session=False)
        )
        return bool(gone.rowcount)  # type: ignore[attr-defined]

    def request_stop(self, kind: str, resource_id: int, now: datetime) -> bool:
        """Ask the holder of a live lease to stop; False when no live lease exists."""
        changed = self.session.execute(
            update(WorkLease)
            .where(WorkLease.kind == kind, WorkLease.resource_id == resource_id, WorkLease.expires_at > now)
            .values(stop_requested=True)
            .execution_options(synchronize_session=False)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    def get(self, kind: str, resource_id: int) -> WorkLease | None:
        query = select(WorkLease).where(WorkLease.kind == kind, WorkLease.resource_id == resource_id)
        return self.session.scalars(query.execution_options(populate_existing=True)).first()

    def live(self, kind: str, resource_id: int, now: datetime) -> WorkLease | None:
        lease = self.get(kind, resource_id)
        return lease if lease is not None and lease.expires_at > now else None

    def all(self, kind: str | None = None) -> builtins.list[WorkLease]:
        query = select(WorkLease).order_by(WorkLease.kind, WorkLease.resource_id)
        if kind is not None:
            query = query.where(WorkLease.kind == kind)
        return list(self.session.scalars(query.execution_options(populate_existing=True)))
