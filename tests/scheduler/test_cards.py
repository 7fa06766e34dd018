"""A card's change of status carries its consequences: the invitation when it reaches the office,
and, when it leaves, its meeting cancelled like any cancellation with both sides told, and no
more invitations or nudges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.cards import Card, CardStatus, CardUser
from models.db import transaction
from models.lifecycle import Role
from models.meetings import Meeting, MeetingStatus
from models.network import Admin
from models.outbox import Channel, Notification, NotificationStatus
from scheduler import booking, custody, notifications, rendering
from scheduler.availability import load_availability
from scheduler.cards import change_status
from scheduler.rendering import RenderSettings
from tests.bot.world import NOW, World, build_world
from tests.scheduler.test_notifications import rows as outbox_rows

LATER = NOW + timedelta(days=3)  # Thursday: Maria's card has waited long enough for a nudge


MARIA_TG = 9101


async def book_maria(services: Services, world: World) -> Meeting:
    """Maria (in the chat) gets a nudge for her waiting card, then books the first free time."""
    async with transaction(services.sessions) as session:
        maria = await session.get(CardUser, world.users["maria"])
        assert maria is not None
        maria.telegram_user_id = MARIA_TG
        await notifications.plan_nudges(session, now=LATER)
        card = await session.get(Card, world.cards["maria"])
        assert card is not None
        office = await session.get(booking.Office, card.office_id)
        assert office is not None
        slot = (await load_availability(session, office, now=LATER)).free(now=LATER)[0]
        result = await booking.request_booking(
            session, card_id=card.id or 0, card_user_id=world.users["maria"], slot=slot, now=LATER
        )
        assert isinstance(result, booking.Booked)
        return result.meeting


async def change(
    services: Services, card_id: int, target: CardStatus, role: Role = Role.operator
) -> None:
    async with transaction(services.sessions) as session:
        card = await session.get(Card, card_id)
        assert card is not None
        await change_status(session, card, target, role=role, actor_id=None, now=LATER)


async def rendered(services: Services, row: Notification) -> tuple[str, list[str]]:
    """The text a row sends, and its button labels."""
    async with services.sessions() as session:
        message = await rendering.render(session, row, RenderSettings(), now=LATER)
    return message.text, [label for line in message.buttons for label, _ in line]


async def stored(services: Services, model: type[Meeting] | type[Card], row_id: int) -> str:
    async with services.sessions() as session:
        found: Meeting | Card | None = await session.get(model, row_id)
        assert found is not None
        return str(found.status)


@pytest.mark.parametrize(
    ("target", "user_words", "admin_words"),
    [
        (CardStatus.revoked, "har spärrats", "kortet är spärrat"),
        (CardStatus.returned, "tillbaka till utfärdaren", "tillbaka till utfärdaren"),
    ],
)
async def test_a_booked_card_that_leaves_cancels_its_meeting_and_both_sides_hear_why(
    services: Services, target: CardStatus, user_words: str, admin_words: str
) -> None:
    world = await build_world(services, auto_confirm=True)
    meeting = await book_maria(services, world)
    assert meeting.id is not None
    assert await stored(services, Card, world.cards["maria"]) == CardStatus.booked
    nudges = await outbox_rows(services, template="nudge", card_id=meeting.card_id)
    assert {r.status for r in nudges} == {NotificationStatus.pending}

    await change(services, world.cards["maria"], target)

    assert await stored(services, Card, world.cards["maria"]) == target
    assert await stored(services, Meeting, meeting.id) == MeetingStatus.cancelled
    async with services.sessions() as session:
        events = (await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))).all()
    assert [(e.action, e.data["to"], e.data.get("card_status")) for e in events[-2:]] == [
        ("card.status", target.value, None),
        ("meeting.status", "cancelled", target.value),
    ]
    # Reminders and the nudge are cancelled; the user and the admin are told.
    by_template = {
        (r.template, r.channel): r.status
        for r in await outbox_rows(services, card_id=meeting.card_id)
    }
    assert by_template[("reminder_2h", Channel.telegram)] == NotificationStatus.cancelled
    assert by_template[("nudge", Channel.telegram)] == NotificationStatus.cancelled
    assert by_template[("nudge", Channel.sms)] == NotificationStatus.cancelled
    assert by_template[("booking_cancelled", Channel.telegram)] == NotificationStatus.pending
    assert (
        by_template[("booking_cancelled", Channel.email)] == NotificationStatus.pending
    )  # the .ics
    [to_admin] = await outbox_rows(services, template="admin_cancelled")
    assert to_admin.status == NotificationStatus.pending and to_admin.recipient == "anna@example.se"

    [to_user] = await outbox_rows(services, template="booking_cancelled", channel="telegram")
    text, buttons = await rendered(services, to_user)
    assert "är avbokad" in text and user_words in text
    assert buttons == [] and "PIN-brev" not in text  # nothing to book or bring any more
    text, _ = await rendered(services, to_admin)
    assert "Maria Test (SE-1)" in text and admin_words in text


async def test_the_operator_putting_a_booked_card_back_in_custody_cancels_its_meeting(
    services: Services,
) -> None:
    world = await build_world(services, auto_confirm=True)
    meeting = await book_maria(services, world)
    assert meeting.id is not None
    await change(services, world.cards["maria"], CardStatus.in_custody)
    assert await stored(services, Meeting, meeting.id) == MeetingStatus.cancelled
    [to_user] = await outbox_rows(services, template="booking_cancelled", channel="telegram")
    text, buttons = await rendered(services, to_user)
    assert "är avbokad" in text and "PIN-brev" in text and buttons == ["Boka"]
    [to_admin] = await outbox_rows(services, template="admin_cancelled")
    assert "avbokat av utfärdaren" in (await rendered(services, to_admin))[0]
    # The card stays where it is: no second invitation, and the nudges go on.
    assert await outbox_rows(services, template="card_arrived") == []
    nudges = await outbox_rows(services, template="nudge", card_id=meeting.card_id)
    assert {r.status for r in nudges} == {NotificationStatus.pending}


async def test_the_admin_returning_a_card_cancels_its_unanswered_request(
    services: Services,
) -> None:
    world = await build_world(services)
    meeting = await book_maria(services, world)
    assert meeting.id is not None and meeting.status == MeetingStatus.requested
    async with transaction(services.sessions) as session:
        admin = await session.get(Admin, world.admin_id)
        assert admin is not None
        await custody.mark_returned(session, admin=admin, card_id=world.cards["maria"], now=LATER)
    assert await stored(services, Meeting, meeting.id) == MeetingStatus.cancelled
    requests = await outbox_rows(services, meeting_id=meeting.id, template="admin_request_reminder")
    assert [r.status for r in requests] == [NotificationStatus.cancelled]
    assert [r.status for r in await outbox_rows(services, template="booking_cancelled")] == [
        NotificationStatus.pending
    ]


async def test_a_card_reaching_the_office_invites_its_user_and_leaving_withdraws_it(
    services: Services,
) -> None:
    world = await build_world(services)
    await change(services, world.cards["ahmed"], CardStatus.in_custody, Role.admin)
    invitations = await outbox_rows(services, template="card_arrived")
    assert {r.channel for r in invitations} == {"sms", "email"}
    await change(services, world.cards["ahmed"], CardStatus.revoked)
    assert {r.status for r in await outbox_rows(services, template="card_arrived")} == {
        NotificationStatus.cancelled
    }
