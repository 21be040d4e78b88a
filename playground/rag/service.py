"""What the Documents tab can do: collections, uploads, questions with cited answers, history.

Evaluation lives in ``playground.rag.evaluation``; uploads and re-indexing in
``playground.rag.ingesting`` and questions in ``playground.rag.asking`` (both mixed in here);
this module owns the collections and the in-memory indexes.

Several processes may share one database: each keeps its own in-memory indexes and refreshes
a collection's when the database shows another process changed it
(``playground.rag.freshness``); an upload holds a lease on its file while it is indexed, so
another process's start-up never removes it (``playground.leases``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground.errors import InvalidInput
from playground.generation import GenerationRecorder
from playground.i18n import Text, t
from playground.leases import Leases
from playground.models.registry import ModelRegistry
from playground.progress import OnProgress
from playground.rag.asking import AskingMixin
from playground.rag.chunking import DEFAULT_CHUNKING, ChunkSettings
from playground.rag.config import (
    DEFAULT_EMBED_MAX_TOKENS,
    EMBED_MODEL_NAME,
    RagConfig,
)
from playground.rag.embedder_choice import AUTO, EMBEDDER_CHOICES
from playground.rag.embedding import Embedder, from_blobs, shared_embedder
from playground.rag.freshness import KEYWORDS, VECTORS, IndexVersions, Signature
from playground.rag.index import VectorIndex
from playground.rag.ingesting import DUPLICATE_CHOICES, FileOutcome, IngestMixin  # noqa: F401 - FileOutcome is part of this service's API
from playground.rag.keyword_index import CollectionPostings, KeywordIndex
from playground.rag.keyword_store import load_collection_postings
from playground.rag.notes import from_stored, joined
from playground.rag.parsed import ParsedDocument, ParseLimits
from playground.rag.parsing import parse_file
from playground.rag.reembedding import ReembedMixin
from playground.rag.reindexing import ReindexMixin
from playground.settings import Settings
from storage import UnitOfWork
from storage.orm import utc_now
from storage.orm_leases import LEASE_INGEST

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    chunking: ChunkSettings
    embed_model: str  # "" while undecided: an "automatic" collection gets its embedder with its first upload
    embed_max_tokens: int
    documents: int = 0
    language: str = ""  # ISO 639-1 code of its documents, "" while unknown


@dataclass(frozen=True)
class CollectionView:
    """What the tab shows for the picked collection: its settings and files (the defaults
    for a new collection, and no files, when none is picked)."""

    chunking: ChunkSettings
    embed_model: str
    embed_max_tokens: int
    documents: list[dict]
    language: str = ""


def _info(row, documents: int = 0) -> CollectionInfo:
    return CollectionInfo(
        row.id,
        row.name,
        ChunkSettings(row.chunk_size, row.chunk_overlap, row.chunk_unit),
        row.embed_model,
        row.embed_max_tokens,
        documents,
        row.language,
    )


class DocumentsService(IngestMixin, ReindexMixin, ReembedMixin, AskingMixin):
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
        self.leases = Leases(uow_factory, settings.lease_seconds)
        self.versions = IndexVersions()
        self.index = VectorIndex(self._load_vectors)
        self.keywords = KeywordIndex(self._load_postings)
        self._collection_locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._last_cleanup = time.monotonic()
        self.cleanup_interrupted()

    # ---- start-up ------------------------------------------------------------------
    def cleanup_interrupted(self) -> int:
        """Remove files whose indexing never finished (the app was killed mid-upload): those
        whose ingest lease expired or whose holder, a process on this machine, is gone. A file
        another live process is indexing right now stays."""
        now = utc_now()
        with self.uow_factory() as uow:
            indexing = uow.rag_documents.indexing_ids()
            # Read after the files: an upload commits its file and its lease together.
            leases = self.leases.all(uow, LEASE_INGEST)
            dead = [doc_id for doc_id in indexing if self.leases.is_dead(leases.get(doc_id), now)]
            removed = uow.rag_documents.delete_indexing(dead)
            for doc_id in dead:
                uow.leases.drop(LEASE_INGEST, doc_id)
        if removed:
            log.warning("Removed %d half-indexed document(s) left by an interrupted upload", removed)
        if len(indexing) > len(dead):
            log.info("Kept %d document(s) another upload is still indexing", len(indexing) - len(dead))
        return removed

    def _cleanup_now_and_then(self) -> None:
        """Also clean up while running (at most once per lease length): an upload abandoned by a
        process on another machine shows "indexing" only until its lease has expired."""
        now = time.monotonic()
        if now - self._last_cleanup < self.leases.seconds:
            return
        self._last_cleanup = now
        try:
            self.cleanup_interrupted()
        except Exception:  # the list still shows; the next look tries again
            log.exception("Could not clean up abandoned uploads")

    def _load_vectors(self, collection_id: int) -> tuple[list[int], np.ndarray, str]:
        """The ready chunks' vectors and the embedder that made them, read in one transaction
        (a re-embed swaps both in one)."""
        with self.uow_factory() as uow:
            signature = uow.rag_documents.signature(collection_id)  # before the rows: never newer than them
            row = uow.rag_collections.get(collection_id)
            model = row.embed_model if row is not None else ""
            rows = uow.rag_chunks.ready_embeddings(collection_id)
        self.versions.loaded(VECTORS, collection_id, signature)
        return [r[0] for r in rows], from_blobs([r[1] for r in rows]), model

    def _load_postings(self, collection_id: int) -> CollectionPostings:
        """The collection's stored keyword terms, cut in its language (cutting what lacks them)."""
        with self.uow_factory() as uow:
            signature = uow.rag_documents.signature(collection_id)
            loaded = load_collection_postings(uow, collection_id)
        self.versions.loaded(KEYWORDS, collection_id, signature)
        return loaded

    def _drop_indexes(self, collection_id: int, names: Sequence[str] = (VECTORS, KEYWORDS)) -> None:
        """Forget the in-memory indexes named; the next query reloads them from the database."""
        if VECTORS in names:
            self.index.drop(collection_id)
        if KEYWORDS in names:
            self.keywords.drop(collection_id)

    def _refresh(self, collection_id: int, signature: Signature) -> None:
        """Drop the indexes another process's writes made outdated (see playground.rag.freshness)."""
        outdated = self.versions.outdated(collection_id, signature)
        if outdated:
            self._drop_indexes(collection_id, outdated)

    def _after_own_write(self, collection_id: int, before: Signature, after: Signature) -> None:
        """Our write is in the in-memory indexes; drop those that missed another process's write."""
        missed = self.versions.wrote(collection_id, before, after)
        if missed:
            self._drop_indexes(collection_id, missed)

    def _lock(self, collection_id: int) -> threading.Lock:
        """Writes to one collection (ingest, delete, re-index) go one at a time."""
        with self._locks_guard:
            return self._collection_locks.setdefault(collection_id, threading.Lock())

    # ---- collections ----------------------------------------------------------------
    def list_collections(self) -> list[CollectionInfo]:
        with self.uow_factory() as uow:
            return [_info(c, uow.rag_documents.count_ready(c.id)) for c in uow.rag_collections.list()]

    def get_collection(self, collection_id: int | None) -> CollectionInfo:
        """The collection as the database has it now; its in-memory indexes are refreshed first
        if another process changed its files (every query passes here)."""
        if not collection_id:
            raise InvalidInput(t("documents.pick_collection"))
        with self.uow_factory() as uow:
            row = uow.rag_collections.get(int(collection_id))
            if row is None:
                raise InvalidInput(t("documents.collection_gone"))
            signature = uow.rag_documents.signature(row.id)
            info = _info(row, signature[0])
        self._refresh(info.id, signature)
        return info

    def collection_view(self, collection_id: int | None) -> CollectionView:
        if not collection_id:
            return CollectionView(DEFAULT_CHUNKING, AUTO, DEFAULT_EMBED_MAX_TOKENS, [])
        info = self.get_collection(collection_id)
        return CollectionView(
            info.chunking, info.embed_model or AUTO, info.embed_max_tokens, self.list_documents(info.id), info.language
        )

    @staticmethod
    def _clean_name(name: str) -> str:
        name = " ".join((name or "").split())
        if not name:
            raise InvalidInput(t("documents.name_needed"))
        if len(name) > 200:
            raise InvalidInput(t("documents.name_too_long"))
        return name

    @staticmethod
    def _check_embedding(model: str, max_tokens: int) -> tuple[str, int]:
        """A known embedder, or "" for automatic (decided by the first upload)."""
        if model not in EMBEDDER_CHOICES and model != "":
            raise InvalidInput(t("documents.unknown_embedder", model=model, available=", ".join(EMBEDDER_CHOICES)))
        if not 16 <= int(max_tokens) <= 512:
            raise InvalidInput(t("documents.embed_max_range"))
        return ("" if model == AUTO else model), int(max_tokens)

    def create_collection(
        self,
        name: str,
        chunking: ChunkSettings = DEFAULT_CHUNKING,
        embed_model: str = EMBED_MODEL_NAME,
        embed_max_tokens: int = DEFAULT_EMBED_MAX_TOKENS,
    ) -> CollectionInfo:
        name = self._clean_name(name)
        chunking = chunking.validated()
        embed_model, embed_max_tokens = self._check_embedding(embed_model, embed_max_tokens)
        with self.uow_factory() as uow:
            if uow.rag_collections.by_name(name) is not None:
                raise InvalidInput(t("documents.name_taken", name=name))
            row = uow.rag_collections.add(
                name=name,
                chunk_size=chunking.size,
                chunk_overlap=chunking.overlap,
                chunk_unit=chunking.unit,
                embed_model=embed_model,
                embed_max_tokens=embed_max_tokens,
            )
            info = _info(row)
        log.info("Created collection %s (%s, embedder %s)", name, chunking, embed_model or "automatic")
        return info

    def rename_collection(self, collection_id: int, new_name: str) -> CollectionInfo:
        info = self.get_collection(collection_id)
        name = self._clean_name(new_name)
        with self.uow_factory() as uow:
            other = uow.rag_collections.by_name(name)
            if other is not None and other.id != info.id:
                raise InvalidInput(t("documents.name_taken", name=name))
            uow.rag_collections.update(info.id, name=name)
        return self.get_collection(info.id)

    def delete_collection(self, collection_id: int, confirmed: bool) -> Text:
        """Delete a collection with its files and chunks, once the user has confirmed it."""
        if not confirmed:
            raise InvalidInput(t("documents.delete_confirm"))
        info = self.get_collection(collection_id)
        with self._lock(info.id), self.uow_factory() as uow:
            uow.rag_collections.delete(info.id)
        self._drop_indexes(info.id)
        log.info("Deleted collection %s", info.name)
        return t("documents.deleted_collection", name=info.name, documents=info.documents)

    def update_settings(
        self,
        collection_id: int,
        chunking: ChunkSettings,
        embed_model: str,
        embed_max_tokens: int,
        confirm_reindex: bool = False,
        on_progress: OnProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> Text:
        info = self.get_collection(collection_id)
        chunking = chunking.validated()
        embed_model, embed_max_tokens = self._check_embedding(embed_model, embed_max_tokens)
        if not embed_model and info.documents:
            embed_model = info.embed_model  # "automatic" picks once, at the first upload: never again silently
        if (chunking, embed_model, embed_max_tokens) == (info.chunking, info.embed_model, info.embed_max_tokens):
            return t("documents.nothing_changed")
        if info.documents and not confirm_reindex:
            raise InvalidInput(t("documents.reindex_confirm", documents=info.documents, name=info.name))
        fields = dict(
            chunk_size=chunking.size,
            chunk_overlap=chunking.overlap,
            chunk_unit=chunking.unit,
            embed_model=embed_model,
            embed_max_tokens=embed_max_tokens,
        )
        if not info.documents:
            with self.uow_factory() as uow:
                uow.rag_collections.update(info.id, **fields)
            return t("documents.settings_saved")
        if chunking == info.chunking and embed_model != info.embed_model and chunking.unit != "tokens":
            # Same chunks, another embedder: only the vectors are made again (and swapped at the end).
            # (Sizes in tokens count the embedder's own tokens: another embedder cuts other chunks.)
            return self._reembed(info, embed_model, embed_max_tokens, on_progress, cancel)
        return self._reindex(info, fields, chunking, embed_model, embed_max_tokens, on_progress, cancel)

    # ---- documents --------------------------------------------------------------------
    def parse(self, path: str | Path, filename: str | None = None) -> ParsedDocument:
        return parse_file(path, self.config.max_file_bytes, filename, ParseLimits.from_settings(self.settings))

    def list_documents(self, collection_id: int | None) -> list[dict]:
        if not collection_id:
            return []
        self._cleanup_now_and_then()
        with self.uow_factory() as uow:
            docs = uow.rag_documents.list(int(collection_id))
        return [
            {
                "id": d.id,
                "file": d.filename,
                "version": d.version,
                "status": d.status,
                "format": d.format.upper(),
                "pages": d.page_count,
                "chunks": d.chunk_count,
                "characters": d.char_count,
                "warnings": joined(from_stored(w) for w in d.warnings),  # each note in the reader's language
                "added": d.created_at.strftime("%Y-%m-%d %H:%M"),
            }
            for d in docs
        ]

    def delete_document(self, document_id: int | None) -> Text:
        if document_id in (None, "") or int(document_id) <= 0:
            raise InvalidInput(t("documents.doc_id_needed"))
        with self.uow_factory() as uow:
            doc = uow.rag_documents.get(int(document_id))
            if doc is None:
                raise InvalidInput(t("documents.doc_gone"))
            collection_id, filename = doc.collection_id, doc.filename
        with self._lock(collection_id), self.uow_factory() as uow:
            uow.rag_collections.lock_for_write(collection_id)
            before = uow.rag_documents.signature(collection_id)
            ids = uow.rag_chunks.ids_for_document(int(document_id))
            uow.rag_documents.delete(int(document_id))
            after = uow.rag_documents.signature(collection_id)
        self.index.remove(collection_id, ids)
        self.keywords.remove(collection_id, ids)
        self._after_own_write(collection_id, before, after)
        return t("documents.removed_file", filename=filename, chunks=len(ids))
