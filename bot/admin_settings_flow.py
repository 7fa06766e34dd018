"""The admin's /tider: weekly windows, venues, absences, home delivery, auto-confirm and their
own notice of termination, from the phone.

Routing contract with the admin flow: every step stored here starts with "tider", every command
button is one of `COMMANDS` or an `AddWindowOn`, and every offered button's action starts with
"tider:". Text in a "tider" step, those commands and those offers come to `handle`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from babel.dates import get_day_names

from bot import clarify
from bot.dialogue import Button, Conversation
from bot.understanding import Context, Intent, Speaker, Step, understand
from bot.wish_parser import parse_wish
from models.errors import DomainError
from models.i18n import N_, translate
from models.meetings import Meeting, MeetingStatus
from models.network import Absence, Admin, AvailabilityWindow, Office, Venue, VenueKind
from models.validation import hidden_character, parse_clock
from models.zone import STOCKHOLM
from scheduler import office_settings
from scheduler.actions import Action, AddWindowOn, Command, Name
from scheduler.office_settings import AdminAvailability, ClashesWithMeetings
from scheduler.wishes import TimeWish
from scheduler.wording import format_day, format_slot_time

ADD_LABEL = N_("Add time")
REMOVE_LABEL = N_("Remove time")
VENUES_LABEL = N_("Venues")
ABSENCE_LABEL = N_("Absence")
HOME_DELIVERY_LABEL = N_("Home delivery on/off")
AUTO_CONFIRM_LABEL = N_("Auto-confirm on/off")
NOTICE_LABEL = N_("Give notice")
MENU_LABEL = N_("Menu")
BACK_LABEL = N_("Back")
NEW_VENUE_LABEL = N_("New venue")
SAVE_LABEL = N_("Save")
WRITE_AGAIN_LABEL = N_("Write again")
CONFIRM_NOTICE_LABEL = N_("Yes, give notice")
KEEP_OFFICE_LABEL = N_("No, go back")


class SettingsStep(StrEnum):
    """Where the admin chat stands in /tider; every value starts with «tider»."""

    overview = "tider"
    weekday = "tider:weekday"  # which weekday a new time is on
    hours = "tider:hours"  # its hours, typed
    venue = "tider:venue"  # its venue
    remove = "tider:remove"  # which time to remove
    venues = "tider:venues"  # the office's venues
    venue_name = "tider:venue:name"  # a new venue's name, typed
    venue_address = "tider:venue:address"  # its address, typed
    venue_kind = "tider:venue:kind"  # its kind
    absence = "tider:absence"  # the days away, typed
    absence_confirm = "tider:absence:confirm"  # «Borta …?» before it is saved
    notice = "tider:notice"  # «Vill du säga upp …?»


class SettingsOffer(StrEnum):
    """The /tider buttons for one object, kept with the chat's offers; every value starts with
    «tider:»."""

    window_add = "tider:window:add"
    window_remove = "tider:window:remove"
    venue_add = "tider:venue:add"
    venue_remove = "tider:venue:remove"
    absence_add = "tider:absence:add"
    absence_remove = "tider:absence:remove"
    home_delivery = "tider:home_delivery"
    auto_confirm = "tider:auto_confirm"
    notice = "tider:notice"


def step_of(step: str) -> SettingsStep | None:
    """The /tider step the chat stands at, or None when it is elsewhere."""
    try:
        return SettingsStep(step)
    except ValueError:
        return None


# Typed words that run the same command as the button with that label.
WORDS = {
    ADD_LABEL: Name.tider_add,
    REMOVE_LABEL: Name.tider_remove,
    VENUES_LABEL: Name.tider_venues,
    ABSENCE_LABEL: Name.tider_absence,
    NOTICE_LABEL: Name.tider_notice,
    NEW_VENUE_LABEL: Name.tider_venue_new,
    BACK_LABEL: Name.tider,
    WRITE_AGAIN_LABEL: Name.tider_absence,
}
WEEKDAY_LABELS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
KIND_LABELS = {
    VenueKind.cafe: N_("Café"),
    VenueKind.hotel_lobby: N_("Hotel lobby"),
    VenueKind.workplace: N_("Workplace"),
    VenueKind.other: N_("Other"),
}
# «16:00–19:00», «16-19», «16.00 – 19.00», «kl 16 till 19», «1600-1900».
_CLOCK = r"(?:kl\.?\s*)?(\d{1,2})(?:[:.]?(\d{2}))?"
_HOURS = re.compile(rf"^\s*(?:mellan\s+)?{_CLOCK}\s*(?:-|–|—|till|och)\s*{_CLOCK}\s*$", re.I)
MAX_NAME = 200
MAX_ADDRESS = 300


# ---------------------------------------------------------------- wording


def _weekday_name(conv: Conversation, weekday: int) -> str:
    return str(get_day_names("wide", locale=conv.locale)[weekday])


def _hours(window: AvailabilityWindow | tuple[time, time]) -> str:
    start, end = (window.start, window.end) if isinstance(window, AvailabilityWindow) else window
    return f"{start:%H:%M}–{end:%H:%M}"


def _day(conv: Conversation, day: date) -> str:
    return format_day(day, conv.locale, year=True)


def _days(conv: Conversation, first: date, last: date) -> str:
    if first == last:
        return _day(conv, first)
    return f"{_day(conv, first)} – {_day(conv, last)}"


def _on_off(conv: Conversation, enabled: bool) -> str:
    return conv._("on") if enabled else conv._("off")


def _kind(conv: Conversation, kind: str) -> str:
    return conv._(KIND_LABELS.get(VenueKind(kind), KIND_LABELS[VenueKind.other])).lower()


def _today(conv: Conversation) -> date:
    return conv.now.astimezone(STOCKHOLM).date()


def _overview(conv: Conversation, view: AdminAvailability) -> str:
    """The admin's windows, venues, absences, settings and notice, as one message."""
    lines = [conv._("Your times at {office}:").format(office=view.office.name)]
    lines += [
        f"• {_weekday_name(conv, w.window.weekday)} {_hours(w.window)}, {w.venue.name}"
        for w in view.windows
    ] or [conv._("No weekly times yet.")]
    workdays = {w.window.weekday for w in view.windows} & office_settings.WORKDAYS
    if len(workdays) < office_settings.MIN_WORKDAYS:
        lines.append(
            conv._(
                "Note: an ID administrator must be available at least two weekdays "
                "(Monday–Friday) every week."
            )
        )
    lines += ["", conv._("Venues:")]
    lines += [f"• {v.name}, {v.address} ({_kind(conv, v.kind)})" for v in view.venues] or [
        conv._("No venues yet.")
    ]
    absences = [a for a in view.absences if a.last_day >= _today(conv)]
    lines += ["", conv._("Absence:")]
    lines += [f"• {_days(conv, a.first_day, a.last_day)}" for a in absences] or [
        conv._("No absence planned.")
    ]
    lines += [
        "",
        conv._("Home delivery: {state}").format(state=_on_off(conv, view.admin.home_delivery)),
        conv._("Auto-confirm: {state}").format(state=_on_off(conv, view.admin.auto_confirm)),
    ]
    ends_on = view.notice_ends_on
    if ends_on is not None:
        lines += ["", _notice_text(conv, ends_on)]
    return "\n".join(lines)


def _notice_text(conv: Conversation, ends_on: date) -> str:
    return conv._(
        "You have given notice; your notice period ends on {date}. Until then you hand out "
        "as usual; after it card users can no longer book you."
    ).format(date=_day(conv, ends_on))


async def _summary(conv: Conversation, admin: Admin, text: str | None = None) -> None:
    """The /tider overview with its buttons; `text` goes first."""
    assert admin.id is not None
    view = await office_settings.availability_of(conv.session, admin_id=admin.id)
    conv.go(SettingsStep.overview)
    overview = _overview(conv, view)
    rows: list[list[Button]] = [
        [
            conv.command(conv._(ADD_LABEL), Name.tider_add),
            conv.command(conv._(REMOVE_LABEL), Name.tider_remove),
        ],
        [
            conv.command(conv._(VENUES_LABEL), Name.tider_venues),
            conv.command(conv._(ABSENCE_LABEL), Name.tider_absence),
        ],
        [
            conv.offer(
                conv._(HOME_DELIVERY_LABEL),
                SettingsOffer.home_delivery,
                enabled=not view.admin.home_delivery,
            ),
            conv.offer(
                conv._(AUTO_CONFIRM_LABEL),
                SettingsOffer.auto_confirm,
                enabled=not view.admin.auto_confirm,
            ),
        ],
    ]
    last_row = [conv.command(conv._(MENU_LABEL), Name.menu)]
    if view.notice_ends_on is None:
        last_row.insert(0, conv.command(conv._(NOTICE_LABEL), Name.tider_notice))
    conv.say("\n\n".join(filter(None, (text, overview))), *rows, last_row)


def _back(conv: Conversation) -> list[Button]:
    return [conv.command(conv._(BACK_LABEL), Name.tider)]


async def _stale(conv: Conversation, admin: Admin) -> None:
    await _summary(
        conv, admin, conv._("That button is no longer valid. Here are your times as they are now:")
    )


async def _meeting_lines(conv: Conversation, meetings: tuple[Meeting, ...]) -> str:
    """One line per clashing meeting: when, where, and whether it is confirmed."""
    lines = []
    for meeting in meetings:
        venue = await conv.session.get(Venue, meeting.venue_id) if meeting.venue_id else None
        place = venue.name if venue is not None else conv._("home delivery")
        state = (
            conv._("waiting for your confirmation")
            if meeting.status == MeetingStatus.requested
            else conv._("confirmed")
        )
        when = format_slot_time(meeting.starts_at, conv.locale)
        lines.append(f"• {when} – {place} ({state})")
    return "\n".join(lines)


async def _refused(conv: Conversation, admin: Admin, refusal: DomainError) -> None:
    """A domain refusal in words (with the meetings in the way), then the overview; all the
    update wrote is undone by then."""
    clarify.reset(conv)  # it was understood
    text = refusal.translated(conv.locale)
    if isinstance(refusal, ClashesWithMeetings):
        text += "\n" + await _meeting_lines(conv, refusal.meetings)
    await _summary(conv, admin, text)


# ---------------------------------------------------------------- weekly windows


def _ask_weekday(conv: Conversation) -> None:
    conv.go(SettingsStep.weekday)
    conv.say(
        conv._("Which weekday?"),
        [conv.button(conv._(WEEKDAY_LABELS[d]), AddWindowOn(d)) for d in range(5)],
        [conv.button(conv._(WEEKDAY_LABELS[d]), AddWindowOn(d)) for d in (5, 6)] + _back(conv),
    )


def _ask_hours(conv: Conversation, weekday: int, problem: str | None = None) -> None:
    conv.go(SettingsStep.hours, weekday=weekday)
    question = conv._("Which hours on {weekday}? Write for example «16:00–19:00».").format(
        weekday=_weekday_name(conv, weekday)
    )
    conv.say("\n\n".join(filter(None, (problem, question))), _back(conv))


def parse_hours(text: str) -> tuple[time, time] | None:
    """«16:00–19:00», «16-19» or «16.00–19.00» as (start, end); None if it is not that."""
    match = _HOURS.match(text)
    if match is None:
        return None
    h1, m1, h2, m2 = match.groups()
    try:
        start = parse_clock(f"{int(h1):02d}:{m1 or '00'}", field="start")
        end = parse_clock(f"{int(h2):02d}:{m2 or '00'}", field="end")
    except DomainError:
        return None
    return start, end


async def _hours_given(conv: Conversation, admin: Admin, text: str) -> None:
    weekday = int(conv.get("weekday"))
    hours = parse_hours(text)
    if hours is None:
        _ask_hours(conv, weekday, conv._("I could not read that as a time span."))
        return
    start, end = hours
    if end <= start:
        _ask_hours(conv, weekday, conv._("The end must be after the start."))
        return
    office = await conv.session.get(Office, admin.office_id)
    minutes = (end.hour - start.hour) * 60 + end.minute - start.minute
    if office is not None and minutes < office.slot_minutes:
        # Asked again at once: the next step is a longer span, not the overview.
        problem = conv._(
            "{hours} is shorter than one meeting ({minutes} minutes), so nobody could book it."
        ).format(hours=_hours((start, end)), minutes=office.slot_minutes)
        _ask_hours(conv, weekday, problem)
        return
    await _ask_venue(conv, admin, weekday, start, end)


async def _ask_venue(
    conv: Conversation, admin: Admin, weekday: int, start: time, end: time
) -> None:
    assert admin.id is not None
    view = await office_settings.availability_of(conv.session, admin_id=admin.id)
    if not view.venues:
        conv.go(SettingsStep.overview)
        conv.say(
            conv._("Your office has no venue yet. Add one first, then the time."),
            [conv.command(conv._(NEW_VENUE_LABEL), Name.tider_venue_new), *_back(conv)],
        )
        return
    conv.go(SettingsStep.venue, weekday=weekday, start=f"{start:%H:%M}", end=f"{end:%H:%M}")
    conv.say(
        conv._("Where will you be on {weekday} {hours}?").format(
            weekday=_weekday_name(conv, weekday), hours=_hours((start, end))
        ),
        *[
            [
                conv.offer(
                    venue.name,
                    SettingsOffer.window_add,
                    weekday=weekday,
                    start=f"{start:%H:%M}",
                    end=f"{end:%H:%M}",
                    venue_id=venue.id,
                    venue_name=venue.name,
                )
            ]
            for venue in view.venues
        ],
        _back(conv),
    )


async def _add_window(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    start = parse_clock(str(offer["start"]), field="start")
    end = parse_clock(str(offer["end"]), field="end")
    window = await office_settings.add_window(
        conv.session,
        admin_id=admin.id,
        weekday=int(offer["weekday"]),
        start=start,
        end=end,
        venue_id=int(offer["venue_id"]),
        now=conv.now,
    )
    venue = await conv.session.get(Venue, window.venue_id)
    assert venue is not None
    await _summary(
        conv,
        admin,
        conv._("Added: {weekday} {hours}, {venue}.").format(
            weekday=_weekday_name(conv, window.weekday), hours=_hours(window), venue=venue.name
        ),
    )


async def _ask_remove(conv: Conversation, admin: Admin) -> None:
    assert admin.id is not None
    view = await office_settings.availability_of(conv.session, admin_id=admin.id)
    if not view.windows:
        await _summary(conv, admin, conv._("You have no weekly times to remove."))
        return
    conv.go(SettingsStep.remove)
    conv.say(
        conv._("Which time do you want to remove?"),
        *[
            [
                conv.offer(
                    f"{_weekday_name(conv, w.window.weekday)} {_hours(w.window)} · {w.venue.name}",
                    SettingsOffer.window_remove,
                    window_id=w.window.id,
                )
            ]
            for w in view.windows
        ],
        _back(conv),
    )


async def _remove_window(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    window_id = int(offer["window_id"])
    window = await conv.session.get(AvailabilityWindow, window_id)
    described = (
        f"{_weekday_name(conv, window.weekday)} {_hours(window)}"
        if window is not None and window.admin_id == admin.id
        else ""
    )
    await office_settings.remove_window(
        conv.session, admin_id=admin.id, window_id=window_id, now=conv.now
    )
    await _summary(conv, admin, conv._("Removed: {window}.").format(window=described))


# ---------------------------------------------------------------- venues


async def _venues(conv: Conversation, admin: Admin) -> None:
    assert admin.id is not None
    view = await office_settings.availability_of(conv.session, admin_id=admin.id)
    conv.go(SettingsStep.venues)
    lines = [conv._("The venues of {office}:").format(office=view.office.name)]
    lines += [f"• {v.name}, {v.address} ({_kind(conv, v.kind)})" for v in view.venues] or [
        conv._("No venues yet.")
    ]
    if view.venues:
        lines += ["", conv._("Press a venue to remove it, or add a new one.")]
    conv.say(
        "\n".join(lines),
        *[
            [
                conv.offer(
                    conv._("Remove {name}").format(name=v.name),
                    SettingsOffer.venue_remove,
                    venue_id=v.id,
                )
            ]
            for v in view.venues
        ],
        [conv.command(conv._(NEW_VENUE_LABEL), Name.tider_venue_new), *_back(conv)],
    )


def _ask_venue_name(conv: Conversation, problem: str | None = None) -> None:
    conv.go(SettingsStep.venue_name)
    question = conv._(
        "What is the venue called? For example «Café Linné». A venue is a public place such "
        "as a café, a hotel lobby or your workplace, never your home (home delivery is a "
        "setting of its own)."
    )
    conv.say("\n\n".join(filter(None, (problem, question))), _back(conv))


def _hidden(conv: Conversation, text: str) -> str | None:
    """Why a typed name or address cannot be taken as it is: it holds a character that can
    make it read differently (shown to card users, on the dashboard); None when it is fine."""
    character = hidden_character(text)
    if character is None:
        return None
    return conv._(
        "That contains {character}, an invisible or control character that can make it read "
        "differently. Write it again without it."
    ).format(character=character)


def _venue_name_given(conv: Conversation, text: str) -> None:
    name = " ".join(text.split())
    if len(name) > MAX_NAME:
        _ask_venue_name(
            conv, conv._("That is too long: at most {limit} characters.").format(limit=MAX_NAME)
        )
        return
    problem = _hidden(conv, name)
    if problem is not None:
        _ask_venue_name(conv, problem)
        return
    conv.go(SettingsStep.venue_address, name=name)
    conv.say(
        conv._(
            "What is the address of {name}? For example «Svartbäcksgatan 22, 753 33 Uppsala»."
        ).format(name=name),
        _back(conv),
    )


def _venue_address_given(conv: Conversation, text: str) -> None:
    name = str(conv.get("name") or "")
    address = " ".join(text.split())
    if len(address) > MAX_ADDRESS:
        conv.say(
            conv._("That is too long: at most {limit} characters.").format(limit=MAX_ADDRESS),
            _back(conv),
        )
        return
    problem = _hidden(conv, address)
    if problem is not None:
        conv.say(problem, _back(conv))
        return
    conv.go(SettingsStep.venue_kind, name=name, address=address)
    conv.say(
        conv._("What kind of place is {name}?").format(name=name),
        [
            conv.offer(
                conv._(label), SettingsOffer.venue_add, name=name, address=address, kind=kind
            )
            for kind, label in KIND_LABELS.items()
        ],
        _back(conv),
    )


async def _add_venue(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    venue = await office_settings.add_venue(
        conv.session,
        admin_id=admin.id,
        name=str(offer["name"]),
        address=str(offer["address"]),
        kind=VenueKind(str(offer["kind"])),
        now=conv.now,
    )
    await _summary(
        conv,
        admin,
        conv._("Venue added: {name}. Now you can add times there.").format(name=venue.name),
    )


async def _remove_venue(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    venue_id = int(offer["venue_id"])
    venue = await conv.session.get(Venue, venue_id)
    name = venue.name if venue is not None and venue.office_id == admin.office_id else ""
    await office_settings.remove_venue(
        conv.session, admin_id=admin.id, venue_id=venue_id, now=conv.now
    )
    await _summary(conv, admin, conv._("Venue removed: {name}.").format(name=name))


# ---------------------------------------------------------------- absences


async def _ask_absence(conv: Conversation, admin: Admin, problem: str | None = None) -> None:
    assert admin.id is not None
    view = await office_settings.availability_of(conv.session, admin_id=admin.id)
    absences = [a for a in view.absences if a.last_day >= _today(conv)]
    conv.go(SettingsStep.absence)
    question = conv._(
        "When are you away? Write the days, for example «ledig 23/12–2/1», «23 december till "
        "2 januari» or «2026-12-23 – 2027-01-02»."
    )
    if absences:
        question += "\n\n" + conv._("Press an absence below to remove it.")
    conv.say(
        "\n\n".join(filter(None, (problem, question))),
        *[[_remove_absence_button(conv, absence)] for absence in absences],
        _back(conv),
    )


def _remove_absence_button(conv: Conversation, absence: Absence) -> Button:
    return conv.offer(
        conv._("Remove {name}").format(name=_days(conv, absence.first_day, absence.last_day)),
        SettingsOffer.absence_remove,
        absence_id=absence.id,
    )


def read_absence(text: str, *, now: datetime) -> tuple[date, date] | None:
    """The days off a text names («ledig 23/12–2/1», «23 december till 2 januari»), or None.

    The wish parser reads «23 december till 2 januari» as two single days and «från 23
    december» as open-ended, so the span runs from the earliest day named (or the «från» day)
    to the latest; a text with no last day is not an absence.
    """
    return days_of_wish(parse_wish(text, now=now), today=None)


def days_of_wish(wish: TimeWish | None, *, today: date | None) -> tuple[date, date] | None:
    """The days off a wish names; with `today`, a weekday alone («ledig fredag») is its next
    date (today included)."""
    if wish is None or not wish.understood:
        return None
    if not wish.date_ranges and wish.weekdays and today is not None:
        ahead = min((day - today.weekday()) % 7 for day in wish.weekdays)
        first = today + timedelta(days=ahead)
        return first, first
    if not wish.date_ranges:
        return None
    opened = [first for first, last in wish.date_ranges if last == date.max]
    closed = [(first, last) for first, last in wish.date_ranges if last != date.max]
    if not closed:
        return None
    first = max(opened) if opened else min(first for first, _ in closed)
    last = max(last for _, last in closed)
    return (first, last) if first <= last else None


async def _absence_given(conv: Conversation, admin: Admin, text: str) -> None:
    days = read_absence(text, now=conv.now)
    if days is None:
        await _ask_absence(
            conv,
            admin,
            conv._("I could not read a first and a last day there."),
        )
        return
    await confirm_absence(conv, admin, *days)


async def confirm_absence(conv: Conversation, admin: Admin, first: date, last: date) -> None:
    """«Borta …?» with Spara: an absence is saved only on an explicit yes."""
    conv.go(SettingsStep.absence_confirm)
    conv.say(
        conv._("Away {days}? Card users cannot book you on those days.").format(
            days=_days(conv, first, last)
        ),
        [
            conv.offer(
                conv._(SAVE_LABEL),
                SettingsOffer.absence_add,
                first=first.isoformat(),
                last=last.isoformat(),
            ),
            conv.command(conv._(WRITE_AGAIN_LABEL), Name.tider_absence),
        ],
        _back(conv),
    )


async def _add_absence(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    first, last = date.fromisoformat(offer["first"]), date.fromisoformat(offer["last"])
    await office_settings.add_absence(
        conv.session, admin_id=admin.id, first_day=first, last_day=last, now=conv.now
    )
    await _summary(
        conv, admin, conv._("Absence saved: {days}.").format(days=_days(conv, first, last))
    )


async def _remove_absence(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    absence_id = int(offer["absence_id"])
    await office_settings.remove_absence(
        conv.session, admin_id=admin.id, absence_id=absence_id, now=conv.now
    )
    await _summary(conv, admin, conv._("Absence removed; those days are open again."))


# ---------------------------------------------------------------- settings and notice


async def _set(conv: Conversation, admin: Admin, setting: SettingsOffer, enabled: bool) -> None:
    assert admin.id is not None
    if setting is SettingsOffer.home_delivery:
        await office_settings.set_home_delivery(
            conv.session, admin_id=admin.id, enabled=enabled, now=conv.now
        )
        text = (
            conv._(
                "Home delivery is on: card users may ask to get the card at home. It earns "
                "no extra pay."
            )
            if enabled
            else conv._("Home delivery is off. Home deliveries already booked stay.")
        )
    else:
        await office_settings.set_auto_confirm(
            conv.session, admin_id=admin.id, enabled=enabled, now=conv.now
        )
        text = (
            conv._("Auto-confirm is on: new bookings are confirmed at once.")
            if enabled
            else conv._("Auto-confirm is off: you confirm each new booking yourself.")
        )
    await _summary(conv, admin, text)


async def _ask_notice(conv: Conversation, admin: Admin) -> None:
    assert admin.id is not None
    view = await office_settings.availability_of(conv.session, admin_id=admin.id)
    ends_on = view.notice_ends_on
    if ends_on is not None:
        await _summary(conv, admin, _notice_text(conv, ends_on))
        return
    would_end = office_settings.one_month_after(_today(conv))
    conv.go(SettingsStep.notice)
    conv.say(
        conv._(
            "Do you want to give notice as ID administrator at {office}? The notice period is "
            "one month and ends on {date}. Until then you hand out as usual; after it your "
            "meetings go to a colleague or are cancelled, and the cards you keep are handed "
            "over. This cannot be undone in the chat."
        ).format(office=view.office.name, date=_day(conv, would_end)),
        [conv.offer(conv._(CONFIRM_NOTICE_LABEL), SettingsOffer.notice)],
        [conv.command(conv._(KEEP_OFFICE_LABEL), Name.tider)],
    )


async def _give_notice(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    ends_on = await office_settings.give_notice(conv.session, admin_id=admin.id, now=conv.now)
    await _summary(
        conv,
        admin,
        conv._("The notice is recorded. The notice period ends on {date}.").format(
            date=_day(conv, ends_on)
        ),
    )


# ---------------------------------------------------------------- routing


async def _add(conv: Conversation, admin: Admin) -> None:
    _ask_weekday(conv)


async def _new_venue(conv: Conversation, admin: Admin) -> None:
    _ask_venue_name(conv)


_Run = Callable[[Conversation, Admin], Awaitable[None]]
# What each /tider command does (`AddWindowOn` asks for the hours on its weekday).
_COMMANDS: dict[Name, _Run] = {
    Name.tider: _summary,
    Name.tider_add: _add,
    Name.tider_remove: _ask_remove,
    Name.tider_venues: _venues,
    Name.tider_venue_new: _new_venue,
    Name.tider_absence: _ask_absence,
    Name.tider_notice: _ask_notice,
}
# The commands /tider runs (besides `AddWindowOn`).
COMMANDS = frozenset(_COMMANDS)


async def _run(conv: Conversation, admin: Admin, action: Command | AddWindowOn) -> None:
    """Run a /tider command."""
    if isinstance(action, AddWindowOn):
        _ask_hours(conv, action.weekday)
    else:
        await _COMMANDS.get(action.name, _stale)(conv, admin)


async def _set_home_delivery(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await _set(conv, admin, SettingsOffer.home_delivery, bool(offer["enabled"]))


async def _set_auto_confirm(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await _set(conv, admin, SettingsOffer.auto_confirm, bool(offer["enabled"]))


_Pressed = Callable[[Conversation, Admin, dict[str, Any]], Awaitable[None]]
# What each offered /tider button does with the object it carries.
_OFFERS: dict[str, _Pressed] = {
    SettingsOffer.window_add: _add_window,
    SettingsOffer.window_remove: _remove_window,
    SettingsOffer.venue_add: _add_venue,
    SettingsOffer.venue_remove: _remove_venue,
    SettingsOffer.absence_add: _add_absence,
    SettingsOffer.absence_remove: _remove_absence,
    SettingsOffer.home_delivery: _set_home_delivery,
    SettingsOffer.auto_confirm: _set_auto_confirm,
    SettingsOffer.notice: _give_notice,
}


async def _press(conv: Conversation, admin: Admin, action: Action | None) -> None:
    """A button: a /tider command, or one of this chat's current offers (else it is stale)."""
    if isinstance(action, (Command, AddWindowOn)):
        await _run(conv, admin, action)
        return
    offer = conv.offered(action)
    pressed = _OFFERS.get(str(offer.pop("action", ""))) if offer is not None else None
    if offer is None or pressed is None:
        await _stale(conv, admin)
        return
    await pressed(conv, admin, offer)


def _fold(text: str) -> str:
    return " ".join(text.strip().rstrip("?!.").split()).casefold()


def _word(conv: Conversation, text: str) -> Command | None:
    """The command a typed button label means, in Swedish or the chat's language."""
    folded = _fold(text)
    if folded in ("tider", "/tider"):
        return Command(Name.tider)
    for label, name in WORDS.items():
        if any(_fold(translate(label, locale)) == folded for locale in {"sv", conv.locale}):
            return Command(name)
    return None


def _typed_weekday(conv: Conversation, text: str) -> int | None:
    """The weekday a typed «tisdag», «tis» or «Tis» names."""
    folded = _fold(text)
    for weekday in range(7):
        for locale in {"sv", conv.locale}:
            names = {_fold(translate(WEEKDAY_LABELS[weekday], locale))}
            for width in ("wide", "abbreviated"):
                names.add(_fold(str(get_day_names(width, locale=locale)[weekday])))
            if folded in names:
                return weekday
    return None


def _declines(conv: Conversation, text: str) -> bool:
    """Whether typed text says no to «Borta …?» («nej», «no», «nej tack»)."""
    context = Context(Speaker.admin, Step.confirm_absence)
    reading = understand(text, context, locale=conv.locale, now=conv.now)
    return reading.intent is Intent.decline and not reading.unsure


def _typed_offer(conv: Conversation, text: str, action: str) -> dict[str, Any] | None:
    """The one current offer of this action whose label-like value the text names."""
    folded = _fold(text)
    hits = []
    for offer in conv.current_offers():
        if offer.get("action") != action:
            continue
        if action == SettingsOffer.window_add:
            venue_name = offer.get("venue_name")
            if venue_name is not None and _fold(str(venue_name)) == folded:
                hits.append(offer)
        elif action == SettingsOffer.venue_add:
            label = KIND_LABELS[VenueKind(str(offer.get("kind")))]
            if folded in {_fold(translate(label, loc)) for loc in {"sv", conv.locale}}:
                hits.append(offer)
        elif action == SettingsOffer.absence_add and folded in {
            "ja",
            "yes",
            _fold(conv._(SAVE_LABEL)),
        }:
            hits.append(offer)
    if len(hits) != 1:
        return None
    hits[0].pop("action")
    return hits[0]


async def _text(conv: Conversation, admin: Admin, text: str) -> None:
    """Typed text: /tider, a button's word, or the answer the current step asks for."""
    command = conv.incoming.command
    if command is not None:
        if command[0] == "tider":
            await _summary(conv, admin)
        else:
            await _summary(conv, admin, conv._("I do not know that command."))
        return
    step = conv.step
    if step == SettingsStep.venue_name:
        _venue_name_given(conv, text)
        return
    if step == SettingsStep.venue_address:
        _venue_address_given(conv, text)
        return
    word = _word(conv, text)
    if word is not None:
        await _run(conv, admin, word)
    elif step == SettingsStep.weekday and (weekday := _typed_weekday(conv, text)) is not None:
        _ask_hours(conv, weekday)
    elif step == SettingsStep.hours and conv.get("weekday") is not None:
        await _hours_given(conv, admin, text)
    elif step == SettingsStep.venue and (
        offer := _typed_offer(conv, text, SettingsOffer.window_add)
    ):
        await _add_window(conv, admin, offer)
    elif step == SettingsStep.venue_kind and (
        offer := _typed_offer(conv, text, SettingsOffer.venue_add)
    ):
        await _add_venue(conv, admin, offer)
    elif step == SettingsStep.absence_confirm and _declines(conv, text):
        await _summary(conv, admin, conv._("OK, nothing changed: no absence was added."))
    elif step == SettingsStep.absence_confirm and (
        offer := _typed_offer(conv, text, SettingsOffer.absence_add)
    ):
        await _add_absence(conv, admin, offer)
    elif step in (SettingsStep.absence, SettingsStep.absence_confirm):
        await _absence_given(conv, admin, text)
    else:
        await _summary(
            conv,
            admin,
            conv._("I did not quite understand. Choose below what you want to change:"),
        )


async def handle(
    conv: Conversation, admin: Admin, *, command: Command | AddWindowOn | None = None
) -> None:
    """One /tider update from a linked admin (or a command on their behalf); a domain refusal
    becomes an explanation and the overview."""
    incoming = conv.incoming
    if await conv.answer_refusal(admin):
        return
    conv.on_refusal = _refused
    if command is not None:
        await _run(conv, admin, command)
    elif incoming.button is not None:
        await _press(conv, admin, incoming.action)
    elif incoming.text and incoming.text.strip():
        await _text(conv, admin, incoming.text)
    else:
        await _summary(
            conv, admin, conv._("I can only read text and button presses. Choose below:")
        )
