"""The in-memory BM25 index: the same scores as SQLite FTS5's bm25() over the same terms, kept
in step on add and remove; terms cut per language (Snowball stemmer, stopwords-iso)."""

from __future__ import annotations

import sqlite3

import pytest

from playground.rag.keyword_index import CollectionPostings, KeywordIndex, shared_tokenizer
from playground.rag.words import analyzer

TEXTS = {
    1: "The bakery pays holiday wages every Friday.",
    2: "Refunds for cakes are paid within a week of the order.",
    3: "Running the oven early saves energy; the oven runs hot.",
    4: "Bread and cakes: allergen labels list wheat, milk and eggs.",
    5: "The delivery van runs the morning route to every shop.",
    6: "Wages are reviewed by the manager each month.",
}


def fts5_bm25(texts: dict[int, str], words: list[str], language: str = "en") -> dict[int, float]:
    """What SQLite's own FTS5 gives over the same terms, as a higher-is-better score. The
    terms are cut by the analyzer and joined by spaces; FTS5's ``ascii`` tokenizer splits
    them back exactly (they hold only letters and digits, already lower-cased)."""
    cut = analyzer(language)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='ascii')")
    db.executemany("INSERT INTO f(rowid, text) VALUES (?, ?)", [(k, " ".join(cut.terms(v))) for k, v in texts.items()])
    terms = cut.query_terms(words)
    if not terms:
        return {}
    match = " OR ".join(f'"{t}"' for t in terms)
    return {int(r): -float(s) for r, s in db.execute("SELECT rowid, bm25(f) FROM f WHERE f MATCH ?", [match])}


@pytest.mark.parametrize(
    "words", [["wages"], ["oven", "running"], ["cakes", "wheat", "the"], ["runs", "every", "bread"], ["nothing"]]
)
def test_scores_equal_sqlite_fts5_bm25(words):
    index = KeywordIndex.from_texts(TEXTS)
    ours = dict(index.search(0, words, 10))
    assert ours.keys() == fts5_bm25(TEXTS, words).keys()
    for chunk_id, score in fts5_bm25(TEXTS, words).items():
        assert ours[chunk_id] == pytest.approx(score, rel=1e-6)


def test_words_are_stemmed_and_results_come_best_first():
    index = KeywordIndex.from_texts(TEXTS)
    found = index.search(0, ["running"], 10)  # Snowball English: running, runs -> run
    assert {c for c, _ in found} == {3, 5}
    assert found[0][0] == 3  # "Running ... runs" has the word twice
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert shared_tokenizer().stems(["Running", "runs", "ovens", "oven"]) == ["run", "oven"]
    assert index.search(0, ["the", "are"], 10) == []  # English stopwords are not terms


def test_limit_and_only_restrict_the_answer():
    index = KeywordIndex.from_texts(TEXTS)
    assert len(index.search(0, ["the", "wages", "cakes"], 2)) == 2
    only = index.search(0, ["wages", "cakes"], 10, only=[2, 3, 6])
    assert {c for c, _ in only} == {2, 6}  # 3 shares no word: not returned
    assert index.search(0, [], 10) == []


def test_adding_and_removing_matches_an_index_built_from_scratch():
    first = {k: v for k, v in TEXTS.items() if k <= 3}
    rest = {k: v for k, v in TEXTS.items() if k > 3}
    store = dict(first)
    grown = KeywordIndex(lambda _c: CollectionPostings("en", shared_tokenizer().postings(store.items())))
    grown.search(7, ["wages"], 5)  # loads collection 7 with the first three texts
    grown.add(7, rest.items())
    grown.remove(7, [2])
    expected = KeywordIndex.from_texts({k: v for k, v in TEXTS.items() if k != 2})
    for words in (["wages"], ["cakes", "oven"], ["the", "runs"]):
        got = grown.search(7, words, 10)
        want = expected.search(0, words, 10)
        assert [c for c, _ in got] == [c for c, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want])


def test_compaction_after_many_removals_keeps_scores_right():
    texts = {i: f"shift {i} rota for the bakery team number {i % 7}" for i in range(1, 201)}
    index = KeywordIndex.from_texts(texts)
    index.search(0, ["rota"], 1)
    index.remove(0, list(range(1, 151)))  # more than half gone: arrays are compacted
    left = {k: v for k, v in texts.items() if k > 150}
    want = fts5_bm25(left, ["team", "3"])
    got = dict(index.search(0, ["team", "3"], 100))
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(want[k], rel=1e-6) for k in want)


def test_a_collection_not_loaded_yet_reads_new_chunks_itself():
    calls = []

    def loader(collection_id):
        calls.append(collection_id)
        return shared_tokenizer().postings(TEXTS.items())

    index = KeywordIndex(loader)
    index.add(3, [(99, "wages wages")])  # not loaded: ignored, the loader will have it
    assert calls == []
    assert index.search(3, ["wages"], 10)
    assert calls == [3]
    index.drop(3)
    index.search(3, ["wages"], 10)
    assert calls == [3, 3]
