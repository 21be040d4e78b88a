"""One price per model, decided in one place: the user's price wins, a local model costs $0 by
choice, a hosted one takes LiteLLM's price, anything else is "cost unknown" (never $0); and the
context window each model gets. Also how each cost reads (one formatting helper)."""

from __future__ import annotations

import pytest

from playground.formatting import cost_text, format_cost, format_usage, price_text
from playground.models import prices
from playground.models.pricing import on_own_network, priced_usage, provider_of, resolve, runs_locally
from playground.models.types import BackendKind, ContextSource, ModelSource, ModelSpec, Price, PriceSource, Usage

TABLE = prices.PriceTable(
    {
        "gpt-4o-mini": prices.TableEntry("gpt-4o-mini", "openai", Price(0.15, 0.6), 128000),
        "azure/gpt-4o-mini": prices.TableEntry("azure/gpt-4o-mini", "azure", Price(0.165, 0.66), 128000),
        "groq/openai/gpt-oss-20b": prices.TableEntry("groq/openai/gpt-oss-20b", "groq", Price(0.075, 0.3), 131072),
    }
)


def remote(url, model, preset=None, **extra):
    if preset:
        extra["preset"] = preset
    return ModelSpec(
        "entry/1", model, BackendKind.OPENAI, ModelSource.USER, base_url=url, remote_model=model, extra=extra
    )


def local(backend=BackendKind.LLAMA_CPP, source=ModelSource.EMBEDDED):
    return ModelSpec("embedded/x", "Tiny", backend, source, path="/m/tiny.gguf")


def test_the_users_price_wins_over_the_table_and_over_local():
    mine = Price(1.0, 2.0)
    hosted = resolve(remote("https://api.openai.com/v1", "gpt-4o-mini"), mine, TABLE)
    assert (hosted.price, hosted.price_source, hosted.price_match) == (mine, PriceSource.OVERRIDE, "gpt-4o-mini")
    assert resolve(local(), mine, TABLE).price_source == PriceSource.OVERRIDE


@pytest.mark.parametrize(
    "spec",
    [
        local(),
        local(BackendKind.TRANSFORMERS, ModelSource.FINETUNED),
        local(BackendKind.LLAMA_CPP, ModelSource.DISCOVERED),
        remote("http://gpu-box.example.com:11434/v1", "llama3.2", preset="ollama"),  # a local preset, anywhere
        remote("http://gpu-box.example.com:8000/v1", "gpt-4o-mini", preset="vllm"),  # even with a hosted name
        remote("http://127.0.0.1:8080/v1", "gpt-4o-mini"),  # a single endpoint on this machine
        remote("http://localhost:1234/v1", "m", preset="custom"),
        remote("http://192.168.1.20:8000/v1", "m"),  # the user's own network
        remote("http://[::1]:8000/v1", "m"),
    ],
)
def test_a_model_on_the_users_own_machine_or_network_costs_zero_by_choice(spec):
    priced = resolve(spec, None, TABLE)
    assert priced.price == Price(0.0, 0.0) and priced.price_source == PriceSource.LOCAL
    assert priced.price_match is None  # the table is not consulted for a local model


def test_a_hosted_preset_stays_hosted_behind_a_local_address():
    proxied = remote("http://127.0.0.1:4000/v1", "openai/gpt-oss-20b", preset="groq")
    assert not runs_locally(proxied)
    priced = resolve(proxied, None, TABLE)
    assert (priced.price, priced.price_source) == (Price(0.075, 0.3), PriceSource.TABLE)


def test_a_single_endpoint_takes_its_providers_prices_from_its_host():
    spec = remote("https://api.openai.com/v1", "gpt-4o-mini")
    assert provider_of(spec) == "openai"
    priced = resolve(spec, None, TABLE)
    assert (priced.price, priced.price_source, priced.context_length) == (Price(0.15, 0.6), PriceSource.TABLE, 128000)
    azure = resolve(
        remote("https://acme.openai.azure.com/openai/deployments/prod", "prod"),
        None,
        TABLE,
        deployment_model="gpt-4o-mini",
    )
    assert azure.price == Price(0.165, 0.66) and azure.price_match == "azure/gpt-4o-mini"


@pytest.mark.parametrize(
    "spec",
    [
        remote("https://api.groq.com/openai/v1", "llama-3.3-70b-versatile"),  # a known provider, an unlisted model
        remote("https://llm.acme-corp.com/v1", "gpt-4o-mini"),  # an unknown host: no one's price is borrowed
        remote("https://llm.acme-corp.com/v1", "gpt-4o-mini", preset="custom"),
    ],
)
def test_an_unknown_price_stays_unknown_never_zero(spec):
    priced = resolve(spec, None, TABLE)
    assert priced.price is None and priced.price_source is None
    usage = priced_usage(Usage(10, 5, 0.1, 0.5), priced)
    assert usage.cost_usd is None and "cost unknown" in format_usage(usage)
    assert "custo desconhecido" in format_usage(usage, "pt-BR")


def test_a_table_that_is_only_read_when_a_hosted_model_needs_it():
    calls = []

    def lazy():
        calls.append(1)
        return TABLE

    resolve(local(), None, lazy)
    assert calls == []
    resolve(remote("https://api.openai.com/v1", "gpt-4o-mini"), None, lazy)
    assert calls == [1]


def test_the_context_window_comes_from_n_ctx_the_server_or_the_table():
    assert (
        resolve(local(), None, TABLE, n_ctx=4096).context_length,
        resolve(local(), None, TABLE, n_ctx=4096).context_source,
    ) == (
        4096,
        ContextSource.N_CTX,
    )
    assert resolve(local(BackendKind.TRANSFORMERS), None, TABLE, n_ctx=4096).context_length is None
    listed = resolve(remote("https://api.openai.com/v1", "gpt-4o-mini", context_length=32000), None, TABLE)
    assert (listed.context_length, listed.context_source) == (32000, ContextSource.SERVER)  # the server's word first
    table = resolve(remote("https://api.openai.com/v1", "gpt-4o-mini"), None, TABLE)
    assert (table.context_length, table.context_source) == (128000, ContextSource.TABLE)
    assert resolve(remote("http://127.0.0.1:8000/v1", "m"), None, TABLE).context_length is None


def test_the_cost_of_an_answer_follows_the_price_now():
    hosted = resolve(remote("https://api.openai.com/v1", "gpt-4o-mini"), None, TABLE)
    usage = priced_usage(Usage(1000, 2000, 0.1, 1.0, cost_usd=99.0), hosted)
    assert usage.cost_usd == pytest.approx((1000 * 0.15 + 2000 * 0.6) / 1e6) and usage.price_source == "table"
    assert priced_usage(Usage(None, 5, 0.1, 1.0), hosted).cost_usd is None  # tokens not reported: unknown
    here = resolve(local(), None, TABLE)
    uncounted = priced_usage(Usage(None, None, None, 1.0), here)
    assert (uncounted.cost_usd, uncounted.price_source) == (0.0, "local")  # $0 by choice, counted or not


def test_every_cost_reads_through_one_helper():
    assert str(cost_text(None)) == "cost unknown" and str(cost_text(None, "local")) == "cost unknown"
    assert str(cost_text(0.0, PriceSource.LOCAL)) == "local: $0, by choice"
    assert cost_text(0.0, "local").render("pt-BR") == "local: US$ 0, por escolha"
    assert format_cost(0.0) == "$0"  # a hosted answer that cost nothing is not called local
    assert format_cost(0.0123, source="table") == "$0.0123"
    local_usage = priced_usage(Usage(12, 3, 0.1, 0.4), resolve(local(), None, TABLE))
    assert format_usage(local_usage).endswith("local: $0, by choice")
    assert str(price_text(Price(0.15, 0.6), "table")) == "$0.15 input · $0.60 output per 1M tokens"
    assert price_text(Price(0.075, 0.3)).render("pt-BR") == "US$ 0,075 na entrada · US$ 0,30 na saída por 1M de tokens"
    assert str(price_text(Price(0, 0), "local")) == "local: $0, by choice" and str(price_text(None)) == "cost unknown"


@pytest.mark.parametrize(
    ("host", "own"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("10.0.0.5", True),
        ("172.16.3.4", True),
        ("169.254.1.1", True),
        ("printer.local", True),
        ("8.8.8.8", False),
        ("api.openai.com", False),
        ("vllm.internal.example", False),  # a DNS name is not guessed at
        ("", False),
        (None, False),
    ],
)
def test_own_network(host, own):
    assert on_own_network(host) is own


def test_a_typed_price_is_read_as_the_user_typed_it_or_refused_plainly():
    from playground.errors import InvalidInput
    from playground.models.price_overrides import validate_price

    assert validate_price("0,15", " 0.6 ") == Price(0.15, 0.6)  # a Portuguese decimal comma too
    assert validate_price(0, 0) == Price(0.0, 0.0)  # free, if the user says so
    for bad, words in ((("", "1"), "Enter both"), (("1", None), "Enter both"), (("abc", "1"), "must be numbers"),
                       (("nan", "1"), "must be numbers"), (("-1", "1"), "negative"), (("1", "20000"), "more than any")):  # fmt: skip
        with pytest.raises(InvalidInput, match=words):
            validate_price(*bad)
