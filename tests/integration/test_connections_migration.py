"""0008_connections on a database from before it (SQLite and PostgreSQL): the models saved before
keep working, the connection tables and columns arrive, a connection's models go with it, and the
migration downgrades and upgrades again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.engine import Engine

from playground.models.registry import spec_from_entry
from storage import make_session_factory, migrate, unit_of_work_factory
from storage.db import MIGRATIONS_DIR, _alembic_config, _upgrade
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory

BEFORE = "0007_keyword_languages"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def _insert(engine: Engine, table: str, row: dict) -> int:
    """Insert one row (no explicit id: PostgreSQL's sequence must stay in step) and return its id."""
    with engine.begin() as connection:
        target = Table(table, MetaData(), autoload_with=connection)
        return connection.execute(target.insert().returning(target.c.id), [row]).scalar_one()


def _old_database(engine: Engine) -> None:
    _upgrade(engine, MIGRATIONS_DIR, BEFORE)
    endpoint = {"name": "lab", "base_url": "http://127.0.0.1:8000/v1", "api_key_env": None, "created_at": WHEN}
    endpoint_id = _insert(engine, "endpoints", endpoint)
    entry = dict(name="lab", backend="openai", remote_model="m", chat_template=True, created_at=WHEN)
    assert _insert(engine, "model_entries", {"endpoint_id": endpoint_id, **entry}) == 1


def test_an_upgraded_database_keeps_its_endpoint_models_and_takes_connections(engine):
    _old_database(engine)

    migrate(engine)

    inspector = inspect(engine)
    assert {"connections", "connection_models"} <= set(inspector.get_table_names())
    assert {"connection_id", "quirks", "context_length"} <= {c["name"] for c in inspector.get_columns("model_entries")}
    uow_factory = unit_of_work_factory(make_session_factory(engine))
    with uow_factory() as uow:
        old = spec_from_entry(uow.models.get(1))
        assert (old.base_url, old.remote_model, old.extra) == ("http://127.0.0.1:8000/v1", "m", {})
        uow.models.get(1).quirks = {"drop": ["temperature"]}
        row = uow.connections.add(name="cluster", base_url="http://127.0.0.1:9000/v1", headers={"X-Title": "t"})
        uow.connections.record_listing(row.id, [("a", {"size": 1}, 4096), ("b", {}, None)])
        entry = uow.models.add(name="cluster/a", backend="openai", connection_id=row.id, remote_model="a")
        uow.connections.link_entry(row.id, "a", entry.id)
        connection_id = row.id
    with uow_factory() as uow:
        assert spec_from_entry(uow.models.get(1)).extra == {"quirks": {"drop": ["temperature"]}}
        spec = spec_from_entry(uow.models.get(entry.id))
        assert spec.base_url == "http://127.0.0.1:9000/v1" and spec.extra["headers"] == {"X-Title": "t"}
        assert uow.connections.delete(connection_id) == [entry.id]
    with uow_factory() as uow:
        assert [e.id for e in uow.models.list()] == [1] and uow.connections.models(connection_id) == []


def test_the_connections_migration_downgrades_and_upgrades_again(engine):
    _old_database(engine)
    migrate(engine)
    config = _alembic_config(MIGRATIONS_DIR)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":  # as migrate() does: rebuilding a parent must not cascade
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, BEFORE)
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    inspector = inspect(engine)
    assert "connections" not in inspector.get_table_names()
    assert "connection_id" not in {c["name"] for c in inspector.get_columns("model_entries")}
    migrate(engine)
    with unit_of_work_factory(make_session_factory(engine))() as uow:
        assert [e.name for e in uow.models.list()] == ["lab"] and uow.connections.list() == []
