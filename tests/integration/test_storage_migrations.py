"""Later migrations must be safe: all-or-nothing, table rebuilds on SQLite keep child rows,
and two processes may migrate at once.

Some tests copy the real migrations folder and add one more revision after the newest, as the
next real migration will be: the history is one chain with one head, and migrate() upgrades to it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import MIGRATIONS_DIR, _upgrade
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory
from tests.conftest_storage import migration_head, migration_heads

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = """
import sqlalchemy as sa
from alembic import op

revision = "9999_test_only"
down_revision = {head!r}
branch_labels = None
depends_on = None
"""


def _migrations_with(tmp_path: Path, upgrade_body: str) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    body = textwrap.indent(textwrap.dedent(upgrade_body).strip(), "    ")
    source = f"{HEADER.format(head=migration_head())}\n\ndef upgrade():\n{body}\n"
    (folder / "versions" / "9999_test_only.py").write_text(source)
    return folder


def test_the_history_is_one_chain_with_one_head():
    """The old feature branches join at 0002_merge; from there on the history is a straight line."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert len(script.get_heads()) == 1, "chain a new migration after the newest one instead of branching"
    from_the_merge_on = list(script.iterate_revisions(migration_head(), "0002_merge", inclusive=True))
    assert [revision.revision for revision in from_the_merge_on if revision.is_merge_point] == ["0002_merge"]
    assert [revision.revision for revision in from_the_merge_on if revision.is_branch_point] == []


def _add_run_with_generations(uow_factory, count: int) -> int:
    with uow_factory() as uow:
        run = uow.runs.add(kind="compare", title="before the upgrade")
        for position in range(count):
            uow.generations.add(
                run.id,
                position=position,
                model_key=f"model/{position}",
                model_name=f"Model {position}",
                backend="llama_cpp",
                messages=[],
                params={},
                status="ok",
            )
        return run.id


def _versions(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_a_failing_migration_changes_nothing(migrated_engine, uow_factory, tmp_path):
    run_id = _add_run_with_generations(uow_factory, 2)
    folder = _migrations_with(
        tmp_path,
        """
        op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
        op.add_column("runs", sa.Column("note", sa.Text(), nullable=True))
        op.execute("UPDATE runs SET title = 'changed by the broken migration'")
        raise RuntimeError("this migration is broken")
        """,
    )

    with pytest.raises(RuntimeError, match="broken"):
        _upgrade(migrated_engine, folder)

    inspector = inspect(migrated_engine)
    assert "scratch" not in inspector.get_table_names()
    assert "note" not in {c["name"] for c in inspector.get_columns("runs")}
    assert _versions(migrated_engine) == migration_heads()
    with uow_factory() as uow:
        run = uow.runs.get(run_id)
        assert run.title == "before the upgrade" and len(run.generations) == 2


def test_rebuilding_a_parent_table_keeps_its_children(migrated_engine, uow_factory, tmp_path):
    run_id = _add_run_with_generations(uow_factory, 3)
    # On SQLite this drops and recreates "runs"; with foreign keys on, that would delete every generation.
    folder = _migrations_with(
        tmp_path,
        """
        recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
        with op.batch_alter_table("runs", recreate=recreate) as batch:
            batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        """,
    )

    _upgrade(migrated_engine, folder)

    assert _versions(migrated_engine) == {"9999_test_only"}
    assert "note" in {c["name"] for c in inspect(migrated_engine).get_columns("runs")}
    with migrated_engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM generations WHERE run_id = :id"), {"id": run_id})
        assert count.scalar_one() == 3
    # The foreign key still holds and still cascades after the rebuild.
    with pytest.raises(IntegrityError):
        with migrated_engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO generations (run_id, position, model_key, model_name, backend, messages, params,"
                    " output, status, tokens_estimated, created_at)"
                    " VALUES (987654, 0, 'k', 'n', 'b', '[]', '{}', '', 'ok', false, CURRENT_TIMESTAMP)"
                )
            )
    with migrated_engine.begin() as connection:
        connection.execute(text("DELETE FROM runs WHERE id = :id"), {"id": run_id})
        assert connection.execute(text("SELECT COUNT(*) FROM generations")).scalar_one() == 0


MIGRATE_WHEN_TOLD = """
import sys, time
from pathlib import Path
from storage import create_engine_for, migrate
engine = create_engine_for(sys.argv[1])
Path(sys.argv[3]).touch()
while not Path(sys.argv[2]).exists():
    time.sleep(0.005)
migrate(engine)
engine.dispose()
"""


def test_two_processes_migrating_at_once_both_succeed(engine, db_url, tmp_path):
    """The app and a worker may start together on a new database: neither may fail."""
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_WHEN_TOLD, db_url, str(go), str(tmp_path / f"ready-{i}")],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{i}").exists() for i in range(2)) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        outputs = [process.communicate(timeout=60)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert _versions(engine) == migration_heads()
