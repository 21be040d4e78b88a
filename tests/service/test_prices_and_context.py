"""Prices and context windows (issue 15, parts 5 and 7) through the real services, the real HTTP
backend, real SQLite and LiteLLM's installed price map, against the local test server that plays
vLLM, Groq and Azure. Compare shows "cost unknown", "local: $0, by choice" and the map's price
side by side; a prompt too long for the window is refused before any request reaches the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.compare.columns import ColumnConfig
from playground.errors import InvalidInput
from playground.formatting import format_usage
from playground.i18n import render
from playground.models.types import ContextSource, Price, PriceSource
from playground.services import Services
from playground.settings import Settings
from tests.service.connection_server import ConnectionServer

TYPED_KEY = "sk-typed-for-azure-0123456789abcdef"


@pytest.fixture
def services(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_KEY_VARS", raising=False)
    root = tmp_path / "home"
    made = Services.create(Settings(home=root, database_url=f"sqlite:///{root / 'playground.db'}"))
    yield made
    made.close()


def cols(*keys, max_tokens=64):
    return [ColumnConfig(model_key=k, temperature=0.0, max_tokens=max_tokens, seed=1) for k in keys]


def compare(services, keys, text, max_tokens=64):
    columns = cols(*keys, max_tokens=max_tokens)
    run_id, text = services.compare.start_run(columns, text)
    final = list(services.compare.stream_turn(run_id, columns, [[] for _ in columns], text))[-1]
    return run_id, final


def add(services, preset, server, names, **form):
    view = services.models.connections.save(f"{preset} lab", preset, form.pop("url", server.base_url), **form)
    return services.models.connections.add_models(view.id, names)


def test_compare_shows_cost_unknown_local_zero_and_the_maps_price_side_by_side(services):
    with (
        ConnectionServer(["tiny"]) as local_server,
        ConnectionServer(["llama-3.3-70b-versatile", "openai/gpt-oss-20b"]) as hosted,
    ):
        [here] = add(services, "vllm", local_server, ["tiny"])
        unlisted, listed = add(services, "groq", hosted, ["llama-3.3-70b-versatile", "openai/gpt-oss-20b"])
        run_id, final = compare(services, [here.key, unlisted.key, listed.key], "Hi")
    assert [s.status for s in final] == ["ok", "ok", "ok"]
    local_usage, unknown_usage, priced_usage = (s.usage for s in final)
    assert (local_usage.cost_usd, local_usage.price_source) == (0.0, PriceSource.LOCAL)
    assert format_usage(local_usage).endswith("local: $0, by choice")
    assert format_usage(local_usage, "pt-BR").endswith("local: US$ 0, por escolha")
    assert unknown_usage.cost_usd is None and format_usage(unknown_usage).endswith("cost unknown")  # never $0
    price = services.registry.get_spec(listed.key).price  # from the map: groq/openai/gpt-oss-20b
    assert services.registry.get_spec(listed.key).price_match == "groq/openai/gpt-oss-20b"
    assert priced_usage.cost_usd > 0
    assert priced_usage.cost_usd == pytest.approx((7 * price.input_per_m + 5 * price.output_per_m) / 1e6)
    with services.uow_factory() as uow:  # saved with the answer: a reopened run still says why
        saved = [(g.cost_usd, g.price_source) for g in uow.generations.list_for_run(run_id)]
    assert saved == [(0.0, "local"), (None, None), (pytest.approx(priced_usage.cost_usd), "table")]
    reopened = services.compare.load_run(run_id).states
    assert [state[-1]["usage"]["price_source"] for state in reopened] == ["local", None, "table"]
    tags = services.models.prices  # what the connection's checkboxes say before a model is added
    assert str(tags.listed_price("groq", "http://127.0.0.1:1/v1", "openai/gpt-oss-20b", {})).endswith(" per 1M")
    assert str(tags.listed_price("groq", "http://127.0.0.1:1/v1", "llama-3.3-70b-versatile", {})) == "cost unknown"
    assert str(tags.listed_price("vllm", "http://127.0.0.1:1/v1", "gpt-4o-mini", {})) == "local: $0, by choice"
    assert str(tags.listed_price("azure", "https://a.openai.azure.com", "prod", {"model": "gpt-4o-mini"})).startswith(
        "$"
    )
    detail = services.history.detail(run_id)
    assert "local: $0, by choice" in detail and "cost unknown" in detail
    [summary] = [s for s in services.history.search() if s.id == run_id]
    assert summary.cost == "unknown"  # one unknown price makes the run's total unknown, not a partial sum


def test_a_price_set_by_the_user_wins_counts_at_once_and_can_be_cleared(services):
    with ConnectionServer(["llama-3.3-70b-versatile"]) as hosted:
        [model] = add(services, "groq", hosted, ["llama-3.3-70b-versatile"])
        assert "not in LiteLLM's price map" in str(services.models.prices.details(model.key)[0])
        compare(services, [model.key], "Hi")  # loads the backend with no price
        said = services.models.prices.set(model.key, 0.59, "0.79")
        assert str(said) == f"{model.name} now costs $0.59 input · $0.79 output per 1M tokens (your price)."
        _, [column] = compare(services, [model.key], "Hi")
        assert column.usage.cost_usd == pytest.approx((7 * 0.59 + 5 * 0.79) / 1e6)
        assert column.usage.price_source == PriceSource.OVERRIDE
        assert "set by you" in str(services.models.prices.details(model.key)[0])
        cleared = services.models.prices.clear(model.key)
        assert str(cleared) == f"Your price for {model.name} is cleared. Now: cost unknown."
        assert "nothing was changed" in str(services.models.prices.clear(model.key))
    for bad, refusal in (
        (("", 1), "Enter both prices"),
        (("x", 1), "must be numbers"),
        ((-1, 1), "negative"),
        ((1e6, 1), "more than any model"),
    ):
        with pytest.raises(InvalidInput, match=refusal):
            services.models.prices.set(model.key, *bad)
    assert services.registry.get_spec(model.key).price is None  # nothing was saved by a refusal


def test_a_local_models_price_is_zero_by_choice_and_an_override_wins_there_too(services):
    key = "embedded/smollm2-135m-instruct"
    spec = services.registry.get_spec(key)
    assert (spec.price, spec.price_source) == (Price(0.0, 0.0), PriceSource.LOCAL)
    assert (spec.context_length, spec.context_source) == (services.settings.n_ctx, ContextSource.N_CTX)
    lines = [str(line) for line in services.models.prices.details(key)]
    assert lines[0].startswith("Price: local: $0, by choice. It runs on your own machine")
    assert lines[1].startswith("Context window: 4,096 tokens, the n_ctx llama.cpp loads it with")
    services.models.prices.set(key, 0.01, 0.02)  # e.g. to count electricity
    assert services.registry.get_spec(key).price_source == PriceSource.OVERRIDE


def test_a_prompt_too_long_for_the_listed_window_is_refused_before_any_request(services):
    with ConnectionServer(["long-ctx"], context_length=1000) as server:
        [model] = add(services, "vllm", server, ["long-ctx"])
        spec = services.registry.get_spec(model.key)
        assert (spec.context_length, spec.context_source) == (1000, ContextSource.SERVER)
        posts_before = len(server.posts())
        run_id, [column] = compare(services, [model.key], "word " * 1000)  # 5000 characters: about 1,254 tokens
        assert column.status == "error" and server.posts()[posts_before:] == []  # nothing reached the server
        english = str(column.error)  # a Text: shown in the reader's language, kept in English
        assert english.startswith("vllm lab/long-ctx takes at most 1,000 tokens (prompt and answer together)")
        assert "about 1,254 tokens (estimated at 4 characters a token)" in english
        assert render(column.error, "pt-BR").startswith("vllm lab/long-ctx aceita no máximo 1.000 tokens")
        with services.uow_factory() as uow:  # recorded like any other refusal: History shows it
            [gen] = uow.generations.list_for_run(run_id)
        assert (gen.status, gen.error) == ("error", english)
        _, [fits] = compare(services, [model.key], "word " * 150)  # about 192 + 64 tokens: sent
        assert fits.status == "ok" and len(server.posts()) == posts_before + 1


def test_an_azure_deployment_takes_the_maps_price_and_window_of_the_model_it_runs(services):
    with ConnectionServer(["prod-mini"], azure=True) as server:
        url = f"{server.origin}/openai/deployments/prod-mini/chat/completions?api-version=2024-10-21"
        [model] = add(services, "azure", server, ["prod-mini"], url=url, typed_key=TYPED_KEY)
        spec = services.registry.get_spec(model.key)
        assert (spec.price_source, spec.price_match, spec.context_source) == ("table", "azure/gpt-4o-mini", "table")
        assert spec.context_length == 128000
        posts_before = len(server.posts())
        _, [column] = compare(services, [model.key], "x" * 520_000)  # about 130,000 tokens
        assert column.status == "error" and "128,000 tokens" in column.error
        assert len(server.posts()) == posts_before  # refused here, not by Azure's HTTP 400
        _, [answered] = compare(services, [model.key], "Hi")
    assert answered.usage.cost_usd == pytest.approx((7 * spec.price.input_per_m + 5 * spec.price.output_per_m) / 1e6)
