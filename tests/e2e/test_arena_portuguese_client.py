"""The facilitator's Arena over HTTP in the browser's language (issue 14): a client sending
Accept-Language pt-BR gets the room's raters table, the leaderboard's headers and the report
file in Portuguese; one sending en-US gets the English of before. Both doors in one process,
on the fake backend (tests/e2e/arena_doors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client

from tests.e2e.arena_doors import ADMIN, serve_room

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    with serve_room(tmp_path_factory.mktemp("arena-pt") / "home") as room:
        rater = Client(room.rate_url, verbose=False)
        rater.predict("Ana", room.code, api_name="/arena_join")
        rater.predict("Yes", "No", [], "", api_name="/arena_vote_a")
        yield room


def admin(room, language: str) -> Client:
    return Client(room.url, auth=ADMIN, verbose=False, headers={"Accept-Language": language})


def test_a_portuguese_facilitator_reads_the_tables_and_the_report_in_portuguese(room):
    client = admin(room, "pt-BR,pt;q=0.9")
    _link, _qr, status, raters, *_ = client.predict(room.evaluation_id, api_name="/arena_room")
    assert raters["headers"][:2] == ["Avaliador", "Votos"] and raters["data"][0][0] == "Ana"
    assert "Avaliadores: **1**" in status
    board = client.predict(room.evaluation_id, api_name="/arena_leaderboard")
    assert board[1]["headers"][:3] == ["Posição", "Modelo", "Pontuação"] and len(board[1]["data"]) == 3
    assert board[0].startswith("1 voto dado")
    closed, _ = client.predict(room.evaluation_id, api_name="/arena_close_voting")
    assert "Votação encerrada" in closed
    client.predict(room.evaluation_id, api_name="/arena_open_voting")
    files = client.predict(room.evaluation_id, api_name="/arena_report")
    report = Path(next(f for f in files if str(f).endswith(".md"))).read_text(encoding="utf-8")
    assert report.startswith("# Relatório da Arena: room") and "| Posição | Modelo |" in report


def test_an_english_facilitator_reads_them_as_before(room):
    client = admin(room, "en-US,en;q=0.9")
    board = client.predict(room.evaluation_id, api_name="/arena_leaderboard")
    assert board[1]["headers"][:3] == ["Rank", "Model", "Rating"]
    _link, _qr, _status, raters, *_ = client.predict(room.evaluation_id, api_name="/arena_room")
    assert raters["headers"] == ["Rater", "Votes", "Live prompts", "Finished", "Name released", "Joined by"]
    files = client.predict(room.evaluation_id, api_name="/arena_report")
    report = Path(next(f for f in files if str(f).endswith(".md"))).read_text(encoding="utf-8")
    assert report.startswith("# Arena report: room") and "## Rater agreement" in report
