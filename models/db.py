"""The async engine and session factory, created once per process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The execution option that marks a `reading` session's connection.
_READ_ONLY = "kortkontor_read_only"
# Plain URL schemes and the async driver each one gets; async URLs pass through unchanged.
# asyncpg rather than psycopg: about 15 % less CPU per chat update (docs/benchmarks.md).
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """Turn a plain `sqlite:///` or `postgresql://` URL into one with an async driver."""
    parsed = make_url(url)
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        return url
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    """Whether the engine talks to SQLite (the single-writer database)."""
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and every transaction begun IMMEDIATE.

    IMMEDIATE takes the write lock at BEGIN, so two transactions never both read a free slot
    and then both write it: SQLite's only safe way to check-then-insert.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            # A reader: WAL gives it a snapshot, and writers go on meanwhile.
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the process's engine for a plain or async database URL."""
    # Statement parameters stay out of error messages: they can hold personal data.
    engine = create_async_engine(async_url(url), **{"hide_parameters": True, **kwargs})
    if is_sqlite(engine):
        _configure_sqlite(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory; objects stay usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


# SQLite has one writer at a time. Queuing a process's transactions on an asyncio lock is far
# cheaper than letting them spin in SQLite's busy handler (which sleeps up to 100 ms a turn).
_sqlite_writers: WeakKeyDictionary[Any, dict[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    WeakKeyDictionary()
)


def _writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """This process's SQLite writer lock for the running loop; None for other databases."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or not is_sqlite(engine):
        return None
    per_loop = _sqlite_writers.setdefault(engine.sync_engine, {})
    return per_loop.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    lock = _writer_lock(sessions)
    async with lock or nullcontext(), sessions() as session, session.begin():
        yield session


def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session that only reads. On SQLite its transaction takes no write lock, so a long
    read (rendering a batch of notifications, say) never holds up a chat's answer; writing
    through it is a mistake. Elsewhere it is a plain session."""
    engine = sessions.kw.get("bind")
    if isinstance(engine, AsyncEngine) and is_sqlite(engine):
        engine = engine.execution_options(**{_READ_ONLY: True})
    return sessions(bind=engine)
