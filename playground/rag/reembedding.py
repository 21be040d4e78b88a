"""Moving a collection to another embedder: every chunk is embedded again, with progress and
Stop, and the new vectors replace the old ones (with the collection's embedder) in one
transaction at the end. Until then the old vectors and embedder answer every question, in
this process and in others; Stop or a crash halfway leaves them untouched.
Mixed into ``DocumentsService``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from playground.i18n import Text, t
from playground.progress import OnProgress, notify
from playground.rag.embedding import to_blob
from storage.orm import utc_now

if TYPE_CHECKING:
    from playground.rag.config import RagConfig
    from playground.rag.embedding import Embedder
    from playground.rag.service import CollectionInfo
    from storage import UnitOfWork

log = logging.getLogger(__name__)


class ReembedMixin:
    """Needs ``embedder_factory``, ``config``, ``uow_factory``, ``_lock``, ``_drop_indexes``."""

    embedder_factory: Callable[[str], Embedder]
    config: RagConfig
    uow_factory: Callable[[], UnitOfWork]

    if TYPE_CHECKING:

        def _lock(self, collection_id: int) -> threading.Lock: ...

        def _drop_indexes(self, collection_id: int) -> None: ...

    def _reembed(
        self,
        info: CollectionInfo,
        embed_model: str,
        embed_max_tokens: int,
        on_progress: OnProgress | None,
        cancel: threading.Event | None,
    ) -> Text:
        """Embed the collection's chunks with ``embed_model`` aside, then swap. Uploads to this
        collection in this process wait for the swap; another process's upload that lands
        meanwhile is embedded in the swap's transaction, so no old vector survives it."""
        with self._lock(info.id):
            embedder = self.embedder_factory(embed_model)
            with self.uow_factory() as uow:
                chunks = uow.rag_chunks.ready_texts(info.id)
            log.info("Re-embedding %d chunks of %s: %s -> %s", len(chunks), info.name, info.embed_model, embed_model)
            start = t("documents.progress_reembed_start", chunks=len(chunks), embedder=embed_model)
            notify(on_progress, 0, len(chunks), start)
            vectors = embedder.encode(
                [text for _, text in chunks],
                role="passage",
                max_tokens=embed_max_tokens,
                batch_size=self.config.embed_batch,
                progress=lambda done, total: notify(
                    on_progress,
                    done,
                    total,
                    t("documents.progress_reembed", embedder=embed_model, done=done, total=total),
                ),
                cancel=cancel,
            )
            made = {chunk_id: vector for (chunk_id, _), vector in zip(chunks, vectors)}
            total = self._swap_vectors(info, embedder, embed_max_tokens, made)
            self._drop_indexes(info.id)  # reloaded, with the new embedder's name, on the next query
        log.info("Re-embedded %s with %s (%d chunks)", info.name, embed_model, total)
        return t("documents.embedder_changed", embedder=embed_model, chunks=total, name=info.name)

    def _swap_vectors(
        self, info: CollectionInfo, embedder: Embedder, embed_max_tokens: int, made: dict[int, np.ndarray]
    ) -> int:
        """The one transaction that puts the new vectors and the new embedder in place."""
        with self.uow_factory() as uow:
            uow.rag_collections.lock_for_write(info.id)  # writers in other processes wait
            current = uow.rag_chunks.ready_texts(info.id)
            late = [(chunk_id, text) for chunk_id, text in current if chunk_id not in made]
            if late:  # another process's upload landed meanwhile: embed it too, inside the lock
                log.info("Re-embedding %d chunk(s) uploaded meanwhile to %s", len(late), info.name)
                extra = embedder.encode([t for _, t in late], role="passage", max_tokens=embed_max_tokens)
                made.update({chunk_id: vector for (chunk_id, _), vector in zip(late, extra)})
            kept = {chunk_id for chunk_id, _ in current}
            uow.rag_chunks.set_embeddings([(cid, to_blob(v)) for cid, v in made.items() if cid in kept])
            uow.rag_collections.update(info.id, embed_model=embedder.name, embed_max_tokens=embed_max_tokens)
            uow.rag_documents.touch_ready(info.id, utc_now())
        return len(kept)
