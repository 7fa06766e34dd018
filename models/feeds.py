"""Each administrator's calendar feed link: a random token, stored as its hash, revocable.

A new link revokes the earlier one. An administrator without any row still has the older kind
of link (their id and its HMAC, `models.crypto.feed_token`) until their first new link or a
revocation: from then on only stored tokens open their feed.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crypto import hash_token
from models.types import UTCDateTime, utcnow


class CalendarFeed(SQLModel, table=True):
    """One calendar link of one administrator; `revoked_at` ends it."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="admin.id", index=True)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def revoke_feeds(session: AsyncSession, *, admin_id: int, now: datetime) -> int:
    """End every link of the administrator, the older kind too; returns how many were live."""
    result = await session.exec(
        update(CalendarFeed)
        .where(col(CalendarFeed.admin_id) == admin_id, col(CalendarFeed.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    live = int(result.rowcount or 0)
    if not await _has_rows(session, admin_id):
        # The older link had no row: a revoked one without a token marks it as ended.
        session.add(CalendarFeed(admin_id=admin_id, created_at=now, revoked_at=now))
        live += 1
    return live


async def new_feed_token(session: AsyncSession, *, admin_id: int, now: datetime) -> str:
    """A new link for the administrator; every earlier one stops working."""
    await revoke_feeds(session, admin_id=admin_id, now=now)
    token = secrets.token_urlsafe(24)
    session.add(CalendarFeed(admin_id=admin_id, token_hash=hash_token(token), created_at=now))
    await session.flush()
    return token


async def admin_for_token(session: AsyncSession, token: str) -> int | None:
    """The administrator whose live link this token is."""
    query = select(CalendarFeed.admin_id).where(
        CalendarFeed.token_hash == hash_token(token), col(CalendarFeed.revoked_at).is_(None)
    )
    return (await session.exec(query)).first()


async def older_link_stands(session: AsyncSession, admin_id: int) -> bool:
    """Whether the administrator's older kind of link still opens their feed."""
    return not await _has_rows(session, admin_id)


async def live_feed(session: AsyncSession, admin_id: int) -> CalendarFeed | None:
    """The administrator's live stored link, if any."""
    query = select(CalendarFeed).where(
        CalendarFeed.admin_id == admin_id,
        col(CalendarFeed.revoked_at).is_(None),
        col(CalendarFeed.token_hash).is_not(None),
    )
    return (await session.exec(query)).first()


async def _has_rows(session: AsyncSession, admin_id: int) -> bool:
    query = select(CalendarFeed.id).where(CalendarFeed.admin_id == admin_id)
    return (await session.exec(query)).first() is not None
