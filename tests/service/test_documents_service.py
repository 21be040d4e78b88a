"""Documents on the fake backend with the real MiniLM embedder: ingest, ask, cited answers, history."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.errors import InvalidInput
from playground.models.embedded import SMOLLM2_KEY
from playground.models.types import GenerationParams
from playground.rag.chunking import ChunkSettings
from playground.rag.retrieval import RetrievalSettings
from tests.service.fake_model import fake_services

DEMO_DOCS = sorted((Path(__file__).resolve().parents[2] / "assets" / "demo_docs").glob("*"))
PARAMS = GenerationParams(temperature=0.0, max_tokens=120)


@pytest.fixture(scope="module")
def docs_services(tmp_path_factory):
    """One database for the module: indexing the demo documents is the slow part."""
    services = fake_services(tmp_path_factory.mktemp("documents") / "home")
    yield services
    services.close()


@pytest.fixture(scope="module")
def bakery(docs_services):
    collection = docs_services.documents.create_collection("Bakery", ChunkSettings(400, 40, "chars"))
    outcomes = docs_services.documents.ingest(collection.id, [str(p) for p in DEMO_DOCS])
    assert [o.status for o in outcomes] == ["indexed"] * len(DEMO_DOCS)
    return collection


def test_the_answer_cites_the_passage_it_was_given(docs_services, bakery):
    services = docs_services
    updates = list(
        services.documents.ask(
            bakery.id, "When does the bakery open on Saturdays?", SMOLLM2_KEY, RetrievalSettings(top_k=3), PARAMS
        )
    )
    final = updates[-1]
    assert final.done and final.error is None and len(final.sources) == 3
    assert len(final.citations) == 1 and final.invalid_citations == []
    cited = final.sources[final.citations[0] - 1]
    assert "Saturdays" in cited["text"] and cited["filename"] == "handbook.md"
    assert final.text.removesuffix(f" [{final.citations[0]}]") in cited["text"]  # the script quotes the source it cites
    with services.uow_factory() as uow:
        question = uow.rag_questions.get(final.question_id)
        run = uow.runs.get(question.run_id)
        assert run.kind == "rag" and run.generations[0].output == final.text and run.generations[0].status == "ok"
        assert question.answer == final.text and question.citations == final.citations
        assert question.sources[final.citations[0] - 1]["chunk_id"] == cited["chunk_id"]
    assert any(row["id"] == final.question_id for row in services.documents.history())


def test_with_and_without_documents_are_both_recorded(docs_services, bakery):
    services = docs_services
    updates = list(
        services.documents.ask(
            bakery.id,
            "Which supplier delivers eggs?",
            SMOLLM2_KEY,
            RetrievalSettings(top_k=2),
            PARAMS,
            with_without=True,
        )
    )
    assert [u.phase for u in updates if u.done] == ["with", "without"]
    with_docs = next(u for u in updates if u.done and u.phase == "with")
    assert "Sunfield" in with_docs.text and with_docs.citations
    without = updates[-1]
    assert without.sources == [] and without.text == "SmolLM2 135M Instruct answers: Which supplier delivers eggs?"
    with services.uow_factory() as uow:
        question = uow.rag_questions.get(without.question_id)
        run = uow.runs.get(question.run_id)
        assert question.mode == "compare" and question.answer_without == without.text
        assert [g.position for g in run.generations] == [0, 1]


def test_an_empty_collection_is_refused_plainly(services):
    empty = services.documents.create_collection("Empty", ChunkSettings(400, 40, "chars"))
    with pytest.raises(InvalidInput, match="no indexed files"):
        list(services.documents.ask(empty.id, "Anything?", SMOLLM2_KEY, RetrievalSettings(top_k=3), PARAMS))
