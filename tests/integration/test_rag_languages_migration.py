"""0006_rag_languages on a database with Documents collections from before it: they keep their
embedder (all-MiniLM-L6-v2) and get an unknown language; a new collection can hold either
embedder; downgrading and upgrading again works (on SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Engine

from playground.rag.config import EMBED_MODEL_NAME, MULTILINGUAL_EMBED_MODEL_NAME
from storage import migrate
from storage.db import MIGRATIONS_DIR, _alembic_config, _upgrade
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory

BEFORE = "0005_arena_trust"
REVISION = "0006_rag_languages"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def _collection(id: int, name: str, embed_model: str) -> dict:
    return dict(
        id=id,
        name=name,
        chunk_size=1000,
        chunk_overlap=100,
        chunk_unit="chars",
        embed_model=embed_model,
        embed_max_tokens=256,
        created_at=WHEN,
    )


def _old_database(engine: Engine) -> None:
    _upgrade(engine, MIGRATIONS_DIR, BEFORE)
    with engine.begin() as connection:
        table = Table("rag_collections", MetaData(), autoload_with=connection)
        connection.execute(table.insert(), [_collection(1, "HR", EMBED_MODEL_NAME), _collection(2, "odd", "")])


def _rows(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(text("SELECT id, embed_model, language FROM rag_collections ORDER BY id"))
        ]


def test_old_collections_stay_on_minilm_with_an_unknown_language(engine):
    _old_database(engine)

    _upgrade(engine, MIGRATIONS_DIR, REVISION)

    assert _rows(engine) == [(1, EMBED_MODEL_NAME, ""), (2, EMBED_MODEL_NAME, "")]
    migrate(engine)  # and on to the head
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rag_collections (id, name, chunk_size, chunk_overlap, chunk_unit, embed_model, "
                "embed_max_tokens, language, created_at) VALUES (3, 'pt', 1000, 100, 'chars', :m, 256, 'pt', :w)"
            ),
            {"m": MULTILINGUAL_EMBED_MODEL_NAME, "w": WHEN},
        )
    assert _rows(engine)[-1][1:] == (MULTILINGUAL_EMBED_MODEL_NAME, "pt")


def test_the_language_column_goes_on_downgrade_and_comes_back(engine):
    _old_database(engine)
    _upgrade(engine, MIGRATIONS_DIR, REVISION)
    config = _alembic_config(MIGRATIONS_DIR)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE)
    assert "language" not in {c["name"] for c in inspect(engine).get_columns("rag_collections")}

    _upgrade(engine, MIGRATIONS_DIR, REVISION)

    assert _rows(engine) == [(1, EMBED_MODEL_NAME, ""), (2, EMBED_MODEL_NAME, "")]
