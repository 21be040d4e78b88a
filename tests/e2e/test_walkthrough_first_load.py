"""Walkthrough in headless Chromium: the first Compare send says which model is loading and, once
a load was measured, about how long it takes, before the answer arrives; after a restart on
the same data folder the line quotes the time the first app measured.

Its own app processes on a fresh data folder (with warm-up off, as every test app): the
shared app of the other browser tests may have loaded the models already."""

import re

import pytest

from tests.e2e.app_process import start_app
from tests.e2e.test_browser import SCREENSHOTS, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
GEMMA = "Gemma 3 270M (base)"
ANSWERED = "tokens/s"

# Every distinct text each figures line showed, in order: the loading line may last only a moment.
RECORD_FIGURES = """() => {
  window.__figures = [[], []];
  const note = () => [0, 1].forEach(i => {
    const text = (document.querySelector('#compare-figures' + i)?.innerText || '').trim();
    const seen = window.__figures[i];
    if (text && seen[seen.length - 1] !== text) seen.push(text);
  });
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def send_and_record(url: str, name: str) -> list[list[str]]:
    """Open Compare, send one prompt to the two opening columns, and return what each figures
    line showed until both answered."""
    with open_page(url) as page:
        page.get_by_role("tab", name="Compare").wait_for(timeout=30_000)
        page.get_by_role("tab", name="Compare").click()
        page.evaluate(RECORD_FIGURES)
        page.locator("#compare-prompt textarea").fill("The sea is")
        page.locator("#compare-send").click()
        for index in range(2):
            page.locator(f"#compare-figures{index}").get_by_text(ANSWERED).wait_for(timeout=300_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"first-load-{name}.png"), full_page=True)
        print(f"\nscreenshot: {SCREENSHOTS / f'first-load-{name}.png'}")
        return page.evaluate("() => window.__figures")


def loading_before_answer(seen: list[str], pattern: str) -> str:
    """The loading line matching ``pattern``, checked to come before the answer's figures."""
    loading = [i for i, text in enumerate(seen) if re.search(pattern, text)]
    answered = [i for i, text in enumerate(seen) if ANSWERED in text]
    assert loading and answered and loading[0] < answered[0], seen
    assert "waiting for the model" not in seen[loading[0]]
    return seen[loading[0]]


def test_first_send_says_what_is_loading_and_a_restart_says_how_long(tmp_path):
    home = tmp_path / "home"
    app = start_app(home, timeout_s=300)  # a busy CI machine can take minutes to start an app
    try:
        seen = send_and_record(app.url, "first")
    finally:
        app.stop()
    line = loading_before_answer(seen[1], rf"Loading {re.escape(GEMMA)} \(first use")
    assert "this can take a little while" in line, line  # never measured on this data folder
    assert (home / "load_times.json").is_file()

    again = start_app(home, timeout_s=300)  # same data folder: the time measured above is remembered
    try:
        seen = send_and_record(again.url, "restart")
    finally:
        again.stop()
    line = loading_before_answer(seen[1], rf"Loading {re.escape(GEMMA)} \(first use, ~\d+ (s|min)\)")
    assert line.startswith("⏳"), line
