"""Databases made by earlier releases upgrade to the one head and keep their rows.

Until 0002_merge the features added their tables as sibling branches off 0001_initial
(0002_judge off 0002_arena), and every release ran ``upgrade heads``. So alembic_version in
a database out there holds the heads of whichever part of that graph its release knew: any
set of old revisions that holds, with each revision, its parents. The tests build each such
database, put rows in every table group it has, then run migrate() as the app does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from itertools import combinations
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from sqlalchemy import MetaData, Table, select, text
from sqlalchemy.engine import Engine

from storage import Base, migrate
from storage.db import MIGRATIONS_DIR, _alembic_config, _upgrade
from storage.schema_filter import include_name_for
from tests.conftest_storage import *  # noqa: F403 - fixtures: db_url, engine, migrated_engine, uow_factory
from tests.conftest_storage import migration_head

MERGE = "0002_merge"
STATUS_MIGRATION = "0003_finetune_status_done"
SCRIPT = ScriptDirectory(str(MIGRATIONS_DIR))
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

# Parents first: the order in which one database can have received the old revisions.
OLD_REVISIONS = [
    rev.revision for rev in reversed(list(SCRIPT.iterate_revisions(MERGE, "base"))) if rev.revision != MERGE
]
OLD_PARENTS = {
    revision: to_tuple(SCRIPT.get_revision(revision).down_revision, default=()) for revision in OLD_REVISIONS
}

# What each release that added a migration left behind (git log -- storage/migrations/versions).
RELEASE_STATES = [
    {"0001_initial"},
    {"0002_compare"},
    {"0002_compare", "0002_arena"},
    {"0002_compare", "0002_arena", "0002_documents"},
    {"0002_compare", "0002_arena", "0002_documents", "0002_finetune_datasets"},
    {"0002_compare", "0002_documents", "0002_finetune_datasets", "0002_judge"},
    {"0002_compare", "0002_documents", "0002_finetune_datasets", "0002_judge", "0002_finetune_jobs"},
]


def _with_ancestors(revisions: set[str]) -> set[str]:
    applied: set[str] = set()
    waiting = list(revisions)
    while waiting:
        revision = waiting.pop()
        if revision not in applied:
            applied.add(revision)
            waiting.extend(OLD_PARENTS[revision])
    return applied


def _old_states() -> list[frozenset[str]]:
    """alembic_version as any earlier release may have left it: the heads of each applied set."""
    branches = [revision for revision in OLD_REVISIONS if revision != "0001_initial"]
    states = []
    for size in range(len(branches) + 1):
        for chosen in combinations(branches, size):
            applied = {"0001_initial", *chosen}
            if _with_ancestors(applied) == applied:
                parents = {parent for revision in applied for parent in OLD_PARENTS[revision]}
                states.append(frozenset(applied - parents))
    return states


OLD_STATES = _old_states()


def _state_id(state: frozenset[str]) -> str:
    return "+".join(sorted(revision.removeprefix("0002_") for revision in state))


@dataclass(frozen=True)
class Seed:
    """A row written by an old release, and what the upgrade is meant to change in it."""

    table: str
    row: dict[str, Any]
    changed: dict[str, Any] = field(default_factory=dict)


def _job(job_id: int, status: str) -> dict[str, Any]:
    return {
        "id": job_id,
        "name": f"job {job_id}",
        "base_model": "embedded/smollm2",
        "base_name": "SmolLM2",
        "base_path": "/models/smollm2.gguf",
        "base_folder": "/models/smollm2-hf",
        "prompt_format": "alpaca",
        "dataset_name": "support replies",
        "train_rows": 40,
        "holdout_rows": 4,
        "config": {"rank": 8},
        "status": status,
        "message": f"{status} in an old release",
        "job_dir": f"/jobs/{job_id}",
        "stop_requested": False,
        "step": 20,
        "total_steps": 20,
        "checkpoint_step": 20,
        "epoch": 1.0,
        "tokens_seen": 12345,
        "micro_batch": 1,
        "grad_accum": 4,
        "device": "cpu",
        "created_at": WHEN,
    }


# Rows written right after each revision landed, in that revision's schema.
SEEDS: dict[str, list[Seed]] = {
    "0001_initial": [
        Seed("runs", {"id": 7, "kind": "compare", "title": "an old run", "meta": {"note": "kept"}, "created_at": WHEN}),
        Seed(
            "generations",
            {
                "id": 11,
                "run_id": 7,
                "position": 0,
                "model_key": "embedded/smollm2",
                "model_name": "SmolLM2",
                "backend": "llama_cpp",
                "messages": [{"role": "user", "content": "Hi"}],
                "params": {"max_tokens": 64},
                "output": "Hello!",
                "status": "ok",
                "tokens_estimated": False,
                "created_at": WHEN,
            },
        ),
    ],
    "0002_compare": [Seed("prompt_templates", {"id": 3, "name": "an old template", "created_at": WHEN})],
    "0002_arena": [
        Seed(
            "arena_evaluations",
            {
                "id": 4,
                "name": "an old evaluation",
                "mode": "prompt_set",
                "join_code": "OLD123",
                "params": {},
                "leak_words": ["GPT"],
                "leak_action": "redact",
                "seed": 42,
                "created_at": WHEN,
            },
        )
    ],
    "0002_judge": [
        Seed(
            "judge_rubrics",
            {
                "id": 5,
                "name": "an old rubric",
                "version": 1,
                "criteria": [{"name": "accuracy"}],
                "created_at": WHEN,
            },
        )
    ],
    "0002_documents": [
        Seed(
            "rag_collections",
            {
                "id": 6,
                "name": "old documents",
                "chunk_size": 500,
                "chunk_overlap": 50,
                "chunk_unit": "tokens",
                "embed_model": "all-MiniLM-L6-v2",
                "embed_max_tokens": 256,
                "created_at": WHEN,
            },
        )
    ],
    "0002_finetune_datasets": [
        Seed(
            "finetune_datasets",
            {
                "id": 8,
                "name": "an old dataset",
                "kind": "alpaca",
                "mapping": {"instruction": "q"},
                "source_name": "old.csv",
                "examples": [{"instruction": "Hi", "output": "Hello"}],
                "row_count": 1,
                "usable_count": 1,
                "report": {},
                "created_at": WHEN,
            },
        )
    ],
    "0002_finetune_jobs": [
        Seed("finetune_jobs", _job(1, "succeeded"), changed={"status": "done"}),
        Seed("finetune_jobs", _job(2, "failed")),
        Seed("finetune_jobs", _job(3, "stopped")),
    ],
}


def _versions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _insert(engine: Engine, seed: Seed) -> None:
    with engine.begin() as connection:
        # The table as this old revision made it, not as the ORM maps it now.
        table = Table(seed.table, MetaData(), autoload_with=connection)
        connection.execute(table.insert(), seed.row)


def _build_old_database(engine: Engine, state: frozenset[str]) -> list[Seed]:
    """Apply what ``state`` implies, parents first, seeding each revision's tables once it lands."""
    applied = _with_ancestors(set(state))
    seeds = []
    for revision in (revision for revision in OLD_REVISIONS if revision in applied):
        _upgrade(engine, MIGRATIONS_DIR, revision)
        for seed in SEEDS[revision]:
            _insert(engine, seed)
            seeds.append(seed)
    assert _versions(engine) == state
    return seeds


def _stored(engine: Engine, seed: Seed) -> dict[str, Any]:
    table = Base.metadata.tables[seed.table]
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.id == seed.row["id"])).mappings().one()
    return {column: row[column] for column in seed.row}


def _schema_differences(engine: Engine) -> list:
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_name": include_name_for(connection)}  # as env.py does
        return compare_metadata(MigrationContext.configure(connection, opts=opts), Base.metadata)


def _job_statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, status FROM finetune_jobs ORDER BY id"))
        return {job_id: status for job_id, status in rows}


def _downgrade(engine: Engine, target: str) -> None:
    config = _alembic_config(MIGRATIONS_DIR)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, target)


def test_the_old_states_are_every_mix_of_the_branches_and_include_each_release():
    # Four lone branches, each there or not, times arena: none, 0002_arena or 0002_judge on it.
    assert len(OLD_STATES) == 2**4 * 3
    assert all(frozenset(state) in OLD_STATES for state in RELEASE_STATES)


@pytest.mark.parametrize("state", OLD_STATES, ids=_state_id)
def test_a_database_from_an_earlier_release_upgrades_to_the_head_with_its_rows(engine, state):
    seeds = _build_old_database(engine, state)

    migrate(engine)

    assert _versions(engine) == {migration_head()}
    assert _schema_differences(engine) == []
    for seed in seeds:
        assert _stored(engine, seed) == {**seed.row, **seed.changed}, seed.table


def test_downgrading_the_status_migration_gives_old_releases_back_succeeded(engine):
    _build_old_database(engine, frozenset({"0002_finetune_jobs"}))
    migrate(engine)
    with engine.begin() as connection:  # a job the new app finished
        connection.execute(text("UPDATE finetune_jobs SET status = 'done' WHERE id = 3"))
    assert _job_statuses(engine) == {1: "done", 2: "failed", 3: "done"}

    _downgrade(engine, f"{STATUS_MIGRATION}-1")

    assert _versions(engine) == {MERGE}
    assert _job_statuses(engine) == {1: "succeeded", 2: "failed", 3: "succeeded"}
    migrate(engine)
    assert _job_statuses(engine) == {1: "done", 2: "failed", 3: "done"}
