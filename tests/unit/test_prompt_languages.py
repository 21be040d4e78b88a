"""Prompts in the language of what they are about: the RAG prompt follows the question (the
collection's language where the question is too short to tell), the judge follows the items it
judges. The machine-readable parts ([n], Reason / Score / Winner) are the same in every language."""

from __future__ import annotations

import dataclasses

import pytest

from playground.judge import prompts
from playground.judge.parsing import parse_score, parse_verdict
from playground.judge.rubric import DEFAULT_WEIGHTS, Criterion, default_rubric, validate
from playground.prompts_i18n import CATALOGUES, prompt_language, texts
from playground.rag.answering import SYSTEM_PROMPT, answer_markdown, parse_citations, rag_messages

SOURCES = [
    {"filename": "politica.md", "page_number": 2, "text": "A loja abre aos sábados das 9h às 13h."},
    {"filename": "entregas.md", "page_number": None, "text": "O frete é grátis acima de R$ 199."},
]
PT_QUESTION = "Qual é o horário de funcionamento da loja aos sábados?"
EN_QUESTION = "When does the shop open on Saturdays?"


def test_every_catalogue_fills_every_text_and_the_default_criteria():
    for code, catalogue in CATALOGUES.items():
        assert catalogue.language == code
        for part in (catalogue.rag, catalogue.judge):
            for f in dataclasses.fields(part):
                assert getattr(part, f.name), f"{code}: {f.name} is empty"
        criteria = catalogue.judge.default_criteria
        assert list(criteria) == list(DEFAULT_WEIGHTS)
        assert all(len(c.examples) == 4 and all(c.examples) and c.description for c in criteria.values())
        assert catalogue.judge.retry.format(field="Score", choices="x").count("Score: <x>") == 1
    assert texts("pt-BR") is CATALOGUES["pt"] and texts("de") is CATALOGUES["en"] and texts("") is CATALOGUES["en"]


def test_the_prompt_language_is_the_texts_then_the_fallback_then_english():
    assert prompt_language(PT_QUESTION) == "pt"
    assert prompt_language(EN_QUESTION, fallback="pt") == "en"  # the question wins over the collection
    assert prompt_language("Horário?", fallback="pt") == "pt"  # too short to tell: the collection's
    assert prompt_language("Horário?") == "en"
    assert prompt_language("¿Cuál es el horario de la tienda los sábados por la mañana?") == "en"  # no Spanish prompt


def test_a_portuguese_question_gets_the_portuguese_rag_prompt_with_the_same_numbering():
    system, user = rag_messages(PT_QUESTION, SOURCES)
    assert system.content == texts("pt").rag.system and "Responda em português" in system.content
    assert user.content.startswith("Fontes:\n\n[1] (politica.md, página 2)\nA loja abre aos sábados")
    assert "\n\n[2] (entregas.md)\nO frete" in user.content
    assert user.content.endswith(f"Pergunta: {PT_QUESTION}\nResponda usando as fontes e cite-as assim: [1].\nResposta:")
    answer = "A loja abre aos sábados das 9h às 13h [1]. O frete é grátis acima de R$ 199 [2][1]; veja [1, 2] e [5]."
    assert parse_citations(answer, len(SOURCES)) == ([1, 2], [5])
    assert 'title="politica.md, page 2: A loja abre' in answer_markdown(answer, SOURCES) and "[5?]" in answer_markdown(
        answer, SOURCES
    )


def test_an_english_question_keeps_the_english_prompt_even_in_a_portuguese_collection():
    system, user = rag_messages(EN_QUESTION, SOURCES, collection_language="pt")
    assert system.content == SYSTEM_PROMPT
    assert user.content.startswith("Sources:\n\n[1] (politica.md, page 2)\n")
    assert user.content.endswith(f"Question: {EN_QUESTION}\nAnswer using the sources and cite them like [1].")
    assert rag_messages("Sábado?", SOURCES, collection_language="pt")[0].content == texts("pt").rag.system


def test_portuguese_items_get_the_portuguese_rubric_with_the_same_reply_labels():
    criterion = default_rubric().criterion("correctness")  # the English default, as saved
    messages = prompts.rubric_messages(criterion, PT_QUESTION, "Das 9h às 13h.", references=["Abre das 9h às 13h."])
    system, user = messages[0].content, messages[-1].content
    assert system == texts("pt").judge.rubric_system
    assert "Critério: correção — A resposta está factualmente certa" in user and "0 = Errada ou fora do assunto" in user
    assert "Trechos de referência" in user and "Resposta a avaliar:\nDas 9h às 13h." in user
    assert user.endswith("Reason: <uma frase, em português>\nScore: <0, 1, 2 ou 3>")
    assert user.index("Reason:") < user.index("Score:")
    english = prompts.rubric_messages(criterion, EN_QUESTION, "From 9 to 1.")
    assert (
        english[0].content == prompts.RUBRIC_SYSTEM and "Criterion: correctness — Is the answer" in english[1].content
    )


def test_a_criterion_the_user_wrote_is_shown_as_written_in_any_language():
    mine = Criterion("tone", 100, "Is it polite?", ("rude", "curt", "fine", "warm"))
    user = prompts.rubric_messages(mine, PT_QUESTION, "Das 9h às 13h, com prazer!")[-1].content
    assert "Critério: tone — Is it polite?" in user and "3 = warm" in user


def test_pairwise_and_retry_prompts_follow_the_items_language():
    pair = prompts.pair_messages(PT_QUESTION, "Abre das 9h às 13h.", "Abre aos sábados de manhã.")
    assert pair[0].content == texts("pt").judge.pair_system
    assert "Resposta A:\nAbre das 9h" in pair[1].content and pair[1].content.endswith("Winner: <A, B ou tie (empate)>")
    field, choices, language = prompts.score_reminder("pt")
    retry = prompts.retry_messages(pair, "não sei", field, choices, language)
    assert retry[-1].content == "Responda com uma única linha: Score: <0, 1, 2 ou 3>"
    assert prompts.retry_messages(pair, "?", *prompts.winner_reminder())[-1].content == (
        "Answer with one line only: Winner: <A, B or tie>"
    )


def test_the_portuguese_default_rubric_is_valid_and_keeps_the_criteria_names_and_weights():
    pt, en = default_rubric("pt"), default_rubric()
    assert pt.name == "Qualidade da resposta (padrão)"
    assert [(c.name, c.weight) for c in pt.criteria] == [(c.name, c.weight) for c in en.criteria]
    assert validate(pt.name, pt.criteria).criteria == pt.criteria
    shown = prompts.shown_criterion(pt.criterion("readability"), "en")  # a default in Portuguese, judged in English
    assert shown.label == "readability" and shown.description == en.criterion("readability").description


@pytest.mark.parametrize(
    "reply, score",
    [
        ("Reason: A resposta dá o horário certo de sábado.\nScore: 3", 3),  # what the grammar forces
        ("Motivo: faltou o horário de domingo.\nNota: 2", 2),
        ("**Nota:** 1/3", 1),
        ("Nota: 2 de 3", 2),
        ("Pontuação final: a nota é 0.", 0),
        ('{"nota": 1, "motivo": "curta demais"}', 1),
    ],
)
def test_the_judge_parser_reads_portuguese_replies(reply, score):
    parsed = parse_score(reply)
    assert parsed.ok and parsed.value == score


@pytest.mark.parametrize(
    "reply, problem",
    [
        ("Score: <0, 1, 2 ou 3>", "lists several scores"),  # the choices copied from the Portuguese prompt
        ("Nota: 0 a 3", "lists several scores"),
        ("Nota: 2,5", "not a whole number"),
        ("Nota: 2\nScore: 3", "two different scores"),
        ("A resposta está boa.", "no score"),
    ],
)
def test_the_judge_parser_refuses_portuguese_replies_without_one_score(reply, problem):
    parsed = parse_score(reply)
    assert not parsed.ok and problem in parsed.problem


def test_the_judge_parser_reads_portuguese_verdicts():
    assert parse_verdict("Reason: A primeira é mais completa.\nWinner: A").value == "a"
    assert parse_verdict("Reason: As duas dizem o mesmo.\nWinner: tie").reason == "As duas dizem o mesmo."
    assert parse_verdict("Vencedor: resposta B").value == "b"
    assert parse_verdict("Veredito: empate").value == "tie"
    assert parse_verdict("A resposta B é melhor.").value == "b"
    assert not parse_verdict("Winner: <A, B ou tie (empate)>").ok
    assert not parse_verdict("Vencedor: A\nVencedor: B").ok
