"""The end of a notice month: an office where one of two administrators gives notice; after
the month her meetings go to her colleague when he is free then, else they are cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.admins import AdminState, admin_state, give_notice
from models.audit import AuditEvent
from models.cards import Card, CardStatus
from models.db import transaction
from models.lifecycle import Role
from models.meetings import Meeting, MeetingStatus
from models.network import Admin, Office
from models.outbox import Notification
from models.zone import STOCKHOLM
from scheduler.availability import load_availability
from scheduler.notice_end import NoticeEnded, end_notices
from scheduler.rendering import RenderSettings, render
from tests import factories

GIVEN = date(2026, 11, 1)  # Anna's notice: the month's last day is 1 December
RUN = datetime(2026, 12, 2, 0, 15, tzinfo=STOCKHOLM)  # the daily job, the day after
FREE_AT = datetime(2026, 12, 2, 10, 0, tzinfo=STOCKHOLM)  # Cecilia is free then
BUSY_AT = datetime(2026, 12, 2, 11, 0, tzinfo=STOCKHOLM)  # Cecilia has her own meeting then


@dataclass
class World:
    office: int
    anna: int
    cecilia: int
    free: int  # Anna's meeting at FREE_AT
    busy: int  # Anna's meeting at BUSY_AT


@pytest.fixture
async def world(services: Services) -> World:
    async with transaction(services.sessions) as session:
        ups = await factories.add(session, factories.office())
        cafe = await factories.add(session, factories.venue(ups))
        anna = await factories.add(session, factories.admin(ups))
        cecilia = await factories.add(
            session, factories.admin(ups, email="cecilia@example.se", name="Cecilia Berg")
        )
        for admin in (anna, cecilia):
            for weekday in range(7):
                session.add(factories.window(admin, cafe, weekday, time(8), time(20)))
        meetings = {}
        for who, at in ((anna, FREE_AT), (anna, BUSY_AT), (cecilia, BUSY_AT)):
            card = await factories.add_card(
                session,
                services.vault,
                ups,
                status=CardStatus.booked,
                in_custody_since=RUN,
                custodian_admin_id=who.id,
            )
            meetings[(who.id, at)] = await factories.add(
                session,
                factories.meeting(
                    card,
                    who,
                    at.astimezone(UTC),
                    status=MeetingStatus.confirmed,
                    venue_id=cafe.id,
                    confirmed_at=datetime(2026, 11, 20, tzinfo=UTC),
                ),
            )
        assert ups.id and anna.id and cecilia.id
        await give_notice(
            session,
            admin_id=anna.id,
            role=Role.operator,
            actor_id=None,
            now=datetime(2026, 11, 10, 9, tzinfo=UTC),
            on=GIVEN,
        )
        free, busy = meetings[(anna.id, FREE_AT)].id, meetings[(anna.id, BUSY_AT)].id
        assert free and busy
        return World(ups.id, anna.id, cecilia.id, free, busy)


async def _state(services: Services) -> tuple[list[Meeting], list[Notification], list[str]]:
    async with services.sessions() as session:
        meetings = (await session.exec(select(Meeting).order_by(col(Meeting.id)))).all()
        rows = (await session.exec(select(Notification).order_by(col(Notification.id)))).all()
        actions = (await session.exec(select(AuditEvent.action))).all()
    return list(meetings), list(rows), list(actions)


async def test_meetings_after_the_notice_go_to_the_colleague_or_are_cancelled(
    services: Services, world: World
) -> None:
    async with services.sessions() as session:
        anna = await session.get(Admin, world.anna)
        assert anna is not None and anna.notice_ends_on == date(2026, 12, 1)
        assert admin_state(anna, today=date(2026, 12, 1)) is AdminState.notice_given
        assert admin_state(anna, today=RUN.date()) is AdminState.ended
    async with transaction(services.sessions) as session:
        assert await end_notices(session, now=RUN) == NoticeEnded(moved=1, cancelled=1)

    meetings, rows, _ = await _state(services)
    by_id = {m.id: m for m in meetings}
    assert by_id[world.free].status == MeetingStatus.cancelled
    assert by_id[world.busy].status == MeetingStatus.cancelled
    [taken] = [m for m in meetings if m.admin_id == world.cecilia and m.starts_at == FREE_AT]
    assert taken.status == MeetingStatus.confirmed and taken.card_id == by_id[world.free].card_id
    async with services.sessions() as session:
        moved_card = await session.get(Card, taken.card_id)
        cancelled_card = await session.get(Card, by_id[world.busy].card_id)
        [handed] = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "meeting.handed_over"))
        ).all()
    assert moved_card is not None and moved_card.status == CardStatus.booked
    assert cancelled_card is not None and cancelled_card.status == CardStatus.in_custody
    assert handed.entity_id == taken.id
    assert handed.data["from_admin"] == world.anna and handed.data["to_admin"] == world.cecilia

    # The card user hears of the new host; Cecilia of the meeting; Anna of nothing.
    about_taken = {(r.template, r.recipient) for r in rows if r.meeting_id == taken.id}
    assert ("admin_handed_over", "cecilia@example.se") in about_taken
    assert any(template == "booking_confirmed" for template, _ in about_taken)
    cancelled = [r for r in rows if r.meeting_id == world.busy]
    assert {r.template for r in cancelled} >= {"booking_cancelled"}
    assert all(
        r.payload.get("reason") == "notice_ended"
        for r in cancelled
        if r.template == "booking_cancelled"
    )
    assert not [r for r in rows if r.template == "admin_cancelled"]
    [sms] = [r for r in cancelled if r.template == "booking_cancelled" and r.channel == "sms"]
    async with services.sessions() as session:
        told = await render(session, sms, RenderSettings(bot_username="kortkontor_bot"), now=RUN)
    assert "din ID-administratör har slutat och ingen kollega var ledig då" in told.text
    assert "Boka gärna en ny tid" in told.text
    # Anna hears once that her notice has ended, with the cards she still keeps.
    [ended] = [r for r in rows if r.recipient == "anna@example.se"]
    assert ended.template == "admin_notice_ended"
    async with services.sessions() as session:
        letter = await render(
            session, ended, RenderSettings(bot_username="kortkontor_bot"), now=RUN
        )
        kept = [await session.get(Card, by_id[m].card_id) for m in (world.free, world.busy)]
    assert "Din uppsägningstid har löpt ut" in letter.text
    assert all(card is not None and card.order_ref in letter.text for card in kept)

    # Anna is offered no more; running again changes nothing.
    async with services.sessions() as session:
        office = await session.get(Office, world.office)
        assert office is not None
        free = (await load_availability(session, office, now=RUN)).free(now=RUN)
    assert free and world.anna not in {slot.admin_id for slot in free}
    before = await _state(services)
    async with transaction(services.sessions) as session:
        assert await end_notices(session, now=RUN) == NoticeEnded()
    after = await _state(services)
    assert [(m.id, m.status) for m in after[0]] == [(m.id, m.status) for m in before[0]]
    assert len(after[1]) == len(before[1]) and len(after[2]) == len(before[2])


async def test_nothing_moves_during_the_notice_month(services: Services, world: World) -> None:
    on_last_day = datetime(2026, 12, 1, 0, 15, tzinfo=STOCKHOLM)
    async with transaction(services.sessions) as session:
        assert await end_notices(session, now=on_last_day) == NoticeEnded()
        office = await session.get(Office, world.office)
        assert office is not None
        free = (await load_availability(session, office, now=on_last_day)).free(now=on_last_day)
    annas = [slot.starts_at for slot in free if slot.admin_id == world.anna]
    # She hands out through her last day, and is never offered after it.
    assert annas and max(annas).astimezone(STOCKHOLM).date() == date(2026, 12, 1)
