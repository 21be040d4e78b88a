"""One screenshot of every tab at 1400×1000, so a person can look at the app after a test run.

Each tab is also checked the way a person would glance at it: its main controls are on screen, no
output wears Gradio's red "Error" badge, and no table shows the stand-in headers "1 2 3" or splits
a header inside a word. The pictures go to test-artifacts/screenshots/ (git-ignored;
PLAYGROUND_SCREENSHOTS moves them), with an index.txt listing them, and their paths are printed in
pytest's end-of-run summary."""

import os
import re
from pathlib import Path

import pytest

from tests.e2e.test_browser import open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
FOLDER = Path(os.environ.get("PLAYGROUND_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
NUMBERED = re.compile(r"^1 2 3\b")  # Gradio's stand-in headers for a table given none
BADGE = "span.error"  # Gradio's status tracker marks each output of a failed event with one
# Each tab: its name, then the selectors of what it must show when opened.
TABS = [
    ("Compare", ["#compare-prompt", "#compare-send", "#compare-col0", "#compare-col1"]),
    ("Documents", ["#rag-docs"]),
    ("Fine-tune", ["#ft-data-file", "#ft-data-demo", "#ft-data-check"]),
    ("Arena", ["#arena-evaluation"]),
    ("Judge", ["#judge-summary", "#judge-job"]),
    ("History", ["#history-kinds", "#history-table"]),
    ("Models", ["#models-table"]),
]
TABLE_HEADERS = """() => [...document.querySelectorAll('table')].filter(t => t.offsetParent !== null)
  .map(t => [...t.querySelectorAll('thead th')].map(th => th.innerText.trim()).filter(Boolean).join(' '))"""
# Visible headers that take more lines than they have words: split inside a word ("Ra/nk").
BROKEN_HEADERS = """() => [...document.querySelectorAll('thead th span.header')].filter(s => s.offsetParent !== null)
  .filter(s => {
    const range = document.createRange();
    range.selectNodeContents(s);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    return lines > s.innerText.trim().split(/\\s+/).length;
  }).map(s => s.innerText)"""


class ScreenshotSummary:
    """Names the pictures in pytest's terminal summary, which CI's log keeps whatever -s or -r say."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.paths:
            terminalreporter.write_sep("=", f"screenshots of the app ({len(self.paths)})")
            for path in self.paths:
                terminalreporter.write_line(str(path))


@pytest.fixture(scope="module")
def summary(request):
    plugin = ScreenshotSummary()
    request.config.pluginmanager.register(plugin, "playground-screenshots")
    yield plugin
    FOLDER.mkdir(parents=True, exist_ok=True)
    (FOLDER / "index.txt").write_text("".join(f"{path}\n" for path in plugin.paths), encoding="utf-8")


@pytest.fixture(scope="module")
def page(running_app):
    with open_page(running_app.url) as page:
        page.get_by_role("tab", name="Compare").wait_for(timeout=60_000)
        yield page


@pytest.mark.parametrize("tab, selectors", TABS, ids=[name for name, _ in TABS])
def test_tab_reads_well_and_is_photographed(page, summary, tab, selectors):
    page.get_by_role("tab", name=tab, exact=True).click()
    for selector in selectors:
        page.locator(selector).first.wait_for(state="visible", timeout=60_000)
    assert page.get_by_role("tab", name=tab, exact=True).get_attribute("aria-selected") == "true"
    page.wait_for_timeout(1000)  # the tab's on-open events settle
    badges = [b for b in page.locator(BADGE).all() if b.is_visible()]
    assert not badges, f"{tab}: {len(badges)} output(s) show an error badge"
    headers = page.evaluate(TABLE_HEADERS)
    assert not [h for h in headers if NUMBERED.match(h)], f"{tab}: a table shows stand-in headers: {headers}"
    assert page.evaluate(BROKEN_HEADERS) == [], f"{tab}: a table header is split inside a word"
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"tab-{re.sub(r'[^a-z]+', '-', tab.lower()).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real picture of a page, not a blank
    summary.paths.append(path)
    print(f"\nscreenshot: {path}")
