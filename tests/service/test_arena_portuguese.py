"""The facilitator's Arena in Portuguese (issue 14): toasts, refusals, table headers and the
report follow the reader's language, and English readers get exactly the English of before.
Real SQLite, the scripted fake backend, and the Arena tab's own handlers under a request that
carries the browser's Accept-Language (as Gradio hands it to them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from gradio.context import LocalContext

from components.arena_room import RoomController
from components.arena_tab import ArenaController
from playground.arena import report
from playground.arena.leaderboard import Leaderboard, ModelRow
from playground.arena.prompts import parse_typed
from playground.errors import InvalidInput
from playground.models.embedded import GEMMA3_KEY, SMOLLM2_KEY
from playground.models.types import GenerationParams
from tests.service.arena_votes import PARAMS, voted_evaluation
from tests.service.readers import reader

ENGLISH_BOARD = [
    "Rank", "Model", "Rating", "95% interval", "Online Elo", "Battles", "Win rate",
    "Acceptable (95% Wilson)", "Mean s/answer", "Mean cost/answer",
]  # fmt: skip


@pytest.fixture
def voted(services):
    """An evaluation with every battle voted by one rater."""
    return voted_evaluation(services, acceptable_a=True, acceptable_b=False)


def test_facilitator_toasts_and_refusals_read_portuguese_and_english_as_before(services, voted):
    arena = services.arena
    closed = arena.set_voting_open(voted.id, False)
    assert str(closed) == "Voting is closed for 'Oficina': joins and votes are refused until you open it again."
    assert closed.render("pt-BR") == (
        "A votação de 'Oficina' está encerrada: entradas e votos são recusados até você abri-la de novo."
    )
    assert arena.set_voting_open(voted.id, True).render("pt-BR").startswith("A votação de 'Oficina' está aberta")
    cap = arena.set_live_cap(voted.id, 3)
    assert str(cap) == "Each rater of 'Oficina' may ask 3 live prompt(s)." and "3 prompt(s) ao vivo" in cap.render(
        "pt-BR"
    )
    released = arena.release_rater_name(voted.id, "ana")
    assert "Released the name 'Ana'" in released and released.render("pt-BR").startswith("O nome 'Ana' foi liberado")
    policy = arena.set_reveal_policy(voted.id, "never")
    assert str(policy) == (
        "Raters of 'Oficina' now see who wrote what: never (the facilitator reveals the models on the leaderboard)."
    )
    assert "nunca" in policy.render("pt-BR")
    with pytest.raises(InvalidInput) as refused:
        arena.set_reveal_policy(voted.id, "after_each")  # two models, repeats: an answer returns
    assert "would give later battles away" in str(refused.value)
    assert refused.value.message_in("pt-BR").startswith("Mostrar os nomes depois de cada voto entregaria")
    assert "os lados trocados" in refused.value.message_in("pt-BR")
    assert arena.start_generation(voted.id).render("pt-BR").startswith("Gerando as respostas de 'Oficina'")


def test_room_settings_toast_and_the_raters_table_follow_the_reader(services, voted, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr("components.arena_room.gr.Info", shown.append)
    room = RoomController(services.arena)
    with reader("pt-BR,pt;q=0.9"):
        status, raters = room.set_voting(voted.id, False)
        _, english_less = room.poll(voted.id)
    assert shown == ["A votação de 'Oficina' está encerrada: entradas e votos são recusados até você abri-la de novo."]
    assert raters["headers"] == english_less["headers"] and raters["headers"][:3] == [
        "Avaliador",
        "Votos",
        "Prompts ao vivo",
    ]
    assert raters["data"][0][0] == "Ana" and raters["data"][0][-1] == "código" and "encerrada" in status
    with reader("en-US"):
        _, english = room.poll(voted.id)
    assert english["headers"] == ["Rater", "Votes", "Live prompts", "Finished", "Name released", "Joined by"]
    assert english["data"][0][-1] == "join"


def test_leaderboard_agreement_and_tally_headers_follow_the_reader(services, voted):
    tab = ArenaController(services)
    with reader("pt-BR"):
        summary, board, *_charts = tab.leaderboard(voted.id)
        _, pairs, raters = tab.agreement(voted.id)
        _, tally, flagged, _ = tab.poll_progress(voted.id)
    assert board["headers"][:4] == ["Posição", "Modelo", "Pontuação", "Intervalo de 95%"]
    assert {row[1] for row in board["data"]} == {"SmolLM2 135M Instruct", "Gemma 3 270M (base)"}
    assert board["data"][0][-1] == "local: US$ 0, por escolha"  # embedded models run locally: $0 by choice
    assert "votos dados" in summary or "voto dado" in summary
    assert raters["headers"][0] == "Avaliador" and pairs["headers"][-1] == "κ de Cohen"
    assert tally["headers"] == ["Avaliador", "Votos"] and tally["data"][0][0] == "Ana"
    assert flagged["headers"] == ["Pergunta", "Modelo", "Nomes encontrados", "Início da resposta"]
    with reader("en-US,en;q=0.9"):
        _, english_board, *_ = tab.leaderboard(voted.id)
        _, english_tally, _, _ = tab.poll_progress(voted.id)
    assert english_board["headers"] == ENGLISH_BOARD == report.LEADERBOARD_HEADERS
    assert english_board["data"][0][-1] == "local: $0, by choice"
    assert english_tally["headers"] == ["Rater", "Votes"]


def test_the_report_files_are_in_the_facilitators_language(services, voted):
    arena = services.arena
    md, page = arena.write_report(voted.id, language="pt-BR")
    text, html = md.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")
    assert text.startswith("# Relatório da Arena: Oficina") and "2 prompt(s) · 2 modelos · 1 avaliador(es)" in text
    for heading in ("## Ranking", "## Concordância entre avaliadores", "## Avaliadores", "| Posição | Modelo |"):
        assert heading in text, heading
    assert "Arena report" not in text and "Rater agreement" not in text
    assert '<html lang="pt-BR">' in html and "<h2>Concordância entre avaliadores</h2>" in html
    assert "<th>Posição</th>" in html and "Pontuação Bradley–Terry" in html  # the chart's axis too
    english_md, _ = arena.write_report(voted.id)
    english = english_md.read_text(encoding="utf-8")
    assert english.startswith("# Arena report: Oficina") and "2 prompts · 2 models · 1 raters · generated" in english
    assert "## Leaderboard" in english and "| Rank | Model | Rating |" in english and "## Rater agreement" in english
    with reader("pt-BR"):
        files = ArenaController(services).write_report(voted.id)  # the facilitator's browser decides
    assert open(files[0], encoding="utf-8").read().startswith("# Relatório da Arena")


def test_prompt_set_refusals_name_places_in_the_readers_language():
    with pytest.raises(InvalidInput) as refused:
        parse_typed("a\nb\nA")
    assert str(refused.value) == (
        "The prompt set has duplicate prompts: line 3 repeats line 1. Each prompt must appear once."
    )
    assert "linha 3 repete linha 1" in refused.value.message_in("pt-BR")
    with pytest.raises(InvalidInput) as too_long:
        parse_typed("short\n" + "x" * 20_001)
    assert str(too_long.value) == "Some prompts are longer than 20,000 characters (line 2)."
    assert too_long.value.message_in("pt-BR") == "Alguns prompts têm mais de 20.000 caracteres (linha 2)."


def test_leaderboard_cells_write_numbers_the_readers_way():
    row = ModelRow("m", 1, 1012.4, 990.0, 1030.0, 1005.0, 4, 0.5, 0.75, (0.3, 0.95), 4, 1.5, 0.000123)
    board = Leaderboard(rows=[row], names=["m"])
    english, portuguese = report.leaderboard_rows(board), report.leaderboard_rows(board, "pt-BR")
    assert english[0] == [1, "m", 1012, "990 – 1030", 1005, 4, "50%", "75% (30%–95%, n=4)", "1.50", "$0.000123"]
    assert portuguese[0][-2:] == ["1,50", "US$ 0,000123"]
