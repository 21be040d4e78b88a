"""Walkthrough in headless Chromium, the polish items: a preset keeps the checked dataset's rows
whole, History offers every kind of run, empty tables show their real headers, and a chart with
nothing to plot says why in a sentence."""

import re

import pytest

from tests.e2e.test_browser import SCREENSHOTS, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
NUMBERED = re.compile(r"^\s*1\s+2\s+3\b")  # Gradio's stand-in headers for a table that has none


@pytest.fixture(scope="module")
def page(running_app):
    with open_page(running_app.url) as page:
        page.get_by_role("tab", name="Compare").wait_for(timeout=30_000)
        yield page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"polish-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")


def test_the_quick_test_preset_keeps_the_demo_rows_whole(page):
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#ft-data-demo").click()
    page.wait_for_timeout(1500)  # the demo file reaches the upload box
    page.locator("#ft-data-check").click()
    summary = page.locator("#ft-data-summary")
    summary.get_by_text("Token length").wait_for(timeout=240_000)
    longest = re.search(r"longest (\d+); cut-off (\d+)", summary.inner_text())
    assert longest, summary.inner_text()
    longest_row, cutoff = int(longest[1]), int(longest[2])
    note = page.locator("#ft-train-length-note")
    note.get_by_text("Every row fits").wait_for(timeout=30_000)  # the default preset's 256 holds them
    page.locator("#ft-train-preset label", has_text="Quick test").click()
    page.wait_for_function(
        "() => document.querySelector('#ft-train-length-note').innerText.includes('raised from 128')", timeout=30_000
    )
    text = note.inner_text()
    assert f"longest is {longest_row} tokens" in text and "no row is cut" in text, text
    page.get_by_text("Advanced settings").click()
    max_length = int(page.locator("#ft-train-max_length input").input_value())
    assert longest_row <= max_length <= cutoff and f"to {max_length} tokens" in text
    shot(page, "finetune-preset")


def test_history_offers_every_kind_of_run(page):
    page.get_by_role("tab", name="History").click()
    kinds = page.locator("#history-kinds")
    kinds.wait_for(timeout=20_000)
    shown = kinds.inner_text()
    for kind in ("judge", "arena", "rag", "compare", "batch"):
        assert re.search(rf"\b{kind}\b", shown), shown
    shot(page, "history-kinds")


def test_empty_judge_tables_show_their_real_headers(page):
    page.get_by_role("tab", name="Judge").click()
    expected = {
        "#judge-summary": ("model", "overall (0–3)", "unparsed"),
        "#judge-grid": ("input",),
        "#judge-items": ("answer", "correctness", "judge's reasons"),
        "#judge-verdicts": ("battle", "verdict"),
    }
    for selector, headers in expected.items():
        table = page.locator(selector)
        table.wait_for(timeout=20_000)
        cells = [t.strip() for t in table.locator("thead th").all_inner_texts() if t.strip()]
        seen = " ".join(cells)
        assert not NUMBERED.match(seen), (selector, seen)
        for header in headers:
            assert header in seen, (selector, header, seen)
    shot(page, "judge-empty")


def test_an_empty_cost_chart_says_why(page, client):
    dropdown, _info = client.predict(
        "polish no prices",
        "Say hello.\nName a fruit.",
        None,
        [SMOL, GEMMA],
        8,
        0.0,
        7,
        "",
        "",
        "redact",
        0.2,
        0,
        api_name="/arena_create",
    )
    page.reload(wait_until="load")
    page.get_by_role("tab", name="Arena").click()
    picker = page.locator("#arena-evaluation input")
    picker.wait_for(timeout=20_000)
    page.get_by_role("button", name="↻ Refresh list").first.click()
    page.wait_for_timeout(1000)
    picker.click()
    option = page.get_by_role("option").filter(has_text="polish no prices").first
    option.wait_for(timeout=10_000)
    option.click()
    page.get_by_role("tab", name="Leaderboard").click()
    page.locator("#arena-board-btn").click()
    page.locator(".annotation-text", has_text="No cost to show").wait_for(timeout=30_000)
    assert dropdown["value"]
    shot(page, "arena-empty-cost")
