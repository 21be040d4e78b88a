"""Measured load times: the waiting line, the JSON store, the registry's use of both, warm-up."""

import json
import threading
import time

from playground.compare.fanout import ColumnState
from playground.models.load_times import (
    LOAD_TIMES_FILE,
    WAITING_FOR_MODEL,
    LoadTimeStore,
    format_seconds,
    loading_line,
    model_identity,
)
from playground.models.types import BackendKind, ModelSource, ModelSpec
from playground.settings import WARMUP_DEFAULT, WARMUP_OFF, Settings, parse_warmup
from playground.warmup import start_warmup, warmup_keys
from tests.unit.test_registry import FakeBackend, make_registry, use
from tests.unit.test_registry import registry as registry  # the fixture, shared


def spec(size=100, path="/models/a.gguf", key="local/a", name="Model A"):
    return ModelSpec(
        key=key, name=name, backend=BackendKind.LLAMA_CPP, source=ModelSource.DISCOVERED, path=path, size_bytes=size
    )


# ---- the line a user reads -----------------------------------------------------------------
def test_loading_line_names_the_model_and_the_measured_time():
    assert loading_line("Gemma 3 270M", 14.6) == "Loading Gemma 3 270M (first use, ~15 s)…"
    assert loading_line("Gemma 3 270M", 0.2) == "Loading Gemma 3 270M (first use, ~1 s)…"
    assert loading_line("Big", 300) == "Loading Big (first use, ~5 min)…"
    assert loading_line("Gemma", 3.0, first_use=False) == "Loading Gemma (~3 s)…"


def test_loading_line_without_a_measurement_says_so():
    assert loading_line("Gemma", None) == "Loading Gemma (first use; this can take a little while)…"


def test_seconds_are_rounded_for_people():
    assert [format_seconds(s) for s in (0.01, 1.4, 89, 90, 150)] == ["~1 s", "~1 s", "~89 s", "~2 min", "~2 min"]


def test_a_column_state_without_a_line_waits_for_the_model():
    assert ColumnState(0).waiting_text == WAITING_FOR_MODEL
    assert ColumnState(0, waiting="Loading X (first use, ~2 s)…").waiting_text == "Loading X (first use, ~2 s)…"


# ---- the store -----------------------------------------------------------------------------
def test_store_remembers_across_instances(tmp_path):
    LoadTimeStore(tmp_path / LOAD_TIMES_FILE).record(spec(), 12.345)
    again = LoadTimeStore(tmp_path / LOAD_TIMES_FILE)
    assert again.seconds(spec()) == 12.35
    saved = json.loads((tmp_path / LOAD_TIMES_FILE).read_text())
    assert saved[model_identity(spec())]["name"] == "Model A"


def test_store_keys_by_file_identity_not_name(tmp_path):
    store = LoadTimeStore(tmp_path / LOAD_TIMES_FILE)
    store.record(spec(size=100), 5.0)
    assert store.seconds(spec(size=200)) is None  # same name, another file: not measured
    assert store.seconds(spec(path="/elsewhere/a.gguf")) is None
    assert store.seconds(spec(size=100)) == 5.0


def test_store_keeps_the_last_measurement(tmp_path):
    store = LoadTimeStore(tmp_path / LOAD_TIMES_FILE)
    store.record(spec(), 20.0)
    store.record(spec(), 2.0)
    assert LoadTimeStore(tmp_path / LOAD_TIMES_FILE).seconds(spec()) == 2.0


def test_store_keeps_entries_another_process_wrote(tmp_path):
    first, second = LoadTimeStore(tmp_path / LOAD_TIMES_FILE), LoadTimeStore(tmp_path / LOAD_TIMES_FILE)
    first.record(spec(key="local/a"), 1.0)
    second.record(spec(key="local/b", path="/models/b.gguf"), 2.0)
    fresh = LoadTimeStore(tmp_path / LOAD_TIMES_FILE)
    assert fresh.seconds(spec(key="local/a")) == 1.0
    assert fresh.seconds(spec(key="local/b", path="/models/b.gguf")) == 2.0


def test_a_broken_file_is_ignored_and_rewritten(tmp_path):
    (tmp_path / LOAD_TIMES_FILE).write_text("{not json")
    store = LoadTimeStore(tmp_path / LOAD_TIMES_FILE)
    assert store.seconds(spec()) is None
    store.record(spec(), 3.0)
    assert LoadTimeStore(tmp_path / LOAD_TIMES_FILE).seconds(spec()) == 3.0


# ---- the registry ----------------------------------------------------------------------------
def test_registry_says_loading_with_the_time_measured_by_an_earlier_registry(tmp_path, monkeypatch):
    first = make_registry(tmp_path, monkeypatch)
    assert not first.is_loaded("fake/a")
    assert first.waiting_line("fake/a") == "Loading a (first use; this can take a little while)…"
    use(first, "fake/a")
    assert first.is_loaded("fake/a") and first.waiting_line("fake/a") == WAITING_FOR_MODEL
    later = make_registry(tmp_path, monkeypatch)  # the app restarted on the same data folder
    assert later.expected_load_seconds("fake/a") is not None
    assert later.waiting_line("fake/a") == "Loading a (first use, ~1 s)…"


def test_registry_says_again_after_an_unload(registry):
    use(registry, "fake/a")
    registry.unload("fake/a")
    assert registry.waiting_line("fake/a") == "Loading a (~1 s)…"


def test_waiting_line_for_an_unknown_model_never_fails(registry):
    assert registry.waiting_line("entry/999") == WAITING_FOR_MODEL
    assert registry.expected_load_seconds("entry/999") is None


class SlowBackend(FakeBackend):
    started = threading.Event()
    release = threading.Event()

    def load(self):
        SlowBackend.started.set()
        assert SlowBackend.release.wait(5)
        super().load()


def test_a_request_during_warm_up_waits_for_the_same_load(tmp_path, monkeypatch):
    registry = make_registry(tmp_path, monkeypatch, memory_budget_mb=10_000)
    registry.backend_factory = SlowBackend
    SlowBackend.started.clear(), SlowBackend.release.clear()
    before = FakeBackend.loads
    warming = threading.Thread(target=registry.warm, args=("fake/a",))
    warming.start()
    assert SlowBackend.started.wait(5)
    got = []
    asking = threading.Thread(target=lambda: got.append(use(registry, "fake/a")))
    asking.start()
    time.sleep(0.1)
    assert not got and registry.status("fake/a") == "loading"
    SlowBackend.release.set()
    warming.join(5), asking.join(5)
    assert FakeBackend.loads == before + 1  # one load served both
    assert got and got[0].loaded and registry.status("fake/a") == "loaded"


def test_warm_up_adds_no_copy_when_a_request_already_has_one(registry):
    with registry.use("fake/a"):
        assert registry.warm("fake/a") is False
        assert registry.status("fake/a") == "loaded"  # one copy, not "loaded ×2"
    registry.unload("fake/a")
    assert registry.warm("fake/a") is True and registry.status("fake/a") == "loaded"


# ---- warm-up ---------------------------------------------------------------------------------
def test_parse_warmup():
    assert [parse_warmup(v) for v in ("", "off", "0", "OFF")] == [WARMUP_OFF] * 4
    assert [parse_warmup(v) for v in ("default", "on", "1")] == [WARMUP_DEFAULT] * 3
    assert parse_warmup(" fake/a , fake/b ") == "fake/a,fake/b"


def test_settings_default_to_no_warm_up(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_WARMUP", raising=False)
    assert Settings.from_env(tmp_path).warmup == WARMUP_OFF
    monkeypatch.setenv("PLAYGROUND_WARMUP", "default")
    assert Settings.from_env(tmp_path).warmup == WARMUP_DEFAULT


def test_warm_up_keys(tmp_path, monkeypatch):
    registry = make_registry(tmp_path, monkeypatch)
    settings = registry.settings
    assert warmup_keys(settings, registry) == []
    default = settings.with_overrides(warmup=WARMUP_DEFAULT, default_model_key="fake/b")
    assert warmup_keys(default, registry) == ["fake/b", "fake/a"]  # Compare's two opening models
    listed = settings.with_overrides(warmup="fake/c,missing/x,fake/c")
    assert warmup_keys(listed, registry) == ["fake/c"]


def test_warm_up_off_starts_nothing(registry):
    warmup = start_warmup(registry, registry.settings)
    assert warmup.thread is None and warmup.finished.is_set() and registry.loaded_keys() == []


def test_warm_up_logs_a_failure_and_goes_on(tmp_path, monkeypatch, caplog):
    registry = make_registry(tmp_path, monkeypatch)
    warmup = start_warmup(registry, registry.settings.with_overrides(warmup="fake/broken,fake/a"))
    assert warmup.wait(5)
    assert warmup.loaded == ["fake/a"] and "broken file" in warmup.failed["fake/broken"]
    assert "Warm-up could not load fake/broken" in caplog.text
    assert registry.loaded_keys() == ["fake/a"]
