"""Compare, History and Models in the browser's language (issue 14, part 1): headless Chromium
set to pt-BR sees their labels, buttons and refusals in Portuguese; set to en-US, the same
places read exactly the English they read before the catalogue."""

import pytest

from tests.e2e.test_browser import open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PORTUGUESE = {
    "tab": "Comparar",
    "send": "Enviar para todas as colunas",
    "stop": "Parar tudo",
    "new": "Nova conversa",
    "load_template": "Carregar template",
    "save_template": "Salvar template (nova versão)",
    "template_label": "Nome do template",
    "column": "Coluna 1",
    "settings": "Configurações",
    "no_prompt": "Digite um prompt primeiro.",
    "no_name": "Dê um nome ao template antes de salvá-lo.",
}
ENGLISH = {
    "tab": "Compare",
    "send": "Send to all columns",
    "stop": "Stop all",
    "new": "New conversation",
    "load_template": "Load template",
    "save_template": "Save template (new version)",
    "template_label": "Template name",
    "column": "Column 1",
    "settings": "Settings",
    "no_prompt": "Type a prompt first.",
    "no_name": "Give the template a name before saving it.",
}


def refused_next_to(page, box: str, sentence: str) -> None:
    page.locator(f"{box} .validation-error", has_text=sentence).wait_for(timeout=30_000)


def check_compare(page, words: dict[str, str]) -> None:
    page.get_by_role("tab", name=words["tab"], exact=True).click()
    for button in ("send", "stop", "new", "load_template", "save_template"):
        page.get_by_role("button", name=words[button], exact=True).wait_for(timeout=30_000)
    assert words["template_label"] in page.locator("#compare-template-name").inner_text()
    assert words["column"] in page.locator("#compare-col0").inner_text()
    assert words["settings"] in page.locator("#col0-settings").inner_text()
    # A refusal reads in the same language as the labels around it, next to the input at fault.
    page.locator("#compare-prompt textarea").fill("   ")
    page.locator("#compare-send").click()
    refused_next_to(page, "#compare-prompt", words["no_prompt"])
    page.locator("#compare-prompt textarea").fill("Say hello.")
    page.get_by_role("button", name=words["save_template"], exact=True).click()
    refused_next_to(page, "#compare-template-name", words["no_name"])


def test_compare_speaks_portuguese_to_a_portuguese_browser(running_app):
    with open_page(running_app.url, locale="pt-BR") as page:
        check_compare(page, PORTUGUESE)
        assert "Send to all columns" not in page.locator("#compare-send").inner_text()


def test_compare_reads_as_before_in_an_english_browser(running_app):
    with open_page(running_app.url, locale="en-US") as page:
        check_compare(page, ENGLISH)


def test_history_and_models_labels_and_table_headers_are_portuguese(running_app):
    with open_page(running_app.url, locale="pt-BR") as page:
        page.get_by_role("tab", name="Histórico", exact=True).click()
        page.locator("#history-search").get_by_text("Pesquisar", exact=True).wait_for(timeout=30_000)
        assert "Pesquisar prompts e respostas" in page.locator("#history-text").inner_text()
        assert "Reabrir no Comparar" in page.locator("#history-reopen").inner_text()
        # Dataframe headers are rendered by the server in the reader's language.
        page.wait_for_function(
            "() => document.querySelector('#history-table').innerText.includes('Quando')", timeout=30_000
        )
        page.get_by_role("tab", name="Modelos", exact=True).click()
        page.get_by_role("button", name="Atualizar", exact=True).wait_for(timeout=30_000)
        table = page.locator("#models-table")
        page.wait_for_function(
            "() => document.querySelector('#models-table').innerText.includes('embutido')", timeout=30_000
        )
        text = table.inner_text()
        assert "Modelos disponíveis" in text and "Origem" in text and "SmolLM2 135M Instruct" in text, text
        page.get_by_text("Teste um prompt", exact=True).wait_for(timeout=30_000)
