"""Fixtures for the storage tests: the same tests run on a SQLite file and on PostgreSQL.

Import the fixtures into a test module with ``from tests.conftest_storage import *``.
PostgreSQL runs when PLAYGROUND_TEST_POSTGRES_URL is set (scripts/test.sh sets it in CI);
each test starts from an empty ``public`` schema.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from storage import UnitOfWork, create_engine_for, make_session_factory, migrate, unit_of_work_factory
from storage.db import MIGRATIONS_DIR

POSTGRES_ENV = "PLAYGROUND_TEST_POSTGRES_URL"

__all__ = ["db_url", "engine", "migrated_engine", "uow_factory"]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migration_heads() -> set[str]:
    """What alembic_version holds after migrate(): the one head of the chain (see migration_head)."""
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def migration_head() -> str:
    """The newest revision. The history is one chain since 0002_merge, so there is exactly one."""
    heads = migration_heads()
    assert len(heads) == 1, f"The migrations must have one head (chain new ones after the newest), not {sorted(heads)}"
    return heads.pop()


def reset_postgres_schema(url: str) -> None:
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "data" / "playground.db")
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (the test command sets it when CI is set)")
    reset_postgres_schema(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine_for(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_engine(engine: Engine) -> Engine:
    migrate(engine)
    return engine


@pytest.fixture
def uow_factory(migrated_engine: Engine) -> Callable[[], UnitOfWork]:
    return unit_of_work_factory(make_session_factory(migrated_engine))
