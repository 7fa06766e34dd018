"""Seeding payouts through real meetings, and reading text back out of an uncompressed PDF."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import transaction
from models.lifecycle import Role, transition_card
from models.meetings import FailureReason, IdDocument
from models.network import Office
from models.payouts import Tariffs
from scheduler import booking, outcomes
from scheduler.availability import load_availability
from scheduler.booking import Booked
from tests.bot.world import World

TARIFFS = Tariffs()


async def into_custody(services: Services, card_id: int, now: datetime) -> None:
    """The admin picked the REK up (for a card the world leaves shipped)."""
    async with transaction(services.sessions) as session:
        card = await session.get(Card, card_id)
        assert card is not None
        await transition_card(
            session, card, CardStatus.in_custody, role=Role.admin, actor_id=None, now=now
        )


async def meeting(services: Services, world: World, name: str, *, booked_at: datetime) -> int:
    """Book and confirm the first free slot for the card after `booked_at`; the meeting's id."""
    card_id, user_id = world.cards[name], world.users[name]
    async with transaction(services.sessions) as session:
        card = await session.get(Card, card_id)
        assert card is not None
        office = await session.get(Office, card.office_id)
        assert office is not None
        slot = (await load_availability(session, office, now=booked_at)).free(now=booked_at)[0]
        result = await booking.request_booking(
            session, card_id=card_id, card_user_id=user_id, slot=slot, now=booked_at
        )
        assert isinstance(result, Booked) and result.meeting.id is not None
        await booking.confirm(
            session, meeting_id=result.meeting.id, admin_id=slot.admin_id, now=booked_at
        )
        return result.meeting.id


async def handed_out(
    services: Services, world: World, name: str, *, booked_at: datetime, recorded_at: datetime
) -> None:
    """A meeting where the card was handed out, its outcome recorded at `recorded_at`."""
    meeting_id = await meeting(services, world, name, booked_at=booked_at)
    async with transaction(services.sessions) as session:
        held = await session.get(booking.Meeting, meeting_id)
        assert held is not None
        await outcomes.record_handout(
            session,
            admin_id=held.admin_id,
            meeting_id=meeting_id,
            document=IdDocument.passport,
            tariffs=TARIFFS,
            now=recorded_at,
        )


async def failed(
    services: Services,
    world: World,
    name: str,
    reason: FailureReason,
    *,
    booked_at: datetime,
    recorded_at: datetime | None = None,
) -> None:
    """A meeting where the card was not handed out."""
    meeting_id = await meeting(services, world, name, booked_at=booked_at)
    async with transaction(services.sessions) as session:
        held = await session.get(booking.Meeting, meeting_id)
        assert held is not None
        await outcomes.record_failure(
            session,
            admin_id=held.admin_id,
            meeting_id=meeting_id,
            reason=reason,
            tariffs=TARIFFS,
            now=recorded_at or held.starts_at + timedelta(minutes=15),
        )


_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\) ?Tj")


def pdf_texts(pdf: bytes) -> list[str]:
    """The strings an uncompressed PDF set in a core font shows, in order."""
    return [re.sub(rb"\\(.)", rb"\1", found).decode("latin-1") for found in _SHOWN.findall(pdf)]


def page_count(pdf: bytes) -> int:
    """How many page objects the PDF has (fpdf2 writes no object streams)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))
