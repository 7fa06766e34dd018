"""Who is chatting: a card user, an admin or a stranger, and linking a chat account to one.

Linking answers nothing about other people: a wrong token and an unknown number get the same
neutral reply from the caller, and only the sender's own contact is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import Card, CardUser
from models.errors import InvalidInput
from models.invites import InvitePurpose, redeem_invite
from models.network import Admin
from models.validation import normalize_phone

CONSOLE = "console"
SMS = "sms"
Account = CardUser | Admin


async def identify(session: AsyncSession, *, channel: str, user_id: int) -> Account | None:
    """The account linked to this chat user: an administrator before a card user.

    The console demo is its seeded card user, named by id.
    """
    if channel == CONSOLE:
        return await session.get(CardUser, user_id)
    admin = (await session.exec(select(Admin).where(Admin.telegram_user_id == user_id))).first()
    if admin is not None:
        return admin
    query = select(CardUser).where(CardUser.telegram_user_id == user_id)
    return (await session.exec(query)).first()


async def linked_admin(session: AsyncSession, admin_id: int, user_id: int) -> Admin | None:
    """The administrator a chat's hint names, if still linked to this chat user."""
    admin = await session.get(Admin, admin_id)
    return admin if admin is not None and admin.telegram_user_id == user_id else None


def hinted(hint: Sequence[Any] | None) -> tuple[str, int] | None:
    """The (role, id) a well-formed hint names; None for a missing or malformed one."""
    if hint is not None and len(hint) == 2 and isinstance(hint[1], int):
        return ("admin" if hint[0] == "admin" else "card_user", hint[1])
    return None


def hint_for(account: Account) -> list[Any]:
    """What the chat keeps to find its account next time without a search (see `hinted`)."""
    return ["admin" if isinstance(account, Admin) else "card_user", account.id]


async def _link(session: AsyncSession, account: Account, user_id: int) -> Account:
    """Point this Telegram account at `account`, unlinking it from anyone it pointed at."""
    query = (
        select(Admin).where(Admin.telegram_user_id == user_id)
        if isinstance(account, Admin)
        else select(CardUser).where(CardUser.telegram_user_id == user_id)
    )
    for other in (await session.exec(query)).all():
        if other.id != account.id:
            other.telegram_user_id = None
            session.add(other)
    await session.flush()
    account.telegram_user_id = user_id
    session.add(account)
    assert account.id is not None
    await audit.append(
        session,
        entity="admin" if isinstance(account, Admin) else "card_user",
        entity_id=account.id,
        action="chat_linked",
        actor_role="admin" if isinstance(account, Admin) else "card_user",
        actor_id=account.id,
        data={"channel": "telegram"},
    )
    return account


async def link_by_token(session: AsyncSession, *, token: str, user_id: int) -> Account | None:
    """Redeem a /start token (card user's deep link or admin invitation); None if not valid."""
    if not token or len(token) > 64:
        return None
    for purpose in (InvitePurpose.card_user, InvitePurpose.admin):
        invite = await redeem_invite(session, token=token, purpose=purpose)
        if invite is None:
            continue
        account: Account | None = (
            await session.get(CardUser, invite.card_user_id)
            if purpose == InvitePurpose.card_user
            else await session.get(Admin, invite.admin_id)
        )
        return None if account is None else await _link(session, account, user_id)
    return None


async def link_by_contact(
    session: AsyncSession, *, phone: str, contact_user_id: int | None, user_id: int
) -> CardUser | None:
    """Link by the sender's own shared phone number, when exactly one card user has it."""
    if contact_user_id != user_id:
        return None
    try:
        number = normalize_phone(phone)
    except InvalidInput:
        return None
    owners = (await session.exec(select(CardUser).where(CardUser.phone == number))).all()
    if len(owners) != 1 or owners[0].telegram_user_id not in (None, user_id):
        return None
    linked = await _link(session, owners[0], user_id)
    assert isinstance(linked, CardUser)
    return linked


async def card_users_by_phone(session: AsyncSession, phone: str) -> list[CardUser]:
    """The card users who gave this number (E.164) with their orders, oldest first."""
    query = select(CardUser).where(CardUser.phone == phone).order_by(col(CardUser.id))
    return list((await session.exec(query)).all())


async def card_user_by_order_ref(
    session: AsyncSession, phone: str, order_ref: str
) -> CardUser | None:
    """The card user with this number whose card has this order reference (any case)."""
    query = (
        select(CardUser)
        .join(Card, col(Card.card_user_id) == CardUser.id)
        .where(
            CardUser.phone == phone,
            func.upper(Card.order_ref) == order_ref.strip().upper(),
        )
    )
    return (await session.exec(query)).first()
