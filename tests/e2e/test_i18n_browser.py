"""The interface in the browser's language, and the header's switch overriding it: headless
Chromium set to pt-BR sees Portuguese, set to en-US sees English; a refusal's message is in the
same language as the labels around it."""

import re

import pytest

from tests.e2e.test_browser import open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def tab_names(page) -> list[str]:
    page.locator("#main-tabs").get_by_role("tab").first.wait_for(timeout=60_000)
    return [name.strip() for name in page.locator("#main-tabs").get_by_role("tab").all_inner_texts()]


BARE_KEY = re.compile(
    r"\b(?:app|compare|documents|finetune|arena|judge|history|models|errors|language)\.[a-z][a-z0-9_]+\b"
)


def bare_keys(page) -> list[str]:
    """Catalogue keys shown as they are: a label whose text never reached the page."""
    texts = []
    for tab in page.locator("#main-tabs").get_by_role("tab").all():
        tab.click()
        page.wait_for_timeout(300)
        texts.append(page.locator("body").inner_text())
    return sorted({m for text in texts for m in BARE_KEY.findall(text)})


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_no_tab_shows_a_bare_catalogue_key(running_app, locale):
    with open_page(running_app.url, locale=locale) as page:
        tab_names(page)
        assert bare_keys(page) == []


def test_a_portuguese_browser_sees_the_portuguese_interface(running_app):
    with open_page(running_app.url, locale="pt-BR") as page:
        names = tab_names(page)
        assert names[:3] == ["Comparar", "Documentos", "Ajuste fino"], names
        assert "Experimente modelos de linguagem" in page.locator("#app-header").inner_text()


def test_an_english_browser_sees_the_english_interface(running_app):
    with open_page(running_app.url, locale="en-US") as page:
        names = tab_names(page)
        assert names[:3] == ["Compare", "Documents", "Fine-tune"], names
        assert "Try large language models" in page.locator("#app-header").inner_text()


def test_the_switch_overrides_the_browser_and_automatic_gives_it_back(running_app):
    with open_page(running_app.url, locale="en-US") as page:
        assert tab_names(page)[0] == "Compare"
        choose(page, "Português (Brasil)")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#main-tabs [role=tab]')].some(t => t.innerText.trim() == 'Comparar')",
            timeout=60_000,
        )
        assert "playground-language=pt-BR" in page.evaluate("document.cookie")
        page.reload()  # the choice is kept
        assert tab_names(page)[0] == "Comparar"
        choose(page, "Automático (o do navegador)")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#main-tabs [role=tab]')].some(t => t.innerText.trim() == 'Compare')",
            timeout=60_000,
        )
        assert "playground-language" not in page.evaluate("document.cookie")


def choose(page, option: str) -> None:
    switch = page.locator("#language-switch input")
    switch.click()
    page.get_by_role("option", name=option).click()
