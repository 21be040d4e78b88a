"""Which models a server offers: OpenAI-style ``GET {base}/models``, Ollama's ``GET /api/tags``
(sizes, quantisation, family), Azure's deployments. Every failure is a plain sentence.

No redirect is followed (it would carry the key elsewhere), the body read is capped, and a
server's own words are never echoed back beyond its status: the listing says no more about an
address than the endpoint form's test does.
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from playground.errors import EndpointError, InvalidInput
from playground.i18n import t
from playground.models import azure
from playground.models.openai_wire import normalize_base_url
from playground.models.presets import KIND_AZURE, KIND_OLLAMA

log = logging.getLogger(__name__)
MAX_LIST_BYTES = 16 * 1024 * 1024  # OpenRouter's list with descriptions is a few MB
CONTEXT_FIELDS = ("context_length", "context_window", "max_context_length", "max_model_len")


class NoModelList(InvalidInput):
    """The server has no model list (404): the user types the model names instead."""


@dataclass(frozen=True)
class ListedModel:
    id: str
    details: dict[str, Any] = field(default_factory=dict)
    context_length: int | None = None


@dataclass(frozen=True)
class ListRequest:
    base_url: str
    kind: str
    headers: dict[str, str]  # the key's header included, already checked for this origin
    key_sent: bool
    timeout_s: float = 20.0


def _transport_failure(err: httpx.TransportError, url: str, timeout_s: float) -> EndpointError:
    if isinstance(err, httpx.TimeoutException):
        return EndpointError(t("connections.list_timeout", url=url, seconds=timeout_s))
    causes: list[BaseException] = []
    cause: BaseException | None = err
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, socket.gaierror) for c in causes) or "name" in str(err).lower():
        return EndpointError(t("connections.unknown_host", host=urlsplit(url).hostname or url))
    if isinstance(err, httpx.ConnectError):
        return EndpointError(t("connections.nothing_listening", url=url))
    return EndpointError(t("connections.list_broke", url=url))


def _get(client: httpx.Client, url: str, request: ListRequest) -> tuple[int, str, bytes, str | None]:
    """(status, content type, body up to the cap, redirect location)."""
    try:
        with client.stream(
            "GET", url, headers=request.headers, timeout=request.timeout_s, follow_redirects=False
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_LIST_BYTES:
                    raise EndpointError(t("connections.list_too_big", url=url))
            content_type = response.headers.get("content-type", "").lower()
            return response.status_code, content_type, bytes(body), response.headers.get("location")
    except httpx.TransportError as err:
        raise _transport_failure(err, url, request.timeout_s) from err


def _is_html(content_type: str, body: bytes) -> bool:
    return "html" in content_type or body.lstrip()[:1] == b"<"


def _fetch_json(client: httpx.Client, url: str, request: ListRequest) -> Any:
    status, content_type, body, location = _get(client, url, request)
    if 300 <= status < 400:
        raise EndpointError(t("connections.list_redirect", url=url, location=(location or "?")[:200]))
    if status in (401, 403):
        key = "connections.list_key_refused" if request.key_sent else "connections.list_needs_key"
        raise EndpointError(t(key, url=url, status=status))
    if status in (404, 405):
        key = "connections.no_model_list_html" if _is_html(content_type, body) else "connections.no_model_list"
        raise NoModelList(t(key, url=url, status=status))
    if status >= 500:
        raise EndpointError(t("connections.list_server_error", url=url, status=status))
    if status >= 400:
        raise EndpointError(t("connections.list_refused", url=url, status=status))
    if _is_html(content_type, body):
        raise EndpointError(t("connections.not_openai_html", url=url))
    try:
        return json.loads(body)
    except ValueError as err:
        raise EndpointError(t("connections.not_openai", url=url)) from err


def _context_length(item: dict[str, Any]) -> int | None:
    for name in CONTEXT_FIELDS:
        value = item.get(name)
        if isinstance(value, int) and value > 0:
            return value
    for nested in ("top_provider", "meta"):  # OpenRouter; llama.cpp server's n_ctx_train
        inner = item.get(nested)
        if isinstance(inner, dict):
            value = inner.get("context_length") or inner.get("n_ctx_train")
            if isinstance(value, int) and value > 0:
                return value
    return None


def parse_openai_list(payload: Any, url: str) -> list[ListedModel]:
    """``{"data": [{"id": ...}]}`` (OpenAI and most servers) or a bare list (Together)."""
    items = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise EndpointError(t("connections.not_openai", url=url))
    models: dict[str, ListedModel] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            continue
        details = {k: item[k] for k in ("owned_by", "name") if isinstance(item.get(k), str) and item[k]}
        models[item["id"]] = ListedModel(item["id"].strip(), details, _context_length(item))
    return list(models.values())


def parse_ollama_tags(payload: Any, url: str) -> list[ListedModel]:
    items = payload.get("models") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise EndpointError(t("connections.not_openai", url=url))
    models = []
    for item in items:
        name = item.get("model") or item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            continue
        facts = item.get("details") if isinstance(item.get("details"), dict) else {}
        details: dict[str, Any] = {"size": item["size"]} if isinstance(item.get("size"), int) else {}
        for source, target in (("family", "family"), ("parameter_size", "parameters"), ("quantization_level", "quant")):
            if isinstance(facts.get(source), str) and facts[source]:
                details[target] = facts[source]
        models.append(ListedModel(name, details))
    return models


def parse_azure_deployments(payload: Any, url: str) -> list[ListedModel]:
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise EndpointError(t("connections.not_openai", url=url))
    models = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item.get("status") in (None, "succeeded"):
            details = {"model": item["model"]} if isinstance(item.get("model"), str) else {}
            models.append(ListedModel(item["id"], details))
    return models


def _ollama_root(base_url: str) -> str:
    base = normalize_base_url(base_url)
    return base[: -len("/v1")] if base.endswith("/v1") else base


def list_models(request: ListRequest, client: httpx.Client) -> list[ListedModel]:
    """The models the server lists. Raises NoModelList (type names instead) or EndpointError."""
    base = normalize_base_url(request.base_url)
    if request.kind == KIND_AZURE:
        url = azure.deployments_url(f"{urlsplit(base).scheme}://{urlsplit(base).netloc}")
        return parse_azure_deployments(_fetch_json(client, url, request), url)
    if request.kind == KIND_OLLAMA:
        url = _ollama_root(base) + "/api/tags"
        try:
            return parse_ollama_tags(_fetch_json(client, url, request), url)
        except (EndpointError, InvalidInput) as err:  # an Ollama behind a proxy that only passes /v1
            log.info("Ollama's own list at %s failed (%s); trying %s/models", url, err, base)
    url = base + "/models"
    return parse_openai_list(_fetch_json(client, url, request), url)
