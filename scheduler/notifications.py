"""Which notifications an event causes: to whom, on which channel and when. Planning writes
outbox rows in the event's own transaction and keeps SMS out of the quiet hours; what a row says
is decided only when it is sent, by `scheduler.rendering`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardStatus, CardUser
from models.invites import InvitePurpose, issue_invite
from models.lifecycle import Role
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting, MeetingStatus
from models.network import Admin
from models.outbox import Channel, Notification
from models.relay import RelayedMessage
from models.zone import STOCKHOLM, local_midnight
from scheduler import outbox
from scheduler.slots import Slot

REMINDERS = ("reminder_24h", "reminder_2h")
NUDGE_DAYS = (3, 7, 14)
ADMIN_REMINDER_AFTER = timedelta(hours=12)
# No SMS from 21:00 to 08:00. A reminder that would fall there goes out at 20:00 before;
# any other SMS waits until 08:00.
QUIET_FROM, QUIET_UNTIL, QUIET_EARLIER = time(21), time(8), time(20)


class Template(StrEnum):
    """What a notification is about; rendering picks its words from this."""

    card_arrived = "card_arrived"
    booking_confirmed = "booking_confirmed"
    booking_declined = "booking_declined"
    time_proposed = "time_proposed"
    booking_expired = "booking_expired"
    booking_cancelled = "booking_cancelled"
    reminder_24h = "reminder_24h"
    reminder_2h = "reminder_2h"
    nudge = "nudge"
    handed_out = "handed_out"
    not_handed_out = "not_handed_out"
    admin_request = "admin_request"
    admin_request_reminder = "admin_request_reminder"
    admin_cancelled = "admin_cancelled"
    admin_handed_over = "admin_handed_over"  # a leaving colleague's meeting is now theirs
    admin_notice_ended = "admin_notice_ended"  # the notice month is over: the cards to hand over
    admin_agenda = "admin_agenda"
    admin_message = "admin_message"  # a card user's words, relayed
    relay_answer = "relay_answer"  # the admin's answer to them, relayed back
    chat_reply = "chat_reply"  # the SMS chat's answer to a card user's message


# Rows whose payload carries someone's own words: dropped from the row once it is settled.
CARRIES_WORDS = (Template.admin_message, Template.relay_answer, Template.chat_reply)
# A chat reply answers a message the user just sent: it is not held by the quiet hours, unless
# it has waited this long (the provider was down), when it waits for the morning like the rest.
DIRECT_REPLY_WINDOW = timedelta(minutes=15)


MEETING_TEMPLATES_TO_CANCEL = (
    Template.reminder_24h,
    Template.reminder_2h,
    Template.admin_request,
    Template.admin_request_reminder,
    Template.booking_confirmed,
)


def reminder_due(starts_at: datetime, template: str) -> datetime:
    """The day-before reminder keeps the meeting's clock time (so across a DST change it is 23
    or 25 hours ahead); the other comes two hours before."""
    if template == Template.reminder_24h:
        local = starts_at.astimezone(STOCKHOLM)
        # Aware arithmetic in one zone is wall-clock arithmetic: the same time, a day earlier.
        return (local - timedelta(days=1)).astimezone(starts_at.tzinfo)
    return starts_at - timedelta(hours=2)


def in_quiet_hours(moment: datetime) -> bool:
    """Whether SMS must wait: 21:00–08:00 in Stockholm."""
    clock = moment.astimezone(STOCKHOLM).time()
    return clock >= QUIET_FROM or clock < QUIET_UNTIL


def held_by_quiet_hours(row: Notification, now: datetime) -> bool:
    """Whether an SMS must wait for the morning now; a direct chat reply goes at once."""
    if not in_quiet_hours(now):
        return False
    direct = row.template == Template.chat_reply and now - row.created_at <= DIRECT_REPLY_WINDOW
    return not direct


def sms_due(due: datetime, *, earlier: bool) -> datetime:
    """Move an SMS out of the quiet hours: a reminder earlier (20:00), anything else later."""
    if not in_quiet_hours(due):
        return due
    local = due.astimezone(STOCKHOLM)
    day = local.date()
    if earlier:
        evening = day if local.time() >= QUIET_FROM else day - timedelta(days=1)
        return datetime.combine(evening, QUIET_EARLIER, tzinfo=STOCKHOLM)
    morning = day + timedelta(days=1) if local.time() >= QUIET_FROM else day
    return datetime.combine(morning, QUIET_UNTIL, tzinfo=STOCKHOLM)


@dataclass(frozen=True, slots=True)
class _To:
    """One recipient address on one channel."""

    channel: Channel
    address: str


def _user_channels(user: CardUser, *, chat: bool, sms: bool, email: bool) -> list[_To]:
    reach = []
    if chat and user.telegram_user_id is not None:
        reach.append(_To(Channel.telegram, str(user.telegram_user_id)))
    if sms:
        reach.append(_To(Channel.sms, user.phone))
    if email:
        reach.append(_To(Channel.email, user.email))
    return reach


def _admin_channel(admin: Admin) -> _To:
    if admin.telegram_user_id is not None:
        return _To(Channel.telegram, str(admin.telegram_user_id))
    return _To(Channel.email, admin.email)


async def _add(
    session: AsyncSession,
    to: _To,
    template: Template,
    *,
    due: datetime,
    key: str,
    payload: dict[str, Any] | None = None,
    card_id: int | None = None,
    meeting_id: int | None = None,
    earlier: bool = False,
    now: datetime | None = None,
) -> None:
    if to.channel == Channel.sms:
        due = sms_due(due, earlier=earlier)
        if now is not None and due < now:
            if in_quiet_hours(now):
                return  # its moment passed, and it may not go out now: the chat one suffices
            due = now
    await outbox.enqueue(
        session,
        channel=to.channel,
        recipient=to.address,
        template=template,
        due_at=due,
        key=f"{key}:{to.channel}",
        payload=payload,
        card_id=card_id,
        meeting_id=meeting_id,
    )


async def card_arrived(session: AsyncSession, card: Card, *, now: datetime) -> None:
    """The card is in custody: invite the user to book, with a link into the chat."""
    user = await session.get(CardUser, card.card_user_id)
    assert user is not None and card.id is not None
    token = await issue_invite(
        session, purpose=InvitePurpose.card_user, card_user_id=user.id, now=now
    )
    for to in _user_channels(user, chat=True, sms=True, email=True):
        payload = {} if to.channel == Channel.telegram else {"token": token}
        await _add(
            session,
            to,
            Template.card_arrived,
            due=now,
            key=f"card:{card.id}:arrived:{now:%Y%m%d%H%M%S}",
            payload=payload,
            card_id=card.id,
        )


async def meeting_people(session: AsyncSession, meeting: Meeting) -> tuple[Card, CardUser, Admin]:
    """The meeting's card, its card user and the meeting's admin."""
    card = await session.get(Card, meeting.card_id)
    assert card is not None
    user = await session.get(CardUser, card.card_user_id)
    admin = await session.get(Admin, meeting.admin_id)
    assert user is not None and admin is not None
    return card, user, admin


async def meeting_requested(session: AsyncSession, meeting: Meeting, *, now: datetime) -> None:
    """A request waits for the admin: tell them, with buttons to answer."""
    card, _, admin = await meeting_people(session, meeting)
    await _add(
        session,
        _admin_channel(admin),
        Template.admin_request,
        due=now,
        key=f"meeting:{meeting.id}:admin_request",
        meeting_id=meeting.id,
        card_id=card.id,
    )
    await _add(
        session,
        _admin_channel(admin),
        Template.admin_request_reminder,
        due=now + ADMIN_REMINDER_AFTER,
        key=f"meeting:{meeting.id}:admin_request_reminder",
        meeting_id=meeting.id,
        card_id=card.id,
    )


async def meeting_confirmed(
    session: AsyncSession, meeting: Meeting, *, by: Role, now: datetime
) -> None:
    """A confirmed time: the calendar invitation, the answer in the chat, and reminders."""
    card, user, _ = await meeting_people(session, meeting)
    await outbox.cancel_pending(
        session,
        meeting_id=meeting.id,
        templates=(Template.admin_request, Template.admin_request_reminder),
        reason="request answered",
    )
    # The user saw an automatic confirmation in the chat already; an admin's answer is news.
    chat = by != Role.system
    payload = {"starts_at": meeting.starts_at.isoformat()}
    for to in _user_channels(
        user, chat=chat, sms=chat and user.telegram_user_id is None, email=True
    ):
        await _add(
            session,
            to,
            Template.booking_confirmed,
            due=now,
            key=f"meeting:{meeting.id}:confirmed",
            payload=payload,
            meeting_id=meeting.id,
            card_id=card.id,
        )
    for template in REMINDERS:
        due = reminder_due(meeting.starts_at, template)
        if due <= now:
            continue  # booked too close for this reminder to make sense
        for to in _user_channels(user, chat=True, sms=True, email=False):
            await _add(
                session,
                to,
                Template(template),
                due=due,
                key=f"meeting:{meeting.id}:{template}",
                payload=payload,
                meeting_id=meeting.id,
                card_id=card.id,
                earlier=True,
                now=now,
            )


async def meeting_closed(
    session: AsyncSession,
    meeting: Meeting,
    *,
    was: MeetingStatus,
    by: Role,
    now: datetime,
    moved: bool = False,
    card_status: CardStatus | None = None,
    notice_ended: bool = False,
) -> None:
    """A meeting ended without a handout: the pending messages about it go, and people hear
    what they need to (the user of a decline or expiry; of a cancellation, whoever did not make
    it). `card_status` is the card's new status when the card's change cancelled the meeting;
    `notice_ended`: its administrator's notice month is over (they are not told; the user is
    invited to book anew)."""
    card, user, admin = await meeting_people(session, meeting)
    assert meeting.id is not None
    await _withdraw(session, meeting)
    status = MeetingStatus(meeting.status)
    key = f"meeting:{meeting.id}:{status}"
    common: dict[str, Any] = {"meeting_id": meeting.id, "card_id": card.id, "due": now, "key": key}
    why: dict[str, Any] = {"card_status": card_status.value} if card_status is not None else {}
    if notice_ended:
        why["reason"] = "notice_ended"
    if was == MeetingStatus.confirmed:
        await _calendar_cancel(session, user, payload=why, **common)
    if status in (MeetingStatus.declined, MeetingStatus.expired):
        template = (
            Template.booking_expired
            if status == MeetingStatus.expired
            else Template.time_proposed
            if proposal_of(meeting) is not None
            else Template.booking_declined
        )
        for to in _user_channels(user, chat=True, sms=user.telegram_user_id is None, email=False):
            await _add(session, to, template, **common)
    elif status == MeetingStatus.cancelled:
        if by != Role.admin and not notice_ended:
            payload = {"moved": moved, **why}
            await _add(
                session, _admin_channel(admin), Template.admin_cancelled, payload=payload, **common
            )
        if by != Role.card_user:
            for to in _user_channels(
                user, chat=True, sms=user.telegram_user_id is None, email=False
            ):
                await _add(session, to, Template.booking_cancelled, payload=why, **common)


async def move_confirmed(
    session: AsyncSession, old: Meeting, *, confirmed_by: int, now: datetime
) -> None:
    """The admin confirmed a move, which released `old`: its reminders go, the user's calendar
    drops it (the new time's confirmation tells them), and its admin hears of it unless they
    confirmed the move themselves."""
    card, user, admin = await meeting_people(session, old)
    await _withdraw(session, old)
    key = f"meeting:{old.id}:{old.status}"
    common: dict[str, Any] = {"meeting_id": old.id, "card_id": card.id, "due": now, "key": key}
    await _calendar_cancel(session, user, **common)
    if admin.id != confirmed_by:
        await _add(
            session,
            _admin_channel(admin),
            Template.admin_cancelled,
            payload={"moved": True},
            **common,
        )


async def meeting_handed_over(session: AsyncSession, meeting: Meeting, *, now: datetime) -> None:
    """A leaving administrator's meeting is now a colleague's (`meeting`): the colleague hears
    of it; the card user's confirmation comes with meeting_confirmed."""
    _, _, admin = await meeting_people(session, meeting)
    assert meeting.id is not None
    await _add(
        session,
        _admin_channel(admin),
        Template.admin_handed_over,
        due=now,
        key=f"meeting:{meeting.id}:handed_over",
        meeting_id=meeting.id,
        card_id=meeting.card_id,
    )


async def notice_ended(session: AsyncSession, admin: Admin, *, now: datetime) -> None:
    """The administrator's notice month is over: once, the cards they keep, to hand over."""
    assert admin.id is not None
    await _add(
        session,
        _admin_channel(admin),
        Template.admin_notice_ended,
        due=now,
        key=f"admin:{admin.id}:notice_ended",
        payload={"admin_id": admin.id},
    )


async def move_withdrawn(session: AsyncSession, move: Meeting) -> None:
    """A move that no longer applies (its meeting took place): nothing more is said about it."""
    await _withdraw(session, move)


async def _withdraw(session: AsyncSession, meeting: Meeting) -> None:
    """The messages still waiting to go out about a meeting that has closed."""
    await outbox.cancel_pending(
        session,
        meeting_id=meeting.id,
        templates=MEETING_TEMPLATES_TO_CANCEL,
        reason=f"meeting {meeting.status}",
    )


async def _calendar_cancel(
    session: AsyncSession, user: CardUser, *, payload: dict[str, Any] | None = None, **common: Any
) -> None:
    """The e-mail whose CANCEL replaces the invitation in the user's calendar."""
    email = _To(Channel.email, user.email)
    key = common["key"] + ":ics"
    await _add(
        session, email, Template.booking_cancelled, payload=payload, **{**common, "key": key}
    )


def proposal_of(meeting: Meeting) -> Slot | None:
    """The time an admin proposed when declining this meeting, if any."""
    if (
        meeting.proposed_admin_id is None
        or meeting.proposed_starts_at is None
        or meeting.proposed_ends_at is None
    ):
        return None
    return Slot(
        admin_id=meeting.proposed_admin_id,
        venue_id=meeting.proposed_venue_id,
        starts_at=meeting.proposed_starts_at,
        ends_at=meeting.proposed_ends_at,
    )


async def outcome_recorded(session: AsyncSession, meeting: Meeting, *, now: datetime) -> None:
    """Thank the user for a handout, or tell them why not and how to book again."""
    card, user, _ = await meeting_people(session, meeting)
    await outbox.cancel_pending(
        session,
        meeting_id=meeting.id,
        templates=MEETING_TEMPLATES_TO_CANCEL,
        reason="outcome recorded",
    )
    handed_out = meeting.status == MeetingStatus.handed_out
    template = Template.handed_out if handed_out else Template.not_handed_out
    for to in _user_channels(user, chat=True, sms=user.telegram_user_id is None, email=False):
        await _add(
            session,
            to,
            template,
            due=now,
            key=f"meeting:{meeting.id}:outcome",
            payload={"reason": meeting.failure_reason},
            meeting_id=meeting.id,
            card_id=card.id,
        )


async def cancel_for_card(session: AsyncSession, card: Card) -> None:
    """The card left the office: no more invitations or nudges about it."""
    await outbox.cancel_pending(
        session,
        card_id=card.id,
        templates=(Template.card_arrived, Template.nudge),
        reason=f"card {card.status}",
    )


async def plan_nudges(session: AsyncSession, *, now: datetime) -> int:
    """Cards in custody without a booking for 3, 7 and 14 days get a nudge each; returns how
    many were planned."""
    cards = (
        await session.exec(
            select(Card).where(
                Card.status == CardStatus.in_custody,
                col(Card.status_changed_at) <= now - timedelta(days=NUDGE_DAYS[0]),
            )
        )
    ).all()
    planned = 0
    for card in cards:
        days = (now - card.status_changed_at).days
        due_steps = [d for d in NUDGE_DAYS if d <= days]
        if not due_steps or await _has_active_meeting(session, card):
            continue
        user = await session.get(CardUser, card.card_user_id)
        assert user is not None
        step = due_steps[-1]
        key = f"card:{card.id}:nudge:{card.status_changed_at:%Y%m%d%H%M}:{step}d"
        for to in _user_channels(user, chat=True, sms=True, email=False):
            await _add(session, to, Template.nudge, due=now, key=key, card_id=card.id)
        planned += 1
    return planned


async def _has_active_meeting(session: AsyncSession, card: Card) -> bool:
    query = select(Meeting.id).where(
        Meeting.card_id == card.id, col(Meeting.status).in_(ACTIVE_MEETING_STATUSES)
    )
    return (await session.exec(query)).first() is not None


async def plan_morning_agenda(session: AsyncSession, *, now: datetime) -> int:
    """At 07:00, every admin with confirmed meetings today gets the day's list."""
    today = now.astimezone(STOCKHOLM).date()
    start = local_midnight(today)
    admins = (
        await session.exec(
            select(Meeting.admin_id)
            .where(
                Meeting.status == MeetingStatus.confirmed,
                col(Meeting.starts_at) >= start,
                col(Meeting.starts_at) < start + timedelta(days=1),
            )
            .distinct()
        )
    ).all()
    for admin_id in admins:
        admin = await session.get(Admin, admin_id)
        assert admin is not None
        await _add(
            session,
            _admin_channel(admin),
            Template.admin_agenda,
            due=now,
            key=f"admin:{admin_id}:agenda:{today}",
            payload={"day": today.isoformat(), "admin_id": admin_id},
        )
    return len(admins)


async def message_to_admin(
    session: AsyncSession, relayed: RelayedMessage, *, text: str, now: datetime
) -> None:
    """A card user's message to their meeting's admin: in the admin's chat, else by e-mail."""
    admin = await session.get(Admin, relayed.admin_id)
    assert admin is not None
    await _add(
        session,
        _admin_channel(admin),
        Template.admin_message,
        due=now,
        key=f"relay:{relayed.id}:message",
        payload={"text": text, "relay_id": relayed.id},
        card_id=relayed.card_id,
        meeting_id=relayed.meeting_id,
    )


async def answer_to_user(
    session: AsyncSession, relayed: RelayedMessage, *, text: str, now: datetime
) -> None:
    """The admin's answer, in the card user's chat, else by SMS."""
    user = await session.get(CardUser, relayed.card_user_id)
    assert user is not None
    for to in _user_channels(user, chat=True, sms=user.telegram_user_id is None, email=False):
        await _add(
            session,
            to,
            Template.relay_answer,
            due=now,
            key=f"relay:{relayed.id}:answer",
            payload={"text": text, "relay_id": relayed.id},
            card_id=relayed.card_id,
            meeting_id=relayed.meeting_id,
            now=now,
        )


async def chat_reply(
    session: AsyncSession, *, phone: str, text: str, key: str, now: datetime
) -> None:
    """The SMS chat's answer to the message the user just sent: due at once."""
    await outbox.enqueue(
        session,
        channel=Channel.sms,
        recipient=phone,
        template=Template.chat_reply,
        due_at=now,
        key=key,
        payload={"text": text},
        now=now,
    )


async def chat_replies_since(session: AsyncSession, *, phone: str, since: datetime) -> int:
    """How many chat replies were written to this number since then (for its limits)."""
    return await outbox.count_to(
        session, recipient=phone, template=Template.chat_reply, since=since
    )
