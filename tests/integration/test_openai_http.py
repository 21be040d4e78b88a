"""The OpenAI-compatible HTTP backend against a real llama.cpp server and a misbehaving one."""

import threading

import httpx
import pytest

from playground.errors import EndpointError
from playground.models.openai_http import OpenAIHTTPBackend
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec, Price, Usage
from tests.integration.models_fixtures import smollm2_gguf
from tests.integration.servers import (
    PIECES,
    PROMPT_TOKENS,
    MisbehavingServer,
    free_port,
    start_llama_cpp_server,
    stop_process,
)

KEY_ENV = "PLAYGROUND_TEST_OPENAI_API_KEY"  # an allowed name: *_API_KEY (issue 12)
ENV_KEY = "sk-from-env-0123456789"
RUNTIME_KEY = "sk-typed-at-runtime-9876543210"
QUESTION = [Message("user", "Tell me a short story about a cat who learns to sail.")]


def make_spec(base_url, **overrides):
    fields = dict(
        key="openai:test",
        name="Test endpoint",
        backend=BackendKind.OPENAI,
        source=ModelSource.USER,
        base_url=base_url,
        remote_model="smollm2",
    )
    fields.update(overrides)
    return ModelSpec(**fields)


def collect(backend, params, cancel=None, messages=QUESTION):
    events = list(backend.stream(messages, params, cancel))
    *chunks, usage = events
    assert isinstance(usage, Usage) and all(isinstance(c, str) and c for c in chunks)
    return "".join(chunks), usage, chunks


# ---- a real llama.cpp server ------------------------------------------------------------


@pytest.fixture(scope="session")
def llama_server(smollm2_gguf, tmp_path_factory):
    process, base_url = start_llama_cpp_server(
        smollm2_gguf, free_port(), log_dir=tmp_path_factory.mktemp("llama-server"), model_alias="smollm2"
    )
    yield base_url
    stop_process(process)


@pytest.fixture
def real(llama_server):
    backend = OpenAIHTTPBackend(make_spec(llama_server), timeout_s=60)
    backend.load()
    yield backend
    backend.unload()


@pytest.mark.slow
def test_streams_real_text_with_usage(real):
    text, usage, chunks = collect(real, GenerationParams(max_tokens=40, temperature=0.7, seed=3))
    assert text.strip() and len(chunks) >= 3
    assert usage.completion_tokens and usage.completion_tokens > 0
    assert usage.ttft_s is not None and usage.ttft_s > 0 and usage.total_s >= usage.ttft_s
    assert usage.finish_reason in ("stop", "length")
    if usage.tokens_estimated:
        # llama_cpp.server 0.3.36 ignores stream_options and sends no usage in streams: the
        # completion count is our chunk count and the prompt count stays unknown.
        assert usage.prompt_tokens is None and usage.completion_tokens == len(chunks)
    else:
        assert usage.prompt_tokens and usage.prompt_tokens > 0


@pytest.mark.slow
def test_chunk_count_matches_the_servers_own_token_count(real, llama_server):
    params = GenerationParams(max_tokens=12, temperature=0, seed=1)
    _, usage, _ = collect(real, params)
    reference = httpx.post(
        f"{llama_server}/chat/completions",
        json={
            "model": "smollm2",
            "messages": [m.to_dict() for m in QUESTION],
            "max_tokens": 12,
            "temperature": 0,
            "seed": 1,
        },
        timeout=60,
    ).json()
    assert usage.completion_tokens == reference["usage"]["completion_tokens"] == 12


@pytest.mark.slow
def test_max_tokens_stops_with_length(real):
    _, usage, _ = collect(real, GenerationParams(max_tokens=5, temperature=0.7))
    assert usage.completion_tokens is not None and 0 < usage.completion_tokens <= 5
    assert usage.finish_reason == "length"


@pytest.mark.slow
def test_same_seed_at_temperature_zero_gives_the_same_text(real):
    params = GenerationParams(max_tokens=24, temperature=0, seed=42)
    first, _, _ = collect(real, params)
    second, _, _ = collect(real, params)
    assert first and first == second


@pytest.mark.slow
def test_cost_is_unknown_without_a_price_or_without_a_prompt_count(llama_server):
    plain = OpenAIHTTPBackend(make_spec(llama_server))
    assert collect(plain, GenerationParams(max_tokens=4))[1].cost_usd is None
    priced = OpenAIHTTPBackend(make_spec(llama_server, price=Price(input_per_m=1.0, output_per_m=2.0)))
    usage = collect(priced, GenerationParams(max_tokens=4))[1]
    if usage.tokens_estimated:  # the prompt count is unknown, so the cost is too: never a guess
        assert usage.cost_usd is None
    else:
        assert usage.cost_usd == pytest.approx((usage.prompt_tokens * 1.0 + usage.completion_tokens * 2.0) / 1e6)


@pytest.mark.slow
def test_cancel_stops_early(real):
    cancel = threading.Event()
    chunks = []
    stream = real.stream(QUESTION, GenerationParams(max_tokens=200, temperature=0.7), cancel)
    for event in stream:
        if isinstance(event, Usage):
            usage = event
            break
        chunks.append(event)
        if len(chunks) == 3:
            cancel.set()
    assert len(chunks) == 3
    assert usage.finish_reason == "cancelled" and usage.completion_tokens == 3


@pytest.mark.slow
def test_connection_to_the_real_server(real):
    message = real.test_connection()
    assert message.startswith("Connected: smollm2 answered in ") and message.endswith(" s.")


@pytest.mark.slow
def test_missing_v1_on_the_real_server_suggests_it(llama_server):
    backend = OpenAIHTTPBackend(make_spec(llama_server.removesuffix("/v1")))
    with pytest.raises(EndpointError, match="HTTP 404") as err:
        collect(backend, GenerationParams(max_tokens=4))
    assert f"try {llama_server}" in str(err.value)


# ---- a server that misbehaves on purpose -------------------------------------------------


@pytest.fixture(scope="module")
def fake():
    with MisbehavingServer() as server:
        yield server


@pytest.fixture
def env_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, ENV_KEY)


def fake_backend(server, mode, *, timeout_s=5.0, api_key=None, price=None):
    server.mode = mode
    return OpenAIHTTPBackend(
        make_spec(server.base_url, api_key_env=KEY_ENV, price=price), api_key=api_key, timeout_s=timeout_s
    )


def failure(backend, params=GenerationParams()):
    """The EndpointError message, and the chunks that came before it."""
    chunks = []
    with pytest.raises(EndpointError) as err:
        for event in backend.stream(QUESTION, params):
            chunks.append(event)
    message = str(err.value)
    assert ENV_KEY not in message and RUNTIME_KEY not in message
    return message, chunks


@pytest.mark.parametrize(
    "mode, words",
    [
        ("401", ["rejected the API key", "HTTP 401", KEY_ENV]),
        ("404", ["/v1/chat/completions", "was not found", "HTTP 404", "'smollm2'"]),
        ("500", ["server error", "HTTP 500", "CUDA out of memory"]),
        ("garbage", ["not an OpenAI-compatible response"]),
    ],
)
def test_http_failures_have_plain_messages(fake, env_key, mode, words):
    message, chunks = failure(fake_backend(fake, mode))
    assert chunks == []
    for word in words:
        assert word in message
    assert fake.base_url in message


def test_server_error_detail_is_cut_short(fake):
    message, _ = failure(fake_backend(fake, "500"))
    assert "x" * 200 not in message and "x" * 150 in message


def test_key_echoed_by_the_server_is_hidden(fake):
    message, _ = failure(fake_backend(fake, "401", api_key=RUNTIME_KEY))
    assert "Incorrect API key provided" in message and "<hidden>" in message


def test_a_server_that_hangs_times_out(fake):
    message, _ = failure(fake_backend(fake, "hang", timeout_s=0.5))
    assert message == f"{fake.base_url} did not answer within 0.5 s."


@pytest.mark.parametrize("mode", ["drop", "drop_plain"])
def test_connection_dropping_mid_stream(fake, mode):
    message, chunks = failure(fake_backend(fake, mode))
    assert chunks == list(PIECES[:2])
    assert message == f"The connection to {fake.base_url} broke off mid-answer after 2 chunks."


def test_connection_refused():
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIHTTPBackend(make_spec(base_url), timeout_s=5)
    message, _ = failure(backend)
    assert message == f"Could not connect to {base_url}: nothing is listening there. Is the server running?"
    with pytest.raises(EndpointError, match="nothing is listening"):
        backend.test_connection()


def test_unknown_host():
    backend = OpenAIHTTPBackend(make_spec("http://no-such-host.invalid/v1"), timeout_s=5)
    message, _ = failure(backend)
    assert "no-such-host.invalid" in message and "DNS" in message


def test_key_from_the_environment_is_sent_as_bearer(fake, env_key):
    collect(fake_backend(fake, "ok"), GenerationParams())
    assert fake.last_headers["authorization"] == f"Bearer {ENV_KEY}"


def test_runtime_key_overrides_the_environment(fake, env_key):
    collect(fake_backend(fake, "ok", api_key=RUNTIME_KEY), GenerationParams())
    assert fake.last_headers["authorization"] == f"Bearer {RUNTIME_KEY}"


def test_no_key_no_authorization_header(fake, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    collect(fake_backend(fake, "ok"), GenerationParams())
    assert "authorization" not in fake.last_headers


def test_request_body(fake):
    params = GenerationParams(temperature=0.3, top_p=0.5, max_tokens=3, seed=7, stop=("\n",), system_prompt="Be brief.")
    collect(fake_backend(fake, "ok"), params)
    body = fake.requests[-1]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"], body["stop"]) == (
        0.3,
        0.5,
        3,
        7,
        ["\n"],
    )
    assert body["model"] == "smollm2" and body["messages"][0] == {"role": "system", "content": "Be brief."}
    collect(fake_backend(fake, "ok"), GenerationParams())
    assert "seed" not in fake.requests[-1]["body"] and "stop" not in fake.requests[-1]["body"]


def test_reported_usage_is_used_and_priced(fake):
    price = Price(input_per_m=3.0, output_per_m=15.0)
    text, usage, chunks = collect(fake_backend(fake, "ok", price=price), GenerationParams())
    assert text == "".join(PIECES) and len(chunks) == len(PIECES)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.tokens_estimated) == (PROMPT_TOKENS, len(PIECES), False)
    assert usage.cost_usd == pytest.approx((11 * 3.0 + 5 * 15.0) / 1_000_000)
    assert usage.finish_reason == "stop"


def test_length_finish_reason(fake):
    _, usage, chunks = collect(fake_backend(fake, "ok"), GenerationParams(max_tokens=2))
    assert len(chunks) == 2 and usage.finish_reason == "length"


def test_no_usage_means_estimated_counts_and_unknown_prompt(fake):
    _, usage, chunks = collect(fake_backend(fake, "no_usage", price=Price(1.0, 1.0)), GenerationParams())
    assert usage.tokens_estimated is True and usage.prompt_tokens is None
    assert usage.completion_tokens == len(chunks) == len(PIECES)
    assert usage.cost_usd is None


def test_rejected_stream_options_are_retried_without(fake):
    backend = fake_backend(fake, "reject_stream_options")
    before = len(fake.requests)
    text, usage, _ = collect(backend, GenerationParams())
    assert text == "".join(PIECES) and usage.tokens_estimated
    assert [("stream_options" in r["body"]) for r in fake.requests[before:]] == [True, False]
    collect(backend, GenerationParams())  # remembered: no second rejected request
    assert "stream_options" not in fake.requests[-1]["body"] and len(fake.requests) == before + 3


def test_a_server_that_ignores_stream_true_still_works(fake):
    text, usage, chunks = collect(fake_backend(fake, "ignore_stream"), GenerationParams(max_tokens=3))
    assert chunks == ["".join(PIECES[:3])] and usage.finish_reason == "stop"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.tokens_estimated) == (PROMPT_TOKENS, 1, False)


def test_test_connection_against_the_fake(fake):
    assert fake_backend(fake, "ok").test_connection().startswith("Connected: smollm2 answered in ")
    with pytest.raises(EndpointError, match="not an OpenAI-compatible response"):
        fake_backend(fake, "garbage").test_connection()
    with pytest.raises(EndpointError, match="HTTP 500"):
        fake_backend(fake, "500").test_connection()
    assert fake.requests[-1]["body"]["max_tokens"] == 1 and fake.requests[-1]["body"]["stream"] is False


def test_errors_are_logged_without_the_key(fake, caplog):
    failure(fake_backend(fake, "401", api_key=RUNTIME_KEY))
    assert "rejected the API key" in caplog.text and RUNTIME_KEY not in caplog.text
