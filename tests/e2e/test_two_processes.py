"""Two real app processes (launcher.py) on one data folder and one SQLite file, as a room runs
the full app for the facilitator beside a second process: an upload in one survives the
other's start-up and becomes searchable there without a restart; a fine-tune started in one
is not marked failed by the other's start-up or its polling, and finishes.

Leases are 3 s here (heartbeats every 0.75 s), so a process that wrongly trusted only its own
memory, or a heartbeat that did not run, would show within the test."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from tests.e2e.app_process import RunningApp, start_app
from tests.integration.models_fixtures import TEST_CACHE, model_cache

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"
ENV = {"PLAYGROUND_LEASE_SECONDS": "3"}
# name, preset, r, alpha, dropout, target, epochs, learning rate, batch, accumulation, max length, eval every, 4-bit
FORM = ["zorp shared", "Quick test", 8, 8, 0.05, "all_linear", 1.0, 3e-3, 4, 1, 128, 5, False]


@pytest.fixture(scope="module")
def home(tmp_path_factory, model_cache):
    home = tmp_path_factory.mktemp("two-processes") / "home"
    (home / "cache").mkdir(parents=True)
    TEST_CACHE.joinpath("converted").mkdir(parents=True, exist_ok=True)
    (home / "cache" / "converted").symlink_to(TEST_CACHE / "converted")  # reuse the converted SmolLM2
    return home


@pytest.fixture(scope="module")
def collection_id(home) -> int:
    """Made before the apps start, so it is among the collection picker's choices from the first page."""
    from storage import create_engine_for, make_session_factory, migrate, unit_of_work_factory

    engine = create_engine_for(f"sqlite:///{home / 'playground.db'}")
    try:
        migrate(engine)
        with unit_of_work_factory(make_session_factory(engine))() as uow:
            return uow.rag_collections.add(
                name="Shared",
                chunk_size=100,
                chunk_overlap=0,
                chunk_unit="chars",
                embed_model="all-MiniLM-L6-v2",
                embed_max_tokens=256,
            ).id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def first(home, collection_id):
    app = start_app(home, env=ENV, timeout_s=300)
    yield app
    app.stop()


def rows(home: Path, query: str, *params) -> list[tuple]:
    with sqlite3.connect(f"file:{home / 'playground.db'}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(query, params).fetchall()


def wait_until(predicate, timeout_s: float, what: str, poll_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out waiting for {what}")


def sources_of(client: Client, collection_id: int, question: str) -> str:
    _, _, sources, _ = client.predict(collection_id, question, SMOL, 3, 0.0, 0.0, 16, 0.0, "", api_name="/rag_ask")
    return str(sources)


def log_text(home: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted((home / "logs").glob("playground.log*")))


def test_an_upload_survives_the_other_process_starting_and_is_searchable_there(
    first: RunningApp, home, collection_id, tmp_path
):
    a = Client(first.url, verbose=False)
    big = tmp_path / "inventory.md"
    big.write_text(
        "\n\n".join(
            f"Paragraph {i}: the quarterly inventory counted {i} flour sacks in store {i % 7}." for i in range(2500)
        )
    )
    upload = a.submit(collection_id, [handle_file(str(big))], "skip", "", api_name="/rag_upload")
    indexing = "SELECT count(*) FROM rag_documents WHERE status = 'indexing'"
    wait_until(lambda: rows(home, indexing)[0][0] == 1, 120, "the upload to begin indexing")
    second = start_app(home, env=ENV, timeout_s=300)  # its start-up clean-up runs while the upload is indexing
    try:
        outcome = upload.result(timeout=300)
        assert "Indexed" in str(outcome[0]), outcome[0]
        # The second process's start-up saw the file being indexed and left it alone.
        assert "Kept 1 document(s) another upload is still indexing" in log_text(home), (
            "the upload finished before the second process's start-up clean-up ran: make the file larger"
        )
        assert "Removed 1 half-indexed" not in log_text(home)
        assert rows(home, "SELECT filename, status FROM rag_documents") == [("inventory.md", "ready")]

        b = Client(second.url, verbose=False)
        assert "inventory.md" in sources_of(b, collection_id, "How many flour sacks did the inventory count?")
        note = tmp_path / "lighthouse.md"
        note.write_text("The lighthouse keeper polishes the brass lamp every Tuesday at dusk.")
        a.predict(collection_id, [handle_file(str(note))], "skip", "", api_name="/rag_upload")
        # The second process's index was loaded before this upload: it refreshes on its next query.
        assert "lighthouse.md" in sources_of(b, collection_id, "Who polishes the brass lamp in the lighthouse?")
    finally:
        second.stop()


def test_a_fine_tune_started_in_one_is_not_failed_by_the_other(first: RunningApp, home, tmp_path):
    a = Client(first.url, verbose=False)
    data = tmp_path / "zorp.csv"
    facts = [f"fact number {i}" for i in range(20)]
    data.write_text("instruction,output\n" + "".join(f"Tell me {f}.,ZORP ZORP! {f}. ZORP!\n" for f in facts))
    *_, saved = a.predict(
        handle_file(str(data)), "zorp", "alpaca", "", "", "", "", "", SMOL, "alpaca", 128, api_name="/ft_data_check"
    )
    outputs = a.predict(saved["value"], SMOL, "alpaca", *FORM, api_name="/ft_start")
    job_id = outputs[0]["value"]
    assert job_id, outputs
    second = start_app(home, env=ENV, timeout_s=300)  # its start-up reconciles the jobs while this one starts or runs
    try:
        b = Client(second.url, verbose=False)

        def finished() -> str | None:
            b.predict(job_id, api_name="/ft_job_poll")  # the other process's polling reconciles too
            status = rows(home, "SELECT status FROM finetune_jobs WHERE id = ?", job_id)[0][0]
            return status if status in ("done", "failed", "stopped", "created") else None

        assert wait_until(finished, 900, "the fine-tune to finish", poll_s=1.0) == "done"
    finally:
        second.stop()
    events = [text for (text,) in rows(home, "SELECT text FROM finetune_events WHERE job_id = ?", job_id)]
    assert not any("stopped unexpectedly" in text for text in events), events
    assert rows(home, "SELECT count(*) FROM work_leases WHERE kind = 'finetune'")[0][0] == 0  # released at the end
