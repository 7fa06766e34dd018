"""The ID administrator's side of the chat: the menu, the agenda, answering booking requests,
and routing to custody (/kort), availability (/tider) and the meeting outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from bot import admin_custody_flow, admin_outcome_flow, admin_settings_flow
from bot.dialogue import COMMAND_PREFIX, Conversation
from models.errors import DomainError
from models.lifecycle import Role
from models.meetings import Meeting, MeetingStatus, agenda, pending_move
from models.network import Admin, Office, Venue
from models.zone import STOCKHOLM, local_midnight
from scheduler import booking
from scheduler.availability import load_availability
from scheduler.ranking import propose
from scheduler.slots import slot_from_data, slot_to_data
from scheduler.wishes import TimeWish
from scheduler.wording import format_slot_time

COMMANDS = {
    "idag": "today",
    "kommande": "upcoming",
    "kort": "cards",
    "tider": "tider",
    "meny": "menu",
    "hjalp": "help",
}
MENU_WORDS = frozenset({"meny", "menu"})
UPCOMING_DAYS = 14
PROPOSALS = 5
REQUEST_PREFIX = "m:"
CUSTODY_ACTIONS = frozenset({"toggle", "pickup_done", "return"})
OUTCOME_ACTIONS = frozenset({"meeting", "reveal", "handout", "document", "check", "fail", "reason"})


def _menu(conv: Conversation, text: str | None = None) -> None:
    conv.go("idle")
    conv.say(
        text or conv._("What would you like to do?"),
        [
            conv.command(conv._("Today"), "today"),
            conv.command(conv._("Upcoming"), "upcoming"),
        ],
        [
            conv.command(conv._("Cards"), "cards"),
            conv.command(conv._("Times and places"), "tider"),
        ],
        [conv.command(conv._("Help"), "help")],
    )


def _help(conv: Conversation, admin: Admin) -> str:
    return "\n".join(
        (
            conv._("This is how you run your office here:"),
            conv._("/idag – today's meetings; record the outcome there"),
            conv._("/kommande – the coming two weeks"),
            conv._("/kort – the cards you keep; log the avi and the pickup of REKs"),
            conv._("/tider – your weekly times, places, absences and settings"),
            conv._("Booking requests come as messages with buttons to answer them."),
            *_calendar_line(conv, admin),
        )
    )


def _calendar_line(conv: Conversation, admin: Admin) -> tuple[str, ...]:
    """Where to subscribe to one's meetings on the phone, when the service is public."""
    if conv.calendar_url is None or admin.id is None:
        return ()
    url = conv.calendar_url(admin.id)
    return (
        conv._("Your meetings as a calendar to subscribe to on the phone: {url}").format(url=url),
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
    return local_midnight(moment.astimezone(STOCKHOLM).date() + timedelta(days=days))


async def _agenda(conv: Conversation, admin: Admin, *, days: int) -> None:
    """The admin's requested and confirmed meetings from today, `days` days ahead; today's
    meetings get a button each, to record the outcome."""
    start, end = _local_midnight(conv.now), _local_midnight(conv.now, days)
    assert admin.id is not None
    rows = await agenda(conv.session, admin_id=admin.id, start=start, end=end)
    if not rows:
        _menu(conv, conv._("No meetings in this period."))
        return
    lines, buttons = [], []
    tomorrow = _local_midnight(conv.now, 1)
    moves = await _moves(conv, [meeting for meeting, _, _ in rows])
    for meeting, card, user in rows:
        venue = await conv.session.get(Venue, meeting.venue_id) if meeting.venue_id else None
        state = await _state(conv, meeting, moves.get(meeting.id))
        place = venue.name if venue is not None else conv._("home delivery")
        when = format_slot_time(meeting.starts_at, conv.locale)
        who = f"{user.given_name} {user.family_name} ({card.order_ref})"
        lines.append(" – ".join((when, place, who, state)))
        if meeting.status == MeetingStatus.confirmed and meeting.starts_at < tomorrow:
            clock = meeting.starts_at.astimezone(STOCKHOLM).strftime("%H:%M")
            buttons.append([conv.offer(f"{clock} {who}", "meeting", meeting=meeting.id)])
    conv.go("idle")
    conv.say("\n".join(lines), *buttons, [conv.command(conv._("Menu"), "menu")])


async def _moves(conv: Conversation, meetings: list[Meeting]) -> dict[int | None, Meeting]:
    """The pending moves of these confirmed meetings, by the meeting each would replace."""
    ids = [m.id for m in meetings if m.status == MeetingStatus.confirmed]
    if not ids:
        return {}
    query = select(Meeting).where(col(Meeting.replaces_meeting_id).in_(ids), pending_move())
    return {move.replaces_meeting_id: move for move in (await conv.session.exec(query)).all()}


async def _state(conv: Conversation, meeting: Meeting, move: Meeting | None) -> str:
    """Confirmed or waiting, and which time a move is from or to."""
    if meeting.status == MeetingStatus.requested:
        old = await booking.moved_from(conv.session, meeting)
        if old is None:
            return conv._("waiting for your confirmation")
        return conv._("waiting for your confirmation, a move from {when}").format(
            when=format_slot_time(old.starts_at, conv.locale)
        )
    if move is None:
        return conv._("confirmed")
    return conv._("confirmed, asks to move to {when}").format(
        when=format_slot_time(move.starts_at, conv.locale)
    )


async def _run(conv: Conversation, admin: Admin, name: str) -> None:
    if name == "today":
        await _agenda(conv, admin, days=1)
    elif name == "upcoming":
        await _agenda(conv, admin, days=UPCOMING_DAYS)
    elif name == "cards":
        await admin_custody_flow.cards(conv, admin)
    elif name in ("pickup", "notice"):
        await admin_custody_flow.choose(conv, admin, name, [])
    elif name == "tider" or name.startswith("tider:"):
        await admin_settings_flow.handle(conv, admin, command=name)
    elif name == "help":
        _menu(conv, _help(conv, admin))
    else:
        _menu(conv)


async def _answer_request(conv: Conversation, admin: Admin, data: str) -> None:
    """A button under a booking request: confirm, decline, or propose another time."""
    action, _, meeting_id = data[len(REQUEST_PREFIX) :].partition(":")
    if not meeting_id.isdigit() or action not in ("confirm", "decline", "propose"):
        _menu(conv, conv._("That button is no longer valid. Here are your choices now:"))
        return
    assert admin.id is not None
    meeting = await booking.meeting_for_actor(
        conv.session, meeting_id=int(meeting_id), role=Role.admin, actor_id=admin.id
    )
    if meeting.status != MeetingStatus.requested:
        _menu(conv, conv._("That request has already been answered."))
        return
    when = format_slot_time(meeting.starts_at, conv.locale)
    old = await booking.moved_from(conv.session, meeting)
    old_when = format_slot_time(old.starts_at, conv.locale) if old is not None else ""
    if action == "confirm":
        await booking.confirm(
            conv.session, meeting_id=int(meeting_id), admin_id=admin.id, now=conv.now
        )
        text = conv._("Confirmed: {when}. The card user is told.").format(when=when)
        if old is not None:
            text += " " + conv._("Their earlier time {when} is released.").format(when=old_when)
        _menu(conv, text)
    elif action == "decline":
        await booking.decline(
            conv.session, meeting_id=int(meeting_id), admin_id=admin.id, now=conv.now
        )
        text = conv._("Declined. The card user is asked to choose another time.")
        if old is not None:
            text = conv._("Declined. The card user keeps the time {when}.").format(when=old_when)
        _menu(conv, text)
    else:
        await _offer_own_times(conv, admin, meeting)


async def _offer_own_times(conv: Conversation, admin: Admin, meeting: Meeting) -> None:
    """The admin's own next free times, to propose one instead of the requested one."""
    office = await conv.session.get(Office, admin.office_id)
    assert office is not None
    availability = await load_availability(conv.session, office, now=conv.now)
    own_free = [s for s in availability.free(now=conv.now) if s.admin_id == admin.id]
    own = propose(TimeWish(), own_free, limit=PROPOSALS).slots  # spread over days
    if not own:
        _menu(conv, conv._("You have no free times to propose. Add times with /tider."))
        return
    buttons = [
        [
            conv.offer(
                format_slot_time(slot.starts_at, conv.locale),
                "propose",
                meeting=meeting.id,
                **slot_to_data(slot),
            )
        ]
        for slot in own
    ]
    conv.go("idle")
    conv.say(
        conv._("Which time do you propose instead?"),
        *buttons,
        [conv.command(conv._("Menu"), "menu")],
    )


async def _propose(conv: Conversation, admin: Admin, offer: dict[str, object]) -> None:
    assert admin.id is not None
    slot = slot_from_data(offer)
    await booking.decline(
        conv.session,
        meeting_id=int(str(offer["meeting"])),
        admin_id=admin.id,
        now=conv.now,
        proposal=slot,
    )
    _menu(
        conv,
        conv._("Proposed: {when}. The card user can book it with one press.").format(
            when=format_slot_time(slot.starts_at, conv.locale)
        ),
    )


async def _press(conv: Conversation, admin: Admin, data: str) -> None:
    if data.startswith(REQUEST_PREFIX):
        await _answer_request(conv, admin, data)
    elif data.startswith(COMMAND_PREFIX):
        await _run(conv, admin, data[len(COMMAND_PREFIX) :])
    elif (offer := conv.offered(data)) is None:
        _menu(conv, conv._("That button is no longer valid. Here are your choices now:"))
    elif offer["action"] in CUSTODY_ACTIONS:
        await admin_custody_flow.pressed(conv, admin, offer)
    elif offer["action"] in OUTCOME_ACTIONS:
        await admin_outcome_flow.pressed(conv, admin, offer)
    elif offer["action"] == "propose":
        await _propose(conv, admin, offer)
    elif str(offer["action"]).startswith("tider:"):
        await admin_settings_flow.handle(conv, admin)
    else:
        _menu(conv, conv._("That button is no longer valid. Here are your choices now:"))


async def _text(conv: Conversation, admin: Admin, text: str) -> None:
    command = conv.incoming.command
    if command is not None:
        await _run(conv, admin, COMMANDS.get(command[0], "menu"))
    elif text.strip().casefold() in MENU_WORDS:
        _menu(conv)
    elif conv.step.startswith("tider"):
        await admin_settings_flow.handle(conv, admin)
    elif conv.step == "pickup":
        await admin_custody_flow.typed(conv, admin, text)
    else:
        _menu(conv, conv._("I did not quite understand. Choose below, or write /hjalp for help."))


async def handle(conv: Conversation, admin: Admin, *, command: str | None = None) -> None:
    """One update from a linked admin; refusals become a reply and the menu."""
    incoming = conv.incoming
    try:
        # A refused action leaves nothing half-written: its savepoint rolls back.
        async with conv.session.begin_nested():
            if command is not None:
                await _run(conv, admin, command)
            elif incoming.button is not None:
                await _press(conv, admin, incoming.button)
            elif incoming.text:
                await _text(conv, admin, incoming.text)
            else:
                _menu(conv, conv._("I can only read text and button presses. Choose below:"))
    except DomainError as refusal:
        conv.discard()
        _menu(conv, refusal.translated(conv.locale))
