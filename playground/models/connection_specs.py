"""How a saved model entry reaches its server: through its own endpoint (the single-model form)
or through a connection (base URL, key reference, headers, Azure's scheme), plus what the
model turned out to need (quirks) and its context length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playground.models import azure
from playground.models.presets import KIND_AZURE

CONNECTION_SECRET_PREFIX = "connection/"


def connection_secret_ref(connection_id: int) -> str:
    """Where a key typed for a connection lives in the SecretStore (memory only)."""
    return f"{CONNECTION_SECRET_PREFIX}{connection_id}"


@dataclass(frozen=True)
class Wire:
    base_url: str | None
    api_key_env: str | None
    extra: dict[str, Any]


def connection_wire(connection: Any, remote_model: str | None) -> Wire:
    """``connection``: a ``storage.orm_connections.Connection``."""
    extra: dict[str, Any] = {
        "connection": connection.name,
        "connection_id": connection.id,
        "secret_ref": connection_secret_ref(connection.id),
    }
    if connection.headers:
        extra["headers"] = dict(connection.headers)
    base_url = connection.base_url
    if connection.kind == KIND_AZURE:
        extra["key_header"] = azure.KEY_HEADER
        if not base_url.rstrip("/").endswith(azure.V1_PATH):
            base_url = azure.deployment_base(base_url.rstrip("/"), remote_model or "")
            extra["api_version"] = connection.api_version or azure.DEFAULT_API_VERSION
    return Wire(base_url, connection.api_key_env, extra)


def entry_wire(entry: Any) -> Wire:
    """``entry``: a ``storage.orm.ModelEntry`` read with its endpoint and connection."""
    connection = getattr(entry, "connection", None)
    if connection is not None:
        wire = connection_wire(connection, entry.remote_model)
    else:
        endpoint = entry.endpoint
        extra = {"timeout_s": endpoint.timeout_s} if endpoint and endpoint.timeout_s else {}
        wire = Wire(endpoint.base_url if endpoint else None, endpoint.api_key_env if endpoint else None, extra)
    if entry.quirks:
        wire.extra["quirks"] = dict(entry.quirks)
    if entry.context_length:
        wire.extra["context_length"] = entry.context_length
    return wire
