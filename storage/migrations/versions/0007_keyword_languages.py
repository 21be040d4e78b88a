"""Documents: keyword-search terms cut per collection language, instead of SQLite FTS5.

FTS5's ``porter unicode61`` tokenizer stems every text as English. The app now cuts terms
with the Snowball stemmer and stopwords of the collection's language and stores them in
``rag_chunk_keywords`` (one row per chunk, on SQLite and PostgreSQL alike). No rows are
written here: a migration must not depend on the app's stemmers, and each collection's
chunks are cut on its first load after the upgrade (``playground.rag.keyword_store``).
The FTS5 table and its triggers are no longer read, so they go (the downgrade rebuilds them).

Revision ID: 0007_keyword_languages
Revises: 0006_rag_languages
Create Date: 2026-12-03
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_keyword_languages"
down_revision: Union[str, None] = "0006_rag_languages"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FTS_TRIGGERS = ("rag_chunks_fts_insert", "rag_chunks_fts_delete", "rag_chunks_fts_update")
# As 0002_documents created them.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE rag_chunks_fts USING fts5(text, content='rag_chunks', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER rag_chunks_fts_insert AFTER INSERT ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER rag_chunks_fts_delete AFTER DELETE ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rag_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER rag_chunks_fts_update AFTER UPDATE OF text ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rag_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO rag_chunks_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO rag_chunks_fts(rag_chunks_fts) VALUES ('rebuild')",
)


def upgrade() -> None:
    op.create_table(
        "rag_chunk_keywords",
        sa.Column("chunk_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chunk_id"], ["rag_chunks.id"], name=op.f("fk_rag_chunk_keywords_chunk_id_rag_chunks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["rag_collections.id"],
            name=op.f("fk_rag_chunk_keywords_collection_id_rag_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chunk_id", name=op.f("pk_rag_chunk_keywords")),
    )
    op.create_index(op.f("ix_rag_chunk_keywords_collection_id"), "rag_chunk_keywords", ["collection_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for trigger in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS rag_chunks_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    op.drop_index(op.f("ix_rag_chunk_keywords_collection_id"), table_name="rag_chunk_keywords")
    op.drop_table("rag_chunk_keywords")
