"""A workshop room: the app started with --arena-only, one shared link, 50 raters voting at
once through gradio_client, and a rater in a real headless Chromium who stays blind after a vote
(the default reveal policy shows the names after the rater's last battle)."""

from __future__ import annotations

import random
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from playground.arena.prompts import from_texts
from playground.models.types import GenerationParams
from playground.services import Services
from playground.settings import Settings
from tests.e2e.app_process import start_app
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
NAMES = ("SmolLM2", "Gemma 3", SMOL, GEMMA)
RATERS, VOTES_EACH = 50, 20


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """The facilitator prepared 21 prompts × both models beforehand; then the room opens."""
    home = tmp_path_factory.mktemp("room") / "home"
    services = Services.create(Settings.from_env(home))
    try:
        prompts = from_texts([f"Give one word that rhymes with number {i}." for i in range(21)])
        info = services.arena.create_evaluation(
            "room",
            prompts,
            [SMOL, GEMMA],
            GenerationParams(max_tokens=4, temperature=0.0, seed=1),
            repeat_fraction=0.1,
            seed=9,
        )
        services.arena.start_generation(info.id)
        services.arena.jobs.wait(info.id, timeout=300)
        assert services.arena.pregen_status(info.id).servable == 23  # 21 battles + 2 repeats
    finally:
        services.close()
    app = start_app(home, "--arena-only")
    yield app, info.join_code
    app.stop()


def test_arena_only_page_has_no_other_tabs_and_no_model_names(room):
    app, _ = room
    config = httpx.get(app.url + "config", timeout=10).text
    for name in NAMES:
        assert name.lower() not in config.lower()
    assert '"Compare"' not in config and '"Models"' not in config and "arena_create" not in config


def test_fifty_raters_vote_twenty_times_each_in_parallel(room):
    app, code = room
    errors: list[str] = []
    start = threading.Barrier(RATERS)

    def rater(i: int) -> int:
        # gradio_client's default 5 s per request is about speed; this test is about nothing lost or
        # doubled, on a shared 2-core machine where 50 clients starting at once can take longer.
        client = Client(app.url, verbose=False, httpx_kwargs={"timeout": 120})
        rng = random.Random(i)
        start.wait(timeout=120)
        battle = client.predict(f"rater-{i:02d}", code, api_name="/arena_join")
        cast = 0
        for _ in range(VOTES_EACH):
            assert "battle" in battle[0], battle[0]
            for name in NAMES:
                assert name.lower() not in str(battle).lower()
            choice = rng.choice(["a", "b", "tie", "bothbad"])
            client.predict(rng.choice(["Yes", "No", None]), None, [], "", api_name=f"/arena_vote_{choice}")
            cast += 1
            battle = client.predict(api_name="/arena_next")
        return cast

    def guarded(i: int) -> int:
        try:
            return rater(i)
        except Exception as err:  # noqa: BLE001 - collected and reported below
            errors.append(f"rater {i}: {type(err).__name__}: {err}")
            return 0

    with ThreadPoolExecutor(RATERS) as pool:
        cast = list(pool.map(guarded, range(RATERS)))
    assert errors == []
    assert sum(cast) == RATERS * VOTES_EACH
    db = sqlite3.connect(app.data_dir / "playground.db")
    assert db.execute("SELECT COUNT(*) FROM arena_votes").fetchone() == (1000,)
    per_rater = db.execute("SELECT COUNT(*) FROM arena_votes GROUP BY rater_id").fetchall()
    assert len(per_rater) == RATERS and {n for (n,) in per_rater} == {VOTES_EACH}
    assert db.execute(
        "SELECT COUNT(*) FROM (SELECT battle_id, rater_id FROM arena_votes GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone() == (0,)
    db.close()
    assert "database is locked" not in app.log_tail(200_000)
    assert "database is locked" not in (app.data_dir / "logs" / "playground.log").read_text()


@pytest.mark.browser
def test_a_rater_votes_in_chromium_and_stays_blind_until_the_last_battle(room):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    app, code = room
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"{app.url}?code={code.lower()}", wait_until="load")
            page.wait_for_function(
                f"() => document.querySelector('#arena-code textarea, #arena-code input')?.value === '{code}'",
                timeout=30_000,
            )
            page.locator("#arena-name textarea, #arena-name input").first.fill("Browser rater")
            page.locator("#arena-join-btn").click()
            page.get_by_text("battle 1 of").wait_for(timeout=30_000)
            before = page.content().lower()
            for name in NAMES:
                assert name.lower() not in before
            assert page.locator("#arena-answer-a textarea").input_value() != ""
            page.locator("#arena-vote-b").click()
            # The default reveal policy: the names come after the rater's last battle, not now.
            page.locator("#arena-reveal").get_by_text("Voted: B is better").wait_for(timeout=30_000)
            assert "after your last battle" in page.locator("#arena-reveal").inner_text()
            after = page.content().lower()
            for name in NAMES:
                assert name.lower() not in after
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "arena-voted-blind.png"), full_page=True)
            page.locator("#arena-next").click()
            page.get_by_text("battle 2 of").wait_for(timeout=30_000)
        finally:
            browser.close()
    db = sqlite3.connect(app.data_dir / "playground.db")
    assert db.execute(
        "SELECT v.winner FROM arena_votes v JOIN arena_raters r ON r.id = v.rater_id WHERE r.name = 'Browser rater'"
    ).fetchall() == [("b",)]
    db.close()
