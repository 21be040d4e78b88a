"""Putting files into a collection: the preview, the upload (parse, chunk, embed, store) and
the re-index after the chunking or embedding settings change. Mixed into ``DocumentsService``.

A file being indexed holds an ingest lease (taken with its "indexing" row, renewed by a
heartbeat, released with the "ready" write), so another process's start-up clean-up leaves
it alone while this process is alive."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from playground.errors import InvalidInput, UserFacingError
from playground.progress import OnProgress, notify, scaled
from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.embedding import Cancelled, to_blob
from playground.rag.parsing import ParsedPage
from storage.orm import utc_now
from storage.orm_leases import LEASE_INGEST
from storage.orm_rag import DOCUMENT_INDEXING, DOCUMENT_READY

if TYPE_CHECKING:
    from playground.leases import Lease, Leases
    from playground.rag.config import RagConfig
    from playground.rag.embedding import Embedder
    from playground.rag.freshness import Signature
    from playground.rag.index import VectorIndex
    from playground.rag.keyword_index import KeywordIndex
    from playground.rag.parsing import ParsedDocument
    from playground.rag.service import CollectionInfo
    from storage import UnitOfWork

log = logging.getLogger(__name__)
DUPLICATE_CHOICES = ("skip", "replace")


@dataclass
class FileOutcome:
    filename: str
    status: str  # "indexed" | "skipped" | "failed" | "cancelled"
    message: str
    chunks: int = 0


@dataclass(frozen=True)
class StoredDocument:
    """A ready file of a collection with its stored pages, as re-chunking needs it."""

    id: int
    filename: str
    headings: list[str]
    pages: list[ParsedPage]


class IngestMixin:
    """Needs ``get_collection``, ``parse``, ``embedder_factory``, ``config``, ``index``, ``keywords``, ``uow_factory``, ``_lock``."""

    # Provided by ``DocumentsService``; declared here (annotations only) for the type checker.
    embedder_factory: Callable[[str], Embedder]
    config: RagConfig
    index: VectorIndex
    keywords: KeywordIndex
    uow_factory: Callable[[], UnitOfWork]
    leases: Leases

    if TYPE_CHECKING:

        def _after_own_write(self, collection_id: int, before: Signature, after: Signature) -> None: ...

        def get_collection(self, collection_id: int | None) -> CollectionInfo: ...

        def parse(self, path: str | Path, filename: str | None = None) -> ParsedDocument: ...

        def _lock(self, collection_id: int) -> threading.Lock: ...

    @staticmethod
    def check_upload_files(paths: Sequence[str] | None, on_duplicate: str = "skip") -> None:
        """What an upload refuses before reading any file."""
        if not paths:
            raise InvalidInput("Choose one or more files to upload.")
        if on_duplicate not in DUPLICATE_CHOICES:
            raise InvalidInput("For duplicates choose skip or replace.")

    # ---- preview ------------------------------------------------------------------------
    def preview(self, collection_id: int | None, paths: Sequence[str]) -> list[dict]:
        """One row per file: what parsing found, or why it cannot be used."""
        if not paths:
            raise InvalidInput("Choose one or more files first.")
        rows = []
        for path in paths:
            name = Path(path).name
            try:
                doc = self.parse(path)
            except UserFacingError as err:
                log.info("Preview of %s refused: %s", name, err)
                rows.append(
                    {"file": name, "format": "", "pages": 0, "characters": 0, "headings": "", "notes": f"❌ {err}"}
                )
                continue
            notes = list(doc.warnings)
            if collection_id:
                with self.uow_factory() as uow:
                    same = uow.rag_documents.ready_by_hash(int(collection_id), doc.content_hash)
                    older = uow.rag_documents.ready_by_filename(int(collection_id), doc.filename)
                if same is not None:
                    notes.insert(0, f"Duplicate: same content as {same.filename!r} already in this collection.")
                elif older is not None:
                    notes.insert(
                        0, f"New version of {older.filename!r} (v{older.version}); it will replace the old chunks."
                    )
            shown = ", ".join(doc.headings[:8]) + (f" … (+{len(doc.headings) - 8})" if len(doc.headings) > 8 else "")
            rows.append(
                {
                    "file": doc.filename,
                    "format": doc.format.upper(),
                    "pages": len(doc.pages),
                    "characters": doc.char_count,
                    "headings": shown,
                    "notes": " ".join(notes) or "OK",
                }
            )
        return rows

    # ---- upload -------------------------------------------------------------------------
    def ingest(
        self,
        collection_id: int,
        paths: Sequence[str],
        on_duplicate: str = "skip",
        on_progress: OnProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[FileOutcome]:
        """Index several files, one after another. A bad file is reported and skipped; Stop
        ends the current file cleanly (nothing of it stays) and skips the rest."""
        info = self.get_collection(collection_id)
        self.check_upload_files(paths, on_duplicate)
        outcomes: list[FileOutcome] = []
        for i, path in enumerate(paths):
            name = Path(path).name
            if cancel is not None and cancel.is_set():
                outcomes.append(FileOutcome(name, "cancelled", "Not started: stopped."))
                continue
            report = scaled(on_progress, i, len(paths), f"[{i + 1}/{len(paths)}] {name}")
            try:
                outcomes.append(self._ingest_one(info, path, on_duplicate, report, cancel))
            except Cancelled:
                outcomes.append(FileOutcome(name, "cancelled", "Stopped: nothing of this file was kept."))
            except UserFacingError as err:
                log.info("Upload of %s refused: %s", name, err)
                outcomes.append(FileOutcome(name, "failed", str(err)))
            except Exception as err:
                log.exception("Upload of %s failed unexpectedly", name)
                outcomes.append(FileOutcome(name, "failed", f"Could not index it ({type(err).__name__}); see the log."))
        notify(on_progress, len(paths), len(paths), "Done")
        return outcomes

    def _ingest_one(
        self, info: CollectionInfo, path: str, on_duplicate: str, on_progress: OnProgress | None, cancel
    ) -> FileOutcome:
        notify(on_progress, 0, 1, "reading")
        doc = self.parse(path)
        with self.uow_factory() as uow:
            same = uow.rag_documents.ready_by_hash(info.id, doc.content_hash)
            older = uow.rag_documents.ready_by_filename(info.id, doc.filename)
            if same is not None and on_duplicate == "skip":
                return FileOutcome(
                    doc.filename, "skipped", f"Skipped: same content as {same.filename!r}, already indexed."
                )
            replaced = {d.id for d in (same, older) if d is not None}
            version = (older.version + 1) if older is not None else 1
            row = uow.rag_documents.add(
                collection_id=info.id,
                filename=doc.filename,
                content_hash=doc.content_hash,
                format=doc.format,
                size_bytes=doc.size_bytes,
                version=version,
                status=DOCUMENT_INDEXING,
                page_count=len(doc.pages),
                char_count=doc.char_count,
                headings=doc.headings,
                warnings=doc.warnings,
            )
            doc_id = row.id
            lease = self.leases.take_in(uow, LEASE_INGEST, doc_id, note=doc.filename)
        assert lease is not None  # a new file's id: nobody else can hold it
        self.leases.keep(lease)
        try:
            chunks = chunk_pages(doc.pages, doc.headings, info.chunking)
            if not chunks:
                raise InvalidInput(f"{doc.filename} has no text to index after cleaning.")
            notify(on_progress, 0, len(chunks), f"embedding {len(chunks)} chunks")
            embedder = self.embedder_factory(info.embed_model)
            vectors = embedder.encode(
                [c.text for c in chunks],
                max_tokens=info.embed_max_tokens,
                batch_size=self.config.embed_batch,
                progress=lambda done, total: notify(on_progress, done, total, f"embedded {done}/{total} chunks"),
                cancel=cancel,
            )
            if cancel is not None and cancel.is_set():
                raise Cancelled("Stopped.")
            self._publish(info.id, doc_id, replaced, doc.pages, chunks, vectors, lease)
        except BaseException:
            self._forget_unfinished(doc_id, lease)
            raise
        verb = f"Indexed as version {version}, replacing the old one" if replaced else "Indexed"
        pages = f"{len(doc.pages)} page(s)"
        notes = (" · " + " ".join(doc.warnings)) if doc.warnings else ""
        return FileOutcome(doc.filename, "indexed", f"{verb}: {pages}, {len(chunks)} chunks{notes}", len(chunks))

    def _publish(
        self,
        collection_id: int,
        doc_id: int,
        replaced: set[int],
        pages: list[ParsedPage],
        chunks,
        vectors: np.ndarray,
        lease: Lease,
    ) -> None:
        """The one transaction that makes the file visible (and removes the versions it replaces)."""
        with self._lock(collection_id):
            with self.uow_factory() as uow:
                uow.rag_collections.lock_for_write(collection_id)  # writers in other processes wait
                if not self.leases.release_in(uow, lease):
                    raise UserFacingError(
                        "This upload took so long without a sign of life that another app process cleaned it up. "
                        "Upload the file again."
                    )
                before = uow.rag_documents.signature(collection_id)
                old_ids = [cid for old in replaced for cid in uow.rag_chunks.ids_for_document(old)]
                for old in replaced:
                    uow.rag_documents.delete(old)
                uow.rag_pages.add_many(doc_id, [(p.number, p.text) for p in pages])
                new_ids = uow.rag_chunks.add_many(_chunk_rows(collection_id, doc_id, chunks, vectors))
                uow.rag_documents.update(doc_id, status=DOCUMENT_READY, chunk_count=len(chunks), indexed_at=utc_now())
                after = uow.rag_documents.signature(collection_id)
            self.index.remove(collection_id, old_ids)
            self.index.add(collection_id, new_ids, vectors)
            self.keywords.remove(collection_id, old_ids)
            self.keywords.add(collection_id, zip(new_ids, (c.text for c in chunks)))
            self._after_own_write(collection_id, before, after)

    def _forget_unfinished(self, doc_id: int, lease: Lease) -> None:
        self.leases.stop_renewing(lease)
        try:
            with self.uow_factory() as uow:
                row = uow.rag_documents.get(doc_id)
                if row is not None and row.status == DOCUMENT_INDEXING:
                    uow.rag_documents.delete(doc_id)
                uow.leases.release(lease.kind, lease.resource_id, lease.token)
        except Exception:
            log.exception("Could not remove unfinished document %s", doc_id)

    # ---- re-index -----------------------------------------------------------------------
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
    ) -> str:
        """Re-chunk and re-embed every file, then swap all chunks and the settings in one
        transaction: a cancel or crash before the end leaves the old index untouched."""
        with self._lock(info.id):
            documents = self.stored_documents(info.id)
            embedder = self.embedder_factory(embed_model)
            prepared = []
            for i, document in enumerate(documents):
                chunks = chunk_pages(document.pages, document.headings, chunking)
                report = scaled(on_progress, i, len(documents), f"Re-indexing {document.filename}")
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
                total = 0
                for doc_id, chunks, vectors in prepared:
                    uow.rag_chunks.delete_for_document(doc_id)
                    uow.rag_chunks.add_many(_chunk_rows(info.id, doc_id, chunks, vectors))
                    uow.rag_documents.update(doc_id, chunk_count=len(chunks), indexed_at=utc_now())
                    total += len(chunks)
                uow.rag_collections.update(info.id, **fields)
            self.index.drop(info.id)  # reloaded from the new rows on the next query
            self.keywords.drop(info.id)
        return f"Settings saved; re-indexed {len(prepared)} file(s) into {total} chunks."


def _chunk_progress(report: OnProgress | None) -> Callable[[int, int], None] | None:
    """The embedder's chunk counts as progress of one file (None when nobody listens)."""
    if report is None:
        return None
    return lambda done, total: notify(report, done, total, f"{done}/{total} chunks")


def _chunk_rows(collection_id: int, document_id: int, chunks, vectors: np.ndarray) -> list[dict]:
    return [
        {
            "collection_id": collection_id,
            "document_id": document_id,
            "ordinal": c.ordinal,
            "page_number": c.page_number,
            "start_char": c.start_char,
            "end_char": c.end_char,
            "heading": c.heading,
            "text": c.text,
            "embedding": to_blob(v),
        }
        for c, v in zip(chunks, vectors)
    ]
