"""Compare: versioned prompt templates, batch rows, and turn/attempt/row/feedback on generations.

Revision ID: 0002_compare
Revises: 0001_initial
Create Date: 2026-11-21
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_compare"
down_revision: Union[str, None] = "0001_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "prompt_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_prompt_templates_name")),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["prompt_templates.id"], name=op.f("fk_template_versions_template_id_prompt_templates"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        sa.UniqueConstraint("template_id", "version", name="uq_template_versions_template_id_version"),
    )
    op.create_index(op.f("ix_template_versions_template_id"), "template_versions", ["template_id"], unique=False)
    op.create_table(
        "batch_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_batch_rows_run_id_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_rows")),
        sa.UniqueConstraint("run_id", "row_index", name="uq_batch_rows_run_id_row_index"),
    )
    op.create_index(op.f("ix_batch_rows_run_id"), "batch_rows", ["run_id"], unique=False)
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("template_version_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_runs_template_version_id"), ["template_version_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_runs_template_version_id_template_versions"), "template_versions", ["template_version_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("turn", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("row_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("feedback_note", sa.Text(), nullable=True))
    # The server defaults only filled existing rows; the ORM supplies values from now on.
    with op.batch_alter_table("generations") as batch:
        batch.alter_column("turn", server_default=None)
        batch.alter_column("attempt", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        for column in ("feedback_note", "rating", "row_index", "attempt", "turn"):
            batch.drop_column(column)
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(batch.f("fk_runs_template_version_id_template_versions"), type_="foreignkey")
        batch.drop_index(batch.f("ix_runs_template_version_id"))
        batch.drop_column("template_version_id")
    op.drop_index(op.f("ix_batch_rows_run_id"), table_name="batch_rows")
    op.drop_table("batch_rows")
    op.drop_index(op.f("ix_template_versions_template_id"), table_name="template_versions")
    op.drop_table("template_versions")
    op.drop_table("prompt_templates")
