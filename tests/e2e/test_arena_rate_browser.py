"""A rater in a real headless Chromium at /rate: no admin tab on the page, votes to the end and
sees the summary with the names; a reload mid-battle brings the same battle back; joining with
no name is refused next to the name box, with no output marked "Error" (issue 13 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.arena_doors import serve_room
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TEXTAREA = "#arena-answer-a textarea"
BADGE = "span.error"  # Gradio's status tracker marks each output of a failed event with one of these


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    with serve_room(tmp_path_factory.mktemp("browser-doors") / "home") as room:
        yield room


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def open_rate_page(browser, room):
    page = browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
    page.goto(f"{room.rate_url}?code={room.code.lower()}", wait_until="load")
    page.wait_for_function(
        f"() => document.querySelector('#arena-code textarea, #arena-code input')?.value === '{room.code}'",
        timeout=30_000,
    )
    return page


def join(page, name: str) -> None:
    page.locator("#arena-name textarea, #arena-name input").first.fill(name)
    page.locator("#arena-join-btn").click()
    page.get_by_text("battle 1 of").wait_for(timeout=30_000)


def status(page) -> str:
    return page.locator("#arena-status").inner_text()


def test_the_rater_page_has_no_admin_tab_and_votes_to_the_summary(browser, room):
    page = open_rate_page(browser, room)
    for tab in ("Compare", "Models", "Documents", "Arena", "Room"):
        assert page.get_by_role("tab", name=tab).count() == 0, tab
    join(page, "Browser rater")
    total = int(status(page).rsplit(" of ", 1)[1].split()[0])
    for number in range(1, total + 1):
        page.get_by_text(f"battle {number} of").wait_for(timeout=30_000)
        text = page.content().lower()
        for label in room.labels:
            assert label.lower() not in text, f"{label} shown before the last vote"
        page.locator("#arena-vote-a" if number % 2 else "#arena-vote-b").click()
        if number < total:
            page.locator("#arena-reveal h3").get_by_text("Voted:").wait_for(timeout=30_000)
            page.locator("#arena-next").click()
    summary = page.locator("#arena-summary")
    summary.get_by_text("Your votes").wait_for(timeout=30_000)
    shown = summary.inner_text()
    assert all(label in shown for label in room.labels)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "arena-rate-summary.png"), full_page=True)


def test_a_reload_mid_battle_shows_the_same_battle(browser, room):
    page = open_rate_page(browser, room)
    join(page, "Reloader")
    page.locator("#arena-vote-tie").click()
    page.locator("#arena-reveal h3").get_by_text("Voted:").wait_for(timeout=30_000)
    page.locator("#arena-next").click()
    page.get_by_text("battle 2 of").wait_for(timeout=30_000)
    before = (page.locator("#arena-prompt").inner_text(), page.locator(TEXTAREA).input_value())
    page.reload(wait_until="load")
    page.get_by_text("battle 2 of").wait_for(timeout=30_000)
    after = (page.locator("#arena-prompt").inner_text(), page.locator(TEXTAREA).input_value())
    assert after == before
    assert "Reloader" in status(page)


def test_joining_with_no_name_is_refused_next_to_the_name_box(browser, room):
    page = open_rate_page(browser, room)
    before = status(page)
    page.locator("#arena-name textarea, #arena-name input").first.fill("   ")
    page.locator("#arena-join-btn").click()
    page.locator("#arena-name .validation-error", has_text="Type your name").wait_for(timeout=20_000)
    page.wait_for_timeout(500)  # a failed event would have painted its badges by now
    badges = [b for b in page.locator(BADGE).all() if b.is_visible()]
    assert not badges, [b.inner_text() for b in badges]
    assert status(page) == before and page.locator(TEXTAREA).input_value() == ""  # nothing else changed
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "refusal-arena-no-name.png"), full_page=True)
    join(page, "Named at last")  # a name then joins as usual
