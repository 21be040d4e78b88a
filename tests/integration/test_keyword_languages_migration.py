"""0007_keyword_languages on a database from before it: the FTS5 index goes, the chunks keep
their texts and are cut on the collection's first load (in its language), so an upgraded
database searches as a new one; downgrading rebuilds the FTS5 index from the chunks."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Engine

from playground.rag.keyword_index import KeywordIndex
from playground.rag.keyword_store import load_collection_postings
from storage import make_session_factory, migrate, unit_of_work_factory
from storage.db import MIGRATIONS_DIR, _alembic_config, _upgrade
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory

BEFORE = "0006_rag_languages"
WHEN = datetime(2026, 11, 1, tzinfo=UTC)
TEXTS = ["As avaliações dos clientes chegam toda semana.", "O reembolso sai em dez dias úteis."]


def _insert(engine: Engine, table: str, rows: list[dict]) -> None:
    with engine.begin() as connection:
        connection.execute(Table(table, MetaData(), autoload_with=connection).insert(), rows)


def _old_database(engine: Engine) -> None:
    _upgrade(engine, MIGRATIONS_DIR, BEFORE)
    collection = dict(chunk_size=500, chunk_overlap=50, chunk_unit="chars", embed_model="all-MiniLM-L6-v2")
    _insert(
        engine,
        "rag_collections",
        [{"id": 1, "name": "pt", "embed_max_tokens": 256, "language": "pt", "created_at": WHEN, **collection}],
    )
    document = dict(content_hash="a" * 64, format="txt", size_bytes=1, version=1, status="ready", page_count=1)
    _insert(
        engine,
        "rag_documents",
        [
            {
                "id": 1,
                "collection_id": 1,
                "filename": "a.txt",
                "char_count": 1,
                "chunk_count": 2,
                "headings": [],
                "warnings": [],
                "created_at": WHEN,
                **document,
            }
        ],
    )
    chunk = dict(
        collection_id=1, document_id=1, page_number=1, start_char=0, end_char=1, heading="", embedding=b"\0" * 8
    )
    _insert(engine, "rag_chunks", [{"id": i + 1, "ordinal": i, "text": t, **chunk} for i, t in enumerate(TEXTS)])


def test_an_upgraded_database_cuts_its_chunks_in_the_collection_language(engine):
    _old_database(engine)

    migrate(engine)

    tables = set(inspect(engine).get_table_names())
    assert "rag_chunk_keywords" in tables and "rag_chunks_fts" not in tables
    uow_factory = unit_of_work_factory(make_session_factory(engine))
    with uow_factory() as uow:
        assert uow.rag_chunks.texts_without_terms(1, "pt") == [(1, TEXTS[0]), (2, TEXTS[1])]
        loaded = load_collection_postings(uow, 1)
    index = KeywordIndex(lambda _c: loaded)
    assert [c for c, _ in index.search(1, ["avaliação", "cliente"], 5)] == [1]
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT COUNT(*) FROM rag_chunk_keywords WHERE language = 'pt'")).scalar_one() == 2
        )


def test_the_keyword_migration_downgrades_and_upgrades_again(engine):
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
    assert "rag_chunk_keywords" not in set(inspect(engine).get_table_names())
    if engine.dialect.name == "sqlite":  # the FTS5 index is back, with the chunks in it
        with engine.connect() as connection:
            found = connection.execute(text("SELECT rowid FROM rag_chunks_fts WHERE rag_chunks_fts MATCH 'reembolso'"))
            assert [r[0] for r in found] == [2]
    migrate(engine)
    assert "rag_chunk_keywords" in set(inspect(engine).get_table_names())
