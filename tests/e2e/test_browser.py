"""A real headless Chromium opens the app, sees the tabs and the models, and runs a prompt."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("PLAYGROUND_SCREENSHOTS", "/tmp/playground-screenshots"))


@contextmanager
def open_page(url: str, locale: str = "en-US"):
    """A page of headless Chromium at ``url``, in a browser set to ``locale`` (the test is
    skipped where Chromium is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (the test command installs it with apt-get when it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale=locale)
        page.goto(url, wait_until="load")
        yield page
        browser.close()


@pytest.fixture(scope="module")
def page(running_app):
    with open_page(running_app.url) as page:
        yield page


def test_page_shows_tabs_and_embedded_models(page):
    page.get_by_role("tab", name="Compare").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Models").click()
    table = page.locator("#models-table")
    table.wait_for(timeout=30_000)
    # Gradio's Dataframe keeps hidden measuring copies of cells, so read the visible text.
    page.wait_for_function(
        "() => document.querySelector('#models-table').innerText.includes('SmolLM2 135M Instruct')", timeout=30_000
    )
    visible = table.inner_text()
    assert "Gemma 3 270M (base)" in visible and "llama.cpp" in visible
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "models-tab.png"), full_page=True)


def test_prompt_runs_in_the_browser(page):
    page.locator("#try-prompt textarea").fill("What is the capital of France? Answer in one sentence.")
    page.locator("#try-run").click()
    figures = page.locator("#try-figures")
    figures.get_by_text("tokens/s").wait_for(timeout=120_000)
    answer = page.locator("#try-answer textarea").input_value()
    assert answer.strip()
    assert "completion tokens" in figures.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "try-answer.png"), full_page=True)


def test_compare_add_a_column_and_see_answers_with_figures(page):
    page.get_by_role("tab", name="Compare").click()
    assert not page.locator("#compare-col2").is_visible()
    page.locator("#compare-add-column").click()
    page.locator("#compare-col2").wait_for(state="visible", timeout=10_000)
    page.locator("#compare-prompt textarea").fill("Name three fruits.")
    page.locator("#compare-send").click()
    for index in range(3):
        page.locator(f"#compare-figures{index}").get_by_text("tokens/s").wait_for(timeout=180_000)
        assert "completion tokens" in page.locator(f"#compare-figures{index}").inner_text()
        # One user message per column (a base model such as Gemma may repeat the prompt in its answer).
        assert page.locator(f"#compare-chat{index} .user-row").count() == 1
        assert "Name three fruits." in page.locator(f"#compare-chat{index} .user-row").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "compare.png"), full_page=True)
