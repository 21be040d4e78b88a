"""Repository for connections and the models they listed (see ``storage.orm_connections``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.orm import ModelEntry, utc_now
from storage.orm_connections import Connection, ConnectionModel
from storage.repositories import _set_fields


class ConnectionRepository:
    def __init__(self, session: Session):
        self.session = session

    # ---- connections -------------------------------------------------------------
    def add(self, **fields: Any) -> Connection:
        row = Connection()
        _set_fields(row, fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> Connection | None:
        return self.session.get(Connection, id)

    def by_name(self, name: str) -> Connection | None:
        return self.session.scalar(select(Connection).where(Connection.name == name))

    def update(self, id: int, **fields: Any) -> Connection:
        row = self.get(id)
        if row is None:
            raise LookupError(f"There is no connection with id {id}.")
        _set_fields(row, fields)
        self.session.flush()
        return row

    def delete(self, id: int) -> list[int]:
        """Delete the connection and the model entries added from it; the ids of those entries."""
        row = self.get(id)
        if row is None:
            return []
        entry_ids = self.entry_ids(id)
        if entry_ids:
            self.session.execute(delete(ModelEntry).where(ModelEntry.id.in_(entry_ids)))
        self.session.delete(row)
        self.session.flush()
        return entry_ids

    def entry_ids(self, connection_id: int) -> list[int]:
        query = select(ModelEntry.id).where(ModelEntry.connection_id == connection_id).order_by(ModelEntry.id)
        return list(self.session.scalars(query))

    # ---- what a connection listed ------------------------------------------------
    def models(self, connection_id: int) -> list[ConnectionModel]:
        query = (
            select(ConnectionModel)
            .where(ConnectionModel.connection_id == connection_id)
            .order_by(func.lower(ConnectionModel.remote_model), ConnectionModel.id)
        )
        return list(self.session.scalars(query))

    def model(self, connection_id: int, remote_model: str) -> ConnectionModel | None:
        query = select(ConnectionModel).where(
            ConnectionModel.connection_id == connection_id, ConnectionModel.remote_model == remote_model
        )
        return self.session.scalar(query)

    def record_listing(
        self, connection_id: int, listed: Iterable[tuple[str, dict[str, Any], int | None]], *, complete: bool = True
    ) -> tuple[list[str], list[str]]:
        """Store what the server listed now: ``(remote model, details, context length)`` each.

        With ``complete`` (a whole listing), models not listed any more are flagged absent,
        never deleted. Returns (newly seen, newly gone) model names."""
        now: datetime = utc_now()
        known = {m.remote_model: m for m in self.models(connection_id)}
        seen: set[str] = set()
        added: list[str] = []
        for remote_model, details, context_length in listed:
            seen.add(remote_model)
            row = known.get(remote_model)
            if row is None:
                row = ConnectionModel(connection_id=connection_id, remote_model=remote_model, first_seen=now)
                self.session.add(row)
                added.append(remote_model)
            elif not row.present:
                added.append(remote_model)
            row.details, row.context_length, row.present, row.last_seen = dict(details), context_length, True, now
        gone = []
        if complete:
            connection = self.get(connection_id)
            if connection is not None:
                connection.listed_at = now
            for name, row in known.items():
                if name not in seen and row.present:
                    row.present = False
                    gone.append(name)
        self.session.flush()
        return added, gone

    def link_entry(self, connection_id: int, remote_model: str, entry_id: int | None) -> None:
        row = self.model(connection_id, remote_model)
        if row is None:
            raise LookupError(f"Connection {connection_id} never listed {remote_model!r}.")
        row.model_entry_id = entry_id
        self.session.flush()

    # Last: below this line ``list`` would name the method, not the type.
    def list(self) -> list[Connection]:
        """By name, ignoring case (the same order on every database)."""
        return list(self.session.scalars(select(Connection).order_by(func.lower(Connection.name), Connection.id)))
