"""Engines, the pre-start database check, migrations and session factories."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA synchronous=NORMAL",
)
POSTGRES_CONNECT_TIMEOUT_S = 10
# Alembic keeps the running migration context in module globals: one upgrade per process at a time.
_ALEMBIC_LOCK = threading.Lock()
_MIGRATION_LOCK_KEY = 0x706C6179  # "play": any constant shared by every Playground process
_SQLITE_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_SQLITE_LOCK_WAIT_S = 30  # as long as busy_timeout
# The history is one chain (0002_merge joined the old feature branches), so there is one
# head; with a second one Alembic refuses "head" instead of silently applying both.
NEWEST = "head"


class DatabaseCorruptError(Exception):
    """The database file exists but is not a readable SQLite database."""


class DatabaseUnavailableError(Exception):
    """The database cannot be reached or opened (server down, wrong address, no permission)."""


def create_engine_for(url: str) -> Engine:
    """An engine for a SQLite file or a PostgreSQL server (psycopg 3 when no driver is named)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            # Without it an unreachable host hangs start-up for the OS TCP timeout (minutes).
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    return create_engine(parsed, pool_pre_ping=True)


def check_database(url: str) -> None:
    """Fail early, in plain words, if the database is corrupt or unreachable. Never changes it."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(parsed)
    else:
        _check_server(parsed)


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration. Safe to run on every start."""
    _upgrade(engine, MIGRATIONS_DIR)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: a unit of work returns them to callers once closed.
    return sessionmaker(bind=engine, expire_on_commit=False)


def describe_url(url: str | URL) -> str:
    """The URL as it may be shown or logged: without its password."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


# ---- engines ---------------------------------------------------------------------


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise DatabaseUnavailableError(
            f"The database address {describe_url(url)} is not one Playground understands. "
            "Use e.g. sqlite:////path/to/playground.db or postgresql://user@host/dbname."
        ) from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _create_sqlite_engine(url: URL) -> Engine:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            _execute_when_unlocked(cursor, pragma)
    finally:
        cursor.close()


def _execute_when_unlocked(cursor: sqlite3.Cursor, statement: str) -> None:
    """Run ``statement``, waiting out a lock that SQLite itself does not wait for.

    When two processes open a new database file at once, both switch it to WAL; SQLite
    answers one of them "database is locked" at once, without its busy timeout (waiting
    there could deadlock), and that process would fail to start.
    """
    deadline = time.monotonic() + _SQLITE_LOCK_WAIT_S
    while True:
        try:
            cursor.execute(statement)
            return
        except sqlite3.OperationalError as err:
            if err.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


# ---- checks ----------------------------------------------------------------------


def _check_sqlite_file(url: URL) -> None:
    path = _sqlite_file(url)
    if path is None or not path.exists():
        return  # in memory, or a new file that migrate() will create
    if path.is_dir():
        raise DatabaseUnavailableError(
            f"The database path {path} is a folder, not a file. Point DATABASE_URL at a file, then start again."
        )
    try:
        connection = sqlite3.connect(_read_only_uri(path), uri=True)
    except sqlite3.Error as err:
        raise _sqlite_unavailable(path, err) from err
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as err:
        if isinstance(err, sqlite3.OperationalError) and err.sqlite_errorcode & 0xFF not in _SQLITE_CORRUPT_CODES:
            raise _sqlite_unavailable(path, err) from err
        raise _sqlite_corrupt(path, str(err)) from err
    finally:
        connection.close()
    problems = [row[0] for row in rows if row and row[0] != "ok"]
    if problems or not rows:
        raise _sqlite_corrupt(path, problems[0] if problems else "the integrity check returned nothing")


def _read_only_uri(path: Path) -> str:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    sidecars = [Path(f"{path}{suffix}") for suffix in ("-wal", "-journal")]
    if any(sidecar.exists() for sidecar in sidecars):
        return uri  # committed data may still sit in the sidecar: SQLite must read it too
    # Even read-only, SQLite creates -wal/-shm files next to a WAL database; "immutable"
    # stops that, and with no sidecar there is nothing it would skip.
    return uri + "&immutable=1"


def _sqlite_corrupt(path: Path, detail: str) -> DatabaseCorruptError:
    return DatabaseCorruptError(
        f"The database file {path} is not a valid SQLite database (it may be corrupt or not a "
        "database at all). Playground has not changed it. Move it aside or restore a backup, "
        f"then start again. (SQLite said: {detail})"
    )


def _sqlite_unavailable(path: Path, err: sqlite3.Error) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"Playground could not open the database file {path}: {err}. "
        "Check that the file and its folder can be read and written, then start again."
    )


def _check_server(url: URL) -> None:
    shown = describe_url(url)
    try:
        engine = create_engine_for(url.render_as_string(hide_password=False))
    except Exception as err:
        raise DatabaseUnavailableError(
            f"Playground cannot use the database at {shown}: {_without_password(err, url)}. "
            "For PostgreSQL install the postgres extra: pip install -e '.[postgres]'."
        ) from err
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as err:
        raise DatabaseUnavailableError(
            f"Playground could not connect to the database at {shown}: {_without_password(err, url)}. "
            "Check that the server is running and that the address, user name and password are right."
        ) from err
    finally:
        engine.dispose()


def _without_password(err: BaseException, url: URL) -> str:
    cause = getattr(err, "orig", None) or err
    message = " ".join(str(cause).split()) or type(cause).__name__
    if url.password:
        message = message.replace(str(url.password), "***")
    return message


# ---- migrations ------------------------------------------------------------------


def _alembic_config(script_location: Path) -> Config:
    config = Config()
    # ConfigParser would read "%" in a path as interpolation.
    config.set_main_option("script_location", str(script_location).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def _upgrade(engine: Engine, script_location: Path, target: str = NEWEST) -> None:
    """Upgrade to ``target``: the newest revision, or (for tests building old databases) an older one."""
    with _ALEMBIC_LOCK:
        _upgrade_locked(engine, _alembic_config(script_location), target)


def _upgrade_locked(engine: Engine, config: Config, target: str) -> None:
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, config, target)
        return
    with engine.begin() as connection:  # PostgreSQL DDL is transactional: all or nothing
        if engine.dialect.name == "postgresql":
            # The app and a worker process may start together; the second waits, then finds nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def _upgrade_sqlite(engine: Engine, config: Config, target: str) -> None:
    """Run the migrations in one real SQLite transaction, with foreign keys off.

    pysqlite never sends BEGIN before DDL, so a migration failing halfway would leave a
    half-changed schema; here we send BEGIN ourselves. Foreign keys must be off because
    batch mode rebuilds a table by dropping it, and with them on that drop would
    cascade-delete every child row (e.g. all generations of all runs).
    """
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None  # a freshly checked-out connection always holds its DBAPI connection
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
        saved_isolation = raw.isolation_level
        raw.isolation_level = None  # the driver's own transaction handling off: we send BEGIN/COMMIT
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, target)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"A migration left rows pointing at missing rows, e.g. {broken[0]}.")
                connection.exec_driver_sql("COMMIT")
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
        finally:
            raw.isolation_level = saved_isolation
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
