"""0009_price_overrides on a database from before it (SQLite and PostgreSQL): a price typed on the
endpoint form becomes that model's override, answers gain their price source, a model's price
goes with the model, and the migration downgrades and upgrades again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.engine import Engine

from playground.models.registry import ModelRegistry
from playground.models.types import Price, PriceSource
from playground.settings import Settings
from storage import make_session_factory, migrate, unit_of_work_factory
from storage.db import MIGRATIONS_DIR, _alembic_config, _upgrade
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory

BEFORE = "0008_connections"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def _insert(engine: Engine, table: str, row: dict) -> int:
    with engine.begin() as connection:
        target = Table(table, MetaData(), autoload_with=connection)
        return connection.execute(target.insert().returning(target.c.id), [row]).scalar_one()


def _old_database(engine: Engine) -> tuple[int, int]:
    """Two endpoint models saved before 0009: one with typed prices, one without."""
    _upgrade(engine, MIGRATIONS_DIR, BEFORE)
    priced = _insert(
        engine,
        "endpoints",
        {"name": "paid", "base_url": "https://llm.example.com/v1", "created_at": WHEN}
        | {"price_input_per_m": 1.5, "price_output_per_m": 6.0},
    )
    plain = _insert(engine, "endpoints", {"name": "free", "base_url": "https://llm.example.com/v1", "created_at": WHEN})
    entry = dict(backend="openai", remote_model="m", chat_template=True, created_at=WHEN)
    paid_id = _insert(engine, "model_entries", {"name": "paid", "endpoint_id": priced, **entry})
    free_id = _insert(engine, "model_entries", {"name": "free", "endpoint_id": plain, **entry})
    return paid_id, free_id


def _registry(engine: Engine, tmp_path) -> ModelRegistry:
    settings = Settings(home=tmp_path / "home", database_url="sqlite://")
    return ModelRegistry(settings, unit_of_work_factory(make_session_factory(engine)), lambda spec: None)  # type: ignore[arg-type, return-value]


def test_typed_endpoint_prices_become_overrides_and_go_with_their_model(engine, tmp_path):
    paid_id, free_id = _old_database(engine)

    migrate(engine)

    inspector = inspect(engine)
    assert "price_overrides" in inspector.get_table_names()
    assert "price_source" in {c["name"] for c in inspector.get_columns("generations")}
    registry = _registry(engine, tmp_path)
    paid = registry.get_spec(f"entry/{paid_id}")
    assert (paid.price, paid.price_source) == (Price(1.5, 6.0), PriceSource.OVERRIDE)
    assert registry.get_spec(f"entry/{free_id}").price is None  # an unknown host with no price: unknown
    uow_factory = unit_of_work_factory(make_session_factory(engine))
    with uow_factory() as uow:
        assert uow.price_overrides.prices() == {f"entry/{paid_id}": (1.5, 6.0)}
        uow.models.delete(paid_id)
    with uow_factory() as uow:
        assert uow.price_overrides.prices() == {}  # removed with its model: a later entry never inherits it


def test_the_price_overrides_migration_downgrades_and_upgrades_again(engine):
    paid_id, _ = _old_database(engine)
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
    assert "price_overrides" not in inspector.get_table_names()
    assert "price_source" not in {c["name"] for c in inspector.get_columns("generations")}
    migrate(engine)
    with unit_of_work_factory(make_session_factory(engine))() as uow:
        assert uow.price_overrides.prices() == {f"entry/{paid_id}": (1.5, 6.0)}  # the endpoint kept its prices
        assert [e.name for e in uow.models.list()] == ["free", "paid"]
