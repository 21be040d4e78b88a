"""Initial schema: endpoints, model entries, model folders, runs, generations.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("api_key_env", sa.String(length=200), nullable=True),
        sa.Column("price_input_per_m", sa.Float(), nullable=True),
        sa.Column("price_output_per_m", sa.Float(), nullable=True),
        sa.Column("timeout_s", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_endpoints_name")),
    )
    op.create_table(
        "model_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_folders")),
        sa.UniqueConstraint("path", name=op.f("uq_model_folders_path")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_created_at"), "runs", ["created_at"], unique=False)
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=1100), nullable=False),
        sa.Column("model_name", sa.String(length=300), nullable=False),
        sa.Column("backend", sa.String(length=32), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("tokens_estimated", sa.Boolean(), nullable=False),
        sa.Column("ttft_s", sa.Float(), nullable=True),
        sa.Column("total_s", sa.Float(), nullable=True),
        sa.Column("tokens_per_s", sa.Float(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("finish_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_generations_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    op.create_index(op.f("ix_generations_model_key"), "generations", ["model_key"], unique=False)
    op.create_index(op.f("ix_generations_run_id"), "generations", ["run_id"], unique=False)
    op.create_table(
        "model_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("backend", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=True),
        sa.Column("gguf_file", sa.String(length=500), nullable=True),
        sa.Column("adapter_path", sa.String(length=1000), nullable=True),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("remote_model", sa.String(length=300), nullable=True),
        sa.Column("chat_template", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_model_entries_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_entries")),
        sa.UniqueConstraint("name", name=op.f("uq_model_entries_name")),
    )
    op.create_index(op.f("ix_model_entries_endpoint_id"), "model_entries", ["endpoint_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_model_entries_endpoint_id"), table_name="model_entries")
    op.drop_table("model_entries")
    op.drop_index(op.f("ix_generations_run_id"), table_name="generations")
    op.drop_index(op.f("ix_generations_model_key"), table_name="generations")
    op.drop_table("generations")
    op.drop_index(op.f("ix_runs_created_at"), table_name="runs")
    op.drop_table("runs")
    op.drop_table("model_folders")
    op.drop_table("endpoints")
