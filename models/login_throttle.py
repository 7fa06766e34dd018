"""Login throttling, kept in the database so that it holds across workers and restarts.

Each key (one for the account asked for, one for the client's address) counts the attempts not
found right. From its threshold on, each further attempt locks the key for twice as long as the
one before: 1 s, 2 s, 4 s … up to MAX_BACKOFF. A locked key refuses attempts unchecked and
counts nothing more.

An attempt is counted before its password is checked, under a row lock, so that parallel
requests cannot all slip through the same free moment; a right password refunds it. A key that
has been quiet for FORGET_AFTER starts over.

Keys are HMACs made by the caller: the table holds no e-mail address and no IP address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.types import UTCDateTime


class ThrottleScope(StrEnum):
    """What a key counts attempts for."""

    account = "account"
    address = "address"


# Attempts that pass before the back-off starts: few per account; more per address, which
# several operators behind one office router may share.
THRESHOLDS: Mapping[ThrottleScope, int] = {ThrottleScope.account: 5, ThrottleScope.address: 20}
FIRST_BACKOFF = timedelta(seconds=1)
MAX_BACKOFF = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


class LoginThrottle(SQLModel, table=True):
    """The attempts counted against one key, and until when it is locked."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=64)
    scope: ThrottleScope = Field(sa_column=Column(String(10), nullable=False))
    failures: int = 0
    last_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One key's count after an admitted attempt, and the lock it set (if it reached one)."""

    scope: ThrottleScope
    key: str
    failures: int
    locked_until: datetime | None


def throttle_key(secret: bytes, scope: ThrottleScope, value: str) -> str:
    """The key for an account's e-mail or a client's address: an HMAC, so the value stays out."""
    return hmac.new(secret, f"{scope}\0{value}".encode(), hashlib.sha256).hexdigest()


def backoff(failures: int, scope: ThrottleScope) -> timedelta | None:
    """How long a key is locked after this many attempts; None below its threshold."""
    beyond = failures - THRESHOLDS[scope]
    if beyond < 0:
        return None
    # 2**10 s is past the cap already; a bounded exponent keeps the number small.
    return min(FIRST_BACKOFF * 2 ** min(beyond, 20), MAX_BACKOFF)


async def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
    dialect = (await session.connection()).dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(LoginThrottle)


async def admit(
    session: AsyncSession, *, keys: Mapping[ThrottleScope, str], now: datetime
) -> list[Attempt] | None:
    """Count an attempt against every key, and admit it; None, counting nothing, if a key is
    locked."""
    await session.exec(
        delete(LoginThrottle).where(col(LoginThrottle.last_attempt_at) <= now - FORGET_AFTER)
    )
    insert = await _insert(session)
    for scope, key in keys.items():
        await session.exec(
            insert.values(
                key=key, scope=scope, failures=0, last_attempt_at=now
            ).on_conflict_do_nothing(index_elements=["key"])
        )
    rows = {
        row.key: row
        for row in await session.exec(
            select(LoginThrottle)
            .where(col(LoginThrottle.key).in_(list(keys.values())))
            .with_for_update()
        )
    }
    if any(row.locked_until is not None and row.locked_until > now for row in rows.values()):
        return None
    attempts = []
    for scope, key in keys.items():
        # Purged by a parallel request since the insert above: start it over.
        row = rows.get(key) or LoginThrottle(key=key, scope=scope, last_attempt_at=now)
        wait = backoff(row.failures + 1, scope)
        row.failures += 1
        row.last_attempt_at = now
        row.locked_until = now + wait if wait is not None else None
        session.add(row)
        attempts.append(Attempt(scope, key, row.failures, row.locked_until))
    await session.flush()
    return attempts


async def refund(session: AsyncSession, *, attempts: list[Attempt]) -> None:
    """The password was right: the account starts over, and the address gets its attempt back."""
    for attempt in attempts:
        row = await session.get(LoginThrottle, attempt.key, with_for_update=True)
        if row is None:
            continue
        if attempt.scope is ThrottleScope.account:
            await session.delete(row)
            continue
        row.failures = max(row.failures - 1, 0)
        if row.locked_until == attempt.locked_until:
            row.locked_until = None
        session.add(row)
    await session.flush()
