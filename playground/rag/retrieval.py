"""Hybrid retrieval: vector similarity and keyword (BM25) scores, blended by a weight.

Both scores are computed for every candidate either search found, so the sources panel can
show each chunk's true keyword and vector score.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from playground.errors import InvalidInput

STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from had has have how i if in into is it its of on or our so than that the their "
    "them then there these they this to was we were what when where which who whom why will with would you your about after all also "
    "any been before being both each few more most no nor not only other out over same should some such too under until up very".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = 5
    keyword_weight: float = 0.3  # 0 = vector only, 1 = keyword only
    threshold: float = 0.0  # on the blended score

    def validated(self) -> RetrievalSettings:
        if not 1 <= int(self.top_k) <= 50:
            raise InvalidInput("Top-k must be between 1 and 50.")
        if not 0.0 <= float(self.keyword_weight) <= 1.0:
            raise InvalidInput("The keyword weight must be between 0 and 1.")
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise InvalidInput("The score threshold must be between 0 and 1.")
        return RetrievalSettings(int(self.top_k), float(self.keyword_weight), float(self.threshold))


@dataclass
class Retrieved:
    chunk_id: int
    score: float  # blended, 0..1
    vector_score: float  # cosine similarity
    keyword_score: float  # BM25 relative to the best keyword match for this question, 0..1
    bm25: float  # raw BM25 (0 when the chunk shares no word with the question)
    document_id: int = 0
    filename: str = ""
    page_number: int = 0
    heading: str = ""
    text: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def query_terms(question: str) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(question.lower()):
        if (len(word) > 1 or word.isdigit()) and word not in STOPWORDS and word not in seen:
            seen.append(word)
    return seen[:32]


def blend(vector: dict[int, float], keyword: dict[int, float], settings: RetrievalSettings) -> list[Retrieved]:
    """Rank the union of candidates by w * keyword + (1 - w) * vector; drop those under the threshold."""
    best_keyword = max(keyword.values(), default=0.0)
    weight = settings.keyword_weight
    ranked = []
    for chunk_id in set(vector) | set(keyword):
        bm25 = keyword.get(chunk_id, 0.0)
        kw = bm25 / best_keyword if best_keyword > 0 else 0.0
        vec = vector.get(chunk_id, 0.0)
        score = weight * kw + (1 - weight) * max(vec, 0.0)
        if score >= settings.threshold and score > 0:
            ranked.append(Retrieved(chunk_id, score, vec, kw, bm25))
    ranked.sort(key=lambda r: (-r.score, r.chunk_id))
    return ranked[: settings.top_k]


def candidate_pool(top_k: int) -> int:
    return max(4 * top_k, 40)


def hybrid_search(
    query_vector: np.ndarray,
    terms: Sequence[str],
    settings: RetrievalSettings,
    *,
    vector_search: Callable[[np.ndarray, int], list[tuple[int, float]]],
    vector_scores: Callable[[np.ndarray, Sequence[int]], dict[int, float]],
    keyword_search: Callable[[Sequence[str], int, Sequence[int] | None], list[tuple[int, float]]],
) -> list[Retrieved]:
    pool = candidate_pool(settings.top_k)
    vector = dict(vector_search(query_vector, pool)) if settings.keyword_weight < 1 else {}
    keyword = dict(keyword_search(terms, pool, None)) if settings.keyword_weight > 0 else {}
    # Fill in the other score for candidates only one search found.
    missing_vec = [c for c in keyword if c not in vector]
    if missing_vec:
        vector.update(vector_scores(query_vector, missing_vec))
    missing_kw = [c for c in vector if c not in keyword]
    if missing_kw and terms:
        keyword.update(dict(keyword_search(terms, len(missing_kw), missing_kw)))
    return blend(vector, keyword, settings)
