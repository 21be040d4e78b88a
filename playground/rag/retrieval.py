"""Hybrid retrieval: vector similarity and keyword (BM25) scores, blended by a weight.

Both scores are computed for every candidate either search found, so the sources panel can
show each chunk's true keyword and vector score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from playground.errors import InvalidInput
from playground.i18n import t
from playground.rag.words import analyzer, words_of

WEIGHTED = "weighted"  # w * keyword (BM25 / best BM25) + (1 - w) * cosine
RRF = "rrf"  # reciprocal rank fusion: w / (60 + keyword rank) + (1 - w) / (60 + vector rank)
FUSIONS = (WEIGHTED, RRF)
RRF_K = 60
# Measured with benchmarks/rag_languages.py on the English and Portuguese sets in
# tests/data/rag_languages, both embedders, 1,000- and 300-character chunks: weights 0.3, 0.5
# and 0.7 tie on recall@5 (every answer found but one at 300 chars; vectors alone miss up to
# 20% of the Portuguese ones with MiniLM, keywords alone 2%), and 0.3 has the best mean
# nDCG@5 (0.965, against 0.959 at 0.5 and 0.953 at 0.7). Reciprocal rank fusion was no
# better (0.944 at 0.3), so the scores stay blended.
DEFAULT_KEYWORD_WEIGHT = 0.3
DEFAULT_FUSION = WEIGHTED


@dataclass(frozen=True)
class RetrievalSettings:
    top_k: int = 5
    keyword_weight: float = DEFAULT_KEYWORD_WEIGHT  # 0 = vector only, 1 = keyword only
    threshold: float = 0.0  # on the blended score
    fusion: str = DEFAULT_FUSION

    def validated(self) -> RetrievalSettings:
        if not 1 <= int(self.top_k) <= 50:
            raise InvalidInput(t("documents.top_k_range"))
        if not 0.0 <= float(self.keyword_weight) <= 1.0:
            raise InvalidInput(t("documents.weight_range"))
        if not 0.0 <= float(self.threshold) <= 1.0:
            raise InvalidInput(t("documents.threshold_range"))
        if self.fusion not in FUSIONS:
            raise InvalidInput(t("documents.unknown_fusion", fusion=self.fusion))
        return RetrievalSettings(int(self.top_k), float(self.keyword_weight), float(self.threshold), self.fusion)


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


def query_terms(question: str, language: str | None = None) -> list[str]:
    """The question's distinct words, without the stopwords of its language (English when
    unknown); the keyword index stems them in the collection's language."""
    stopwords = analyzer(language).stopwords
    seen: list[str] = []
    for word in words_of(question):
        if (len(word) > 1 or word.isdigit()) and word not in stopwords and word not in seen:
            seen.append(word)
    return seen[:32]


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    """1 for the best score; chunks with no positive score get no rank."""
    ordered = sorted((c for c, s in scores.items() if s > 0), key=lambda c: (-scores[c], c))
    return {c: i + 1 for i, c in enumerate(ordered)}


def blend(vector: dict[int, float], keyword: dict[int, float], settings: RetrievalSettings) -> list[Retrieved]:
    """Rank the union of candidates by the fusion of both scores; drop those under the threshold.
    Weighted: w * keyword + (1 - w) * vector. RRF: the same weights on 1 / (60 + rank), scaled
    by 61 so that the best chunk of both searches scores 1."""
    best_keyword = max(keyword.values(), default=0.0)
    weight = settings.keyword_weight
    rrf = settings.fusion == RRF
    vector_rank, keyword_rank = (_ranks(vector), _ranks(keyword)) if rrf else ({}, {})
    ranked = []
    for chunk_id in set(vector) | set(keyword):
        bm25 = keyword.get(chunk_id, 0.0)
        kw = bm25 / best_keyword if best_keyword > 0 else 0.0
        vec = vector.get(chunk_id, 0.0)
        if rrf:
            kw_part = (RRF_K + 1) / (RRF_K + keyword_rank[chunk_id]) if chunk_id in keyword_rank else 0.0
            vec_part = (RRF_K + 1) / (RRF_K + vector_rank[chunk_id]) if chunk_id in vector_rank else 0.0
            score = weight * kw_part + (1 - weight) * vec_part
        else:
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
