"""A model's price and context window, decided in one place for every tab.

The order, first that applies:

1. the price the user set for this model (``price_overrides``; the endpoint form's typed price
   is stored there too): ``PriceSource.OVERRIDE``;
2. a model that runs on the user's own machine or network costs $0, by choice
   (``PriceSource.LOCAL``): llama.cpp and transformers models (embedded, found, added,
   fine-tuned), a connection made with a local preset (Ollama, LM Studio, vLLM, llama.cpp
   server, TGI), and any other endpoint whose host is this machine or a private address;
3. LiteLLM's price map (``PriceSource.TABLE``, see ``prices.match``), for a hosted provider
   known by its connection preset or, for a single endpoint, by its host;
4. otherwise unknown: ``price`` stays None and every cost shows "cost unknown", never $0.

The context window: what the server's model list said, else the map's ``max_input_tokens``
for a hosted model, and for llama.cpp the ``n_ctx`` it is loaded with.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from playground.models import prices
from playground.models.presets import CUSTOM, KIND_AZURE, PRESETS
from playground.models.presets import preset as preset_by_id
from playground.models.types import BackendKind, ContextSource, ModelSpec, Price, PriceSource, Usage
from storage import UnitOfWork

log = logging.getLogger(__name__)
PRESET_KEY = "preset"  # ModelSpec.extra: the connection's preset id (playground.models.entry_specs)
AZURE_HOST_SUFFIX = ".openai.azure.com"


def on_own_network(host: str | None) -> bool:
    """This machine (localhost, loopback) or the user's own network (a private or link-local IP
    literal, an mDNS ``.local`` name). A DNS name elsewhere is not guessed at."""
    name = (host or "").strip("[]").lower()
    if name == "localhost" or name.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def provider_of_host(host: str | None) -> str | None:
    """The hosted preset whose API lives at ``host`` (from the presets' own URLs), else None."""
    name = (host or "").lower()
    if name.endswith(AZURE_HOST_SUFFIX):
        return "azure"
    for item in PRESETS:
        if item.hosted and item.kind != KIND_AZURE and _host(item.base_url) == name:
            return item.id
    return None


def provider_of(spec: ModelSpec) -> str | None:
    """The preset id a remote model is served by: its connection's preset, else its URL's host."""
    chosen = spec.extra.get(PRESET_KEY)
    if chosen and chosen != CUSTOM:
        return str(chosen)
    return provider_of_host(_host(spec.base_url))


def runs_locally(spec: ModelSpec) -> bool:
    if spec.backend != BackendKind.OPENAI:
        return True
    chosen = spec.extra.get(PRESET_KEY)
    if chosen and chosen != CUSTOM:
        return not preset_by_id(str(chosen)).hosted  # a hosted preset stays hosted behind a local proxy
    return on_own_network(_host(spec.base_url))


def resolve(
    spec: ModelSpec,
    override: Price | None,
    table: prices.PriceTable | Callable[[], prices.PriceTable],
    *,
    n_ctx: int | None = None,
    deployment_model: str | None = None,
) -> ModelSpec:
    """``spec`` with its price, price source, the map's entry and its context window filled in.

    ``table`` may be a function, called only for a hosted model (the map is parsed on first need).
    """
    local = runs_locally(spec)
    entry = None
    if not local:
        loaded = table() if callable(table) else table
        entry = prices.match(loaded, provider_of(spec), spec.remote_model, deployment_model)
    price, source = None, None
    if override is not None:
        price, source = override, PriceSource.OVERRIDE
    elif local:
        price, source = Price(0.0, 0.0), PriceSource.LOCAL
    elif entry is not None and entry.price is not None:
        price, source = entry.price, PriceSource.TABLE
    context, context_source = _context(spec, entry, n_ctx)
    return replace(
        spec,
        price=price,
        price_source=source,
        price_match=entry.key if entry is not None else None,
        context_length=context,
        context_source=context_source,
    )


def _context(
    spec: ModelSpec, entry: prices.TableEntry | None, n_ctx: int | None
) -> tuple[int | None, ContextSource | None]:
    if spec.backend == BackendKind.LLAMA_CPP and n_ctx:
        return n_ctx, ContextSource.N_CTX
    listed = spec.extra.get("context_length")
    if isinstance(listed, int) and listed > 0:
        return listed, ContextSource.SERVER
    if entry is not None and entry.context_length:
        return entry.context_length, ContextSource.TABLE
    return None, None


def priced_usage(usage: Usage, spec: ModelSpec) -> Usage:
    """``usage`` with its cost worked out from ``spec``'s price now (an override set after the model
    was loaded counts at once). A local model costs 0 even where its tokens were not counted."""
    if spec.price_source == PriceSource.LOCAL:
        cost: float | None = 0.0
    elif spec.price is not None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
        cost = spec.price.cost(usage.prompt_tokens, usage.completion_tokens)
    else:
        cost = None
    return replace(usage, cost_usd=cost, price_source=str(spec.price_source) if cost is not None else None)


class PriceResolver:
    """Resolves specs against the overrides in the database and the price map, for the registry."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        n_ctx: int | None,
        table: Callable[[], prices.PriceTable] = prices.price_table,
    ):
        self.uow_factory = uow_factory
        self.n_ctx = n_ctx
        self.table = table

    def apply(self, specs: Sequence[ModelSpec]) -> list[ModelSpec]:
        with self.uow_factory() as uow:
            overrides = uow.price_overrides.prices()
            deployments = {s.key: _deployment_model(uow, s) for s in specs if provider_of(s) == "azure"}
        return [
            resolve(
                spec,
                Price(*overrides[spec.key]) if spec.key in overrides else None,
                self.table,
                n_ctx=self.n_ctx,
                deployment_model=deployments.get(spec.key),
            )
            for spec in specs
        ]


def _deployment_model(uow: UnitOfWork, spec: ModelSpec) -> str | None:
    """The model an Azure deployment runs, as the deployments list said when it was listed."""
    connection_id = spec.extra.get("connection_id")
    if not isinstance(connection_id, int) or not spec.remote_model:
        return None
    listed = uow.connections.model(connection_id, spec.remote_model)
    model = listed.details.get("model") if listed is not None else None
    return model if isinstance(model, str) else None
