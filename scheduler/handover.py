"""The custody hand-over of a leaving administrator's cards: two-sided. The giver (or the
operator) marks a card handed over to another administrator, at the same office or another;
the card is `in_transfer` until the receiver confirms it in the chat, and the card's audit trail
shows both steps. Cards may instead go back to the issuer (custody.mark_returned). An
unconfirmed hand-over sends no reminder: it stays on the operator's office page with its age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.admins import AdminState, admin_state
from models.cards import Card, CardStatus, CardUser
from models.errors import DomainError, InvalidInput, NotFound
from models.i18n import N_
from models.lifecycle import Role, transition_card
from models.network import Admin, Office
from models.zone import local_day
from scheduler import notifications
from scheduler.custody import CardRow

HELD = (CardStatus.in_custody, CardStatus.booked)


class NotHandable(DomainError):
    """The card cannot be handed over now (it has a booked time, or is not kept)."""

    code = "not_handable"


@dataclass(frozen=True, slots=True)
class Transfer:
    """A card handed over and not yet confirmed: who gave it, who is to confirm it."""

    card: Card
    giver: Admin | None
    receiver: Admin
    office: Office  # the receiver's


async def _rows(session: AsyncSession, *conditions: object) -> list[CardRow]:
    query = (
        select(Card, CardUser)
        .join(CardUser, col(CardUser.id) == Card.card_user_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(col(Card.status_changed_at), col(Card.id))
    )
    return [CardRow(card, user) for card, user in (await session.exec(query)).all()]


async def cards_held(session: AsyncSession, *, admin_id: int) -> list[CardRow]:
    """The cards the administrator keeps (booked or not)."""
    return await _rows(session, Card.custodian_admin_id == admin_id, col(Card.status).in_(HELD))


async def cards_coming(session: AsyncSession, *, admin_id: int) -> list[CardRow]:
    """Cards handed over to the administrator, waiting for them to confirm."""
    return await _rows(
        session, Card.transfer_to_admin_id == admin_id, Card.status == CardStatus.in_transfer
    )


async def hand_over(
    session: AsyncSession,
    *,
    card_id: int,
    to_admin_id: int,
    role: Role,
    actor_id: int | None,
    now: datetime,
) -> Card:
    """The giver (role admin: only their own card) or the operator marks a kept card handed
    over; it is in_transfer until the receiver confirms."""
    card = await session.get(Card, card_id, with_for_update=True)
    if card is None or (role == Role.admin and card.custodian_admin_id != actor_id):
        raise NotFound(N_("That card was not found."))
    if card.status == CardStatus.booked:
        raise NotHandable(
            N_("Card {order_ref} has a booked time; it can be handed over once that is settled."),
            order_ref=card.order_ref,
        )
    if card.status != CardStatus.in_custody:
        raise NotHandable(N_("Card {order_ref} is not kept now."), order_ref=card.order_ref)
    receiver = await session.get(Admin, to_admin_id)
    if (
        receiver is None
        or receiver.id == card.custodian_admin_id
        or admin_state(receiver, today=local_day(now)) is AdminState.ended
    ):
        raise InvalidInput(
            "to_admin", N_("choose another ID administrator, one who still hands out")
        )
    card.transfer_to_admin_id = receiver.id
    await transition_card(
        session,
        card,
        CardStatus.in_transfer,
        role=role,
        actor_id=actor_id,
        data={
            "step": "handed_over",
            "from_admin": card.custodian_admin_id,
            "to_admin": receiver.id,
            "to_office": receiver.office_id,
        },
        now=now,
    )
    return card


async def confirm_received(
    session: AsyncSession, *, admin_id: int, card_id: int, now: datetime
) -> Card:
    """The receiver confirms they have the card: it is theirs, at their office, in custody.
    Anyone else's confirmation finds nothing."""
    card = await session.get(Card, card_id, with_for_update=True)
    if (
        card is None
        or card.status != CardStatus.in_transfer
        or card.transfer_to_admin_id != admin_id
    ):
        raise NotFound(N_("That card was not found."))
    receiver = await session.get(Admin, admin_id)
    assert receiver is not None
    giver, moved = card.custodian_admin_id, card.office_id != receiver.office_id
    card.custodian_admin_id, card.transfer_to_admin_id = admin_id, None
    card.office_id = receiver.office_id
    await transition_card(
        session,
        card,
        CardStatus.in_custody,
        role=Role.admin,
        actor_id=admin_id,
        data={"step": "received", "from_admin": giver, "office_id": receiver.office_id},
        now=now,
    )
    if moved:
        # At another office now: the card user is told where, and invited to book there.
        await notifications.card_arrived(session, card, now=now)
    return card


async def unconfirmed_transfers(session: AsyncSession, *, office_id: int) -> list[Transfer]:
    """Hand-overs from or to the office not yet confirmed, oldest first."""
    query = (
        select(Card)
        .join(Admin, col(Admin.id) == Card.transfer_to_admin_id)
        .where(
            Card.status == CardStatus.in_transfer,
            or_(col(Card.office_id) == office_id, col(Admin.office_id) == office_id),
        )
        .order_by(col(Card.status_changed_at), col(Card.id))
    )
    transfers = []
    for card in (await session.exec(query)).all():
        receiver = await session.get(Admin, card.transfer_to_admin_id)
        giver = (
            await session.get(Admin, card.custodian_admin_id) if card.custodian_admin_id else None
        )
        assert receiver is not None
        office = await session.get(Office, receiver.office_id)
        assert office is not None
        transfers.append(Transfer(card, giver, receiver, office))
    return transfers


@dataclass(frozen=True, slots=True)
class OfficeHandover:
    """The office page's hand-over part: cards kept by administrators under notice (or
    ended), hand-overs waiting for their receiver, and who may receive a card."""

    held: tuple[tuple[CardRow, Admin], ...]
    waiting: tuple[Transfer, ...]
    receivers: tuple[Admin, ...]


async def office_handover(
    session: AsyncSession, *, office_id: int, now: datetime
) -> OfficeHandover:
    """What the operator follows up at one office."""
    today = local_day(now)
    admins = (await session.exec(select(Admin).order_by(col(Admin.name), col(Admin.id)))).all()
    leaving = [
        a
        for a in admins
        if a.office_id == office_id
        and admin_state(a, today=today) in (AdminState.notice_given, AdminState.ended)
    ]
    held = [
        (row, admin)
        for admin in leaving
        if admin.id is not None
        for row in await cards_held(session, admin_id=admin.id)
    ]
    receivers = tuple(a for a in admins if admin_state(a, today=today) is AdminState.active)
    waiting = await unconfirmed_transfers(session, office_id=office_id)
    return OfficeHandover(tuple(held), tuple(waiting), receivers)
