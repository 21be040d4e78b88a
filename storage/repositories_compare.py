"""Repositories for Compare: templates and their versions, batch rows, run search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from storage.orm import Generation, Run
from storage.orm_compare import BatchRow, PromptTemplate, TemplateVersion


class TemplateRepository:
    def __init__(self, session: Session):
        self.session = session

    def by_name(self, name: str) -> PromptTemplate | None:
        return self.session.scalar(select(PromptTemplate).where(PromptTemplate.name == name))

    def list(self) -> list[PromptTemplate]:
        return list(
            self.session.scalars(
                select(PromptTemplate).options(selectinload(PromptTemplate.versions)).order_by(PromptTemplate.name)
            )
        )

    def latest_version(self, template_id: int) -> TemplateVersion | None:
        query = (
            select(TemplateVersion)
            .where(TemplateVersion.template_id == template_id)
            .order_by(TemplateVersion.version.desc())
            .limit(1)
        )
        return self.session.scalar(query)

    def get_version(self, version_id: int) -> TemplateVersion | None:
        return self.session.scalar(
            select(TemplateVersion)
            .where(TemplateVersion.id == version_id)
            .options(selectinload(TemplateVersion.template))
        )

    def save(self, name: str, body: str, variables: Sequence[str]) -> TemplateVersion:
        """A new version when the body changed; the latest version when it did not."""
        template = self.by_name(name)
        if template is None:
            template = PromptTemplate(name=name)
            self.session.add(template)
            self.session.flush()
        latest = self.latest_version(template.id)
        if latest is not None and latest.body == body:
            return latest
        version = TemplateVersion(
            template_id=template.id, version=(latest.version + 1 if latest else 1), body=body, variables=list(variables)
        )
        self.session.add(version)
        self.session.flush()
        version.template = template
        return version

    def delete(self, name: str) -> bool:
        template = self.by_name(name)
        if template is None:
            return False
        self.session.delete(template)
        self.session.flush()
        return True


class BatchRowRepository:
    def __init__(self, session: Session):
        self.session = session

    def add_many(self, run_id: int, rows: Sequence[dict[str, Any]]) -> None:
        self.session.add_all(BatchRow(run_id=run_id, row_index=i, values=dict(row)) for i, row in enumerate(rows))
        self.session.flush()

    def list_for_run(self, run_id: int) -> list[BatchRow]:
        return list(
            self.session.scalars(select(BatchRow).where(BatchRow.run_id == run_id).order_by(BatchRow.row_index))
        )


class RunSearchRepository:
    """History: find runs by text, model, template and date."""

    def __init__(self, session: Session):
        self.session = session

    def search(
        self,
        *,
        kinds: Sequence[str] | None = None,
        text: str = "",
        model_key: str | None = None,
        template_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[Run]:
        query = (
            select(Run)
            .options(selectinload(Run.generations))
            .order_by(Run.created_at.desc(), Run.id.desc())
            .limit(limit)
        )
        if kinds:
            query = query.where(Run.kind.in_(list(kinds)))
        if text.strip():
            pattern = f"%{text.strip()}%"
            in_outputs = exists().where(Generation.run_id == Run.id, Generation.output.ilike(pattern))
            query = query.where(or_(Run.title.ilike(pattern), in_outputs))
        if model_key:
            query = query.where(exists().where(Generation.run_id == Run.id, Generation.model_key == model_key))
        if template_id is not None:
            versions = select(TemplateVersion.id).where(TemplateVersion.template_id == template_id)
            query = query.where(Run.template_version_id.in_(versions))
        if since is not None:
            query = query.where(Run.created_at >= since)
        if until is not None:
            query = query.where(Run.created_at < until)
        return list(self.session.scalars(query))

    def distinct_models(self) -> list[tuple[str, str]]:
        """(model_key, latest stored model name) for every model that ever answered."""
        latest = (
            select(Generation.model_key, func.max(Generation.id).label("last_id"))
            .group_by(Generation.model_key)
            .subquery()
        )
        query = select(Generation.model_key, Generation.model_name).join(latest, Generation.id == latest.c.last_id)
        return [(key, name) for key, name in self.session.execute(query)]

    def delete_runs(self, run_ids: Sequence[int]) -> int:
        result = self.session.execute(delete(Run).where(Run.id.in_(list(run_ids))))
        return result.rowcount or 0  # type: ignore[attr-defined]  # SQLAlchemy types execute(DML) as Result; it is a CursorResult
