"""The rater page (/rate) in a Portuguese browser: the join form, the battle, the vote's outcome
and a refused join all read Portuguese, and no English label is left on the page; the Fine-tune
and Judge tabs' main labels are Portuguese too (issue 14, part 1)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.arena_doors import serve_room
from tests.e2e.test_browser import open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
NAME_BOX = "#arena-name textarea, #arena-name input"
CODE_BOX = "#arena-code textarea, #arena-code input"
# English words of the rater page that must not survive in Portuguese.
ENGLISH = (
    "Your name",
    "Join code",
    "A is better",
    "B is better",
    "Both bad",
    "Next battle",
    "Answer A",
    "Why? (optional)",
)
# A label whose text the page does not carry shows its bare key (e.g. "arena.vote_a").
BARE_KEY = re.compile(r"\b(?:app|arena|judge|finetune)\.[a-z_]+\b")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    with serve_room(tmp_path_factory.mktemp("i18n-rater") / "home") as room:
        yield room


def _code_filled(page, code: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('{CODE_BOX}')?.value === '{code}'",
        timeout=30_000,
    )


def test_a_portuguese_rater_joins_and_votes_in_portuguese(room):
    with open_page(f"{room.rate_url}?code={room.code.lower()}", locale="pt-BR") as page:
        _code_filled(page, room.code)
        form = page.locator("#arena-join").first.inner_text()
        assert "Seu nome" in form and "Código de acesso" in form, form
        assert page.locator("#arena-join-btn").inner_text().strip() == "Entrar"
        assert "Digite seu nome e o código de acesso" in page.locator("#arena-status").inner_text()

        page.locator(NAME_BOX).first.fill("Ana")
        page.locator("#arena-join-btn").click()
        page.get_by_text("batalha 1 de").wait_for(timeout=30_000)
        status = page.locator("#arena-status").inner_text()
        assert status.startswith("Avaliando como Ana · batalha 1 de"), status
        assert page.locator("#arena-vote-a").inner_text().strip() == "A é melhor"
        assert page.locator("#arena-vote-bothbad").inner_text().strip() == "Ambas ruins"
        assert page.locator("#arena-next").inner_text().strip() == "Próxima batalha"
        assert "Resposta A" in page.locator("#arena-answer-a").first.inner_text()
        assert "Sim" in page.locator("#arena-accept-a").first.inner_text()
        page.get_by_text("Por quê? (opcional)").click()
        page.get_by_text("Mais precisa").wait_for(timeout=10_000)
        body = page.locator("body").inner_text()
        assert not [word for word in ENGLISH if word in body], body
        assert not BARE_KEY.findall(body), BARE_KEY.findall(body)

        total = int(status.rsplit(" de ", 1)[1].split()[0])
        page.locator("#arena-vote-a").click()
        reveal = page.locator("#arena-reveal")
        reveal.get_by_text("Voto: A é melhor").wait_for(timeout=30_000)
        assert "Voto registrado" in reveal.inner_text() and "Próxima batalha" in reveal.inner_text()

        # To the last battle: the thanks, the rater's own votes and the names, in Portuguese.
        for number in range(2, total + 1):
            page.locator("#arena-next").click()
            page.get_by_text(f"batalha {number} de {total}").wait_for(timeout=30_000)
            page.locator("#arena-vote-tie").click()
            reveal.get_by_text("Empate (as duas igualmente boas)").wait_for(timeout=30_000)
        summary = page.locator("#arena-summary")
        summary.get_by_text("Seus votos").wait_for(timeout=30_000)
        shown = summary.inner_text()
        assert "Sua escolha" in shown and "A era" in shown and "Empate (as duas igualmente boas)" in shown, shown
        assert all(label in shown for label in room.labels)
        assert "Essa foi sua última batalha — obrigado!" in shown
        assert "Revelado" in reveal.inner_text()  # the last vote shows who was who


def test_a_refused_join_says_why_in_portuguese(room):
    with open_page(room.rate_url, locale="pt-BR") as page:
        page.locator("#arena-join-btn").wait_for(timeout=30_000)
        page.locator(NAME_BOX).first.fill("Bia")
        page.locator(CODE_BOX).first.fill("ZZZZZZ")
        page.locator("#arena-join-btn").click()
        page.get_by_text("Nenhuma avaliação tem o código de acesso 'ZZZZZZ'").first.wait_for(timeout=30_000)
        # A blank name is refused next to the name box, in Portuguese too.
        page.locator(NAME_BOX).first.fill("  ")
        page.locator(CODE_BOX).first.fill(room.code)
        page.locator("#arena-join-btn").click()
        page.locator("#arena-name .validation-error", has_text="Digite seu nome").wait_for(timeout=20_000)
        assert "batalha" not in page.locator("#arena-status").inner_text()


def test_the_finetune_and_judge_tabs_speak_portuguese(running_app):
    with open_page(running_app.url, locale="pt-BR") as page:
        tabs = page.locator("#main-tabs")
        tabs.get_by_role("tab", name="Ajuste fino").click()
        page.get_by_text("1. Conjunto de dados").wait_for(timeout=60_000)
        assert page.locator("#ft-data-check").inner_text().strip() == "Verificar e salvar conjunto de dados"
        assert page.locator("#ft-train-start").inner_text().strip() == "▶ Iniciar treino"
        assert "Predefinição" in page.locator("#ft-train-preset").inner_text()
        assert "Teste rápido" in page.locator("#ft-train-preset").inner_text()
        page.get_by_text("3. Treinos").wait_for(timeout=10_000)
        page.locator("#ft-train-advanced").get_by_text("Configurações avançadas").click()
        page.get_by_text("Todas as camadas lineares + cabeça de saída (a vencedora do estudo)").wait_for(timeout=10_000)
        assert not BARE_KEY.findall(page.locator("body").inner_text())

        tabs.get_by_role("tab", name="Juiz").click()
        page.locator("#judge-run").wait_for(timeout=60_000)
        assert page.locator("#judge-run").inner_text().strip() == "Rodar o juiz"
        assert "Modelo juiz" in page.locator("#judge-model").inner_text()
        assert "O que julgar" in page.locator("#judge-kind").inner_text()
        page.get_by_text("Um juiz automático").first.wait_for(timeout=10_000)
        assert "Rubrica: dar nota a cada resposta" in page.locator("body").inner_text()
        assert not BARE_KEY.findall(page.locator("body").inner_text())
