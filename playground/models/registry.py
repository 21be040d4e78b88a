"""The models a user can pick, loaded lazily, cached, and unloaded least-recently-used first.

Keys: ``embedded/...`` for packaged models, ``local/<abs path>`` for files found in models
folders, ``entry/<id>`` for models the user added (paths and endpoints, kept in the database),
and whatever keys a registered ``ModelProvider`` owns (``finetune/<job id>``: a base model
plus the LoRA adapter of a finished Fine-tune job, provided by ``playground.finetune``; the
models package never imports fine-tuning).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from playground.errors import ModelLoadError, ModelNotFound
from playground.generation_slots import GenerationSlots
from playground.i18n import Text, t
from playground.models.base import Backend, BackendFactory
from playground.models.discovery import LOCAL_PREFIX, scan_folder, spec_for_path
from playground.models.embedded import embedded_specs
from playground.models.entry_specs import ENTRY_PREFIX, entry_key, spec_from_entry
from playground.models.load_times import LOAD_TIMES_FILE, LoadTimeStore, loading_text
from playground.models.pricing import PriceResolver
from playground.models.secrets import SecretStore
from playground.models.types import ModelSpec
from playground.settings import Settings
from storage import UnitOfWork

log = logging.getLogger(__name__)
__all__ = ["ENTRY_PREFIX", "ModelProvider", "ModelRegistry", "entry_key", "spec_from_entry"]  # re-exported


class ModelProvider(Protocol):
    """A source of models that lives outside this package (e.g. fine-tuned adapters).

    Registered with ``ModelRegistry.add_provider``, so the registry lists and resolves its
    keys without importing the code that owns them.
    """

    def list_specs(self) -> list[ModelSpec]:
        """Every model the provider offers now."""
        ...

    def get_spec(self, key: str) -> ModelSpec | None:
        """The model behind ``key``, or None when the key is not this provider's or is gone."""
        ...


@dataclass
class _Replica:
    """One loaded copy of a model. Local backends are not re-entrant, so each copy answers
    one request at a time; a second copy lets two columns use the same model together."""

    backend: Backend
    busy: bool = False
    last_used: float = 0.0
    warming: bool = False  # loaded by warm-up: a request waits for it rather than loading a second copy


@dataclass
class _Pool:
    replicas: list[_Replica] = field(default_factory=list)
    error: str | None = None
    loading: int = 0


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
        # One cap on answers generating at once for the whole process (both doors, every tab).
        self.generation_slots = GenerationSlots(settings.generation_concurrency)
        self._providers: list[ModelProvider] = []
        self._pools: OrderedDict[str, _Pool] = OrderedDict()
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self.load_times = LoadTimeStore(settings.home / LOAD_TIMES_FILE)
        self._ever_loaded: set[str] = set()  # keys loaded at least once by this process
        self.pricing = PriceResolver(uow_factory, settings.n_ctx)  # price and context window of every spec

    # ---- what exists -------------------------------------------------------------
    def add_provider(self, provider: ModelProvider) -> None:
        self._providers.append(provider)

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
        """Every model, each with its price and context window (``pricing``)."""
        return self.pricing.apply(self._unpriced_specs())

    def _unpriced_specs(self) -> list[ModelSpec]:
        specs = embedded_specs(self.settings.cache_dir)
        specs.extend(self._entry_specs())
        for provider in self._providers:
            specs.extend(provider.list_specs())
        known_paths: set[str | None] = {s.path for s in specs if s.path}
        for folder in self.model_dirs():
            for spec in scan_folder(folder):
                if spec.path not in known_paths:
                    known_paths.add(spec.path)
                    specs.append(spec)
        return specs

    def get_spec(self, key: str) -> ModelSpec:
        """The model behind ``key`` with its price and context window. Raises ModelNotFound."""
        return self.pricing.apply([self._find_spec(key)])[0]

    def _find_spec(self, key: str) -> ModelSpec:
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
        for provider in self._providers:
            provided = provider.get_spec(key)
            if provided is not None:
                return provided
        if key.startswith(LOCAL_PREFIX):
            local = spec_for_path(Path(key[len(LOCAL_PREFIX) :]))
            if local is not None:
                return local
        raise ModelNotFound(t("models.model_gone", model=repr(key)))

    def _entry_specs(self) -> list[ModelSpec]:
        with self.uow_factory() as uow:
            return [spec_from_entry(e) for e in uow.models.list()]

    # ---- loading -----------------------------------------------------------------
    def status(self, key: str) -> str:
        return str(self.status_text(key))

    def status_text(self, key: str) -> Text:
        """Whether ``key`` is loaded, loading, failed or remote: a sentence in the reader's language."""
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                return Text("models.state_not_loaded")
            if pool.loading:
                return Text("models.state_loading")
            if pool.error:
                return Text("models.state_failed", {"error": pool.error})
            loaded = sum(1 for r in pool.replicas if r.backend.loaded)
            if pool.replicas and pool.replicas[0].backend.spec.is_remote:
                return Text("models.state_remote")
            if loaded == 0:
                return Text("models.state_not_loaded")
            return Text("models.state_loaded") if loaded == 1 else Text("models.state_loaded_copies", {"n": loaded})

    def is_loaded(self, key: str) -> bool:
        """True when a request for ``key`` needs no load first (a copy is loaded, or it is remote)."""
        with self._lock:
            pool = self._pools.get(key)
            replicas = pool.replicas if pool else []
            return any(r.backend.loaded or r.backend.spec.is_remote for r in replicas)

    def expected_load_seconds(self, key: str) -> float | None:
        """How long ``key`` took to load last time it was measured (in any run of the app), or None."""
        try:
            spec = self.get_spec(key)
        except ModelNotFound:
            return None
        return None if spec.is_remote else self.load_times.seconds(spec)

    def waiting_line(self, key: str) -> str:
        """What a request for ``key`` waits on, said plainly: "Loading <model> (first use, ~N s)…"
        when it is not loaded, else "waiting for the model…". Every tab that generates shows this."""
        return str(self.waiting_text(key))

    def waiting_text(self, key: str) -> Text:
        """``waiting_line`` as a Text, shown in the reader's language."""
        try:
            spec = self.get_spec(key)
        except Exception:  # noqa: BLE001 - a status line must never fail a request; the request itself says why
            return Text("models.waiting_for_model")
        if spec.is_remote or self.is_loaded(key):
            return Text("models.waiting_for_model")
        with self._lock:
            first_use = key not in self._ever_loaded
        return loading_text(spec.name, self.load_times.seconds(spec), first_use)

    def loaded_keys(self) -> list[str]:
        with self._lock:
            return [k for k, p in self._pools.items() if any(r.backend.loaded for r in p.replicas)]

    def _used_bytes(self) -> int:
        return sum(r.backend.memory_bytes() for p in self._pools.values() for r in p.replicas if r.backend.loaded)

    def _acquire(self, key: str) -> _Replica:
        """An idle replica of the model, a new one if memory allows, else wait for one."""
        spec = self.get_spec(key)
        with self._cond:
            pool = self._pools.setdefault(key, _Pool())
            while True:
                if spec.is_remote:  # HTTP clients are shared: no need for copies
                    if not pool.replicas:
                        pool.replicas.append(_Replica(self.backend_factory(spec)))
                    replica = pool.replicas[0]
                    break
                idle = [r for r in pool.replicas if not r.busy]
                idle.sort(key=lambda r: not r.backend.loaded)  # prefer one already loaded
                if idle:
                    replica = idle[0]
                    break
                if any(r.warming for r in pool.replicas):  # the warm-up's copy is nearly ready: share it
                    self._cond.wait()
                    continue
                if self._may_add_replica(pool):
                    replica = _Replica(self.backend_factory(spec))
                    pool.replicas.append(replica)
                    break
                self._cond.wait()
            replica.busy = not spec.is_remote
            replica.last_used = time.monotonic()
            self._pools.move_to_end(key)
            return replica

    def _may_add_replica(self, pool: _Pool) -> bool:
        if not pool.replicas:
            return True
        if len(pool.replicas) >= self.settings.max_replicas:
            return False
        budget = self.settings.memory_budget_mb * 1024 * 1024
        return self._used_bytes() + pool.replicas[0].backend.memory_bytes() <= budget

    def _release(self, replica: _Replica) -> None:
        with self._cond:
            replica.busy = False
            replica.last_used = time.monotonic()
            self._cond.notify_all()

    def warm(self, key: str) -> bool:
        """Load one copy of ``key`` now (start-up warm-up); False when there was nothing to do (a
        copy is loaded or a request is using one, or the model is remote). A request for it
        meanwhile waits for this load instead of loading a second copy. Raises ModelLoadError."""
        spec = self.get_spec(key)
        if spec.is_remote:
            return False
        with self._cond:
            pool = self._pools.setdefault(key, _Pool())
            if any(r.busy or r.backend.loaded for r in pool.replicas):
                return False
            if not pool.replicas:
                pool.replicas.append(_Replica(self.backend_factory(spec)))
            replica = pool.replicas[0]
            replica.busy = replica.warming = True
            replica.last_used = time.monotonic()
            self._pools.move_to_end(key)
        try:
            self._ensure_loaded(key, replica)
        finally:
            with self._lock:
                replica.warming = False
            self._release(replica)
        return True

    @contextmanager
    def use(self, key: str) -> Iterator[Backend]:
        """Hold a loaded backend for one generation."""
        replica = self._acquire(key)
        try:
            self._ensure_loaded(key, replica)
            yield replica.backend
        finally:
            self._release(replica)

    def _ensure_loaded(self, key: str, replica: _Replica) -> None:
        if replica.backend.loaded:
            return
        pool = self._pools[key]
        with self._lock:
            pool.loading += 1
            pool.error = None
        try:
            started = time.perf_counter()
            replica.backend.load()
            elapsed = time.perf_counter() - started
            log.info("Loaded %s in %.1f s", key, elapsed)
        except ModelLoadError as err:
            pool.error = str(err)
            log.warning("Could not load %s: %s", key, err)
            raise
        except MemoryError as err:
            pool.error = "out of memory"
            raise ModelLoadError(t("models.out_of_memory", name=replica.backend.spec.name)) from err
        except Exception as err:
            pool.error = f"{type(err).__name__}: {err}"
            log.exception("Unexpected failure loading %s", key)
            raise ModelLoadError(t("models.could_not_load", name=replica.backend.spec.name, error=str(err))) from err
        finally:
            with self._lock:
                pool.loading -= 1
        self._remember_load(key, replica, elapsed)
        self._enforce_budget(keep=replica)

    def _remember_load(self, key: str, replica: _Replica, seconds: float) -> None:
        with self._lock:
            self._ever_loaded.add(key)
        if replica.backend.spec.is_remote:
            return  # nothing is loaded: the time would say nothing about the next request
        try:  # the spec as it is now: a packaged model assembled by this load has its real size
            spec = self.get_spec(key)
        except ModelNotFound:
            spec = replica.backend.spec
        self.load_times.record(spec, seconds)

    def _enforce_budget(self, keep: _Replica) -> None:
        budget = self.settings.memory_budget_mb * 1024 * 1024
        with self._lock:
            used = self._used_bytes()
            candidates = [
                r for p in self._pools.values() for r in p.replicas if r.backend.loaded and not r.busy and r is not keep
            ]
            for replica in sorted(candidates, key=lambda r: r.last_used):  # least recently used first
                if used <= budget:
                    break
                used -= replica.backend.memory_bytes()
                replica.backend.unload()
                log.info(
                    "Unloaded %s to stay within the %d MB memory budget",
                    replica.backend.spec.key,
                    self.settings.memory_budget_mb,
                )
            for pool in self._pools.values():  # unloaded extra copies are just clutter
                pool.replicas = [r for i, r in enumerate(pool.replicas) if i == 0 or r.busy or r.backend.loaded]

    def unload(self, key: str) -> bool:
        with self._lock:
            pool = self._pools.get(key)
            idle = [r for r in (pool.replicas if pool else []) if r.backend.loaded and not r.busy]
            for replica in idle:
                replica.backend.unload()
            return bool(idle)

    def forget(self, key: str) -> None:
        """Drop a model from the cache (after it was removed); in-flight generations finish first."""
        with self._cond:
            pool = self._pools.pop(key, None)
            while pool is not None and any(r.busy for r in pool.replicas):
                self._cond.wait()
        for replica in pool.replicas if pool else []:
            replica.backend.unload()
        self.secrets.forget(key)

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                for replica in pool.replicas:
                    if replica.backend.loaded:
                        replica.backend.unload()
            self._pools.clear()
