"""A Portuguese question gets the Portuguese RAG prompt, and a real embedded model answers it
with [n] citations that parse exactly as in English (same numbering, same parser).

The model is Gemma 3 270M, the one the app suggests for Portuguese: SmolLM2 was trained on
English only and, given this prompt, writes broken Portuguese (measured: no usable citation)."""

import re

import pytest

from playground.models.embedded import GEMMA3_KEY
from playground.models.types import GenerationParams, Usage
from playground.rag.answering import answer_markdown, parse_citations, rag_messages
from playground.rag.chunking import ChunkSettings
from playground.rag.retrieval import RetrievalSettings
from tests.integration.rag_fixtures import services

pytestmark = pytest.mark.slow
# Greedy and short: the answer, not the base model's continuation of the prompt after it.
PARAMS = GenerationParams(temperature=0.0, max_tokens=16, seed=1)
SOURCES = [
    {"filename": "entregas.md", "page_number": None, "text": "Pedidos feitos até as 14h saem no mesmo dia."},
    {"filename": "horario.md", "page_number": None, "text": "Aos sábados a loja abre das 9h às 13h."},
    {"filename": "trocas.md", "page_number": None, "text": "Você pode devolver qualquer produto em até 30 dias."},
]
POLICY = """# Horário de atendimento

A loja física abre de segunda a sexta, das 9h às 18h, e aos sábados das 9h às 13h. Aos domingos a loja fica fechada.

# Trocas e devoluções

Você pode devolver qualquer produto em até 30 dias após o recebimento, sem custo de frete.

# Entregas

Pedidos feitos até as 14h saem no mesmo dia. O frete é grátis para compras acima de R$ 199.
"""
# The Portuguese prompt's blocks: the same "[n] (file)" lines as in English, before "Pergunta:".
GIVEN = re.compile(r"^\[(\d+)\] \([^)]*\)\n(.*?)(?=\n\n\[\d+\] |\n\nPergunta:)", re.S | re.M)


def test_gemma_answers_the_portuguese_prompt_citing_the_right_source(services):
    messages = rag_messages("Qual é o horário da loja aos sábados?", SOURCES)
    assert messages[-1].content.startswith("Fontes:\n\n[1] (entregas.md)\n")
    with services.models.registry.use(GEMMA3_KEY) as backend:
        events = list(backend.stream(messages, PARAMS))
    answer = "".join(e for e in events if isinstance(e, str))
    assert isinstance(events[-1], Usage) and answer.strip()
    valid, invalid = parse_citations(answer, len(SOURCES))
    assert valid and not invalid, f"no usable citation in {answer!r}"
    assert valid[0] == 2, f"the Saturday hours are source [2]: {answer!r}"
    assert 'title="horario.md: Aos sábados' in answer_markdown(answer, SOURCES)


@pytest.fixture(scope="module")
def loja(services, tmp_path_factory):
    path = tmp_path_factory.mktemp("loja") / "politica_da_loja.md"
    path.write_text(POLICY, encoding="utf-8")
    collection = services.documents.create_collection("Loja (pt)", ChunkSettings(300, 30, "chars"))
    services.documents.ingest(collection.id, [str(path)])
    return collection


def test_a_portuguese_question_through_documents_is_asked_in_portuguese_and_cited(services, loja):
    final = list(
        services.documents.ask(
            loja.id,
            "Qual é o horário de funcionamento da loja aos sábados?",
            GEMMA3_KEY,
            RetrievalSettings(top_k=3),
            PARAMS,
        )
    )[-1]
    assert final.done and final.error is None and final.text.strip()
    with services.uow_factory() as uow:
        question = uow.rag_questions.get(final.question_id)
        messages = uow.runs.get(question.run_id).generations[0].messages
    assert messages[0]["content"].startswith("Você responde a perguntas usando apenas as fontes numeradas")
    prompt = messages[-1]["content"]
    assert prompt.startswith("Fontes:\n\n[1] (politica_da_loja.md, página 1)\n") and prompt.endswith("\nResposta:")
    given = dict(GIVEN.findall(prompt))
    assert len(given) == len(final.sources)
    assert final.citations and not final.invalid_citations, f"no usable citation in {final.text!r}"
    for n in final.citations:  # number n is the chunk given as [n], as in English
        assert given[str(n)].strip() == final.sources[n - 1]["text"].strip()
    assert question.citations == final.citations
