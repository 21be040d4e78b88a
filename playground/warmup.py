"""Warm-up: load the models a new user will try first, in the background, as the app starts.

Set by ``PLAYGROUND_WARMUP`` (``Settings.warmup``): ``off`` (the default, so tests and scripts
that build the app load nothing they did not ask for), ``default`` (what ``make run`` sets:
the models Compare opens with), or comma-separated model keys.

It never blocks start-up or a request: it runs in one daemon thread, one model after another;
a model that fails to load is logged and skipped. A request for a model being warmed waits
for that same load (``ModelRegistry.warm``), so nothing is loaded twice.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from playground.models.registry import ModelRegistry
from playground.settings import WARMUP_DEFAULT, WARMUP_OFF, Settings

log = logging.getLogger(__name__)


def warmup_keys(settings: Settings, registry: ModelRegistry) -> list[str]:
    """The local models to load: as configured, remote endpoints left out (they have nothing to load)."""
    if settings.warmup == WARMUP_OFF:
        return []
    specs = {spec.key: spec for spec in registry.list_specs()}
    if settings.warmup == WARMUP_DEFAULT:
        # Compare's columns alternate the default model and the first other one listed.
        default = settings.default_model_key
        second = next((key for key in specs if key != default), None)
        wanted = [key for key in (default, second) if key]
    else:
        wanted = [key.strip() for key in settings.warmup.split(",") if key.strip()]
    keys: list[str] = []
    for key in wanted:
        spec = specs.get(key)
        if spec is None:
            log.warning("Warm-up skips %s: no such model", key)
        elif not spec.is_remote and key not in keys:
            keys.append(key)
    return keys


@dataclass
class Warmup:
    """A running (or finished) warm-up: which models, and how each went."""

    keys: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    finished: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)


def _run(registry: ModelRegistry, settings: Settings, warmup: Warmup) -> None:
    try:
        try:
            warmup.keys = warmup_keys(settings, registry)
        except Exception:  # e.g. an unreadable models folder: the app runs without warm-up
            log.exception("Warm-up could not list the models; skipping it")
            return
        if warmup.keys:
            log.info("Warm-up: loading %s in the background", ", ".join(warmup.keys))
        for key in warmup.keys:
            if warmup.stop.is_set():
                break
            started = time.perf_counter()
            try:
                loaded_now = registry.warm(key)
            except Exception as err:  # noqa: BLE001 - warm-up is a courtesy: the user's own request reports it
                warmup.failed[key] = str(err)
                log.warning("Warm-up could not load %s: %s", key, err)
                continue
            warmup.loaded.append(key)
            if loaded_now:
                log.info("Warm-up loaded %s in %.1f s", key, time.perf_counter() - started)
    finally:
        warmup.finished.set()


def start_warmup(registry: ModelRegistry, settings: Settings) -> Warmup:
    """Start loading the configured models in a background thread; returns at once (even the
    list of models is read in that thread: a slow models folder must not delay start-up)."""
    warmup = Warmup()
    if settings.warmup == WARMUP_OFF:
        warmup.finished.set()
        return warmup
    warmup.thread = threading.Thread(target=_run, args=(registry, settings, warmup), name="model-warmup", daemon=True)
    warmup.thread.start()
    return warmup
