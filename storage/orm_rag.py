"""Tables of the Documents tab (RAG): collections, documents, their pages and chunks,
questions asked and retrieval evaluations.

Chunk embeddings are float32 bytes in a BLOB column; the keyword index is an SQLite FTS5
table (``rag_chunks_fts``) created by the migration only, kept in sync by triggers.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.orm import Base, UtcDateTime, utc_now

DOCUMENT_INDEXING = "indexing"  # being parsed/embedded: never searchable, removed at start-up if left over
DOCUMENT_READY = "ready"


class RagCollection(Base):
    __tablename__ = "rag_collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    chunk_size: Mapped[int] = mapped_column(Integer, nullable=False)
    chunk_overlap: Mapped[int] = mapped_column(Integer, nullable=False)
    chunk_unit: Mapped[str] = mapped_column(String(16), nullable=False)  # "chars" | "tokens"
    embed_model: Mapped[str] = mapped_column(String(200), nullable=False)  # the collection's embedder
    # ISO 639-1 code of its documents' language ("pt"), "" while unknown; chosen from the first upload.
    language: Mapped[str] = mapped_column(String(16), nullable=False, default="", server_default="")
    embed_max_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)

    documents: Mapped[list["RagDocument"]] = relationship(
        back_populates="collection", cascade="all, delete-orphan", passive_deletes=True
    )


class RagDocument(Base):
    """One uploaded file (one version of it). Searchable only once ``status`` is ready."""

    __tablename__ = "rag_documents"
    __table_args__ = (Index("ix_rag_documents_collection_id_content_hash", "collection_id", "content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("rag_collections.id", ondelete="CASCADE"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(String(500), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    page_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    char_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    headings: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now)
    indexed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    collection: Mapped[RagCollection] = relationship(back_populates="documents")


class RagPage(Base):
    """The parsed text of one page, kept so a collection can be re-chunked without the file."""

    __tablename__ = "rag_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("rag_documents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    page_number: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)


class RagChunk(Base):
    __tablename__ = "rag_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("rag_collections.id", ondelete="CASCADE"), nullable=False, index=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("rag_documents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)  # position of the chunk within its file
    page_number: Mapped[int] = mapped_column(Integer, nullable=False)
    start_char: Mapped[int] = mapped_column(Integer, nullable=False)  # offset within the page
    end_char: Mapped[int] = mapped_column(Integer, nullable=False)
    heading: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text: Mapped[str] = mapped_column(Text, nullable=False)
    embedding: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # float32, normalised


class RagQuestion(Base):
    """One question asked in the Documents tab: what was retrieved, what the model answered."""

    __tablename__ = "rag_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("rag_collections.id", ondelete="SET NULL"), nullable=True, index=True
    )
    collection_name: Mapped[str] = mapped_column(String(200), nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    model_key: Mapped[str] = mapped_column(String(1100), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)  # "with" | "compare"
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # Snapshot of the sources given to the model, so history survives re-indexing.
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    answer: Mapped[str] = mapped_column(Text, nullable=False, default="")
    answer_without: Mapped[str | None] = mapped_column(Text, nullable=True)
    citations: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now, index=True)


class RagEvaluation(Base):
    __tablename__ = "rag_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("rag_collections.id", ondelete="SET NULL"), nullable=True, index=True
    )
    collection_name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "single" | "sweep"
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utc_now, index=True)
