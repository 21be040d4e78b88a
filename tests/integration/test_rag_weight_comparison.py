"""The evaluation's weight comparison on a user's own collection: every keyword weight and
fusion scored on the live indexes, best first, and saved (real SQLite, real MiniLM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.rag.evaluation import EvalQuestion, EvaluationService
from tests.integration.rag_fixtures import services

pytestmark = pytest.mark.slow
SET = Path(__file__).resolve().parents[1] / "data" / "rag_languages" / "en"


def test_the_comparison_scores_every_weight_on_the_collection(services):
    docs = services.documents
    evaluation = EvaluationService(docs)
    collection = docs.create_collection("weights en")
    files = sorted(str(p) for p in SET.glob("*.md"))
    assert all(o.status == "indexed" for o in docs.ingest(collection.id, files))
    spec = json.loads((SET / "questions.json").read_text(encoding="utf-8"))["questions"][:12]
    questions = [EvalQuestion(q["question"], q["file"]) for q in spec]

    result = evaluation.compare_weights(collection.id, questions, top_k=3)

    grid = result["grid"]
    assert {(g["fusion"], g["keyword_weight"]) for g in grid} == {
        (f, w) for f in ("weighted", "rrf") for w in (0.0, 0.3, 0.5, 0.7, 1.0)
    }
    assert result["best"] == grid[0] and grid[0]["recall"] == max(g["recall"] for g in grid)
    assert [g["recall"] for g in grid] == sorted((g["recall"] for g in grid), reverse=True)
    assert grid[0]["recall"] >= 0.9  # each question names its file: 3 of 46 chunks must include it
    assert result["language"] == "en"
    saved = [e for e in evaluation.list_evaluations(collection.id) if e["kind"] == "weights"]
    assert len(saved) == 1 and saved[0]["questions"] == 12 and "keyword weight" in saved[0]["summary"]

    with pytest.raises(InvalidInput):
        evaluation.compare_weights(collection.id, questions, weights=[])
