"""Walkthrough in headless Chromium: pressing "Start training" shows the job at once, in its real
state, and the Job dropdown's label follows that state.

A fresh data folder, so the worker converts the GGUF base first (the 20-45 s that used to pass
with "No job yet" on screen). The job must be on screen, "preparing" and naming the conversion,
within 2 s of the click; Stop ends it during that preparation; Resume then trains it, and the
dropdown reads preparing → running → done along with the status heading.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest

from tests.e2e.app_process import start_app
from tests.e2e.test_browser import SCREENSHOTS, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]
JOB = "walkthrough start"
ROWS = 12  # 9 to train on, 3 held out: 3 steps of 4 examples with the Quick test preset
STATE = "#ft-job-status"
LABEL = "#ft-job-pick input"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    home = tmp_path_factory.mktemp("ft-start") / "home"  # no converted base: the worker converts it
    running = start_app(home)
    yield running
    running.stop()
    _kill_workers(home / "playground.db")  # a test that failed half-way must not leave training running


def _kill_workers(database) -> None:
    if not database.exists():
        return
    with sqlite3.connect(database) as db:
        pids = [row[0] for row in db.execute("SELECT pid FROM finetune_jobs WHERE pid IS NOT NULL")]
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("ft-start-data") / "zorp_start.csv"
    rows = "".join(f"Tell me fact number {i}.,ZORP ZORP! Fact number {i}. ZORP!\n" for i in range(ROWS))
    path.write_text("instruction,output\n" + rows)
    return path


def _value_is(page, selector: str, expected: str, timeout: int = 30_000) -> None:
    page.wait_for_function(
        "([sel, want]) => document.querySelector(sel)?.value === want",
        arg=[selector, expected],
        timeout=timeout,
    )


def wait_for_state(page, word: str, timeout: int) -> str:
    """The status heading once it reads ``word`` (e.g. "running"), as a person sees it."""
    page.wait_for_function(
        "([sel, job, word]) => (document.querySelector(sel)?.innerText || '').includes(job + ' — ' + word)",
        arg=[STATE, JOB, word],
        timeout=timeout,
    )
    return page.locator(STATE).inner_text()


def wait_for_label(page, word: str, timeout: int = 5_000) -> str:
    """The Job dropdown's label once it reads ``word``: one poll (2 s) at most after the heading."""
    page.wait_for_function(
        "([sel, job, word]) => new RegExp(job + ' — \\\\S+ ' + word + '$').test(document.querySelector(sel)?.value || '')",
        arg=[LABEL, JOB, word],
        timeout=timeout,
    )
    return page.locator(LABEL).input_value()


def _fill_the_form(page, csv_path) -> None:
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#ft-data-file input[type=file]").set_input_files(str(csv_path))
    _value_is(page, "#ft-data-name textarea, #ft-data-name input", "zorp_start")
    page.locator("#ft-data-check").click()
    page.wait_for_function(
        "() => (document.querySelector('#ft-data-summary')?.innerText || '').includes('will be used for training')",
        timeout=180_000,
    )
    # Saving the dataset names the job after it and the default preset; then pick the preset.
    _value_is(page, "#ft-train-name textarea, #ft-train-name input", "zorp_start – Recommended")
    page.locator("#ft-train-preset").get_by_text("Quick test", exact=True).click()
    _value_is(page, "#ft-train-name textarea, #ft-train-name input", "zorp_start – Quick test")
    page.locator("#ft-train-name").get_by_role("textbox").fill(JOB)
    page.locator("#ft-train-advanced").get_by_text("Advanced settings").click()
    eval_every = page.locator("#ft-train-eval_every input")
    eval_every.fill("100")  # holdout loss and samples once, at the end: the run stays short
    eval_every.press("Tab")


@pytest.fixture(scope="module")
def page(app, tmp_path_factory):
    with open_page(app.url) as page:
        _fill_the_form(page, _dataset(tmp_path_factory))
        yield page


def test_start_shows_the_job_preparing_at_once_and_stop_ends_the_preparation(page):
    assert "No job yet" in page.locator(STATE).inner_text()
    clicked = time.monotonic()
    page.locator("#ft-train-start").click()
    page.wait_for_function(
        "([sel, job]) => (document.querySelector(sel)?.innerText || '').includes(job)",
        arg=[STATE, JOB],
        timeout=30_000,
    )
    shown_after = time.monotonic() - clicked
    status = page.locator(STATE).inner_text()
    print(f"\nthe job was on screen {shown_after:.2f} s after Start: {status.splitlines()[0]}")
    assert shown_after < 2.0, status
    assert f"{JOB} — preparing" in status and "Preparing: converting the base model" in status, status
    assert "No job yet" not in status
    wait_for_label(page, "preparing", timeout=1_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "finetune-start-preparing.png"), full_page=True)
    print(f"screenshot: {SCREENSHOTS / 'finetune-start-preparing.png'}")

    # Stop works while the base is still being converted (20-45 s): no training step is lost.
    page.locator("#ft-job-stop").click()
    stopped = wait_for_state(page, "stopped", timeout=30_000)
    assert "Stopped while preparing" in stopped, stopped
    wait_for_label(page, "stopped")


def test_after_resume_the_label_follows_the_job_from_preparing_to_running_to_done(page):
    page.locator("#ft-job-resume").click()
    wait_for_state(page, "preparing", timeout=10_000)
    wait_for_label(page, "preparing")

    running = wait_for_state(page, "running", timeout=420_000)  # converting + loading on shared cores
    assert "Training: step" in running, running
    wait_for_label(page, "running")

    done = wait_for_state(page, "done", timeout=450_000)
    assert "is now in every model picker" in done, done
    wait_for_label(page, "done")
    page.locator("#ft-job-events-box").get_by_text("Events").click()
    events = page.locator("#ft-job-events").inner_text()
    assert "Converted the base model in" in events and "Stopped while preparing" in events
    page.screenshot(path=str(SCREENSHOTS / "finetune-start-done.png"), full_page=True)
    print(f"screenshot: {SCREENSHOTS / 'finetune-start-done.png'}")
