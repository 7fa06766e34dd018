"""The ID administrator's side of the chat: the menu, the agenda, answering booking requests,
and routing to custody (/kort), availability (/tider) and the meeting outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import col, func, select

from bot import admin_custody_flow, admin_outcome_flow, admin_settings_flow, clarify
from bot.admin_custody_flow import CustodyStep, Mode
from bot.admin_outcome_flow import OutcomeOffer, OutcomeStep, home_delivery_place
from bot.admin_settings_flow import SettingsOffer, SettingsStep
from bot.dialogue import Conversation
from bot.understanding import Context, Intent, Reading, Speaker, step_of, understand
from models import audit, feeds
from models.cards import Card, CardUser
from models.errors import DomainError
from models.lifecycle import Role
from models.meetings import Meeting, MeetingStatus, agenda, pending_move
from models.network import Admin, Office, Venue
from models.zone import STOCKHOLM, local_midnight
from scheduler import booking, custody, relay
from scheduler.actions import (
    Action,
    AddWindowOn,
    AnswerMessage,
    AnswerRequest,
    Command,
    Name,
    SetLanguage,
    Verb,
)
from scheduler.availability import load_availability
from scheduler.ranking import propose
from scheduler.slots import slot_from_data, slot_to_data
from scheduler.wishes import TimeWish
from scheduler.wording import attendance, format_slot_time

COMMANDS = {
    "idag": Name.today,
    "kommande": Name.upcoming,
    "kort": Name.cards,
    "tider": Name.tider,
    "meny": Name.menu,
    "hjalp": Name.help,
    "kalender": Name.calendar,
}
MENU_WORDS = frozenset({"meny", "menu"})
CALENDAR_WORDS = frozenset(
    {"ny kalenderlänk", "kalenderlänk", "ny kalender", "new calendar link", "calendar link"}
)
UPCOMING_DAYS = 14
PROPOSALS = 5


class AdminStep(StrEnum):
    """The admin chat's own steps (custody, outcome and /tider keep theirs)."""

    idle = "idle"
    confirm_cards = "confirm_cards"  # «Hämtat K-1 och K-2?» typed, before it is recorded
    reply = "reply"  # «Svara» pressed under a card user's message: the answer is typed next
    confirm_reply = "confirm_reply"  # text typed right after a message: «Svar till Maria: …?»


class AdminOffer(StrEnum):
    """The admin chat's own buttons for one object (custody, outcome and /tider keep theirs)."""

    propose = "propose"  # a time of one's own instead of the requested one
    cards_confirm = "cards_confirm"  # yes to «Hämtat K-1 och K-2?»
    relay_reply = "relay_reply"  # yes to «Skicka det här som svar till …?»


def _menu(conv: Conversation, text: str | None = None) -> None:
    conv.go(AdminStep.idle)
    conv.say(
        text or conv._("What would you like to do?"),
        [
            conv.command(conv._("Today"), Name.today),
            conv.command(conv._("Upcoming"), Name.upcoming),
        ],
        [
            conv.command(conv._("Cards"), Name.cards),
            conv.command(conv._("Times and places"), Name.tider),
        ],
        [conv.command(conv._("Help"), Name.help)],
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
            conv._("Card users' messages come with «Reply»: you can answer each one once."),
            conv._(
                "Or just write, for example «what do I have tomorrow», «picked up K-1 and K-2», "
                "«off on friday», or «yes» to the newest booking request."
            ),
            *_calendar_line(conv, admin),
        )
    )


def _calendar_line(conv: Conversation, admin: Admin) -> tuple[str, ...]:
    """How to subscribe to one's meetings on the phone, when the service is public."""
    if conv.calendar_url is None:
        return ()
    return (
        conv._(
            "/kalender – your meetings as a calendar to subscribe to on the phone: a new link "
            "each time (an earlier link stops working)"
        ),
    )


async def _new_calendar_link(conv: Conversation, admin: Admin) -> None:
    """A new calendar feed link; the earlier one stops working at once."""
    if conv.calendar_url is None or admin.id is None:
        _menu(
            conv, conv._("The calendar link needs the service's public address. Ask the operator.")
        )
        return
    token = await feeds.new_feed_token(conv.session, admin_id=admin.id, now=conv.now)
    await audit.append(
        conv.session,
        actor_role=Role.admin,
        actor_id=admin.id,
        action="calendar_feed.renewed",
        entity="admin",
        entity_id=admin.id,
        now=conv.now,
    )
    _menu(
        conv,
        conv._(
            "Your new calendar link: {url}\nSubscribe to it in the phone's calendar. An earlier "
            "link has stopped working. Keep the link to yourself: it shows your meetings."
        ).format(url=conv.calendar_url(token)),
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


async def _agenda(conv: Conversation, admin: Admin, *, days: int, first: int = 0) -> None:
    """The admin's requested and confirmed meetings from `first` days ahead (0: today), for
    `days` days, a confirmed one with whether its card user said they come; today's meetings
    get a button each, to record the outcome."""
    start, end = _local_midnight(conv.now, first), _local_midnight(conv.now, first + days)
    assert admin.id is not None
    rows = await agenda(conv.session, admin_id=admin.id, start=start, end=end)
    if not rows:
        _menu(
            conv,
            conv._("No meetings tomorrow.") if first else conv._("No meetings in this period."),
        )
        return
    lines, buttons = [], []
    tomorrow = _local_midnight(conv.now, 1)
    moves = await _moves(conv, [meeting for meeting, _, _ in rows])
    for meeting, card, user in rows:
        venue = await conv.session.get(Venue, meeting.venue_id) if meeting.venue_id else None
        state = await _state(conv, meeting, moves.get(meeting.id))
        place = venue.name if venue is not None else home_delivery_place(conv, admin, meeting)
        when = format_slot_time(meeting.starts_at, conv.locale)
        who = f"{user.given_name} {user.family_name} ({card.order_ref})"
        parts = [when, place, who, state]
        if meeting.status == MeetingStatus.confirmed:
            parts.append(attendance(meeting, conv.locale))
        lines.append(" – ".join(parts))
        if meeting.status == MeetingStatus.confirmed and meeting.starts_at < tomorrow:
            clock = meeting.starts_at.astimezone(STOCKHOLM).strftime("%H:%M")
            buttons.append([conv.offer(f"{clock} {who}", OutcomeOffer.meeting, meeting=meeting.id)])
    conv.go(AdminStep.idle)
    conv.say("\n".join(lines), *buttons, [conv.command(conv._("Menu"), Name.menu)])


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


async def _today(conv: Conversation, admin: Admin) -> None:
    await _agenda(conv, admin, days=1)


async def _upcoming(conv: Conversation, admin: Admin) -> None:
    await _agenda(conv, admin, days=UPCOMING_DAYS)


async def _pickup(conv: Conversation, admin: Admin) -> None:
    await admin_custody_flow.choose(conv, admin, Mode.pickup, [])


async def _notice(conv: Conversation, admin: Admin) -> None:
    await admin_custody_flow.choose(conv, admin, Mode.notice, [])


async def _show_help(conv: Conversation, admin: Admin) -> None:
    _menu(conv, _help(conv, admin))


async def _show_menu(conv: Conversation, admin: Admin) -> None:
    _menu(conv)


_Run = Callable[[Conversation, Admin], Awaitable[None]]
# What each command does; /tider's commands go to /tider, and any other shows the menu.
_COMMANDS: dict[Name, _Run] = {
    Name.today: _today,
    Name.upcoming: _upcoming,
    Name.cards: admin_custody_flow.cards,
    Name.pickup: _pickup,
    Name.notice: _notice,
    Name.help: _show_help,
    Name.menu: _show_menu,
    Name.calendar: _new_calendar_link,
}


async def _run(conv: Conversation, admin: Admin, action: Command | AddWindowOn) -> None:
    if isinstance(action, AddWindowOn) or action.name in admin_settings_flow.COMMANDS:
        await admin_settings_flow.handle(conv, admin, command=action)
    else:
        await _COMMANDS.get(action.name, _show_menu)(conv, admin)


async def _answer_request(
    conv: Conversation, admin: Admin, answer: AnswerRequest, *, heading: str = ""
) -> None:
    """A button under a booking request: confirm, decline, or propose another time. A typed
    answer comes with a `heading` that names the request it answers."""
    meeting_id = answer.meeting_id
    assert admin.id is not None
    meeting = await booking.meeting_for_actor(
        conv.session, meeting_id=meeting_id, role=Role.admin, actor_id=admin.id
    )
    if meeting.status != MeetingStatus.requested:
        _menu(conv, conv._("That request has already been answered."))
        return
    when = format_slot_time(meeting.starts_at, conv.locale)
    old = await booking.moved_from(conv.session, meeting)
    old_when = format_slot_time(old.starts_at, conv.locale) if old is not None else ""
    if answer.verb is Verb.confirm:
        await booking.confirm(conv.session, meeting_id=meeting_id, admin_id=admin.id, now=conv.now)
        text = conv._("Confirmed: {when}. The card user is told.").format(when=when)
        if old is not None:
            text += " " + conv._("Their earlier time {when} is released.").format(when=old_when)
        _menu(conv, heading + text)
    elif answer.verb is Verb.decline:
        await booking.decline(conv.session, meeting_id=meeting_id, admin_id=admin.id, now=conv.now)
        text = conv._("Declined. The card user is asked to choose another time.")
        if old is not None:
            text = conv._("Declined. The card user keeps the time {when}.").format(when=old_when)
        _menu(conv, heading + text)
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
                AdminOffer.propose,
                meeting=meeting.id,
                **slot_to_data(slot),
            )
        ]
        for slot in own
    ]
    conv.go(AdminStep.idle)
    conv.say(
        conv._("Which time do you propose instead?"),
        *buttons,
        [conv.command(conv._("Menu"), Name.menu)],
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


async def _text(conv: Conversation, admin: Admin, text: str) -> None:
    """Typed text: a command, a menu word, a /tider answer, a card while choosing, or what the
    understanding layer reads in it."""
    command = conv.incoming.command
    if command is not None:
        clarify.reset(conv)
        await _run(conv, admin, Command(COMMANDS.get(command[0], Name.menu)))
        return
    if text.strip().casefold() in MENU_WORDS:
        clarify.reset(conv)
        _menu(conv)
        return
    if text.strip().rstrip("!.").casefold() in CALENDAR_WORDS:
        clarify.reset(conv)
        await _new_calendar_link(conv, admin)
        return
    if conv.step == AdminStep.reply:
        clarify.reset(conv)
        await _reply(conv, admin, text)
        return
    if conv.step == OutcomeStep.card_number:
        clarify.reset(conv)
        await admin_outcome_flow.typed_card_number(conv, admin, text)
        return
    # A typed yes answers the newest request only where no other question is open.
    request = await _newest_request(conv, admin) if conv.step in _AT_REST else None
    context = Context(Speaker.admin, step_of(conv.step), pending_request=request is not None)
    reading = understand(text, context, locale=conv.locale, now=conv.now)
    settings_step = admin_settings_flow.step_of(conv.step)
    if settings_step is not None and not _leaves_settings(settings_step, reading):
        await admin_settings_flow.handle(conv, admin)
        return
    if conv.step == CustodyStep.pickup and not (
        reading.intent is Intent.picked_up and reading.slots.refs
    ):
        await admin_custody_flow.typed(conv, admin, text)
        return
    # Asked for a language outright: that answer is enough, with no offer to switch after it.
    english = (
        reading.written_in == "en" and conv.locale != "en" and reading.intent is not Intent.language
    )
    if english:
        conv.locale = "en"  # this answer only; the offer below makes it stick
    if clarify.is_miss(reading) and conv.step in _AT_REST and await _offer_reply(conv, admin, text):
        return
    await _understood(conv, admin, reading, text, request)
    if english:
        conv.say(
            conv._("You wrote in English. Would you like me to write in English from now on?"),
            [conv.button("English", SetLanguage("en")), conv.button("Svenska", SetLanguage("sv"))],
        )


# Steps with no question of their own open.
_AT_REST = frozenset({AdminStep.idle})
# What takes an admin out of /tider's own questions: the agenda, the cards and help.
_LEAVING_SETTINGS = frozenset(
    {Intent.today, Intent.tomorrow, Intent.upcoming, Intent.custody, Intent.help}
)


# /tider's steps that ask for words of their own (hours, a name, an address, days off).
_SETTINGS_ASKS = frozenset(
    {
        SettingsStep.weekday,
        SettingsStep.hours,
        SettingsStep.venue_name,
        SettingsStep.venue_address,
        SettingsStep.absence,
    }
)
# Answers that /tider's own questions read themselves.
_SETTINGS_ANSWERS = frozenset({Intent.confirm, Intent.decline, Intent.yes, Intent.no})


def _leaves_settings(step: SettingsStep, reading: Reading) -> bool:
    """Whether a message in /tider asks for something else than /tider's question does."""
    if reading.unsure or clarify.is_miss(reading):
        return False
    if step in _SETTINGS_ASKS:
        return reading.intent in _LEAVING_SETTINGS
    return reading.intent not in _SETTINGS_ANSWERS


async def _newest_request(conv: Conversation, admin: Admin) -> Meeting | None:
    """The newest booking request that waits for this admin's answer."""
    query = (
        select(Meeting)
        .where(Meeting.admin_id == admin.id, Meeting.status == MeetingStatus.requested)
        .order_by(col(Meeting.created_at).desc(), col(Meeting.id).desc())
        .limit(1)
    )
    return (await conv.session.exec(query)).first()


async def _understood(
    conv: Conversation, admin: Admin, reading: Reading, text: str, request: Meeting | None
) -> None:
    """Act on a reading; when unsure, ask «Menade du …?»; when lost, say so and offer the menu
    (never twice in the same words)."""
    if clarify.is_miss(reading):
        _menu(conv, clarify.not_understood_text(conv, clarify.missed(conv)))
    elif reading.unsure:
        if clarify.missed(conv) > 1:
            _menu(conv, conv._(clarify.STILL_NOT_UNDERSTOOD))
            return
        clarify.did_you_mean(conv, reading, text, [conv.command(conv._("Menu"), Name.menu)])
    else:
        clarify.reset(conv)
        await _act(conv, admin, reading, request)


async def _act(conv: Conversation, admin: Admin, reading: Reading, request: Meeting | None) -> None:
    """What the admin asked for, where the chat stands."""
    intent = reading.intent
    if intent is Intent.today:
        await _agenda(conv, admin, days=1)
    elif intent is Intent.tomorrow:
        await _agenda(conv, admin, days=1, first=1)
    elif intent is Intent.upcoming:
        await _agenda(conv, admin, days=UPCOMING_DAYS)
    elif intent is Intent.custody:
        await admin_custody_flow.cards(conv, admin)
    elif intent in (Intent.picked_up, Intent.avi_arrived):
        mode = Mode.pickup if intent is Intent.picked_up else Mode.notice
        await _ask_cards(conv, admin, mode, reading.slots.refs)
    elif intent is Intent.absence:
        await _absence(conv, admin, reading)
    elif intent in (Intent.confirm, Intent.decline):
        await _answer_by_text(conv, admin, intent, request)
    elif intent is Intent.help:
        _menu(conv, _help(conv, admin))
    elif intent is Intent.greet:
        _menu(conv, conv._("Hello, {name}!").format(name=admin.first_name))
    elif intent is Intent.thanks:
        _menu(conv, conv._("You are welcome!"))
    elif intent is Intent.goodbye:
        _menu(conv, conv._("Goodbye! Write here whenever you need me."))
    elif intent is Intent.language and reading.slots.language in ("sv", "en"):
        admin.locale = conv.locale = str(reading.slots.language)
        conv.session.add(admin)
        _menu(conv, conv._("Language changed."))
    elif intent is Intent.language:
        conv.go(AdminStep.idle)
        conv.say(
            conv._("Choose language:"),
            [conv.button("Svenska", SetLanguage("sv")), conv.button("English", SetLanguage("en"))],
        )
    elif intent in (Intent.yes, Intent.no) and conv.step not in _AT_REST:
        # Mid-way through something with buttons (the outcome's checks): they answer it.
        conv.keep_offers()
        conv.say(
            conv._("Answer with the buttons above, please."),
            [conv.command(conv._("Menu"), Name.menu)],
        )
    elif intent is Intent.yes:
        _menu(conv, conv._("No booking request waits for your answer."))
    elif intent is Intent.no:
        _menu(conv, conv._("OK, nothing is changed."))
    else:
        misses = clarify.missed(conv)
        _menu(conv, clarify.not_understood_text(conv, misses))


async def _absence(conv: Conversation, admin: Admin, reading: Reading) -> None:
    """«ledig fredag», «sjuk idag»: the days, to confirm in /tider's absence step."""
    today = conv.now.astimezone(STOCKHOLM).date()
    days = admin_settings_flow.days_of_wish(reading.slots.wish, today=today)
    if days is None:
        await admin_settings_flow.handle(conv, admin, command=Command(Name.tider_absence))
    else:
        await admin_settings_flow.confirm_absence(conv, admin, *days)


async def _ask_cards(conv: Conversation, admin: Admin, mode: Mode, refs: tuple[str, ...]) -> None:
    """The cards named (picked up, or their avi arrived), to confirm before it is recorded;
    without names, the list to choose from."""
    expected = await custody.expected_cards(conv.session, admin=admin)
    if mode is Mode.notice:
        expected = [row for row in expected if row.card.status == "shipped"]
    wanted = {ref.casefold() for ref in refs}
    found = [row for row in expected if row.card.order_ref.casefold() in wanted]
    missing = sorted(wanted - {row.card.order_ref.casefold() for row in found})
    if not found:
        if missing:
            conv.say(
                conv._("No expected card matches «{text}».").format(
                    text=", ".join(ref.upper() for ref in missing)
                )
            )
        await admin_custody_flow.choose(conv, admin, mode, [])
        return
    names = ", ".join(row.label for row in found)
    if mode is Mode.pickup:
        question = conv._("Picked up at the postal agent: {cards}?").format(cards=names)
    else:
        question = conv._("The notice (avi) has arrived for: {cards}?").format(cards=names)
    if missing:
        question += "\n" + conv._("Not among your expected cards: {refs}.").format(
            refs=", ".join(ref.upper() for ref in missing)
        )
    ids = [row.card.id for row in found]
    conv.go(AdminStep.confirm_cards)
    conv.say(
        question,
        [
            conv.offer(
                conv._("Yes, record it"), AdminOffer.cards_confirm, mode=mode.value, cards=ids
            ),
            conv.command(conv._("No"), Name.menu),
        ],
    )


async def _cards_confirmed(conv: Conversation, admin: Admin, offer: dict[str, object]) -> None:
    """Record the pickup (or the avi) of the cards the admin said yes to."""
    raw = offer.get("cards")
    ids = [int(i) for i in raw] if isinstance(raw, list) else []
    if offer.get("mode") == Mode.pickup:
        done = await custody.pick_up(conv.session, admin=admin, card_ids=ids, now=conv.now)
        text = conv._("Picked up: {cards}. The card users are invited to book a time.")
    else:
        done = await custody.log_notice(conv.session, admin=admin, card_ids=ids, now=conv.now)
        text = conv._("Notice logged: {cards}.")
    await admin_custody_flow.cards(
        conv, admin, text.format(cards=", ".join(c.order_ref for c in done))
    )


async def _answer_by_text(
    conv: Conversation, admin: Admin, intent: Intent, request: Meeting | None
) -> None:
    """A typed yes or no: to the cards asked about, else to the newest booking request,
    named in the reply so that there is no doubt which one it answered."""
    if conv.step == AdminStep.confirm_reply:
        replies = [o for o in conv.current_offers() if o.get("action") == AdminOffer.relay_reply]
        if intent is Intent.confirm and replies:
            await _send_reply(conv, admin, replies[0].get("message"), str(replies[0]["text"]))
        else:
            _menu(conv, conv._("OK, the answer was not sent."))
        return
    if conv.step == AdminStep.confirm_cards:
        offers = [o for o in conv.current_offers() if o.get("action") == AdminOffer.cards_confirm]
        if intent is Intent.confirm and offers:
            await _cards_confirmed(conv, admin, offers[0])
        else:
            _menu(conv, conv._("OK, nothing is recorded."))
        return
    if request is None or request.id is None:
        _menu(conv, conv._("No booking request waits for your answer."))
        return
    card = await conv.session.get(Card, request.card_id)
    user = await conv.session.get(CardUser, card.card_user_id) if card is not None else None
    who = f"{user.given_name} {user.family_name} ({card.order_ref})" if user and card else ""
    heading = conv._("The request from {who} for {when}:").format(
        who=who, when=format_slot_time(request.starts_at, conv.locale)
    )
    others = await _other_requests(conv, admin, request)
    if others:
        heading += " " + conv._("({count} more waiting; see /kommande.)").format(count=others)
    verb = Verb.confirm if intent is Intent.confirm else Verb.decline
    await _answer_request(conv, admin, AnswerRequest(verb, request.id), heading=heading + "\n")


async def _other_requests(conv: Conversation, admin: Admin, request: Meeting) -> int:
    query = select(func.count()).where(
        Meeting.admin_id == admin.id,
        Meeting.status == MeetingStatus.requested,
        Meeting.id != request.id,
    )
    return int((await conv.session.exec(query)).one())


async def _meant(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    """A «Menade du …?» button: the reading it stands for, carried out."""
    request = await _newest_request(conv, admin) if conv.step in _AT_REST else None
    context = Context(Speaker.admin, step_of(conv.step), pending_request=request is not None)
    reading = clarify.meant(offer, context, locale=conv.locale, now=conv.now)
    await _act(conv, admin, reading, request)


async def _to_settings(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    """/tider's own buttons: it reads the offer itself."""
    await admin_settings_flow.handle(conv, admin)


async def _reply_offered(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    """«Ja, skicka» under a typed answer."""
    await _send_reply(conv, admin, offer.get("message"), str(offer.get("text", "")))


_Pressed = Callable[[Conversation, Admin, dict[str, Any]], Awaitable[None]]
# What each offered button does, whichever of the admin's flows offered it.
_OFFERS: dict[str, _Pressed] = {
    **admin_custody_flow.OFFERS,
    **admin_outcome_flow.OFFERS,
    **{action: _to_settings for action in SettingsOffer},
    AdminOffer.propose: _propose,
    AdminOffer.cards_confirm: _cards_confirmed,
    AdminOffer.relay_reply: _reply_offered,
    clarify.MEANT: _meant,
}


async def _press(conv: Conversation, admin: Admin, action: Action | None) -> None:
    if isinstance(action, AnswerRequest):
        await _answer_request(conv, admin, action)
    elif isinstance(action, AnswerMessage):
        await _ask_reply(conv, admin, action.message_id)
    elif isinstance(action, (Command, AddWindowOn)):
        await _run(conv, admin, action)
    elif (offer := conv.offered(action)) is not None and offer["action"] in _OFFERS:
        await _OFFERS[offer["action"]](conv, admin, offer)
    else:
        _menu(conv, conv._("That button is no longer valid. Here are your choices now:"))


async def _refused(conv: Conversation, admin: Admin, refusal: DomainError) -> None:
    """A refused action (all it wrote is undone): why, and the menu."""
    clarify.reset(conv)  # it was understood
    _menu(conv, refusal.translated(conv.locale))


async def handle(conv: Conversation, admin: Admin, *, command: Command | None = None) -> None:
    """One update from a linked admin; refusals become a reply and the menu."""
    incoming = conv.incoming
    if await conv.answer_refusal(admin):
        return
    conv.on_refusal = _refused
    if command is not None:
        await _run(conv, admin, command)
    elif incoming.button is not None:
        clarify.reset(conv)
        await _press(conv, admin, incoming.action)
    elif incoming.text:
        await _text(conv, admin, incoming.text)
    else:
        _menu(conv, conv._("I can only read text and button presses. Choose below:"))


async def _ask_reply(conv: Conversation, admin: Admin, message_id: int) -> None:
    """«Svara» under a card user's message: ask for the one answer (only to one's own)."""
    assert admin.id is not None
    relayed = await relay.answerable(conv.session, message_id=message_id, admin_id=admin.id)
    user = await conv.session.get(CardUser, relayed.card_user_id)
    assert user is not None
    conv.go(AdminStep.reply, message=relayed.id)
    conv.say(
        conv._("Write your answer to {name}. It is passed on as you write it, once.").format(
            name=user.given_name
        ),
        [conv.command(conv._("Menu"), Name.menu)],
    )


async def _reply(conv: Conversation, admin: Admin, text: str) -> None:
    """The typed answer to the message «Svara» was pressed for, back to the card user."""
    await _send_reply(conv, admin, conv.get("message"), text)


async def _offer_reply(conv: Conversation, admin: Admin, text: str) -> bool:
    """Text that means nothing else, typed soon after a card user's message came: ask whether
    it is the answer (never sent without a yes). False when no message waits."""
    assert admin.id is not None
    relayed = await relay.recent_unanswered(conv.session, admin_id=admin.id, now=conv.now)
    if relayed is None:
        return False
    user = await conv.session.get(CardUser, relayed.card_user_id)
    card = await conv.session.get(Card, relayed.card_id)
    assert user is not None and card is not None
    words = text.strip()[: relay.MAX_LENGTH]
    conv.go(AdminStep.confirm_reply)
    conv.say(
        conv._('Send this as your answer to {who}: "{text}"?').format(
            who=f"{user.given_name} {user.family_name} ({card.order_ref})", text=words
        ),
        [
            conv.offer(
                conv._("Yes, send it"), AdminOffer.relay_reply, message=relayed.id, text=words
            ),
            conv.command(conv._("No"), Name.menu),
        ],
    )
    return True


async def _send_reply(conv: Conversation, admin: Admin, message_id: object, text: str) -> None:
    """The admin's one answer to a card user's message, back to them through the outbox."""
    assert admin.id is not None
    if not isinstance(message_id, int) or not text.strip():
        _menu(conv)
        return
    relayed = await relay.answer(
        conv.session, message_id=message_id, admin_id=admin.id, text=text.strip(), now=conv.now
    )
    user = await conv.session.get(CardUser, relayed.card_user_id)
    assert user is not None
    _menu(conv, conv._("Sent to {name}.").format(name=user.given_name))
