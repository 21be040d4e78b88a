"""Arena: evaluations, prompts, contestants, answers, battles, raters and votes.

Revision ID: 0002_arena
Revises: 0001_initial
Create Date: 2026-11-21
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_arena"
down_revision: Union[str, None] = "0001_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "arena_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("join_code", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("leak_words", sa.JSON(), nullable=False),
        sa.Column("leak_action", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("arena_evaluations", "run_id", "runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_evaluations")),
        sa.UniqueConstraint("name", name=op.f("uq_arena_evaluations_name")),
        sa.UniqueConstraint("join_code", name=op.f("uq_arena_evaluations_join_code")),
    )
    _index("arena_evaluations", "run_id")
    op.create_table(
        "arena_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        _fk("arena_prompts", "evaluation_id", "arena_evaluations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_prompts")),
        sa.UniqueConstraint("evaluation_id", "position", name="uq_arena_prompts_evaluation_id_position"),
    )
    _index("arena_prompts", "evaluation_id")
    op.create_table(
        "arena_contestants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=1100), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _fk("arena_contestants", "evaluation_id", "arena_evaluations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_contestants")),
        sa.UniqueConstraint("evaluation_id", "label", name="uq_arena_contestants_evaluation_id_label"),
    )
    _index("arena_contestants", "evaluation_id")
    op.create_table(
        "arena_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("contestant_id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("leaks", sa.JSON(), nullable=False),
        _fk("arena_answers", "prompt_id", "arena_prompts", "CASCADE"),
        _fk("arena_answers", "contestant_id", "arena_contestants", "CASCADE"),
        _fk("arena_answers", "generation_id", "generations", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_answers")),
        sa.UniqueConstraint("prompt_id", "contestant_id", name="uq_arena_answers_prompt_id_contestant_id"),
    )
    for column in ("prompt_id", "contestant_id", "generation_id"):
        _index("arena_answers", column)
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("answer_a_id", sa.Integer(), nullable=False),
        sa.Column("answer_b_id", sa.Integer(), nullable=False),
        sa.Column("repeat_of_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("arena_battles", "evaluation_id", "arena_evaluations", "CASCADE"),
        _fk("arena_battles", "prompt_id", "arena_prompts", "CASCADE"),
        _fk("arena_battles", "answer_a_id", "arena_answers", "CASCADE"),
        _fk("arena_battles", "answer_b_id", "arena_answers", "CASCADE"),
        _fk("arena_battles", "repeat_of_id", "arena_battles", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_battles")),
        sa.UniqueConstraint("token", name=op.f("uq_arena_battles_token")),
    )
    for column in ("evaluation_id", "prompt_id", "answer_a_id", "answer_b_id", "repeat_of_id"):
        _index("arena_battles", column)
    op.create_table(
        "arena_raters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("arena_raters", "evaluation_id", "arena_evaluations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_raters")),
        sa.UniqueConstraint("evaluation_id", "name", name="uq_arena_raters_evaluation_id_name"),
    )
    _index("arena_raters", "evaluation_id")
    op.create_table(
        "arena_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("battle_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("winner", sa.String(length=16), nullable=False),
        sa.Column("acceptable_a", sa.Boolean(), nullable=True),
        sa.Column("acceptable_b", sa.Boolean(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("seconds_to_vote", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("arena_votes", "battle_id", "arena_battles", "CASCADE"),
        _fk("arena_votes", "rater_id", "arena_raters", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_votes")),
        sa.UniqueConstraint("battle_id", "rater_id", name="uq_arena_votes_battle_id_rater_id"),
    )
    for column in ("battle_id", "rater_id", "created_at"):
        _index("arena_votes", column)


def downgrade() -> None:
    for table in ("arena_votes", "arena_raters", "arena_battles", "arena_answers", "arena_contestants", "arena_prompts", "arena_evaluations"):
        op.drop_table(table)
