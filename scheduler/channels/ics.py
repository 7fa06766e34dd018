"""Meeting invitations as iCalendar bytes: one event, in Stockholm time, REQUEST or CANCEL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from models.zone import STOCKHOLM

PRODID = "-//Kortkontor//SITHS//SV"
TZID = STOCKHOLM.key
METHODS = ("REQUEST", "CANCEL")


def meeting_calendar(
    *,
    uid: str,
    method: str,
    sequence: int,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    description: str,
    location: str,
    organizer_email: str,
    attendee_email: str | None,
    stamp: datetime,
) -> bytes:
    """Render one meeting as an iTIP calendar (REQUEST books it, CANCEL withdraws it)."""
    if method not in METHODS:
        raise ValueError(f"unsupported iTIP method {method!r}")
    for value in (starts_at, ends_at, stamp):
        # A naive datetime would silently be read as local time somewhere; refuse it.
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
    if ends_at <= starts_at:
        raise ValueError("a meeting must end after it starts")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(stockholm_timezone())
    event = _event(
        uid=uid,
        cancelled=method == "CANCEL",
        sequence=sequence,
        starts_at=starts_at,
        ends_at=ends_at,
        summary=summary,
        description=description,
        location=location,
        stamp=stamp,
    )
    event.add("organizer", vCalAddress(f"mailto:{organizer_email}"))
    if attendee_email is not None:
        event.add("attendee", _attendee(attendee_email))
    calendar.add_component(event)
    return calendar.to_ical()


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One meeting in a subscribed calendar; a tentative one awaits the admin's answer."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    location: str
    tentative: bool = False


def meeting_feed(events: Iterable[FeedEvent], *, name: str, stamp: datetime) -> bytes:
    """A calendar to subscribe to (no iTIP method): many events, in Stockholm time."""
    if stamp.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TZID)
    # How often a phone should fetch the feed again.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add_component(stockholm_timezone())
    for item in events:
        if item.starts_at.tzinfo is None or item.ends_at.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        event = _event(
            uid=item.uid,
            cancelled=False,
            sequence=0,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            summary=item.summary,
            description=item.description,
            location=item.location,
            stamp=stamp,
        )
        if item.tentative:
            event.pop("status")
            event.add("status", "TENTATIVE")
        calendar.add_component(event)
    return calendar.to_ical()


def _event(
    *,
    uid: str,
    cancelled: bool,
    sequence: int,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    description: str,
    location: str,
    stamp: datetime,
) -> Event:
    """The VEVENT without its people; times written as Stockholm wall-clock time."""
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(STOCKHOLM))
    event.add("dtend", ends_at.astimezone(STOCKHOLM))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _attendee(email: str) -> vCalAddress:
    """The card holder: required, and no reply expected (the booking is already made)."""
    attendee = vCalAddress(f"mailto:{email}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "FALSE"
    return attendee


def stockholm_timezone() -> Timezone:
    """VTIMEZONE for Europe/Stockholm as yearly rules (EU summer time, in force since 1996)."""
    # Written as RRULEs rather than icalendar's generated RDATE lists: Outlook only reads
    # DTSTART/RRULE/TZOFFSET* of a VTIMEZONE and ignores RDATE, so a list would be lost on it.
    timezone = Timezone()
    timezone.add("tzid", TZID)
    timezone.add_component(
        _observance(TimezoneDaylight(), "CEST", datetime(1970, 3, 29, 2), 1, 2, month=3)
    )
    timezone.add_component(
        _observance(TimezoneStandard(), "CET", datetime(1970, 10, 25, 3), 2, 1, month=10)
    )
    return timezone


def _observance(
    observance: TimezoneStandard | TimezoneDaylight,
    name: str,
    first: datetime,
    offset_from: int,
    offset_to: int,
    *,
    month: int,
) -> TimezoneStandard | TimezoneDaylight:
    """One STANDARD or DAYLIGHT part: switches on the last Sunday of `month`."""
    observance.add("tzname", name)
    observance.add("tzoffsetfrom", timedelta(hours=offset_from))
    observance.add("tzoffsetto", timedelta(hours=offset_to))
    observance.add("dtstart", first)
    observance.add("rrule", {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": "-1SU"})
    return observance
