"""Booking: request, confirm, decline, cancel, reschedule and expire meetings.

No double booking is the database's job: on PostgreSQL an exclusion constraint per admin over
active meetings (migration 0002); on SQLite every transaction begins IMMEDIATE, so the overlap
check below runs as the only writer. A lost race is a SlotTaken result, never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import Card, CardStatus
from models.errors import DomainError, NotFound
from models.i18n import N_
from models.lifecycle import Role, transition_card, transition_meeting
from models.meetings import (
    ACTIVE_MEETING_STATUSES,
    ALL_FAILURE_REASONS,
    FailureReason,
    Meeting,
    MeetingStatus,
    pending_move,
    standing,
)
from models.network import Admin, Office
from models.types import utcnow
from scheduler import notifications
from scheduler.availability import load_availability
from scheduler.slots import Slot

logger = logging.getLogger(__name__)

CANCEL_CUTOFF = timedelta(hours=2)
REQUEST_LIFETIME = timedelta(hours=24)
ALTERNATIVES = 5
OVERLAP_CONSTRAINT = "ex_meeting_admin_overlap"


class NotBookable(DomainError):
    """The card cannot be booked now (not at the office yet, or already handed out)."""

    code = "not_bookable"


class TooLate(DomainError):
    """The meeting is too close to change."""

    code = "too_late"


def _ensure_before_cutoff(meeting: Meeting, moment: datetime) -> None:
    """Card users may change a meeting only up to the cut-off before it starts."""
    if meeting.starts_at - CANCEL_CUTOFF < moment:
        raise TooLate(
            N_("The meeting starts within {hours} hours and can no longer be changed."),
            hours=int(CANCEL_CUTOFF.total_seconds() // 3600),
        )


@dataclass(frozen=True, slots=True)
class Booked:
    """The slot is the card's; a move names the times it released (none while the new time
    waits for the admin)."""

    meeting: Meeting
    released: tuple[Meeting, ...] = ()


@dataclass(frozen=True, slots=True)
class SlotTaken:
    """Someone was quicker, or the slot is no longer offered; here are fresh ones near it."""

    alternatives: tuple[Slot, ...]


BookingResult = Booked | SlotTaken


async def _card_of_user(session: AsyncSession, *, card_id: int, card_user_id: int) -> Card:
    """The user's own card, locked for this transaction; anyone else's is simply not found."""
    card = (
        await session.exec(select(Card).where(Card.id == card_id).with_for_update())
    ).one_or_none()
    if card is None or card.card_user_id != card_user_id:
        raise NotFound(N_("That card was not found."))
    return card


async def active_meeting(session: AsyncSession, *, card_id: int) -> Meeting | None:
    """The card's standing meeting, if any: its confirmed one, or else its request."""
    return (
        await session.exec(select(Meeting).where(Meeting.card_id == card_id, standing()))
    ).one_or_none()


async def pending_move_of(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The request to move this confirmed meeting, while it waits for the admin."""
    if meeting.status != MeetingStatus.confirmed:
        return None
    return await _waiting_move(session, meeting)


async def _waiting_move(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    query = select(Meeting).where(
        Meeting.card_id == meeting.card_id,
        Meeting.replaces_meeting_id == meeting.id,
        pending_move(),
    )
    return (await session.exec(query)).one_or_none()


async def moved_from(
    session: AsyncSession, meeting: Meeting, *, lock: bool = False
) -> Meeting | None:
    """The confirmed meeting this pending move would release, while it still stands."""
    if meeting.status != MeetingStatus.requested or meeting.replaces_meeting_id is None:
        return None
    old = await session.get(
        Meeting, meeting.replaces_meeting_id, with_for_update=True if lock else None
    )
    return old if old is not None and old.status == MeetingStatus.confirmed else None


async def meeting_for_actor(
    session: AsyncSession, *, meeting_id: int, role: Role, actor_id: int
) -> Meeting:
    """A meeting the actor may act on: their card's, or (for an admin) their own office's."""
    meeting = await session.get(Meeting, meeting_id, with_for_update=True)
    if meeting is not None:
        if role == Role.card_user:
            card = await session.get(Card, meeting.card_id)
            if card is not None and card.card_user_id == actor_id:
                return meeting
        elif role == Role.admin:
            owner, actor = (
                await session.get(Admin, meeting.admin_id),
                await session.get(Admin, actor_id),
            )
            if owner is not None and actor is not None and owner.office_id == actor.office_id:
                return meeting
        elif role in (Role.operator, Role.system):
            return meeting
    raise NotFound(N_("That meeting was not found."))


async def _alternatives(
    session: AsyncSession, office: Office, near: Slot, now: datetime
) -> SlotTaken:
    availability = await load_availability(session, office, now=now)
    free = availability.free(now=now, home_delivery=near.venue_id is None)
    closest = sorted(free, key=lambda s: abs(s.starts_at - near.starts_at))[:ALTERNATIVES]
    return SlotTaken(tuple(sorted(closest, key=lambda s: s.starts_at)))


async def _take_slot(
    session: AsyncSession,
    card: Card,
    slot: Slot,
    *,
    home_address_encrypted: str | None,
    now: datetime,
    moving: Meeting | None = None,
    pending: Meeting | None = None,
    preapproved_by: int | None = None,
    extra_after: Collection[FailureReason] = ALL_FAILURE_REASONS,
) -> BookingResult:
    """Book a free slot for the card, in one savepoint. Moving a confirmed meeting to a time the
    admin must confirm keeps it until then; any other move releases it (and a pending move being
    replaced) first, so the new time may be where the old one was."""
    office = await session.get(Office, card.office_id)
    admin = await session.get(Admin, slot.admin_id)
    assert office is not None and card.id is not None
    if admin is None or admin.office_id != office.id:
        return await _alternatives(session, office, slot, now)
    if slot.venue_id is None and not home_address_encrypted:
        raise NotBookable(N_("Home delivery needs an address."))
    proposed_by_admin = preapproved_by == admin.id
    confirm_now = admin.auto_confirm or proposed_by_admin
    confirmed = moving is not None and moving.status == MeetingStatus.confirmed
    keep = moving if confirmed and not confirm_now else None
    released = tuple(m for m in (pending, moving) if m is not None and m is not keep)
    try:
        async with session.begin_nested():
            await _release(session, released, card=card, now=now)
            if not await _is_free(session, office, slot, now=now):
                raise _Taken
            meeting = await _insert(
                session,
                card,
                slot,
                home_address_encrypted=home_address_encrypted,
                now=now,
                replaces=keep,
                extra_after=extra_after,
                auto_confirm=admin.auto_confirm,
                proposed_by_admin=proposed_by_admin,
            )
    except _Taken:
        return await _alternatives(session, office, slot, now)
    except IntegrityError as error:
        if OVERLAP_CONSTRAINT not in str(error.orig):
            raise
        logger.info("lost the race for admin %s at %s", slot.admin_id, slot.starts_at.isoformat())
        return await _alternatives(session, office, slot, now)
    return Booked(meeting, released=released)


async def _release(
    session: AsyncSession, meetings: tuple[Meeting, ...], *, card: Card, now: datetime
) -> None:
    """The card user gives these times up for a new one: cancelled, and the admin told."""
    for meeting in meetings:
        was = MeetingStatus(meeting.status)
        await transition_meeting(
            session,
            meeting,
            MeetingStatus.cancelled,
            role=Role.card_user,
            actor_id=card.card_user_id,
            data={"moved": True},
            now=now,
        )
        await notifications.meeting_closed(
            session, meeting, was=was, by=Role.card_user, now=now, moved=True
        )


async def _is_free(session: AsyncSession, office: Office, slot: Slot, *, now: datetime) -> bool:
    """The slot is still offered, read again inside the transaction that takes it."""
    availability = await load_availability(session, office, now=now)
    return availability.is_free(slot, now=now)


async def _insert(
    session: AsyncSession,
    card: Card,
    slot: Slot,
    *,
    home_address_encrypted: str | None,
    now: datetime,
    replaces: Meeting | None,
    auto_confirm: bool,
    proposed_by_admin: bool,
    extra_after: Collection[FailureReason],
) -> Meeting:
    """The new meeting: a request (to replace `replaces`, if given), or confirmed at once with
    auto-confirm or when it is the time the admin proposed."""
    assert card.id is not None
    meeting = Meeting(
        is_extra=await _follows_a_failure(session, card.id, extra_after),
        card_id=card.id,
        admin_id=slot.admin_id,
        venue_id=slot.venue_id,
        home_address_encrypted=home_address_encrypted if slot.venue_id is None else None,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        created_at=now,
        replaces_meeting_id=replaces.id if replaces is not None else None,
    )
    session.add(meeting)
    await session.flush()
    await _audit_request(session, meeting, actor_id=card.card_user_id, now=now)
    if auto_confirm or proposed_by_admin:
        await transition_meeting(
            session,
            meeting,
            MeetingStatus.confirmed,
            role=Role.system,
            actor_id=None,
            data={"auto_confirm": auto_confirm, "proposed_by_admin": proposed_by_admin},
            now=now,
        )
    await _sync_card(session, card, meeting, now=now)
    if meeting.status == MeetingStatus.confirmed:
        await notifications.meeting_confirmed(session, meeting, by=Role.system, now=now)
    else:
        await notifications.meeting_requested(session, meeting, now=now)
    return meeting


async def _follows_a_failure(
    session: AsyncSession, card_id: int, extra_after: Collection[FailureReason]
) -> bool:
    """A meeting after one that failed for a reason in `extra_after` (the tariffs' setting) is
    an extra meeting, which the admin is paid for; so is each further one in a chain."""
    last = (
        await session.exec(
            select(Meeting)
            .where(Meeting.card_id == card_id, Meeting.status == MeetingStatus.failed)
            .order_by(col(Meeting.closed_at).desc(), col(Meeting.id).desc())
        )
    ).first()
    return last is not None and last.failure_reason in extra_after


class _Taken(Exception):
    """Internal: the re-check found the slot gone; the savepoint rolls back."""


async def _audit_request(
    session: AsyncSession, meeting: Meeting, *, actor_id: int, now: datetime
) -> None:
    assert meeting.id is not None
    await audit.append(
        session,
        actor_role=Role.card_user,
        actor_id=actor_id,
        action="meeting.requested",
        entity="meeting",
        entity_id=meeting.id,
        data={
            "card_id": meeting.card_id,
            "admin_id": meeting.admin_id,
            "starts_at": meeting.starts_at.isoformat(),
            **({"replaces": meeting.replaces_meeting_id} if meeting.replaces_meeting_id else {}),
        },
        now=now,
    )


async def _sync_card(session: AsyncSession, card: Card, meeting: Meeting, *, now: datetime) -> None:
    """The card is booked while it has a confirmed meeting (a declined move leaves the confirmed
    time, and the card booked), and in custody otherwise."""
    confirmed = (
        meeting.status == MeetingStatus.confirmed
        or (
            await session.exec(
                select(Meeting.id).where(
                    Meeting.card_id == card.id, Meeting.status == MeetingStatus.confirmed
                )
            )
        ).first()
        is not None
    )
    if confirmed and card.status == CardStatus.in_custody:
        await transition_card(
            session,
            card,
            CardStatus.booked,
            role=Role.system,
            actor_id=None,
            data={"meeting_id": meeting.id},
            now=now,
        )
    elif not confirmed and card.status == CardStatus.booked:
        await transition_card(
            session,
            card,
            CardStatus.in_custody,
            role=Role.system,
            actor_id=None,
            data={"meeting_id": meeting.id},
            now=now,
        )


async def request_booking(
    session: AsyncSession,
    *,
    card_id: int,
    card_user_id: int,
    slot: Slot,
    home_address_encrypted: str | None = None,
    now: datetime | None = None,
    preapproved_by: int | None = None,
    extra_after: Collection[FailureReason] = ALL_FAILURE_REASONS,
) -> BookingResult:
    """Book a slot for the user's card: requested, or confirmed at once with auto-confirm or
    when it is the time the admin proposed (`preapproved_by`). A home-delivery slot needs the
    address, encrypted already; `extra_after` is the tariffs' reasons for an extra meeting."""
    moment = now or utcnow()
    card = await _card_of_user(session, card_id=card_id, card_user_id=card_user_id)
    if card.status != CardStatus.in_custody:
        raise NotBookable(N_("The card cannot be booked yet: it is not at the office."))
    if await active_meeting(session, card_id=card_id) is not None:
        raise NotBookable(N_("The card already has a meeting. Move it instead."))
    return await _take_slot(
        session,
        card,
        slot,
        home_address_encrypted=home_address_encrypted,
        now=moment,
        preapproved_by=preapproved_by,
        extra_after=extra_after,
    )


async def reschedule(
    session: AsyncSession,
    *,
    meeting_id: int,
    card_user_id: int,
    slot: Slot,
    home_address_encrypted: str | None = None,
    now: datetime | None = None,
    preapproved_by: int | None = None,
    extra_after: Collection[FailureReason] = ALL_FAILURE_REASONS,
) -> BookingResult:
    """Move the card's meeting atomically; nothing is released unless the new slot is taken. A
    confirmed time stands until the admin confirms the new one, and a move still waiting for
    the admin is replaced by this one."""
    moment = now or utcnow()
    meeting = await meeting_for_actor(
        session, meeting_id=meeting_id, role=Role.card_user, actor_id=card_user_id
    )
    if meeting.status not in ACTIVE_MEETING_STATUSES:
        raise NotBookable(N_("That meeting can no longer be changed."))
    moving = await moved_from(session, meeting, lock=True) or meeting
    _ensure_before_cutoff(moving, moment)
    card = await _card_of_user(session, card_id=meeting.card_id, card_user_id=card_user_id)
    return await _take_slot(
        session,
        card,
        slot,
        home_address_encrypted=home_address_encrypted,
        now=moment,
        moving=moving,
        pending=meeting if moving is not meeting else await pending_move_of(session, moving),
        preapproved_by=preapproved_by,
        extra_after=extra_after,
    )


async def _close(
    session: AsyncSession,
    meeting: Meeting,
    target: MeetingStatus,
    *,
    role: Role,
    actor_id: int | None,
    now: datetime,
    card_status: CardStatus | None = None,
) -> Meeting:
    """Move the meeting, keep the card in step, and plan the messages; `card_status` is the
    card's new status when the card's change is the reason."""
    card = await session.get(Card, meeting.card_id)
    assert card is not None
    was = MeetingStatus(meeting.status)
    data = {"card_status": card_status.value} if card_status is not None else None
    await transition_meeting(
        session, meeting, target, role=role, actor_id=actor_id, data=data, now=now
    )
    await _sync_card(session, card, meeting, now=now)
    if target == MeetingStatus.confirmed:
        await notifications.meeting_confirmed(session, meeting, by=role, now=now)
    else:
        await notifications.meeting_closed(
            session, meeting, was=was, by=role, now=now, card_status=card_status
        )
    return meeting


async def confirm(
    session: AsyncSession, *, meeting_id: int, admin_id: int, now: datetime | None = None
) -> Meeting:
    """The admin accepts a requested meeting; the card becomes booked. Confirming a move
    releases the time it replaces."""
    moment = now or utcnow()
    meeting = await meeting_for_actor(
        session, meeting_id=meeting_id, role=Role.admin, actor_id=admin_id
    )
    old = await moved_from(session, meeting, lock=True)
    if old is not None:
        await transition_meeting(
            session,
            old,
            MeetingStatus.cancelled,
            role=Role.admin,
            actor_id=admin_id,
            data={"moved_to": meeting.id},
            now=moment,
        )
        await notifications.move_confirmed(session, old, confirmed_by=admin_id, now=moment)
    await _close(
        session, meeting, MeetingStatus.confirmed, role=Role.admin, actor_id=admin_id, now=moment
    )
    return meeting


async def decline(
    session: AsyncSession,
    *,
    meeting_id: int,
    admin_id: int,
    now: datetime | None = None,
    proposal: Slot | None = None,
) -> Meeting:
    """The admin turns a request down, perhaps proposing another time; the slot is free again,
    and a move's confirmed time stands."""
    moment = now or utcnow()
    meeting = await meeting_for_actor(
        session, meeting_id=meeting_id, role=Role.admin, actor_id=admin_id
    )
    if proposal is not None:
        meeting.proposed_admin_id = proposal.admin_id
        meeting.proposed_venue_id = proposal.venue_id
        meeting.proposed_starts_at = proposal.starts_at
        meeting.proposed_ends_at = proposal.ends_at
    return await _close(
        session, meeting, MeetingStatus.declined, role=Role.admin, actor_id=admin_id, now=moment
    )


async def cancel(
    session: AsyncSession,
    *,
    meeting_id: int,
    role: Role,
    actor_id: int,
    now: datetime | None = None,
) -> Meeting:
    """Cancel a meeting, and the move of it that waits for the admin; a card user may do so
    only up to the cut-off before it starts. Cancelling a pending move alone withdraws it."""
    moment = now or utcnow()
    meeting = await meeting_for_actor(session, meeting_id=meeting_id, role=role, actor_id=actor_id)
    if role == Role.card_user:
        _ensure_before_cutoff(meeting, moment)
    move = await pending_move_of(session, meeting)
    if move is not None:
        # Only the card user, an operator or the system may cancel a request.
        by = role if role != Role.admin else Role.system
        await _close(
            session,
            move,
            MeetingStatus.cancelled,
            role=by,
            actor_id=actor_id if by == role else None,
            now=moment,
        )
    return await _close(
        session, meeting, MeetingStatus.cancelled, role=role, actor_id=actor_id, now=moment
    )


async def confirm_attendance(
    session: AsyncSession, meeting: Meeting, *, card_user_id: int, now: datetime
) -> bool:
    """The card user answers the reminder that they will come: recorded once on the confirmed
    meeting, and audited; False when it was recorded already."""
    if meeting.status != MeetingStatus.confirmed:
        raise NotBookable(N_("That meeting can no longer be changed."))
    if meeting.attendance_confirmed_at is not None:
        return False
    assert meeting.id is not None
    meeting.attendance_confirmed_at = now
    session.add(meeting)
    await audit.append(
        session,
        actor_role=Role.card_user,
        actor_id=card_user_id,
        action="meeting.attendance_confirmed",
        entity="meeting",
        entity_id=meeting.id,
        data={"card_id": meeting.card_id, "starts_at": meeting.starts_at.isoformat()},
        now=now,
    )
    return True


async def drop_pending_move(session: AsyncSession, meeting: Meeting, *, now: datetime) -> None:
    """The meeting took place (its outcome is recorded): a move of it still waiting for the
    admin no longer applies, and is withdrawn without a word to anyone."""
    move = await _waiting_move(session, meeting)
    if move is None:
        return
    await transition_meeting(
        session,
        move,
        MeetingStatus.cancelled,
        role=Role.system,
        actor_id=None,
        data={"outcome_of": meeting.id},
        now=now,
    )
    await notifications.move_withdrawn(session, move)


async def expire_requests(session: AsyncSession, *, now: datetime | None = None) -> list[Meeting]:
    """Requests left unconfirmed for 24 hours expire; their slots are free again, and a move's
    confirmed time stands."""
    moment = now or utcnow()
    stale = (
        await session.exec(
            select(Meeting).where(
                Meeting.status == MeetingStatus.requested,
                col(Meeting.created_at) <= moment - REQUEST_LIFETIME,
            )
        )
    ).all()
    for meeting in stale:
        await _close(
            session, meeting, MeetingStatus.expired, role=Role.system, actor_id=None, now=moment
        )
    return list(stale)


async def cancel_for_card(session: AsyncSession, card: Card, *, now: datetime) -> Meeting | None:
    """The card's status took it away from its meeting (returned, revoked, or put back in the
    drawer by the operator): the active meeting is cancelled like any cancellation, and the
    card user and the admin are both told why."""
    assert card.id is not None
    found = await active_meeting(session, card_id=card.id)
    if found is None:
        return None
    meeting = await session.get(Meeting, found.id, with_for_update=True)
    assert meeting is not None
    await drop_pending_move(session, meeting, now=now)
    return await _close(
        session,
        meeting,
        MeetingStatus.cancelled,
        role=Role.system,
        actor_id=None,
        now=now,
        card_status=CardStatus(card.status),
    )


async def hand_over_or_cancel(session: AsyncSession, meeting: Meeting, *, now: datetime) -> bool:
    """A meeting of an administrator whose notice month is over: a colleague at the office
    free at the same start (and getting slots) takes it, in its status; otherwise it is
    cancelled and the card user invited to book anew. A move still waiting for the leaver is
    withdrawn (the confirmed time it would replace is handed over on its own). True when a
    colleague took it."""
    locked = await session.get(Meeting, meeting.id, with_for_update=True)
    assert locked is not None
    meeting = locked
    if meeting.status not in ACTIVE_MEETING_STATUSES:
        return False
    if meeting.status == MeetingStatus.requested and meeting.replaces_meeting_id is not None:
        await transition_meeting(
            session,
            meeting,
            MeetingStatus.cancelled,
            role=Role.system,
            actor_id=None,
            data={"notice_ended": True},
            now=now,
        )
        await notifications.move_withdrawn(session, meeting)
        return False
    card = await session.get(Card, meeting.card_id)
    office = await session.get(Office, card.office_id) if card is not None else None
    assert card is not None and office is not None
    slot = await _colleague_slot(session, office, meeting, now=now)
    if slot is not None:
        try:
            async with session.begin_nested():
                await _hand_over(session, card, meeting, slot, now=now)
            return True
        except IntegrityError as error:
            if OVERLAP_CONSTRAINT not in str(error.orig):
                raise
            logger.info("meeting %s: the colleague's time was taken meanwhile", meeting.id)
    was = MeetingStatus(meeting.status)
    await transition_meeting(
        session,
        meeting,
        MeetingStatus.cancelled,
        role=Role.system,
        actor_id=None,
        data={"notice_ended": True},
        now=now,
    )
    await _sync_card(session, card, meeting, now=now)
    await notifications.meeting_closed(
        session, meeting, was=was, by=Role.system, now=now, notice_ended=True
    )
    return False


async def _colleague_slot(
    session: AsyncSession, office: Office, meeting: Meeting, *, now: datetime
) -> Slot | None:
    """A colleague's free slot with the meeting's start and end, at its venue if they can."""
    availability = await load_availability(session, office, now=now)
    home = meeting.venue_id is None
    same = [
        slot
        for slot in availability.free(now=now, home_delivery=home)
        if slot.admin_id != meeting.admin_id
        and slot.starts_at == meeting.starts_at
        and slot.ends_at == meeting.ends_at
        and (slot.venue_id is None) == home
    ]
    same.sort(key=lambda slot: (slot.venue_id != meeting.venue_id, slot.admin_id))
    return same[0] if same else None


async def _hand_over(
    session: AsyncSession, card: Card, old: Meeting, slot: Slot, *, now: datetime
) -> Meeting:
    """The colleague's meeting replaces the leaver's, in the same status; audited both ways."""
    status = MeetingStatus(old.status)
    await transition_meeting(
        session,
        old,
        MeetingStatus.cancelled,
        role=Role.system,
        actor_id=None,
        data={"notice_ended": True, "to_admin": slot.admin_id},
        now=now,
    )
    new = Meeting(
        is_extra=old.is_extra,
        card_id=old.card_id,
        admin_id=slot.admin_id,
        venue_id=slot.venue_id,
        home_address_encrypted=old.home_address_encrypted if slot.venue_id is None else None,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        created_at=now,
        status=status,
        confirmed_at=now if status == MeetingStatus.confirmed else None,
        attendance_confirmed_at=old.attendance_confirmed_at,
    )
    session.add(new)
    await session.flush()
    assert new.id is not None
    await audit.append(
        session,
        actor_role=Role.system,
        actor_id=None,
        action="meeting.handed_over",
        entity="meeting",
        entity_id=new.id,
        data={
            "card_id": card.id,
            "from_meeting": old.id,
            "from_admin": old.admin_id,
            "to_admin": slot.admin_id,
            "starts_at": slot.starts_at.isoformat(),
        },
        now=now,
    )
    # The leaver's reminders and calendar entry go; they are not told (their time is over).
    await notifications.move_confirmed(session, old, confirmed_by=old.admin_id, now=now)
    if status == MeetingStatus.confirmed:
        await notifications.meeting_confirmed(session, new, by=Role.admin, now=now)
        await notifications.meeting_handed_over(session, new, now=now)
    else:
        await notifications.meeting_requested(session, new, now=now)
    return new
