"""Answers in the user's language, through the services: a Portuguese question gets the
Portuguese RAG prompt and its [n] citations parse as in English; a judge grading Portuguese
answers reads the Portuguese rubric, and its Portuguese replies are parsed into the same scores."""

from __future__ import annotations

import pytest

from playground.compare.columns import ColumnConfig
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams
from playground.prompts_i18n import texts
from playground.rag.chunking import ChunkSettings
from playground.rag.retrieval import RetrievalSettings
from tests.service.fake_model import fake_services, scripted_answer

POLICY = """# Horário de atendimento

A loja abre de segunda a sexta, das 9h às 18h, e aos sábados das 9h às 13h. Aos domingos fica fechada.

# Entregas

Pedidos feitos até as 14h saem no mesmo dia. O frete é grátis para compras acima de R$ 199.
"""
PT_RUBRIC = texts("pt").judge.rubric_system


@pytest.fixture(scope="module")
def loja(tmp_path_factory):
    home = tmp_path_factory.mktemp("loja")
    services = fake_services(home / "home")
    path = home / "politica.md"
    path.write_text(POLICY, encoding="utf-8")
    collection = services.documents.create_collection("Loja", ChunkSettings(200, 20, "chars"))
    services.documents.ingest(collection.id, [str(path)])
    yield services, collection
    services.close()


def test_a_portuguese_question_is_asked_in_portuguese_and_its_citations_parse(loja):
    services, collection = loja
    question = "A loja abre aos sábados? Qual é o horário?"
    final = list(
        services.documents.ask(
            collection.id, question, SMOLLM2_KEY, RetrievalSettings(top_k=2), GenerationParams(max_tokens=80)
        )
    )[-1]
    assert final.done and final.error is None and final.citations and not final.invalid_citations
    assert "sábados das 9h às 13h" in final.sources[final.citations[0] - 1]["text"]
    with services.uow_factory() as uow:
        row = uow.rag_questions.get(final.question_id)
        messages = uow.runs.get(row.run_id).generations[0].messages
    assert messages[0]["content"] == texts("pt").rag.system
    assert messages[-1]["content"].startswith("Fontes:\n\n[1] (politica.md, página 1)\n")
    assert row.citations == final.citations


def portuguese_world(spec, messages):
    """Compare answers in Portuguese; a judge that replies with Portuguese labels."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = messages[-1]["content"]
    if system == PT_RUBRIC:
        graded = user.split("Resposta a avaliar:", 1)[-1]
        return f"Motivo: {'cita' if 'Paris' in graded else 'não cita'} Paris.\nNota: {3 if 'Paris' in graded else 1}"
    if system:
        return scripted_answer(spec, messages)
    return "A capital da França é Paris." if spec.key == SMOLLM2_KEY else "Não sei dizer qual é a capital."


def test_portuguese_answers_are_graded_from_the_portuguese_rubric_and_parsed(make_services):
    services = make_services(script=portuguese_world)
    columns = [ColumnConfig(model_key=k, temperature=0.0) for k in (SMOLLM2_KEY, GEMMA3_KEY)]
    run_id, text = services.compare.start_run(columns, "Qual é a capital da França? Responda em uma frase.")
    *_, answers = services.compare.stream_turn(run_id, columns, [[], []], text)
    assert [a.status for a in answers] == ["ok", "ok"]
    final = list(services.judge.grade(SMOLLM2_KEY, None, "run", run_id))[-1]
    assert final.status == "done" and (final.done, final.unparsed, final.failed) == (6, 0, 0)
    grades = services.judge.results(final.job_id).grades
    assert sorted(g.score for g in grades) == [1, 1, 1, 3, 3, 3]  # Paris: 3 on each criterion; no Paris: 1
    assert all(g.prompts[0][0]["content"] == PT_RUBRIC for g in grades)
    shown = {g.criterion: g.prompts[0][-1]["content"] for g in grades}
    assert "Critério: correção —" in shown["correctness"] and "Critério: legibilidade —" in shown["readability"]
    assert all(g.reason.endswith("Paris.") for g in grades)  # the reason read from "Motivo:"
