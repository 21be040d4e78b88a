"""Issue 12, API keys: no server secret leaves the server, and no key goes to a server other than
the one it was saved with. Each attack runs for real against a listener on 127.0.0.1 that records
what it gets: through the real ModelsService (real HTTP backend, real SQLite) and the real app."""

from __future__ import annotations

import dataclasses
import logging
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from playground.errors import EndpointError, InvalidInput
from playground.models.openai_http import OpenAIHTTPBackend
from playground.models.types import GenerationParams
from playground.services import Services
from playground.settings import Settings
from tests.security.key_listener import ANSWER, Listener

SECRETS = {
    "DATABASE_URL": "postgresql://admin:db-pass-7731@db.internal:5432/prod",
    "OPENAI_API_KEY": "sk-facilitator-openai-0001-aaaa",
    "LAB_API_KEY": "sk-lab-server-0002-bbbbbbbb",
    "ROOM_TOKEN": "tok-room-0003-cccccccc",
    "MY_SECRET": "plain-secret-0004-dddddddd",
}
TYPED = "sk-typed-in-the-ui-0005-eeee"
PARAMS = GenerationParams(max_tokens=8)


@pytest.fixture
def env(monkeypatch, tmp_path) -> dict[str, str]:
    values = {**SECRETS, "PLAYGROUND_HOME": str(tmp_path / "home-secret-path")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PLAYGROUND_KEY_VARS", raising=False)
    return values


@pytest.fixture
def make_services(tmp_path, env):
    made: list[Services] = []

    def make(*key_vars: str) -> Services:
        home = tmp_path / f"home{len(made)}"
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'playground.db'}", key_vars=key_vars)
        made.append(Services.create(settings))  # the real backends: nothing fake between us and the wire
        return made[-1]

    yield make
    for services in made:
        services.close()


@pytest.fixture
def ears():
    with ExitStack() as stack:
        yield lambda **kw: stack.enter_context(Listener(**kw))


def final(updates):
    updates = list(updates)
    assert updates[-1].done
    return updates[-1]


def endpoint_count(services: Services) -> int:
    with services.uow_factory() as uow:
        return len(uow.endpoints.list())


def refused_both_ways(services: Services, base_url: str, name: str, match: str) -> None:
    """Test connection and Add endpoint both refuse ``name`` for ``base_url`` and save nothing."""
    before = endpoint_count(services)
    with pytest.raises(InvalidInput, match=match):
        services.models.test_endpoint(base_url, "m", name)
    with pytest.raises(InvalidInput, match=match):
        services.models.add_endpoint(f"via {name}", base_url, "m", name)
    assert endpoint_count(services) == before


# ---- names: only key-like variables ------------------------------------------------------


@pytest.mark.parametrize("name", ["PLAYGROUND_HOME", "DATABASE_URL"])
def test_server_settings_cannot_be_sent_as_a_key(make_services, ears, env, name):
    services, ear = make_services(), ears()
    refused_both_ways(services, ear.base_url, name, "PLAYGROUND_KEY_VARS")
    assert ear.requests == []  # not even a request: nothing left the server
    assert not any(ear.heard(value) for value in env.values())


def test_the_refusal_says_how_to_allow_a_name(make_services, ears):
    services, ear = make_services(), ears()
    with pytest.raises(InvalidInput) as err:
        services.models.test_endpoint(ear.base_url, "m", "DATABASE_URL")
    message = str(err.value)
    assert "_API_KEY or _TOKEN" in message and "PLAYGROUND_KEY_VARS=DATABASE_URL" in message
    assert SECRETS["DATABASE_URL"] not in message


# ---- origins: a key variable goes only where it is bound ---------------------------------


def test_a_vendor_key_is_not_sent_to_a_participants_server(make_services, ears):
    services, ear = make_services(), ears()
    refused_both_ways(services, ear.base_url, "OPENAI_API_KEY", "only sent to https://api.openai.com")
    assert ear.requests == []


def test_a_variable_bound_by_the_operator_goes_only_there(make_services, ears):
    ear = ears()
    services = make_services("ROOM_TOKEN=https://llm.example.org", f"MY_SECRET={ear.origin}")
    refused_both_ways(services, ear.base_url, "ROOM_TOKEN", "only sent to https://llm.example.org")
    assert ear.requests == []
    # MY_SECRET is allowed by the setting although its name is not key-like, and bound to the listener.
    spec = services.models.add_endpoint("Bound", ear.base_url, "m", "MY_SECRET")
    assert final(services.models.try_prompt(spec.key, "Hello", PARAMS)).text == ANSWER
    assert ear.authorizations() == [f"Bearer {SECRETS['MY_SECRET']}"]


def test_the_first_saved_endpoint_binds_a_variable(make_services, ears):
    services, saved, other = make_services(), ears(), ears()
    assert "Connected" in services.models.test_endpoint(saved.base_url, "m", "LAB_API_KEY")
    spec = services.models.add_endpoint("Lab", saved.base_url, "m", "LAB_API_KEY")
    done = final(services.models.try_prompt(spec.key, "Hello", PARAMS))
    assert (done.status, done.text) == ("ok", ANSWER)  # the passing path: its own endpoint works
    assert set(saved.authorizations()) == {f"Bearer {SECRETS['LAB_API_KEY']}"}
    refused_both_ways(services, other.base_url, "LAB_API_KEY", f"bound to {saved.origin}")
    assert other.requests == []


def test_an_unbound_variable_does_not_leave_this_machine(make_services):
    services = make_services()
    # TEST-NET-1 is never routed: a refusal here happens before any connection is tried.
    refused_both_ways(services, "http://192.0.2.10:8000/v1", "LAB_API_KEY", "only sent to servers on this machine")


def test_an_endpoint_saved_before_the_rules_sends_nothing(make_services, ears):
    services, ear = make_services(), ears()
    with services.uow_factory() as uow:  # as an older database, or a row written by hand, holds them
        for name in ("DATABASE_URL", "OPENAI_API_KEY"):
            endpoint = uow.endpoints.add(name=f"old {name}", base_url=ear.base_url, api_key_env=name)
            uow.models.add(name=f"old {name}", backend="openai", endpoint_id=endpoint.id, remote_model="m")
    keys = {spec.name: spec.key for spec in services.registry.list_specs()}
    for name, why in (("DATABASE_URL", "PLAYGROUND_KEY_VARS"), ("OPENAI_API_KEY", "only sent to")):
        done = final(services.models.try_prompt(keys[f"old {name}"], "Hello", PARAMS))
        assert done.status == "error" and why in done.error
        with pytest.raises(InvalidInput, match=why):
            services.models.test_model(keys[f"old {name}"])
    assert ear.requests == []


# ---- typed keys: bound to the origin they were typed for ---------------------------------


def test_a_typed_key_goes_only_to_its_own_origin(make_services, ears):
    services, own, other = make_services(), ears(), ears()
    assert "Connected" in services.models.test_endpoint(own.base_url, "m", "", TYPED)
    spec = services.models.add_endpoint("Typed", own.base_url, "m", "", TYPED)
    assert final(services.models.try_prompt(spec.key, "Hello", PARAMS)).status == "ok"
    assert set(own.authorizations()) == {f"Bearer {TYPED}"}
    # Were the saved address to change under the same model key, the key would not follow it.
    moved = services.registry.backend_factory(dataclasses.replace(spec, base_url=other.base_url))
    with pytest.raises(EndpointError, match=f"typed for {own.origin} is not sent to {other.origin}"):
        moved.test_connection()
    assert other.requests == []


def test_a_typed_key_is_not_attached_to_an_existing_endpoint_elsewhere(make_services, ears):
    services, own, other = make_services(), ears(), ears()
    with services.uow_factory() as uow:
        uow.endpoints.add(name="Shared", base_url=other.base_url)  # a leftover row with the same name
    with pytest.raises(InvalidInput, match="already exists with another address"):
        services.models.add_endpoint("Shared", own.base_url, "m", "", TYPED)
    assert "Shared" not in [spec.name for spec in services.registry.list_specs()]
    assert own.requests == [] and other.requests == []


# ---- redirects never carry a key -----------------------------------------------------------


def test_a_redirect_to_the_listener_carries_no_key(make_services, ears):
    services, ear = make_services(), ears()
    saved = ears(redirect_to=ear.base_url)
    env_spec = services.models.add_endpoint("Lab", saved.base_url, "m", "LAB_API_KEY")
    typed_spec = services.models.add_endpoint("Typed", saved.base_url, "m", "", TYPED)
    for spec in (env_spec, typed_spec):
        done = final(services.models.try_prompt(spec.key, "Hello", PARAMS))
        assert done.status == "error" and "redirects to" in done.error
    with pytest.raises(EndpointError, match="redirects to"):
        services.models.test_endpoint(saved.base_url, "m", "", TYPED)
    assert f"Bearer {SECRETS['LAB_API_KEY']}" in saved.authorizations() and f"Bearer {TYPED}" in saved.authorizations()
    assert ear.requests == []  # not followed at all


def test_a_client_set_to_follow_redirects_still_does_not(ears):
    ear = ears()
    saved = ears(redirect_to=ear.base_url)
    spec = _spec(saved.base_url)
    with httpx.Client(follow_redirects=True) as client:
        backend = OpenAIHTTPBackend(spec, api_key=TYPED, client=client, timeout_s=5)
        with pytest.raises(EndpointError, match="redirects to"):
            backend.test_connection()
    assert saved.authorizations() == [f"Bearer {TYPED}"] and ear.requests == []


def _spec(base_url: str):
    from playground.models.types import BackendKind, ModelSource, ModelSpec

    return ModelSpec(
        key="entry/0",
        name="t",
        backend=BackendKind.OPENAI,
        source=ModelSource.USER,
        base_url=base_url,
        remote_model="m",
    )


# ---- a key echoed back shows up nowhere ----------------------------------------------------


def test_an_echoed_key_is_in_no_message_log_export_or_database(make_services, ears, caplog):
    caplog.set_level(logging.DEBUG)
    services, ear = make_services(), ears(mode="echo")
    env_spec = services.models.add_endpoint("Lab", ear.base_url, "m", "LAB_API_KEY")
    typed_spec = services.models.add_endpoint("Typed", ear.base_url, "m", "", TYPED)
    shown: list[str] = []
    for spec in (env_spec, typed_spec):
        done = final(services.models.try_prompt(spec.key, "Hello", PARAMS))
        assert done.status == "error" and "rejected the API key" in done.error and "<hidden>" in done.error
        shown.append(done.error)
        with services.uow_factory() as uow:
            run_id = uow.generations.get(done.generation_id).run_id
        shown.append(services.history.detail(run_id))
        for fmt in ("jsonl", "csv"):
            shown.append(Path(services.history.export([run_id], fmt)).read_text(encoding="utf-8-sig"))
    with pytest.raises(EndpointError) as err:
        services.models.test_endpoint(ear.base_url, "m", "", TYPED)
    shown += [str(err.value), repr(services.registry.secrets), repr(services.models.registry)]
    shown.append("\n".join(services.engine.raw_connection().driver_connection.iterdump()))
    shown.append(caplog.text)
    assert ear.heard(TYPED) and ear.heard(SECRETS["LAB_API_KEY"])  # it was sent, to its own server
    for key in (TYPED, SECRETS["LAB_API_KEY"]):
        assert not any(key[:10] in text for text in shown)  # not whole, and not cut short either


# ---- the real app, driven as a participant would -------------------------------------------


@pytest.fixture(scope="module")
def app_ear(tmp_path_factory):
    """The real app (launcher.py in a subprocess) with secrets in its environment, and a listener."""
    from gradio_client import Client

    from tests.e2e.app_process import start_app

    root = tmp_path_factory.mktemp("keys-app")
    env = {**SECRETS, "DATABASE_URL": f"sqlite:///{root / 'secret-db-7731.db'}"}
    with Listener() as ear:
        app = start_app(root / "home", env=env)
        try:
            yield Client(app.url, verbose=False), ear, app, {**env, "PLAYGROUND_HOME": str(root / "home")}
        finally:
            app.stop()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["PLAYGROUND_HOME", "DATABASE_URL", "OPENAI_API_KEY"])
def test_the_app_refuses_to_send_server_secrets_to_a_listener(app_ear, name):
    from gradio_client.exceptions import AppError

    client, ear, _app, env = app_ear
    before = len(ear.requests)
    with pytest.raises(AppError, match="PLAYGROUND_KEY_VARS"):
        client.predict(ear.base_url, "m", name, "", api_name="/model_test_endpoint")
    with pytest.raises(AppError, match="PLAYGROUND_KEY_VARS"):
        client.predict(f"x {name}", ear.base_url, "m", name, "", None, None, api_name="/model_add_endpoint")
    assert len(ear.requests) == before and not ear.heard(env[name])


@pytest.mark.slow
def test_the_app_sends_an_allowed_key_to_its_own_endpoint_only(app_ear):
    from gradio_client.exceptions import AppError

    client, ear, app, env = app_ear
    assert "Connected" in client.predict(ear.base_url, "m", "LAB_API_KEY", "", api_name="/model_test_endpoint")
    _table, picker, typed_field = client.predict(
        "Lab", ear.base_url, "m", "LAB_API_KEY", "", None, None, api_name="/model_add_endpoint"
    )
    answer, _figures = client.predict(picker["value"], "Hello", 8, 0.0, -1, api_name="/model_try")
    assert answer == ANSWER and typed_field == ""
    assert set(ear.authorizations()) == {f"Bearer {SECRETS['LAB_API_KEY']}"}
    with Listener() as other:  # the variable is now bound to the first endpoint saved with it
        with pytest.raises(AppError, match="bound to"):
            client.predict(other.base_url, "m", "LAB_API_KEY", "", api_name="/model_test_endpoint")
        assert other.requests == []
    log = app.log_tail(10**7) + "".join(p.read_text(errors="replace") for p in (app.data_dir / "logs").glob("*"))
    keys = [value for name, value in env.items() if name.endswith(("_API_KEY", "_TOKEN", "SECRET"))]
    assert "refused" in log and keys and not any(key in log for key in keys)
