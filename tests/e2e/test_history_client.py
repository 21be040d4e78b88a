"""History through gradio_client against the real app: a saved run is found, read, re-opens
in Compare, runs again, exports and is deleted."""

import json

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.e2e.app_process import REFUSED

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"
PROMPT = "History check: name one fruit."
NO_VARIABLES = [""] * 8
NO_FILTERS = ("", "", "", "", [])  # model, template, from, to, kinds


def column(model, max_tokens=12):
    return [model, "", 0.0, 0.95, max_tokens, 1, ""]


def chats_in(outputs) -> list[list[dict]]:
    return [o for o in outputs if isinstance(o, list) and o and isinstance(o[0], dict) and "role" in o[0]]


def answer_text(message) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def search_ids(client, text) -> list[int]:
    table, found, _, _ = client.predict(text, *NO_FILTERS, api_name="/history_search")
    return [row[0] for row in table["data"]]


@pytest.fixture
def fresh_client(running_app):
    return Client(running_app.url, verbose=False)  # its own session: its own Compare columns


def test_a_saved_run_reopens_from_history(fresh_client, running_app):
    ran = fresh_client.predict(PROMPT, "", *NO_VARIABLES, *(column(SMOL) * 4), api_name="/compare_run")
    answers = [answer_text(chat[-1]) for chat in chats_in(ran)]
    assert len(answers) == 2 and all(a.strip() for a in answers)

    table, found, models, _ = fresh_client.predict("history check", *NO_FILTERS, api_name="/history_search")
    row = table["data"][0]
    run_id = row[0]
    assert len(table["data"]) == 1 and "1 run(s) found" in found
    assert row[2:5] == ["compare", PROMPT, "SmolLM2 135M Instruct"] and row[6:] == [2, 0, "local: $0, by choice"]
    assert SMOL in [key for _, key in models["choices"]]
    assert search_ids(fresh_client, "no run says this xyzzy") == []

    detail = fresh_client.predict(run_id, api_name="/history_detail")
    assert PROMPT in detail and answers[0] in detail and "max tokens 12" in detail and "local: $0, by choice" in detail

    reopened = Client(running_app.url, verbose=False).predict(
        run_id, api_name="/history_reopen"
    )  # a new browser session
    assert reopened[0] == PROMPT
    chats = chats_in(reopened)
    assert [[answer_text(m) for m in chat] for chat in chats[:2]] == [[PROMPT, answers[0]], [PROMPT, answers[1]]]

    new_id, new_detail = fresh_client.predict(run_id, api_name="/history_rerun")
    assert new_id != run_id and f"Run {new_id}" in new_detail and PROMPT in new_detail
    assert search_ids(fresh_client, "history check") == [new_id, run_id]

    exported = fresh_client.predict("jsonl", "history check", *NO_FILTERS, api_name="/history_export")
    records = [json.loads(line) for line in open(exported, encoding="utf-8")]
    assert sorted({r["run_id"] for r in records}) == sorted([run_id, new_id]) and len(records) == 4
    assert all(r["cost_usd"] == 0.0 and r["model_name"] == "SmolLM2 135M Instruct" for r in records)

    for ident in (new_id, run_id):
        fresh_client.predict(ident, "history check", *NO_FILTERS, api_name="/history_delete")
    assert search_ids(fresh_client, "history check") == []
    with pytest.raises(REFUSED, match="does not exist"):  # refused by the event's validator
        fresh_client.predict(run_id, api_name="/history_detail")


def test_bad_input_gets_plain_messages(fresh_client):
    with pytest.raises(AppError, match="YYYY-MM-DD"):
        fresh_client.predict("", "", "", "31/12/2025", "", [], api_name="/history_search")
    # One-input events: their validators' refusals reach the caller (they were once ignored).
    with pytest.raises(REFUSED, match="Pick a run first"):
        fresh_client.predict(None, api_name="/history_detail")
    with pytest.raises(REFUSED, match="does not exist"):
        fresh_client.predict(987654, api_name="/history_reopen")
