"""Headless Chromium: add a connection in the Models tab, tick its models, add them, and run one
of them in Compare (the server is a local test server playing an OpenAI-compatible one)."""

import pytest

from tests.e2e.test_browser import SCREENSHOTS, open_page
from tests.service.connection_server import ANSWER, ConnectionServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def choose(page, selector: str, option: str) -> None:
    page.locator(f"{selector} input").click()
    page.get_by_role("option", name=option).click()


def test_add_a_connection_tick_its_models_and_run_one_in_compare(running_app):
    with ConnectionServer(["alpha", "beta"]) as server, open_page(running_app.url) as page:
        page.get_by_role("tab", name="Models").click()
        page.locator("#connections").get_by_text("Add a connection").click()
        choose(page, "#connection-preset", "vLLM")
        page.locator("#connection-help").get_by_text("VLLM_API_KEY").wait_for(timeout=30_000)
        assert page.locator("#connection-url textarea, #connection-url input").first.input_value() == (
            "http://localhost:8000/v1"
        )
        page.locator("#connection-name input, #connection-name textarea").first.fill("Cluster")
        page.locator("#connection-url input, #connection-url textarea").first.fill(server.base_url)
        page.locator("#connection-save").click()
        page.locator("#connection-status").get_by_text("Listed 2 models").wait_for(timeout=30_000)
        page.locator("#connection-models input[name=alpha]").check()
        page.locator("#connection-add").click()
        page.locator("#connection-models").get_by_text("✓ added").wait_for(timeout=30_000)
        page.wait_for_function(
            "() => document.querySelector('#models-table').innerText.includes('Cluster/alpha')", timeout=30_000
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "connections.png"), full_page=True)

        page.get_by_role("tab", name="Compare").click()
        choose(page, "#col0-model", "Cluster/alpha")
        page.locator("#compare-prompt textarea").fill("Say hello.")
        page.locator("#compare-send").click()
        page.get_by_text(ANSWER).first.wait_for(timeout=60_000)
        assert server.posts() and server.posts()[-1]["body"]["model"] == "alpha"
