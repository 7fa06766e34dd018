"""Messages relayed between a card user and their meeting's administrator: who wrote to whom
about which meeting, when, and whether it was answered. The words themselves are not kept here;
they ride in the outbox row that delivers them and are dropped from it once it has gone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.types import UTCDateTime


class RelayedMessage(SQLModel, table=True):
    """One message from a card user to an administrator, and the one answer it may get."""

    __tablename__ = "relayed_message"
    __table_args__ = (Index("ix_relayed_message_user_sent", "card_user_id", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    card_user_id: int = Field(foreign_key="card_user.id")
    admin_id: int = Field(foreign_key="admin.id", index=True)
    card_id: int = Field(foreign_key="card.id")
    meeting_id: int = Field(foreign_key="meeting.id")
    sent_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def sent_since(session: AsyncSession, *, card_user_id: int, since: datetime) -> int:
    """How many messages the card user has sent since then."""
    query = select(func.count()).where(
        RelayedMessage.card_user_id == card_user_id, col(RelayedMessage.sent_at) >= since
    )
    return int((await session.exec(query)).one())


async def newest_unanswered(
    session: AsyncSession, *, admin_id: int, since: datetime
) -> RelayedMessage | None:
    """The newest message to the admin since then that has no answer yet."""
    query = (
        select(RelayedMessage)
        .where(
            RelayedMessage.admin_id == admin_id,
            col(RelayedMessage.answered_at).is_(None),
            col(RelayedMessage.sent_at) >= since,
        )
        .order_by(col(RelayedMessage.sent_at).desc(), col(RelayedMessage.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def last_sent(session: AsyncSession, *, card_user_id: int) -> datetime | None:
    """When the card user last sent one."""
    query = (
        select(RelayedMessage.sent_at)
        .where(RelayedMessage.card_user_id == card_user_id)
        .order_by(col(RelayedMessage.sent_at).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()
