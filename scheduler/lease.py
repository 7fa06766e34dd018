"""The leader lease: of several `kortkontor serve` processes on one PostgreSQL database, only
the one holding it runs the periodic jobs (scheduler.jobs).

The lease is a PostgreSQL session-level advisory lock (`pg_try_advisory_lock`) held on a
connection of its own. PostgreSQL drops the lock the moment that session ends, so a leader
killed with SIGKILL frees it at once (the kernel closes its socket), and a follower that retries
every RETRY takes over within RETRY: no expiry to wait out, no clocks to agree on, no table to
write every few seconds. The leader checks its session every CHECK and before each job it runs
(`confirm`), and steps down as soon as the session does not answer.

SQLite serves one process only: that process is always the leader (`AlwaysLeader`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from models.db import is_sqlite

logger = logging.getLogger(__name__)

# The advisory lock's key: «KKLEAD» in ASCII. Advisory locks are per database.
LOCK_KEY = 0x4B4B_4C45_4144
# How often a follower tries to take the lease, and the leader checks that it still holds it.
RETRY = timedelta(seconds=15)
CHECK = timedelta(seconds=10)
# A database slower than this to answer counts as lost.
TIMEOUT_SECONDS = 5.0
# The lease's own session: the server notices a leader whose machine vanished within about
# 10 + 3 × 5 s (keepalives), and never closes the session for being idle.
SESSION_SETTINGS = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
    "SET idle_session_timeout = 0",
)

Listener = Callable[[bool], None]


class Lease(Protocol):
    """Whether this process is the leader, and a way to be told when that changes."""

    on_change: Listener | None

    def held(self) -> bool:
        """Whether this process holds the lease now (as last checked)."""
        ...

    async def confirm(self) -> bool:
        """Check with the database that the lease is still held (before a leader's job)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class AlwaysLeader:
    """SQLite's single process, which is the only one and so the leader."""

    def __init__(self) -> None:
        self.on_change: Listener | None = None

    def held(self) -> bool:
        return True

    async def confirm(self) -> bool:
        return True

    async def start(self) -> None:
        logger.info("leader lease: one process on SQLite, it runs the periodic jobs")

    async def stop(self) -> None:
        return None


class AdvisoryLease:
    """A PostgreSQL advisory lock held on a dedicated connection, retried while not held."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        key: int = LOCK_KEY,
        retry: timedelta = RETRY,
        check: timedelta = CHECK,
    ) -> None:
        # A pool of its own with no pooling: closing the connection ends the session, and with
        # it the lock; it never goes back to a pool still holding the lock.
        self._engine = create_async_engine(engine.url, poolclass=NullPool, hide_parameters=True)
        self.key = key
        self.retry = retry
        self.check = check
        self.on_change: Listener | None = None
        self._connection: AsyncConnection | None = None
        self._held = False
        self._use = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._complained = False

    def held(self) -> bool:
        return self._held

    async def start(self) -> None:
        """Try once now (so that a lone instance leads from its first second), then keep
        trying or checking in the background."""
        await self._step()
        if not self._held:
            logger.info(
                "leader lease: another instance holds it; this one follows and retries every %d s",
                self.retry.total_seconds(),
            )
        self._task = asyncio.create_task(self._loop(), name="leader-lease")

    async def stop(self) -> None:
        """Stop trying, and release the lease by ending its session."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        async with self._use:
            await self._drop()
            self._set(False, quiet=True)
        await self._engine.dispose()

    async def confirm(self) -> bool:
        """Whether the lease is still held, asking the database (a job's fence)."""
        if self._held:
            await self._step()
        return self._held

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep((self.check if self._held else self.retry).total_seconds())
            await self._step()

    async def _step(self) -> None:
        """A follower tries to take the lease; the leader checks its session answers."""
        async with self._use:
            try:
                async with asyncio.timeout(TIMEOUT_SECONDS):
                    if self._held:
                        await self._ask("SELECT 1")
                    else:
                        self._set(bool(await self._ask("SELECT pg_try_advisory_lock(:key)")))
                self._complained = False
            except Exception as error:
                # The class only: a driver's message may carry the URL.
                if self._held or not self._complained:
                    logger.warning(
                        "leader lease: the database does not answer (%s); %s",
                        type(error).__name__,
                        "stepping down" if self._held else "retrying",
                    )
                    self._complained = True
                await self._drop()
                self._set(False)

    async def _ask(self, query: str) -> object:
        if self._connection is None:
            connection = await self._engine.connect()
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for setting in SESSION_SETTINGS:
                await connection.exec_driver_sql(setting)
            self._connection = connection
        result = await self._connection.execute(text(query), {"key": self.key})
        return result.scalar()

    async def _drop(self) -> None:
        """Close the lease's session (which releases the lock, if it still holds it)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await connection.close()
        except Exception:
            with suppress(Exception):
                await connection.invalidate()

    def _set(self, held: bool, *, quiet: bool = False) -> None:
        if held == self._held:
            return
        self._held = held
        if not quiet:
            if held:
                logger.info("leader lease: taken; this instance runs the periodic jobs")
            else:
                logger.warning("leader lease: lost; this instance stops running periodic jobs")
        if self.on_change is not None:
            self.on_change(held)


def lease_for(engine: AsyncEngine) -> Lease:
    """The lease that fits the database: always held on SQLite, an advisory lock elsewhere."""
    return AlwaysLeader() if is_sqlite(engine) else AdvisoryLease(engine)
