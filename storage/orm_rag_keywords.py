"""The keyword-search terms of each chunk, cut in its collection's language.

Stemming and stopwords depend on the language, which SQLite's FTS5 tokenizers do not know,
so the app cuts the terms (``playground.rag.words``) and stores them here, space-separated,
once per chunk: the same table on SQLite and PostgreSQL. A row whose ``language`` is not
the collection's (or a chunk with no row, e.g. after an upgrade) is cut again on the
collection's next load.
"""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class RagChunkKeywords(Base):
    __tablename__ = "rag_chunk_keywords"

    chunk_id: Mapped[int] = mapped_column(ForeignKey("rag_chunks.id", ondelete="CASCADE"), primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("rag_collections.id", ondelete="CASCADE"), nullable=False, index=True
    )
    language: Mapped[str] = mapped_column(String(16), nullable=False)  # the language the terms were cut in
    terms: Mapped[str] = mapped_column(Text, nullable=False)
