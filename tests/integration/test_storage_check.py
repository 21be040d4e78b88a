"""The pre-start check: plain-language errors for a corrupt file or an unreachable server,
and never a change to the file it checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage import (
    DatabaseCorruptError,
    DatabaseUnavailableError,
    check_database,
    create_engine_for,
    make_session_factory,
    migrate,
    unit_of_work_factory,
)
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url
from tests.conftest_storage import sqlite_url


def _generation_fields(**overrides):
    fields = dict(model_key="k", model_name="n", backend="llama_cpp", messages=[], params={}, status="ok")
    fields.update(overrides)
    return fields


def _real_database(path: Path) -> None:
    engine = create_engine_for(sqlite_url(path))
    try:
        migrate(engine)
        with unit_of_work_factory(make_session_factory(engine))() as uow:
            run = uow.runs.add(kind="try")
            for position in range(200):
                uow.generations.add(run.id, **_generation_fields(position=position, output="text " * 100))
    finally:
        engine.dispose()  # the last close checkpoints the WAL into the file


def _assert_corrupt_and_untouched(path: Path) -> None:
    before, files_before = path.read_bytes(), sorted(os.listdir(path.parent))
    with pytest.raises(DatabaseCorruptError) as caught:
        check_database(sqlite_url(path))
    message = str(caught.value)
    assert str(path) in message and "not a valid SQLite database" in message and "has not changed it" in message
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == files_before  # nothing created, renamed or deleted


def test_check_database_refuses_a_file_of_random_bytes(tmp_path):
    path = tmp_path / "playground.db"
    path.write_bytes(os.urandom(64 * 1024))
    _assert_corrupt_and_untouched(path)


def test_check_database_refuses_a_truncated_database(tmp_path):
    path = tmp_path / "playground.db"
    _real_database(path)
    check_database(sqlite_url(path))  # whole, it passes
    data = path.read_bytes()
    assert len(data) > 100 * 1024
    path.write_bytes(data[: len(data) // 2])
    _assert_corrupt_and_untouched(path)


def test_check_database_passes_a_healthy_file_without_touching_it(tmp_path):
    path = tmp_path / "playground.db"
    _real_database(path)
    before = path.read_bytes()
    check_database(sqlite_url(path))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["playground.db"]


def test_check_database_accepts_a_missing_file_and_creates_nothing(tmp_path):
    check_database(sqlite_url(tmp_path / "not-yet" / "playground.db"))
    assert list(tmp_path.iterdir()) == []


def test_check_database_reaches_a_live_server(db_url):
    check_database(db_url)


def test_check_database_reports_an_unreachable_server_without_its_password():
    url = "postgresql://someone:pa55word-XYZ@127.0.0.1:1/playground"
    with pytest.raises(DatabaseUnavailableError) as caught:
        check_database(url)
    message = str(caught.value)
    assert "pa55word-XYZ" not in message
    assert "postgresql+psycopg://someone:***@127.0.0.1:1/playground" in message
    assert "could not connect" in message
