"""What the Models tab can do: list, add, test, remove and try models."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from playground.errors import InvalidInput, ModelNotFound
from playground.formatting import format_bytes
from playground.generation import GenerationRecorder, GenerationUpdate
from playground.i18n import DEFAULT_LANGUAGE, Text, render, t
from playground.models.base import BackendFactory
from playground.models.connections import ConnectionsService, remember_entry_quirks
from playground.models.discovery import scan_folder
from playground.models.factory import make_backend_factory
from playground.models.price_overrides import PriceOverrides
from playground.models.registry import ModelRegistry, entry_key
from playground.models.secrets import ENV_NAME, KeyPolicy, SecretStore, origin_of
from playground.models.types import BackendKind, GenerationParams, Message, ModelSource, ModelSpec, Price
from playground.models.validation import (
    existing_path,
    validate_adapter_folder,
    validate_base_url,
    validate_gguf,
    validate_hf_folder,
    validate_name,
)
from playground.settings import Settings
from storage import UnitOfWork

log = logging.getLogger(__name__)
BACKEND_LABELS: dict[BackendKind, Text | str] = {
    BackendKind.LLAMA_CPP: "llama.cpp",
    BackendKind.TRANSFORMERS: "transformers",
    BackendKind.OPENAI: Text("models.backend_openai"),
}


def _render(value: Text | str, language: str) -> str:
    return value.render(language) if isinstance(value, Text) else value


@dataclass(frozen=True)
class ModelRow:
    key: str
    name: str
    backend: str
    source: str
    size: str
    status: str
    description: str


def _optional_price(price_in: float | None, price_out: float | None) -> tuple[float | None, float | None]:
    given = [p for p in (price_in, price_out) if p not in (None, "")]
    if not given:
        return None, None
    if len(given) == 1:
        raise InvalidInput(t("models.both_prices"))
    try:
        values = float(price_in), float(price_out)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise InvalidInput(t("models.prices_not_numbers")) from err
    if any(v < 0 for v in values):
        raise InvalidInput(t("models.prices_negative"))
    return values


class ModelsService:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        uow_factory: Callable[[], UnitOfWork],
        recorder: GenerationRecorder,
        keys: KeyPolicy | None = None,
    ):
        self.settings = settings
        self.registry = registry
        self.uow_factory = uow_factory
        self.recorder = recorder
        self.keys = keys or KeyPolicy(settings.key_vars, first_key_origins(uow_factory))
        # Servers added once, their listed models ticked into the registry (issue 15).
        self.connections = ConnectionsService(
            registry, uow_factory, self.keys, timeout_s=min(settings.http_timeout_s, 30.0)
        )
        # Prices: LiteLLM's map, "local: $0, by choice", and the price a user sets per model.
        self.prices = PriceOverrides(registry, uow_factory)

    # ---- listing -----------------------------------------------------------------
    def list_models(self, language: str = DEFAULT_LANGUAGE) -> list[ModelRow]:
        """Every model the user can pick, its words (backend, source, status) in ``language``."""
        rows = []
        for spec in self.registry.list_specs():
            rows.append(
                ModelRow(
                    key=spec.key,
                    name=spec.name,
                    backend=_render(BACKEND_LABELS[spec.backend], language),
                    source=Text(f"models.source_{spec.source}").render(language),
                    size=format_bytes(spec.size_bytes, language)
                    if not spec.is_remote
                    else t("models.size_remote").render(language),
                    status=self.registry.status_text(spec.key).render(language),
                    description=render(spec.description, language) or (spec.base_url or spec.path or ""),
                )
            )
        return rows

    def choices(self) -> list[tuple[str, str]]:
        """(label, key) pairs for model pickers."""
        return [(spec.name, spec.key) for spec in self.registry.list_specs()]

    def describe(self, key: str) -> ModelSpec:
        return self.registry.get_spec(key)

    # ---- adding ------------------------------------------------------------------
    def _unique_name(self, uow: UnitOfWork, name: str) -> str:
        if uow.models.by_name(name) is not None:
            raise InvalidInput(t("models.name_taken", name=repr(name)))
        return name

    def add_gguf(self, path: str, name: str = "", backend: str = BackendKind.LLAMA_CPP) -> ModelSpec:
        gguf = validate_gguf(path)
        kind = BackendKind(backend)
        if kind == BackendKind.OPENAI:
            raise InvalidInput(t("models.gguf_not_endpoint"))
        label = validate_name(name or (gguf.stem + (" (transformers)" if kind == BackendKind.TRANSFORMERS else "")))
        with self.uow_factory() as uow:
            if kind == BackendKind.LLAMA_CPP and uow.models.by_path(str(gguf)) is not None:
                raise InvalidInput(t("models.already_listed", path=gguf))
            entry = uow.models.add(
                name=self._unique_name(uow, label),
                backend=str(kind),
                path=str(gguf.parent) if kind == BackendKind.TRANSFORMERS else str(gguf),
                gguf_file=gguf.name if kind == BackendKind.TRANSFORMERS else None,
            )
            entry_id = entry.id
        log.info("Added GGUF model %s (%s) from %s", label, kind, gguf)
        return self.registry.get_spec(entry_key(entry_id))

    def add_hf_folder(self, path: str, adapter_path: str = "", name: str = "") -> ModelSpec:
        folder = validate_hf_folder(path)
        adapter = validate_adapter_folder(adapter_path) if (adapter_path or "").strip() else None
        default_name = folder.name + (f" + {adapter.name}" if adapter else "")
        label = validate_name(name or default_name)
        with self.uow_factory() as uow:
            entry = uow.models.add(
                name=self._unique_name(uow, label),
                backend=str(BackendKind.TRANSFORMERS),
                path=str(folder),
                adapter_path=str(adapter) if adapter else None,
            )
            entry_id = entry.id
        log.info("Added HF folder model %s from %s (adapter %s)", label, folder, adapter)
        return self.registry.get_spec(entry_key(entry_id))

    def _endpoint_spec(
        self, name: str, base_url: str, remote_model: str, api_key_env: str, price: Price | None
    ) -> ModelSpec:
        return ModelSpec(
            key="endpoint/unsaved",
            name=name or remote_model,
            backend=BackendKind.OPENAI,
            source=ModelSource.USER,
            base_url=base_url,
            remote_model=remote_model,
            api_key_env=api_key_env or None,
            price=price,
        )

    def _endpoint_inputs(self, base_url: str, remote_model: str, api_key_env: str) -> tuple[str, str, str]:
        url = validate_base_url(base_url)
        model = (remote_model or "").strip()
        if not model:
            raise InvalidInput(t("models.endpoint_no_model"))
        env = (api_key_env or "").strip()
        if env and not ENV_NAME.fullmatch(env):
            raise InvalidInput(t("models.bad_env_name"))
        if env:
            self.keys.check(env, url)  # the same check the backend makes before each request
        return url, model, env

    def test_endpoint(self, base_url: str, remote_model: str, api_key_env: str = "", api_key: str = "") -> str:
        """Send a one-token request to an endpoint before (or without) saving it."""
        from playground.models.openai_http import OpenAIHTTPBackend

        url, model, env = self._endpoint_inputs(base_url, remote_model, api_key_env)
        backend = OpenAIHTTPBackend(
            self._endpoint_spec(model, url, model, env, None),
            api_key=(api_key or "").strip() or None,
            key_origin=origin_of(url),
            keys=self.keys,
            timeout_s=min(self.settings.http_timeout_s, 30.0),
        )
        backend.load()
        try:
            return backend.test_connection()
        finally:
            backend.unload()

    def add_endpoint(
        self,
        name: str,
        base_url: str,
        remote_model: str,
        api_key_env: str = "",
        api_key: str = "",
        price_input_per_m: float | None = None,
        price_output_per_m: float | None = None,
    ) -> ModelSpec:
        url, model, env = self._endpoint_inputs(base_url, remote_model, api_key_env)
        label = validate_name(name or model)
        price_in, price_out = _optional_price(price_input_per_m, price_output_per_m)
        with self.uow_factory() as uow:
            self._unique_name(uow, label)
            endpoint = uow.endpoints.by_name(label)
            if endpoint is not None and (endpoint.base_url, endpoint.api_key_env) != (url, env or None):
                # Reusing it would send this model's requests (and a typed key) to another address.
                raise InvalidInput(t("models.endpoint_name_taken", name=repr(label)))
            endpoint = endpoint or uow.endpoints.add(name=label, base_url=url, api_key_env=env or None)
            entry = uow.models.add(
                name=label, backend=str(BackendKind.OPENAI), endpoint_id=endpoint.id, remote_model=model
            )
            entry_id = entry.id
            if price_in is not None and price_out is not None:  # a typed price is this model's own override
                uow.price_overrides.set(entry_key(entry_id), price_in, price_out, entry_id)
        key = entry_key(entry_id)
        if (api_key or "").strip():
            # Memory only, never the database, and bound to the origin it was typed for.
            self.registry.secrets.set(key, api_key.strip(), origin_of(url))
        log.info("Added endpoint model %s at %s (model %s)", label, url, model)
        return self.registry.get_spec(key)

    def add_folder(self, path: str) -> int:
        """Add a folder to scan for models; returns how many models it holds."""
        folder = existing_path(path, "models folder")
        if not folder.is_dir():
            raise InvalidInput(t("models.folder_is_file", path=folder))
        with self.uow_factory() as uow:
            uow.folders.add(str(folder))
        return len(scan_folder(folder))

    # ---- removing ----------------------------------------------------------------
    def remove(self, key: str) -> Text:
        spec = self.registry.get_spec(key)
        if spec.source == ModelSource.EMBEDDED:
            raise InvalidInput(t("models.built_in", name=spec.name))
        if spec.source == ModelSource.DISCOVERED:
            raise InvalidInput(t("models.discovered_remove", name=spec.name))
        if spec.source == ModelSource.FINETUNED:
            raise InvalidInput(t("models.finetuned_remove", name=spec.name))
        self.registry.forget(key)
        with self.uow_factory() as uow:
            entry = uow.models.get(spec.entry_id) if spec.entry_id is not None else None
            if entry is None:
                raise ModelNotFound(t("models.already_removed", name=spec.name))
            endpoint_id = entry.endpoint_id
            uow.models.delete(entry.id)
            if endpoint_id is not None and not any(m.endpoint_id == endpoint_id for m in uow.models.list()):
                uow.endpoints.delete(endpoint_id)
        log.info("Removed model %s (%s)", spec.name, key)
        return t("models.removed", name=spec.name)

    def unload(self, key: str) -> Text:
        spec = self.registry.get_spec(key)
        if self.registry.unload(key):
            return t("models.unloaded", name=spec.name)
        return t("models.not_loaded", name=spec.name)

    def test_model(self, key: str) -> str:
        spec = self.registry.get_spec(key)
        with self.registry.use(key) as backend:
            if spec.is_remote:
                return backend.test_connection()  # type: ignore[attr-defined]
        return f"{spec.name} loaded."

    # ---- trying ------------------------------------------------------------------
    def check_model(self, key: str | None) -> ModelSpec:
        if not key:
            raise InvalidInput(t("models.pick_model"))
        return self.registry.get_spec(key)

    def check_try(self, key: str | None, prompt: str | None) -> ModelSpec:
        """What a try refuses before anything runs or is saved."""
        if not (prompt or "").strip():
            raise InvalidInput(t("models.no_prompt"))
        return self.check_model(key)

    def try_prompt(
        self,
        key: str,
        prompt: str,
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[GenerationUpdate]:
        spec = self.check_try(key, prompt)
        run_id = self.recorder.start_run("try", title=prompt, meta={"model_key": key, "model_name": spec.name})
        yield from self.recorder.stream(run_id, key, [Message("user", prompt)], params, cancel=cancel)


def first_key_origins(uow_factory: Callable[[], UnitOfWork]) -> Callable[[str], str | None]:
    """For ``KeyPolicy``: the origin of the first saved endpoint using a variable, which binds it."""

    def lookup(name: str) -> str | None:
        with uow_factory() as uow:
            saved = sorted((e.created_at, e.base_url) for e in uow.endpoints.list() if e.api_key_env == name)
            # A connection binds its variable the same way (the first one saved, endpoint or connection).
            saved += sorted((c.created_at, c.base_url) for c in uow.connections.list() if c.api_key_env == name)
        if not saved:
            return None
        first = min(saved, key=lambda pair: pair[0])[1]
        try:
            return origin_of(first)
        except ValueError:
            return first  # not a web address: it matches nothing, so the variable is sent nowhere

    return lookup


def build_models_service(
    settings: Settings,
    uow_factory: Callable[[], UnitOfWork],
    backends: Mapping[BackendKind, BackendFactory] | None = None,
) -> ModelsService:
    """``backends`` replaces the real backend of those kinds (the fast tests pass the fake)."""
    secrets = SecretStore()
    keys = KeyPolicy(settings.key_vars, first_key_origins(uow_factory))
    factory = make_backend_factory(settings, secrets, backends, keys, remember_entry_quirks(uow_factory))
    registry = ModelRegistry(settings, uow_factory, factory, secrets)
    return ModelsService(settings, registry, uow_factory, GenerationRecorder(registry, uow_factory), keys)
