"""Retrieval metrics against question → expected source pairs (as MLflow's retriever evaluation).

A retrieved chunk is relevant when it comes from an expected file (and page, when one is
given). For one question with expected sources E and retrieved chunks r1..rk:

- precision@k = relevant chunks among the top k / k
- recall@k = expected sources hit by the top k / |E|
- nDCG@k = DCG / ideal DCG, DCG = sum of rel_i / log2(i + 1) for i = 1..k, the ideal putting
  min(k, relevant chunks in the collection) relevant chunks first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Expected:
    filename: str
    page: int | None = None

    def matches(self, filename: str, page: int | None) -> bool:
        if filename.strip().lower() != self.filename.strip().lower():
            return False
        return self.page is None or page == self.page


def relevance(retrieved: Sequence[tuple[str, int | None]], expected: Sequence[Expected]) -> list[int]:
    return [int(any(e.matches(f, p) for e in expected)) for f, p in retrieved]


def precision_at_k(rels: Sequence[int], k: int) -> float:
    return sum(rels[:k]) / k if k > 0 else 0.0


def recall_at_k(retrieved: Sequence[tuple[str, int | None]], expected: Sequence[Expected], k: int) -> float:
    if not expected:
        return 0.0
    top = retrieved[:k]
    hit = sum(1 for e in expected if any(e.matches(f, p) for f, p in top))
    return hit / len(expected)


def ndcg_at_k(rels: Sequence[int], k: int, relevant_total: int) -> float:
    ideal_hits = min(k, relevant_total)
    if ideal_hits <= 0:
        return 0.0
    dcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(rels[:k]))
    ideal = sum(1 / math.log2(i + 2) for i in range(ideal_hits))
    return dcg / ideal


def question_metrics(
    retrieved: Sequence[tuple[str, int | None]], expected: Sequence[Expected], k: int, relevant_total: int
) -> dict[str, float]:
    rels = relevance(retrieved, expected)
    return {
        "precision": precision_at_k(rels, k),
        "recall": recall_at_k(retrieved, expected, k),
        "ndcg": ndcg_at_k(rels, k, relevant_total),
    }


def average(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {"precision": 0.0, "recall": 0.0, "ndcg": 0.0}
    return {name: sum(r[name] for r in rows) / len(rows) for name in ("precision", "recall", "ndcg")}
