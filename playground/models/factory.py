"""Builds the right backend for a ModelSpec. Adding a backend = one module + one branch here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from playground.models.base import Backend, BackendFactory
from playground.models.secrets import KeyPolicy, SecretStore
from playground.models.types import BackendKind, ModelSpec
from playground.settings import Settings


def make_backend_factory(
    settings: Settings,
    secrets: SecretStore,
    overrides: Mapping[BackendKind, BackendFactory] | None = None,
    keys: KeyPolicy | None = None,
    remember_quirks: Callable[[ModelSpec, dict[str, Any]], None] | None = None,
) -> BackendFactory:
    """The real backends, except the kinds in ``overrides`` (tests inject a fake there). ``keys``
    decides which API-key variables an endpoint may send, and where (default: the settings alone).
    ``remember_quirks(spec, quirks)`` saves what an endpoint model turned out to need."""
    replaced = dict(overrides or {})
    policy = keys or KeyPolicy(settings.key_vars)

    def build(spec: ModelSpec) -> Backend:
        if spec.backend in replaced:
            return replaced[spec.backend](spec)
        if spec.backend == BackendKind.LLAMA_CPP:
            from playground.models.llamacpp import LlamaCppBackend

            return LlamaCppBackend(
                spec, cache_dir=settings.cache_dir, n_ctx=settings.n_ctx, n_threads=settings.n_threads
            )
        if spec.backend == BackendKind.TRANSFORMERS:
            from playground.models.transformers_backend import TransformersBackend

            path = Path(spec.path) / spec.gguf_file if spec.path and spec.gguf_file else None
            return TransformersBackend(
                spec, cache_dir=settings.cache_dir, n_threads=settings.n_threads, model_path=path
            )
        if spec.backend == BackendKind.OPENAI:
            from playground.models.openai_http import OpenAIHTTPBackend

            timeout = float(spec.extra.get("timeout_s") or settings.http_timeout_s)
            ref = spec.extra.get("secret_ref") or spec.key  # a connection's models share its typed key
            return OpenAIHTTPBackend(
                spec,
                api_key=secrets.get(ref),
                key_origin=secrets.origin(ref),
                keys=policy,
                timeout_s=timeout,
                remember_quirks=(lambda quirks: remember_quirks(spec, quirks)) if remember_quirks else None,
            )
        raise ValueError(f"unknown backend {spec.backend!r}")

    return build
