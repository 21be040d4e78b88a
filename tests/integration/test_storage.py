"""The storage layer on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

from storage import Base, create_engine_for, migrate
from storage.schema_filter import include_name_for
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory
from tests.conftest_storage import migration_heads, sqlite_url

TABLES = {"endpoints", "model_entries", "model_folders", "runs", "generations"}


def _generation_fields(**overrides):
    fields = dict(
        model_key="embedded/smollm2",
        model_name="SmolLM2",
        backend="llama_cpp",
        messages=[{"role": "user", "content": "Hi"}],
        params={"temperature": 0.7, "max_tokens": 64},
        status="running",
    )
    fields.update(overrides)
    return fields


def _count(engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# ---- schema and migrations -------------------------------------------------------


def test_migrate_builds_exactly_the_models_schema(migrated_engine):
    with migrated_engine.connect() as connection:
        opts = {"compare_type": True, "include_name": include_name_for(connection)}  # as env.py does
        context = MigrationContext.configure(connection, opts=opts)
        diff = compare_metadata(context, Base.metadata)
        versions = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert diff == []
    assert versions == migration_heads()
    assert TABLES <= set(inspect(migrated_engine).get_table_names())


def test_constraint_names_follow_the_naming_convention(migrated_engine):
    inspector = inspect(migrated_engine)
    assert inspector.get_pk_constraint("runs")["name"] in ("pk_runs", None)  # SQLite does not keep PK names
    assert {u["name"] for u in inspector.get_unique_constraints("endpoints")} == {"uq_endpoints_name"}
    assert {fk["name"] for fk in inspector.get_foreign_keys("generations")} == {"fk_generations_run_id_runs"}
    assert {ix["name"] for ix in inspector.get_indexes("generations")} == {
        "ix_generations_run_id",
        "ix_generations_model_key",
    }
    entry_fks = {
        (fk["referred_table"], fk["options"].get("ondelete")) for fk in inspector.get_foreign_keys("model_entries")
    }
    assert entry_fks == {("endpoints", "CASCADE"), ("connections", "CASCADE")}  # 0008 added the connection's


def test_migrating_twice_changes_nothing(migrated_engine, uow_factory):
    with uow_factory() as uow:
        uow.runs.add(kind="try", title="kept")
    schema_before = {t: inspect(migrated_engine).get_columns(t) for t in TABLES}

    migrate(migrated_engine)

    schema_after = {t: inspect(migrated_engine).get_columns(t) for t in TABLES}
    assert [str(c["type"]) for t in TABLES for c in schema_after[t]] == [
        str(c["type"]) for t in TABLES for c in schema_before[t]
    ]
    with uow_factory() as uow:
        assert [run.title for run in uow.runs.list()] == ["kept"]
    assert _count(migrated_engine, "alembic_version") == len(migration_heads())


def test_no_column_can_hold_an_api_key(migrated_engine):
    inspector = inspect(migrated_engine)
    # name_key: a rater name folded for comparison; secret_hash: SHA-256 of a rater's join secret, never the secret.
    allowed = {"api_key_env", "model_key", "name_key", "secret_hash"}
    suspicious = [
        f"{table}.{column['name']}"
        for table in inspector.get_table_names()
        if table != "alembic_version"
        for column in inspector.get_columns(table)
        if any(word in column["name"].lower() for word in ("key", "secret", "password"))
        and column["name"] not in allowed
    ]
    assert suspicious == []


def test_sqlite_connections_have_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = create_engine_for(sqlite_url(tmp_path / "new" / "folder" / "playground.db"))
    try:
        assert (tmp_path / "new" / "folder").is_dir()
        with engine.connect() as first, engine.connect() as second:  # two pooled connections
            for connection in (first, second):
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        migrate(engine)
        with engine.connect() as connection:  # migrate() turns foreign keys off for itself only
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


# ---- repositories ------------------------------------------------------------------


def test_endpoint_round_trip(uow_factory):
    with uow_factory() as uow:
        endpoint = uow.endpoints.add(
            name="Local vLLM",
            base_url="http://127.0.0.1:8000/v1",
            api_key_env="VLLM_API_KEY",
            price_input_per_m=0.15,
            price_output_per_m=0.6,
            timeout_s=30.0,
        )
        uow.endpoints.add(name="Another", base_url="http://127.0.0.1:9000/v1")
        endpoint_id = endpoint.id
    with uow_factory() as uow:
        loaded = uow.endpoints.get(endpoint_id)
        assert uow.endpoints.by_name("Local vLLM").id == endpoint_id
        assert uow.endpoints.by_name("nope") is None
        assert [e.name for e in uow.endpoints.list()] == ["Another", "Local vLLM"]
    assert (loaded.base_url, loaded.api_key_env, loaded.timeout_s) == ("http://127.0.0.1:8000/v1", "VLLM_API_KEY", 30.0)
    assert (loaded.price_input_per_m, loaded.price_output_per_m) == (0.15, 0.6)
    assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - loaded.created_at) < timedelta(minutes=5)
    with uow_factory() as uow:
        assert uow.endpoints.delete(endpoint_id) is True
        assert uow.endpoints.delete(endpoint_id) is False
    with uow_factory() as uow:
        assert uow.endpoints.get(endpoint_id) is None


def test_model_entry_round_trip_keeps_its_endpoint_after_the_session(uow_factory):
    with uow_factory() as uow:
        endpoint = uow.endpoints.add(name="Ollama", base_url="http://127.0.0.1:11434/v1")
        remote = uow.models.add(
            name="llama3 on Ollama", backend="openai", endpoint_id=endpoint.id, remote_model="llama3"
        )
        local = uow.models.add(name="Gemma base", backend="llama_cpp", path="/models/gemma.gguf", chat_template=False)
        hf = uow.models.add(
            name="Tuned", backend="transformers", path="/models/hf", gguf_file="x.gguf", adapter_path="/adapters/a"
        )
        ids = (remote.id, local.id, hf.id)
    with uow_factory() as uow:
        remote, local, hf = (uow.models.get(i) for i in ids)
        by_path = uow.models.by_path("/models/gemma.gguf")
        listed = uow.models.list()
        assert uow.models.by_name("Tuned").id == ids[2]
        assert uow.models.by_path("/nowhere") is None
    # Read after the unit of work closed: the joined endpoint must already be there.
    assert remote.endpoint.base_url == "http://127.0.0.1:11434/v1" and remote.remote_model == "llama3"
    assert remote.chat_template is True and local.chat_template is False and local.endpoint is None
    assert (hf.path, hf.gguf_file, hf.adapter_path) == ("/models/hf", "x.gguf", "/adapters/a")
    assert by_path.id == ids[1]
    assert [m.name for m in listed] == ["Gemma base", "llama3 on Ollama", "Tuned"]
    with uow_factory() as uow:
        assert uow.models.delete(ids[1]) is True
        assert [m.name for m in uow.models.list()] == ["llama3 on Ollama", "Tuned"]


def test_model_folders_add_is_idempotent(uow_factory):
    with uow_factory() as uow:
        first = uow.folders.add("/models/a")
        uow.folders.add("/models/b")
    with uow_factory() as uow:
        again = uow.folders.add("/models/a")
    assert again.id == first.id
    with uow_factory() as uow:
        assert [f.path for f in uow.folders.list()] == ["/models/a", "/models/b"]
        assert uow.folders.delete("/models/a") is True
        assert uow.folders.delete("/models/a") is False
    with uow_factory() as uow:
        assert [f.path for f in uow.folders.list()] == ["/models/b"]


def test_runs_and_generations_round_trip(uow_factory):
    with uow_factory() as uow:
        run = uow.runs.add(kind="compare", title="Two models", meta={"prompt_set": "demo", "seed": 7})
        uow.generations.add(run.id, **_generation_fields(position=1, model_key="b", model_name="B"))
        first = uow.generations.add(run.id, **_generation_fields(position=0, model_key="a", model_name="A"))
        run_id, first_id = run.id, first.id
    finished = datetime.now(timezone(timedelta(hours=2)))  # not UTC on purpose
    with uow_factory() as uow:
        uow.generations.update(
            first_id,
            output="Hello!",
            status="ok",
            prompt_tokens=12,
            completion_tokens=3,
            tokens_estimated=True,
            ttft_s=0.05,
            total_s=0.2,
            tokens_per_s=15.0,
            cost_usd=0.000123,
            finish_reason="stop",
            finished_at=finished,
        )
    with uow_factory() as uow:
        loaded = uow.runs.get(run_id)
        listed = uow.generations.list_for_run(run_id)
        single = uow.generations.get(first_id)
    assert loaded.meta == {"prompt_set": "demo", "seed": 7} and loaded.title == "Two models"
    assert [g.model_key for g in loaded.generations] == ["a", "b"]  # ordered by position, usable after close
    assert [g.model_key for g in listed] == ["a", "b"]
    assert single.messages == [{"role": "user", "content": "Hi"}] and single.params["max_tokens"] == 64
    assert (single.output, single.status, single.finish_reason) == ("Hello!", "ok", "stop")
    assert (single.prompt_tokens, single.completion_tokens, single.tokens_estimated) == (12, 3, True)
    assert (single.ttft_s, single.total_s, single.tokens_per_s) == (0.05, 0.2, 15.0)
    assert single.cost_usd == pytest.approx(0.000123)
    assert single.finished_at == finished and single.finished_at.utcoffset() == timedelta(0)
    assert listed[1].output == "" and listed[1].tokens_estimated is False and listed[1].finished_at is None


def test_generation_update_refuses_unknown_fields_and_ids(uow_factory):
    with uow_factory() as uow:
        run = uow.runs.add(kind="try")
        generation = uow.generations.add(run.id, **_generation_fields())
    with pytest.raises(TypeError, match="api_key"):
        with uow_factory() as uow:
            uow.generations.update(generation.id, api_key="sk-secret")
    with pytest.raises(LookupError):
        with uow_factory() as uow:
            uow.generations.update(999_999, status="ok")
    with pytest.raises(StatementError, match="timezone-aware"):
        with uow_factory() as uow:
            uow.generations.update(generation.id, finished_at=datetime.now())


def test_runs_list_newest_first_with_kind_limit_and_offset(uow_factory):
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with uow_factory() as uow:
        for i in range(5):
            run = uow.runs.add(kind="try" if i % 2 == 0 else "compare", title=f"run {i}")
            run.created_at = start + timedelta(minutes=i)
    with uow_factory() as uow:
        assert [r.title for r in uow.runs.list()] == ["run 4", "run 3", "run 2", "run 1", "run 0"]
        assert [r.title for r in uow.runs.list(kind="try")] == ["run 4", "run 2", "run 0"]
        assert [r.title for r in uow.runs.list(limit=2, offset=1)] == ["run 3", "run 2"]
        assert uow.runs.get(123456) is None


def test_null_cost_stays_null_not_zero(uow_factory, migrated_engine):
    with uow_factory() as uow:
        run = uow.runs.add(kind="try")
        unknown = uow.generations.add(run.id, **_generation_fields(status="ok", cost_usd=None))
        free = uow.generations.add(run.id, **_generation_fields(status="ok", cost_usd=0.0, position=1))
    with uow_factory() as uow:
        assert uow.generations.get(unknown.id).cost_usd is None
        assert uow.generations.get(free.id).cost_usd == 0.0
    with migrated_engine.connect() as connection:
        rows = connection.execute(text("SELECT id, cost_usd IS NULL FROM generations ORDER BY id")).all()
    assert [(row[0], bool(row[1])) for row in rows] == [(unknown.id, True), (free.id, False)]


# ---- cascades and transactions -------------------------------------------------------


def test_deleting_a_run_deletes_its_generations(uow_factory, migrated_engine):
    with uow_factory() as uow:
        doomed, kept = uow.runs.add(kind="try"), uow.runs.add(kind="try")
        for position in range(3):
            uow.generations.add(doomed.id, **_generation_fields(position=position))
        uow.generations.add(kept.id, **_generation_fields())
    with uow_factory() as uow:
        assert uow.runs.delete(doomed.id) is True
    with uow_factory() as uow:
        assert uow.generations.list_for_run(doomed.id) == []
        assert len(uow.generations.list_for_run(kept.id)) == 1

    # The database itself cascades, not only the ORM: a raw DELETE does it too.
    with migrated_engine.begin() as connection:
        connection.execute(text("DELETE FROM runs WHERE id = :id"), {"id": kept.id})
    assert _count(migrated_engine, "generations") == 0


def test_a_generation_needs_an_existing_run(uow_factory):
    with pytest.raises(IntegrityError):
        with uow_factory() as uow:
            uow.generations.add(424242, **_generation_fields())


def test_deleting_an_endpoint_deletes_its_model_entries(uow_factory, migrated_engine):
    with uow_factory() as uow:
        first = uow.endpoints.add(name="A", base_url="http://a/v1")
        second = uow.endpoints.add(name="B", base_url="http://b/v1")
        uow.models.add(name="a1", backend="openai", endpoint_id=first.id, remote_model="m1")
        uow.models.add(name="a2", backend="openai", endpoint_id=first.id, remote_model="m2")
        uow.models.add(name="b1", backend="openai", endpoint_id=second.id, remote_model="m1")
        uow.models.add(name="local", backend="llama_cpp", path="/m.gguf")
    with uow_factory() as uow:
        uow.endpoints.delete(first.id)
    with uow_factory() as uow:
        assert [m.name for m in uow.models.list()] == ["b1", "local"]
    with migrated_engine.begin() as connection:
        connection.execute(text("DELETE FROM endpoints WHERE id = :id"), {"id": second.id})
    with uow_factory() as uow:
        assert [m.name for m in uow.models.list()] == ["local"]


def test_duplicate_name_raises_and_rolls_back_the_whole_unit_of_work(uow_factory):
    with uow_factory() as uow:
        uow.models.add(name="SmolLM2", backend="llama_cpp", path="/a.gguf")
        uow.folders.add("/committed")

    with pytest.raises(IntegrityError):
        with uow_factory() as uow:
            uow.folders.add("/rolled-back")
            uow.models.add(name="SmolLM2", backend="llama_cpp", path="/b.gguf")
    with pytest.raises(IntegrityError):
        with uow_factory() as uow:
            uow.endpoints.add(name="E", base_url="http://e")
            uow.endpoints.add(name="E", base_url="http://f")

    with uow_factory() as uow:
        assert [(m.name, m.path) for m in uow.models.list()] == [("SmolLM2", "/a.gguf")]
        assert [f.path for f in uow.folders.list()] == ["/committed"]
        assert uow.endpoints.list() == []


def test_an_exception_in_the_block_rolls_back(uow_factory):
    with pytest.raises(RuntimeError):
        with uow_factory() as uow:
            uow.runs.add(kind="try", title="never saved")
            raise RuntimeError("boom")
    with uow_factory() as uow:
        assert uow.runs.list() == []


def test_each_unit_of_work_gets_its_own_session(uow_factory):
    with uow_factory() as first, uow_factory() as second:
        assert first.session is not second.session
        first.runs.add(kind="try")
    with pytest.raises(RuntimeError, match="already open"):
        unit = uow_factory()
        with unit, unit:
            pass
