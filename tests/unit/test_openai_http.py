"""Pure helpers of the OpenAI-compatible HTTP backend: SSE lines, URLs, error wording."""

import pytest

from playground.models.openai_http import (
    SSE_DONE,
    NotOpenAIResponse,
    OpenAIHTTPBackend,
    chat_completions_url,
    http_error_message,
    normalize_base_url,
    parse_sse_line,
    server_error_message,
    v1_hint,
)
from playground.models.secrets import SecretStore
from playground.models.types import BackendKind, ModelSource, ModelSpec


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("  https://api.openai.com/v1//  ", "https://api.openai.com/v1"),
        ("http://host:11434/v1/chat/completions", "http://host:11434/v1"),
        ("http://host:11434/v1/chat/completions/", "http://host:11434/v1"),
        ("http://host:8000", "http://host:8000"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_base_url(raw, expected):
    assert normalize_base_url(raw) == expected


def test_chat_completions_url_with_or_without_trailing_slash():
    assert chat_completions_url("http://h:1/v1") == "http://h:1/v1/chat/completions"
    assert chat_completions_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"


def test_v1_hint_only_when_the_path_lacks_v1():
    assert "http://h:8000/v1" in v1_hint("http://h:8000")
    assert "http://h:8000/v1" in v1_hint("http://h:8000/")
    assert v1_hint("http://h:8000/v1") == ""
    assert v1_hint("https://example.com/openai/v1") == ""


@pytest.mark.parametrize(
    "line", ["", "   ", "\r", ": keep-alive", ":", "event: message", "id: 7", "retry: 1000", "data:", "data:   "]
)
def test_lines_that_carry_nothing_are_ignored(line):
    assert parse_sse_line(line) is None


@pytest.mark.parametrize("line", ["data: [DONE]", "data:[DONE]", "data: [DONE]  \r"])
def test_done_marker(line):
    assert parse_sse_line(line) == SSE_DONE


@pytest.mark.parametrize(
    "line", ['data: {"choices": []}', 'data:{"choices": []}', '\ufeffdata: {"choices": []}', 'data: {"choices": []}\r']
)
def test_data_lines_are_json_with_or_without_the_space(line):
    assert parse_sse_line(line) == {"choices": []}


@pytest.mark.parametrize(
    "line",
    [
        "<!DOCTYPE html>",
        "<html><body>Welcome</body></html>",
        '{"model": "x", "done": false}',
        "data: not json",
        "data: [1, 2]",
    ],
)
def test_anything_else_is_not_an_openai_stream(line):
    with pytest.raises(NotOpenAIResponse):
        parse_sse_line(line)


@pytest.mark.parametrize(
    "body, expected",
    [
        ('{"error": {"message": "model not found", "type": "x"}}', "model not found"),
        ('{"error": "plain string"}', "plain string"),
        ('{"detail": "Not Found"}', "Not Found"),
        ('{"message": "oops"}', "oops"),
        ('{"error": {"message": "multi\\n  line"}}', "multi line"),
        ("<html>502 Bad Gateway</html>", None),
        ("", None),
        ("[1]", None),
        ('{"ok": true}', None),
    ],
)
def test_server_error_message(body, expected):
    assert server_error_message(body) == expected


def test_server_error_message_is_cut_to_200_chars():
    assert server_error_message('{"error": {"message": "%s"}}' % ("x" * 500)) == "x" * 200


def _message(status, **overrides):
    args = dict(base_url="http://h:8000/v1", model="m", key_sent=True, key_env="MY_KEY")
    args.update(overrides)
    return http_error_message(status, args.pop("said", None), **args)


def test_http_error_wording():
    assert (
        _message(401)
        == "http://h:8000/v1 rejected the API key (HTTP 401). Check the key or the environment variable MY_KEY."
    )
    assert "rejected the API key (HTTP 403)" in _message(403)
    assert "needs an API key" in _message(401, key_sent=False) and "MY_KEY" in _message(401, key_sent=False)
    assert "needs an API key" in _message(401, key_sent=False, key_env=None)
    not_found = _message(404, base_url="http://h:8000")
    assert "http://h:8000/chat/completions" in not_found and "'m'" in not_found and "try http://h:8000/v1" in not_found
    assert "/v1:" not in _message(404)
    assert "rate limiting" in _message(429)
    assert (
        _message(503, said="overloaded")
        == "http://h:8000/v1 had a server error (HTTP 503). The server said: overloaded"
    )
    assert "refused the request (HTTP 400)" in _message(400)


def _spec(**overrides):
    fields = dict(
        key="openai:1",
        name="Test",
        backend=BackendKind.OPENAI,
        source=ModelSource.USER,
        base_url="http://127.0.0.1:9/v1/",
        remote_model="m",
        api_key_env="PLAYGROUND_TEST_UNIT_KEY",
    )
    fields.update(overrides)
    return ModelSpec(**fields)


def test_repr_and_vars_never_show_the_key(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_TEST_UNIT_KEY", "sk-env-secret")
    runtime = OpenAIHTTPBackend(_spec(), api_key="sk-runtime-secret")
    assert "sk-runtime-secret" not in repr(runtime) and "sk-runtime-secret" not in repr(vars(runtime))
    assert "api_key=runtime" in repr(runtime)
    assert "sk-env-secret" not in repr(OpenAIHTTPBackend(_spec())) and "api_key=env" in repr(OpenAIHTTPBackend(_spec()))
    monkeypatch.delenv("PLAYGROUND_TEST_UNIT_KEY")
    assert "api_key=none" in repr(OpenAIHTTPBackend(_spec()))


def test_constructing_touches_nothing_and_load_only_makes_a_client():
    backend = OpenAIHTTPBackend(_spec())
    assert backend.url == "http://127.0.0.1:9/v1/chat/completions"
    assert not backend.loaded and backend.memory_bytes() == 0
    backend.load()
    assert backend.loaded
    backend.unload()
    assert not backend.loaded


def test_secret_store_keeps_values_in_memory_and_out_of_repr():
    store = SecretStore()
    store.set("a", "  sk-1  ")
    assert store.get("a") == "sk-1" and "a" in store
    assert "sk-1" not in repr(store)
    store.set("a", "")
    assert store.get("a") is None
    store.set("b", "sk-2")
    store.forget("b")
    store.forget("never-set")
    assert store.get("b") is None
