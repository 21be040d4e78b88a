"""Judge: rubric versions, judging jobs, grades, pairwise verdicts and human grades.

Chained after 0002_arena (not a branch off 0001_initial like the other features): the
grades and verdicts point to arena answers and battles, so those tables must exist first.

Revision ID: 0002_judge
Revises: 0002_arena
Create Date: 2026-11-22
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_judge"
down_revision: Union[str, None] = "0002_arena"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def _results_columns(table: str) -> list:
    """The columns grades and verdicts share: status, the exact prompts and raw replies, errors."""
    return [
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prompts", sa.JSON(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("judge_generation_ids", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk(table, "job_id", "judge_jobs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _item_columns(table: str) -> list:
    """Which answer a grade is about: the same three columns on judge and human grades."""
    return [
        sa.Column("item_ref", sa.String(length=32), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("arena_answer_id", sa.Integer(), nullable=True),
        _fk(table, "generation_id", "generations", "CASCADE"),
        _fk(table, "arena_answer_id", "arena_answers", "CASCADE"),
    ]


def upgrade() -> None:
    op.create_table(
        "judge_rubrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_rubrics")),
        sa.UniqueConstraint("name", "version", name="uq_judge_rubrics_name_version"),
    )
    op.create_table(
        "judge_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("target_label", sa.Text(), nullable=False),
        sa.Column("model_key", sa.String(length=1100), nullable=False),
        sa.Column("model_name", sa.String(length=300), nullable=False),
        sa.Column("rubric_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unparsed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        _fk("judge_jobs", "rubric_id", "judge_rubrics", "SET NULL"),
        _fk("judge_jobs", "run_id", "runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_jobs")),
    )
    for column in ("rubric_id", "run_id", "created_at"):
        _index("judge_jobs", column)
    op.create_table(
        "judge_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("rubric_id", sa.Integer(), nullable=True),
        *_item_columns("judge_grades"),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_group", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("criterion", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("parsed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        *_results_columns("judge_grades"),
        _fk("judge_grades", "rubric_id", "judge_rubrics", "SET NULL"),
    )
    for column in ("job_id", "rubric_id", "item_ref", "generation_id", "arena_answer_id"):
        _index("judge_grades", column)
    op.create_table(
        "judge_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("battle_id", sa.Integer(), nullable=False),
        sa.Column("first", sa.String(length=16), nullable=True),
        sa.Column("second", sa.String(length=16), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("position_bias", sa.Boolean(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        *_results_columns("judge_verdicts"),
        _fk("judge_verdicts", "battle_id", "arena_battles", "CASCADE"),
    )
    for column in ("job_id", "battle_id"):
        _index("judge_verdicts", column)
    op.create_table(
        "judge_human_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        *_item_columns("judge_human_grades"),
        sa.Column("criterion", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("rater", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_human_grades")),
        sa.UniqueConstraint("item_ref", "criterion", "rater", name="uq_judge_human_grades_item_ref_criterion_rater"),
    )
    for column in ("item_ref", "generation_id", "arena_answer_id"):
        _index("judge_human_grades", column)


def downgrade() -> None:
    for table in ("judge_human_grades", "judge_verdicts", "judge_grades", "judge_jobs", "judge_rubrics"):
        op.drop_table(table)
