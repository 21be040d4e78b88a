"""Documents (RAG): collections, documents, pages, chunks, questions and evaluations (+ FTS5 index on SQLite).

Revision ID: 0002_documents
Revises: 0001_initial
Create Date: 2026-11-21
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_documents"
down_revision: Union[str, None] = "0001_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# External-content FTS5 table over rag_chunks.text; triggers keep it in step with every
# insert and delete, including the deletes that cascade from documents and collections.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE rag_chunks_fts USING fts5(text, content='rag_chunks', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER rag_chunks_fts_insert AFTER INSERT ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER rag_chunks_fts_delete AFTER DELETE ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rag_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER rag_chunks_fts_update AFTER UPDATE OF text ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rag_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO rag_chunks_fts(rowid, text) VALUES (new.id, new.text); END",
)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "rag_collections",
        _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunk_overlap", sa.Integer(), nullable=False),
        sa.Column("chunk_unit", sa.String(length=16), nullable=False),
        sa.Column("embed_model", sa.String(length=200), nullable=False),
        sa.Column("embed_max_tokens", sa.Integer(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_collections")),
        sa.UniqueConstraint("name", name=op.f("uq_rag_collections_name")),
    )
    op.create_table(
        "rag_documents",
        _id(),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("char_count", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("headings", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        _created(),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["collection_id"], ["rag_collections.id"], name=op.f("fk_rag_documents_collection_id_rag_collections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_documents")),
    )
    op.create_index(op.f("ix_rag_documents_collection_id"), "rag_documents", ["collection_id"], unique=False)
    op.create_index("ix_rag_documents_collection_id_content_hash", "rag_documents", ["collection_id", "content_hash"], unique=False)
    op.create_table(
        "rag_pages",
        _id(),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["rag_documents.id"], name=op.f("fk_rag_pages_document_id_rag_documents"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_pages")),
    )
    op.create_index(op.f("ix_rag_pages_document_id"), "rag_pages", ["document_id"], unique=False)
    op.create_table(
        "rag_chunks",
        _id(),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("start_char", sa.Integer(), nullable=False),
        sa.Column("end_char", sa.Integer(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["rag_collections.id"], name=op.f("fk_rag_chunks_collection_id_rag_collections"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["document_id"], ["rag_documents.id"], name=op.f("fk_rag_chunks_document_id_rag_documents"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_chunks")),
    )
    op.create_index(op.f("ix_rag_chunks_collection_id"), "rag_chunks", ["collection_id"], unique=False)
    op.create_index(op.f("ix_rag_chunks_document_id"), "rag_chunks", ["document_id"], unique=False)
    op.create_table(
        "rag_questions",
        _id(),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("collection_name", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("model_key", sa.String(length=1100), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answer_without", sa.Text(), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_rag_questions_run_id_runs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["collection_id"], ["rag_collections.id"], name=op.f("fk_rag_questions_collection_id_rag_collections"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_questions")),
    )
    op.create_index(op.f("ix_rag_questions_run_id"), "rag_questions", ["run_id"], unique=False)
    op.create_index(op.f("ix_rag_questions_collection_id"), "rag_questions", ["collection_id"], unique=False)
    op.create_index(op.f("ix_rag_questions_created_at"), "rag_questions", ["created_at"], unique=False)
    op.create_table(
        "rag_evaluations",
        _id(),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("collection_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["collection_id"], ["rag_collections.id"], name=op.f("fk_rag_evaluations_collection_id_rag_collections"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_evaluations")),
    )
    op.create_index(op.f("ix_rag_evaluations_collection_id"), "rag_evaluations", ["collection_id"], unique=False)
    op.create_index(op.f("ix_rag_evaluations_created_at"), "rag_evaluations", ["created_at"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("rag_chunks_fts_insert", "rag_chunks_fts_delete", "rag_chunks_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS rag_chunks_fts")
    for table in ("rag_evaluations", "rag_questions", "rag_chunks", "rag_pages", "rag_documents", "rag_collections"):
        op.drop_table(table)
