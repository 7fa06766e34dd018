"""Alembic environment: runs migrations on the async engine, or on a connection handed in."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models  # noqa: F401  registers every table
from models.db import is_sqlite, make_engine

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    if is_sqlite(engine):
        # SQLite alters a table by copying it into a new one and dropping the old: with foreign
        # keys enforced, dropping a table other rows point at fails. SQLite's own procedure is
        # to turn them off (only possible outside a transaction, so at connect) and check after.
        event.listen(engine.sync_engine, "connect", _without_foreign_keys)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        if is_sqlite(engine):
            broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
            if broken:
                await connection.rollback()
                raise RuntimeError(f"the migration broke {len(broken)} foreign keys: {broken[:3]}")
        await connection.commit()
    await engine.dispose()


def _without_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


def run_migrations_online() -> None:
    """Use the caller's connection when given one, else connect to the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL or pass sqlalchemy.url")
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `kortkontor db upgrade`")
run_migrations_online()
