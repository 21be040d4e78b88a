"""Tables of the Arena: evaluations, their prompts and contestants, pre-generated answers,
scheduled battles, raters and votes.

A battle's sides are fixed when it is scheduled, so every rater sees the same battle the
same way; one vote per rater per battle is a UNIQUE constraint, not a check in code.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.orm import Base, UtcDateTime, utc_now


class ArenaEvaluation(Base):
    __tablename__ = "arena_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="prompt_set")  # prompt_set | live | imported
    # Raters in workshop mode type this to join; shown to the facilitator only.
    join_code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    # The run holding every pre-generated answer (runs.kind = "arena").
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    leak_words: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    leak_action: Mapped[str] = mapped_column(String(16), nullable=False, default="redact")  # redact | exclude
    seed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    # When a rater may see who wrote what: after_last (their last battle) | after_each | never.
    reveal_policy: Mapped[str] = mapped_column(String(16), nullable=False, default="after_last")
    # Votes wanted per battle before it stops being served; None: every rater rates every battle.
    votes_per_battle: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Live prompts one rater may ask in this evaluation; None: no cap.
    live_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    voting_open: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Live answers appear together once both have finished, so stream speed does not tell models apart.
    show_together: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    contestants: Mapped[list["ArenaContestant"]] = relationship(
        order_by="ArenaContestant.position", cascade="all, delete-orphan", passive_deletes=True
    )


class ArenaPrompt(Base):
    __tablename__ = "arena_prompts"
    __table_args__ = (UniqueConstraint("evaluation_id", "position", name="uq_arena_prompts_evaluation_id_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("arena_evaluations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    question_id: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="set")  # set | live | import
    # The rater who asked a live prompt (for the per-rater cap and so only they vote on it).
    asked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("arena_raters.id", ondelete="SET NULL"), nullable=True, index=True
    )


class ArenaContestant(Base):
    """One model with its settings in one evaluation."""

    __tablename__ = "arena_contestants"
    __table_args__ = (UniqueConstraint("evaluation_id", "label", name="uq_arena_contestants_evaluation_id_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("arena_evaluations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    model_key: Mapped[str] = mapped_column(String(1100), nullable=False)
    label: Mapped[str] = mapped_column(String(300), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending | ok | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ArenaAnswer(Base):
    __tablename__ = "arena_answers"
    __table_args__ = (UniqueConstraint("prompt_id", "contestant_id", name="uq_arena_answers_prompt_id_contestant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prompt_id: Mapped[int] = mapped_column(
        ForeignKey("arena_prompts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    contestant_id: Mapped[int] = mapped_column(
        ForeignKey("arena_contestants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    generation_id: Mapped[int | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending | ok | error
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Words from the leak list found in the answer; non-empty means "names a model or vendor".
    leaks: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)


class ArenaBattle(Base):
    __tablename__ = "arena_battles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("arena_evaluations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Opaque id a rater's session holds; never derived from model names.
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    prompt_id: Mapped[int] = mapped_column(
        ForeignKey("arena_prompts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    answer_a_id: Mapped[int] = mapped_column(
        ForeignKey("arena_answers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    answer_b_id: Mapped[int] = mapped_column(
        ForeignKey("arena_answers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # A repeat shows an earlier battle with the sides swapped, to measure a rater's self-consistency.
    repeat_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("arena_battles.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)


class ArenaRater(Base):
    """One person rating one evaluation: a login, or a typed name proven by a secret the browser keeps."""

    __tablename__ = "arena_raters"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "name", name="uq_arena_raters_evaluation_id_name"),
        UniqueConstraint("evaluation_id", "name_key", name="uq_arena_raters_evaluation_id_name_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("arena_evaluations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="join")  # login | join | import
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    # The name as compared: NFKC, case-folded, spaces collapsed, zero-width characters gone.
    name_key: Mapped[str] = mapped_column(String(200), nullable=False)
    # sha256 of the secret handed to the rater's browser at join; the secret itself is never stored.
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)
    # Set when the facilitator releases the name: the next joiner under it takes the rater over.
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set once the rater has finished every battle (and, under "after_last", has seen the names).
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ArenaVote(Base):
    __tablename__ = "arena_votes"
    __table_args__ = (UniqueConstraint("battle_id", "rater_id", name="uq_arena_votes_battle_id_rater_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[int] = mapped_column(
        ForeignKey("arena_battles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    rater_id: Mapped[int] = mapped_column(ForeignKey("arena_raters.id", ondelete="CASCADE"), nullable=False, index=True)
    winner: Mapped[str] = mapped_column(String(16), nullable=False)  # a | b | tie | bothbad  (sides of the battle)
    acceptable_a: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    acceptable_b: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    seconds_to_vote: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now, index=True)
