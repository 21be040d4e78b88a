"""Issue 12, caps and start-up checks, tried as a hostile participant would.

- Over-cap ``max_tokens`` through the app's API (Models try, compare_run, a History re-run of a
  run saved with more) and through stored configurations (a live Arena evaluation): nothing
  generates more than ``PLAYGROUND_MAX_TOKENS``.
- A flood of live Arena asks from one rater is refused past the limits while another rater
  is still served.
- A full queue turns a request away with a plain "busy, try again", and generation events of
  different tabs share one concurrency limit.
- Binding 0.0.0.0 without a login prints a loud warning (stderr and the log); a password from
  ``--auth-file`` or ``PLAYGROUND_AUTH`` works for login and shows up nowhere.

The in-process apps run the real ``build_app`` + ``configure_queue`` on the fake backend (so a
slow, long answer is cheap); the slow tests start the real launcher in a subprocess, one of them
answering with the embedded SmolLM2.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, ValidationError
from gradio_client.utils import QueueError, Status

from components.app import build_app, configure_queue
from playground.compare.columns import ColumnConfig
from playground.models.fake import fake_backends
from playground.models.types import GenerationParams, ModelSpec
from playground.services import Services
from playground.settings import Settings, SettingsOverrides
from tests.e2e.app_process import free_port, start_app

SMOL, GEMMA = "embedded/smollm2-135m-instruct", "embedded/gemma3-270m"
NO_VARIABLES = [""] * 8
WORDS = 400
START_S = 240  # seconds the launcher may take to answer in the start-up tests


def long_answer(spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> str:
    """Far more words than any cap here: the length of an answer is set by max_tokens alone."""
    return " ".join(f"w{n}" for n in range(WORDS))


@contextmanager
def serve(home: Path, chunk_delay_s: float = 0.0, **overrides) -> Iterator[tuple[Services, str]]:
    """The real app (every tab, the real queue set-up) in this process, on the fake backend."""
    changes: SettingsOverrides = overrides  # type: ignore[assignment]
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}").with_overrides(**changes)
    services = Services.create(settings, backends=fake_backends(long_answer, chunk_delay_s=chunk_delay_s))
    demo = configure_queue(build_app(services), settings)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=True)
    try:
        yield services, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        services.close()


def rows(services: Services, sql: str, *args) -> list[tuple]:
    db = sqlite3.connect(services.settings.database_url.removeprefix("sqlite:///"))
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def generations(services: Services) -> list[tuple]:
    return rows(services, "SELECT id, completion_tokens, params, output FROM generations ORDER BY id")


def column(model: str, max_tokens: int) -> list:
    return [model, "", 0.0, 0.95, max_tokens, 1, ""]


def columns(max_tokens: int) -> list:
    return [v for model in (SMOL, GEMMA, SMOL, SMOL) for v in column(model, max_tokens)]


def wait_for(check: Callable[[], bool], timeout_s: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or check}")


# ---- max tokens ----------------------------------------------------------------------------
def refused_over_cap(call: Callable[[], object], cap: int) -> None:
    """The API refuses a value over the slider's maximum (the cap) with Gradio's sentence. An
    event with a ``validator=`` (issue 13) has its inputs preprocessed when the request is
    queued, so there the refusal is an HTTP 400 carrying the sentence rather than an AppError."""
    with pytest.raises((AppError, httpx.HTTPStatusError)) as caught:
        call()
    err = caught.value
    said = err.response.text if isinstance(err, httpx.HTTPStatusError) else str(err)
    assert f"greater than maximum value {cap}" in said, said


def test_over_cap_max_tokens_never_generates_more_than_the_cap(tmp_path):
    cap = 24
    with serve(tmp_path / "home", max_tokens=cap) as (services, url):
        client = Client(url, verbose=False)
        # The API refuses more than the cap outright (the sliders' maximum is the cap) ...
        refused_over_cap(lambda: client.predict(SMOL, "Tell me everything.", 5000, 0.0, 1, api_name="/model_try"), cap)
        refused_over_cap(
            lambda: client.predict("Tell me everything.", "", *NO_VARIABLES, *columns(5000), api_name="/compare_run"),
            cap,
        )
        assert generations(services) == []  # refused before anything ran or was stored
        answer, figures = client.predict(SMOL, "Tell me everything.", cap, 0.0, 1, api_name="/model_try")
        assert len(answer.split()) == cap and "stopped at max tokens" in figures

        # ... and a run saved with more (before the operator lowered the cap) re-runs within it.
        old, _ = services.compare.start_run([ColumnConfig(SMOL, max_tokens=300)], "Tell me everything.")
        before = len(generations(services))
        client.predict(old, api_name="/history_rerun")
        rerun = generations(services)[before:]
        assert len(rerun) == 1 and rerun[0][1] == cap and len(rerun[0][3].split()) == cap
        assert f'"max_tokens": {cap}' in rerun[0][2]  # what really ran is what History shows


def test_every_service_path_is_capped_with_a_note(tmp_path):
    """Below the UI: the services themselves (what any tab, stored configuration or future API
    reaches) lower max_tokens at the recorder, the one place every generation passes."""
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}").with_overrides(max_tokens=16)
    services = Services.create(settings, backends=fake_backends(long_answer))
    try:
        final = list(services.models.try_prompt(SMOL, "Go on.", GenerationParams(max_tokens=100_000)))[-1]
        assert final.usage is not None and final.usage.completion_tokens == 16
        assert final.note and "100000" in final.note and "16" in final.note
        evaluation = services.arena.create_evaluation(
            "capped live", [], [SMOL, GEMMA], GenerationParams(max_tokens=900), mode="live"
        )
        session = services.arena.join(evaluation.join_code, "Ana")
        last = list(services.arena.ask_live(session, "Go on."))[-1]
        assert last.token is not None and [len(t.split()) for t in (last.text_a, last.text_b)] == [16, 16]
        assert all(tokens == 16 for _, tokens, _, _ in generations(services))
    finally:
        services.close()


# ---- live asks ----------------------------------------------------------------------------
def _join_live(url: str, code: str, name: str) -> tuple[Client, str]:
    """A rater's page joined under ``name``, and the secret its browser would keep."""
    client = Client(url, verbose=False)
    joined = client.predict(name, code, api_name="/arena_join")
    return client, joined[-1]


def _other_tab(url: str, secret: str) -> Client:
    """A second tab of the same browser: a new page session that resumes the rater by the secret
    (joining under a taken name without it is refused by design)."""
    client = Client(url, verbose=False)
    resumed = client.predict(secret, api_name="/arena_resume")
    assert resumed[-1] == secret  # the same rater
    return client


def test_a_flood_of_live_asks_from_one_rater_is_refused_and_others_are_served(tmp_path):
    with serve(tmp_path / "home", chunk_delay_s=0.05, max_tokens=40, live_asks_per_minute=3) as (services, url):
        admin = Client(url, verbose=False)
        _, info = admin.predict(
            "flood", "", None, [SMOL, GEMMA], 40, 0.0, 7, "", "", "redact", 0, 0, True, api_name="/arena_create"
        )
        code = info.split("`")[1]
        (flood, secret), (other, _) = _join_live(url, code, "Flood"), _join_live(url, code, "Other")
        second_tab = _other_tab(url, secret)
        first = flood.submit("Answer at length.", api_name="/arena_live_ask")  # 40 words, 2 s
        wait_for(lambda: bool(first.outputs()), what="the first live ask to start")
        # While it answers: a second ask from the same rater, and from a second tab of that rater.
        with pytest.raises(AppError, match="still being answered"):
            flood.predict("And another.", api_name="/arena_live_ask")
        with pytest.raises(AppError, match="still being answered"):
            second_tab.predict("From my other tab.", api_name="/arena_live_ask")
        served = other.predict("My own question.", api_name="/arena_live_ask")
        assert served[0].startswith("Both answers are in")  # not held up by the flood
        assert first.result(timeout=60)[0].startswith("Both answers are in")
        for _ in range(2):  # three asks in the minute are allowed ...
            assert flood.predict("Once more.", api_name="/arena_live_ask")[0].startswith("Both answers are in")
        with pytest.raises(AppError, match=r"3 live prompts in the last minute.*wait \d+ s"):
            flood.predict("One too many.", api_name="/arena_live_ask")  # ... the fourth is not
        assert other.predict("Still fine?", api_name="/arena_live_ask")[0].startswith("Both answers are in")
        asked = rows(services, "SELECT text FROM arena_prompts WHERE source = 'live' ORDER BY id")
        assert [t for (t,) in asked] == [
            "Answer at length.",
            "My own question.",
            "Once more.",
            "Once more.",
            "Still fine?",
        ]  # refused asks stored nothing


# ---- the queue ----------------------------------------------------------------------------
GENERATING = {
    "model_try",
    "compare_run",
    *(f"compare_repeat_{i}" for i in range(4)),
    "batch_run",
    "history_rerun",
    "rag_ask",
    "rag_with_without",
    "rag_questions_generate",
    "arena_live_ask",
    "arena_live_retry",
    "judge_run",
    "ft_base_vs_tuned",
}


@pytest.mark.parametrize("arena_only", [False, True])
def test_every_generating_event_shares_the_one_generation_limit(tmp_path, arena_only):
    from components.widgets import GENERATION_ID

    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}").with_overrides(
        generation_concurrency=3
    )
    services = Services.create(settings, backends=fake_backends(long_answer))
    try:
        demo = configure_queue(build_app(services, arena_only=arena_only), settings)
        by_name = {fn.api_name: fn for fn in demo.fns.values() if isinstance(fn.api_name, str)}
        expected = {"arena_live_ask", "arena_live_retry"} if arena_only else GENERATING
        assert expected <= by_name.keys()
        for name in expected:
            assert (by_name[name].concurrency_id, by_name[name].concurrency_limit) == (GENERATION_ID, 3), name
        grouped = {
            fn.api_name
            for fn in demo.fns.values()
            if fn.concurrency_id == GENERATION_ID and fn.api_visibility == "public"
        }
        assert grouped <= GENERATING  # nothing that only reads the database waits for a model
    finally:
        services.close()


def _queue_join(url: str, fn_index: int) -> httpx.Response:
    body = {"data": [], "fn_index": fn_index, "session_hash": "rawclient01", "event_data": None, "trigger_id": None}
    return httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=10)


def _fn_index(url: str, api_name: str) -> int:
    config = httpx.get(f"{url}config", timeout=10).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def test_a_full_queue_says_busy_try_again_and_generations_share_one_limit(tmp_path):
    overrides = {"max_tokens": 100, "queue_max_size": 1, "generation_concurrency": 1}
    with serve(tmp_path / "home", chunk_delay_s=0.05, **overrides) as (services, url):
        first, second, third = (Client(url, verbose=False) for _ in range(3))
        running = first.submit(SMOL, "Long one.", 100, 0.0, 1, api_name="/model_try")  # 100 words, 5 s
        wait_for(lambda: running.status().code == Status.ITERATING, what="the try box to answer")
        # A Compare run is another tab's event, but it waits for the one generation slot.
        waiting = second.submit("Compare me.", "", *NO_VARIABLES, *columns(8), api_name="/compare_run")
        wait_for(lambda: waiting.status().code == Status.IN_QUEUE, what="compare_run to be queued")
        # The queue holds one waiting request: the next is turned away, in plain words.
        with pytest.raises(QueueError, match="Please try again"):
            third.predict(SMOL, "Third.", 8, 0.0, 1, api_name="/model_try")
        raw = _queue_join(url, _fn_index(url, "model_try"))
        assert raw.status_code == 503 and "Queue is full" in raw.json()["detail"]
        assert waiting.status().code == Status.IN_QUEUE  # still waiting: one slot, held by the try box
        answer, _ = running.result(timeout=60)
        assert len(answer.split()) == 100
        assert waiting.result(timeout=60)[0]  # then Compare ran
        assert third.predict(SMOL, "Now?", 8, 0.0, 1, api_name="/model_try")[0]  # room again: served


# ---- start-up checks (the real launcher in a subprocess) -----------------------------------
@pytest.mark.slow
def test_binding_beyond_loopback_without_auth_warns_and_the_cap_holds_on_smollm2(tmp_path):
    # Issue 17: beyond loopback with no login, the facilitator's door is locked with a password
    # (here chosen by PLAYGROUND_ADMIN_PASSWORD) and a note says what stays open (/rate).
    admin_pw = "room-Admin-6610"
    env = {"PLAYGROUND_MAX_TOKENS": "32", "PLAYGROUND_ADMIN_PASSWORD": admin_pw}
    # A generous start-up limit: the machine running these is shared (loads of 10 on 2 cores).
    app = start_app(tmp_path / "home", "--host", "0.0.0.0", env=env, timeout_s=START_S)
    try:
        output = app.log_tail(200_000)
        log = (app.data_dir / "logs" / "playground.log").read_text()
        for text in (output, log):
            assert "NOTE: Playground is served on 0.0.0.0:" in text and "/rate needs no login" in text
            assert "--auth-file PATH" in text and "reverse proxy" in text
        assert admin_pw not in log
        assert httpx.get(app.url + "config", timeout=10).status_code == 401  # the facilitator's door is locked
        client = Client(app.url, auth=("admin", admin_pw), verbose=False)  # 127.0.0.1 only: nothing else is reached
        refused_over_cap(
            lambda: client.predict(SMOL, "Write a long story about a dragon.", 4096, 0.0, 1, api_name="/model_try"), 32
        )
        _, figures = client.predict(SMOL, "Write a long story about a dragon.", 32, 0.0, 1, api_name="/model_try")
        completion = int(figures.split(" completion tokens")[0].rsplit("+ ", 1)[1])
        assert 0 < completion <= 32, figures
    finally:
        app.stop()


@pytest.mark.slow
def test_passwords_from_a_file_and_the_environment_log_in_and_appear_nowhere(tmp_path):
    file_pass, env_pass, cli_pass, guess = "file-Secret-4471", "env-Secret-9902", "cli-Secret-3318", "guess-5150"
    auth_file = tmp_path / "logins.txt"
    auth_file.write_text(f"# the room\nalice:{file_pass}\n")
    auth_file.chmod(0o600)
    app = start_app(
        tmp_path / "home",
        "--host",
        "0.0.0.0",
        "--auth-file",
        str(auth_file),
        "--auth",
        f"carol:{cli_pass}",  # shows in `ps` by nature, but never in what the app prints or logs
        env={"PLAYGROUND_AUTH": f"bob:{env_pass}", "GRADIO_DEBUG": "1"},  # Gradio's debug mode too
        timeout_s=START_S,
    )
    try:
        with httpx.Client(base_url=app.url, timeout=10) as http:
            assert http.get("config").status_code == 401  # nothing without a login
            assert http.post("login", data={"username": "alice", "password": guess}).status_code == 400
            assert http.post("login", data={"username": "alice", "password": file_pass}).status_code == 200
            config = http.get("config")
            assert config.status_code == 200 and file_pass not in config.text and env_pass not in config.text
        for user, password in (("bob", env_pass), ("carol", cli_pass)):
            assert Client(app.url, auth=(user, password), verbose=False).predict(api_name="/models_list")
        # The sentence reaches a logged-in API caller (the try box's validator refuses it, issue 13).
        with pytest.raises((AppError, ValidationError), match="Type a prompt first"):
            Client(app.url, auth=("bob", env_pass), verbose=False).predict(SMOL, "", 8, 0.0, 1, api_name="/model_try")
        cmdline = Path(f"/proc/{app.process.pid}/cmdline").read_bytes().decode()
        assert file_pass not in cmdline and env_pass not in cmdline  # not visible in `ps`
    finally:
        app.stop()
    output = app.log_tail(500_000)
    log = (app.data_dir / "logs" / "playground.log").read_text()
    assert "NO LOGIN" not in output  # logins are set: no warning
    for text in (output, log):
        assert not any(secret in text for secret in (file_pass, env_pass, cli_pass, guess))


def test_a_malformed_login_stops_the_launcher_without_echoing_it(tmp_path):
    secret = "typo-NoColon-5512"
    env = {**os.environ, "PLAYGROUND_AUTH": secret}
    done = subprocess.run(
        [sys.executable, "launcher.py", "--no-browser", "--data-dir", str(tmp_path / "home")],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PLAYGROUND_AUTH entry 1 is not USER:PASS" in done.stderr
    assert secret not in done.stdout + done.stderr
