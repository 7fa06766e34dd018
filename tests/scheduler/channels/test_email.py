"""SmtpSender against a real local SMTP server, and the ICS invitations it carries."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from icalendar import Calendar, Event

from models.zone import STOCKHOLM
from scheduler.channels.base import (
    CalendarAttachment,
    ChannelError,
    DeliveryState,
    OutgoingMessage,
)
from scheduler.channels.email import SmtpSender, message_id_for, render_html
from scheduler.channels.ics import meeting_calendar, stockholm_timezone
from tests.fakes.smtp import Collector, free_port, run_server

RECIPIENT = "anna.andersson@example.se"
FROM = "Kortkontoret <noreply@kortkontor.se>"
ORGANIZER = "noreply@kortkontor.se"
VENUE = "Storgatan 1, 111 22 Stockholm"
UID = "meeting-42@kortkontor"
SUBJECT = "Din tid är bokad – hämta ditt SITHS-kort"
TEXT = "Hej Åsa!\n\nDin tid är bokad torsdag 3 december kl. 14.00.\nVälkommen till kortkontoret."
WINTER = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 14:00 CET
SUMMER = datetime(2027, 6, 3, 12, 0, tzinfo=UTC)  # 14:00 CEST
STAMP = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def our_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the service logged (the test server's own mail.log does name addresses)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def smtp_port(collector: Collector) -> Iterator[int]:
    yield from run_server(collector)


def sender(port: int) -> SmtpSender:
    return SmtpSender(host="127.0.0.1", port=port, from_address=FROM, timeout=5)


def invitation(
    *, method: str = "REQUEST", sequence: int = 0, starts_at: datetime = WINTER
) -> bytes:
    return meeting_calendar(
        uid=UID,
        method=method,
        sequence=sequence,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        summary="Hämta SITHS-kort",
        description="Ta med giltig legitimation.\nVälkommen!",
        location=VENUE,
        organizer_email=ORGANIZER,
        attendee_email=RECIPIENT,
        stamp=STAMP,
    )


def outgoing(calendar: bytes | None = None, method: str = "REQUEST") -> OutgoingMessage:
    return OutgoingMessage(
        recipient=RECIPIENT,
        text=TEXT,
        subject=SUBJECT,
        html=render_html(TEXT),
        calendar=CalendarAttachment(calendar, method) if calendar is not None else None,
    )


def received(collector: Collector, index: int = -1) -> EmailMessage:
    message = email.message_from_bytes(collector.envelopes[index].content, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def calendar_part(message: EmailMessage) -> EmailMessage:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    return part


def payload(part: EmailMessage) -> bytes:
    """A part's decoded bytes (base64 undone)."""
    content = part.get_payload(decode=True)
    assert isinstance(content, bytes)
    return content


def only_event(calendar: Calendar) -> Event:
    events = calendar.events
    assert len(events) == 1
    return events[0]


async def test_invitation_arrives_with_headers_bodies_and_calendar(
    collector: Collector, smtp_port: int
) -> None:
    message_id = await sender(smtp_port).send(outgoing(invitation()), idempotency_key="n-1")

    envelope = collector.envelopes[0]
    assert envelope.mail_from == ORGANIZER
    assert envelope.rcpt_tos == [RECIPIENT]
    mail = received(collector)
    assert mail["Subject"] == SUBJECT
    assert mail["From"] == FROM
    assert mail["To"] == RECIPIENT
    assert mail["Message-ID"] == message_id
    assert mail["Date"] is not None
    # mixed[alternative[plain, html, calendar], ics attachment]: shown as an invitation.
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = list(mail.iter_parts())
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    plain, html, _calendar = list(alternative.iter_parts())
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert plain.get_content().replace("\r\n", "\n").strip() == TEXT
    assert "Välkommen till kortkontoret." in html.get_content()
    assert attachment.get_filename() == "mote.ics"
    assert attachment.get_payload(decode=True) == invitation()

    part = calendar_part(mail)
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert payload(part) == invitation()
    calendar = Calendar.from_ical(payload(part))
    assert calendar["METHOD"] == "REQUEST"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    event = only_event(calendar)
    assert str(event["UID"]) == UID
    assert str(event["LOCATION"]) == VENUE
    assert str(event["SUMMARY"]) == "Hämta SITHS-kort"
    assert event.decoded("DTSTART") == datetime(2026, 12, 3, 14, 0, tzinfo=STOCKHOLM)


async def test_message_id_is_stable_per_idempotency_key(
    collector: Collector, smtp_port: int
) -> None:
    channel = sender(smtp_port)
    first = await channel.send(outgoing(), idempotency_key="notification-7")
    again = await channel.send(outgoing(), idempotency_key="notification-7")
    other = await channel.send(outgoing(), idempotency_key="notification-8")

    assert first == again != other
    assert [received(collector, i)["Message-ID"] for i in range(3)] == [first, again, other]
    assert first == message_id_for("notification-7", "noreply@kortkontor.se")
    assert first.startswith("<") and first.endswith("@kortkontor.se>")


async def test_plain_message_without_html_or_calendar(collector: Collector, smtp_port: int) -> None:
    message = OutgoingMessage(recipient=RECIPIENT, text=TEXT, subject=SUBJECT)
    await sender(smtp_port).send(message, idempotency_key="n-2")

    mail = received(collector)
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().replace("\r\n", "\n").strip() == TEXT


@pytest.mark.parametrize(
    ("starts_at", "local", "line"),
    [
        (WINTER, datetime(2026, 12, 3, 14, 0), b"DTSTART;TZID=Europe/Stockholm:20261203T140000"),
        (SUMMER, datetime(2027, 6, 3, 14, 0), b"DTSTART;TZID=Europe/Stockholm:20270603T140000"),
    ],
)
def test_event_is_written_in_stockholm_time(
    starts_at: datetime, local: datetime, line: bytes
) -> None:
    content = invitation(starts_at=starts_at)

    assert line in content.splitlines()
    event = only_event(Calendar.from_ical(content))
    start = event.decoded("DTSTART")
    assert start.replace(tzinfo=None) == local
    assert start == starts_at
    assert event.decoded("DTEND") == starts_at + timedelta(minutes=15)


def test_vtimezone_agrees_with_tzdata() -> None:
    ours = stockholm_timezone().to_tz(lookup_tzid=False)
    tzdata = STOCKHOLM
    moment = datetime(2026, 1, 1)
    while moment < datetime(2036, 1, 1):
        # Six-hourly samples avoid the ambiguous 02:00-03:00 hours themselves.
        assert moment.replace(tzinfo=ours).utcoffset() == moment.replace(tzinfo=tzdata).utcoffset()
        moment += timedelta(hours=6)


def test_request_names_organizer_and_attendee() -> None:
    calendar = Calendar.from_ical(invitation())
    event = only_event(calendar)

    assert calendar["PRODID"] == "-//Kortkontor//SITHS//SV"
    assert str(event["ORGANIZER"]) == f"mailto:{ORGANIZER}"
    assert str(event["ATTENDEE"]) == f"mailto:{RECIPIENT}"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTAMP") == STAMP


async def test_cancel_keeps_uid_and_raises_sequence(collector: Collector, smtp_port: int) -> None:
    request = only_event(Calendar.from_ical(invitation()))
    cancel = invitation(method="CANCEL", sequence=1)
    await sender(smtp_port).send(outgoing(cancel, "CANCEL"), idempotency_key="n-3")

    part = calendar_part(received(collector))
    assert part.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(payload(part))
    assert calendar["METHOD"] == "CANCEL"
    event = only_event(calendar)
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == request["UID"] == UID
    assert event.decoded("SEQUENCE") > request.decoded("SEQUENCE")


def test_same_inputs_give_identical_bytes() -> None:
    assert invitation() == invitation()
    assert invitation(method="CANCEL", sequence=2) == invitation(method="CANCEL", sequence=2)
    assert invitation() != invitation(sequence=1)


def test_calendar_without_attendee() -> None:
    content = meeting_calendar(
        uid=UID,
        method="REQUEST",
        sequence=0,
        starts_at=WINTER,
        ends_at=WINTER + timedelta(minutes=15),
        summary="Hämta SITHS-kort",
        description="",
        location=VENUE,
        organizer_email=ORGANIZER,
        attendee_email=None,
        stamp=STAMP,
    )
    assert "ATTENDEE" not in only_event(Calendar.from_ical(content))


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUBLISH"},
        {"starts_at": datetime(2026, 12, 3, 14, 0)},
        {"stamp": datetime(2026, 11, 20, 8, 30)},
        {"ends_at": WINTER},
    ],
)
def test_calendar_refuses_bad_input(change: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "uid": UID,
        "method": "REQUEST",
        "sequence": 0,
        "starts_at": WINTER,
        "ends_at": WINTER + timedelta(minutes=15),
        "summary": "s",
        "description": "d",
        "location": VENUE,
        "organizer_email": ORGANIZER,
        "attendee_email": None,
        "stamp": STAMP,
    } | change
    with pytest.raises(ValueError):
        meeting_calendar(**arguments)


@pytest.mark.parametrize(
    ("refusal", "permanent"),
    [
        (f"550 5.1.1 <{RECIPIENT}>: Recipient address rejected: User unknown", True),
        (f"450 4.2.0 <{RECIPIENT}>: Recipient address rejected: Greylisted", False),
    ],
)
async def test_refused_recipient(
    refusal: str, permanent: bool, caplog: pytest.LogCaptureFixture
) -> None:
    for port in run_server(Collector(refusal=refusal)):
        with pytest.raises(ChannelError) as raised:
            await sender(port).send(outgoing(invitation()), idempotency_key="n-4")

    assert raised.value.permanent is permanent
    assert raised.value.reason == f"recipient refused: {refusal[:3]}"
    assert raised.value.__cause__ is None
    assert RECIPIENT not in our_log(caplog)


def only_kortkontor(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    """aiosmtpd authenticator accepting one account."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"kortkontor",
        b"hemligt",
    )
    return AuthResult(success=ok, handled=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize(("password", "delivered"), [("hemligt", True), ("fel", False)])
async def test_login_when_credentials_are_given(password: str, delivered: bool) -> None:
    collector = Collector()
    options = {"auth_required": True, "auth_require_tls": False, "authenticator": only_kortkontor}
    for port in run_server(collector, **options):
        channel = SmtpSender(
            host="127.0.0.1",
            port=port,
            from_address=FROM,
            username="kortkontor",
            password=password,
            timeout=5,
        )
        if delivered:
            await channel.send(outgoing(), idempotency_key="n-6")
        else:
            with pytest.raises(ChannelError) as raised:
                await channel.send(outgoing(), idempotency_key="n-6")
            # Our own configuration is wrong, not the address: retry, do not give up on it.
            assert raised.value.permanent is False
            assert raised.value.reason.startswith("smtp server refused: 535")

    assert len(collector.envelopes) == (1 if delivered else 0)


async def test_nothing_listening_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ChannelError) as raised:
        await sender(free_port()).send(outgoing(), idempotency_key="n-5")

    assert raised.value.permanent is False
    assert RECIPIENT not in raised.value.reason
    assert RECIPIENT not in our_log(caplog)


async def test_lookup_cannot_know() -> None:
    assert await sender(free_port()).lookup("<abc@kortkontor.se>") == DeliveryState.unknown


def test_render_html_escapes_and_keeps_paragraphs() -> None:
    rendered = render_html("Hej <Åsa> & Per!\r\n\r\nRad ett\nRad två\n\n\n")

    assert "<p>Hej &lt;Åsa&gt; &amp; Per!</p>" in rendered
    assert "<p>Rad ett<br>\nRad två</p>" in rendered
    assert rendered.count("<p>") == 2
    assert '<html lang="sv">' in rendered
