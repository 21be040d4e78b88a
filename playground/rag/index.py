"""In-memory vector matrices, one per collection, kept in step with the database.

Loaded from the stored embeddings on a collection's first query, then updated on every
ingest and delete: a query never rebuilds anything.

Each matrix knows the embedder its vectors came from. A search says which embedder made its
query vector; vectors of two embedders are never compared (both give 384 numbers, so a mix
would not fail, it would just find the wrong passages).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from playground.errors import UserFacingError
from playground.i18n import t
from playground.rag.embedding import DIMENSION

# (chunk ids, their vectors, the embedder that made them), read in one transaction.
Loader = Callable[[int], tuple[list[int], np.ndarray, str]]


class EmbedderChanged(UserFacingError):
    """The collection's embedder changed (a re-embed finished) after the query was encoded."""


class _Matrix:
    def __init__(self, ids: Sequence[int], vectors: np.ndarray, model: str = ""):
        self.model = model
        self.dimension = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[1] else DIMENSION
        capacity = max(64, len(ids) * 2)
        self.vectors = np.zeros((capacity, self.dimension), dtype=np.float32)
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.size = 0
        self.rows: dict[int, int] = {}
        self.add(ids, vectors)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        fresh = [(i, v) for i, v in zip(ids, vectors) if int(i) not in self.rows]
        if not fresh:
            return
        needed = self.size + len(fresh)
        if needed > len(self.ids):  # grow by doubling: appends stay cheap on average
            capacity = max(needed, 2 * len(self.ids))
            self.vectors = np.resize(self.vectors, (capacity, self.dimension))
            self.ids = np.resize(self.ids, capacity)
        for chunk_id, vector in fresh:
            self.vectors[self.size] = vector
            self.ids[self.size] = chunk_id
            self.rows[int(chunk_id)] = self.size
            self.size += 1

    def remove(self, ids: Sequence[int]) -> None:
        for chunk_id in ids:
            row = self.rows.pop(int(chunk_id), None)
            if row is None:
                continue
            last = self.size - 1
            if row != last:  # move the last row into the hole
                self.vectors[row] = self.vectors[last]
                self.ids[row] = self.ids[last]
                self.rows[int(self.ids[row])] = row
            self.size = last

    def scores(self, query: np.ndarray) -> np.ndarray:
        return self.vectors[: self.size] @ query


class VectorIndex:
    def __init__(self, loader: Loader):
        self._loader = loader
        self._matrices: dict[int, _Matrix] = {}
        self._lock = threading.RLock()

    def _matrix(self, collection_id: int, model: str | None = None) -> _Matrix:
        """The collection's matrix; with ``model``, one of that embedder's vectors or EmbedderChanged."""
        with self._lock:
            matrix = self._matrices.get(collection_id)
            if matrix is not None and model is not None and matrix.model != model:
                matrix = None  # loaded before a re-embed that has finished since: read the new vectors
            if matrix is None:
                ids, vectors, stored_model = self._loader(collection_id)
                matrix = self._matrices[collection_id] = _Matrix(ids, vectors, stored_model)
            if model is not None and matrix.model != model:
                raise EmbedderChanged(t("documents.embedder_changed_meanwhile", current=matrix.model, model=model))
            return matrix

    def loaded_model(self, collection_id: int) -> str | None:
        with self._lock:
            matrix = self._matrices.get(collection_id)
            return matrix.model if matrix is not None else None

    def add(self, collection_id: int, ids: Sequence[int], vectors: np.ndarray, model: str | None = None) -> None:
        """After the chunks were committed. A collection not loaded yet will read them itself."""
        with self._lock:
            matrix = self._matrices.get(collection_id)
            if matrix is not None and model is not None and matrix.model != model:
                self._matrices.pop(collection_id)  # outdated: the next search reads the database
            elif matrix is not None:
                matrix.add(ids, vectors)

    def remove(self, collection_id: int, ids: Sequence[int]) -> None:
        with self._lock:
            matrix = self._matrices.get(collection_id)
            if matrix is not None:
                matrix.remove(ids)

    def drop(self, collection_id: int) -> None:
        with self._lock:
            self._matrices.pop(collection_id, None)

    def count(self, collection_id: int) -> int:
        return self._matrix(collection_id).size

    def search(
        self, collection_id: int, query: np.ndarray, k: int, model: str | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` most similar chunks (cosine similarity, as vectors are unit length); with
        ``model``, the embedder of ``query``, whose vectors alone it is compared with."""
        with self._lock:
            matrix = self._matrix(collection_id, model)
            if matrix.size == 0 or k <= 0:
                return []
            scores = matrix.scores(query)
            ids = matrix.ids[: matrix.size]
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(int(ids[i]), float(scores[i])) for i in top]

    def similarity(
        self, collection_id: int, query: np.ndarray, chunk_ids: Sequence[int], model: str | None = None
    ) -> dict[int, float]:
        with self._lock:
            matrix = self._matrix(collection_id, model)
            rows = [(cid, matrix.rows[cid]) for cid in chunk_ids if cid in matrix.rows]
            return {cid: float(matrix.vectors[row] @ query) for cid, row in rows}
