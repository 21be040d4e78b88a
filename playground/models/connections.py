"""Connections, the way Open WebUI has them: a server added once, its models listed, the ones the
user ticks added to the registry; Refresh shows what the server added or dropped since; removing
the connection removes its models (past runs keep their own copy of the names and still open).

Keys follow ``secrets``: a connection names an allowed environment variable (checked against the
origin it may go to) or a key typed now and held in memory, bound to the connection's origin.
Header values are plain or ``${VAR}`` references, never secrets (``headers``). The form is on the
facilitator's side only, as the single-endpoint form is; nothing here follows a redirect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from playground.errors import InvalidInput, ModelNotFound
from playground.i18n import Text, t
from playground.models import azure, listing
from playground.models.connection_specs import connection_secret_ref, connection_wire
from playground.models.headers import check_headers, parse_headers, resolve_headers
from playground.models.openai_wire import normalize_base_url
from playground.models.presets import KIND_AZURE, KIND_OLLAMA, preset
from playground.models.registry import ModelRegistry, entry_key
from playground.models.secrets import ENV_NAME, KeyPolicy, origin_of
from playground.models.types import ModelSpec
from playground.models.validation import validate_base_url, validate_name
from storage import UnitOfWork

log = logging.getLogger(__name__)
OLLAMA_PORT = 11434
PLACEHOLDER = "RESOURCE"  # the Azure preset's URL pattern, to be replaced by the user's resource


@dataclass(frozen=True)
class ListedView:
    remote_model: str
    added: bool
    present: bool
    new: bool
    details: dict[str, Any]
    context_length: int | None
    entry_key: str | None


@dataclass(frozen=True)
class ConnectionView:
    id: int
    name: str
    preset: str
    kind: str
    base_url: str
    api_key_env: str | None
    api_version: str | None
    headers: dict[str, str]
    can_list: bool
    models: list[ListedView]
    notes: list[Text] = field(default_factory=list)


@dataclass(frozen=True)
class _Form:
    name: str
    preset: str
    kind: str
    base_url: str
    api_key_env: str | None
    api_version: str | None
    headers: dict[str, str]
    deployment: str | None


def _names(raw: str | Sequence[str]) -> list[str]:
    """Model names typed one per line or comma-separated, each checked, in order, once."""
    parts = raw.replace(",", "\n").splitlines() if isinstance(raw, str) else list(raw)
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if part and part not in names:
            if len(part) > 300 or not part.isprintable():
                raise InvalidInput(t("connections.bad_model_name", name=part[:80]))
            names.append(part)
    return names


class ConnectionsService:
    def __init__(
        self,
        registry: ModelRegistry,
        uow_factory: Callable[[], UnitOfWork],
        keys: KeyPolicy,
        timeout_s: float = 20.0,
        client_factory: Callable[[], httpx.Client] = httpx.Client,
    ):
        self.registry = registry
        self.uow_factory = uow_factory
        self.keys = keys
        self.timeout_s = timeout_s
        self.client_factory = client_factory

    # ---- reading -----------------------------------------------------------------
    def list_connections(self) -> list[ConnectionView]:
        with self.uow_factory() as uow:
            return [self._view(uow, c) for c in uow.connections.list()]

    def get(self, connection_id: int | None) -> ConnectionView:
        with self.uow_factory() as uow:
            return self._view(uow, self._connection(uow, connection_id))

    def _connection(self, uow: UnitOfWork, connection_id: int | None) -> Any:
        found = uow.connections.get(int(connection_id)) if connection_id not in (None, "") else None
        if found is None:
            raise ModelNotFound(t("connections.pick_connection"))
        return found

    def _view(self, uow: UnitOfWork, row: Any, new: Sequence[str] = (), notes: Sequence[Text] = ()) -> ConnectionView:
        models = [
            ListedView(
                m.remote_model,
                m.model_entry_id is not None,
                m.present,
                m.remote_model in new,
                dict(m.details or {}),
                m.context_length,
                entry_key(m.model_entry_id) if m.model_entry_id is not None else None,
            )
            for m in uow.connections.models(row.id)
        ]
        return ConnectionView(
            row.id,
            row.name,
            row.preset,
            row.kind,
            row.base_url,
            row.api_key_env,
            row.api_version,
            dict(row.headers or {}),
            row.can_list,
            models,
            list(notes),
        )

    # ---- saving and listing ------------------------------------------------------
    def _form(
        self, name: str, preset_id: str, base_url: str, key_env: str, headers_text: str, api_version: str
    ) -> _Form:
        chosen = preset(preset_id)
        raw_url = (base_url or "").strip() or chosen.base_url
        if PLACEHOLDER in raw_url:
            raise InvalidInput(t("connections.fill_placeholder", placeholder=PLACEHOLDER))
        deployment, version = None, None
        if chosen.kind == KIND_AZURE:
            target = azure.parse(raw_url, api_version)
            url, version, deployment = target.base_url, target.api_version, target.deployment
        else:
            url = normalize_base_url(validate_base_url(raw_url))
        kind = chosen.kind
        if kind != KIND_AZURE and origin_of(url).endswith(f":{OLLAMA_PORT}"):
            kind = KIND_OLLAMA  # Ollama's own list says more (size, quantisation) than /v1/models
        env = (key_env or "").strip() or None
        if env is not None:
            if not ENV_NAME.fullmatch(env):
                raise InvalidInput(t("models.bad_env_name"))
            self.keys.check(env, url)  # the same check every request makes
        headers = check_headers(parse_headers(headers_text), url, self.keys)
        label = validate_name(name or f"{chosen.label if chosen.base_url else origin_of(url)}", "connection")
        return _Form(label, chosen.id, kind, url, env, version, headers, deployment)

    def _list(self, form: _Form, typed_key: str | None) -> tuple[list[listing.ListedModel], Text | None]:
        """What the server lists now; (nothing, why) when it has no list (the user types names)."""
        url = form.base_url
        headers = resolve_headers(form.headers, url, self.keys)
        key = typed_key or (self.keys.env_key(form.api_key_env, url) if form.api_key_env else None)
        if key:
            headers["api-key" if form.kind == KIND_AZURE else "Authorization"] = (
                key if form.kind == KIND_AZURE else f"Bearer {key}"
            )
        request = listing.ListRequest(url, form.kind, headers, key_sent=bool(key), timeout_s=self.timeout_s)
        with self.client_factory() as client:
            try:
                return listing.list_models(request, client), None
            except listing.NoModelList as err:
                log.info("No model list at %s: %s", url, err)
                return [], err.message if isinstance(err.message, Text) else None

    def save(
        self,
        name: str,
        preset_id: str,
        base_url: str,
        key_env: str = "",
        typed_key: str = "",
        headers_text: str = "",
        api_version: str = "",
        connection_id: int | None = None,
    ) -> ConnectionView:
        """Check the form, list the server's models, and only then save (a server that is not an
        OpenAI-compatible one saves nothing). Saving the same connection again updates it."""
        form = self._form(name, preset_id, base_url, key_env, headers_text, api_version)
        key = (typed_key or "").strip() or None
        if key is None and connection_id not in (None, ""):
            key = self._typed_key(int(connection_id or 0), form.base_url)
        found, no_list = self._list(form, key)
        if form.deployment and form.deployment not in [m.id for m in found]:
            found.append(listing.ListedModel(form.deployment, {"typed": True}))
        with self.uow_factory() as uow:
            row = self._store(uow, form, connection_id, can_list=no_list is None)
            new, _gone = uow.connections.record_listing(row.id, [(m.id, m.details, m.context_length) for m in found])
            listed = t("connections.listed_one" if len(found) == 1 else "connections.listed", count=len(found))
            notes = [no_list] if no_list is not None else [listed]
            view = self._view(uow, row, new if connection_id not in (None, "") else (), notes)  # all new at first
            entry_ids = uow.connections.entry_ids(row.id)
        for entry_id in entry_ids:  # cached backends still hold the old URL, headers or key
            self.registry.forget(entry_key(entry_id))
        ref = connection_secret_ref(view.id)
        if key:
            # Memory only, never the database, and bound to the origin it was typed for.
            self.registry.secrets.set(ref, key, origin_of(form.base_url))
        elif ref in self.registry.secrets:
            self.registry.secrets.forget(ref)  # typed for the connection's old address: never sent to the new one
        log.info("Saved connection %s at %s (%d models listed)", view.name, view.base_url, len(found))
        return view

    def _typed_key(self, connection_id: int, url: str) -> str | None:
        ref = connection_secret_ref(connection_id)
        held = self.registry.secrets.get(ref)
        return held if held and self.registry.secrets.origin(ref) == origin_of(url) else None

    def _store(self, uow: UnitOfWork, form: _Form, connection_id: int | None, *, can_list: bool) -> Any:
        other = uow.connections.by_name(form.name)
        fields = dict(
            name=form.name,
            preset=form.preset,
            kind=form.kind,
            base_url=form.base_url,
            api_key_env=form.api_key_env,
            api_version=form.api_version,
            headers=form.headers,
            can_list=can_list,
        )
        if connection_id not in (None, ""):
            row = self._connection(uow, connection_id)
            if other is not None and other.id != row.id:
                raise InvalidInput(t("connections.name_taken", name=form.name))
            return uow.connections.update(row.id, **fields)
        if other is not None:
            raise InvalidInput(t("connections.name_taken", name=form.name))
        return uow.connections.add(**fields)

    def refresh(self, connection_id: int | None) -> ConnectionView:
        """List the server again: models it added are offered, models it dropped are flagged."""
        with self.uow_factory() as uow:
            row = self._connection(uow, connection_id)
            form = _Form(
                row.name, row.preset, row.kind, row.base_url, row.api_key_env, row.api_version, dict(row.headers), None
            )
        found, no_list = self._list(form, self._typed_key(row.id, row.base_url))
        with self.uow_factory() as uow:
            if no_list is not None:
                uow.connections.update(row.id, can_list=False)
                return self._view(uow, self._connection(uow, row.id), notes=[no_list])
            refreshed = uow.connections.update(row.id, can_list=True)
            listed = [(m.id, m.details, m.context_length) for m in found]
            new, gone = uow.connections.record_listing(row.id, listed)
            return self._view(uow, refreshed, new, _refresh_notes(new, gone, len(found)))

    # ---- adding and removing -----------------------------------------------------
    def add_models(self, connection_id: int | None, chosen: Sequence[str], typed: str = "") -> list[ModelSpec]:
        """Add the ticked models (and any typed names) to the registry as ``<connection>/<model>``."""
        names = _names(list(chosen)) + [n for n in _names(typed or "") if n not in chosen]
        if not names:
            raise InvalidInput(t("connections.nothing_ticked"))
        with self.uow_factory() as uow:
            row = self._connection(uow, connection_id)
            known = {m.remote_model: m for m in uow.connections.models(row.id)}
            typed_only = [n for n in names if n not in known]
            uow.connections.record_listing(row.id, [(n, {"typed": True}, None) for n in typed_only], complete=False)
            entry_ids = [
                self._add_entry(uow, row, name)
                for name in names
                if not getattr(known.get(name), "model_entry_id", None)
            ]
        specs = [self.registry.get_spec(entry_key(i)) for i in entry_ids]
        log.info("Added %d models from connection %s", len(specs), row.name)
        return specs

    def _add_entry(self, uow: UnitOfWork, row: Any, remote_model: str) -> int:
        label = validate_name(f"{row.name}/{remote_model}")
        if uow.models.by_name(label) is not None:
            raise InvalidInput(t("models.name_taken", name=repr(label)))
        listed = uow.connections.model(row.id, remote_model)
        entry = uow.models.add(
            name=label,
            backend="openai",
            connection_id=row.id,
            remote_model=remote_model,
            context_length=listed.context_length if listed else None,
        )
        uow.connections.link_entry(row.id, remote_model, entry.id)
        return entry.id

    def remove(self, connection_id: int | None) -> Text:
        """Remove the connection and every model added from it (saved runs keep their copies)."""
        with self.uow_factory() as uow:
            row = self._connection(uow, connection_id)
            name = row.name
            entry_ids = uow.connections.delete(row.id)
        for entry_id in entry_ids:
            self.registry.forget(entry_key(entry_id))
        self.registry.secrets.forget(connection_secret_ref(int(connection_id or 0)))
        log.info("Removed connection %s and its %d models", name, len(entry_ids))
        return t(
            "connections.removed_one" if len(entry_ids) == 1 else "connections.removed", name=name, count=len(entry_ids)
        )

    def wire_for(self, connection_id: int, remote_model: str) -> Any:
        """How a model of this connection is called (for tests and the details line)."""
        with self.uow_factory() as uow:
            return connection_wire(self._connection(uow, connection_id), remote_model)


def _refresh_notes(new: Sequence[str], gone: Sequence[str], count: int) -> list[Text]:
    notes = []
    if new:
        notes.append(t("connections.refresh_new", names=", ".join(new)))
    if gone:
        notes.append(t("connections.refresh_gone", names=", ".join(gone)))
    if not notes:
        notes.append(t("connections.refresh_same", count=count))
    return notes


def remember_entry_quirks(uow_factory: Callable[[], UnitOfWork]) -> Callable[[ModelSpec, dict[str, Any]], None]:
    """For the backend factory: save what a saved endpoint model turned out to need."""

    def remember(spec: ModelSpec, quirks: dict[str, Any]) -> None:
        if spec.entry_id is None:
            return
        with uow_factory() as uow:
            entry = uow.models.get(spec.entry_id)
            if entry is not None:
                entry.quirks = dict(quirks)
        log.info("Remembered for %s: %s", spec.name, quirks)

    return remember
