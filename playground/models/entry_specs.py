"""A saved model entry (``storage.orm.ModelEntry``) as the ModelSpec the registry hands out.

Its price is not read here: ``playground.models.pricing`` decides it for every model at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.models.connection_specs import entry_wire
from playground.models.pricing import PRESET_KEY
from playground.models.types import BackendKind, ModelSource, ModelSpec

ENTRY_PREFIX = "entry/"


def entry_key(entry_id: int) -> str:
    return f"{ENTRY_PREFIX}{entry_id}"


def _size(path_text: str | None) -> int | None:
    if not path_text:
        return None
    path = Path(path_text)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        from playground.models.validation import folder_size

        return folder_size(path)
    return None


def spec_from_entry(entry: Any) -> ModelSpec:  # entry: storage.orm.ModelEntry
    wire = entry_wire(entry)  # its own endpoint, or the connection it was added from
    extra = dict(wire.extra)
    connection = getattr(entry, "connection", None)
    if connection is not None:
        extra[PRESET_KEY] = connection.preset  # which provider's prices apply (pricing.provider_of)
    return ModelSpec(
        key=entry_key(entry.id),
        name=entry.name,
        backend=BackendKind(entry.backend),
        source=ModelSource.USER,
        path=entry.path,
        gguf_file=entry.gguf_file,
        adapter_path=entry.adapter_path,
        base_url=wire.base_url,
        remote_model=entry.remote_model,
        api_key_env=wire.api_key_env,
        size_bytes=_size(entry.path),
        chat_template=entry.chat_template,
        entry_id=entry.id,
        extra=extra,
    )
