"""Documents: the language of each collection, and the re-embedding of one into another embedder.

The embedder of a collection is the existing ``rag_collections.embed_model`` column (it has
held the model name since 0002; every existing row is "all-MiniLM-L6-v2", the only model
offered before this revision, and is set so again here in case an older build left it empty).
New: ``language`` (ISO 639-1 code of the collection's documents, "" while unknown).

Revision ID: 0006_rag_languages
Revises: 0005_arena_trust
Create Date: 2026-12-03
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006_rag_languages"
down_revision: Union[str, None] = "0005_arena_trust"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MINILM = "all-MiniLM-L6-v2"

# A plain table, not storage.orm_rag: this migration must keep working as the ORM changes.
collections = sa.table("rag_collections", sa.column("embed_model", sa.String(length=200)))


def upgrade() -> None:
    with op.batch_alter_table("rag_collections") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=False, server_default=""))
    op.get_bind().execute(
        collections.update()
        .where(sa.or_(collections.c.embed_model.is_(None), collections.c.embed_model == ""))
        .values(embed_model=MINILM)
    )


def downgrade() -> None:
    with op.batch_alter_table("rag_collections") as batch:
        batch.drop_column("language")
