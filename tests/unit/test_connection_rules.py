"""The pure rules behind connections: reasoning-model quirks read from error bodies, Azure
addresses, which header values count as secrets, model-list shapes, and the preset table."""

from __future__ import annotations

import json

import pytest

from playground.errors import EndpointError, InvalidInput
from playground.i18n import catalogue
from playground.models import azure, quirks
from playground.models.headers import check_headers, parse_headers
from playground.models.listing import parse_ollama_tags, parse_openai_list
from playground.models.presets import PRESETS, preset
from playground.models.secrets import KeyPolicy
from tests.service.connection_server import MAX_TOKENS_ERROR, OLLAMA_TAGS, TEMPERATURE_ERROR

SENT = {"model": "o3", "messages": [], "max_tokens": 64, "temperature": 0.7, "top_p": 0.95, "stream": True}


# ---- quirks -------------------------------------------------------------------------------
def test_max_tokens_refusal_teaches_max_completion_tokens():
    learned = quirks.learn(json.dumps(MAX_TOKENS_ERROR), SENT, None)
    assert learned == {"max_tokens_field": "max_completion_tokens"}
    adapted = quirks.apply(SENT, learned)
    assert adapted["max_completion_tokens"] == 64 and "max_tokens" not in adapted and SENT["max_tokens"] == 64


def test_temperature_refusal_drops_temperature_and_keeps_what_was_learnt():
    before = {"max_tokens_field": "max_completion_tokens"}
    sent = quirks.apply(SENT, before)
    learned = quirks.learn(json.dumps(TEMPERATURE_ERROR), sent, before)
    assert learned == {"max_tokens_field": "max_completion_tokens", "drop": ["temperature"]}
    assert "temperature" not in quirks.apply(SENT, learned)


def test_the_message_alone_is_enough_when_there_is_no_param_field():
    body = json.dumps({"error": {"message": "Unsupported parameter: 'top_p' is not supported with this model."}})
    assert quirks.learn(body, SENT, None) == {"drop": ["top_p"]}


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"error": {"message": "Invalid 'messages': empty array.", "param": "messages"}}),
        json.dumps({"error": {"message": "Unsupported parameter: 'max_tokens'", "param": "max_tokens"}}),  # no hint
        "<html>Bad Request</html>",
        json.dumps(MAX_TOKENS_ERROR),  # already adapted: the same error again teaches nothing
    ],
)
def test_errors_that_teach_nothing_new_are_not_retried(body):
    known = {"max_tokens_field": "max_completion_tokens"} if "Use 'max_completion_tokens'" in body else None
    assert quirks.learn(body, SENT, known) is None


# ---- Azure --------------------------------------------------------------------------------
def test_a_pasted_deployment_url_gives_resource_deployment_and_version():
    target = azure.parse(
        "https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    )
    assert target == azure.AzureTarget("https://contoso.openai.azure.com", "2024-10-21", "gpt-4o")
    assert (
        azure.deployment_base(target.resource, "gpt 4o")
        == "https://contoso.openai.azure.com/openai/deployments/gpt%204o"
    )


def test_an_azure_url_without_api_version_is_refused_naming_what_to_add():
    with pytest.raises(InvalidInput, match=r"Add \?api-version=2024-10-21") as caught:
        azure.parse("https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions")
    assert "Acrescente ?api-version=2024-10-21" in caught.value.message_in("pt-BR")


def test_the_resource_alone_takes_the_version_field_and_v1_needs_none():
    assert azure.parse("https://contoso.openai.azure.com/", "2025-01-01-preview").api_version == "2025-01-01-preview"
    v1 = azure.parse("https://contoso.openai.azure.com/openai/v1/")
    assert v1.v1 and v1.base_url == "https://contoso.openai.azure.com/openai/v1"
    with pytest.raises(InvalidInput, match="not an Azure api-version"):
        azure.parse("https://contoso.openai.azure.com", "2024&x=1")


# ---- headers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer sk-live-123",
        "X-Api-Key: hunter2",
        "Cookie: session=abc",
        "X-Custom: sk-proj-abcdefghijklmnop",
        "X-Custom: ghp_abcdefghijklmnopqrstuvwxyz0123",
        "X-Custom: 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ],
)
def test_header_values_that_look_like_secrets_are_refused(line):
    with pytest.raises(InvalidInput, match="looks like it holds a key"):
        check_headers(parse_headers(line), "http://127.0.0.1:8000/v1", KeyPolicy())


def test_plain_headers_and_references_pass():
    headers = parse_headers(
        "HTTP-Referer: https://example.org/app\nX-Title: Playground workshop\n"
        "Authorization: Bearer ${LAB_TOKEN}\nanthropic-version: 2023-06-01"
    )
    assert check_headers(headers, "http://127.0.0.1:8000/v1", KeyPolicy()) == headers


@pytest.mark.parametrize("line, match", [("Host: evil", "set by Playground"), ("no colon", "no colon")])
def test_reserved_and_malformed_headers_are_refused(line, match):
    with pytest.raises(InvalidInput, match=match):
        check_headers(parse_headers(line), "http://127.0.0.1:8000/v1", KeyPolicy())


# ---- model lists --------------------------------------------------------------------------
def test_openai_lists_and_bare_lists_with_context_lengths():
    url = "http://h/v1/models"
    openai = parse_openai_list({"data": [{"id": "a", "owned_by": "me", "max_model_len": 4096}, {"id": ""}]}, url)
    assert [(m.id, m.details, m.context_length) for m in openai] == [("a", {"owned_by": "me"}, 4096)]
    together = parse_openai_list([{"id": "b", "context_length": 32768}], url)
    assert [(m.id, m.context_length) for m in together] == [("b", 32768)]
    with pytest.raises(EndpointError, match="did not answer like an OpenAI-compatible server"):
        parse_openai_list({"models": "nope"}, url)


def test_ollama_tags_carry_size_parameters_quantisation_and_family():
    [first, second] = parse_ollama_tags(OLLAMA_TAGS, "http://h/api/tags")
    assert first.id == "llama3.2:latest" and first.details["quant"] == "Q4_K_M" and second.details["family"] == "qwen2"


# ---- presets ------------------------------------------------------------------------------
def test_every_preset_says_where_its_key_comes_from_in_both_languages():
    texts = catalogue().languages
    for entry in PRESETS:
        assert entry.help in texts["en"] and entry.help in texts["pt-BR"], entry.id
        assert not entry.key_env or entry.key_env in texts["en"][entry.help], entry.id


def test_the_presets_point_where_the_providers_say():
    urls = {p.id: p.base_url for p in PRESETS}
    assert urls["gemini"] == "https://generativelanguage.googleapis.com/v1beta/openai"
    assert urls["anthropic"] == "https://api.anthropic.com/v1"
    assert urls["ollama"] == "http://localhost:11434/v1" and urls["lmstudio"] == "http://localhost:1234/v1"
    assert urls["vllm"] == "http://localhost:8000/v1" and urls["llamacpp"] == "http://localhost:8080/v1"
    assert preset("azure").kind == "azure" and preset("nonsense").id == "custom"


def test_azure_connections_reach_deployments_or_the_v1_api_with_the_api_key_header():
    from types import SimpleNamespace

    from playground.models.connection_specs import connection_wire

    classic = SimpleNamespace(
        id=3,
        name="Azure",
        kind="azure",
        base_url="https://contoso.openai.azure.com",
        api_key_env=None,
        api_version="2024-10-21",
        headers={},
    )
    wire = connection_wire(classic, "gpt-4o")
    assert wire.base_url == "https://contoso.openai.azure.com/openai/deployments/gpt-4o"
    assert wire.extra["api_version"] == "2024-10-21" and wire.extra["key_header"] == "api-key"
    v1 = connection_wire(SimpleNamespace(**{**vars(classic), "base_url": classic.base_url + "/openai/v1"}), "gpt-4o")
    assert v1.base_url == "https://contoso.openai.azure.com/openai/v1" and "api_version" not in v1.extra
    assert v1.extra["key_header"] == "api-key" and v1.extra["secret_ref"] == "connection/3"
