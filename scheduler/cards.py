"""A card's change of status and what follows from it: the invitation to book when the card
reaches the office, the meeting cancelled (both sides told) when the card leaves it, and no more
invitations or nudges about a card that is gone. Every change a person makes goes through here:
the operator's CLI and import, the issuer's API, and the admin's custody chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardStatus
from models.crypto import PersonnummerVault
from models.lifecycle import FINAL_CARD_STATES, Role, transition_card
from models.meetings import Meeting
from models.orders import ImportSummary, OrderBatch, upsert_orders
from models.types import utcnow
from scheduler import booking, notifications

# A card reaching the office from the post (not one coming back from a failed meeting).
ARRIVING = frozenset({CardStatus.shipped, CardStatus.notified})
# A card that leaves the office without a handout: its meeting cannot take place.
GONE = frozenset({CardStatus.returned, CardStatus.revoked})


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """What a change of status did besides the move itself."""

    previous: CardStatus
    invited: bool  # the card user is invited to book
    cancelled: Meeting | None  # the meeting the change cancelled


async def change_status(
    session: AsyncSession,
    card: Card,
    target: CardStatus,
    *,
    role: Role,
    actor_id: int | None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> StatusChanged:
    """Move the card through the state machine, audited, and plan what the move means for the
    card user and the admin, all in the caller's transaction."""
    moment = now or utcnow()
    previous = CardStatus(card.status)
    await transition_card(
        session, card, target, role=role, actor_id=actor_id, data=data, now=moment
    )
    invited = target == CardStatus.in_custody and previous in ARRIVING
    if invited:
        await notifications.card_arrived(session, card, now=moment)
    cancelled = None
    # Back in the drawer by the operator's word, or gone: a booked time no longer holds.
    if target in GONE or (previous == CardStatus.booked and target == CardStatus.in_custody):
        cancelled = await booking.cancel_for_card(session, card, now=moment)
    if target in FINAL_CARD_STATES:
        await notifications.cancel_for_card(session, card)
    return StatusChanged(previous, invited, cancelled)


async def import_orders(
    session: AsyncSession,
    batch: OrderBatch,
    *,
    vault: PersonnummerVault,
    now: datetime | None = None,
) -> tuple[ImportSummary, list[StatusChanged]]:
    """Store card orders all or nothing (InputRejected lists every problem of the batch), then
    make the status moves they bring, each with its consequences: a card the issuer reports
    picked up invites its user to book, a revoked one loses its meeting."""
    moment = now or utcnow()
    summary = await upsert_orders(session, batch, vault=vault, now=moment)
    changes = [
        await change_status(
            session,
            move.card,
            move.target,
            role=Role.operator,
            actor_id=None,
            data={"via": "import"},
            now=moment,
        )
        for move in summary.moves
    ]
    return summary, changes
