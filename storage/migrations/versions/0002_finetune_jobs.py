"""Fine-tuning jobs: the job (settings, progress, stop flag), loss metrics, sample answers, events.

Revision ID: 0002_finetune_jobs
Revises: 0001_initial
Create Date: 2026-11-21
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_finetune_jobs"
down_revision: Union[str, None] = "0001_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def _child(table: str, *columns: sa.Column) -> None:
    """A table owned by one job: deleted with it."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["job_id"], ["finetune_jobs.id"], name=op.f(f"fk_{table}_job_id_finetune_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    _index(table, "job_id")


def upgrade() -> None:
    op.create_table(
        "finetune_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_model", sa.String(length=1100), nullable=False),
        sa.Column("base_name", sa.String(length=300), nullable=False),
        sa.Column("base_path", sa.Text(), nullable=False),
        sa.Column("base_folder", sa.Text(), nullable=False),
        sa.Column("prompt_format", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("dataset_name", sa.String(length=300), nullable=False),
        sa.Column("train_rows", sa.Integer(), nullable=False),
        sa.Column("holdout_rows", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("job_dir", sa.Text(), nullable=False),
        sa.Column("adapter_path", sa.Text(), nullable=True),
        sa.Column("export_path", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("total_steps", sa.Integer(), nullable=False),
        sa.Column("checkpoint_step", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Float(), nullable=False),
        sa.Column("tokens_seen", sa.BigInteger(), nullable=False),
        sa.Column("tokens_per_s", sa.Float(), nullable=True),
        sa.Column("peak_memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("eta_s", sa.Float(), nullable=True),
        sa.Column("trainable_params", sa.BigInteger(), nullable=True),
        sa.Column("total_params", sa.BigInteger(), nullable=True),
        sa.Column("micro_batch", sa.Integer(), nullable=False),
        sa.Column("grad_accum", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=300), nullable=False),
        sa.Column("preflight", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finetune_jobs")),
    )
    _index("finetune_jobs", "status")
    _index("finetune_jobs", "created_at")
    _child(
        "finetune_metrics",
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("loss", sa.Float(), nullable=False),
    )
    _child(
        "finetune_samples",
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("prompt_index", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
    )
    _child(
        "finetune_events",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("finetune_events", "finetune_samples", "finetune_metrics", "finetune_jobs"):
        op.drop_table(table)
