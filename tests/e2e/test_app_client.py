"""The real app, launched by launcher.py and driven through gradio_client."""

import sqlite3
import subprocess
import sys

import pytest
from gradio_client.exceptions import AppError

from tests.e2e.app_process import REFUSED, ROOT, start_app

pytestmark = pytest.mark.slow
SMOL = "embedded/smollm2-135m-instruct"


def table_names(table) -> list[str]:
    return [row[0] for row in table["data"]]


def test_lists_both_embedded_models(client, running_app):
    table, picker = client.predict(SMOL, api_name="/models_list")
    names = table_names(table)
    assert "SmolLM2 135M Instruct" in names and "Gemma 3 270M (base)" in names
    assert running_app.startup_s < 60  # a hang guard, not a timing; the note reports the figure


def test_try_box_answers_and_is_recorded(client, running_app):
    answer, figures = client.predict(
        SMOL, "What is the capital of France? Answer in one sentence.", 40, 0.0, 7, api_name="/model_try"
    )
    assert "Paris" in answer
    for part in ("first token", "tokens/s", "prompt +", "completion tokens", "local: $0, by choice"):
        assert part in figures
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    row = db.execute(
        "SELECT g.output, g.status, g.prompt_tokens, g.completion_tokens, g.ttft_s, g.cost_usd, r.kind "
        "FROM generations g JOIN runs r ON r.id = g.run_id ORDER BY g.id DESC LIMIT 1"
    ).fetchone()
    db.close()
    output, status, prompt_tokens, completion_tokens, ttft, cost, kind = row
    assert output == answer and status == "ok" and kind == "try"
    assert prompt_tokens > 0 and completion_tokens > 0 and ttft > 0
    assert cost == 0.0  # a local model: $0 by choice (issue 15)


def test_base_model_is_explained(client):
    details = client.predict("embedded/gemma3-270m", api_name="/model_details")
    assert "Base model" in details and "plain text" in details


def test_empty_prompt_is_refused_plainly(client):
    with pytest.raises(REFUSED, match="Type a prompt first"):
        client.predict(SMOL, "   ", 20, 0.7, -1, api_name="/model_try")


def test_bad_gguf_paths_are_refused_plainly(client, tmp_path):
    with pytest.raises(REFUSED, match="Nothing exists at"):
        client.predict(str(tmp_path / "missing.gguf"), "", "llama_cpp", api_name="/model_add_gguf")
    text_file = tmp_path / "notes.gguf"
    text_file.write_text("not a model")
    with pytest.raises(REFUSED, match="not a GGUF model file"):
        client.predict(str(text_file), "", "llama_cpp", api_name="/model_add_gguf")


def test_hf_folder_without_weights_is_refused(client, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(REFUSED, match="no model weights"):
        client.predict(str(tmp_path), "", "", api_name="/model_add_hf")


def test_refused_endpoint_is_explained(client):
    from tests.e2e.app_process import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(REFUSED, match="nothing is listening"):
        client.predict(url, "some-model", "", "", api_name="/model_test_endpoint")


def test_add_try_and_remove_a_gguf(client, running_app):
    from playground.models.embedded import smollm2_path

    table, picker = client.predict(str(smollm2_path()), "My SmolLM copy", "llama_cpp", api_name="/model_add_gguf")
    assert "My SmolLM copy" in table_names(table)
    with pytest.raises(REFUSED, match="already in the list"):
        client.predict(str(smollm2_path()), "Another copy", "llama_cpp", api_name="/model_add_gguf")
    db = sqlite3.connect(running_app.data_dir / "playground.db")
    entry_id = db.execute("SELECT id FROM model_entries WHERE name = 'My SmolLM copy'").fetchone()[0]
    db.close()
    answer, figures = client.predict(f"entry/{entry_id}", "Say hello.", 8, 0.0, 1, api_name="/model_try")
    assert answer.strip() and "tokens/s" in figures
    table, _ = client.predict(f"entry/{entry_id}", api_name="/model_remove")
    assert "My SmolLM copy" not in table_names(table)
    with pytest.raises(REFUSED, match="built in and cannot be removed"):
        client.predict(SMOL, api_name="/model_remove")


def test_corrupt_database_stops_startup_with_a_clear_message(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db_file = home / "playground.db"
    garbage = b"this is not a database at all" * 100
    db_file.write_bytes(garbage)
    result = subprocess.run(
        [sys.executable, str(ROOT / "launcher.py"), "--no-browser", "--data-dir", str(home), "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert str(db_file) in result.stderr and "not a valid SQLite database" in result.stderr
    assert db_file.read_bytes() == garbage  # untouched: no silent re-creation


def test_auth_flag_requires_login(tmp_path):
    app = start_app(tmp_path / "home", "--auth", "ana:secret1")
    try:
        from gradio_client import Client

        with pytest.raises(Exception):  # noqa: B017 - gradio_client has no error type of its own for a refused login
            Client(app.url, verbose=False).predict(SMOL, api_name="/models_list")
        authed = Client(app.url, auth=("ana", "secret1"), verbose=False)
        table, _ = authed.predict(SMOL, api_name="/models_list")
        assert "SmolLM2 135M Instruct" in table_names(table)
    finally:
        app.stop()
