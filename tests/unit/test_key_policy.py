"""Which environment variables may be an endpoint's key, and where a key may go (pure helpers)."""

import pytest

from playground.errors import InvalidInput
from playground.models.secrets import (
    KeyPolicy,
    KeyRefused,
    SecretStore,
    is_loopback,
    mask_secrets,
    origin_of,
    parse_key_vars,
)
from playground.models.validation import validate_base_url
from playground.settings import Settings


@pytest.mark.parametrize(
    "url, origin",
    [
        ("https://API.OpenAI.com/v1", "https://api.openai.com"),
        ("https://api.openai.com:443/v1/", "https://api.openai.com"),
        ("http://127.0.0.1:80/v1", "http://127.0.0.1"),
        ("http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000"),
        ("https://api.openai.com:8443", "https://api.openai.com:8443"),
        ("http://[::1]:11434/v1", "http://[::1]:11434"),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize("url", ["", "api.openai.com/v1", "ftp://h/v1", "http://", "http://h:port/v1"])
def test_origin_of_refuses_what_is_not_an_http_address(url):
    with pytest.raises(ValueError):
        origin_of(url)


def test_loopback_means_this_machine_by_address_not_by_a_name_someone_else_controls():
    assert all(
        is_loopback(o) for o in ("http://localhost:8000", "http://127.0.0.1", "http://127.9.9.9", "http://[::1]")
    )
    assert not any(
        is_loopback(o) for o in ("http://localhost.attacker.org", "http://10.0.0.5", "https://api.openai.com")
    )


def test_masking_hides_whole_and_cut_short_secrets():
    key = "sk-0123456789abcdef"
    text = f"bad key {key}; did you mean '{key[:12]}'? bearer={key}"
    masked = mask_secrets(text, [key, None, ""])
    assert key[:8] not in masked and masked.count("<hidden>") == 3
    assert mask_secrets("short abc here", ["abc"]) == "short <hidden> here"
    assert mask_secrets("nothing secret", ["sk-0123456789abcdef"]) == "nothing secret"


def test_key_vars_setting_is_parsed_and_checked():
    names, bound = parse_key_vars(["MY_SECRET", " ROOM=https://llm.example.org/v1 ", "ROOM=http://127.0.0.1:8000", ""])
    assert names == {"MY_SECRET", "ROOM"}
    assert bound == {"ROOM": ("https://llm.example.org", "http://127.0.0.1:8000")}
    with pytest.raises(ValueError, match="PLAYGROUND_KEY_VARS"):
        parse_key_vars(["NOT A NAME"])
    with pytest.raises(ValueError, match="ROOM=https://host"):
        parse_key_vars(["ROOM=llm.example.org"])


def test_settings_read_key_vars_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_KEY_VARS", "A_SECRET, B=https://b.example ,")
    assert Settings.from_env(tmp_path).key_vars == ("A_SECRET", "B=https://b.example")


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "VLLM_API_KEY", "HF_TOKEN", "MY_SECRET"])
def test_allowed_names(name):
    assert KeyPolicy(["MY_SECRET"]).allowed(name)


@pytest.mark.parametrize("name", ["PLAYGROUND_HOME", "DATABASE_URL", "HOME", "OPENAI_KEY", "API_KEY_FILE", "x-y_TOKEN"])
def test_refused_names_say_how_to_allow_them(name):
    with pytest.raises(KeyRefused, match=f"PLAYGROUND_KEY_VARS={name}") as err:
        KeyPolicy().check(name, "http://127.0.0.1:8000/v1")
    assert isinstance(err.value, InvalidInput) and "_API_KEY or _TOKEN" in str(err.value)


def test_where_a_variable_may_go():
    seen: dict[str, str] = {"LAB_API_KEY": "http://127.0.0.1:8000"}
    policy = KeyPolicy(["ROOM_TOKEN=https://llm.example.org", "OPENAI_API_KEY=https://proxy.example"], seen.get)
    policy.check("ROOM_TOKEN", "https://llm.example.org/v1")  # bound by the operator
    policy.check("OPENAI_API_KEY", "https://proxy.example/v1")  # the setting replaces the vendor default
    policy.check("LAB_API_KEY", "http://127.0.0.1:8000/v1")  # its first saved endpoint
    policy.check("GROQ_API_KEY", "https://api.groq.com/openai/v1")  # the vendor's own variable
    policy.check("NEW_API_KEY", "http://localhost:9000/v1")  # unbound, but on this machine
    refusals = [
        ("ROOM_TOKEN", "http://127.0.0.1:8000/v1", "only sent to https://llm.example.org"),
        ("OPENAI_API_KEY", "https://api.openai.com/v1", "only sent to https://proxy.example"),
        ("GROQ_API_KEY", "http://127.0.0.1:5000/v1", "only sent to https://api.groq.com"),
        ("GROQ_API_KEY", "http://api.groq.com/openai/v1", "not to http://api.groq.com"),  # not in clear text
        ("LAB_API_KEY", "http://127.0.0.1:8001/v1", "bound to http://127.0.0.1:8000"),
        ("NEW_API_KEY", "http://10.0.0.5:8000/v1", "only sent to servers on this machine"),
        ("NEW_API_KEY", "not a url", "not a web address"),
    ]
    for name, url, words in refusals:
        with pytest.raises(KeyRefused, match=words) as err:
            policy.check(name, url)
        assert "PLAYGROUND_KEY_VARS" in str(err.value) or "web address" in str(err.value)


def test_env_key_reads_the_value_only_after_the_check(monkeypatch):
    monkeypatch.setenv("LAB_API_KEY", "  sk-lab  ")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h/db")
    assert KeyPolicy().env_key("LAB_API_KEY", "http://127.0.0.1:8000/v1") == "sk-lab"
    with pytest.raises(KeyRefused):
        KeyPolicy().env_key("DATABASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.delenv("LAB_API_KEY")
    assert KeyPolicy().env_key("LAB_API_KEY", "http://127.0.0.1:8000/v1") is None


def test_secret_store_remembers_the_origin_a_key_was_typed_for():
    store = SecretStore()
    store.set("entry/1", " sk-1 ", "http://127.0.0.1:8000")
    assert (store.get("entry/1"), store.origin("entry/1")) == ("sk-1", "http://127.0.0.1:8000")
    assert store.origin("entry/2") is None and "sk-1" not in repr(store)


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://user:pass@127.0.0.1:8000/v1", "user name and password"),
        ("https://h.example/v1?api-key=sk-123", r"no \?query"),
        ("https://h.example/v1#sk-123", r"no \?query"),
        ("http://127.0.0.1:eighty/v1", "port that is not a number"),
    ],
)
def test_base_urls_with_secrets_or_junk_are_refused(url, words):
    with pytest.raises(InvalidInput, match=words) as err:
        validate_base_url(url)
    assert "pass@" not in str(err.value) and "sk-123" not in str(err.value)
