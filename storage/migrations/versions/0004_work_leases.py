"""Work in flight gets an owner and a lease (documents being indexed, arena pre-generation, judge runs, fine-tune launches).

Revision ID: 0004_work_leases
Revises: 0003_finetune_status_done
Create Date: 2026-12-02
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004_work_leases"
down_revision: Union[str, None] = "0003_finetune_status_done"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "work_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_leases")),
        sa.UniqueConstraint("kind", "resource_id", name="uq_work_leases_kind_resource_id"),
    )
    op.create_index(op.f("ix_work_leases_expires_at"), "work_leases", ["expires_at"], unique=False)
    # The launch a job's worker must belong to: a worker started with another token refuses to run.
    op.add_column("finetune_jobs", sa.Column("launch_token", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("finetune_jobs") as batch:
        batch.drop_column("launch_token")
    op.drop_index(op.f("ix_work_leases_expires_at"), table_name="work_leases")
    op.drop_table("work_leases")
