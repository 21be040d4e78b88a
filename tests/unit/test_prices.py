"""LiteLLM's price map: how it is read, how a model as the app knows it finds its entry, the
table's date, and the real installed map (``make install`` puts it in the venv)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from playground.models import prices
from playground.models.types import Price

ROOT = Path(__file__).resolve().parents[2]


def entry(provider, cost_in=None, cost_out=None, window=None, mode="chat", **more):
    value = {"litellm_provider": provider, "mode": mode, **more}
    if cost_in is not None:
        value["input_cost_per_token"], value["output_cost_per_token"] = cost_in, cost_out
    if window is not None:
        value["max_input_tokens"] = window
    return value


SYNTHETIC = {
    "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of: chat"},
    "gpt-4o-mini": entry("openai", 1.5e-07, 6e-07, 128000, max_output_tokens=16384),
    "azure/gpt-4o-mini": entry("azure", 1.65e-07, 6.6e-07, 128000),
    "azure/gpt-4o": entry("azure", 2.5e-06, 1e-05, 128000),
    "gpt-image-1": entry("openai", 5e-06, 4e-05, mode="image_generation"),
    "text-embedding-3-small": entry("openai", 2e-08, 0.0, 8191, mode="embedding"),
    "claude-sonnet-4-5": entry("anthropic", 3e-06, 1.5e-05, 200000),
    "gemini/gemini-2.5-flash": entry("gemini", 3e-07, 2.5e-06, 1048576),
    "mistral/mistral-large-latest": entry("mistral", 5e-07, 1.5e-06, 262144),
    "groq/openai/gpt-oss-120b": entry("groq", 1.5e-07, 6e-07, 131072),
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo": entry("together_ai", 8.8e-07, 8.8e-07, 131072),
    "openrouter/qwen/qwen3-coder": entry("openrouter", 2e-07, 8e-07, 262144),
    "no-price-model": entry("openai", window=8192),
    "bad-window": entry("openai", 1e-06, 2e-06, True),
}


@pytest.fixture
def table(tmp_path):
    (tmp_path / "litellm").mkdir()
    (tmp_path / prices.PRICE_MAP_FILE).write_text(json.dumps(SYNTHETIC))
    (tmp_path / "litellm-9.9.9.dist-info").mkdir()
    return prices.load_price_table(tmp_path)


def test_the_map_is_read_as_prices_per_million_tokens_with_the_input_window(table):
    assert table.version == "9.9.9"
    mini = table.get("gpt-4o-mini")
    assert mini == prices.TableEntry("gpt-4o-mini", "openai", Price(0.15, 0.6), 128000)  # no float noise
    assert "sample_spec" not in table.entries  # the map's own documentation entry
    assert table.get("gpt-image-1") is None and table.get("text-embedding-3-small") is None  # not per-token text
    assert table.get("no-price-model").price is None and table.get("no-price-model").context_length == 8192
    assert table.get("bad-window").context_length is None  # a boolean is not a window
    assert table.get("GPT-4O-MINI") is mini  # any letter case


@pytest.mark.parametrize(
    ("provider", "remote", "deployment_model", "key"),
    [
        ("openai", "gpt-4o-mini", None, "gpt-4o-mini"),
        ("azure", "prod-mini", "gpt-4o-mini", "azure/gpt-4o-mini"),  # the deployment's model, from its listing
        ("azure", "gpt-4o", None, "azure/gpt-4o"),  # a deployment named after its model
        ("azure", "gpt-4o", "gpt-4o-mini", "azure/gpt-4o-mini"),  # the listing wins over the name
        ("openrouter", "openai/gpt-4o-mini", None, "gpt-4o-mini"),  # the vendor's price, passed through
        ("openrouter", "anthropic/claude-sonnet-4.5", None, "claude-sonnet-4-5"),
        ("openrouter", "google/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
        ("openrouter", "mistralai/mistral-large-latest", None, "mistral/mistral-large-latest"),
        ("openrouter", "qwen/qwen3-coder", None, "openrouter/qwen/qwen3-coder"),  # its own entry first
        ("groq", "openai/gpt-oss-120b", None, "groq/openai/gpt-oss-120b"),
        ("mistral", "mistral-large-latest", None, "mistral/mistral-large-latest"),
        ("gemini", "models/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),  # as Gemini lists it
        ("gemini", "gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
        ("anthropic", "claude-sonnet-4-5", None, "claude-sonnet-4-5"),
        (
            "together",
            "meta-llama/llama-3.3-70b-instruct-turbo",
            None,
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        ),
    ],
)
def test_each_provider_finds_its_entry(table, provider, remote, deployment_model, key):
    found = prices.match(table, provider, remote, deployment_model)
    assert found is not None and found.key == key


@pytest.mark.parametrize(
    ("provider", "remote"),
    [
        ("openai", "claude-sonnet-4-5"),  # Anthropic's entry is not OpenAI's price
        ("openai", "azure/gpt-4o"),  # nor Azure's
        ("anthropic", "gpt-4o-mini"),
        ("groq", "llama-3.3-70b-versatile"),  # not in the map
        ("azure", "prod-mini"),  # a deployment whose model is not known
        ("openrouter", "meta-llama/llama-3.3-70b-instruct:free"),  # a vendor with no rule
        ("openrouter", "openai/"),
        ("custom", "gpt-4o-mini"),  # an unknown provider borrows nobody's price
        (None, "gpt-4o-mini"),
        ("openai", ""),
    ],
)
def test_a_name_without_its_providers_entry_is_not_priced(table, provider, remote):
    assert prices.match(table, provider, remote) is None


def test_a_missing_or_broken_map_is_an_empty_table_not_an_error(tmp_path):
    assert not prices.load_price_table(tmp_path / "nothing").available
    (tmp_path / "litellm").mkdir()
    (tmp_path / prices.PRICE_MAP_FILE).write_text("{not json")
    assert not prices.load_price_table(tmp_path).available
    (tmp_path / prices.PRICE_MAP_FILE).write_text("[1, 2]")
    assert not prices.load_price_table(tmp_path).available


def test_the_makefile_installs_the_pinned_version_into_the_folder_the_app_reads():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PRICE_MAP_VERSION\s*:=\s*(\S+)$", makefile, re.M).group(1) == prices.PRICE_MAP_VERSION
    assert re.search(r"^PRICE_MAP_DIR\s*:=\s*\$\(VENV\)/share/litellm-prices$", makefile, re.M)
    assert prices.PRICE_MAP_DIR.parts[-2:] == ("share", "litellm-prices")
    for target in ("install", "install-test", "run", "test", "test-fast"):
        assert re.search(rf"^{target}:.*\$\(PRICES\)", makefile, re.M), target


def test_the_table_date_is_shown_in_each_language(tmp_path, monkeypatch):
    assert prices.PRICE_MAP_RELEASED == date(2026, 11, 20)
    shown = prices.table_text(prices.PRICE_MAP_VERSION)
    assert str(shown) == "Prices from LiteLLM's price map (litellm 1.110.2, 2026-11-20)."
    assert shown.render("pt-BR") == "Preços do mapa de preços do LiteLLM (litellm 1.110.2, 20/11/2026)."
    other = str(prices.table_text("1.999.0"))
    assert "litellm 1.999.0" in other and "2026" not in other  # another version's date is not claimed
    monkeypatch.setattr(prices, "PRICE_MAP_DIR", tmp_path)
    assert "not installed" in str(prices.table_text())


# ---- the real map, as `make install` installs it ----------------------------------------------
@pytest.fixture(scope="module")
def real():
    table = prices.price_table()
    assert table.available, f"LiteLLM's price map is missing from {prices.PRICE_MAP_DIR}: run `make install-test`"
    return table


@pytest.fixture(scope="module")
def raw():
    return json.loads((prices.PRICE_MAP_DIR / prices.PRICE_MAP_FILE).read_text())


@pytest.mark.parametrize(
    ("provider", "remote", "deployment_model", "key"),
    [
        ("openai", "gpt-4o-mini", None, "gpt-4o-mini"),
        ("azure", "prod-mini", "gpt-4o-mini", "azure/gpt-4o-mini"),
        ("openrouter", "openai/gpt-4o", None, "gpt-4o"),
        ("groq", "openai/gpt-oss-120b", None, "groq/openai/gpt-oss-120b"),
        ("mistral", "mistral-large-latest", None, "mistral/mistral-large-latest"),
        ("gemini", "models/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
        ("anthropic", "claude-sonnet-4-5", None, "claude-sonnet-4-5"),
    ],
)
def test_the_installed_map_prices_well_known_hosted_models(real, raw, provider, remote, deployment_model, key):
    found = prices.match(real, provider, remote, deployment_model)
    assert found is not None and found.key == key
    expected = raw[key]
    assert found.price == Price(
        pytest.approx(expected["input_cost_per_token"] * 1e6), pytest.approx(expected["output_cost_per_token"] * 1e6)
    )
    assert 0 < found.price.input_per_m <= found.price.output_per_m  # answers cost more than prompts, as priced
    assert found.context_length == expected["max_input_tokens"] > 8000


def test_the_installed_map_is_the_pinned_version_and_knows_no_unlisted_model(real):
    assert real.version == prices.PRICE_MAP_VERSION
    assert str(prices.table_text()) == "Prices from LiteLLM's price map (litellm 1.110.2, 2026-11-20)."
    assert prices.match(real, "groq", "llama-3.3-70b-versatile") is None
    assert prices.match(real, "openai", "my-own-finetune-xyz") is None


def test_a_copy_of_the_map_elsewhere_is_found_by_its_folder(tmp_path, real):
    (tmp_path / "litellm").mkdir()
    shutil.copy(prices.PRICE_MAP_DIR / prices.PRICE_MAP_FILE, tmp_path / prices.PRICE_MAP_FILE)
    copy = prices.load_price_table(tmp_path)
    assert copy.version is None and len(copy.entries) == len(real.entries)
