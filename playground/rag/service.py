"""What the Documents tab can do: collections, uploads, questions with cited answers, history.

Evaluation lives in ``playground.rag.evaluation``; this module owns the index and ingest.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from playground.errors import InvalidInput, UserFacingError
from playground.generation import GenerationRecorder
from playground.models.registry import ModelRegistry
from playground.rag.asking import AskingMixin
from playground.rag.chunking import ChunkSettings, chunk_pages
from playground.rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_EMBED_MAX_TOKENS, EMBED_MODEL_NAME, RagConfig
from playground.rag.embedding import Cancelled, Embedder, EMBED_MODELS, from_blobs, shared_embedder, to_blob
from playground.rag.index import VectorIndex
from playground.rag.keyword_index import KeywordIndex, Posting, shared_tokenizer
from playground.rag.parsing import ParsedDocument, ParsedPage, parse_file
from playground.settings import Settings
from storage import UnitOfWork
from storage.orm_rag import DOCUMENT_INDEXING, DOCUMENT_READY
from storage.orm import utc_now

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
DUPLICATE_CHOICES = ("skip", "replace")


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    chunking: ChunkSettings
    embed_model: str
    embed_max_tokens: int
    documents: int = 0


@dataclass
class FileOutcome:
    filename: str
    status: str  # "indexed" | "skipped" | "failed" | "cancelled"
    message: str
    chunks: int = 0


def _info(row, documents: int = 0) -> CollectionInfo:
    return CollectionInfo(row.id, row.name, ChunkSettings(row.chunk_size, row.chunk_overlap, row.chunk_unit), row.embed_model, row.embed_max_tokens, documents)


class DocumentsService(AskingMixin):
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        recorder: GenerationRecorder,
        uow_factory: Callable[[], UnitOfWork],
        config: RagConfig | None = None,
        embedder_factory: Callable[[str], Embedder] = shared_embedder,
    ):
        self.settings = settings
        self.registry = registry
        self.recorder = recorder
        self.uow_factory = uow_factory
        self.config = config or RagConfig.from_env()
        self.embedder_factory = embedder_factory
        self.index = VectorIndex(self._load_vectors)
        self.keywords = KeywordIndex(self._load_postings)
        self._collection_locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.cleanup_interrupted()

    # ---- start-up ------------------------------------------------------------------
    def cleanup_interrupted(self) -> int:
        """Remove files whose indexing never finished (the app was killed mid-upload)."""
        with self.uow_factory() as uow:
            removed = uow.rag_documents.delete_stale_indexing()
        if removed:
            log.warning("Removed %d half-indexed document(s) left by an interrupted upload", len(removed))
        return len(removed)

    def _load_vectors(self, collection_id: int) -> tuple[list[int], np.ndarray]:
        with self.uow_factory() as uow:
            rows = uow.rag_chunks.ready_embeddings(collection_id)
        return [r[0] for r in rows], from_blobs([r[1] for r in rows])

    def _load_postings(self, collection_id: int) -> list[Posting]:
        """On SQLite, read from the persisted FTS5 index; elsewhere cut the stored texts with the same tokenizer."""
        with self.uow_factory() as uow:
            stored = uow.rag_chunks.fts_postings(collection_id)
            if stored is not None:
                return stored
            texts = uow.rag_chunks.ready_texts(collection_id)
        return shared_tokenizer().postings(texts)

    def _lock(self, collection_id: int) -> threading.Lock:
        """Writes to one collection (ingest, delete, re-index) go one at a time."""
        with self._locks_guard:
            return self._collection_locks.setdefault(collection_id, threading.Lock())

    # ---- collections ----------------------------------------------------------------
    def list_collections(self) -> list[CollectionInfo]:
        with self.uow_factory() as uow:
            return [_info(c, uow.rag_documents.count_ready(c.id)) for c in uow.rag_collections.list()]

    def get_collection(self, collection_id: int | None) -> CollectionInfo:
        if not collection_id:
            raise InvalidInput("Pick a collection first (or create one).")
        with self.uow_factory() as uow:
            row = uow.rag_collections.get(int(collection_id))
            if row is None:
                raise InvalidInput("That collection no longer exists. Pick another one.")
            return _info(row, uow.rag_documents.count_ready(row.id))

    @staticmethod
    def _clean_name(name: str) -> str:
        name = " ".join((name or "").split())
        if not name:
            raise InvalidInput("Give the collection a name.")
        if len(name) > 200:
            raise InvalidInput("Collection names can be at most 200 characters.")
        return name

    @staticmethod
    def _check_embedding(model: str, max_tokens: int) -> tuple[str, int]:
        if model not in EMBED_MODELS:
            raise InvalidInput(f"Unknown embedding model {model!r}. Available: {', '.join(EMBED_MODELS)}.")
        if not 16 <= int(max_tokens) <= 512:
            raise InvalidInput("The embedding input length must be between 16 and 512 tokens.")
        return model, int(max_tokens)

    def create_collection(
        self,
        name: str,
        chunking: ChunkSettings = ChunkSettings(DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP, "chars"),
        embed_model: str = EMBED_MODEL_NAME,
        embed_max_tokens: int = DEFAULT_EMBED_MAX_TOKENS,
    ) -> CollectionInfo:
        name = self._clean_name(name)
        chunking = chunking.validated()
        embed_model, embed_max_tokens = self._check_embedding(embed_model, embed_max_tokens)
        with self.uow_factory() as uow:
            if uow.rag_collections.by_name(name) is not None:
                raise InvalidInput(f"A collection named {name!r} already exists.")
            row = uow.rag_collections.add(
                name=name, chunk_size=chunking.size, chunk_overlap=chunking.overlap, chunk_unit=chunking.unit,
                embed_model=embed_model, embed_max_tokens=embed_max_tokens,
            )
            info = _info(row)
        log.info("Created collection %s (%s)", name, chunking)
        return info

    def rename_collection(self, collection_id: int, new_name: str) -> CollectionInfo:
        info = self.get_collection(collection_id)
        name = self._clean_name(new_name)
        with self.uow_factory() as uow:
            other = uow.rag_collections.by_name(name)
            if other is not None and other.id != info.id:
                raise InvalidInput(f"A collection named {name!r} already exists.")
            uow.rag_collections.update(info.id, name=name)
        return self.get_collection(info.id)

    def delete_collection(self, collection_id: int) -> str:
        info = self.get_collection(collection_id)
        with self._lock(info.id), self.uow_factory() as uow:
            uow.rag_collections.delete(info.id)
        self.index.drop(info.id)
        self.keywords.drop(info.id)
        log.info("Deleted collection %s", info.name)
        return f"Deleted collection {info.name!r} and its {info.documents} file(s). Saved questions stay in History."

    def update_settings(
        self,
        collection_id: int,
        chunking: ChunkSettings,
        embed_model: str,
        embed_max_tokens: int,
        confirm_reindex: bool = False,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        info = self.get_collection(collection_id)
        chunking = chunking.validated()
        embed_model, embed_max_tokens = self._check_embedding(embed_model, embed_max_tokens)
        if (chunking, embed_model, embed_max_tokens) == (info.chunking, info.embed_model, info.embed_max_tokens):
            return "Nothing changed."
        if info.documents and not confirm_reindex:
            raise InvalidInput(
                f"Changing chunking or embedding settings re-indexes all {info.documents} file(s) in {info.name!r}. "
                "Tick “Re-index now” and save again to go ahead."
            )
        fields = dict(chunk_size=chunking.size, chunk_overlap=chunking.overlap, chunk_unit=chunking.unit, embed_model=embed_model, embed_max_tokens=embed_max_tokens)
        if not info.documents:
            with self.uow_factory() as uow:
                uow.rag_collections.update(info.id, **fields)
            return "Settings saved."
        return self._reindex(info, fields, chunking, embed_model, embed_max_tokens, progress, cancel)

    def _reindex(self, info, fields, chunking, embed_model, embed_max_tokens, progress, cancel) -> str:
        """Re-chunk and re-embed every file, then swap all chunks and the settings in one
        transaction: a cancel or crash before the end leaves the old index untouched."""
        with self._lock(info.id):
            with self.uow_factory() as uow:
                documents = [(d.id, d.filename, d.headings) for d in uow.rag_documents.list(info.id, ready_only=True)]
                pages = uow.rag_pages.for_documents([d[0] for d in documents])
            by_doc: dict[int, list[ParsedPage]] = {}
            for page in pages:
                by_doc.setdefault(page.document_id, []).append(ParsedPage(page.page_number, page.text))
            embedder = self.embedder_factory(embed_model)
            prepared = []
            for i, (doc_id, filename, headings) in enumerate(documents):
                chunks = chunk_pages(by_doc.get(doc_id, []), headings, chunking)
                report = _scaled(progress, i / len(documents), 1 / len(documents), f"Re-indexing {filename}")
                vectors = embedder.encode(
                    [c.text for c in chunks], max_tokens=embed_max_tokens, batch_size=self.config.embed_batch,
                    progress=(lambda d, t: report(d / t, f"{d}/{t} chunks")) if report else None, cancel=cancel,
                )
                prepared.append((doc_id, chunks, vectors))
            with self.uow_factory() as uow:
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

    # ---- documents --------------------------------------------------------------------
    def parse(self, path: str | Path, filename: str | None = None) -> ParsedDocument:
        return parse_file(path, self.config.max_file_bytes, filename)

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
                rows.append({"file": name, "format": "", "pages": 0, "characters": 0, "headings": "", "notes": f"❌ {err}"})
                continue
            notes = list(doc.warnings)
            if collection_id:
                with self.uow_factory() as uow:
                    same = uow.rag_documents.ready_by_hash(int(collection_id), doc.content_hash)
                    older = uow.rag_documents.ready_by_filename(int(collection_id), doc.filename)
                if same is not None:
                    notes.insert(0, f"Duplicate: same content as {same.filename!r} already in this collection.")
                elif older is not None:
                    notes.insert(0, f"New version of {older.filename!r} (v{older.version}); it will replace the old chunks.")
            shown = ", ".join(doc.headings[:8]) + (f" … (+{len(doc.headings) - 8})" if len(doc.headings) > 8 else "")
            rows.append({"file": doc.filename, "format": doc.format.upper(), "pages": len(doc.pages), "characters": doc.char_count, "headings": shown, "notes": " ".join(notes) or "OK"})
        return rows

    def list_documents(self, collection_id: int | None) -> list[dict]:
        if not collection_id:
            return []
        with self.uow_factory() as uow:
            docs = uow.rag_documents.list(int(collection_id))
        return [
            {"id": d.id, "file": d.filename, "version": d.version, "status": d.status, "format": d.format.upper(), "pages": d.page_count,
             "chunks": d.chunk_count, "characters": d.char_count, "warnings": " ".join(d.warnings), "added": d.created_at.strftime("%Y-%m-%d %H:%M")}
            for d in docs
        ]

    def delete_document(self, document_id: int) -> str:
        with self.uow_factory() as uow:
            doc = uow.rag_documents.get(int(document_id))
            if doc is None:
                raise InvalidInput("That file is no longer in the collection.")
            collection_id, filename = doc.collection_id, doc.filename
        with self._lock(collection_id), self.uow_factory() as uow:
            ids = uow.rag_chunks.ids_for_document(int(document_id))
            uow.rag_documents.delete(int(document_id))
        self.index.remove(collection_id, ids)
        self.keywords.remove(collection_id, ids)
        return f"Removed {filename} ({len(ids)} chunks)."

    def ingest(
        self,
        collection_id: int,
        paths: Sequence[str],
        on_duplicate: str = "skip",
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[FileOutcome]:
        """Index several files, one after another. A bad file is reported and skipped; Stop
        ends the current file cleanly (nothing of it stays) and skips the rest."""
        info = self.get_collection(collection_id)
        if not paths:
            raise InvalidInput("Choose one or more files to upload.")
        if on_duplicate not in DUPLICATE_CHOICES:
            raise InvalidInput("For duplicates choose skip or replace.")
        outcomes: list[FileOutcome] = []
        for i, path in enumerate(paths):
            name = Path(path).name
            if cancel is not None and cancel.is_set():
                outcomes.append(FileOutcome(name, "cancelled", "Not started: stopped."))
                continue
            report = _scaled(progress, i / len(paths), 1 / len(paths), f"[{i + 1}/{len(paths)}] {name}")
            try:
                outcomes.append(self._ingest_one(info, path, on_duplicate, report, cancel))
            except Cancelled:
                outcomes.append(FileOutcome(name, "cancelled", "Stopped: nothing of this file was kept."))
            except UserFacingError as err:
                log.info("Upload of %s refused: %s", name, err)
                outcomes.append(FileOutcome(name, "failed", str(err)))
            except Exception as err:  # noqa: BLE001 - one broken file must not stop the others
                log.exception("Upload of %s failed unexpectedly", name)
                outcomes.append(FileOutcome(name, "failed", f"Could not index it ({type(err).__name__}); see the log."))
        if progress:
            progress(1.0, "Done")
        return outcomes

    def _ingest_one(self, info: CollectionInfo, path: str, on_duplicate: str, progress: Progress | None, cancel) -> FileOutcome:
        if progress:
            progress(0.0, "reading")
        doc = self.parse(path)
        with self.uow_factory() as uow:
            same = uow.rag_documents.ready_by_hash(info.id, doc.content_hash)
            older = uow.rag_documents.ready_by_filename(info.id, doc.filename)
            if same is not None and on_duplicate == "skip":
                return FileOutcome(doc.filename, "skipped", f"Skipped: same content as {same.filename!r}, already indexed.")
            replaced = {d.id for d in (same, older) if d is not None}
            version = (older.version + 1) if older is not None else 1
            row = uow.rag_documents.add(
                collection_id=info.id, filename=doc.filename, content_hash=doc.content_hash, format=doc.format,
                size_bytes=doc.size_bytes, version=version, status=DOCUMENT_INDEXING, page_count=len(doc.pages),
                char_count=doc.char_count, headings=doc.headings, warnings=doc.warnings,
            )
            doc_id = row.id
        try:
            chunks = chunk_pages(doc.pages, doc.headings, info.chunking)
            if not chunks:
                raise InvalidInput(f"{doc.filename} has no text to index after cleaning.")
            if progress:
                progress(0.05, f"embedding {len(chunks)} chunks")
            embedder = self.embedder_factory(info.embed_model)
            vectors = embedder.encode(
                [c.text for c in chunks], max_tokens=info.embed_max_tokens, batch_size=self.config.embed_batch,
                progress=lambda done, total: progress and progress(0.05 + 0.9 * done / total, f"embedded {done}/{total} chunks"), cancel=cancel,
            )
            if cancel is not None and cancel.is_set():
                raise Cancelled("Stopped.")
            with self._lock(info.id):
                with self.uow_factory() as uow:  # the one transaction that makes the file visible
                    old_ids = [cid for old in replaced for cid in uow.rag_chunks.ids_for_document(old)]
                    for old in replaced:
                        uow.rag_documents.delete(old)
                    uow.rag_pages.add_many(doc_id, [(p.number, p.text) for p in doc.pages])
                    new_ids = uow.rag_chunks.add_many(_chunk_rows(info.id, doc_id, chunks, vectors))
                    uow.rag_documents.update(doc_id, status=DOCUMENT_READY, chunk_count=len(chunks), indexed_at=utc_now())
                self.index.remove(info.id, old_ids)
                self.index.add(info.id, new_ids, vectors)
                self.keywords.remove(info.id, old_ids)
                self.keywords.add(info.id, zip(new_ids, (c.text for c in chunks)))
        except BaseException:
            self._forget_unfinished(doc_id)
            raise
        verb = f"Indexed as version {version}, replacing the old one" if replaced else "Indexed"
        pages = f"{len(doc.pages)} page(s)"
        notes = (" · " + " ".join(doc.warnings)) if doc.warnings else ""
        return FileOutcome(doc.filename, "indexed", f"{verb}: {pages}, {len(chunks)} chunks{notes}", len(chunks))

    def _forget_unfinished(self, doc_id: int) -> None:
        try:
            with self.uow_factory() as uow:
                row = uow.rag_documents.get(doc_id)
                if row is not None and row.status == DOCUMENT_INDEXING:
                    uow.rag_documents.delete(doc_id)
        except Exception:  # noqa: BLE001 - start-up cleanup will remove it
            log.exception("Could not remove unfinished document %s", doc_id)


def _scaled(progress: Progress | None, start: float, span: float, label: str) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction, message="": progress(start + span * max(0.0, min(1.0, float(fraction))), f"{label}: {message}")


def _chunk_rows(collection_id: int, document_id: int, chunks, vectors: np.ndarray) -> list[dict]:
    return [
        {"collection_id": collection_id, "document_id": document_id, "ordinal": c.ordinal, "page_number": c.page_number,
         "start_char": c.start_char, "end_char": c.end_char, "heading": c.heading, "text": c.text, "embedding": to_blob(v)}
        for c, v in zip(chunks, vectors)
    ]
