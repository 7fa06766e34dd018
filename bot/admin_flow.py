"""The ID administrator's side of the chat."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import col, select

from bot.dialogue import COMMAND_PREFIX, Conversation
from models.cards import Card, CardUser
from models.i18n import N_
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting, MeetingStatus
from models.network import Admin, Office, Venue
from scheduler.slots import STOCKHOLM
from scheduler.wording import format_slot_time

TODAY_LABEL = N_("Today")
UPCOMING_LABEL = N_("Upcoming")
COMMANDS = {"idag": "today", "kommande": "upcoming", "meny": "menu", "hjalp": "menu"}
UPCOMING_DAYS = 14


def _menu(conv: Conversation, text: str | None = None) -> None:
    conv.go("idle")
    conv.say(
        text or conv._("What would you like to do?"),
        [
            conv.command(conv._(TODAY_LABEL), "today"),
            conv.command(conv._(UPCOMING_LABEL), "upcoming"),
        ],
    )


async def welcome(conv: Conversation, admin: Admin) -> None:
    """The reply once an invitation has linked the admin's Telegram account."""
    office = await conv.session.get(Office, admin.office_id)
    assert office is not None
    _menu(
        conv,
        conv._("Welcome, {name}! You are linked as ID administrator of {office}.").format(
            name=admin.first_name, office=office.name
        ),
    )


def _local_midnight(moment: datetime, days: int = 0) -> datetime:
    day = moment.astimezone(STOCKHOLM).date() + timedelta(days=days)
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


async def _agenda(conv: Conversation, admin: Admin, *, days: int) -> None:
    """The admin's requested and confirmed meetings from today, `days` days ahead."""
    start, end = _local_midnight(conv.now), _local_midnight(conv.now, days)
    rows = (
        await conv.session.exec(
            select(Meeting, Card, CardUser)
            .join(Card, col(Card.id) == Meeting.card_id)
            .join(CardUser, col(CardUser.id) == Card.card_user_id)
            .where(
                Meeting.admin_id == admin.id,
                col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
                col(Meeting.starts_at) >= start,
                col(Meeting.starts_at) < end,
            )
            .order_by(col(Meeting.starts_at))
        )
    ).all()
    if not rows:
        _menu(conv, conv._("No meetings in this period."))
        return
    lines = []
    for meeting, card, user in rows:
        venue = await conv.session.get(Venue, meeting.venue_id) if meeting.venue_id else None
        state = (
            conv._("waiting for your confirmation")
            if meeting.status == MeetingStatus.requested
            else conv._("confirmed")
        )
        place = venue.name if venue is not None else conv._("home delivery")
        when = format_slot_time(meeting.starts_at, conv.locale)
        who = f"{user.given_name} {user.family_name} ({card.order_ref})"
        lines.append(" – ".join((when, place, who, state)))
    _menu(conv, "\n".join(lines))


async def _run(conv: Conversation, admin: Admin, name: str) -> None:
    if name == "today":
        await _agenda(conv, admin, days=1)
    elif name == "upcoming":
        await _agenda(conv, admin, days=UPCOMING_DAYS)
    else:
        _menu(conv)


async def handle(conv: Conversation, admin: Admin, *, command: str | None = None) -> None:
    """One update from a linked admin."""
    incoming = conv.incoming
    if command is not None:
        await _run(conv, admin, command)
    elif incoming.button is not None and incoming.button.startswith(COMMAND_PREFIX):
        await _run(conv, admin, incoming.button[len(COMMAND_PREFIX) :])
    elif incoming.command is not None:
        await _run(conv, admin, COMMANDS.get(incoming.command[0], "menu"))
    else:
        _menu(conv)
