"""What the cost and time estimates read back: a model's recent answers (their speed, lengths and
token counts) and the answers a run made after a given point (its actual usage)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.orm import Generation


class SpeedRepository:
    def __init__(self, session: Session):
        self.session = session

    def recent(self, model_key: str, status: str = "ok", limit: int = 50) -> list[Generation]:
        """The model's last ``limit`` answers with ``status``, newest first."""
        query = (
            select(Generation)
            .where(Generation.model_key == model_key, Generation.status == status)
            .order_by(Generation.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def last_generation_id(self) -> int:
        """The newest answer's id (0 with none): a run's own answers are those after it."""
        return int(self.session.scalar(select(func.max(Generation.id))) or 0)

    def run_answers(self, run_id: int, after_id: int = 0) -> list[Generation]:
        """A run's answers with an id above ``after_id``, oldest first."""
        query = select(Generation).where(Generation.run_id == run_id, Generation.id > after_id).order_by(Generation.id)
        return list(self.session.scalars(query))
