"""The in-memory vector index never compares a query with another embedder's vectors."""

from __future__ import annotations

import numpy as np
import pytest

from playground.rag.index import EmbedderChanged, VectorIndex


def _unit(*values: float) -> np.ndarray:
    vector = np.zeros(384, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


class Store:
    """What the database holds for collection 1: its vectors and the embedder that made them."""

    def __init__(self) -> None:
        self.model = "old"
        self.vectors = {1: _unit(1, 0), 2: _unit(0, 1)}
        self.loads = 0

    def load(self, collection_id: int):
        self.loads += 1
        ids = sorted(self.vectors)
        return ids, np.stack([self.vectors[i] for i in ids]), self.model


def test_a_search_after_a_re_embed_reads_the_new_vectors_and_a_stale_query_is_refused():
    store = Store()
    index = VectorIndex(store.load)
    assert index.search(1, _unit(1, 0), 1, "old")[0][0] == 1
    assert index.loaded_model(1) == "old"

    store.model, store.vectors = "new", {1: _unit(0, 1), 2: _unit(1, 0)}  # a re-embed swapped both

    assert index.search(1, _unit(1, 0), 1, "new")[0][0] == 2  # reloaded: the matrix was the old embedder's
    assert store.loads == 2 and index.loaded_model(1) == "new"
    with pytest.raises(EmbedderChanged):
        index.search(1, _unit(1, 0), 1, "old")  # encoded before the swap: never scored against new vectors
    with pytest.raises(EmbedderChanged):
        index.similarity(1, _unit(1, 0), [1], "old")


def test_adding_another_embedders_vectors_drops_the_matrix_instead_of_mixing():
    store = Store()
    index = VectorIndex(store.load)
    index.search(1, _unit(1, 0), 2, "old")
    index.add(1, [3], np.stack([_unit(1, 1)]), "other")
    assert index.loaded_model(1) is None  # dropped: the next search reads the database
    index.add(1, [3], np.stack([_unit(1, 1)]))  # a collection not loaded is not touched
    assert index.count(1) == 2
