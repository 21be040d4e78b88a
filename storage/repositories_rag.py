"""Repositories for the Documents tab: collections, documents, pages, chunks (and the
terms of their keyword index), questions and evaluations."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.orm_rag import (
    DOCUMENT_INDEXING,
    DOCUMENT_READY,
    RagChunk,
    RagCollection,
    RagDocument,
    RagEvaluation,
    RagPage,
    RagQuestion,
)
from storage.orm_rag_keywords import RagChunkKeywords


class RagCollectionRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> RagCollection:
        row = RagCollection(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> RagCollection | None:
        return self.session.get(RagCollection, id)

    def by_name(self, name: str) -> RagCollection | None:
        return self.session.scalar(select(RagCollection).where(RagCollection.name == name))

    def list(self) -> list[RagCollection]:
        return list(
            self.session.scalars(select(RagCollection).order_by(func.lower(RagCollection.name), RagCollection.id))
        )

    def update(self, id: int, **fields: Any) -> None:
        self.session.execute(update(RagCollection).where(RagCollection.id == id).values(**fields))

    def settle_language(self, id: int, embed_model: str, language: str) -> None:
        """Record what the first upload found: the embedder, only where it is still undecided
        (""), and the language, only where it is still unknown. A second upload racing the
        first never overwrites it."""
        self.session.execute(
            update(RagCollection)
            .where(RagCollection.id == id, RagCollection.embed_model == "")
            .values(embed_model=embed_model)
        )
        if language:
            self.session.execute(
                update(RagCollection)
                .where(RagCollection.id == id, RagCollection.language == "")
                .values(language=language)
            )

    def lock_for_write(self, id: int) -> None:
        """Hold the collection's row until the transaction ends, so writers to one collection in
        different processes go one at a time (a row lock on PostgreSQL; on SQLite this first
        write takes the database's write lock)."""
        self.session.execute(update(RagCollection).where(RagCollection.id == id).values(id=RagCollection.id))

    def delete(self, id: int) -> bool:
        result = self.session.execute(delete(RagCollection).where(RagCollection.id == id))
        return bool(result.rowcount)  # type: ignore[attr-defined]  # SQLAlchemy types execute(DML) as Result; it is a CursorResult


class RagDocumentRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> RagDocument:
        row = RagDocument(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> RagDocument | None:
        return self.session.get(RagDocument, id)

    def list(self, collection_id: int, ready_only: bool = False) -> list[RagDocument]:
        query = select(RagDocument).where(RagDocument.collection_id == collection_id)
        if ready_only:
            query = query.where(RagDocument.status == DOCUMENT_READY)
        return list(self.session.scalars(query.order_by(func.lower(RagDocument.filename), RagDocument.id)))

    def ready_by_hash(self, collection_id: int, content_hash: str) -> RagDocument | None:
        query = select(RagDocument).where(
            RagDocument.collection_id == collection_id,
            RagDocument.content_hash == content_hash,
            RagDocument.status == DOCUMENT_READY,
        )
        return self.session.scalars(query.order_by(RagDocument.id).limit(1)).first()

    def ready_by_filename(self, collection_id: int, filename: str) -> RagDocument | None:
        query = select(RagDocument).where(
            RagDocument.collection_id == collection_id,
            RagDocument.filename == filename,
            RagDocument.status == DOCUMENT_READY,
        )
        return self.session.scalars(query.order_by(RagDocument.id.desc()).limit(1)).first()

    def count_ready(self, collection_id: int) -> int:
        query = select(func.count(RagDocument.id)).where(
            RagDocument.collection_id == collection_id, RagDocument.status == DOCUMENT_READY
        )
        return int(self.session.scalar(query) or 0)

    def update(self, id: int, **fields: Any) -> None:
        self.session.execute(update(RagDocument).where(RagDocument.id == id).values(**fields))

    def delete(self, id: int) -> bool:
        result = self.session.execute(delete(RagDocument).where(RagDocument.id == id))
        return bool(result.rowcount)  # type: ignore[attr-defined]  # SQLAlchemy types execute(DML) as Result; it is a CursorResult

    def signature(self, collection_id: int) -> tuple[int, int, datetime | None]:
        """(ready files, newest ready file id, latest indexing time): changes whenever a file of
        the collection is added, replaced, removed or re-indexed, by any process."""
        query = select(func.count(RagDocument.id), func.max(RagDocument.id), func.max(RagDocument.indexed_at)).where(
            RagDocument.collection_id == collection_id, RagDocument.status == DOCUMENT_READY
        )
        count, newest, indexed = self.session.execute(query).one()
        return int(count or 0), int(newest or 0), indexed

    def touch_ready(self, collection_id: int, when: datetime) -> None:
        """Mark every ready file re-indexed now: the collection's signature changes, so other
        processes reload its vectors (after a re-embed)."""
        self.session.execute(
            update(RagDocument)
            .where(RagDocument.collection_id == collection_id, RagDocument.status == DOCUMENT_READY)
            .values(indexed_at=when)
        )

    def indexing_ids(self) -> builtins.list[int]:
        """Files not (yet) ready: being indexed now, or left half-indexed by a crash or kill."""
        return list(self.session.scalars(select(RagDocument.id).where(RagDocument.status == DOCUMENT_INDEXING)))

    def delete_indexing(self, ids: Sequence[int]) -> int:
        """Remove these files if they are still not ready (never one that finished meanwhile)."""
        if not ids:
            return 0
        result = self.session.execute(
            delete(RagDocument).where(RagDocument.id.in_(list(ids)), RagDocument.status == DOCUMENT_INDEXING)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # execute(DML) gives a CursorResult


class RagPageRepository:
    def __init__(self, session: Session):
        self.session = session

    def add_many(self, document_id: int, pages: Sequence[tuple[int, str]]) -> None:
        if pages:
            self.session.execute(
                insert(RagPage), [{"document_id": document_id, "page_number": n, "text": t} for n, t in pages]
            )

    def for_documents(self, document_ids: Sequence[int]) -> list[RagPage]:
        query = (
            select(RagPage)
            .where(RagPage.document_id.in_(list(document_ids)))
            .order_by(RagPage.document_id, RagPage.page_number)
        )
        return list(self.session.scalars(query))


class RagChunkRepository:
    def __init__(self, session: Session):
        self.session = session

    def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert chunks and return their ids in the order given."""
        if not rows:
            return []
        statement = insert(RagChunk).returning(RagChunk.id, sort_by_parameter_order=True)
        return list(self.session.scalars(statement, list(rows)))

    def ids_for_document(self, document_id: int) -> list[int]:
        return list(self.session.scalars(select(RagChunk.id).where(RagChunk.document_id == document_id)))

    def ids_for_collection(self, collection_id: int) -> list[int]:
        return list(self.session.scalars(select(RagChunk.id).where(RagChunk.collection_id == collection_id)))

    def delete_for_document(self, document_id: int) -> None:
        self.session.execute(delete(RagChunk).where(RagChunk.document_id == document_id))

    def set_embeddings(self, vectors: Sequence[tuple[int, bytes]]) -> None:
        """Replace the stored vectors of these chunks (a re-embed's swap); the text, and so the
        keyword index, stays as it is."""
        if vectors:
            table = cast(Table, RagChunk.__table__)  # a Core executemany: one statement, many rows
            self.session.execute(
                update(table).where(table.c.id == bindparam("chunk_id")).values(embedding=bindparam("vector")),
                [{"chunk_id": chunk_id, "vector": vector} for chunk_id, vector in vectors],
            )

    def ready_embeddings(self, collection_id: int) -> list[tuple[int, bytes]]:
        query = (
            select(RagChunk.id, RagChunk.embedding)
            .join(RagDocument, RagDocument.id == RagChunk.document_id)
            .where(RagChunk.collection_id == collection_id, RagDocument.status == DOCUMENT_READY)
            .order_by(RagChunk.id)
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def get_many(self, ids: Sequence[int]) -> dict[int, tuple[RagChunk, str]]:
        """Chunks by id with their file name."""
        if not ids:
            return {}
        query = (
            select(RagChunk, RagDocument.filename)
            .join(RagDocument, RagDocument.id == RagChunk.document_id)
            .where(RagChunk.id.in_(list(ids)))
        )
        return {chunk.id: (chunk, filename) for chunk, filename in self.session.execute(query)}

    def sample(self, collection_id: int, count: int, seed: int) -> list[tuple[RagChunk, str]]:
        ids = sorted(self.ids_for_collection(collection_id))
        import random

        picked = random.Random(seed).sample(ids, min(count, len(ids)))
        found = self.get_many(picked)
        return [found[i] for i in picked if i in found]

    def locations(self, collection_id: int) -> list[tuple[int, str, int]]:
        return chunk_locations(self.session, collection_id)

    def _ready_chunks(self, collection_id: int):
        return (
            select(RagChunk.id)
            .join(RagDocument, RagDocument.id == RagChunk.document_id)
            .where(RagChunk.collection_id == collection_id, RagDocument.status == DOCUMENT_READY)
        )

    def keyword_terms(self, collection_id: int, language: str) -> list[tuple[int, str]]:
        """(chunk id, space-separated terms) of the collection's ready chunks whose terms were
        cut in ``language``."""
        query = select(RagChunkKeywords.chunk_id, RagChunkKeywords.terms).where(
            RagChunkKeywords.chunk_id.in_(self._ready_chunks(collection_id).scalar_subquery()),
            RagChunkKeywords.language == language,
        )
        # Fetched by the driver directly: tens of thousands of long rows for a large collection.
        return [(int(a), b) for a, b in self.session.execute(query)]

    def texts_without_terms(self, collection_id: int, language: str) -> list[tuple[int, str]]:
        """(chunk id, text) of ready chunks with no terms cut in ``language`` (new since the
        last load, from before the upgrade, or cut in another language)."""
        current = select(RagChunkKeywords.chunk_id).where(
            RagChunkKeywords.collection_id == collection_id, RagChunkKeywords.language == language
        )
        query = select(RagChunk.id, RagChunk.text).where(
            RagChunk.id.in_(self._ready_chunks(collection_id).scalar_subquery()), RagChunk.id.not_in(current)
        )
        return [(int(a), b) for a, b in self.session.execute(query)]

    def save_keyword_terms(self, collection_id: int, language: str, rows: Sequence[tuple[int, str]]) -> None:
        """Store (chunk id, terms) cut in ``language``, replacing what a chunk had."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        values = [{"chunk_id": c, "collection_id": collection_id, "language": language, "terms": t} for c, t in rows]
        statement = upsert(RagChunkKeywords)
        statement = statement.on_conflict_do_update(
            index_elements=[RagChunkKeywords.chunk_id],
            set_={"language": statement.excluded.language, "terms": statement.excluded.terms},
        )
        for start in range(0, len(values), 1000):
            self.session.execute(statement, values[start : start + 1000])

    def ready_texts(self, collection_id: int) -> list[tuple[int, str]]:
        query = select(RagChunk.id, RagChunk.text).where(
            RagChunk.id.in_(self._ready_chunks(collection_id).scalar_subquery())
        )
        return [(int(r[0]), r[1]) for r in self.session.execute(query)]


class RagQuestionRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> RagQuestion:
        row = RagQuestion(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, id: int, **fields: Any) -> None:
        self.session.execute(update(RagQuestion).where(RagQuestion.id == id).values(**fields))

    def get(self, id: int) -> RagQuestion | None:
        return self.session.get(RagQuestion, id)

    def list(self, collection_id: int | None = None, limit: int = 200) -> list[RagQuestion]:
        query = select(RagQuestion).order_by(RagQuestion.created_at.desc(), RagQuestion.id.desc()).limit(limit)
        if collection_id is not None:
            query = query.where(RagQuestion.collection_id == collection_id)
        return list(self.session.scalars(query))


class RagEvaluationRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> RagEvaluation:
        row = RagEvaluation(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> RagEvaluation | None:
        return self.session.get(RagEvaluation, id)

    def list(self, collection_id: int | None = None, limit: int = 100) -> list[RagEvaluation]:
        query = select(RagEvaluation).order_by(RagEvaluation.created_at.desc(), RagEvaluation.id.desc()).limit(limit)
        if collection_id is not None:
            query = query.where(RagEvaluation.collection_id == collection_id)
        return list(self.session.scalars(query))


def chunk_locations(session: Session, collection_id: int) -> list[tuple[int, str, int]]:
    """(chunk id, file name, page) of every ready chunk in a collection, for evaluation."""
    query = (
        select(RagChunk.id, RagDocument.filename, RagChunk.page_number)
        .join(RagDocument, RagDocument.id == RagChunk.document_id)
        .where(RagChunk.collection_id == collection_id, RagDocument.status == DOCUMENT_READY)
    )
    return [(int(a), str(b), int(c)) for a, b, c in session.execute(query)]
