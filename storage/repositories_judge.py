"""Repository for the judge's tables. Reads return ORM rows usable after the session closes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.orm_judge import HumanGrade, JudgeGrade, JudgeJob, JudgeRubric, JudgeVerdict


class JudgeRepository:
    def __init__(self, session: Session):
        self.session = session

    def _add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    # ---- rubrics ---------------------------------------------------------------------
    def add_rubric_version(self, name: str, criteria: list[dict[str, Any]]) -> JudgeRubric:
        """Save the next version of the rubric called ``name`` (version 1 for a new name)."""
        latest = self.session.scalar(select(func.max(JudgeRubric.version)).where(JudgeRubric.name == name))
        return self._add(JudgeRubric(name=name, version=int(latest or 0) + 1, criteria=criteria))

    def get_rubric(self, rubric_id: int) -> JudgeRubric | None:
        return self.session.get(JudgeRubric, rubric_id)

    def list_rubrics(self) -> list[JudgeRubric]:
        return list(self.session.scalars(select(JudgeRubric).order_by(JudgeRubric.name, JudgeRubric.version.desc())))

    # ---- jobs ------------------------------------------------------------------------
    def add_job(self, **fields: Any) -> JudgeJob:
        return self._add(JudgeJob(**fields))

    def get_job(self, job_id: int) -> JudgeJob | None:
        return self.session.get(JudgeJob, job_id)

    def list_jobs(
        self, target_kind: str | None = None, target_id: int | None = None, limit: int = 200
    ) -> list[JudgeJob]:
        query = select(JudgeJob).order_by(JudgeJob.created_at.desc(), JudgeJob.id.desc()).limit(limit)
        if target_kind is not None:
            query = query.where(JudgeJob.target_kind == target_kind)
        if target_id is not None:
            query = query.where(JudgeJob.target_id == target_id)
        return list(self.session.scalars(query))

    def jobs_with_status(self, status: str) -> list[JudgeJob]:
        return list(self.session.scalars(select(JudgeJob).where(JudgeJob.status == status).order_by(JudgeJob.id)))

    # ---- grades and verdicts ------------------------------------------------------------
    def add_grade(self, **fields: Any) -> JudgeGrade:
        return self._add(JudgeGrade(**fields))

    def grades(self, job_id: int) -> list[JudgeGrade]:
        return list(
            self.session.scalars(
                select(JudgeGrade).where(JudgeGrade.job_id == job_id).order_by(JudgeGrade.position, JudgeGrade.id)
            )
        )

    def add_verdict(self, **fields: Any) -> JudgeVerdict:
        return self._add(JudgeVerdict(**fields))

    def verdicts(self, job_id: int) -> list[JudgeVerdict]:
        return list(
            self.session.scalars(select(JudgeVerdict).where(JudgeVerdict.job_id == job_id).order_by(JudgeVerdict.id))
        )

    # ---- human grades -------------------------------------------------------------------
    def set_human_grade(self, item_ref: str, criterion: str, score: int, rater: str, **links: Any) -> HumanGrade:
        """One grade per answer, criterion and rater: entering it again replaces it."""
        query = select(HumanGrade).where(
            HumanGrade.item_ref == item_ref, HumanGrade.criterion == criterion, HumanGrade.rater == rater
        )
        row = self.session.scalar(query)
        if row is None:
            return self._add(HumanGrade(item_ref=item_ref, criterion=criterion, score=score, rater=rater, **links))
        row.score = score
        self.session.flush()
        return row

    def delete_human_grade(self, item_ref: str, criterion: str, rater: str) -> int:
        result = self.session.execute(
            delete(HumanGrade).where(
                HumanGrade.item_ref == item_ref, HumanGrade.criterion == criterion, HumanGrade.rater == rater
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # SQLAlchemy types execute(DML) as Result; it is a CursorResult

    def human_grades(self, item_refs: Sequence[str]) -> list[HumanGrade]:
        if not item_refs:
            return []
        query = select(HumanGrade).where(HumanGrade.item_ref.in_(list(item_refs))).order_by(HumanGrade.id)
        return list(self.session.scalars(query))
