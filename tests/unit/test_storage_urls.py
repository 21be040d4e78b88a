"""Storage rules that need no database: URL handling, password hiding, and the import rule."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import storage
from storage import DatabaseUnavailableError, check_database, create_engine_for, describe_url

STORAGE_DIR = Path(storage.__file__).parent
ALLOWED_THIRD_PARTY = {"sqlalchemy", "alembic", "storage"}


@pytest.mark.parametrize("url", ["postgresql://me:pw@db.example:5432/pg", "postgres://me:pw@db.example:5432/pg"])
def test_postgres_urls_use_psycopg_3_and_pre_ping(url):
    engine = create_engine_for(url)  # creating an engine does not connect
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.pool._pre_ping is True
        assert (engine.url.host, engine.url.database) == ("db.example", "pg")
    finally:
        engine.dispose()


def test_describe_url_hides_the_password():
    assert describe_url("postgresql://me:s3cret@host/db") == "postgresql://me:***@host/db"
    assert "s3cret" not in describe_url("not a url://me:s3cret@host")


def test_an_unparsable_url_is_reported_plainly_without_its_password():
    with pytest.raises(DatabaseUnavailableError, match="not one Playground understands") as caught:
        check_database("::nonsense://me:s3cret@host")
    assert "s3cret" not in str(caught.value)


def test_storage_imports_only_sqlalchemy_alembic_and_the_standard_library():
    offenders = []
    for path in sorted(STORAGE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
                    offenders.append(f"{path.relative_to(STORAGE_DIR)}: {name}")
    assert offenders == []
