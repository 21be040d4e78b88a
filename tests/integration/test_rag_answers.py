"""Cited answers with the real SmolLM2, recorded runs, history, and retrieval evaluation."""

import re

import pytest

from playground.models.types import GenerationParams
from playground.rag.charts import sweep_figure
from playground.rag.chunking import ChunkSettings
from playground.rag.evaluation import EvalQuestion, EvaluationService
from playground.rag.retrieval import RetrievalSettings
from tests.integration.rag_fixtures import DEMO_DOCS, services

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"


@pytest.fixture(scope="module")
def bakery(services):
    c = services.documents.create_collection("Bakery answers", ChunkSettings(400, 40, "chars"))
    services.documents.ingest(c.id, [str(p) for p in DEMO_DOCS])
    return c


def test_smollm2_citations_map_to_the_chunks_in_the_prompt(services, bakery):
    docs = services.documents
    updates = list(
        docs.ask(
            bakery.id,
            "When does the bakery open on Saturdays?",
            SMOL,
            RetrievalSettings(top_k=3),
            GenerationParams(temperature=0.0, max_tokens=80, seed=1),
        )
    )
    final = updates[-1]
    assert final.done and final.error is None and final.text.strip()
    assert final.citations, f"SmolLM2 cited nothing: {final.text!r}"
    with services.uow_factory() as uow:
        question = uow.rag_questions.get(final.question_id)
        run = uow.runs.get(question.run_id)
    assert run.kind == "rag" and run.generations[0].output == final.text and run.generations[0].status == "ok"
    prompt = run.generations[0].messages[-1]["content"]
    given = dict(re.findall(r"^\[(\d+)\] \([^)]*\)\n(.*?)(?=\n\n\[\d+\] |\n\nQuestion:)", prompt, flags=re.S | re.M))
    assert len(given) == len(final.sources) == 3
    for n in final.citations:
        assert given[str(n)].strip() == final.sources[n - 1]["text"].strip()  # number n is the chunk given as [n]
        assert question.sources[n - 1]["chunk_id"] == final.sources[n - 1]["chunk_id"]
    assert question.answer == final.text and question.citations == final.citations
    assert docs.history()[0]["id"] == final.question_id


def test_with_and_without_documents_are_both_recorded(services, bakery):
    updates = list(
        services.documents.ask(
            bakery.id,
            "Which supplier delivers eggs?",
            SMOL,
            RetrievalSettings(top_k=2),
            GenerationParams(temperature=0.0, max_tokens=30, seed=1),
            with_without=True,
        )
    )
    phases = [u.phase for u in updates if u.done]
    assert phases == ["with", "without"]
    with services.uow_factory() as uow:
        question = uow.rag_questions.get(updates[-1].question_id)
        run = uow.runs.get(question.run_id)
    assert question.mode == "compare" and question.answer_without == updates[-1].text
    assert [g.position for g in run.generations] == [0, 1]
    assert (
        "Sources:" in run.generations[0].messages[-1]["content"]
        and "Sources:" not in run.generations[1].messages[-1]["content"]
    )


def test_evaluation_and_sweep_are_computed_and_saved(services, bakery):
    evaluation = EvaluationService(services.documents)
    questions = [
        EvalQuestion("When are wages paid?", "handbook.md"),
        EvalQuestion("Can a custom cake be returned?", "returns_policy.html", 1),
        EvalQuestion("Who delivers coffee beans?", "suppliers.csv"),
    ]
    result = evaluation.evaluate(bakery.id, questions, RetrievalSettings(top_k=3))
    assert [r["recall"] for r in result["rows"]] == [1.0, 1.0, 1.0]
    assert 0 < result["average"]["precision"] <= 1 and 0 < result["average"]["ndcg"] <= 1
    sweep = evaluation.sweep(bakery.id, questions, sizes=[256, 1024], top_ks=[1, 3])
    assert {(g["chunk_size"], g["top_k"]) for g in sweep["grid"]} == {(256, 1), (256, 3), (1024, 1), (1024, 3)}
    assert all(g["recall"] >= 2 / 3 for g in sweep["grid"] if g["top_k"] == 3)
    saved = evaluation.list_evaluations(bakery.id)
    assert [s["kind"] for s in saved[:2]] == ["sweep", "single"]
    figure = sweep_figure(sweep["grid"]).to_dict()
    assert len(figure["data"]) == 6 and figure["data"][0]["x"] == [1, 3]

    generated = evaluation.generate_questions(bakery.id, SMOL, 2, seed=3)
    assert len(generated) == 2 and all(
        q.question and q.expected_file.endswith((".md", ".txt", ".html", ".csv")) for q in generated
    )
