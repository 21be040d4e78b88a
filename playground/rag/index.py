"""In-memory vector matrices, one per collection, kept in step with the database.

Loaded from the stored embeddings on a collection's first query, then updated on every
ingest and delete: a query never rebuilds anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from playground.rag.embedding import DIMENSION

Loader = Callable[[int], tuple[list[int], np.ndarray]]


class _Matrix:
    def __init__(self, ids: Sequence[int], vectors: np.ndarray):
        capacity = max(64, len(ids) * 2)
        self.vectors = np.zeros((capacity, DIMENSION), dtype=np.float32)
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
            self.vectors = np.resize(self.vectors, (capacity, DIMENSION))
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

    def _matrix(self, collection_id: int) -> _Matrix:
        with self._lock:
            matrix = self._matrices.get(collection_id)
            if matrix is None:
                ids, vectors = self._loader(collection_id)
                matrix = self._matrices[collection_id] = _Matrix(ids, vectors)
            return matrix

    def add(self, collection_id: int, ids: Sequence[int], vectors: np.ndarray) -> None:
        """After the chunks were committed. A collection not loaded yet will read them itself."""
        with self._lock:
            matrix = self._matrices.get(collection_id)
            if matrix is not None:
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

    def search(self, collection_id: int, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` most similar chunks (cosine similarity, as vectors are unit length)."""
        with self._lock:
            matrix = self._matrix(collection_id)
            if matrix.size == 0 or k <= 0:
                return []
            scores = matrix.scores(query)
            ids = matrix.ids[: matrix.size]
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(int(ids[i]), float(scores[i])) for i in top]

    def similarity(self, collection_id: int, query: np.ndarray, chunk_ids: Sequence[int]) -> dict[int, float]:
        with self._lock:
            matrix = self._matrix(collection_id)
            rows = [(cid, matrix.rows[cid]) for cid in chunk_ids if cid in matrix.rows]
            return {cid: float(matrix.vectors[row] @ query) for cid, row in rows}
