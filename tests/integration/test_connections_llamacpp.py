"""A real ``llama_cpp.server`` serving TWO GGUF models from its multi-model config file, added as
ONE connection: both models are listed, ticked, added, and answer side by side in Compare."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from playground.compare.columns import ColumnConfig
from playground.models.embedded import gemma3_path, smollm2_path
from playground.services import Services
from playground.settings import Settings
from tests.integration.models_fixtures import model_cache
from tests.integration.servers import free_port, serve_until_answering, stop_process

pytestmark = pytest.mark.slow
ALIASES = ("smollm2", "gemma3")


def start_config_server(config: dict, folder: Path) -> tuple[subprocess.Popen, str]:
    """``python -m llama_cpp.server --config_file``."""
    config_path = folder / "llama-config.json"
    config_path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "llama_cpp.server", "--config_file", str(config_path)]
    return serve_until_answering(command, config["port"], folder / "llama-server.log")


@pytest.fixture(scope="module")
def two_model_server(tmp_path_factory, model_cache):
    smollm2 = {"model": str(smollm2_path()), "model_alias": ALIASES[0]}
    # Gemma 3 270M is a base model and its GGUF names no chat template: llama.cpp's fallback
    # (llama-2) makes it stop at once, the "gemma" format makes it write.
    gemma = {"model": str(gemma3_path(model_cache)), "model_alias": ALIASES[1], "chat_format": "gemma"}
    models = [{**model, "n_ctx": 2048, "n_threads": 2} for model in (smollm2, gemma)]
    # The server holds one model at a time; by default a request for the other one interrupts the
    # answer streaming (both columns then end empty). Queued, Compare's two columns both answer.
    config = {"host": "127.0.0.1", "port": free_port(), "interrupt_requests": False, "models": models}
    process, base_url = start_config_server(config, tmp_path_factory.mktemp("llama-config-server"))
    yield base_url
    stop_process(process)


@pytest.fixture
def services(tmp_path):
    home = tmp_path / "home"
    svc = Services.create(Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}"))
    yield svc
    svc.close()


def test_one_connection_lists_adds_and_compares_both_models(services, two_model_server):
    view = services.models.connections.save("", "llamacpp", two_model_server)
    assert view.name == "llama.cpp server" and view.can_list
    assert sorted(m.remote_model for m in view.models) == sorted(ALIASES)

    specs = services.models.connections.add_models(view.id, list(ALIASES))
    assert sorted(s.name for s in specs) == ["llama.cpp server/gemma3", "llama.cpp server/smollm2"]
    picker = dict((key, name) for name, key in services.models.choices())
    assert all(picker[s.key] == s.name for s in specs)

    columns = [ColumnConfig(model_key=s.key, temperature=0.0, max_tokens=24, seed=1) for s in specs]
    run_id, prompt = services.compare.start_run(columns, "What is the capital of France?")
    final = list(services.compare.stream_turn(run_id, columns, [[], []], prompt))[-1]
    assert [c.status for c in final] == ["ok", "ok"], [c.error for c in final]
    assert all(c.text.strip() for c in final), [(c.text, c.usage) for c in final]
    assert all(c.usage and c.usage.completion_tokens for c in final)
    with services.uow_factory() as uow:
        generations = uow.generations.list_for_run(run_id)
    assert sorted(g.model_name for g in generations) == sorted(s.name for s in specs)

    refreshed = services.models.connections.refresh(view.id)
    assert all(m.added and m.present for m in refreshed.models)
    assert "Nothing changed on the server (2 models)" in str(refreshed.notes[0])
