"""Booking against a real database: the life of a meeting, ownership, and no double booking."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.cards import Card, CardStatus
from models.db import transaction
from models.errors import NotFound
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting, MeetingStatus
from models.network import Office
from scheduler import booking
from scheduler.availability import load_availability
from scheduler.booking import Booked, NotBookable, SlotTaken, TooLate
from scheduler.slots import Slot
from tests import factories
from tests.conftest import requires_postgres

# Monday 30 November 2026, 09:00 in Stockholm.
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@dataclass
class World:
    office_id: int
    admin_id: int
    other_admin_id: int
    cards: list[tuple[int, int]]  # (card id, card user id)


async def build_world(services: Services, *, cards: int = 3, auto_confirm: bool = False) -> World:
    """One office, two admins available every weekday 16:00–19:00, cards in custody."""
    async with transaction(services.sessions) as session:
        office = await factories.add(session, factories.office())
        other_office = await factories.add(
            session, factories.office(code="GBG1", name="Göteborg", city="Göteborg")
        )
        venue = factories.venue(office)
        admin = factories.admin(office, auto_confirm=auto_confirm)
        other = factories.admin(other_office, email="bo@example.se", name="Bo B")
        session.add_all([venue, admin, other])
        await session.flush()
        session.add_all(factories.window(admin, venue, day, time(16), time(19)) for day in range(5))
        made: list[tuple[int, int]] = []
        for _ in range(cards):
            card = await factories.add_card(
                session, services.vault, office, status=CardStatus.in_custody
            )
            assert card.id
            made.append((card.id, card.card_user_id))
        assert office.id and admin.id and other.id
        return World(office.id, admin.id, other.id, made)


async def free(services: Services, world: World, now: datetime = NOW) -> list[Slot]:
    async with services.sessions() as session:
        office = await session.get(Office, world.office_id)
        assert office is not None
        return (await load_availability(session, office, now=now)).free(now=now)


async def book(
    services: Services, world: World, index: int, slot: Slot, now: datetime = NOW
) -> booking.BookingResult:
    card_id, user_id = world.cards[index]
    async with transaction(services.sessions) as session:
        return await booking.request_booking(
            session, card_id=card_id, card_user_id=user_id, slot=slot, now=now
        )


async def card_status(services: Services, card_id: int) -> CardStatus:
    async with services.sessions() as session:
        card = await session.get(Card, card_id)
        assert card is not None
        return CardStatus(card.status)


async def test_request_blocks_the_slot_and_confirm_books_the_card(services: Services) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    first = slots[0]
    assert first.starts_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 16:00 in Stockholm
    result = await book(services, world, 0, first)
    assert isinstance(result, Booked) and result.meeting.status == MeetingStatus.requested
    assert first not in await free(services, world)  # a request blocks like a confirmed meeting
    assert await card_status(services, world.cards[0][0]) == CardStatus.in_custody
    async with transaction(services.sessions) as session:
        assert result.meeting.id
        await booking.confirm(
            session, meeting_id=result.meeting.id, admin_id=world.admin_id, now=NOW
        )
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked


async def test_auto_confirm_books_at_once(services: Services) -> None:
    world = await build_world(services, auto_confirm=True)
    result = await book(services, world, 0, (await free(services, world))[0])
    assert isinstance(result, Booked) and result.meeting.status == MeetingStatus.confirmed
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked


async def test_taken_slot_gives_fresh_alternatives(services: Services) -> None:
    world = await build_world(services)
    slot = (await free(services, world))[2]
    assert isinstance(await book(services, world, 0, slot), Booked)
    lost = await book(services, world, 1, slot)
    assert isinstance(lost, SlotTaken)
    assert 1 <= len(lost.alternatives) <= 5 and slot not in lost.alternatives
    assert isinstance(await book(services, world, 1, lost.alternatives[0]), Booked)


async def test_one_active_meeting_per_card(services: Services) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    assert isinstance(await book(services, world, 0, slots[0]), Booked)
    with pytest.raises(NotBookable):
        await book(services, world, 0, slots[5])


async def test_nobody_books_or_moves_someone_elses_card(services: Services) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    (card_a, _), (_, user_b) = world.cards[0], world.cards[1]
    with pytest.raises(NotFound):
        async with transaction(services.sessions) as session:
            await booking.request_booking(
                session, card_id=card_a, card_user_id=user_b, slot=slots[0], now=NOW
            )
    result = await book(services, world, 0, slots[0])
    assert isinstance(result, Booked) and result.meeting.id
    for action in (
        lambda s: booking.cancel(
            s, meeting_id=result.meeting.id, role=booking.Role.card_user, actor_id=user_b, now=NOW
        ),
        lambda s: booking.reschedule(
            s, meeting_id=result.meeting.id, card_user_id=user_b, slot=slots[3], now=NOW
        ),
        lambda s: booking.confirm(
            s, meeting_id=result.meeting.id, admin_id=world.other_admin_id, now=NOW
        ),
    ):
        with pytest.raises(NotFound):
            async with transaction(services.sessions) as session:
                await action(session)


async def test_cancel_up_to_the_cut_off(services: Services) -> None:
    world = await build_world(services)
    slot = (await free(services, world))[0]
    result = await book(services, world, 0, slot)
    assert isinstance(result, Booked) and result.meeting.id
    late = slot.starts_at - timedelta(hours=1, minutes=59)
    with pytest.raises(TooLate) as raised:
        async with transaction(services.sessions) as session:
            await booking.cancel(
                session,
                meeting_id=result.meeting.id,
                role=booking.Role.card_user,
                actor_id=world.cards[0][1],
                now=late,
            )
    assert "2 timmar" in raised.value.translated("sv")
    async with transaction(services.sessions) as session:
        await booking.cancel(
            session,
            meeting_id=result.meeting.id,
            role=booking.Role.card_user,
            actor_id=world.cards[0][1],
            now=slot.starts_at - timedelta(hours=2),
        )
    assert slot in await free(services, world)


async def test_reschedule_is_atomic(services: Services) -> None:
    world = await build_world(services, auto_confirm=True)
    slots = await free(services, world)
    mine, theirs, target = slots[0], slots[1], slots[4]
    moved = await book(services, world, 0, mine)
    assert isinstance(moved, Booked) and moved.meeting.id
    assert isinstance(await book(services, world, 1, theirs), Booked)
    # Moving onto a taken slot leaves the old meeting exactly as it was.
    async with transaction(services.sessions) as session:
        lost = await booking.reschedule(
            session,
            meeting_id=moved.meeting.id,
            card_user_id=world.cards[0][1],
            slot=theirs,
            now=NOW,
        )
    assert isinstance(lost, SlotTaken)
    async with services.sessions() as session:
        old = await session.get(Meeting, moved.meeting.id)
        assert old is not None and old.status == MeetingStatus.confirmed
    # Moving to a neighbouring slot that overlaps nothing but itself works in one step.
    async with transaction(services.sessions) as session:
        done = await booking.reschedule(
            session,
            meeting_id=moved.meeting.id,
            card_user_id=world.cards[0][1],
            slot=target,
            now=NOW,
        )
    assert isinstance(done, Booked) and done.meeting.starts_at == target.starts_at
    async with services.sessions() as session:
        old = await session.get(Meeting, moved.meeting.id)
        assert old is not None and old.status == MeetingStatus.cancelled
    assert mine in await free(services, world) and target not in await free(services, world)
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked


async def test_unconfirmed_requests_expire_after_24_hours(services: Services) -> None:
    world = await build_world(services)
    slot = (await free(services, world))[30]
    assert isinstance(await book(services, world, 0, slot), Booked)
    async with transaction(services.sessions) as session:
        assert (
            await booking.expire_requests(session, now=NOW + timedelta(hours=23, minutes=59)) == []
        )
    async with transaction(services.sessions) as session:
        expired = await booking.expire_requests(session, now=NOW + timedelta(hours=24))
    assert [m.status for m in expired] == [MeetingStatus.expired]
    assert slot in await free(services, world, NOW + timedelta(hours=24))


async def test_decline_frees_the_slot(services: Services) -> None:
    world = await build_world(services)
    slot = (await free(services, world))[0]
    result = await book(services, world, 0, slot)
    assert isinstance(result, Booked) and result.meeting.id
    async with transaction(services.sessions) as session:
        await booking.decline(
            session, meeting_id=result.meeting.id, admin_id=world.admin_id, now=NOW
        )
    assert slot in await free(services, world)
    assert await card_status(services, world.cards[0][0]) == CardStatus.in_custody


async def test_a_hundred_concurrent_requests_for_one_slot_give_one_meeting(
    services: Services,
) -> None:
    world = await build_world(services, cards=100)
    slot = (await free(services, world))[0]
    results = await asyncio.gather(*(book(services, world, n, slot) for n in range(100)))
    assert sum(isinstance(r, Booked) for r in results) == 1
    assert sum(isinstance(r, SlotTaken) for r in results) == 99
    async with services.sessions() as session:
        active = (
            await session.exec(
                select(func.count())
                .select_from(Meeting)
                .where(col(Meeting.status).in_(ACTIVE_MEETING_STATUSES))
            )
        ).one()
    assert active == 1


@requires_postgres
async def test_postgres_itself_refuses_overlapping_active_meetings(services: Services) -> None:
    world = await build_world(services, cards=3)
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

    def meeting(
        card: int, minutes: int, status: MeetingStatus = MeetingStatus.requested
    ) -> Meeting:
        begins = start + timedelta(minutes=minutes)
        return factories.meeting(world.cards[card][0], world.admin_id, begins, status=status)

    async with transaction(services.sessions) as session:
        session.add(meeting(0, 0))
        session.add(meeting(1, 15))  # touching is not overlapping
        session.add(meeting(2, 5, MeetingStatus.cancelled))  # inactive meetings do not block
    with pytest.raises(IntegrityError, match="ex_meeting_admin_overlap"):
        async with transaction(services.sessions) as session:
            session.add(meeting(2, 10, MeetingStatus.confirmed))


# --- moving a confirmed meeting: the confirmed time stands until the new one is confirmed ---


async def confirmed(services: Services, world: World, index: int, slot: Slot) -> Meeting:
    """A meeting for the card at `slot`, requested and confirmed by the admin."""
    result = await book(services, world, index, slot)
    assert isinstance(result, Booked) and result.meeting.id
    async with transaction(services.sessions) as session:
        return await booking.confirm(
            session, meeting_id=result.meeting.id, admin_id=world.admin_id, now=NOW
        )


async def move(
    services: Services, world: World, meeting: Meeting, slot: Slot, *, index: int = 0
) -> Booked:
    assert meeting.id
    async with transaction(services.sessions) as session:
        result = await booking.reschedule(
            session,
            meeting_id=meeting.id,
            card_user_id=world.cards[index][1],
            slot=slot,
            now=NOW,
        )
    assert isinstance(result, Booked)
    return result


async def status_of(services: Services, *meetings: Meeting) -> list[MeetingStatus]:
    async with services.sessions() as session:
        found = [await session.get(Meeting, m.id) for m in meetings]
    return [MeetingStatus(m.status) for m in found if m is not None]


async def test_a_move_waits_beside_the_confirmed_time_until_the_admin_confirms_it(
    services: Services,
) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    old_slot, new_slot = slots[0], slots[4]
    old = await confirmed(services, world, 0, old_slot)
    moved = await move(services, world, old, new_slot)
    new = moved.meeting
    assert new.status == MeetingStatus.requested and new.replaces_meeting_id == old.id
    assert moved.released == ()
    # The confirmed time stands: the card stays booked, and both times are blocked.
    assert await status_of(services, old) == [MeetingStatus.confirmed]
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked
    still_free = await free(services, world)
    assert old_slot not in still_free and new_slot not in still_free
    async with services.sessions() as session:
        standing = await booking.active_meeting(session, card_id=world.cards[0][0])
        assert standing is not None and standing.id == old.id
        waiting = await booking.pending_move_of(session, standing)
        assert waiting is not None and waiting.id == new.id
    # The admin confirms: only now is the old time released.
    async with transaction(services.sessions) as session:
        assert new.id
        await booking.confirm(session, meeting_id=new.id, admin_id=world.admin_id, now=NOW)
    assert await status_of(services, old, new) == [MeetingStatus.cancelled, MeetingStatus.confirmed]
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked
    after = await free(services, world)
    assert old_slot in after and new_slot not in after


@pytest.mark.parametrize("answer", ["decline", "expire"])
async def test_a_declined_or_expired_move_leaves_the_confirmed_time(
    services: Services, answer: str
) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    old = await confirmed(services, world, 0, slots[0])
    new = (await move(services, world, old, slots[4])).meeting
    assert new.id
    async with transaction(services.sessions) as session:
        if answer == "decline":
            await booking.decline(session, meeting_id=new.id, admin_id=world.admin_id, now=NOW)
        else:
            expired = await booking.expire_requests(session, now=NOW + timedelta(hours=24))
            assert [m.id for m in expired] == [new.id]
    assert await status_of(services, old) == [MeetingStatus.confirmed]
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked
    assert slots[4] in await free(services, world) and slots[0] not in await free(services, world)


async def test_moving_again_replaces_the_pending_move(services: Services) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    old = await confirmed(services, world, 0, slots[0])
    first = (await move(services, world, old, slots[4])).meeting
    # Moving the pending move itself is moving the meeting: the wish is replaced.
    again = await move(services, world, first, slots[8])
    assert [m.id for m in again.released] == [first.id]
    assert again.meeting.replaces_meeting_id == old.id
    assert await status_of(services, old, first) == [
        MeetingStatus.confirmed,
        MeetingStatus.cancelled,
    ]
    assert slots[4] in await free(services, world)


async def test_cancelling_a_meeting_with_a_pending_move_cancels_both(services: Services) -> None:
    world = await build_world(services)
    slots = await free(services, world)
    old = await confirmed(services, world, 0, slots[0])
    new = (await move(services, world, old, slots[4])).meeting
    assert old.id
    async with transaction(services.sessions) as session:
        await booking.cancel(
            session,
            meeting_id=old.id,
            role=booking.Role.card_user,
            actor_id=world.cards[0][1],
            now=NOW,
        )
    assert await status_of(services, old, new) == [MeetingStatus.cancelled] * 2
    assert await card_status(services, world.cards[0][0]) == CardStatus.in_custody
    assert {slots[0], slots[4]} <= set(await free(services, world))


async def test_a_plain_move_names_the_time_it_released(services: Services) -> None:
    # A requested meeting is simply replaced.
    world = await build_world(services)
    slots = await free(services, world)
    requested = await book(services, world, 0, slots[0])
    assert isinstance(requested, Booked)
    moved = await move(services, world, requested.meeting, slots[4])
    assert [m.id for m in moved.released] == [requested.meeting.id]
    assert moved.meeting.replaces_meeting_id is None
    assert await status_of(services, requested.meeting) == [MeetingStatus.cancelled]


async def test_a_move_confirmed_at_once_releases_the_old_time_at_once(services: Services) -> None:
    world = await build_world(services, auto_confirm=True)
    slots = await free(services, world)
    old = await book(services, world, 0, slots[0])
    assert isinstance(old, Booked) and old.meeting.status == MeetingStatus.confirmed
    moved = await move(services, world, old.meeting, slots[4])
    assert moved.meeting.status == MeetingStatus.confirmed
    assert [m.id for m in moved.released] == [old.meeting.id]
    assert await status_of(services, old.meeting) == [MeetingStatus.cancelled]
    assert await card_status(services, world.cards[0][0]) == CardStatus.booked


async def test_the_outcome_of_a_meeting_withdraws_its_pending_move(services: Services) -> None:
    from models.meetings import FailureReason
    from models.payouts import Tariffs
    from scheduler import outcomes

    world = await build_world(services)
    slots = await free(services, world)
    old = await confirmed(services, world, 0, slots[0])
    new = (await move(services, world, old, slots[4])).meeting
    assert old.id
    async with transaction(services.sessions) as session:
        await outcomes.record_failure(
            session,
            admin_id=world.admin_id,
            meeting_id=old.id,
            reason=FailureReason.no_pin_letter,
            tariffs=Tariffs(),
            now=old.starts_at,
        )
    assert await status_of(services, old, new) == [MeetingStatus.failed, MeetingStatus.cancelled]
    assert await card_status(services, world.cards[0][0]) == CardStatus.in_custody
    # The card can be booked again: nothing is left standing.
    assert isinstance(await book(services, world, 0, slots[8], now=old.starts_at), Booked)


async def test_the_database_keeps_one_standing_meeting_and_one_pending_move_per_card(
    services: Services,
) -> None:
    world = await build_world(services)
    card_id = world.cards[0][0]
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

    def meeting(minutes: int, status: MeetingStatus, replaces: int | None = None) -> Meeting:
        begins = start + timedelta(minutes=minutes)
        return factories.meeting(
            card_id, world.admin_id, begins, status=status, replaces_meeting_id=replaces
        )

    async with transaction(services.sessions) as session:
        standing = meeting(0, MeetingStatus.confirmed)
        session.add(standing)
        await session.flush()
        session.add(meeting(15, MeetingStatus.requested, replaces=standing.id))
    standing_id = standing.id
    for extra in (
        meeting(30, MeetingStatus.requested),  # a second standing request
        meeting(30, MeetingStatus.confirmed),  # a second confirmed time
        meeting(30, MeetingStatus.requested, replaces=standing_id),  # a second pending move
    ):
        with pytest.raises(IntegrityError, match=r"uq_meeting|UNIQUE"):
            async with transaction(services.sessions) as session:
                session.add(extra)


async def test_revoking_a_card_with_a_pending_move_cancels_both(services: Services) -> None:
    from scheduler.cards import change_status

    world = await build_world(services)
    slots = await free(services, world)
    old = await confirmed(services, world, 0, slots[0])
    new = (await move(services, world, old, slots[4])).meeting
    async with transaction(services.sessions) as session:
        card = await session.get(Card, world.cards[0][0])
        assert card is not None
        await change_status(
            session, card, CardStatus.revoked, role=booking.Role.operator, actor_id=None, now=NOW
        )
    assert await status_of(services, old, new) == [MeetingStatus.cancelled] * 2
    assert {slots[0], slots[4]} <= set(await free(services, world))


async def test_attendance_is_recorded_once_on_a_confirmed_meeting_and_audited(
    services: Services,
) -> None:
    world = await build_world(services)
    result = await book(services, world, 0, (await free(services, world))[0])
    assert isinstance(result, Booked) and result.meeting.id
    meeting_id, user_id = result.meeting.id, world.cards[0][1]

    async def attend(at: datetime) -> bool:
        async with transaction(services.sessions) as session:
            meeting = await session.get(Meeting, meeting_id)
            assert meeting is not None
            return await booking.confirm_attendance(session, meeting, card_user_id=user_id, now=at)

    # A request the admin has not confirmed yet cannot be attended.
    with pytest.raises(NotBookable):
        await attend(NOW)
    async with transaction(services.sessions) as session:
        await booking.confirm(session, meeting_id=meeting_id, admin_id=world.admin_id, now=NOW)
    assert await attend(NOW + timedelta(minutes=5)) is True
    assert await attend(NOW + timedelta(minutes=9)) is False  # a second «JA» changes nothing
    async with services.sessions() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        assert meeting.attendance_confirmed_at == NOW + timedelta(minutes=5)
        events = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action == "meeting.attendance_confirmed")
            )
        ).all()
    assert [(e.entity_id, e.actor_role, e.actor_id) for e in events] == [
        (meeting_id, "card_user", user_id)
    ]
