"""Re-indexing a collection after its chunking (or chunking and embedder) changed: every file is
chunked and embedded again aside, and all chunks and the settings are swapped in one
transaction at the end. Mixed into ``DocumentsService`` (uploads: ``playground.rag.ingesting``;
a new embedder alone: ``playground.rag.reembedding``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playground.i18n import Text, t
from playground.progress import OnProgress, notify, scaled
from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.ingesting import chunk_rows
from playground.rag.parsed import ParsedPage
from storage.orm import utc_now

if TYPE_CHECKING:
    from playground.rag.config import RagConfig
    from playground.rag.embedding import Embedder
    from playground.rag.index import VectorIndex
    from playground.rag.keyword_index import KeywordIndex
    from playground.rag.service import CollectionInfo
    from storage import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredDocument:
    """A ready file of a collection with its stored pages, as re-chunking needs it."""

    id: int
    filename: str
    headings: list[str]
    pages: list[ParsedPage]


class ReindexMixin:
    """Needs ``embedder_factory``, ``config``, ``index``, ``keywords``, ``uow_factory``, ``_lock``."""

    embedder_factory: Callable[[str], Embedder]
    config: RagConfig
    index: VectorIndex
    keywords: KeywordIndex
    uow_factory: Callable[[], UnitOfWork]

    if TYPE_CHECKING:

        def _lock(self, collection_id: int) -> threading.Lock: ...

    def stored_documents(self, collection_id: int) -> list[StoredDocument]:
        """Every ready file with its stored pages: re-indexing and sweeps re-chunk these."""
        with self.uow_factory() as uow:
            documents = [(d.id, d.filename, d.headings) for d in uow.rag_documents.list(collection_id, ready_only=True)]
            pages = uow.rag_pages.for_documents([d[0] for d in documents])
        by_doc: dict[int, list[ParsedPage]] = {}
        for page in pages:
            by_doc.setdefault(page.document_id, []).append(ParsedPage(page.page_number, page.text))
        return [
            StoredDocument(doc_id, filename, headings, by_doc.get(doc_id, []))
            for doc_id, filename, headings in documents
        ]

    def _reindex(
        self,
        info: CollectionInfo,
        fields: dict,
        chunking: ChunkSettings,
        embed_model: str,
        embed_max_tokens: int,
        on_progress: OnProgress | None,
        cancel,
    ) -> Text:
        """Re-chunk and re-embed every file, then swap all chunks and the settings in one
        transaction: a cancel or crash before the end leaves the old index untouched."""
        with self._lock(info.id):
            documents = self.stored_documents(info.id)
            embedder = self.embedder_factory(embed_model)
            prepared = []
            for i, document in enumerate(documents):
                chunks = chunk_pages(document.pages, document.headings, chunking, embed_model)
                label = t("documents.progress_reindexing", filename=document.filename)
                report = scaled(on_progress, i, len(documents), label)
                vectors = embedder.encode(
                    [c.text for c in chunks],
                    max_tokens=embed_max_tokens,
                    batch_size=self.config.embed_batch,
                    progress=_chunk_progress(report),
                    cancel=cancel,
                )
                prepared.append((document.id, chunks, vectors))
            with self.uow_factory() as uow:
                uow.rag_collections.lock_for_write(info.id)
                prepared = self._with_late_files(uow, info, prepared, chunking, embedder, embed_max_tokens)
                total = 0
                for doc_id, chunks, vectors in prepared:
                    uow.rag_chunks.delete_for_document(doc_id)
                    uow.rag_chunks.add_many(chunk_rows(info.id, doc_id, chunks, vectors))
                    uow.rag_documents.update(doc_id, chunk_count=len(chunks), indexed_at=utc_now())
                    total += len(chunks)
                uow.rag_collections.update(info.id, **fields)
            self.index.drop(info.id)  # reloaded from the new rows on the next query
            self.keywords.drop(info.id)
        return t("documents.settings_reindexed", files=len(prepared), chunks=total)

    def _with_late_files(self, uow: UnitOfWork, info: CollectionInfo, prepared: list, chunking, embedder, max_tokens):
        """Inside the swap: drop files removed meanwhile, and chunk and embed any file another
        process uploaded meanwhile (with the old settings), so none keeps old vectors."""
        ready = {d.id: d for d in uow.rag_documents.list(info.id, ready_only=True)}
        kept = [p for p in prepared if p[0] in ready]
        late = [doc_id for doc_id in ready if doc_id not in {p[0] for p in prepared}]
        if late:
            log.info("Re-indexing %d file(s) uploaded to %s meanwhile", len(late), info.name)
        pages: dict[int, list[ParsedPage]] = {}
        for page in uow.rag_pages.for_documents(late):
            pages.setdefault(page.document_id, []).append(ParsedPage(page.page_number, page.text))
        for doc_id in late:
            chunks = chunk_pages(pages.get(doc_id, []), ready[doc_id].headings, chunking, embedder.name)
            kept.append((doc_id, chunks, embedder.encode([c.text for c in chunks], max_tokens=max_tokens)))
        return kept


def _chunk_progress(report: OnProgress | None) -> Callable[[int, int], None] | None:
    """The embedder's chunk counts as progress of one file (None when nobody listens)."""
    if report is None:
        return None
    return lambda done, total: notify(report, done, total, t("documents.progress_chunks", done=done, total=total))
