"""Tables of the automatic judge: rubric versions, judging jobs, the grades and pairwise
verdicts they produced, and grades people entered to check the judge against.

Every grade keeps the judge model, the rubric version and the exact prompt and replies, so
a score can always be traced back to what the judge was asked and what it said. A reply
that did not parse is stored with ``parsed = False`` and ``score = NULL`` — never as 0.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base, UtcDateTime, utc_now


class JudgeRubric(Base):
    """One saved version of a rubric; editing saves a new version, old grades keep theirs."""

    __tablename__ = "judge_rubrics"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_judge_rubrics_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{"name", "weight", "description", "examples": [score 0, 1, 2, 3]}]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)


class JudgeJob(Base):
    """One judging pass of one judge model over one target (a run, a question, an arena evaluation)."""

    __tablename__ = "judge_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)  # rubric | pairwise
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # run | rag_question | rag_collection | arena
    target_id: Mapped[int] = mapped_column(Integer, nullable=False)
    target_label: Mapped[str] = mapped_column(Text, nullable=False, default="")
    model_key: Mapped[str] = mapped_column(String(1100), nullable=False)  # the judge
    model_name: Mapped[str] = mapped_column(String(300), nullable=False)
    rubric_id: Mapped[int | None] = mapped_column(
        ForeignKey("judge_rubrics.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The run holding the judge's own generations (runs.kind = "judge").
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="running"
    )  # running | done | cancelled | failed
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unparsed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class JudgeGrade(Base):
    """The judge's score for one answer on one criterion."""

    __tablename__ = "judge_grades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("judge_jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    rubric_id: Mapped[int | None] = mapped_column(
        ForeignKey("judge_rubrics.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The answer graded: "g<generation id>" or "a<arena answer id>" (imported answers have no generation).
    item_ref: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    generation_id: Mapped[int | None] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    arena_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("arena_answers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    subject: Mapped[str] = mapped_column(String(300), nullable=False)  # the model that wrote the answer
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # the item's place in the job
    item_group: Mapped[str] = mapped_column(
        String(200), nullable=False, default=""
    )  # the input answered: "row 3", a question id
    question: Mapped[str] = mapped_column(Text, nullable=False, default="")
    criterion: Mapped[str] = mapped_column(String(40), nullable=False)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL unless parsed
    parsed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # ok | unparsed | error | cancelled
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    prompts: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)  # the messages of each attempt
    replies: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)  # the raw reply of each attempt
    judge_generation_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)


class JudgeVerdict(Base):
    """The judge's pairwise verdict on one arena battle, asked twice with the sides swapped."""

    __tablename__ = "judge_verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("judge_jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    battle_id: Mapped[int] = mapped_column(
        ForeignKey("arena_battles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Sides of the battle (a | b | tie); "second" is the swapped order's verdict mapped back.
    first: Mapped[str | None] = mapped_column(String(16), nullable=True)
    second: Mapped[str | None] = mapped_column(String(16), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)  # NULL: unparsed or failed
    position_bias: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # the verdict changed with the order
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # ok | unparsed | error | cancelled
    reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    prompts: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    replies: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    judge_generation_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)


class HumanGrade(Base):
    """A grade a person gave an answer on one criterion, to measure the judge against."""

    __tablename__ = "judge_human_grades"
    __table_args__ = (
        UniqueConstraint("item_ref", "criterion", "rater", name="uq_judge_human_grades_item_ref_criterion_rater"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    generation_id: Mapped[int | None] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    arena_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("arena_answers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    criterion: Mapped[str] = mapped_column(String(40), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    rater: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
