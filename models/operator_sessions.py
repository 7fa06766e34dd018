"""Operators' dashboard sessions, kept on the server: the browser holds only a random token.

A row is keyed by the SHA-256 of the token, so that a copy of the database opens no session.
A session ends at logout, at a new password, when it is ended by an operator administrator,
after an idle period and at the latest a fixed time after login; an ended row stays (with why)
until `purge_sessions` removes it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, String, delete
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.types import UTCDateTime

# A refreshed last-seen moment is written at most this often: a page view is then a read.
TOUCH_EVERY = timedelta(minutes=1)
# Ended and expired rows are kept this long, for the operators page and for inquiries.
KEEP_ENDED = timedelta(days=30)


class EndReason(StrEnum):
    """Why a session ended."""

    logout = "logout"
    password = "password"
    revoked = "revoked"
    idle = "idle"
    expired = "expired"


class OperatorSession(SQLModel, table=True):
    """One login of an operator, from the login to its end."""

    __tablename__ = "operator_session"

    # The SHA-256 (hex) of the token in the browser's cookie; the token itself is not stored.
    id: str = Field(primary_key=True, max_length=64)
    operator_id: int = Field(foreign_key="operator.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: EndReason | None = Field(default=None, sa_column=Column(String(10)))


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a session lives: idle at most `idle`, and at most `lifetime` in all."""

    idle: timedelta
    lifetime: timedelta


def new_token() -> str:
    """A fresh session token for a cookie (256 random bits)."""
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    """The row id of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    session: AsyncSession, *, operator_id: int, token: str, now: datetime
) -> OperatorSession:
    """Record a new login under this token."""
    row = OperatorSession(
        id=token_id(token), operator_id=operator_id, created_at=now, last_seen_at=now
    )
    session.add(row)
    await session.flush()
    return row


def _expired(row: OperatorSession, *, now: datetime, limits: Limits) -> EndReason | None:
    if now - row.created_at >= limits.lifetime:
        return EndReason.expired
    if now - row.last_seen_at >= limits.idle:
        return EndReason.idle
    return None


async def live_session(
    session: AsyncSession, *, token: str, now: datetime, limits: Limits
) -> OperatorSession | None:
    """The open session of this token, its last-seen moment refreshed; None if there is none.

    A session found past its limits is ended here, with the reason.
    """
    row = await session.get(OperatorSession, token_id(token))
    if row is None or row.ended_at is not None:
        return None
    reason = _expired(row, now=now, limits=limits)
    if reason is not None:
        row.ended_at = now
        row.end_reason = reason
        session.add(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return row


async def end_session(
    session: AsyncSession, *, token: str, now: datetime, reason: EndReason
) -> OperatorSession | None:
    """End the session of this token, if it is open; the ended row."""
    row = await session.get(OperatorSession, token_id(token))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at = now
    row.end_reason = reason
    session.add(row)
    return row


async def end_operator_sessions(
    session: AsyncSession, *, operator_id: int, now: datetime, reason: EndReason
) -> int:
    """End every open session of the operator; how many there were."""
    rows = (
        await session.exec(
            select(OperatorSession).where(
                col(OperatorSession.operator_id) == operator_id,
                col(OperatorSession.ended_at).is_(None),
            )
        )
    ).all()
    for row in rows:
        row.ended_at = now
        row.end_reason = reason
        session.add(row)
    await session.flush()
    return len(rows)


async def open_session_counts(
    session: AsyncSession, *, now: datetime, limits: Limits
) -> dict[int, int]:
    """Per operator id, how many sessions are open and within their limits."""
    result = await session.exec(
        select(OperatorSession.operator_id, func.count())
        .where(
            col(OperatorSession.ended_at).is_(None),
            col(OperatorSession.created_at) > now - limits.lifetime,
            col(OperatorSession.last_seen_at) > now - limits.idle,
        )
        .group_by(col(OperatorSession.operator_id))
    )
    return {operator_id: count for operator_id, count in result.all()}


async def purge_sessions(session: AsyncSession, *, now: datetime, limits: Limits) -> None:
    """Remove the rows of sessions that ended, or could only have ended, long enough ago."""
    cutoff = now - KEEP_ENDED
    await session.exec(
        delete(OperatorSession).where(
            (col(OperatorSession.ended_at) < cutoff)
            | (col(OperatorSession.created_at) < cutoff - limits.lifetime)
        )
    )
