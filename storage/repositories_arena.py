"""Repository for the Arena tables. Reads return ORM rows or plain dicts usable after the session closes.

Writes flush at once, so a row that breaks a constraint raises ``ConflictError`` right there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage.errors import conflicts_translated
from storage.orm import Generation
from storage.orm_arena import (
    ArenaAnswer,
    ArenaBattle,
    ArenaContestant,
    ArenaEvaluation,
    ArenaPrompt,
    ArenaRater,
    ArenaVote,
)


class ArenaRepository:
    def __init__(self, session: Session):
        self.session = session

    # ---- evaluations ---------------------------------------------------------------
    def add_evaluation(self, **fields: Any) -> ArenaEvaluation:
        evaluation = ArenaEvaluation(**fields)
        self.session.add(evaluation)
        self.session.flush()
        return evaluation

    def get_evaluation(self, evaluation_id: int) -> ArenaEvaluation | None:
        return self.session.get(ArenaEvaluation, evaluation_id)

    def evaluation_by_name(self, name: str) -> ArenaEvaluation | None:
        return self.session.scalar(select(ArenaEvaluation).where(ArenaEvaluation.name == name))

    def evaluation_by_code(self, code: str) -> ArenaEvaluation | None:
        return self.session.scalar(select(ArenaEvaluation).where(ArenaEvaluation.join_code == code))

    def list_evaluations(self) -> list[ArenaEvaluation]:
        return list(
            self.session.scalars(
                select(ArenaEvaluation).order_by(ArenaEvaluation.created_at.desc(), ArenaEvaluation.id.desc())
            )
        )

    def delete_evaluation(self, evaluation_id: int) -> bool:
        evaluation = self.session.get(ArenaEvaluation, evaluation_id)
        if evaluation is None:
            return False
        self.session.delete(evaluation)
        self.session.flush()
        return True

    # ---- prompts, contestants, answers -------------------------------------------------
    def add(self, row: Any) -> Any:
        self.session.add(row)
        with conflicts_translated():
            self.session.flush()
        return row

    def add_all(self, rows: Sequence[Any]) -> None:
        self.session.add_all(rows)
        with conflicts_translated():
            self.session.flush()

    def add_if_new(self, row: Any) -> bool:
        """Add a row unless it conflicts with one already stored (then False). Only this row is
        undone (a savepoint), so the rest of the unit of work goes on."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    def get_prompt(self, prompt_id: int) -> ArenaPrompt | None:
        return self.session.get(ArenaPrompt, prompt_id)

    def prompts(self, evaluation_id: int) -> list[ArenaPrompt]:
        query = select(ArenaPrompt).where(ArenaPrompt.evaluation_id == evaluation_id).order_by(ArenaPrompt.position)
        return list(self.session.scalars(query))

    def contestants(self, evaluation_id: int) -> list[ArenaContestant]:
        query = (
            select(ArenaContestant)
            .where(ArenaContestant.evaluation_id == evaluation_id)
            .order_by(ArenaContestant.position)
        )
        return list(self.session.scalars(query))

    def get_contestant(self, contestant_id: int) -> ArenaContestant | None:
        return self.session.get(ArenaContestant, contestant_id)

    def answers(self, evaluation_id: int, source: str | None = None) -> list[ArenaAnswer]:
        """Every answer of an evaluation, or only those to prompts of one source (set | live | import)."""
        query = (
            select(ArenaAnswer)
            .join(ArenaPrompt, ArenaPrompt.id == ArenaAnswer.prompt_id)
            .where(ArenaPrompt.evaluation_id == evaluation_id)
            .order_by(ArenaPrompt.position, ArenaAnswer.contestant_id)
        )
        if source is not None:
            query = query.where(ArenaPrompt.source == source)
        return list(self.session.scalars(query))

    def max_prompt_position(self, evaluation_id: int) -> int:
        value = self.session.scalar(
            select(func.max(ArenaPrompt.position)).where(ArenaPrompt.evaluation_id == evaluation_id)
        )
        return -1 if value is None else int(value)

    def answer_for(self, prompt_id: int, contestant_id: int) -> ArenaAnswer | None:
        query = select(ArenaAnswer).where(
            and_(ArenaAnswer.prompt_id == prompt_id, ArenaAnswer.contestant_id == contestant_id)
        )
        return self.session.scalar(query)

    def get_answer(self, answer_id: int) -> ArenaAnswer | None:
        return self.session.get(ArenaAnswer, answer_id)

    def answer_usage(self, evaluation_id: int) -> list[dict[str, Any]]:
        """Per answer: contestant, status and the usage figures its generation logged."""
        query = (
            select(
                ArenaAnswer.contestant_id,
                ArenaAnswer.status,
                Generation.total_s,
                Generation.cost_usd,
                Generation.price_source,
                Generation.completion_tokens,
            )
            .join(ArenaPrompt, ArenaPrompt.id == ArenaAnswer.prompt_id)
            .outerjoin(Generation, Generation.id == ArenaAnswer.generation_id)
            .where(ArenaPrompt.evaluation_id == evaluation_id)
        )
        return [dict(row._mapping) for row in self.session.execute(query)]

    # ---- battles -------------------------------------------------------------------
    def battles(self, evaluation_id: int) -> list[ArenaBattle]:
        query = select(ArenaBattle).where(ArenaBattle.evaluation_id == evaluation_id).order_by(ArenaBattle.position)
        return list(self.session.scalars(query))

    def get_battle(self, battle_id: int) -> ArenaBattle | None:
        return self.session.get(ArenaBattle, battle_id)

    def battle_by_token(self, token: str) -> ArenaBattle | None:
        return self.session.scalar(select(ArenaBattle).where(ArenaBattle.token == token))

    def max_battle_position(self, evaluation_id: int) -> int:
        value = self.session.scalar(
            select(func.max(ArenaBattle.position)).where(ArenaBattle.evaluation_id == evaluation_id)
        )
        return -1 if value is None else int(value)

    def battle_rows(self, evaluation_id: int) -> list[dict[str, Any]]:
        """Every battle with its two answers' status, leaks and contestants (no text)."""
        a, b = aliased(ArenaAnswer), aliased(ArenaAnswer)
        query = select(
            ArenaBattle.id,
            ArenaBattle.token,
            ArenaBattle.position,
            ArenaBattle.repeat_of_id,
            ArenaBattle.prompt_id,
            ArenaPrompt.source,
            *_both_answers(a, b, contestant="contestant_id", status="status", leaks="leaks"),
        )
        query = _with_prompt_and_answers(query, a, b, evaluation_id).order_by(ArenaBattle.position)
        return [dict(row._mapping) for row in self.session.execute(query)]

    # ---- raters and votes ----------------------------------------------------------
    def rater(self, evaluation_id: int, name: str) -> ArenaRater | None:
        return self.session.scalar(
            select(ArenaRater).where(and_(ArenaRater.evaluation_id == evaluation_id, ArenaRater.name == name))
        )

    def rater_by_key(self, evaluation_id: int, name_key: str) -> ArenaRater | None:
        return self.session.scalar(
            select(ArenaRater).where(and_(ArenaRater.evaluation_id == evaluation_id, ArenaRater.name_key == name_key))
        )

    def rater_by_secret_hash(self, secret_hash: str) -> ArenaRater | None:
        return self.session.scalar(select(ArenaRater).where(ArenaRater.secret_hash == secret_hash))

    def get_rater(self, rater_id: int) -> ArenaRater | None:
        return self.session.get(ArenaRater, rater_id)

    def raters(self, evaluation_id: int) -> list[ArenaRater]:
        return list(
            self.session.scalars(
                select(ArenaRater).where(ArenaRater.evaluation_id == evaluation_id).order_by(ArenaRater.id)
            )
        )

    def voted_battle_ids(self, rater_id: int) -> set[int]:
        return set(self.session.scalars(select(ArenaVote.battle_id).where(ArenaVote.rater_id == rater_id)))

    def voted_battle_order(self, rater_id: int) -> list[int]:
        """The battles a rater voted on, in the order they voted."""
        query = select(ArenaVote.battle_id).where(ArenaVote.rater_id == rater_id)
        return list(self.session.scalars(query.order_by(ArenaVote.created_at, ArenaVote.id)))

    def vote_counts(self, evaluation_id: int) -> dict[int, int]:
        """Votes cast so far on each battle of an evaluation (battles without votes are left out)."""
        query = (
            select(ArenaVote.battle_id, func.count(ArenaVote.id))
            .join(ArenaBattle, ArenaBattle.id == ArenaVote.battle_id)
            .where(ArenaBattle.evaluation_id == evaluation_id)
            .group_by(ArenaVote.battle_id)
        )
        return {int(battle_id): int(n) for battle_id, n in self.session.execute(query)}

    def votes_per_rater(self, evaluation_id: int) -> dict[int, int]:
        query = (
            select(ArenaVote.rater_id, func.count(ArenaVote.id))
            .join(ArenaRater, ArenaRater.id == ArenaVote.rater_id)
            .where(ArenaRater.evaluation_id == evaluation_id)
            .group_by(ArenaVote.rater_id)
        )
        return {int(rater_id): int(n) for rater_id, n in self.session.execute(query)}

    def pending_answers(self, evaluation_id: int, source: str = "set") -> int:
        """Answers still to be generated, of models not set aside as failed: battles on them may
        still become ratable (a failed model's battles are held back until the facilitator resumes)."""
        query = (
            select(func.count(ArenaAnswer.id))
            .join(ArenaPrompt, ArenaPrompt.id == ArenaAnswer.prompt_id)
            .join(ArenaContestant, ArenaContestant.id == ArenaAnswer.contestant_id)
            .where(
                and_(
                    ArenaPrompt.evaluation_id == evaluation_id,
                    ArenaPrompt.source == source,
                    ArenaAnswer.status == "pending",
                    ArenaContestant.status != "failed",
                )
            )
        )
        return int(self.session.scalar(query) or 0)

    def live_prompts_asked(self, evaluation_id: int) -> dict[int, int]:
        """Live prompts each rater has asked in an evaluation (by rater id)."""
        query = (
            select(ArenaPrompt.asked_by_id, func.count(ArenaPrompt.id))
            .where(
                and_(
                    ArenaPrompt.evaluation_id == evaluation_id,
                    ArenaPrompt.source == "live",
                    ArenaPrompt.asked_by_id.is_not(None),
                )
            )
            .group_by(ArenaPrompt.asked_by_id)
        )
        return {int(rater_id): int(n) for rater_id, n in self.session.execute(query) if rater_id is not None}

    def vote(self, battle_id: int, rater_id: int) -> ArenaVote | None:
        query = select(ArenaVote).where(and_(ArenaVote.battle_id == battle_id, ArenaVote.rater_id == rater_id))
        return self.session.scalar(query)

    def count_votes(self, evaluation_id: int) -> int:
        query = (
            select(func.count(ArenaVote.id))
            .join(ArenaBattle, ArenaBattle.id == ArenaVote.battle_id)
            .where(ArenaBattle.evaluation_id == evaluation_id)
        )
        return int(self.session.scalar(query) or 0)

    def vote_rows(self, evaluation_id: int, rater_id: int | None = None) -> list[dict[str, Any]]:
        """Every vote of an evaluation (or of one rater), flattened with its battle, prompt, answers and rater."""
        a, b = aliased(ArenaAnswer), aliased(ArenaAnswer)
        query = (
            select(
                ArenaVote.id.label("vote_id"),
                ArenaVote.winner,
                ArenaVote.acceptable_a,
                ArenaVote.acceptable_b,
                ArenaVote.reasons,
                ArenaVote.comment,
                ArenaVote.created_at,
                ArenaVote.seconds_to_vote,
                ArenaBattle.id.label("battle_id"),
                ArenaBattle.repeat_of_id,
                ArenaRater.id.label("rater_id"),
                ArenaRater.name.label("rater"),
                ArenaPrompt.question_id,
                ArenaPrompt.text.label("prompt"),
                ArenaPrompt.source.label("prompt_source"),
                *_both_answers(a, b, contestant="contestant_id", text="text", leaks="leaks"),
            )
            .join(ArenaBattle, ArenaBattle.id == ArenaVote.battle_id)
            .join(ArenaRater, ArenaRater.id == ArenaVote.rater_id)
        )
        if rater_id is not None:
            query = query.where(ArenaVote.rater_id == rater_id)
        query = _with_prompt_and_answers(query, a, b, evaluation_id).order_by(ArenaVote.created_at, ArenaVote.id)
        return [dict(row._mapping) for row in self.session.execute(query)]


_Ts = TypeVarTuple("_Ts")


def _with_prompt_and_answers(query: Select[*_Ts], a: Any, b: Any, evaluation_id: int) -> Select[*_Ts]:
    """Join each battle of one evaluation to its prompt and to its answers A (``a``) and B (``b``)."""
    return (
        query.join(ArenaPrompt, ArenaPrompt.id == ArenaBattle.prompt_id)
        .join(a, a.id == ArenaBattle.answer_a_id)
        .join(b, b.id == ArenaBattle.answer_b_id)
        .where(ArenaBattle.evaluation_id == evaluation_id)
    )


def _both_answers(a: Any, b: Any, **columns: str) -> list[Any]:
    """Columns of answers A and B side by side: ``name="column"`` selects ``name_a`` and ``name_b``."""
    return [
        getattr(side, column).label(f"{name}_{suffix}")
        for name, column in columns.items()
        for side, suffix in ((a, "a"), (b, "b"))
    ]
