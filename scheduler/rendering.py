"""What a due outbox row says when it is sent: the text, the chat's buttons and the e-mail's
calendar invitation, in the recipient's language. Rendering reads the database again at send
time, so a moved or cancelled meeting gets no stale message (`Stale`); which rows exist is decided
by `scheduler.notifications`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardStatus, CardUser
from models.i18n import N_, translate
from models.meetings import FailureReason, Meeting, MeetingStatus, agenda
from models.network import Admin, Office
from models.outbox import Channel, Notification
from models.relay import RelayedMessage
from models.zone import STOCKHOLM, local_midnight
from scheduler.actions import AnswerMessage, AnswerRequest, BookProposal, Command, Name, Verb
from scheduler.channels.base import CalendarAttachment, OutgoingMessage
from scheduler.channels.ics import meeting_calendar
from scheduler.handover import cards_held
from scheduler.notifications import Template, meeting_people, proposal_of
from scheduler.slots import Slot
from scheduler.wording import (
    attendance,
    format_slot_time,
    place_of_meeting,
    place_of_slot,
    released_sentence,
    what_to_bring,
    what_to_bring_briefly,
)


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """What rendering needs from outside: the bot's name for links, the public web address."""

    bot_username: str | None = None
    public_base_url: str | None = None
    organizer_email: str = "kortkontor@localhost"


SUBJECTS = {
    Template.card_arrived: N_("Your SITHS card has arrived"),
    Template.booking_confirmed: N_("Your time to pick up your SITHS card"),
    Template.booking_cancelled: N_("Cancelled: your time to pick up your SITHS card"),
    Template.reminder_24h: N_("Reminder: your SITHS card tomorrow"),
    Template.reminder_2h: N_("Reminder: your SITHS card today"),
    Template.nudge: N_("Your SITHS card is waiting for you"),
    Template.handed_out: N_("Your SITHS card has been handed out"),
    Template.not_handed_out: N_("Your SITHS card could not be handed out"),
    Template.booking_declined: N_("Choose another time for your SITHS card"),
    Template.booking_expired: N_("Choose another time for your SITHS card"),
    Template.time_proposed: N_("Another time for your SITHS card"),
    Template.admin_request: N_("New booking request"),
    Template.admin_request_reminder: N_("A booking request is waiting for you"),
    Template.admin_cancelled: N_("A meeting was cancelled"),
    Template.admin_handed_over: N_("A colleague's meeting is now yours"),
    Template.admin_notice_ended: N_("Your notice period has ended"),
    Template.admin_agenda: N_("Your meetings today"),
    Template.admin_message: N_("A message from a card user"),
    Template.relay_answer: N_("An answer from the ID administrator"),
}
FAILURE_TEXTS = {
    FailureReason.no_valid_id: N_("no valid ID document was shown"),
    FailureReason.wrong_person: N_("the card belongs to someone else"),
    FailureReason.no_pin_letter: N_("the PIN letter was missing"),
    FailureReason.no_show: N_("nobody came to the meeting"),
    FailureReason.other: N_("something else was wrong"),
}
# The buttons under the day-before reminder in the chat, top to bottom; by SMS the same three
# answers are words (SMS_ANSWERS). The labels are the chat menu's own.
REMINDER_ANSWERS = (
    (N_("I am coming"), Name.attend),
    (N_("Change time"), Name.move),
    (N_("Cancel booking"), Name.cancel),
)
# An SMS that asks for an answer by SMS, and what it asks; the answer is read by the chat.
SMS_ANSWERS = {
    Template.card_arrived: N_("Reply with when you can come, e.g. tuesday afternoon."),
    Template.nudge: N_("Reply with when you can come, e.g. tuesday afternoon."),
    Template.reminder_24h: N_("Reply YES if you are coming, CHANGE for a new time or CANCEL."),
}
# The buttons under a booking request, top to bottom.
REQUEST_ANSWERS = (
    (N_("Confirm"), Verb.confirm),
    (N_("Propose another time"), Verb.propose),
    (N_("Decline"), Verb.decline),
)


async def preload(session: AsyncSession, rows: Sequence[Notification]) -> list[object]:
    """Load the meetings, cards, card users and offices a batch of rows is rendered from, a
    query per table rather than several per row: on SQLite each query is a hop to the driver's
    thread, and on a busy machine those hops made a batch of 200 take a minute. The session's
    identity map holds objects only while they are referenced: keep the list for the batch."""
    meeting_ids = {row.meeting_id for row in rows if row.meeting_id is not None}
    card_ids = {row.card_id for row in rows if row.card_id is not None}
    meetings = await _by_ids(session, Meeting, meeting_ids)
    cards = await _by_ids(session, Card, card_ids | {m.card_id for m in meetings})
    users = await _by_ids(session, CardUser, {card.card_user_id for card in cards})
    offices = await _by_ids(session, Office, {card.office_id for card in cards})
    return [*meetings, *cards, *users, *offices]


_Row = TypeVar("_Row", Meeting, Card, CardUser, Office)


async def _by_ids(session: AsyncSession, table: type[_Row], ids: set[int]) -> list[_Row]:
    if not ids:
        return []
    return list((await session.exec(select(table).where(col(table.id).in_(ids)))).all())


class Stale(Exception):
    """The notification no longer applies (the meeting moved, the card was picked up …)."""


async def render(
    session: AsyncSession, row: Notification, settings: RenderSettings, *, now: datetime
) -> OutgoingMessage:
    """The message for a due row, checked against the database; Stale if it no longer applies."""
    template = Template(row.template)
    meeting = await session.get(Meeting, row.meeting_id) if row.meeting_id else None
    card = await session.get(Card, row.card_id) if row.card_id else None
    _check_fresh(template, row, meeting, card)
    if template == Template.chat_reply:
        return OutgoingMessage(
            recipient=row.recipient,
            text=str(row.payload.get("text", "")),
            status_callback_url=_status_callback(settings, row),
        )
    if template in (Template.admin_message, Template.relay_answer):
        return await _render_relayed(session, row, template, settings)
    if template.startswith("admin_"):
        return await _render_for_admin(session, row, template, meeting, settings, now=now)
    assert card is not None
    user = await session.get(CardUser, card.card_user_id)
    assert user is not None
    locale = user.locale
    stands = await _still_standing(session, meeting, now=now)
    body = await _user_body(session, row, template, card, meeting, stands, user, settings)
    calendar = None
    if (
        template in (Template.booking_confirmed, Template.booking_cancelled)
        and meeting
        and (row.channel == Channel.email)
    ):
        calendar = await _calendar(session, meeting, user, template, settings, now=now)
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    # After a declined or expired move the confirmed time stands: the user may move it again.
    again, command = (
        (N_("Change time"), Command(Name.move).encode())
        if stands
        else (N_("Book"), Command(Name.book).encode())
    )
    if template == Template.time_proposed and meeting is not None:
        assert meeting.id is not None
        proposed = _proposal(meeting)
        label = translate(N_("Book {when}"), locale).format(
            when=format_slot_time(proposed.starts_at, locale)
        )
        buttons = (
            ((label, BookProposal(meeting.id).encode()),),
            ((translate(N_("Other times"), locale), command),),
        )
    elif template in (Template.booking_declined, Template.booking_expired):
        buttons = (((translate(again, locale), command),),)
    elif template in (
        Template.card_arrived,
        Template.nudge,
        Template.not_handed_out,
        Template.booking_cancelled,
    ) and not _card_gone(row):
        buttons = (((translate(N_("Book"), locale), Command(Name.book).encode()),),)
    elif template == Template.reminder_24h:
        buttons = tuple(
            ((translate(label, locale), Command(name).encode()),)
            for label, name in REMINDER_ANSWERS
        )
    return OutgoingMessage(
        recipient=row.recipient,
        text=body,
        subject=translate(SUBJECTS[template], locale),
        calendar=calendar,
        buttons=buttons if row.channel == Channel.telegram else (),
        status_callback_url=_status_callback(settings, row),
    )


def _status_callback(settings: RenderSettings, row: Notification) -> str | None:
    if row.channel != Channel.sms or not settings.public_base_url:
        return None
    return settings.public_base_url.rstrip("/") + "/twilio/status"


MEETING_MUST_BE = {
    Template.reminder_24h: MeetingStatus.confirmed,
    Template.reminder_2h: MeetingStatus.confirmed,
    Template.booking_confirmed: MeetingStatus.confirmed,
    Template.admin_request: MeetingStatus.requested,
    Template.admin_request_reminder: MeetingStatus.requested,
}
CARD_MUST_BE_WAITING = (Template.card_arrived, Template.nudge)


def _check_fresh(
    template: Template, row: Notification, meeting: Meeting | None, card: Card | None
) -> None:
    """Raise Stale when the world has moved on since the row was written."""
    wanted = MEETING_MUST_BE.get(template)
    if wanted is not None and (meeting is None or meeting.status != wanted):
        raise Stale(f"meeting is {meeting.status if meeting else 'gone'}")
    starts_at = row.payload.get("starts_at")
    if meeting is not None and starts_at and meeting.starts_at.isoformat() != starts_at:
        raise Stale("meeting moved")
    waiting = card is not None and card.status == CardStatus.in_custody
    if template in CARD_MUST_BE_WAITING and not waiting:
        raise Stale("card is not waiting at the office")


def _link(settings: RenderSettings, row: Notification) -> str | None:
    token = row.payload.get("token")
    if not token or not settings.bot_username:
        return None
    return f"https://t.me/{settings.bot_username}?start={token}"


async def _user_body(
    session: AsyncSession,
    row: Notification,
    template: Template,
    card: Card,
    meeting: Meeting | None,
    stands: Meeting | None,
    user: CardUser,
    settings: RenderSettings,
) -> str:
    """The words a card user reads; every one says what to bring. `stands` is the confirmed
    time a declined or expired move leaves in place."""
    locale = user.locale
    office = await session.get(Office, card.office_id)
    assert office is not None
    if row.channel == Channel.sms and template in SMS_ANSWERS:
        return await _sms_asking(session, row, template, office, meeting, user, settings)
    parts = [translate(N_("Hello {name}!"), locale).format(name=user.given_name)]
    if meeting is not None and template != Template.handed_out:
        when = format_slot_time(meeting.starts_at, locale)
        sentence = MEETING_SENTENCES[template]
        if stands is not None:
            sentence = MOVE_SENTENCES.get(template, sentence)
        if template == Template.booking_cancelled and row.payload.get("reason") == "notice_ended":
            sentence = NOTICE_ENDED
        parts.append(translate(sentence, locale).format(when=when))
        if template == Template.time_proposed:
            parts.append((await place_of_slot(session, _proposal(meeting))).lines(locale))
        elif template in SHOWS_THE_PLACE:
            parts.append((await place_of_meeting(session, meeting)).lines(locale))
        if template == Template.not_handed_out:
            reason = FAILURE_TEXTS.get(FailureReason(row.payload.get("reason") or "other"))
            parts.append(
                translate(N_("The card could not be handed out because {reason}."), locale).format(
                    reason=translate(reason or FAILURE_TEXTS[FailureReason.other], locale)
                )
            )
        if stands is not None and template in MOVE_SENTENCES:
            parts.append(
                translate(N_("Your time {when} still stands."), locale).format(
                    when=format_slot_time(stands.starts_at, locale)
                )
            )
        released = await _released_by(session, meeting)
        if template == Template.booking_confirmed and released is not None:
            parts.append(released_sentence(released, locale))
    else:
        parts.append(_card_sentence(template, office, locale))
    gone = _card_gone(row)
    if gone is not None:
        parts.append(translate(CARD_GONE[gone][0], locale))
    elif template != Template.handed_out:
        parts.append(what_to_bring(locale))
    link = _link(settings, row)
    if link and row.channel != Channel.telegram:
        parts.append(translate(N_("Book your time in the chat: {link}"), locale).format(link=link))
    if row.channel == Channel.email:
        # What the SMS chat asks for when several card users share one phone number.
        parts.append(
            translate(N_("Order reference of your card: {order_ref}"), locale).format(
                order_ref=card.order_ref
            )
        )
    return "\n\n".join(parts)


async def _sms_asking(
    session: AsyncSession,
    row: Notification,
    template: Template,
    office: Office,
    meeting: Meeting | None,
    user: CardUser,
    settings: RenderSettings,
) -> str:
    """An SMS that asks for an answer by SMS, a line for each thing, so that it fits in two
    segments where the names allow: the news, the place and host, what to bring, what to
    answer, and the link to the Telegram chat for those who have it."""
    locale = user.locale
    lines = [translate(N_("Hello {name}!"), locale).format(name=user.given_name)]
    if meeting is not None:
        when = format_slot_time(meeting.starts_at, locale)
        lines.append(translate(MEETING_SENTENCES[template], locale).format(when=when))
        lines += (await place_of_meeting(session, meeting)).where_and_who(locale)
    else:
        lines.append(_card_sentence(template, office, locale))
    lines += [what_to_bring_briefly(locale), translate(SMS_ANSWERS[template], locale)]
    link = _link(settings, row)
    if link:
        lines.append(translate(N_("Or book in Telegram: {link}"), locale).format(link=link))
    return "\n".join(lines)


async def _still_standing(
    session: AsyncSession, meeting: Meeting | None, *, now: datetime
) -> Meeting | None:
    """The confirmed time a move (declined, expired or waiting) leaves in place, while it is
    still ahead."""
    if meeting is None or meeting.replaces_meeting_id is None:
        return None
    if meeting.status not in (
        MeetingStatus.requested,
        MeetingStatus.declined,
        MeetingStatus.expired,
    ):
        return None
    old = await session.get(Meeting, meeting.replaces_meeting_id)
    if old is None or old.status != MeetingStatus.confirmed or old.starts_at <= now:
        return None
    return old


async def _released_by(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The earlier time a confirmed move released."""
    if meeting.status != MeetingStatus.confirmed or meeting.replaces_meeting_id is None:
        return None
    old = await session.get(Meeting, meeting.replaces_meeting_id)
    return old if old is not None and old.status == MeetingStatus.cancelled else None


def _proposal(meeting: Meeting) -> Slot:
    proposal = proposal_of(meeting)
    if proposal is None:
        raise Stale("no proposed time")
    return proposal


SHOWS_THE_PLACE = (Template.booking_confirmed, Template.reminder_24h, Template.reminder_2h)


def _card_sentence(template: Template, office: Office, locale: str) -> str:
    if template == Template.handed_out:
        return translate(N_("Your SITHS card has been handed out. Thank you!"), locale)
    if template == Template.nudge:
        return translate(
            N_("Your SITHS card is still waiting for you at {office}. Book a time to pick it up."),
            locale,
        ).format(office=office.name)
    return translate(
        N_("Your SITHS card has arrived at {office} ({city}). Book a time to pick it up."), locale
    ).format(office=office.name, city=office.city)


MEETING_SENTENCES = {
    Template.booking_confirmed: N_("Your time is confirmed: {when}."),
    Template.reminder_24h: N_("A reminder: you pick up your SITHS card tomorrow, {when}."),
    Template.reminder_2h: N_("A reminder: you pick up your SITHS card today, {when}."),
    Template.booking_declined: N_(
        "The ID administrator cannot meet you {when}. Please choose another time."
    ),
    Template.booking_expired: N_(
        "Your request for {when} was not confirmed in time. Please choose another time."
    ),
    Template.booking_cancelled: N_("Your time {when} is cancelled."),
    Template.time_proposed: N_("The ID administrator cannot meet you {when}, but proposes:"),
    Template.not_handed_out: N_("Your SITHS card could not be handed out at the meeting {when}."),
}


NOTICE_ENDED = N_(
    "Your time {when} is cancelled: your ID administrator has stopped, and no colleague was "
    "free then. Please book a new time."
)


# A move of a confirmed time that was declined or expired (the confirmed time stands).
MOVE_SENTENCES = {
    Template.booking_declined: N_("The ID administrator cannot meet you {when}."),
    Template.booking_expired: N_("Your request to move to {when} was not confirmed in time."),
    Template.time_proposed: MEETING_SENTENCES[Template.time_proposed],
}


async def _calendar(
    session: AsyncSession,
    meeting: Meeting,
    user: CardUser,
    template: Template,
    settings: RenderSettings,
    *,
    now: datetime,
) -> CalendarAttachment:
    """The .ics: REQUEST for a confirmation, CANCEL with the same UID for a cancellation."""
    place = await place_of_meeting(session, meeting)
    method = "CANCEL" if template == Template.booking_cancelled else "REQUEST"
    # A home delivery's address is personal data: never in a mail or its calendar file.
    location = place.venue.address if place.venue else place.place(user.locale)
    summary = translate(N_("Pick up your SITHS card"), user.locale)
    content = meeting_calendar(
        uid=f"meeting-{meeting.id}@kortkontor",
        method=method,
        sequence=1 if method == "CANCEL" else 0,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        summary=summary,
        description=what_to_bring(user.locale),
        location=location,
        organizer_email=settings.organizer_email,
        attendee_email=user.email,
        stamp=now,
    )
    return CalendarAttachment(content=content, method=method)


async def _render_for_admin(
    session: AsyncSession,
    row: Notification,
    template: Template,
    meeting: Meeting | None,
    settings: RenderSettings,
    *,
    now: datetime,
) -> OutgoingMessage:
    admin = await _admin_of(session, row, meeting)
    locale = admin.locale
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    if template == Template.admin_agenda:
        text = await _agenda_text(session, admin, row, locale)
    elif template == Template.admin_notice_ended:
        text = await _notice_ended_text(session, admin, locale)
    else:
        assert meeting is not None
        card, user, _ = await meeting_people(session, meeting)
        when = format_slot_time(meeting.starts_at, locale)
        who = f"{user.given_name} {user.family_name} ({card.order_ref})"
        sentence = _admin_sentence(template, row)
        old = await _still_standing(session, meeting, now=now)
        if old is not None:
            sentence = ADMIN_MOVE_SENTENCES.get(template, sentence)
        elif template == Template.admin_cancelled and row.payload.get("moved"):
            sentence = ADMIN_MOVED
        text = translate(sentence, locale).format(
            who=who, when=when, old=format_slot_time(old.starts_at, locale) if old else ""
        )
        if template in (Template.admin_request, Template.admin_request_reminder):
            assert meeting.id is not None
            buttons = tuple(
                ((translate(label, locale), AnswerRequest(verb, meeting.id).encode()),)
                for label, verb in REQUEST_ANSWERS
            )
    return OutgoingMessage(
        recipient=row.recipient,
        text=text,
        subject=translate(SUBJECTS[template], locale),
        buttons=buttons if row.channel == Channel.telegram else (),
    )


ADMIN_SENTENCES = {
    Template.admin_request: N_("{who} asks to pick up their card {when}."),
    Template.admin_request_reminder: N_(
        "{who} is still waiting for an answer about {when}. Unanswered requests expire after "
        "24 hours."
    ),
    Template.admin_cancelled: N_("{who} has cancelled the meeting {when}."),
    Template.admin_handed_over: N_(
        "The meeting with {who} {when} is now yours: your colleague's notice period has ended."
    ),
}
# A request to move a confirmed meeting ({old}), which stands until the admin confirms.
ADMIN_MOVE_SENTENCES = {
    Template.admin_request: N_("{who} asks to move their meeting {old} to {when}."),
    Template.admin_request_reminder: N_(
        "{who} is still waiting for an answer about moving {old} to {when}. Unanswered "
        "requests expire after 24 hours, and then {old} stands."
    ),
}
ADMIN_MOVED = N_("{who} has moved the meeting {when} to another time.")


# A meeting cancelled because its card's status changed: what the card user and the admin read.
CARD_GONE = {
    CardStatus.returned: (
        N_(
            "Your SITHS card has gone back to the issuer. Contact the one who ordered it for a "
            "new card."
        ),
        N_("The meeting with {who} {when} is cancelled: the card is to go back to the issuer."),
    ),
    CardStatus.revoked: (
        N_("Your SITHS card has been revoked. Contact the one who ordered it for a new card."),
        N_(
            "The meeting with {who} {when} is cancelled: the card is revoked (lost or stolen) and "
            "must not be handed out."
        ),
    ),
}
CANCELLED_BY_ISSUER = N_(
    "The meeting with {who} {when} is cancelled by the issuer; the card stays in your keeping."
)


def _card_gone(row: Notification) -> CardStatus | None:
    """The status that took the card away from the office, when that cancelled the meeting."""
    raw = row.payload.get("card_status")
    return CardStatus(raw) if raw in CARD_GONE else None


def _admin_sentence(template: Template, row: Notification) -> str:
    if template == Template.admin_cancelled and "card_status" in row.payload:
        gone = _card_gone(row)
        return CARD_GONE[gone][1] if gone is not None else CANCELLED_BY_ISSUER
    return ADMIN_SENTENCES[template]


async def _admin_of(session: AsyncSession, row: Notification, meeting: Meeting | None) -> Admin:
    admin_id = meeting.admin_id if meeting is not None else int(row.payload["admin_id"])
    admin = await session.get(Admin, admin_id)
    assert admin is not None
    return admin


async def _notice_ended_text(session: AsyncSession, admin: Admin, locale: str) -> str:
    """The end of the notice month: no more bookings, and the cards still kept (as now)."""
    assert admin.id is not None
    lines = [
        translate(
            N_(
                "Your notice period has ended: card users can no longer book you. Your later "
                "meetings have gone to a colleague or been cancelled."
            ),
            locale,
        )
    ]
    held = await cards_held(session, admin_id=admin.id)
    if held:
        lines.append(
            translate(
                N_(
                    "Cards still in your keeping; hand each to a colleague or send it back to the "
                    "issuer under /kort:"
                ),
                locale,
            )
        )
        lines += [f"• {row.label}" for row in held]
    return "\n".join(lines)


async def _agenda_text(session: AsyncSession, admin: Admin, row: Notification, locale: str) -> str:
    day = datetime.fromisoformat(row.payload["day"]).date()
    assert admin.id is not None
    rows = await agenda(
        session,
        admin_id=admin.id,
        start=local_midnight(day),
        end=local_midnight(day + timedelta(days=1)),
        statuses=(MeetingStatus.confirmed,),
    )
    lines = [
        translate(N_("Good morning {name}! Your meetings today:"), locale).format(
            name=admin.first_name
        )
    ]
    for meeting, card, user in rows:
        place = await place_of_meeting(session, meeting)
        venue = place.venue.name if place.venue else translate(N_("home delivery"), locale)
        clock = meeting.starts_at.astimezone(STOCKHOLM).strftime("%H:%M")
        who = f"{user.given_name} {user.family_name} ({card.order_ref})"
        lines.append(" – ".join((clock, venue, who, attendance(meeting, locale))))
    return "\n".join(lines)


# The button under a relayed message (its data: scheduler.actions.AnswerMessage).
REPLY_LABEL = N_("Reply")


async def _render_relayed(
    session: AsyncSession, row: Notification, template: Template, settings: RenderSettings
) -> OutgoingMessage:
    """A card user's words to their admin, or the admin's answer back: the meeting it is
    about, and the sender named by name only (never a number or a chat account)."""
    words = row.payload.get("text")
    relayed = await session.get(RelayedMessage, row.payload.get("relay_id"))
    if not words or relayed is None:
        raise Stale("the words are gone")
    meeting = await session.get(Meeting, relayed.meeting_id)
    admin = await session.get(Admin, relayed.admin_id)
    assert meeting is not None and admin is not None
    card, user, _ = await meeting_people(session, meeting)
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    if template == Template.admin_message:
        locale = admin.locale
        place = await place_of_meeting(session, meeting)
        venue = place.venue.name if place.venue else translate(N_("home delivery"), locale)
        parts = [
            translate(N_("A message from {who} about the meeting {when}, {place}:"), locale).format(
                who=f"{user.given_name} {user.family_name} ({card.order_ref})",
                when=format_slot_time(meeting.starts_at, locale),
                place=venue,
            ),
            f'"{words}"',
        ]
        if row.channel == Channel.telegram:
            parts.append(
                translate(N_("You can answer it once, with «{button}»."), locale).format(
                    button=translate(REPLY_LABEL, locale)
                )
            )
            assert relayed.id is not None
            buttons = (((translate(REPLY_LABEL, locale), AnswerMessage(relayed.id).encode()),),)
        else:
            parts.append(
                translate(
                    N_(
                        "An answer to this e-mail does not reach the card user; answers go "
                        "through the Kortkontor chat."
                    ),
                    locale,
                )
            )
    else:
        locale = user.locale
        parts = [
            translate(N_("Hello {name}!"), locale).format(name=user.given_name),
            translate(
                N_("{admin}, the ID administrator, answers your message about the meeting {when}:"),
                locale,
            ).format(admin=admin.first_name, when=format_slot_time(meeting.starts_at, locale)),
            f'"{words}"',
            what_to_bring(locale),
        ]
    return OutgoingMessage(
        recipient=row.recipient,
        text="\n\n".join(parts),
        subject=translate(SUBJECTS[template], locale),
        buttons=buttons,
        status_callback_url=_status_callback(settings, row),
    )
