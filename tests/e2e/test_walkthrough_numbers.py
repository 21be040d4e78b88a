"""Walkthrough in headless Chromium: figures shown on one screen agree. A batch promises as
many answers as the run then counts, and the promise follows the Compare columns."""

import re

import pytest

from tests.e2e.test_browser import SCREENSHOTS, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def wait_for_text(page, selector: str, pattern: str, timeout: int = 30_000) -> str:
    """The element's visible text, once it matches the regular expression ``pattern``."""
    page.wait_for_function(
        "([sel, pat]) => new RegExp(pat).test(document.querySelector(sel)?.innerText || '')",
        arg=[selector, pattern],
        timeout=timeout,
    )
    return page.locator(selector).inner_text()


def open_batch(page) -> None:
    page.get_by_role("tab", name="Compare").click()
    page.locator("#compare-batch").get_by_text("Batch run over a table").click()


def test_the_batch_runs_as_many_answers_as_its_preview_promised(running_app):
    with open_page(running_app.url) as page:
        open_batch(page)
        page.locator("#compare-add-column").click()
        page.locator("#compare-col2").wait_for(state="visible", timeout=10_000)
        page.locator("#batch-demo").click()
        promised = wait_for_text(page, "#batch-preview-info", r"answers")
        assert "12 row(s) × 3 column(s) = 36 answers" in promised
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "compare-batch-numbers.png"), full_page=True)
        print(f"\nscreenshot: {SCREENSHOTS / 'compare-batch-numbers.png'}")

        page.locator("#batch-run").click()
        progress = wait_for_text(page, "#batch-progress", r"\d+/\d+ cells", timeout=60_000)
        # The count is what matters here, not the answers. A click event, not a pointer click:
        # while the grid fills, Playwright's wait for a "stable" button timed out on a loaded CI.
        page.locator("#batch-cancel").dispatch_event("click")
        assert re.search(r"\d+/(\d+) cells", progress).group(1) == "36"
        ended = wait_for_text(page, "#batch-progress", r"cancelled|finished", timeout=120_000)
        assert "/36 cells" in ended


def test_the_batch_preview_follows_columns_added_and_removed(running_app):
    with open_page(running_app.url) as page:
        open_batch(page)
        page.locator("#batch-demo").click()
        assert "12 row(s) × 2 column(s) = 24 answers" in wait_for_text(page, "#batch-preview-info", r"answers")
        page.locator("#compare-add-column").click()
        promised = wait_for_text(page, "#batch-preview-info", r"× 3 column\(s\)", timeout=10_000)
        assert "12 row(s) × 3 column(s) = 36 answers" in promised
        page.locator("#compare-remove-column").click()
        promised = wait_for_text(page, "#batch-preview-info", r"× 2 column\(s\)", timeout=10_000)
        assert "12 row(s) × 2 column(s) = 24 answers" in promised


def test_the_dataset_check_counts_the_rows_a_job_trains_on(running_app):
    with open_page(running_app.url) as page:
        page.get_by_role("tab", name="Fine-tune").click()
        page.locator("#ft-data-demo").click()
        wait_for_text(page, "#ft-data-detected", r"finetune_support_replies")
        name = page.locator("#ft-data-name").get_by_role("textbox")
        page.wait_for_function(
            "() => document.querySelector('#ft-data-name textarea, #ft-data-name input')?.value"
            " === 'finetune_support_replies'",
            timeout=30_000,
        )
        name.fill("Walkthrough numbers")
        page.locator("#ft-data-check").click()
        summary = wait_for_text(page, "#ft-data-summary", r"will be used for training", timeout=90_000)
        # 60 usable rows: 54 to learn from and 6 held out, as the job will later show.
        assert "54 of 60 rows will be used for training; 6 rows are held out" in summary
        assert summary.count("held out") == 1, summary
        page.screenshot(path=str(SCREENSHOTS / "finetune-dataset-numbers.png"), full_page=True)
        print(f"\nscreenshot: {SCREENSHOTS / 'finetune-dataset-numbers.png'}")
