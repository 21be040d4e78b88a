"""The Documents tab in the browser's language (issue 14, part 1): headless Chromium set to pt-BR
sees its tabs, labels, buttons and refusals in Portuguese; set to en-US, the same places read
exactly the English they read before the catalogue."""

import pytest

from tests.e2e.test_browser import open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PORTUGUESE = {
    "tab": "Documentos",
    "inner_tabs": ["Arquivos", "Perguntar", "Avaliar", "Histórico de perguntas"],
    "buttons": ["Criar coleção", "Pré-visualizar", "Enviar e indexar", "Remover arquivo"],
    "collection": "Coleção",
    "manage": "Nova, renomear, excluir, configurações",
    "embedder": "Modelo de embeddings",
    "docs_table": "Arquivos nesta coleção",
    # Sent by the page load: the browser leaves a table's headers as they were built (English).
    "docs_headers": ["arquivo", "versão", "trechos", "avisos"],
    "ask_buttons": ["Com vs. sem documentos"],
    "question": "Pergunta",
    "no_files": "Escolha um ou mais arquivos para enviar.",
}
ENGLISH = {
    "tab": "Documents",
    "inner_tabs": ["Files", "Ask", "Evaluate", "Question history"],
    "buttons": ["Create collection", "Preview", "Upload and index", "Remove file"],
    "collection": "Collection",
    "manage": "New, rename, delete, settings",
    "embedder": "Embedding model",
    "docs_table": "Files in this collection",
    "docs_headers": ["file", "version", "chunks", "warnings"],
    "ask_buttons": ["With vs without documents"],
    "question": "Question",
    "no_files": "Choose one or more files to upload.",
}


def check_documents(page, words: dict) -> None:
    page.get_by_role("tab", name=words["tab"], exact=True).click()
    for name in words["inner_tabs"]:
        page.get_by_role("tab", name=name, exact=True).wait_for(timeout=30_000)
    for name in words["buttons"]:
        page.get_by_role("button", name=name, exact=True).first.wait_for(timeout=30_000)
    assert words["collection"] in page.locator("#rag-collection").inner_text()
    page.get_by_text(words["manage"], exact=True).first.wait_for(timeout=30_000)
    assert words["embedder"] in page.locator("#rag-embedder").inner_text()
    assert words["docs_table"] in page.locator("#rag-docs").inner_text()
    for header in words["docs_headers"]:
        page.locator("#rag-docs").get_by_text(header, exact=True).first.wait_for(timeout=30_000)
    # A refusal reads in the same language as the labels around it, next to the input at fault.
    page.get_by_role("button", name=words["buttons"][1], exact=True).click()
    page.locator("#rag-files .validation-error", has_text=words["no_files"]).wait_for(timeout=30_000)
    page.get_by_role("tab", name=words["inner_tabs"][1], exact=True).click()
    for name in words["ask_buttons"]:
        page.get_by_role("button", name=name, exact=True).wait_for(timeout=30_000)
    assert words["question"] in page.locator("#rag-question").inner_text()


def test_documents_speaks_portuguese_to_a_portuguese_browser(running_app):
    with open_page(running_app.url, locale="pt-BR") as page:
        check_documents(page, PORTUGUESE)
        assert "Upload and index" not in page.locator("#rag-upload").inner_text()


def test_documents_reads_as_before_in_an_english_browser(running_app):
    with open_page(running_app.url, locale="en-US") as page:
        check_documents(page, ENGLISH)


def test_text_made_by_handlers_is_portuguese_too(running_app):
    """A toast and the collection's summary line, both written by handlers, follow the browser."""
    with open_page(running_app.url, locale="pt-BR") as page:
        page.get_by_role("tab", name="Documentos", exact=True).click()
        page.locator("#rag-new-name input, #rag-new-name textarea").first.fill("Políticas pt")
        page.locator("#rag-create").click()
        page.get_by_text("Coleção 'Políticas pt' criada.").first.wait_for(timeout=30_000)
        page.locator("#rag-collection-info").get_by_text("Idioma dos documentos", exact=False).wait_for(timeout=30_000)
        assert "Language of the documents" not in page.locator("#rag-collection-info").inner_text()
        # Deleting it again (so later tests find the app as they expect) answers in Portuguese too.
        page.get_by_label("Sim, excluir").check()
        page.get_by_role("button", name="Excluir a coleção selecionada", exact=True).click()
        page.get_by_text("Coleção 'Políticas pt' excluída", exact=False).first.wait_for(timeout=30_000)
