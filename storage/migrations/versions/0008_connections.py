"""Connections: a server whose models are listed and added in one go (issue 15).

``connections`` holds the server (base URL, the NAME of its key's variable, header values that
are plain text or ``${NAME}`` references, never a key); ``connection_models`` what it listed
last time. ``model_entries`` gains ``connection_id`` (its models go with it), ``quirks`` (what
an endpoint turned out to need, e.g. ``max_completion_tokens``) and ``context_length``.

Revision ID: 0008_connections
Revises: 0007_keyword_languages
Create Date: 2026-12-03
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008_connections"
down_revision: Union[str, None] = "0007_keyword_languages"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _create_connections() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("preset", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("api_key_env", sa.String(length=200), nullable=True),
        sa.Column("api_version", sa.String(length=64), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("can_list", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
    )


def _create_connection_models() -> None:
    op.create_table(
        "connection_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("remote_model", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("model_entry_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_connection_models_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_entry_id"],
            ["model_entries.id"],
            name=op.f("fk_connection_models_model_entry_id_model_entries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_models")),
        sa.UniqueConstraint("connection_id", "remote_model", name="uq_connection_models_connection_id_remote_model"),
    )
    op.create_index(op.f("ix_connection_models_connection_id"), "connection_models", ["connection_id"], unique=False)
    op.create_index(op.f("ix_connection_models_model_entry_id"), "connection_models", ["model_entry_id"], unique=False)


def upgrade() -> None:
    _create_connections()
    with op.batch_alter_table("model_entries") as batch:
        batch.add_column(sa.Column("connection_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quirks", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("context_length", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_model_entries_connection_id"), ["connection_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_model_entries_connection_id_connections"),
            "connections",
            ["connection_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _create_connection_models()


def downgrade() -> None:
    op.drop_index(op.f("ix_connection_models_model_entry_id"), table_name="connection_models")
    op.drop_index(op.f("ix_connection_models_connection_id"), table_name="connection_models")
    op.drop_table("connection_models")
    with op.batch_alter_table("model_entries") as batch:
        batch.drop_constraint(batch.f("fk_model_entries_connection_id_connections"), type_="foreignkey")
        batch.drop_index(batch.f("ix_model_entries_connection_id"))
        batch.drop_column("context_length")
        batch.drop_column("quirks")
        batch.drop_column("connection_id")
    op.drop_table("connections")
