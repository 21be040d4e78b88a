"""Keyword (BM25) search held in memory per collection, kept in step with the database.

SQLite's FTS5 ``bm25()`` scores every row that matches any query word. With everyday
words a question matches most of a large collection, and ranking 50,000 chunks that way
took 40-70 ms per query (twice per question: once to rank, once to score the vector
hits). Here the postings (term -> chunks, term frequency) sit in numpy arrays, so a
question costs a few vectorised passes over the postings of its own words.

Terms are cut per collection language by :mod:`playground.rag.words` (Snowball stemmer and
stopwords of the language). The loader gives a collection's postings, with its language
(:class:`CollectionPostings`; a bare list of postings means English), and
:mod:`playground.rag.keyword_store` persists the cut terms so a restart does not cut
every text again. Scores follow FTS5's BM25 (k1 = 1.2, b = 0.75, a term in more than half
the chunks gets a tiny positive idf), with the collection as the corpus.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from playground.rag.words import DEFAULT_LANGUAGE, Analyzer, Posting, analyzer, language_key

K1 = 1.2
B = 0.75
TINY_IDF = 1e-6  # what FTS5 gives a word found in more than half of the rows

__all__ = ["CollectionPostings", "KeywordIndex", "Posting", "shared_tokenizer"]


@dataclass
class CollectionPostings:
    """What a loader gives for one collection: its language and its chunks' postings."""

    language: str
    postings: list[Posting] = field(default_factory=list)


PostingsLoader = Callable[[int], "Iterable[Posting] | CollectionPostings"]


def shared_tokenizer(language: str | None = DEFAULT_LANGUAGE) -> Analyzer:
    """The shared analyzer of a language (English by default)."""
    return analyzer(language)


class _Postings:
    """One collection's postings. Removed chunks are masked out, and dropped for good once
    they outnumber the live ones."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language
        self.ids = np.zeros(0, dtype=np.int64)
        self.lengths = np.zeros(0, dtype=np.float64)
        self.alive = np.zeros(0, dtype=bool)
        self.rows: dict[int, int] = {}
        self.words: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # stem -> (rows, term frequencies)
        self.total_length = 0.0

    @property
    def live(self) -> int:
        return len(self.rows)

    def add(self, postings: Iterable[Posting]) -> None:
        """Index new chunks (postings of chunks already indexed are ignored). Vectorised:
        a 50,000-chunk collection has over a million postings."""
        fresh = [p for p in postings if p[0] not in self.rows]
        if not fresh:
            return
        docs = np.fromiter((p[0] for p in fresh), dtype=np.int64, count=len(fresh))
        counts = np.fromiter((p[2] for p in fresh), dtype=np.float64, count=len(fresh))
        lookup: dict[str, int] = {}
        word_of = np.fromiter((lookup.setdefault(p[1], len(lookup)) for p in fresh), dtype=np.int64, count=len(fresh))
        new_ids, doc_index = np.unique(docs, return_inverse=True)
        first_row = len(self.ids)
        self.rows.update((int(c), first_row + i) for i, c in enumerate(new_ids))
        new_lengths = np.bincount(doc_index, weights=counts, minlength=len(new_ids))
        self.ids = np.concatenate([self.ids, new_ids])
        self.lengths = np.concatenate([self.lengths, new_lengths])
        self.alive = np.concatenate([self.alive, np.ones(len(new_ids), dtype=bool)])
        self.total_length += float(new_lengths.sum())
        order = np.argsort(word_of, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(word_of, minlength=len(lookup)))])
        rows, counts = (doc_index + first_row)[order], counts[order]
        for stem, w in lookup.items():
            part = (rows[bounds[w] : bounds[w + 1]], counts[bounds[w] : bounds[w + 1]])
            old = self.words.get(stem)
            self.words[stem] = (
                part if old is None else (np.concatenate([old[0], part[0]]), np.concatenate([old[1], part[1]]))
            )

    def remove(self, chunk_ids: Iterable[int]) -> None:
        for chunk_id in chunk_ids:
            row = self.rows.pop(int(chunk_id), None)
            if row is not None:
                self.alive[row] = False
                self.total_length -= float(self.lengths[row])
        if len(self.ids) > 64 and self.live < len(self.ids) // 2:
            self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self.alive)
        new_row = np.full(len(self.ids), -1, dtype=np.int64)
        new_row[keep] = np.arange(len(keep))
        self.ids, self.lengths, self.alive = self.ids[keep], self.lengths[keep], np.ones(len(keep), dtype=bool)
        self.rows = {int(c): i for i, c in enumerate(self.ids)}
        words = {}
        for stem, (rows, counts) in self.words.items():
            moved = new_row[rows]
            mask = moved >= 0
            if mask.any():
                words[stem] = (moved[mask], counts[mask])
        self.words = words

    def scores(self, stems: Sequence[str]) -> np.ndarray:
        """BM25 of every row (0 for rows with none of the words, and for removed rows)."""
        scores = np.zeros(len(self.ids), dtype=np.float64)
        live = self.live
        if live == 0:
            return scores
        average = self.total_length / live if self.total_length > 0 else 1.0
        for stem in stems:
            found = self.words.get(stem)
            if found is None:
                continue
            rows, counts = found
            mask = self.alive[rows]
            rows, counts = rows[mask], counts[mask]
            if len(rows) == 0:
                continue
            idf = math.log((live - len(rows) + 0.5) / (len(rows) + 0.5))
            idf = idf if idf > 0 else TINY_IDF
            norm = K1 * (1 - B + B * self.lengths[rows] / average)
            scores[rows] += idf * counts * (K1 + 1) / (counts + norm)
        return scores


class KeywordIndex:
    """Per-collection BM25 postings, loaded on a collection's first query and then updated
    on every ingest and delete: a query never rebuilds anything."""

    def __init__(self, loader: PostingsLoader, language: str | None = None):
        """``language``: for loaders that give bare postings (default English)."""
        self._loader = loader
        self._default_language = language_key(language)
        self._collections: dict[int, _Postings] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_texts(cls, texts: dict[int, str], language: str | None = None) -> KeywordIndex:
        """A one-collection index (collection 0) over texts that are never stored: evaluation sweeps."""
        postings = analyzer(language).postings(texts.items())
        return cls(lambda _collection_id: CollectionPostings(language_key(language), postings))

    def _postings(self, collection_id: int, language: str | None = None) -> _Postings:
        with self._lock:
            found = self._collections.get(collection_id)
            if found is not None and language is not None and found.language != language_key(language):
                found = None  # the collection's language changed since it was loaded: cut again
            if found is None:
                loaded = self._loader(collection_id)
                if not isinstance(loaded, CollectionPostings):
                    loaded = CollectionPostings(self._default_language, list(loaded))
                found = _Postings(language_key(loaded.language))
                found.add(loaded.postings)
                self._collections[collection_id] = found
            return found

    def language(self, collection_id: int) -> str:
        """The language a collection's terms are cut in (loads it if needed)."""
        return self._postings(collection_id).language

    def add(self, collection_id: int, chunks: Iterable[tuple[int, str]]) -> None:
        """After the chunks were committed. A collection not loaded yet will read them itself."""
        with self._lock:
            found = self._collections.get(collection_id)
            if found is not None:
                found.add(analyzer(found.language).postings(chunks))

    def remove(self, collection_id: int, chunk_ids: Sequence[int]) -> None:
        with self._lock:
            found = self._collections.get(collection_id)
            if found is not None:
                found.remove(chunk_ids)

    def drop(self, collection_id: int) -> None:
        with self._lock:
            self._collections.pop(collection_id, None)

    def search(
        self,
        collection_id: int,
        words: Sequence[str],
        limit: int,
        only: Sequence[int] | None = None,
        language: str | None = None,
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25) best first, at most ``limit``; only chunks sharing a term with the question.
        With ``only``, just those chunks are scored (the vector hits the keyword search missed).
        ``language``: the collection's language as the database has it now; when it differs
        from the one loaded, the collection is loaded again."""
        if not words or limit <= 0:
            return []
        with self._lock:
            postings = self._postings(collection_id, language)
            terms = analyzer(postings.language).query_terms(words)
            scores = postings.scores(terms)
            if only is not None:
                rows = np.asarray([postings.rows[c] for c in only if c in postings.rows], dtype=np.int64)
            else:
                rows = np.flatnonzero(scores > 0)
            if len(rows) == 0:
                return []
            picked = scores[rows]
            if len(rows) > limit:
                top = np.argpartition(-picked, limit - 1)[:limit]
                rows, picked = rows[top], picked[top]
            order = np.lexsort((postings.ids[rows], -picked))
            return [(int(postings.ids[rows[i]]), float(picked[i])) for i in order if picked[i] > 0]
