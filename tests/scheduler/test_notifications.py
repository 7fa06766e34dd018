"""Planning notifications: which rows an event writes, when reminders fall due (DST, quiet
hours), and that rendering refuses what no longer applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.cards import CardUser
from models.db import transaction
from models.errors import NotFound
from models.meetings import Meeting
from models.outbox import Channel, Notification, NotificationStatus
from models.zone import STOCKHOLM
from scheduler import booking, notifications, outbox, relay, rendering
from scheduler.availability import load_availability
from scheduler.notifications import Template, reminder_due, sms_due
from scheduler.rendering import RenderSettings, Stale
from tests.bot.world import NOW, World, build_world


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("meeting", "day_before", "two_hours_before"),
    [
        # A winter day: 24 h and 2 h.
        ("2026-12-03 14:00", "2026-12-02 14:00", "2026-12-03 12:00"),
        # Summer time starts on 28 March 2027: the day before is 23 real hours earlier.
        ("2027-03-28 14:00", "2027-03-27 14:00", "2027-03-28 12:00"),
        # It ends on 31 October 2027: 25 hours. At 03:30 the two-hour one crosses the change.
        ("2027-10-31 14:00", "2027-10-30 14:00", "2027-10-31 12:00"),
    ],
)
def test_reminders_keep_the_clock_time_across_dst(
    meeting: str, day_before: str, two_hours_before: str
) -> None:
    starts = local(meeting).astimezone(UTC)
    assert reminder_due(starts, Template.reminder_24h) == local(day_before)
    assert reminder_due(starts, Template.reminder_2h) == local(two_hours_before)


def test_the_two_hour_reminder_is_two_real_hours_even_across_the_change() -> None:
    # 31 October 2027 03:30 CET is 02:30 UTC; two real hours before is 00:30 UTC = 02:30 CEST.
    starts = datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
    assert reminder_due(starts, Template.reminder_2h) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("due", "earlier", "expected"),
    [
        ("2026-12-03 12:00", True, "2026-12-03 12:00"),  # daytime: unchanged
        ("2026-12-03 07:00", True, "2026-12-02 20:00"),  # before 08:00: the evening before
        ("2026-12-03 22:30", True, "2026-12-03 20:00"),  # after 21:00: the same evening
        ("2026-12-03 21:00", False, "2026-12-04 08:00"),  # not a reminder: next morning
        ("2026-12-03 05:00", False, "2026-12-03 08:00"),
        ("2026-12-03 20:59", False, "2026-12-03 20:59"),
        ("2026-12-03 08:00", True, "2026-12-03 08:00"),
        ("2027-03-28 07:30", True, "2027-03-27 20:00"),  # the night the clocks go forward
    ],
)
def test_quiet_hours_move_sms(due: str, earlier: bool, expected: str) -> None:
    assert sms_due(local(due).astimezone(UTC), earlier=earlier) == local(expected)


async def rows(services: Services, **where: object) -> list[Notification]:
    async with services.sessions() as session:
        query = select(Notification).order_by(col(Notification.id))
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list((await session.exec(query)).all())


async def book_first_free(services: Services, world: World, *, at: datetime = NOW) -> Meeting:
    async with transaction(services.sessions) as session:
        maria_card = world.cards["maria"]
        card = await session.get(booking.Card, maria_card)
        assert card is not None
        office = await session.get(booking.Office, card.office_id)
        assert office is not None
        slot = (await load_availability(session, office, now=at)).free(now=at)[0]
        result = await booking.request_booking(
            session, card_id=maria_card, card_user_id=world.users["maria"], slot=slot, now=at
        )
        assert isinstance(result, booking.Booked)
        return result.meeting


async def test_a_request_tells_the_admin_and_a_confirmation_plans_reminders(
    services: Services,
) -> None:
    world = await build_world(services)
    meeting = await book_first_free(services, world)
    assert meeting.starts_at == NOW + timedelta(hours=7)  # Monday 16:00
    admin_rows = await rows(services, meeting_id=meeting.id)
    assert [(r.template, r.channel) for r in admin_rows] == [
        ("admin_request", Channel.email),
        ("admin_request_reminder", Channel.email),
    ]
    assert admin_rows[1].due_at == NOW + timedelta(hours=12)

    async with transaction(services.sessions) as session:
        assert meeting.id is not None
        await booking.confirm(session, meeting_id=meeting.id, admin_id=world.admin_id, now=NOW)
    planned = {(r.template, r.channel): r for r in await rows(services, meeting_id=meeting.id)}
    # Maria has no Telegram: the answer comes by SMS, the invitation by e-mail.
    assert (Template.booking_confirmed, Channel.sms) in planned
    assert (Template.booking_confirmed, Channel.email) in planned
    # The day-before reminder would be in the past; the 2-hour one is at 14:00.
    assert (Template.reminder_24h, Channel.sms) not in planned
    assert planned[(Template.reminder_2h, Channel.sms)].due_at == NOW + timedelta(hours=5)
    # The admin's pending request messages are cancelled by the answer.
    assert planned[(Template.admin_request_reminder, Channel.email)].status == "cancelled"


async def test_rendering_refuses_a_reminder_for_a_moved_meeting(services: Services) -> None:
    world = await build_world(services, auto_confirm=True)
    meeting = await book_first_free(services, world, at=NOW - timedelta(days=2))
    reminder = (await rows(services, template="reminder_24h"))[0]
    async with transaction(services.sessions) as session:
        moved = await session.get(Meeting, meeting.id)
        assert moved is not None
        moved.starts_at += timedelta(minutes=15)
        moved.ends_at += timedelta(minutes=15)
        session.add(moved)
    async with services.sessions() as session:
        with pytest.raises(Stale, match="moved"):
            await rendering.render(session, reminder, RenderSettings(), now=NOW)


async def test_cancelling_cancels_reminders_and_sends_the_calendar_cancel(
    services: Services,
) -> None:
    world = await build_world(services, auto_confirm=True)
    meeting = await book_first_free(services, world, at=NOW - timedelta(days=2))
    assert meeting.id is not None
    async with transaction(services.sessions) as session:
        await booking.cancel(
            session,
            meeting_id=meeting.id,
            role=booking.Role.card_user,
            actor_id=world.users["maria"],
            now=NOW - timedelta(days=1),
        )
    by_template = {(r.template, r.channel): r for r in await rows(services, meeting_id=meeting.id)}
    assert by_template[("reminder_24h", Channel.sms)].status == NotificationStatus.cancelled
    assert by_template[("reminder_2h", Channel.sms)].status == NotificationStatus.cancelled
    assert by_template[("booking_cancelled", Channel.email)].status == NotificationStatus.pending
    assert by_template[("admin_cancelled", Channel.email)].status == NotificationStatus.pending


async def test_nudges_after_3_7_and_14_days_once_each(services: Services) -> None:
    world = await build_world(services)
    for days, expected in ((2, 0), (3, 1), (4, 1), (7, 2), (15, 3)):
        async with transaction(services.sessions) as session:
            await notifications.plan_nudges(session, now=NOW + timedelta(days=days))
        nudges = await rows(services, template="nudge", card_id=world.cards["maria"])
        assert len(nudges) == expected, days
    # Lena's card waits too, at the other office.
    assert len(await rows(services, template="nudge", card_id=world.cards["lena"])) == 3


# --- moves and proposals ---------------------------------------------------------------------

WEDNESDAY, THURSDAY, FRIDAY = "2026-12-02 16:00", "2026-12-03 16:00", "2026-12-04 16:00"


async def slot_at(services: Services, world: World, when: str) -> booking.Slot:
    """The free slot at this Stockholm time."""
    async with services.sessions() as session:
        card = await session.get(booking.Card, world.cards["maria"])
        assert card is not None
        office = await session.get(booking.Office, card.office_id)
        assert office is not None
        free = (await load_availability(session, office, now=NOW)).free(now=NOW)
    return next(slot for slot in free if slot.starts_at == local(when))


async def maria_on_telegram(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        user = await session.get(CardUser, world.users["maria"])
        assert user is not None
        user.telegram_user_id = 7001
        session.add(user)


async def confirmed_at(services: Services, world: World, when: str) -> Meeting:
    """Maria's meeting at `when`, confirmed by Anna."""
    slot = await slot_at(services, world, when)
    async with transaction(services.sessions) as session:
        result = await booking.request_booking(
            session,
            card_id=world.cards["maria"],
            card_user_id=world.users["maria"],
            slot=slot,
            now=NOW,
        )
        assert isinstance(result, booking.Booked) and result.meeting.id
        return await booking.confirm(
            session, meeting_id=result.meeting.id, admin_id=world.admin_id, now=NOW
        )


async def moved_to(services: Services, world: World, meeting: Meeting, when: str) -> Meeting:
    """Maria asks to move the meeting to `when`."""
    slot = await slot_at(services, world, when)
    assert meeting.id
    async with transaction(services.sessions) as session:
        result = await booking.reschedule(
            session,
            meeting_id=meeting.id,
            card_user_id=world.users["maria"],
            slot=slot,
            now=NOW,
        )
    assert isinstance(result, booking.Booked)
    return result.meeting


async def rendered(services: Services, row: Notification, *, at: datetime = NOW) -> Any:
    async with services.sessions() as session:
        return await rendering.render(session, row, RenderSettings(), now=at)


@pytest.mark.parametrize(
    ("answer", "template", "sentence"),
    [
        ("decline", "booking_declined", "ID-administratören kan inte träffa dig torsdag"),
        ("expire", "booking_expired", "Din förfrågan om att flytta till torsdag"),
    ],
)
async def test_a_declined_or_expired_move_tells_the_user_which_time_stands(
    services: Services, answer: str, template: str, sentence: str
) -> None:
    world = await build_world(services)
    await maria_on_telegram(services, world)
    old = await confirmed_at(services, world, WEDNESDAY)
    new = await moved_to(services, world, old, THURSDAY)
    assert new.id
    later = NOW + timedelta(hours=24)
    async with transaction(services.sessions) as session:
        if answer == "decline":
            await booking.decline(session, meeting_id=new.id, admin_id=world.admin_id, now=NOW)
        else:
            await booking.expire_requests(session, now=later)
    (row,) = await rows(services, meeting_id=new.id, template=template)
    message = await rendered(services, row, at=later)
    assert sentence in message.text
    assert "Din tid onsdag 2 december kl. 16:00 gäller fortfarande." in message.text
    assert "Välj gärna en annan tid" not in message.text
    assert message.buttons == ((("Ändra tid", "cmd:move"),),)
    # The old time's reminders are still planned.
    reminders = await rows(services, meeting_id=old.id, template="reminder_24h")
    assert reminders and all(r.status == NotificationStatus.pending for r in reminders)


async def test_confirming_a_move_releases_the_old_time_and_says_so(services: Services) -> None:
    world = await build_world(services)
    await maria_on_telegram(services, world)
    old = await confirmed_at(services, world, WEDNESDAY)
    new = await moved_to(services, world, old, THURSDAY)
    (request,) = await rows(services, meeting_id=new.id, template="admin_request")
    asks = (await rendered(services, request)).text
    assert asks == (
        "Maria Test (SE-1) vill flytta sitt möte onsdag 2 december kl. 16:00 till torsdag "
        "3 december kl. 16:00."
    )
    assert new.id
    async with transaction(services.sessions) as session:
        await booking.confirm(session, meeting_id=new.id, admin_id=world.admin_id, now=NOW)
    old_rows = {(r.template, r.channel): r for r in await rows(services, meeting_id=old.id)}
    assert old_rows[("reminder_24h", Channel.telegram)].status == NotificationStatus.cancelled
    calendar_cancel = old_rows[("booking_cancelled", Channel.email)]
    assert calendar_cancel.status == NotificationStatus.pending
    assert (await rendered(services, calendar_cancel)).calendar.method == "CANCEL"
    # Anna confirmed it herself: she is not told of her own release.
    assert ("admin_cancelled", Channel.email) not in old_rows
    (told,) = await rows(
        services, meeting_id=new.id, template="booking_confirmed", channel=Channel.telegram
    )
    text = (await rendered(services, told)).text
    assert "Din tid är bekräftad: torsdag 3 december kl. 16:00." in text
    assert "Din tidigare tid onsdag 2 december kl. 16:00 är släppt." in text


async def test_the_proposed_time_is_kept_on_the_meeting(services: Services) -> None:
    world = await build_world(services)
    await maria_on_telegram(services, world)
    meeting = await book_first_free(services, world)
    proposal = await slot_at(services, world, FRIDAY)
    assert meeting.id
    async with transaction(services.sessions) as session:
        await booking.decline(
            session, meeting_id=meeting.id, admin_id=world.admin_id, now=NOW, proposal=proposal
        )
    async with services.sessions() as session:
        declined = await session.get(Meeting, meeting.id)
        assert declined is not None
        assert (declined.proposed_starts_at, declined.proposed_venue_id) == (
            proposal.starts_at,
            proposal.venue_id,
        )
        assert notifications.proposal_of(declined) == proposal
    (row,) = await rows(services, meeting_id=meeting.id, template="time_proposed")
    assert row.payload == {}  # read from the meeting, not from the message
    message = await rendered(services, row)
    assert "Tid: fredag 4 december kl. 16:00" in message.text
    assert message.buttons[0] == (("Boka fredag 4 december kl. 16:00", f"p:{meeting.id}"),)


async def test_a_relayed_message_and_its_answer_carry_their_words_until_sent(
    services: Services,
) -> None:
    world = await build_world(services)
    booked = await book_first_free(services, world)
    async with transaction(services.sessions) as session:
        user = await session.get(CardUser, world.users["maria"])
        card = await session.get(booking.Card, world.cards["maria"])
        meeting = await session.get(Meeting, booked.id)
        assert user is not None and card is not None and meeting is not None
        relayed = await relay.write_to_admin(
            session, user=user, card=card, meeting=meeting, text="jag blir sen", now=NOW
        )
        assert relayed.id is not None
    [message] = await rows(services, template=Template.admin_message)
    # Anna has no chat linked: e-mail, with the words and the relayed message's id only.
    assert message.channel == Channel.email and message.recipient == "anna@example.se"
    assert message.payload == {"text": "jag blir sen", "relay_id": relayed.id}

    # An answer in the evening reaches Maria (no Telegram) by SMS the next morning.
    evening = local("2026-11-30 22:30").astimezone(UTC)
    async with transaction(services.sessions) as session:
        await relay.answer(
            session, message_id=relayed.id, admin_id=world.admin_id, text="ok!", now=evening
        )
    [answer] = await rows(services, template=Template.relay_answer)
    assert answer.channel == Channel.sms and answer.due_at == local("2026-12-01 08:00")
    async with services.sessions() as session:
        text = (await rendering.render(session, answer, RenderSettings(), now=evening)).text
        assert '"ok!"' in text and "Anna, ID-administratören" in text
        outbox.forget_words(answer)
        assert answer.payload == {"relay_id": relayed.id}
        with pytest.raises(Stale, match="words"):
            await rendering.render(session, answer, RenderSettings(), now=evening)


async def test_a_message_about_someone_elses_meeting_is_refused(services: Services) -> None:
    world = await build_world(services)
    booked = await book_first_free(services, world)
    async with transaction(services.sessions) as session:
        lena = await session.get(CardUser, world.users["lena"])
        card = await session.get(booking.Card, world.cards["lena"])
        meeting = await session.get(Meeting, booked.id)
        assert lena is not None and card is not None and meeting is not None
        with pytest.raises(NotFound):
            await relay.write_to_admin(
                session, user=lena, card=card, meeting=meeting, text="hej", now=NOW
            )
