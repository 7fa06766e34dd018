"""One-time tokens: admin invitations and card users' deep links into the bot."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crypto import hash_token
from models.types import UTCDateTime, utcnow

INVITE_LIFETIME = timedelta(days=14)


class InvitePurpose(StrEnum):
    """Whom the token links to a Telegram account."""

    admin = "admin"
    card_user = "card_user"


class InviteToken(SQLModel, table=True):
    """A single-use token, stored only as its hash."""

    __tablename__ = "invite_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    purpose: InvitePurpose = Field(sa_column=Column(String(20), nullable=False))
    admin_id: int | None = Field(default=None, foreign_key="admin.id", index=True)
    card_user_id: int | None = Field(default=None, foreign_key="card_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def new_token() -> str:
    """A random URL-safe token of 32 characters: inside Telegram's 64-character /start limit."""
    return secrets.token_urlsafe(24)


async def issue_invite(
    session: AsyncSession,
    *,
    purpose: InvitePurpose,
    admin_id: int | None = None,
    card_user_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Store a new token's hash and return the token itself, which is shown once."""
    token = new_token()
    issued = now or utcnow()
    session.add(
        InviteToken(
            token_hash=hash_token(token),
            purpose=purpose,
            admin_id=admin_id,
            card_user_id=card_user_id,
            created_at=issued,
            expires_at=issued + INVITE_LIFETIME,
        )
    )
    return token


async def redeem_invite(
    session: AsyncSession, *, token: str, purpose: InvitePurpose, now: datetime | None = None
) -> InviteToken | None:
    """Use a token once; None for a wrong, used or expired one (the caller says nothing more)."""
    moment = now or utcnow()
    result = await session.exec(
        select(InviteToken).where(
            InviteToken.token_hash == hash_token(token), InviteToken.purpose == purpose
        )
    )
    invite = result.one_or_none()
    if invite is None or invite.used_at is not None or invite.expires_at <= moment:
        return None
    invite.used_at = moment
    session.add(invite)
    return invite
