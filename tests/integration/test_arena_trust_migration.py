"""0005_arena_trust on a database with raters from before it: every rater gets a name key,
two that now compare equal stay two raters (their votes kept), and the new options take their
defaults; downgrading and upgrading again works."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Engine

from playground.arena.rater_identity import name_key
from storage import Base, migrate
from storage.db import MIGRATIONS_DIR, _alembic_config, _upgrade
from storage.schema_filter import include_name_for
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory

BEFORE = "0004_work_leases"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)
OLD_NAMES = ["Ana", "ana ", "Bob", "A\u200bna", "Zoë"]


def _insert(engine: Engine, table: str, rows: list[dict]) -> None:
    with engine.begin() as connection:
        connection.execute(Table(table, MetaData(), autoload_with=connection).insert(), rows)


def _old_database(engine: Engine) -> None:
    _upgrade(engine, MIGRATIONS_DIR, BEFORE)
    evaluation = dict(params={}, leak_words=[], leak_action="redact", seed=1, mode="prompt_set", created_at=WHEN)
    _insert(engine, "arena_evaluations", [{"id": 1, "name": "old", "join_code": "OLD111", **evaluation}])
    _insert(engine, "arena_evaluations", [{"id": 2, "name": "other", "join_code": "OLD222", **evaluation}])
    raters = [
        {"id": i + 1, "evaluation_id": 1, "name": n, "source": "join", "created_at": WHEN}
        for i, n in enumerate(OLD_NAMES)
    ]
    raters.append({"id": 10, "evaluation_id": 2, "name": "ANA", "source": "join", "created_at": WHEN})
    _insert(engine, "arena_raters", raters)


def _keys(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, name_key FROM arena_raters ORDER BY id")).all())


def test_existing_raters_get_name_keys_and_colliding_ones_stay_apart(engine):
    _old_database(engine)

    migrate(engine)

    assert _keys(engine) == {1: "ana", 2: "ana#2", 3: "bob", 4: "ana#4", 5: "zoë", 10: "ana"}
    assert name_key("Zoë") == "zoë"  # the migration's frozen copy agrees with the app's
    with engine.connect() as connection:
        options = connection.execute(
            text("SELECT reveal_policy, votes_per_battle, live_cap, voting_open, show_together FROM arena_evaluations")
        ).all()
        assert [tuple(o) for o in options] == [("after_last", None, None, True, True)] * 2
        opts = {"compare_type": True, "include_name": include_name_for(connection)}
        assert compare_metadata(MigrationContext.configure(connection, opts=opts), Base.metadata) == []


def test_the_trust_migration_downgrades_and_upgrades_again(engine):
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
    columns = {c["name"] for c in inspect(engine).get_columns("arena_raters")}
    assert "name_key" not in columns and "secret_hash" not in columns
    migrate(engine)
    assert _keys(engine)[2] == "ana#2"
