"""Compare through gradio_client against the real app: two embedded models, follow-ups, templates."""

import sqlite3

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.e2e.app_process import REFUSED

pytestmark = pytest.mark.slow
SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
NO_VARIABLES = [""] * 8


def column(model, max_tokens=32, temperature=0.0, seed=1, system="", stop=""):
    return [model, system, temperature, 0.95, max_tokens, seed, stop]


def four_columns(*models):
    models = list(models) + [SMOL] * (4 - len(models))
    return [value for model in models for value in column(model)]


def answer_text(message) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


@pytest.fixture
def fresh_client(running_app):
    return Client(running_app.url, verbose=False)  # its own session: its own columns and history


def test_two_columns_stream_and_record_figures(fresh_client, running_app):
    job = fresh_client.submit(
        "What is the capital of France? Answer in one sentence.",
        "",
        *NO_VARIABLES,
        *four_columns(SMOL, GEMMA),
        api_name="/compare_run",
    )
    updates = list(job)
    final = job.result()
    chats, figures = final[:4], final[4:8]
    assert len(updates) > 2  # it streamed
    assert "Paris" in answer_text(chats[0][-1]) and answer_text(chats[1][-1]).strip()
    for fig in figures[:2]:
        assert (
            "first token" in fig and "tokens/s" in fig and "completion tokens" in fig and "local: $0, by choice" in fig
        )
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    rows = db.execute(
        "SELECT g.position, g.model_name, g.status, g.prompt_tokens, g.completion_tokens, g.ttft_s FROM generations g "
        "JOIN runs r ON r.id = g.run_id WHERE r.id = (SELECT MAX(id) FROM runs WHERE kind = 'compare') ORDER BY g.position"
    ).fetchall()
    db.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [(0, "SmolLM2 135M Instruct", "ok"), (1, "Gemma 3 270M (base)", "ok")]
    assert all(r[3] > 0 and r[4] > 0 and r[5] > 0 for r in rows)


def test_follow_up_keeps_each_columns_history(fresh_client):
    fresh_client.predict(
        "My favourite colour is green.", "", *NO_VARIABLES, *four_columns(SMOL, SMOL), api_name="/compare_run"
    )
    chats = fresh_client.predict(
        "What did I just tell you?", "", *NO_VARIABLES, *four_columns(SMOL, SMOL), api_name="/compare_run"
    )[:2]
    for chat in chats:
        assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
        assert answer_text(chat[0]) == "My favourite colour is green."
    fresh_client.predict(api_name="/compare_new")
    chat = fresh_client.predict("Hello", "", *NO_VARIABLES, *four_columns(SMOL, SMOL), api_name="/compare_run")[0]
    assert len(chat) == 2


def test_template_variables_and_plain_errors(fresh_client):
    with pytest.raises(REFUSED, match="Fill in the template variable"):
        fresh_client.predict(
            "Describe {{product}} in one line.", "", *NO_VARIABLES, *four_columns(SMOL), api_name="/compare_run"
        )
    with pytest.raises(REFUSED, match="Type a prompt first"):
        fresh_client.predict("  ", "", *NO_VARIABLES, *four_columns(SMOL), api_name="/compare_run")
    _, info = fresh_client.predict(
        "e2e template", "Describe {{product}} in one line.", api_name="/compare_save_template"
    )
    assert "version 1" in info
    chats = fresh_client.predict(
        "Describe {{product}} in one line.",
        "e2e template",
        "a teapot",
        *([""] * 7),
        *four_columns(SMOL),
        api_name="/compare_run",
    )
    assert answer_text(chats[0][0]) == "Describe a teapot in one line."
    # An event with one input is refused too (its validator's result was once ignored).
    with pytest.raises(REFUSED, match="Pick a template to load"):
        fresh_client.predict(None, api_name="/compare_load_template")


def test_unknown_model_is_a_plain_error(fresh_client):
    with pytest.raises(REFUSED, match="no longer available"):
        fresh_client.predict("Hi", "", *NO_VARIABLES, *four_columns("entry/424242"), api_name="/compare_run")
