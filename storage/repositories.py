"""Thin repositories: each wraps one table and is handed a Session by the unit of work.

``add`` flushes so the new row has its id (and a duplicate name fails right there).
``get``/``by_*`` return ``None`` when nothing matches; ``delete`` returns whether a row was deleted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.orm import Base, Endpoint, Generation, ModelEntry, ModelFolder, Run


def _set_fields(row: Base, fields: dict[str, Any]) -> None:
    columns = row.__mapper__.columns.keys()
    unknown = sorted(set(fields) - set(columns))
    if unknown:
        raise TypeError(f"{type(row).__name__} has no column(s) {', '.join(unknown)}")
    for name, value in fields.items():
        setattr(row, name, value)


class _Repository:
    model: type[Base]

    def __init__(self, session: Session):
        self.session = session

    def _add(self, **fields: Any) -> Any:
        row = self.model()
        _set_fields(row, fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> Any | None:
        return self.session.get(self.model, id)

    def delete(self, id: int) -> bool:
        row = self.session.get(self.model, id)
        if row is None:
            return False
        self.session.delete(row)
        self.session.flush()
        return True


class EndpointRepository(_Repository):
    model = Endpoint

    def add(self, **fields: Any) -> Endpoint:
        return self._add(**fields)

    def get(self, id: int) -> Endpoint | None:
        return super().get(id)

    def by_name(self, name: str) -> Endpoint | None:
        return self.session.scalar(select(Endpoint).where(Endpoint.name == name))

    def list(self) -> list[Endpoint]:
        """By name, ignoring case (the same order on every database)."""
        return list(self.session.scalars(select(Endpoint).order_by(func.lower(Endpoint.name), Endpoint.id)))


class ModelEntryRepository(_Repository):
    model = ModelEntry

    def add(self, **fields: Any) -> ModelEntry:
        return self._add(**fields)

    def get(self, id: int) -> ModelEntry | None:
        return super().get(id)

    def by_name(self, name: str) -> ModelEntry | None:
        return self.session.scalar(select(ModelEntry).where(ModelEntry.name == name))

    def by_path(self, path: str) -> ModelEntry | None:
        """The first entry (oldest) with this path; paths are not unique (e.g. one folder, two adapters)."""
        query = select(ModelEntry).where(ModelEntry.path == path).order_by(ModelEntry.id).limit(1)
        return self.session.scalar(query)

    def list(self) -> list[ModelEntry]:
        """By name, ignoring case (the same order on every database)."""
        return list(self.session.scalars(select(ModelEntry).order_by(func.lower(ModelEntry.name), ModelEntry.id)))


class ModelFolderRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, path: str) -> ModelFolder:
        """Adds the folder, or returns it if it is already there."""
        existing = self.by_path(path)
        if existing is not None:
            return existing
        folder = ModelFolder(path=path)
        self.session.add(folder)
        self.session.flush()
        return folder

    def by_path(self, path: str) -> ModelFolder | None:
        return self.session.scalar(select(ModelFolder).where(ModelFolder.path == path))

    def list(self) -> list[ModelFolder]:
        return list(self.session.scalars(select(ModelFolder).order_by(ModelFolder.path)))

    def delete(self, path: str) -> bool:
        folder = self.by_path(path)
        if folder is None:
            return False
        self.session.delete(folder)
        self.session.flush()
        return True


class RunRepository(_Repository):
    model = Run

    def add(self, kind: str, title: str = "", meta: dict[str, Any] | None = None) -> Run:
        return self._add(kind=kind, title=title, meta=dict(meta or {}))

    def get(self, id: int) -> Run | None:
        """The run with its generations loaded (in column order), usable after the session closes."""
        query = select(Run).where(Run.id == id).options(selectinload(Run.generations))
        return self.session.scalar(query)

    def list(self, kind: str | None = None, limit: int = 100, offset: int = 0) -> list[Run]:
        """Newest first; generations are not loaded."""
        query = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit).offset(offset)
        if kind is not None:
            query = query.where(Run.kind == kind)
        return list(self.session.scalars(query))


class GenerationRepository(_Repository):
    model = Generation

    def add(self, run_id: int, **fields: Any) -> Generation:
        return self._add(run_id=run_id, **fields)

    def get(self, id: int) -> Generation | None:
        return super().get(id)

    def update(self, id: int, **fields: Any) -> Generation:
        generation = self.session.get(Generation, id)
        if generation is None:
            raise LookupError(f"There is no generation with id {id}.")
        _set_fields(generation, fields)
        self.session.flush()
        return generation

    def list_for_run(self, run_id: int) -> list[Generation]:
        query = select(Generation).where(Generation.run_id == run_id).order_by(Generation.position, Generation.id)
        return list(self.session.scalars(query))
