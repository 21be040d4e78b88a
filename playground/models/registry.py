"""The models a user can pick, loaded lazily, cached, and unloaded least-recently-used first.

Keys: ``embedded/...`` for packaged models, ``local/<abs path>`` for files found in models
folders, ``entry/<id>`` for models the user added (paths and endpoints, kept in the database).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from playground.errors import ModelLoadError, ModelNotFound
from playground.models.base import Backend
from playground.models.discovery import LOCAL_PREFIX, scan_folder, spec_for_path
from playground.models.embedded import embedded_specs
from playground.models.secrets import SecretStore
from playground.models.types import BackendKind, ModelSource, ModelSpec, Price
from playground.settings import Settings
from storage import UnitOfWork

log = logging.getLogger(__name__)
ENTRY_PREFIX = "entry/"
BackendFactory = Callable[[ModelSpec], Backend]


def entry_key(entry_id: int) -> str:
    return f"{ENTRY_PREFIX}{entry_id}"


@dataclass
class _Slot:
    """One model's backend plus the bookkeeping the registry needs around it."""

    backend: Backend
    lock: threading.Lock  # serialises generation: local backends are not re-entrant
    users: int = 0
    last_used: float = 0.0
    error: str | None = None
    loading: bool = False


class ModelRegistry:
    def __init__(
        self,
        settings: Settings,
        uow_factory: Callable[[], UnitOfWork],
        backend_factory: BackendFactory,
        secrets: SecretStore | None = None,
    ):
        self.settings = settings
        self.uow_factory = uow_factory
        self.backend_factory = backend_factory
        self.secrets = secrets or SecretStore()
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.RLock()

    # ---- what exists -------------------------------------------------------------
    def model_dirs(self) -> list[Path]:
        dirs = [self.settings.models_dir, *self.settings.extra_model_dirs]
        with self.uow_factory() as uow:
            dirs.extend(Path(f.path) for f in uow.folders.list())
        unique: list[Path] = []
        for d in dirs:
            if d not in unique:
                unique.append(d)
        return unique

    def list_specs(self) -> list[ModelSpec]:
        specs = embedded_specs(self.settings.cache_dir)
        specs.extend(self._entry_specs())
        known_paths = {s.path for s in specs if s.path}
        for folder in self.model_dirs():
            for spec in scan_folder(folder):
                if spec.path not in known_paths:
                    known_paths.add(spec.path)
                    specs.append(spec)
        return specs

    def get_spec(self, key: str) -> ModelSpec:
        for spec in embedded_specs(self.settings.cache_dir):
            if spec.key == key:
                return spec
        if key.startswith(ENTRY_PREFIX):
            try:
                entry_id = int(key[len(ENTRY_PREFIX) :])
            except ValueError:
                entry_id = -1
            with self.uow_factory() as uow:
                entry = uow.models.get(entry_id)
                if entry is not None:
                    return spec_from_entry(entry)
        if key.startswith(LOCAL_PREFIX):
            spec = spec_for_path(Path(key[len(LOCAL_PREFIX) :]))
            if spec is not None:
                return spec
        raise ModelNotFound(f"The model {key!r} is no longer available (it was removed or its file is gone).")

    def _entry_specs(self) -> list[ModelSpec]:
        with self.uow_factory() as uow:
            return [spec_from_entry(e) for e in uow.models.list()]

    # ---- loading -----------------------------------------------------------------
    def status(self, key: str) -> str:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                return "not loaded"
            if slot.loading:
                return "loading"
            if slot.error:
                return f"failed: {slot.error}"
            if slot.backend.spec.is_remote:
                return "ready (remote)"
            return "loaded" if slot.backend.loaded else "not loaded"

    def loaded_keys(self) -> list[str]:
        with self._lock:
            return [k for k, s in self._slots.items() if s.backend.loaded]

    def _slot(self, key: str) -> _Slot:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                spec = self.get_spec(key)
                slot = _Slot(backend=self.backend_factory(spec), lock=threading.Lock())
                self._slots[key] = slot
            return slot

    @contextmanager
    def use(self, key: str) -> Iterator[Backend]:
        """Hold a loaded backend for one generation. Remote models run concurrently;
        local ones one generation at a time per model."""
        slot = self._slot(key)
        with self._lock:
            slot.users += 1
            slot.last_used = time.monotonic()
            self._slots.move_to_end(key)
        exclusive = not slot.backend.spec.is_remote
        try:
            if exclusive:
                slot.lock.acquire()
            try:
                self._ensure_loaded(key, slot)
                yield slot.backend
            finally:
                if exclusive:
                    slot.lock.release()
        finally:
            with self._lock:
                slot.users -= 1
                slot.last_used = time.monotonic()

    def _ensure_loaded(self, key: str, slot: _Slot) -> None:
        if slot.backend.loaded:
            return
        with self._lock:
            slot.loading, slot.error = True, None
        try:
            started = time.perf_counter()
            slot.backend.load()
            log.info("Loaded %s in %.1f s", key, time.perf_counter() - started)
        except ModelLoadError as err:
            with self._lock:
                slot.error = str(err)
            log.warning("Could not load %s: %s", key, err)
            raise
        except MemoryError as err:
            with self._lock:
                slot.error = "out of memory"
            raise ModelLoadError(f"Ran out of memory loading {slot.backend.spec.name}. Unload other models and try again.") from err
        except Exception as err:
            with self._lock:
                slot.error = f"{type(err).__name__}: {err}"
            log.exception("Unexpected failure loading %s", key)
            raise ModelLoadError(f"Could not load {slot.backend.spec.name}: {err}") from err
        finally:
            with self._lock:
                slot.loading = False
        self._enforce_budget(keep=key)

    def _enforce_budget(self, keep: str) -> None:
        budget = self.settings.memory_budget_mb * 1024 * 1024
        with self._lock:
            used = sum(s.backend.memory_bytes() for s in self._slots.values() if s.backend.loaded)
            for key, slot in list(self._slots.items()):  # oldest first
                if used <= budget:
                    break
                if key == keep or slot.users > 0 or not slot.backend.loaded:
                    continue
                freed = slot.backend.memory_bytes()
                slot.backend.unload()
                used -= freed
                log.info("Unloaded %s to stay within the %d MB memory budget", key, self.settings.memory_budget_mb)

    def unload(self, key: str) -> bool:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or not slot.backend.loaded or slot.users > 0:
                return False
            slot.backend.unload()
            return True

    def forget(self, key: str) -> None:
        """Drop a model from the cache (after it was removed); an in-flight generation finishes first."""
        with self._lock:
            slot = self._slots.pop(key, None)
        if slot is not None:
            with slot.lock:
                slot.backend.unload()
        self.secrets.forget(key)

    def close(self) -> None:
        with self._lock:
            for slot in self._slots.values():
                if slot.backend.loaded:
                    slot.backend.unload()
            self._slots.clear()


def spec_from_entry(entry) -> ModelSpec:  # entry: storage.orm.ModelEntry
    backend = BackendKind(entry.backend)
    endpoint = entry.endpoint
    price = None
    if endpoint is not None and endpoint.price_input_per_m is not None and endpoint.price_output_per_m is not None:
        price = Price(endpoint.price_input_per_m, endpoint.price_output_per_m)
    size = None
    if entry.path:
        path = Path(entry.path)
        if path.is_file():
            size = path.stat().st_size
        elif path.is_dir():
            from playground.models.validation import folder_size

            size = folder_size(path)
    return ModelSpec(
        key=entry_key(entry.id),
        name=entry.name,
        backend=backend,
        source=ModelSource.USER,
        path=entry.path,
        gguf_file=entry.gguf_file,
        adapter_path=entry.adapter_path,
        base_url=endpoint.base_url if endpoint else None,
        remote_model=entry.remote_model,
        api_key_env=endpoint.api_key_env if endpoint else None,
        price=price,
        size_bytes=size,
        chat_template=entry.chat_template,
        entry_id=entry.id,
        extra={"timeout_s": endpoint.timeout_s} if endpoint and endpoint.timeout_s else {},
    )
