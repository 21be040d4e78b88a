"""Prices and context windows of well-known hosted models, from LiteLLM's maintained price map.

The map is the JSON file that the ``litellm`` package ships
(``litellm/model_prices_and_context_window_backup.json``). The Makefile installs that pinned
wheel with ``--no-deps`` into ``<venv>/share/litellm-prices``, off ``sys.path``: LiteLLM is never
imported, only its JSON is read, once per process. No price is typed by hand here.

How a model as the app knows it (a provider and the model's remote name) finds its entry is
spelled out in ``RULES``: a list of candidate keys per provider, each allowed only when the
entry's ``litellm_provider`` matches, so a name never borrows another provider's price.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from playground.i18n import Text, t
from playground.models.types import Price

log = logging.getLogger(__name__)

# The pin. The Makefile's PRICE_MAP_VERSION must say the same (a unit test checks).
PRICE_MAP_VERSION = "1.110.2"
# When litellm 1.110.2 was released: the upload time PyPI gives for its files (2026-11-20T04:05Z, in
# the Simple API's JSON, PEP 700 "upload-time"). The wheel itself carries no date (every file in it
# is stamped 1980-01-01) and the app asks no server at run time, so the date is recorded here.
PRICE_MAP_RELEASED = date(2026, 11, 20)
PRICE_MAP_DIR = Path(sys.prefix) / "share" / "litellm-prices"
PRICE_MAP_FILE = Path("litellm") / "model_prices_and_context_window_backup.json"
# Entries that answer chat or completion requests; image, audio and embedding prices are not per token.
TEXT_MODES = frozenset({"chat", "completion", "responses"})


@dataclass(frozen=True)
class TableEntry:
    key: str  # the map's key, e.g. "azure/gpt-4o-mini"
    provider: str  # its litellm_provider, e.g. "azure"
    price: Price | None  # per million tokens; None when the entry has no per-token prices
    context_length: int | None  # max_input_tokens


class PriceTable:
    """The map's text-model entries by key (a key is also found in any letter case)."""

    def __init__(
        self, entries: dict[str, TableEntry] | None = None, version: str | None = None, path: Path | None = None
    ):
        self.entries = dict(entries or {})
        self.version = version  # the installed litellm's version; None when the map is missing
        self.path = path
        self._lowercase = {key.lower(): entry for key, entry in self.entries.items()}

    @property
    def available(self) -> bool:
        return bool(self.entries)

    def get(self, key: str) -> TableEntry | None:
        return self.entries.get(key) or self._lowercase.get(key.lower())


def _per_million(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return round(float(value) * 1_000_000, 6)  # the map's per-token floats carry binary noise


def parse_entry(key: str, value: Any) -> TableEntry | None:
    """One entry of the map, or None when it is not a text model with a provider."""
    if not isinstance(value, dict) or not isinstance(value.get("litellm_provider"), str):
        return None
    if value.get("mode") not in TEXT_MODES:
        return None
    price_in = _per_million(value.get("input_cost_per_token"))
    price_out = _per_million(value.get("output_cost_per_token"))
    price = Price(price_in, price_out) if price_in is not None and price_out is not None else None
    window = value.get("max_input_tokens")
    context = window if isinstance(window, int) and not isinstance(window, bool) and window > 0 else None
    return TableEntry(key, value["litellm_provider"], price, context)


def _installed_version(directory: Path) -> str | None:
    """The version in the installed wheel's metadata (``litellm-<version>.dist-info``)."""
    for info in sorted(directory.glob("litellm-*.dist-info")):
        return info.name[len("litellm-") : -len(".dist-info")]
    return None


def load_price_table(directory: Path = PRICE_MAP_DIR) -> PriceTable:
    """The map installed in ``directory``; an empty table (every hosted price unknown) when it is
    missing or unreadable, logged once, never an error in front of the user."""
    path = directory / PRICE_MAP_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("LiteLLM's price map is not installed at %s (run `make install`): hosted prices are unknown", path)
        return PriceTable()
    except (OSError, ValueError) as err:
        log.warning("LiteLLM's price map at %s could not be read (%s): hosted prices are unknown", path, err)
        return PriceTable()
    if not isinstance(raw, dict):
        log.warning("LiteLLM's price map at %s is not a JSON object: hosted prices are unknown", path)
        return PriceTable()
    entries = {key: entry for key, value in raw.items() if (entry := parse_entry(key, value)) is not None}
    return PriceTable(entries, _installed_version(directory), path)


@lru_cache(maxsize=1)
def price_table() -> PriceTable:
    """The installed map, parsed once per process (about 3 MB of JSON)."""
    return load_price_table()


def table_text(table_version: str | None = None) -> Text:
    """ "Prices from LiteLLM's price map (litellm 1.110.2, 2026-11-20)", or why there are none."""
    version = table_version if table_version is not None else _installed_version(PRICE_MAP_DIR)
    if version is None or not (PRICE_MAP_DIR / PRICE_MAP_FILE).is_file():
        return t("prices.table_missing")
    if version != PRICE_MAP_VERSION:  # someone installed another version: its date is not the one recorded
        return t("prices.table_other_version", version=version)
    return t("prices.table_from", version=version, date=PRICE_MAP_RELEASED)


# ---- matching: provider + remote model name -> the map's entry --------------------------
# Each rule: a key template ({model}: the remote name; {name}: the part after a "vendor/" prefix)
# and the litellm_provider values the entry found must have.
_OPENAI = ("openai", "text-completion-openai")
RULES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "openai": (("{model}", _OPENAI),),
    "azure": (("azure/{deployment_model}", ("azure",)), ("azure/{model}", ("azure",))),
    "gemini": (("gemini/{model}", ("gemini",)),),
    "anthropic": (("{model}", ("anthropic",)),),
    "groq": (("groq/{model}", ("groq",)),),
    "mistral": (("mistral/{model}", ("mistral",)),),
    "together": (("together_ai/{model}", ("together_ai",)),),
    "openrouter": (("openrouter/{model}", ("openrouter",)),),
}
# OpenRouter names a model "<vendor>/<name>" and passes the vendor's price through; where the map
# has no openrouter/ entry, the vendor's own entry is used.
OPENROUTER_VENDORS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "openai": (("{name}", _OPENAI),),
    "anthropic": (("{name}", ("anthropic",)), ("{name_dashed}", ("anthropic",))),
    "google": (("gemini/{name}", ("gemini",)),),
    "mistralai": (("mistral/{name}", ("mistral",)),),
}


def _names(remote_model: str, deployment_model: str | None) -> dict[str, str]:
    model = remote_model.strip().removeprefix("models/")  # Gemini lists "models/gemini-2.5-flash"
    vendor, _, name = model.partition("/")
    return {
        "model": model,
        "deployment_model": (deployment_model or "").strip(),
        "vendor": vendor if name else "",
        "name": name,
        "name_dashed": name.replace(".", "-"),  # OpenRouter's "claude-sonnet-4.5" is Anthropic's "claude-sonnet-4-5"
    }


def _first(
    table: PriceTable, rules: tuple[tuple[str, tuple[str, ...]], ...], names: dict[str, str]
) -> TableEntry | None:
    for template, providers in rules:
        key = template.format(**names)
        if key.endswith("/") or not key:
            continue  # a blank part (no deployment model, no vendor name)
        entry = table.get(key)
        if entry is not None and entry.provider in providers:
            return entry
    return None


def match(
    table: PriceTable, provider: str | None, remote_model: str | None, deployment_model: str | None = None
) -> TableEntry | None:
    """The map's entry for ``remote_model`` as served by ``provider`` (a preset id), or None.

    ``deployment_model``: for Azure, the model a deployment runs (from the deployments list).
    """
    if not provider or not remote_model or provider not in RULES:
        return None
    names = _names(remote_model, deployment_model)
    found = _first(table, RULES[provider], names)
    if found is None and provider == "openrouter" and names["vendor"] in OPENROUTER_VENDORS:
        found = _first(table, OPENROUTER_VENDORS[names["vendor"]], names)
    return found
