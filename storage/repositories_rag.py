"""Repositories for the Documents tab: collections, documents, pages, chunks (with keyword
search), questions and evaluations."""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

from sqlalchemy import delete, func, insert, select, text, update
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

_PG_WORD = re.compile(r"[^\w]+", re.UNICODE)


class RagCollectionRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> RagCollection:
        row = RagCollection(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> Optional[RagCollection]:
        return self.session.get(RagCollection, id)

    def by_name(self, name: str) -> Optional[RagCollection]:
        return self.session.scalar(select(RagCollection).where(RagCollection.name == name))

    def list(self) -> list[RagCollection]:
        return list(self.session.scalars(select(RagCollection).order_by(func.lower(RagCollection.name), RagCollection.id)))

    def update(self, id: int, **fields: Any) -> None:
        self.session.execute(update(RagCollection).where(RagCollection.id == id).values(**fields))

    def delete(self, id: int) -> bool:
        result = self.session.execute(delete(RagCollection).where(RagCollection.id == id))
        return bool(result.rowcount)


class RagDocumentRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, **fields: Any) -> RagDocument:
        row = RagDocument(**fields)
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, id: int) -> Optional[RagDocument]:
        return self.session.get(RagDocument, id)

    def list(self, collection_id: int, ready_only: bool = False) -> list[RagDocument]:
        query = select(RagDocument).where(RagDocument.collection_id == collection_id)
        if ready_only:
            query = query.where(RagDocument.status == DOCUMENT_READY)
        return list(self.session.scalars(query.order_by(func.lower(RagDocument.filename), RagDocument.id)))

    def ready_by_hash(self, collection_id: int, content_hash: str) -> Optional[RagDocument]:
        query = select(RagDocument).where(
            RagDocument.collection_id == collection_id,
            RagDocument.content_hash == content_hash,
            RagDocument.status == DOCUMENT_READY,
        )
        return self.session.scalars(query.order_by(RagDocument.id).limit(1)).first()

    def ready_by_filename(self, collection_id: int, filename: str) -> Optional[RagDocument]:
        query = select(RagDocument).where(
            RagDocument.collection_id == collection_id,
            RagDocument.filename == filename,
            RagDocument.status == DOCUMENT_READY,
        )
        return self.session.scalars(query.order_by(RagDocument.id.desc()).limit(1)).first()

    def count_ready(self, collection_id: int) -> int:
        query = select(func.count(RagDocument.id)).where(RagDocument.collection_id == collection_id, RagDocument.status == DOCUMENT_READY)
        return int(self.session.scalar(query) or 0)

    def update(self, id: int, **fields: Any) -> None:
        self.session.execute(update(RagDocument).where(RagDocument.id == id).values(**fields))

    def delete(self, id: int) -> bool:
        return bool(self.session.execute(delete(RagDocument).where(RagDocument.id == id)).rowcount)

    def delete_stale_indexing(self) -> list[int]:
        """Remove documents left half-indexed by a crash or kill; returns their ids."""
        ids = list(self.session.scalars(select(RagDocument.id).where(RagDocument.status == DOCUMENT_INDEXING)))
        if ids:
            self.session.execute(delete(RagDocument).where(RagDocument.id.in_(ids)))
        return ids


class RagPageRepository:
    def __init__(self, session: Session):
        self.session = session

    def add_many(self, document_id: int, pages: Sequence[tuple[int, str]]) -> None:
        if pages:
            self.session.execute(insert(RagPage), [{"document_id": document_id, "page_number": n, "text": t} for n, t in pages])

    def for_documents(self, document_ids: Sequence[int]) -> list[RagPage]:
        query = select(RagPage).where(RagPage.document_id.in_(list(document_ids))).order_by(RagPage.document_id, RagPage.page_number)
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

    def _ready_in_collection(self, collection_id: int, chunk_ids: Sequence[int]) -> set[int]:
        if not chunk_ids:
            return set()
        query = (
            select(RagChunk.id)
            .join(RagDocument, RagDocument.id == RagChunk.document_id)
            .where(RagChunk.id.in_(list(chunk_ids)), RagChunk.collection_id == collection_id, RagDocument.status == DOCUMENT_READY)
        )
        return set(self.session.scalars(query))

    def _sqlite_top_keyword(self, collection_id: int, match: str, limit: int) -> list[tuple[int, float]]:
        """Best BM25 matches of one collection. The FTS table is ranked on its own (joining
        every match to its chunk and document first is ~2x slower on 50,000 chunks), then
        the few best are checked for collection and readiness; fetch more if too few pass."""
        fetch = max(limit * 4, 50)
        while True:
            sql = text("SELECT rowid, bm25(rag_chunks_fts) AS score FROM rag_chunks_fts WHERE rag_chunks_fts MATCH :match ORDER BY score LIMIT :fetch")
            rows = [(int(r[0]), -float(r[1])) for r in self.session.execute(sql, {"match": match, "fetch": fetch})]
            keep = self._ready_in_collection(collection_id, [r[0] for r in rows])
            found = [r for r in rows if r[0] in keep]
            if len(found) >= limit or len(rows) < fetch:
                return found[:limit]
            fetch *= 4

    def keyword_search(self, collection_id: int, terms: Sequence[str], limit: int, only: Optional[Sequence[int]] = None) -> list[tuple[int, float]]:
        """(chunk id, score) best first; a higher score is a better match.

        SQLite: FTS5 bm25 (SQLite returns it negated). PostgreSQL: ts_rank over an on-the-fly
        tsvector, which works but is not indexed (slower on large collections).
        """
        if not terms:
            return []
        dialect = self.session.get_bind().dialect.name
        restrict = f" AND c.id IN ({','.join(str(int(i)) for i in only)})" if only else ""
        if dialect == "sqlite":
            match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
            if only:
                sql = text(f"SELECT rowid, bm25(rag_chunks_fts) FROM rag_chunks_fts WHERE rag_chunks_fts MATCH :match AND rowid IN ({','.join(str(int(i)) for i in only)})")
                rows = [(int(r[0]), -float(r[1])) for r in self.session.execute(sql, {"match": match})]
                keep = self._ready_in_collection(collection_id, [r[0] for r in rows])
                return sorted((r for r in rows if r[0] in keep), key=lambda r: -r[1])[:limit]
            return self._sqlite_top_keyword(collection_id, match, limit)
        words = [w for w in (_PG_WORD.sub("", t) for t in terms) if w]
        if not words:
            return []
        sql = text(
            "SELECT c.id, ts_rank(to_tsvector('simple', c.text), to_tsquery('simple', :q)) AS score FROM rag_chunks c "
            "JOIN rag_documents d ON d.id = c.document_id "
            "WHERE c.collection_id = :cid AND d.status = :ready AND to_tsvector('simple', c.text) @@ to_tsquery('simple', :q)" + restrict + " "
            "ORDER BY score DESC LIMIT :limit"
        )
        rows = self.session.execute(sql, {"q": " | ".join(words), "cid": collection_id, "ready": DOCUMENT_READY, "limit": limit})
        return [(int(r[0]), float(r[1])) for r in rows]


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

    def get(self, id: int) -> Optional[RagQuestion]:
        return self.session.get(RagQuestion, id)

    def list(self, collection_id: Optional[int] = None, limit: int = 200) -> list[RagQuestion]:
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

    def get(self, id: int) -> Optional[RagEvaluation]:
        return self.session.get(RagEvaluation, id)

    def list(self, collection_id: Optional[int] = None, limit: int = 100) -> list[RagEvaluation]:
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
