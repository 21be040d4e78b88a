"""Registry wiring with fake backends: lazy loading, caching, LRU unloading, locking."""

import threading
import time
from types import SimpleNamespace

import pytest

from playground.errors import ModelLoadError, ModelNotFound
from playground.models.base import Backend
from playground.models.registry import ModelRegistry
from playground.models.types import Usage
from playground.settings import Settings

MB = 1024 * 1024


class FakeBackend(Backend):
    loads = 0

    def __init__(self, spec, size_mb=100, fail=False):
        super().__init__(spec)
        self._loaded = False
        self.size = size_mb * MB
        self.fail = fail

    @property
    def loaded(self):
        return self._loaded

    def load(self):
        if self.fail:
            raise ModelLoadError("broken file")
        FakeBackend.loads += 1
        self._loaded = True

    def unload(self):
        self._loaded = False

    def memory_bytes(self):
        return self.size

    def stream(self, messages, params, cancel=None):
        yield "x"
        yield Usage(prompt_tokens=1, completion_tokens=1, ttft_s=0.0, total_s=0.0)


class EmptyUoW:
    folders = SimpleNamespace(list=lambda: [])
    models = SimpleNamespace(list=lambda: [], get=lambda _id: None)
    price_overrides = SimpleNamespace(prices=lambda: {})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def make_registry(tmp_path, monkeypatch, **settings_overrides):
    from playground.models import registry as registry_module
    from playground.models.types import BackendKind, ModelSource, ModelSpec

    specs = {
        f"fake/{name}": ModelSpec(
            key=f"fake/{name}",
            name=name,
            backend=BackendKind.LLAMA_CPP,
            source=ModelSource.EMBEDDED,
            size_bytes=100 * MB,
        )
        for name in ("a", "b", "c", "broken")
    }
    monkeypatch.setattr(registry_module, "embedded_specs", lambda _cache: list(specs.values()))
    settings = Settings(home=tmp_path, database_url="sqlite://", **{"memory_budget_mb": 250, **settings_overrides})
    return ModelRegistry(settings, EmptyUoW, lambda spec: FakeBackend(spec, fail=spec.name == "broken"))


@pytest.fixture
def registry(tmp_path, monkeypatch):
    return make_registry(tmp_path, monkeypatch)


def use(registry, key):
    with registry.use(key) as backend:
        return backend


def test_loads_lazily_and_caches(registry):
    assert registry.status("fake/a") == "not loaded"
    before = FakeBackend.loads
    first = use(registry, "fake/a")
    again = use(registry, "fake/a")
    assert first is again and FakeBackend.loads == before + 1
    assert registry.status("fake/a") == "loaded"


def test_least_recently_used_is_unloaded_over_budget(registry):
    use(registry, "fake/a")
    use(registry, "fake/b")
    use(registry, "fake/a")  # a is now more recent than b
    use(registry, "fake/c")  # 300 MB > 250 MB budget: b goes
    assert registry.status("fake/b") == "not loaded"
    assert set(registry.loaded_keys()) == {"fake/a", "fake/c"}


def test_model_in_use_is_never_unloaded(registry):
    with registry.use("fake/a"):
        use(registry, "fake/b")
        use(registry, "fake/c")
        assert registry.status("fake/a") == "loaded"
    assert registry.status("fake/b") == "not loaded"


def test_load_failure_is_reported_in_status(registry):
    with pytest.raises(ModelLoadError):
        use(registry, "fake/broken")
    assert registry.status("fake/broken") == "failed: broken file"


def test_unknown_key(registry):
    with pytest.raises(ModelNotFound):
        use(registry, "entry/999")


def test_one_copy_answers_one_request_at_a_time(tmp_path, monkeypatch):
    registry = make_registry(tmp_path, monkeypatch, max_replicas=1)
    order = []

    def worker(tag):
        with registry.use("fake/a"):
            order.append(f"start {tag}")
            time.sleep(0.05)
            order.append(f"end {tag}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(0, 6, 2):
        assert order[i].startswith("start") and order[i + 1].startswith("end")
        assert order[i].split()[1] == order[i + 1].split()[1]


def test_manual_unload(registry):
    use(registry, "fake/a")
    assert registry.unload("fake/a") is True
    assert registry.status("fake/a") == "not loaded"
    assert registry.unload("fake/a") is False


def test_concurrent_users_of_one_model_get_separate_copies(registry):
    with registry.use("fake/a") as first:
        with registry.use("fake/a") as second:
            assert first is not second and first.loaded and second.loaded
            assert registry.status("fake/a") == "loaded ×2"
    with registry.use("fake/a") as again:
        assert again in (first, second)


def test_no_extra_copy_beyond_the_memory_budget(tmp_path, monkeypatch):
    registry = make_registry(tmp_path, monkeypatch, memory_budget_mb=150)
    got = []
    with registry.use("fake/a") as first:
        waiter = threading.Thread(target=lambda: got.append(use(registry, "fake/a")))
        waiter.start()
        time.sleep(0.1)
        assert not got  # a second 100 MB copy would pass 150 MB: it waits instead
    waiter.join(timeout=5)
    assert got == [first]


def test_forget_waits_for_the_running_answer(registry):
    with registry.use("fake/a") as backend:
        done = threading.Event()
        threading.Thread(target=lambda: (registry.forget("fake/a"), done.set())).start()
        time.sleep(0.05)
        assert not done.is_set() and backend.loaded
    assert done.wait(5)
    assert not backend.loaded


class OneModelProvider:
    """A ModelProvider that owns keys under ``extra/``."""

    def __init__(self):
        from playground.models.types import BackendKind, ModelSource, ModelSpec

        self.spec = ModelSpec(
            key="extra/one", name="one", backend=BackendKind.TRANSFORMERS, source=ModelSource.FINETUNED
        )

    def list_specs(self):
        return [self.spec]

    def get_spec(self, key):
        return self.spec if key == self.spec.key else None


def test_a_provider_adds_models_the_registry_lists_resolves_and_loads(registry):
    registry.add_provider(OneModelProvider())
    assert "extra/one" in [s.key for s in registry.list_specs()]
    assert registry.get_spec("extra/one").name == "one"
    assert use(registry, "extra/one").spec.key == "extra/one"
    with pytest.raises(ModelNotFound):
        registry.get_spec("extra/two")  # not the provider's: still a plain "not found"


def test_tuned_models_come_from_finished_jobs_whose_adapter_exists(tmp_path):
    from playground.finetune.tuned_models import TunedModelProvider, base_key_of, finetune_key
    from playground.statuses import FinetuneStatus

    adapter = tmp_path / "adapter"
    adapter.mkdir()

    def job(job_id, status, adapter_path=str(adapter)):
        return SimpleNamespace(id=job_id, status=status, adapter_path=adapter_path, base_path=str(tmp_path / "base.gguf"), base_name="Base",
                               name=f"job{job_id}", dataset_name="faq", prompt_format="alpaca")  # fmt: skip

    jobs = {
        1: job(1, FinetuneStatus.DONE),
        2: job(2, FinetuneStatus.RUNNING),
        3: job(3, FinetuneStatus.DONE, str(tmp_path / "gone")),
    }

    class JobsUoW(EmptyUoW):
        finetune_jobs = SimpleNamespace(
            list=lambda statuses: [j for j in jobs.values() if j.status in statuses],
            get=lambda job_id: jobs.get(job_id),
        )

    provider = TunedModelProvider(JobsUoW)
    assert [s.key for s in provider.list_specs()] == [finetune_key(1)]  # running and adapter-less jobs are not models
    tuned = provider.get_spec(finetune_key(1))
    assert tuned.adapter_path == str(adapter) and tuned.name == "Base + job1"
    base = provider.get_spec(base_key_of(1))
    assert base.adapter_path is None and base.extra["prompt_format"] == "alpaca" and base.path == tuned.path
    assert provider.get_spec(finetune_key(2)) is None and provider.get_spec("embedded/x") is None
