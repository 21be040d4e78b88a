"""Putting files into a collection: the preview and the upload (parse, chunk, embed, store).
Mixed into ``DocumentsService``; re-indexing after a settings change is in
``playground.rag.reindexing``.

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
from playground.i18n import Text, t
from playground.progress import OnProgress, notify, scaled
from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.embedder_choice import coverage_note, embedder_for, profile
from playground.rag.embedding import Cancelled, to_blob
from playground.rag.notes import Note, joined, to_stored
from playground.rag.parsed import ParsedPage
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
    from playground.rag.parsed import ParsedDocument
    from playground.rag.service import CollectionInfo
    from storage import UnitOfWork

log = logging.getLogger(__name__)
DUPLICATE_CHOICES = ("skip", "replace")


class SettingsChanged(UserFacingError):
    """The collection's chunking or embedder changed (a re-index) while a file was being embedded."""


@dataclass
class FileOutcome:
    filename: str
    status: str  # "indexed" | "skipped" | "failed" | "cancelled"
    message: str  # English, for logs and API callers
    chunks: int = 0
    text: Text | None = None  # the message in the catalogue, when it has a key: shown in the reader's language


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
            raise InvalidInput(t("documents.no_files_upload"))
        if on_duplicate not in DUPLICATE_CHOICES:
            raise InvalidInput(t("documents.duplicates_choice"))

    # ---- preview ------------------------------------------------------------------------
    def preview(self, collection_id: int | None, paths: Sequence[str]) -> list[dict]:
        """One row per file: what parsing found, or why it cannot be used."""
        if not paths:
            raise InvalidInput(t("documents.no_files"))
        rows = []
        for path in paths:
            name = Path(path).name
            try:
                doc = self.parse(path)
            except UserFacingError as err:
                log.info("Preview of %s refused: %s", name, err)
                refused = joined(["❌", err.message])
                rows.append({"file": name, "format": "", "pages": 0, "characters": 0, "headings": "", "notes": refused})
                continue
            notes: list[Note] = list(doc.warnings)
            if collection_id:
                with self.uow_factory() as uow:
                    same = uow.rag_documents.ready_by_hash(int(collection_id), doc.content_hash)
                    older = uow.rag_documents.ready_by_filename(int(collection_id), doc.filename)
                if same is not None:
                    notes.insert(0, t("documents.preview_duplicate", filename=same.filename))
                elif older is not None:
                    notes.insert(0, t("documents.preview_new_version", filename=older.filename, version=older.version))
            shown = ", ".join(doc.headings[:8]) + (f" … (+{len(doc.headings) - 8})" if len(doc.headings) > 8 else "")
            rows.append(
                {
                    "file": doc.filename,
                    "format": doc.format.upper(),
                    "pages": len(doc.pages),
                    "characters": doc.char_count,
                    "headings": shown,
                    "notes": joined(notes) if notes else t("documents.preview_ok"),
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
        parsed: dict[str, ParsedDocument] = {}
        if not info.embed_model or not info.language:
            parsed = self._settle_language(info, paths)
            info = self.get_collection(collection_id)
        outcomes: list[FileOutcome] = []
        for i, path in enumerate(paths):
            name = Path(path).name
            if cancel is not None and cancel.is_set():
                outcomes.append(_outcome(name, "cancelled", t("documents.outcome_not_started")))
                continue
            report = scaled(on_progress, i, len(paths), f"[{i + 1}/{len(paths)}] {name}")
            try:
                outcomes.append(self._ingest_one(info, path, on_duplicate, report, cancel, parsed.pop(path, None)))
            except Cancelled:
                outcomes.append(_outcome(name, "cancelled", t("documents.outcome_stopped")))
            except UserFacingError as err:
                log.info("Upload of %s refused: %s", name, err)
                shown = err.message if isinstance(err.message, Text) else None
                outcomes.append(FileOutcome(name, "failed", str(err), text=shown))
            except Exception as err:
                log.exception("Upload of %s failed unexpectedly", name)
                outcomes.append(_outcome(name, "failed", t("documents.outcome_crashed", error=type(err).__name__)))
        notify(on_progress, len(paths), len(paths), t("documents.progress_done"))
        return outcomes

    def _settle_language(self, info: CollectionInfo, paths: Sequence[str]) -> dict[str, ParsedDocument]:
        """The first upload decides an automatic collection's embedder (and any collection's
        language, while unknown) from the language of its files. Returns the files parsed,
        so they are not read twice; one that cannot be read is left to the upload to report."""
        parsed: dict[str, ParsedDocument] = {}
        for path in paths:
            try:
                parsed[path] = self.parse(path)
            except UserFacingError:
                continue
        found = profile("\n".join(p.text for p in doc.pages) for doc in parsed.values())
        embedder = info.embed_model or embedder_for(found)
        with self.uow_factory() as uow:
            uow.rag_collections.settle_language(info.id, embedder, found.main)
        if not info.embed_model:
            log.info("Collection %s: documents in %s, embedder %s", info.name, found.describe(), embedder)
        return parsed

    def _ingest_one(
        self,
        info: CollectionInfo,
        path: str,
        on_duplicate: str,
        on_progress: OnProgress | None,
        cancel,
        parsed: ParsedDocument | None = None,
    ) -> FileOutcome:
        notify(on_progress, 0, 1, t("documents.progress_reading"))
        doc = parsed or self.parse(path)
        note = coverage_note(info.embed_model, profile(["\n".join(p.text for p in doc.pages)]), info.language)
        if note:
            log.info("%s in %s: %s", doc.filename, info.name, note)
            doc.warnings = [*doc.warnings, note]
        with self.uow_factory() as uow:
            same = uow.rag_documents.ready_by_hash(info.id, doc.content_hash)
            older = uow.rag_documents.ready_by_filename(info.id, doc.filename)
            if same is not None and on_duplicate == "skip":
                skipped = t("documents.outcome_skipped", filename=same.filename)
                return _outcome(doc.filename, "skipped", skipped)
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
                warnings=[to_stored(w) for w in doc.warnings],
            )
            doc_id = row.id
            lease = self.leases.take_in(uow, LEASE_INGEST, doc_id, note=doc.filename)
        assert lease is not None  # a new file's id: nobody else can hold it
        self.leases.keep(lease)
        try:
            try:
                chunks = self._embed_and_publish(info, doc, doc_id, replaced, lease, on_progress, cancel)
            except SettingsChanged:  # a re-index finished meanwhile: embed again, as the collection is now
                log.info(
                    "%s: the settings of %s changed while it was embedded; embedding again", doc.filename, info.name
                )
                info = self.get_collection(info.id)
                chunks = self._embed_and_publish(info, doc, doc_id, replaced, lease, on_progress, cancel)
        except BaseException:
            self._forget_unfinished(doc_id, lease)
            raise
        key = "documents.outcome_replaced" if replaced else "documents.outcome_indexed"
        notes = joined(doc.warnings, prefix=" · ")
        said = t(key, version=version, pages=len(doc.pages), chunks=len(chunks), notes=notes)
        return _outcome(doc.filename, "indexed", said, len(chunks))

    def _embed_and_publish(
        self,
        info: CollectionInfo,
        doc: ParsedDocument,
        doc_id: int,
        replaced: set[int],
        lease: Lease,
        on_progress,
        cancel,
    ) -> list:
        chunks = chunk_pages(doc.pages, doc.headings, info.chunking, info.embed_model)
        if not chunks:
            raise InvalidInput(t("documents.no_text_after_cleaning", filename=doc.filename))
        notify(on_progress, 0, len(chunks), t("documents.progress_embedding", chunks=len(chunks)))
        embedder = self.embedder_factory(info.embed_model)
        vectors = embedder.encode(
            [c.text for c in chunks],
            role="passage",
            max_tokens=info.embed_max_tokens,
            batch_size=self.config.embed_batch,
            progress=lambda done, total: notify(
                on_progress, done, total, t("documents.progress_embedded", done=done, total=total)
            ),
            cancel=cancel,
        )
        if cancel is not None and cancel.is_set():
            raise Cancelled(t("documents.stopped"))
        self._publish(info, doc_id, replaced, doc.pages, chunks, vectors, lease)
        return chunks

    def _publish(
        self,
        info: CollectionInfo,
        doc_id: int,
        replaced: set[int],
        pages: list[ParsedPage],
        chunks,
        vectors: np.ndarray,
        lease: Lease,
    ) -> None:
        """The one transaction that makes the file visible (and removes the versions it replaces),
        provided the collection still has the chunking and embedder the file was embedded with."""
        collection_id = info.id
        with self._lock(collection_id):
            with self.uow_factory() as uow:
                uow.rag_collections.lock_for_write(collection_id)  # writers in other processes wait
                _check_unchanged(uow, info)
                if not self.leases.release_in(uow, lease):
                    raise UserFacingError(t("documents.upload_lease_lost"))
                before = uow.rag_documents.signature(collection_id)
                old_ids = [cid for old in replaced for cid in uow.rag_chunks.ids_for_document(old)]
                for old in replaced:
                    uow.rag_documents.delete(old)
                uow.rag_pages.add_many(doc_id, [(p.number, p.text) for p in pages])
                new_ids = uow.rag_chunks.add_many(chunk_rows(collection_id, doc_id, chunks, vectors))
                uow.rag_documents.update(doc_id, status=DOCUMENT_READY, chunk_count=len(chunks), indexed_at=utc_now())
                after = uow.rag_documents.signature(collection_id)
            self.index.remove(collection_id, old_ids)
            self.index.add(collection_id, new_ids, vectors, info.embed_model)
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


def _check_unchanged(uow: UnitOfWork, info: CollectionInfo) -> None:
    row = uow.rag_collections.get(info.id)
    if row is None:
        raise InvalidInput(t("documents.collection_gone"))
    now = (ChunkSettings(row.chunk_size, row.chunk_overlap, row.chunk_unit), row.embed_model, row.embed_max_tokens)
    if now != (info.chunking, info.embed_model, info.embed_max_tokens):
        raise SettingsChanged("The collection's settings changed while this file was being indexed.")


def chunk_rows(collection_id: int, document_id: int, chunks, vectors: np.ndarray) -> list[dict]:
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


def _outcome(filename: str, status: str, message: Text, chunks: int = 0) -> FileOutcome:
    """A file's outcome: English in ``message``, and the catalogue text to show the reader."""
    return FileOutcome(filename, status, str(message), chunks, message)
