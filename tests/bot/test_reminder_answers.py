"""Answers to the day-before reminder: «JA» (typed, or the «Jag kommer» button) records on the
meeting that the card user comes, «ÄNDRA» asks for a new time and «AVBOKA» asks before it
cancels; a «ja» with no close confirmed time changes nothing. The administrator sees the answer
in /idag, /kommande and the morning's agenda."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.db import transaction
from models.meetings import Meeting, MeetingStatus
from models.outbox import Channel, Notification
from scheduler import booking, notifications, rendering
from scheduler.availability import load_availability
from scheduler.rendering import RenderSettings
from tests.bot.test_admin_flow import admin_chat
from tests.bot.world import NOW, Chat, Clock, World, build_world, linked_card_user

MARIA_TG, ANNA_TG = 6101, 6201
TOMORROW_AT_16 = NOW + timedelta(days=1, hours=7)  # Tuesday 1 December 16:00 in Stockholm
THURSDAY_AT_16 = NOW + timedelta(days=3, hours=7)
REMINDED = NOW + timedelta(hours=7)  # Monday 16:00: the day-before reminder goes out
THANKS = "Tack! Vi ses tisdag 1 december kl. 16:00 på Café Linné, Svartbäcksgatan 22"


async def booked(services: Services, world: World, starts_at: datetime) -> int:
    """Maria's time at `starts_at`, confirmed at once by her office."""
    async with transaction(services.sessions) as session:
        card = await session.get(booking.Card, world.cards["maria"])
        assert card is not None and card.id is not None
        office = await session.get(booking.Office, card.office_id)
        assert office is not None
        free = (await load_availability(session, office, now=NOW)).free(now=NOW)
        slot = next(slot for slot in free if slot.starts_at == starts_at)
        result = await booking.request_booking(
            session, card_id=card.id, card_user_id=world.users["maria"], slot=slot, now=NOW
        )
        assert isinstance(result, booking.Booked) and result.meeting.id is not None
        return result.meeting.id


async def stored(services: Services, meeting_id: int) -> Meeting:
    async with services.sessions() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting


async def attendance_events(services: Services) -> list[AuditEvent]:
    async with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == "meeting.attendance_confirmed")
        return list((await session.exec(query.order_by(col(AuditEvent.seq)))).all())


@pytest.fixture
async def reminded(services: Services, clock: Clock) -> tuple[World, Chat, int]:
    """Maria in the chat with a confirmed time tomorrow at 16:00, at the reminder's hour."""
    world = await build_world(services, auto_confirm=True)
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    meeting_id = await booked(services, world, TOMORROW_AT_16)
    clock.now = REMINDED
    return world, chat, meeting_id


@pytest.mark.parametrize("answer", ["JA", "ja", "Ja!", "ja jag kommer", "jag kommer", "kommer"])
async def test_ja_after_the_reminder_records_that_the_card_user_comes(
    services: Services, reminded: tuple[World, Chat, int], clock: Clock, answer: str
) -> None:
    _, chat, meeting_id = reminded
    await chat.send(answer)
    assert THANKS in chat.text and "Ta med giltig id-handling och PIN-brevet." in chat.text
    assert {"Ändra tid", "Avboka"} <= set(chat.labels())
    assert (await stored(services, meeting_id)).attendance_confirmed_at == REMINDED
    # A second yes answers the same and records nothing new.
    clock.now = REMINDED + timedelta(minutes=3)
    await chat.send("JA")
    assert THANKS in chat.text
    meeting = await stored(services, meeting_id)
    assert meeting.attendance_confirmed_at == REMINDED
    assert meeting.status == MeetingStatus.confirmed
    assert [event.entity_id for event in await attendance_events(services)] == [meeting_id]


async def test_the_reminders_buttons_answer_it_in_the_chat(
    services: Services, reminded: tuple[World, Chat, int]
) -> None:
    _, chat, meeting_id = reminded
    async with services.sessions() as session:
        query = select(Notification).where(
            Notification.template == "reminder_24h", Notification.channel == Channel.telegram
        )
        row = (await session.exec(query)).one()
        assert row.recipient == str(MARIA_TG) and row.due_at == REMINDED
        message = await rendering.render(session, row, RenderSettings(), now=REMINDED)
    buttons = {label: data for line in message.buttons for label, data in line}
    assert list(buttons) == ["Jag kommer", "Ändra tid", "Avboka"]

    await chat.press_data(buttons["Ändra tid"])
    assert "När passar det dig?" in chat.text
    await chat.press_data(buttons["Avboka"])
    assert "Vill du avboka den här tiden?" in chat.text
    assert (await stored(services, meeting_id)).attendance_confirmed_at is None
    await chat.press_data(buttons["Jag kommer"])
    assert THANKS in chat.text
    meeting = await stored(services, meeting_id)
    assert meeting.attendance_confirmed_at == REMINDED
    assert meeting.status == MeetingStatus.confirmed


async def test_andra_after_the_reminder_asks_for_a_new_time(
    services: Services, reminded: tuple[World, Chat, int]
) -> None:
    _, chat, meeting_id = reminded
    await chat.send("ÄNDRA")
    assert "När passar det dig?" in chat.text
    await chat.press("Tor")
    assert any(label.startswith("torsdag 3 december") for label in chat.labels())
    meeting = await stored(services, meeting_id)
    assert meeting.status == MeetingStatus.confirmed and meeting.starts_at == TOMORROW_AT_16
    assert meeting.attendance_confirmed_at is None


async def test_avboka_after_the_reminder_cancels_only_after_an_explicit_yes(
    services: Services, reminded: tuple[World, Chat, int]
) -> None:
    _, chat, meeting_id = reminded
    await chat.send("AVBOKA")
    assert "Vill du avboka den här tiden?" in chat.text
    assert (await stored(services, meeting_id)).status == MeetingStatus.confirmed
    # «Jag kommer» to that question keeps the time, and is no answer to the reminder.
    await chat.send("jag kommer")
    assert "inte avbokad" in chat.text
    assert (await stored(services, meeting_id)).status == MeetingStatus.confirmed
    await chat.send("AVBOKA")
    await chat.send("JA")  # the yes answers the open question: the cancellation
    assert "Din tid är avbokad" in chat.text
    meeting = await stored(services, meeting_id)
    assert meeting.status == MeetingStatus.cancelled and meeting.attendance_confirmed_at is None


async def test_jag_kommer_inte_offers_to_change_or_cancel(
    services: Services, reminded: tuple[World, Chat, int]
) -> None:
    _, chat, meeting_id = reminded
    await chat.send("jag kommer inte")
    assert {"Ändra tid", "Avboka"} <= set(chat.labels()) and "Tack!" not in chat.text
    meeting = await stored(services, meeting_id)
    assert meeting.status == MeetingStatus.confirmed and meeting.attendance_confirmed_at is None


async def test_ja_without_a_close_confirmed_time_changes_nothing(
    services: Services, clock: Clock
) -> None:
    world = await build_world(services)  # Anna confirms requests herself
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    # No meeting at all: a harmless answer and the menu.
    await chat.send("JA")
    assert "Okej!" in chat.text and "Boka" in chat.labels()
    # A request Anna has not confirmed yet is not answered either.
    meeting_id = await booked(services, world, THURSDAY_AT_16)
    await chat.send("ja jag kommer")
    assert "Okej!" in chat.text and "Tack!" not in chat.text
    # Confirmed, but more than 48 hours ahead: no reminder has asked yet.
    async with transaction(services.sessions) as session:
        await booking.confirm(session, meeting_id=meeting_id, admin_id=world.admin_id, now=NOW)
    await chat.send("JA")
    assert "Okej!" in chat.text
    # The button says the same for a time out of reach: it is no longer valid.
    await chat.press_data("cmd:attend")
    assert "Den knappen gäller inte längre" in chat.text
    assert (await stored(services, meeting_id)).attendance_confirmed_at is None
    assert await attendance_events(services) == []


async def test_the_administrator_sees_who_said_they_come(
    services: Services, reminded: tuple[World, Chat, int], clock: Clock
) -> None:
    world, maria, _ = reminded
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    line = "tisdag 1 december kl. 16:00 – Café Linné – Maria Test (SE-1) – bekräftad – "
    await anna.send("/kommande")
    assert line + "närvaro ej bekräftad" in anna.text
    await maria.send("JA")
    await anna.send("/kommande")
    assert line + "närvaro bekräftad av kortanvändaren" in anna.text

    # On the day: /idag, and the agenda at 07:00.
    clock.now = TOMORROW_AT_16.replace(hour=6)  # Tuesday 07:00 in Stockholm
    await anna.send("/idag")
    assert line + "närvaro bekräftad av kortanvändaren" in anna.text
    async with transaction(services.sessions) as session:
        assert await notifications.plan_morning_agenda(session, now=clock.now) == 1
    async with services.sessions() as session:
        query = select(Notification).where(Notification.template == "admin_agenda")
        row = (await session.exec(query)).one()
        agenda = await rendering.render(session, row, RenderSettings(), now=clock.now)
    assert "16:00 – Café Linné – Maria Test (SE-1) – närvaro bekräftad av kortanvändaren" in (
        agenda.text
    )


async def test_the_agenda_says_when_the_card_user_has_not_answered(
    services: Services, reminded: tuple[World, Chat, int], clock: Clock
) -> None:
    clock.now = TOMORROW_AT_16.replace(hour=6)
    async with transaction(services.sessions) as session:
        await notifications.plan_morning_agenda(session, now=clock.now)
    async with services.sessions() as session:
        query = select(Notification).where(Notification.template == "admin_agenda")
        row = (await session.exec(query)).one()
        agenda = await rendering.render(session, row, RenderSettings(), now=clock.now)
    assert agenda.text.splitlines() == [
        "God morgon Anna! Dina möten i dag:",
        "16:00 – Café Linné – Maria Test (SE-1) – närvaro ej bekräftad",
    ]
