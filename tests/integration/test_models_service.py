"""ModelsService end to end on real parts: SQLite, the registry, llama.cpp and a real
llama_cpp.server endpoint. Every generation is recorded; removing a model keeps its runs."""

import threading

import pytest

from playground.errors import InvalidInput, ModelNotFound
from playground.models.embedded import SMOLLM2_KEY, smollm2_path
from playground.models.types import GenerationParams
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port, start_llama_cpp_server, stop_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    proc, base_url = start_llama_cpp_server(smollm2_path(), free_port(), log_dir=tmp_path_factory.mktemp("server"))
    yield base_url
    stop_process(proc)


@pytest.fixture
def services(tmp_path):
    settings = Settings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'home' / 'playground.db'}", memory_budget_mb=2048
    )
    svc = Services.create(settings)
    yield svc
    svc.close()


def final(updates):
    updates = list(updates)
    assert updates[-1].done
    return updates[-1]


def test_endpoint_added_tried_and_recorded_without_storing_the_key(services, llama_server, monkeypatch):
    monkeypatch.setenv("PG_TEST_API_KEY", "sk-env-secret-123")
    spec = services.models.add_endpoint(
        "Local server",
        llama_server,
        "smollm2",
        api_key_env="PG_TEST_API_KEY",
        api_key="sk-typed-secret-456",
        price_input_per_m=1.0,
        price_output_per_m=2.0,
    )
    assert "Connected" in services.models.test_model(spec.key)
    done = final(
        services.models.try_prompt(spec.key, "Name a colour.", GenerationParams(max_tokens=12, temperature=0, seed=1))
    )
    assert done.status == "ok" and done.text.strip()
    assert done.usage.completion_tokens > 0
    # llama_cpp.server sends no usage in streams: prompt tokens unknown, so cost unknown too.
    if done.usage.tokens_estimated:
        assert done.usage.prompt_tokens is None and done.usage.cost_usd is None
    with services.uow_factory() as uow:
        gen = uow.generations.get(done.generation_id)
        assert gen.model_key == spec.key and gen.output == done.text and gen.status == "ok"
        assert gen.cost_usd is None or gen.cost_usd > 0
    dump = "\n".join(line for line in services.engine.raw_connection().driver_connection.iterdump())
    assert "sk-typed-secret-456" not in dump and "sk-env-secret-123" not in dump
    assert "PG_TEST_API_KEY" in dump  # the variable's name is what is saved


def test_local_model_generation_is_recorded_with_exact_usage(services):
    done = final(
        services.models.try_prompt(SMOLLM2_KEY, "Say hi.", GenerationParams(max_tokens=8, temperature=0, seed=1))
    )
    assert done.status == "ok"
    with services.uow_factory() as uow:
        gen = uow.generations.get(done.generation_id)
        assert (gen.prompt_tokens, gen.completion_tokens) == (done.usage.prompt_tokens, done.usage.completion_tokens)
        assert gen.tokens_estimated is False and gen.ttft_s > 0 and gen.total_s >= gen.ttft_s
        assert (gen.cost_usd, gen.price_source) == (0.0, "local") and gen.finish_reason in ("stop", "length")
        run = uow.runs.get(gen.run_id)
        assert run.kind == "try" and run.title == "Say hi."


def test_cancel_mid_answer_is_recorded_as_cancelled(services):
    cancel = threading.Event()
    updates = []
    for update in services.models.try_prompt(
        SMOLLM2_KEY, "Write a long poem about rain.", GenerationParams(max_tokens=300), cancel
    ):
        updates.append(update)
        if len(updates) == 3:
            cancel.set()
    assert updates[-1].status == "cancelled"
    with services.uow_factory() as uow:
        assert uow.generations.get(updates[-1].generation_id).status == "cancelled"


def test_abandoned_stream_is_not_left_running(services):
    stream = services.models.try_prompt(SMOLLM2_KEY, "Write a long story.", GenerationParams(max_tokens=200))
    first = next(stream)
    second = next(stream)
    stream.close()  # the browser went away
    with services.uow_factory() as uow:
        assert uow.generations.get(second.generation_id).status == "cancelled"
    # and the model is free again for the next person
    assert final(services.models.try_prompt(SMOLLM2_KEY, "Hi", GenerationParams(max_tokens=3))).status == "ok"
    assert first.generation_id == second.generation_id


def test_refused_endpoint_is_recorded_as_an_error(services):
    spec = services.models.add_endpoint("Dead", f"http://127.0.0.1:{free_port()}/v1", "x")
    done = final(services.models.try_prompt(spec.key, "Hello", GenerationParams(max_tokens=4)))
    assert done.status == "error" and "nothing is listening" in done.error
    with services.uow_factory() as uow:
        gen = uow.generations.get(done.generation_id)
        assert gen.status == "error" and "nothing is listening" in gen.error


def test_removed_model_keeps_its_runs(services):
    spec = services.models.add_gguf(str(smollm2_path()), "Copy of SmolLM2")
    done = final(services.models.try_prompt(spec.key, "Hi", GenerationParams(max_tokens=4)))
    services.models.remove(spec.key)
    with pytest.raises(ModelNotFound):
        services.models.describe(spec.key)
    with services.uow_factory() as uow:
        gen = uow.generations.get(done.generation_id)
        assert gen.model_name == "Copy of SmolLM2" and gen.output == done.text


def test_folders_are_scanned_and_duplicates_refused(services, tmp_path):
    folder = tmp_path / "more-models"
    folder.mkdir()
    (folder / "tiny.gguf").symlink_to(smollm2_path())
    assert services.models.add_folder(str(folder)) == 1
    names = [row.name for row in services.models.list_models()]
    assert "tiny" in names
    services.models.add_gguf(str(smollm2_path()), "Once")
    with pytest.raises(InvalidInput, match="already in the list"):
        services.models.add_gguf(str(smollm2_path()), "Twice")
    with pytest.raises(InvalidInput, match="already exists"):
        services.models.add_endpoint("Once", "http://127.0.0.1:1/v1", "m")
    with pytest.raises(InvalidInput, match="both prices"):
        services.models.add_endpoint("Half priced", "http://127.0.0.1:1/v1", "m", price_input_per_m=1.0)


def test_memory_budget_unloads_least_recently_used(tmp_path):
    settings = Settings(
        home=tmp_path / "h", database_url=f"sqlite:///{tmp_path / 'h' / 'db.sqlite'}", memory_budget_mb=300
    )
    svc = Services.create(settings)
    try:
        final(svc.models.try_prompt(SMOLLM2_KEY, "Hi", GenerationParams(max_tokens=2)))
        assert svc.registry.status(SMOLLM2_KEY) == "loaded"
        final(svc.models.try_prompt("embedded/gemma3-270m", "Hi", GenerationParams(max_tokens=2)))
        # SmolLM2 (~160 MB) + Gemma (~320 MB) exceed 300 MB: the older one is unloaded.
        assert svc.registry.status(SMOLLM2_KEY) == "not loaded"
        assert svc.registry.status("embedded/gemma3-270m") == "loaded"
    finally:
        svc.close()
