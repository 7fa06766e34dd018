"""Custody of the cards at an office: the avi, the pickup at the postal agent, the cards kept,
and the ones never collected. An admin acts only on their own office's cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardStatus, CardUser
from models.errors import DomainError, NotFound
from models.i18n import N_
from models.lifecycle import Role
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting
from models.network import Admin
from scheduler.cards import change_status

EXPECTED = (CardStatus.shipped, CardStatus.notified)
KEPT = (CardStatus.in_custody, CardStatus.booked)
UNCOLLECTED_AFTER = timedelta(days=30)


class NotPickable(DomainError):
    """The card is not on its way to this office any more."""

    code = "not_pickable"


@dataclass(frozen=True, slots=True)
class CardRow:
    """A card with its holder's name, for the admin's lists."""

    card: Card
    holder: CardUser

    @property
    def label(self) -> str:
        """«SE-1001 Maria Ek»."""
        return f"{self.card.order_ref} {self.holder.given_name} {self.holder.family_name}"


async def _office_cards(
    session: AsyncSession, admin: Admin, statuses: Sequence[CardStatus], *extra: ColumnElement[bool]
) -> list[CardRow]:
    query = (
        select(Card, CardUser)
        .join(CardUser, col(CardUser.id) == Card.card_user_id)
        .where(Card.office_id == admin.office_id, col(Card.status).in_(statuses), *extra)
        .order_by(col(Card.status_changed_at), col(Card.id))
    )
    return [CardRow(card, user) for card, user in (await session.exec(query)).all()]


async def expected_cards(session: AsyncSession, *, admin: Admin) -> list[CardRow]:
    """Cards on their way to the admin's office (shipped, or with the avi logged)."""
    return await _office_cards(session, admin, EXPECTED)


async def kept_cards(session: AsyncSession, *, admin: Admin) -> list[CardRow]:
    """Cards in the office's keeping, booked or not, oldest first."""
    return await _office_cards(session, admin, KEPT)


async def find_cards(session: AsyncSession, *, admin: Admin, text: str) -> list[CardRow]:
    """The office's expected or kept cards whose order reference or holder's name matches."""
    words = [w for w in text.casefold().split() if w][:4]
    if not words:
        return []
    name = func.lower(CardUser.given_name + " " + CardUser.family_name)
    conditions = [or_(func.lower(Card.order_ref) == word, name.contains(word)) for word in words]
    return await _office_cards(session, admin, (*EXPECTED, *KEPT), and_(*conditions))


async def _own_card(session: AsyncSession, admin: Admin, card_id: int) -> Card:
    card = await session.get(Card, card_id, with_for_update=True)
    if card is None or card.office_id != admin.office_id:
        raise NotFound(N_("That card was not found."))
    return card


async def log_notice(
    session: AsyncSession, *, admin: Admin, card_ids: Sequence[int], now: datetime
) -> list[Card]:
    """The avi for these cards has arrived."""
    logged = []
    for card_id in card_ids:
        card = await _own_card(session, admin, card_id)
        if card.status != CardStatus.shipped:
            raise NotPickable(N_("Card {order_ref} is not on its way."), order_ref=card.order_ref)
        await change_status(
            session, card, CardStatus.notified, role=Role.admin, actor_id=admin.id, now=now
        )
        logged.append(card)
    return logged


async def pick_up(
    session: AsyncSession, *, admin: Admin, card_ids: Sequence[int], now: datetime
) -> list[Card]:
    """The REKs were collected at the postal agent: the cards are kept, and their users are
    invited to book."""
    picked = []
    for card_id in card_ids:
        card = await _own_card(session, admin, card_id)
        if card.status not in EXPECTED:
            raise NotPickable(N_("Card {order_ref} is not on its way."), order_ref=card.order_ref)
        card.custodian_admin_id = admin.id
        await change_status(
            session, card, CardStatus.in_custody, role=Role.admin, actor_id=admin.id, now=now
        )
        picked.append(card)
    return picked


async def uncollected_cards(
    session: AsyncSession, *, now: datetime, office_id: int | None = None
) -> list[Card]:
    """Cards kept for 30 days or more without a booking: the operator follows them up."""
    active = select(Meeting.card_id).where(col(Meeting.status).in_(ACTIVE_MEETING_STATUSES))
    query = select(Card).where(
        Card.status == CardStatus.in_custody,
        col(Card.in_custody_since) <= now - UNCOLLECTED_AFTER,
        col(Card.id).not_in(active),
    )
    if office_id is not None:
        query = query.where(Card.office_id == office_id)
    return list((await session.exec(query.order_by(col(Card.in_custody_since)))).all())


async def mark_returned(
    session: AsyncSession, *, admin: Admin, card_id: int, now: datetime
) -> Card:
    """The admin sent an uncollected card back to the issuer."""
    card = await _own_card(session, admin, card_id)
    await change_status(
        session, card, CardStatus.returned, role=Role.admin, actor_id=admin.id, now=now
    )
    return card
