"""The Documents tab in the real app: gradio_client for every action, then a real Chromium."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from tests.e2e.app_process import REFUSED

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DEMO = sorted((ROOT / "assets" / "demo_docs").glob("*"))
SMOL = "embedded/smollm2-135m-instruct"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _create(client, name: str) -> int:
    picker, _ = client.predict(name, 400, 40, "chars", "all-MiniLM-L6-v2", 256, api_name="/rag_create")
    return picker["value"]


def test_upload_ask_history_and_bad_inputs_through_the_api(client, running_app, tmp_path):
    cid = _create(client, "API bakery")
    with pytest.raises(REFUSED, match="already exists"):
        _create(client, "API bakery")
    with pytest.raises(REFUSED, match="no indexed files"):
        client.predict(cid, "Anything?", SMOL, 3, 0.3, 0.0, 20, 0.0, "", api_name="/rag_ask")
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    preview = client.predict(
        cid, [handle_file(str(p)) for p in DEMO] + [handle_file(str(bad))], api_name="/rag_preview"
    )
    assert [row[0] for row in preview["data"]] == [p.name for p in DEMO] + ["empty.txt"]
    assert "empty" in preview["data"][-1][-1]
    result, table, _ = client.predict(
        cid, [handle_file(str(p)) for p in DEMO] + [handle_file(str(bad))], "skip", "", api_name="/rag_upload"
    )
    assert result.count("✅") == len(DEMO) and "❌ **empty.txt**" in result
    assert {row[3] for row in table["data"]} == {"ready"}
    again, _, _ = client.predict(cid, [handle_file(str(DEMO[0]))], "skip", "", api_name="/rag_upload")
    assert "Skipped" in again

    answer, figures, sources, without = client.predict(
        cid, "When does the bakery open on Saturdays?", SMOL, 3, 0.3, 0.0, 60, 0.0, "", api_name="/rag_ask"
    )
    assert (
        answer.strip() and "tokens/s" in figures and "[1] " in sources and "keyword" in sources and "vector" in sources
    )
    history = client.predict(cid, True, api_name="/rag_history")
    assert history["data"][0][3] == "When does the bakery open on Saturdays?"
    detail = client.predict(history["data"][0][0], api_name="/rag_history_detail")
    assert "Sources given to the model" in detail
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    assert db.execute("SELECT kind FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0] == "rag"
    db.close()

    # The Evaluate tab compares keyword weights on this collection (issue 14's default, for one's own files).
    questions = {
        "headers": ["question", "expected_file", "expected_page", "keep"],
        "data": [
            ["When does the bakery open on Saturdays?", "handbook.md", "", "yes"],
            ["How long do customers have to return an item?", "returns_policy.html", "", "yes"],
        ],
    }
    summary, grid, _ = client.predict(cid, questions, api_name="/rag_compare_weights")
    assert "Best here: keyword weight" in summary and "recall@5" in summary
    assert {row[0] for row in grid["data"]} == {"weighted", "rrf"} and len(grid["data"]) >= 6
    with pytest.raises(REFUSED, match="question"):
        client.predict(cid, {"headers": questions["headers"], "data": []}, api_name="/rag_compare_weights")


@pytest.mark.browser
def test_browser_upload_ask_and_see_cited_sources(running_app, client):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    _create(client, "Browser bakery")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(running_app.url, wait_until="load")
        page.get_by_role("tab", name="Documents").click()
        page.locator("#rag-collection input").click()
        page.get_by_role("option", name="Browser bakery (0 files)").click()
        page.locator("#rag-files input[type=file]").set_input_files([str(p) for p in DEMO])
        page.locator("#rag-upload").click()
        page.wait_for_function(
            "() => (document.querySelector('#rag-upload-result')?.innerText || '').includes('suppliers.csv — ')",
            timeout=120_000,
        )
        assert page.locator("#rag-upload-result").inner_text().count("Indexed") == len(DEMO)
        page.get_by_role("tab", name="Ask").click()
        page.locator("#rag-question textarea").fill("When does the bakery open on Saturdays?")
        page.locator("#rag-ask").click()
        page.locator("#rag-figures").get_by_text("tokens/s").wait_for(timeout=180_000)
        assert page.locator("#rag-answer").inner_text().strip()
        sources = page.locator("#rag-sources").inner_text()
        assert "[1] " in sources and "handbook.md" in sources and "vector" in sources
        page.screenshot(path="/tmp/playground-screenshots/documents-answer.png", full_page=True)
        browser.close()
