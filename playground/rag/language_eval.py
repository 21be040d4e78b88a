"""Labelled retrieval sets (documents + questions with the passage that answers each) and the
comparison of retrieval settings on them: recall@k and nDCG@k per keyword weight and fusion.

A set is a folder of documents and a ``questions.json``::

    {"language": "pt", "questions": [{"question": "...", "file": "doc.md", "evidence": "..."}]}

``evidence`` is a sentence fragment copied from ``file``; a chunk is relevant to the question
when it contains that fragment. The documents are parsed and chunked as an upload is, so the
numbers hold for the app's own path. ``benchmarks/rag_languages.py`` prints the table and
the tests pin the chosen default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground.rag.chunking import DEFAULT_CHUNKING, ChunkSettings, chunk_pages
from playground.rag.keyword_index import KeywordIndex
from playground.rag.metrics import ndcg_at_k
from playground.rag.parsing import parse_file
from playground.rag.retrieval import RetrievalSettings, hybrid_search, query_terms

WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    file: str
    evidence: str


@dataclass
class LabelledSet:
    language: str
    chunks: list[tuple[str, str]]  # (file name, chunk text), as an upload would cut them
    questions: list[LabelledQuestion]

    def relevant(self, question: LabelledQuestion) -> set[int]:
        wanted = " ".join(question.evidence.split())
        return {i for i, (f, text) in enumerate(self.chunks) if f == question.file and wanted in " ".join(text.split())}


def load_set(folder: str | Path, chunking: ChunkSettings = DEFAULT_CHUNKING) -> LabelledSet:
    folder = Path(folder)
    spec = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    chunks = []
    for path in sorted(p for p in folder.iterdir() if p.name != "questions.json" and p.is_file()):
        parsed = parse_file(path, 10**8)
        chunks += [(path.name, c.text) for c in chunk_pages(parsed.pages, parsed.headings, chunking)]
    questions = [LabelledQuestion(q["question"], q["file"], q["evidence"]) for q in spec["questions"]]
    labelled = LabelledSet(str(spec.get("language", "")), chunks, questions)
    unanswered = [q.question for q in questions if not labelled.relevant(q)]
    if unanswered:
        raise ValueError(f"No chunk holds the evidence of: {unanswered}")
    return labelled


@dataclass(frozen=True)
class Scores:
    recall: float
    ndcg: float


def evaluate(
    labelled: LabelledSet,
    settings: Sequence[RetrievalSettings],
    vectors: np.ndarray | None = None,
    query_vectors: np.ndarray | None = None,
    language: str | None = None,
) -> dict[RetrievalSettings, Scores]:
    """recall@top_k (the answering passage among the top k) and nDCG@top_k of each setting.
    Without vectors only keyword-only settings (weight 1) can be scored. ``language``: the
    keyword rules to use (default: the set's own)."""
    language = labelled.language if language is None else language
    keyword = KeywordIndex.from_texts({i: text for i, (_, text) in enumerate(labelled.chunks)}, language)
    if vectors is None or query_vectors is None:
        if any(s.keyword_weight < 1 for s in settings):
            raise ValueError("Settings that use the vector search need the chunk and question vectors.")
        vectors = np.zeros((len(labelled.chunks), 1), dtype=np.float32)
        query_vectors = np.zeros((len(labelled.questions), 1), dtype=np.float32)
    vector_search, vector_scores = _vector_functions(vectors)
    out = {}
    for setting in settings:
        recalls, ndcgs = [], []
        for q, qvec in zip(labelled.questions, query_vectors):
            found = hybrid_search(
                qvec,
                query_terms(q.question, language),
                setting,
                vector_search=vector_search,
                vector_scores=vector_scores,
                keyword_search=lambda words, limit, only: keyword.search(0, words, limit, only),
            )
            relevant = labelled.relevant(q)
            rels = [int(r.chunk_id in relevant) for r in found[: setting.top_k]]
            recalls.append(float(any(rels)))
            ndcgs.append(ndcg_at_k(rels, setting.top_k, len(relevant)))
        out[setting] = Scores(float(np.mean(recalls)), float(np.mean(ndcgs)))
    return out


def _vector_functions(
    vectors: np.ndarray,
) -> tuple[
    Callable[[np.ndarray, int], list[tuple[int, float]]], Callable[[np.ndarray, Sequence[int]], dict[int, float]]
]:
    def search(query: np.ndarray, k: int) -> list[tuple[int, float]]:
        scores = vectors @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order]

    def scores(query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        return {int(i): float(vectors[i] @ query) for i in ids}

    return search, scores
