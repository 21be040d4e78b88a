"""Connections (issue 15) through the real ModelsService, the real HTTP backend and real SQLite,
against a local test server that plays Ollama, Azure, a reasoning model, a web page and more."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.errors import EndpointError, InvalidInput, ModelNotFound
from playground.models.types import GenerationParams, Message
from playground.services import Services
from playground.settings import Settings
from tests.integration.servers import free_port
from tests.service.connection_server import ANSWER, ConnectionServer

PARAMS = GenerationParams(max_tokens=16, temperature=0.7)
TYPED_KEY = "sk-typed-for-azure-0123456789abcdef"


@pytest.fixture
def make(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_KEY_VARS", raising=False)
    made: list[Services] = []

    def create(home: str = "home", key_vars: tuple[str, ...] = ()) -> Services:
        root = tmp_path / home
        settings = Settings(home=root, database_url=f"sqlite:///{root / 'playground.db'}", key_vars=key_vars)
        made.append(Services.create(settings))  # the real backends: the wire is real
        return made[-1]

    yield create
    for services in made:
        services.close()


def answer(services: Services, key: str, params: GenerationParams = PARAMS) -> str:
    with services.registry.use(key) as backend:
        events = list(backend.stream([Message("user", "Hi")], params))
    return "".join(e for e in events if isinstance(e, str))


def keys_of(services: Services) -> set[str]:
    return {spec.key for spec in services.registry.list_specs()}


def test_ollama_lists_its_models_with_size_quantisation_and_family(make):
    services = make()
    with ConnectionServer(["llama3.2:latest", "qwen2.5:0.5b"], ollama=True) as server:
        view = services.models.connections.save("", "ollama", server.base_url)
    assert view.kind == "ollama" and view.name == "Ollama"
    assert "/api/tags" in [r["path"] for r in server.requests]
    by_name = {m.remote_model: m for m in view.models}
    assert set(by_name) == {"llama3.2:latest", "qwen2.5:0.5b"}
    assert by_name["llama3.2:latest"].details == {
        "size": 2019393189,
        "family": "llama",
        "parameters": "3.2B",
        "quant": "Q4_K_M",
    }
    assert "Listed 2 models" in str(view.notes[0])


def test_a_web_page_is_refused_and_nothing_is_saved(make):
    services = make()
    with ConnectionServer(html=True) as server, pytest.raises(EndpointError, match="web page"):
        services.models.connections.save("Intranet", "custom", server.origin)
    assert services.models.connections.list_connections() == []


def test_a_port_with_nothing_listening_is_refused_plainly(make):
    services = make()
    with pytest.raises(EndpointError, match="nothing is listening"):
        services.models.connections.save("Nobody", "custom", f"http://127.0.0.1:{free_port()}/v1")
    assert services.models.connections.list_connections() == []


def test_no_model_list_lets_the_user_type_a_name_that_then_answers(make):
    services = make()
    with ConnectionServer(models_status=404) as server:
        view = services.models.connections.save("Bare", "custom", server.base_url)
        assert not view.can_list and view.models == []
        assert "type the model names" in str(view.notes[0])
        [spec] = services.models.connections.add_models(view.id, [], typed="my-model")
        assert spec.name == "Bare/my-model" and spec.remote_model == "my-model"
        assert answer(services, spec.key) == ANSWER
        assert server.posts()[-1]["body"]["model"] == "my-model"


def test_azure_needs_api_version_and_sends_the_key_in_api_key(make):
    services = make()
    with ConnectionServer(["chat-dep", "mini-dep"], azure=True) as server:
        pasted = f"{server.origin}/openai/deployments/chat-dep/chat/completions"
        with pytest.raises(InvalidInput, match=r"Add \?api-version=2024-10-21"):
            services.models.connections.save("Azure", "azure", pasted, typed_key=TYPED_KEY)
        view = services.models.connections.save(
            "Azure", "azure", pasted + "?api-version=2024-10-21", typed_key=TYPED_KEY
        )
        assert {m.remote_model for m in view.models} == {"chat-dep", "mini-dep"}
        assert server.requests[-1]["path"] == "/openai/deployments?api-version=2022-12-01"
        assert server.requests[-1]["headers"]["api-key"] == TYPED_KEY
        [spec] = services.models.connections.add_models(view.id, ["mini-dep"])
        assert answer(services, spec.key) == ANSWER
    post = server.posts()[-1]
    assert post["path"] == "/openai/deployments/mini-dep/chat/completions?api-version=2024-10-21"
    assert post["headers"]["api-key"] == TYPED_KEY and "authorization" not in post["headers"]
    with services.uow_factory() as uow:  # the typed key is held in memory only
        row = uow.connections.get(view.id)
        assert TYPED_KEY not in repr((row.base_url, row.api_key_env, row.headers, row.api_version))


def test_a_reasoning_model_is_adapted_from_its_400s_and_remembered_after_a_restart(make):
    services = make()
    with ConnectionServer(["o4-mini"], reasoning=True) as server:
        view = services.models.connections.save("Lab", "custom", server.base_url)
        [spec] = services.models.connections.add_models(view.id, ["o4-mini"])
        assert answer(services, spec.key) == ANSWER
        sent = [r["body"] for r in server.posts()]
        assert "max_tokens" in sent[0] and "temperature" in sent[0]
        assert "max_completion_tokens" in sent[1] and "max_tokens" not in sent[1] and "temperature" in sent[1]
        assert sent[2]["max_completion_tokens"] == 16 and "temperature" not in sent[2] and len(sent) == 3
        with services.uow_factory() as uow:
            assert uow.models.get(spec.entry_id).quirks == {
                "max_tokens_field": "max_completion_tokens",
                "drop": ["temperature"],
            }
        services.close()
        again = Services.create(services.settings)  # a restart: same database, nothing in memory
        try:
            before = len(server.posts())
            assert answer(again, spec.key) == ANSWER
            assert len(server.posts()) == before + 1  # right the first time
            assert "max_completion_tokens" in server.posts()[-1]["body"]
        finally:
            again.close()


def test_a_refusal_that_teaches_nothing_is_not_retried(make):
    services = make()
    with ConnectionServer(["m"], post_status=403) as server:
        view = services.models.connections.save("Readonly", "custom", server.base_url, typed_key=TYPED_KEY)
        [spec] = services.models.connections.add_models(view.id, ["m"])
        with pytest.raises(EndpointError, match="although the key lists its models") as caught:
            answer(services, spec.key)
        assert len(server.posts()) == 1
    assert "may not be allowed to generate" in caught.value.message_in("en")
    assert "não tenha permissão" in caught.value.message_in("pt-BR")


def test_refresh_offers_new_models_and_flags_gone_ones_without_deleting_them(make):
    services = make()
    with ConnectionServer(["alpha", "beta"]) as server:
        view = services.models.connections.save("Cluster", "vllm", server.base_url)
        [alpha] = services.models.connections.add_models(view.id, ["alpha"])
        server.models = ["beta", "gamma"]
        refreshed = services.models.connections.refresh(view.id)
    notes = " ".join(str(n) for n in refreshed.notes)
    assert "New on the server: gamma" in notes and "No longer on the server: alpha" in notes
    state = {m.remote_model: (m.added, m.present, m.new) for m in refreshed.models}
    assert state == {"alpha": (True, False, False), "beta": (False, True, False), "gamma": (False, True, True)}
    assert alpha.key in keys_of(services)  # flagged, not silently removed


def test_removing_a_connection_removes_its_models_and_past_runs_still_open(make):
    services = make()
    with ConnectionServer(["alpha", "beta"]) as server:
        view = services.models.connections.save("Cluster", "custom", server.base_url)
        specs = services.models.connections.add_models(view.id, ["alpha", "beta"])
        updates = list(services.models.try_prompt(specs[0].key, "Hi", PARAMS))
        assert updates[-1].done and updates[-1].text == ANSWER
    said = services.models.connections.remove(view.id)
    assert "its 2 models" in str(said)
    assert not {s.key for s in specs} & keys_of(services)
    with pytest.raises(ModelNotFound):
        services.registry.get_spec(specs[0].key)
    [run] = services.history.search()
    assert ANSWER in services.history.detail(run.id)
    with services.uow_factory() as uow:
        assert uow.connections.list() == [] and uow.models.list() == []


def test_headers_hold_no_secret_and_references_follow_the_key_rules(make, monkeypatch):
    monkeypatch.setenv("LAB_API_KEY", "sk-lab-0002-bbbbbbbbbbbbbbbb")
    services = make()
    connections = services.models.connections
    with ConnectionServer(["m"]) as server:
        for header in ("Authorization: Bearer sk-abc", "X-Thing: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2Q="):
            with pytest.raises(InvalidInput, match="looks like it holds a key"):
                connections.save("H", "custom", server.base_url, headers_text=header)
        with pytest.raises(InvalidInput, match="cannot be used as an API-key variable"):
            connections.save("H", "custom", server.base_url, headers_text="X-Db: ${DATABASE_URL}")
        view = connections.save(
            "H", "custom", server.base_url, headers_text="X-Lab-Key: ${LAB_API_KEY}\nX-Title: Playground"
        )
        assert server.requests[-1]["headers"]["x-lab-key"] == "sk-lab-0002-bbbbbbbbbbbbbbbb"
        assert view.headers == {"X-Lab-Key": "${LAB_API_KEY}", "X-Title": "Playground"}  # the reference is stored
        [spec] = connections.add_models(view.id, ["m"])
        assert answer(services, spec.key) == ANSWER
        assert server.posts()[-1]["headers"]["x-lab-key"] == "sk-lab-0002-bbbbbbbbbbbbbbbb"


def test_a_vendor_key_is_never_sent_to_a_participants_listener(make, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-facilitator-openai-0001-aaaa")
    services = make()
    with ConnectionServer(["m"]) as server:
        for field in ({"key_env": "OPENAI_API_KEY"}, {"headers_text": "X-K: ${OPENAI_API_KEY}"}):
            with pytest.raises(InvalidInput, match="only sent to https://api.openai.com"):
                services.models.connections.save("Evil", "openai", server.base_url, **field)
        assert server.requests == [] and services.models.connections.list_connections() == []


def test_a_typed_key_stays_with_its_origin_when_the_connection_moves(make):
    services = make()
    connections = services.models.connections
    with ConnectionServer(["m"]) as first, ConnectionServer(["m"]) as second:
        view = connections.save("Lab", "custom", first.base_url, typed_key=TYPED_KEY)
        assert first.requests[-1]["headers"]["authorization"] == f"Bearer {TYPED_KEY}"
        [spec] = connections.add_models(view.id, ["m"])
        connections.save("Lab", "custom", second.base_url, connection_id=view.id)  # moved, no key typed
        assert answer(services, spec.key) == ANSWER
        assert all("authorization" not in r["headers"] for r in second.requests)
        assert all(TYPED_KEY not in repr(r) for r in second.requests)


def test_a_listing_that_redirects_is_not_followed(make):
    services = make()
    with ConnectionServer(["m"]) as listener, ConnectionServer(redirect_to=listener.origin) as server:
        with pytest.raises(EndpointError, match="does not follow redirects"):
            services.models.connections.save("R", "custom", server.base_url, typed_key=TYPED_KEY)
    assert listener.requests == []


def test_removing_one_added_model_offers_it_again(make):
    services = make()
    with ConnectionServer(["alpha", "beta"]) as server:
        view = services.models.connections.save("Cluster", "custom", server.base_url)
    [alpha] = services.models.connections.add_models(view.id, ["alpha"])
    services.models.remove(alpha.key)
    listed = {m.remote_model: m.added for m in services.models.connections.get(view.id).models}
    assert listed == {"alpha": False, "beta": False} and alpha.key not in keys_of(services)
