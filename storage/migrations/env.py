"""Alembic environment for Playground.

``storage.db.migrate`` passes an open connection in ``config.attributes["connection"]``.
Run from the command line (e.g. to autogenerate a new migration), it connects to
``DATABASE_URL`` or the ``sqlalchemy.url`` option of ``alembic.ini``.
"""

import os
from logging.config import fileConfig

from alembic import context

from storage.orm import Base, UtcDateTime
from storage.schema_filter import include_name_for

config = context.config
target_metadata = Base.metadata

# Only from the command line: inside the app, logging is the app's business.
if config.config_file_name and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj, autogen_context):
    # Migrations must not import storage.orm (it changes later); UtcDateTime is a plain DateTime in SQL.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def _url() -> str:
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Set DATABASE_URL (or sqlalchemy.url in alembic.ini) to run Alembic from the command line.")
    return url


def run_migrations_offline() -> None:
    url = _url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection) -> None:
    _configure(
        connection=connection,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name_for(connection),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    from storage.db import create_engine_for

    engine = create_engine_for(_url())
    try:
        with engine.begin() as connection:
            _run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
