"""The dispatcher against real local servers: SMS to a fake Twilio, e-mail to aiosmtpd,
chat messages to a fake Bot API. Stale rows, retries, opt-out and fallbacks."""

from __future__ import annotations

import ast
import asyncio
import email
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import select
from telegram import Bot

from bot.telegram_channel import TelegramSender
from kortkontor.settings import Settings
from kortkontor.wiring import Services, build_services
from models.cards import CardUser
from models.db import transaction
from models.outbox import Channel, Notification, NotificationStatus
from scheduler import booking, dispatch, notifications, outbox
from scheduler.channels.console import ConsoleSender
from scheduler.channels.email import SmtpSender
from scheduler.channels.sms import TwilioSender
from scheduler.dispatch import Dispatcher
from scheduler.rendering import RenderSettings
from tests.bot.world import NOW, World, build_world
from tests.conftest import TEST_SECRET_KEY
from tests.factories import notification
from tests.fakes.smtp import Collector, run_server
from tests.fakes.telegram import FakeBotApi
from tests.fakes.twilio import FakeTwilio
from tests.kortkontor.cli_helpers import run_cli
from tests.scheduler.test_notifications import book_first_free, rows

MARIA_PHONE = "+46701112233"
MARIA_TELEGRAM = 8001


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    """The dispatcher wired to the three fake providers."""

    dispatcher: Dispatcher
    clock: Clock
    twilio: FakeTwilio
    smtp: Collector
    telegram: FakeBotApi

    def mails(self) -> list[EmailMessage]:
        parsed = [email.message_from_bytes(e.content, policy=default) for e in self.smtp.envelopes]
        return [m for m in parsed if isinstance(m, EmailMessage)]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    for port in run_server(collector):
        yield collector, port


@pytest.fixture
def telegram() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def rig(
    services: Services, twilio: FakeTwilio, smtp: tuple[Collector, int], telegram: FakeBotApi
) -> AsyncIterator[Rig]:
    sms = TwilioSender(
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        from_number="+46700000000",
        base_url=twilio.base_url,
        messages_per_second=1000,
    )
    bot = Bot(telegram.token, base_url=telegram.base_url)
    await bot.initialize()
    clock = Clock(NOW)
    dispatcher = Dispatcher(
        services.sessions,
        {
            Channel.sms: sms,
            Channel.email: SmtpSender(host="127.0.0.1", port=smtp[1], from_address="kk@example.se"),
            Channel.telegram: TelegramSender(bot),
        },
        RenderSettings(bot_username="kortkontor_bot", organizer_email="kk@example.se"),
        clock=clock,
    )
    yield Rig(dispatcher, clock, twilio, smtp[0], telegram)
    await sms.close()
    await bot.shutdown()


async def confirmed_meeting(
    services: Services, world: World, rig: Rig | None = None, *, days_before: int = 2
) -> int:
    """Maria books the first free time; the rig (if given) sends the request; Anna confirms."""
    moment = NOW - timedelta(days=days_before)
    meeting = await book_first_free(services, world, at=moment)
    assert meeting.id is not None
    if rig is not None:
        rig.clock.now = moment
        await rig.dispatcher.run_due()
    async with transaction(services.sessions) as session:
        await booking.confirm(session, meeting_id=meeting.id, admin_id=world.admin_id, now=moment)
    return meeting.id


async def test_confirmation_reaches_sms_and_mail_with_a_calendar_invitation(
    services: Services, rig: Rig
) -> None:
    world = await build_world(services)
    meeting_id = await confirmed_meeting(services, world, rig)
    await rig.dispatcher.run_due()
    sms = [m for m in rig.twilio.messages if m.to == MARIA_PHONE]
    assert len(sms) == 1 and "Din tid är bekräftad: måndag 30 november kl. 16:00" in sms[0].body
    assert "PIN-brev" in sms[0].body
    # The admin got the request by e-mail (no Telegram), and Maria the invitation.
    mails = {m["To"]: m for m in rig.mails()}
    assert "bokningsförfrågan" in str(mails["anna@example.se"]["Subject"]).lower()
    invitation = mails["maria@example.se"]
    # Named by its order reference, which the SMS chat asks for on a shared number.
    body = invitation.get_body(("plain",))
    assert body is not None and "Ordernummer för ditt kort: SE-1" in body.get_content()
    assert "SE-1" not in sms[0].body
    calendars = [p for p in invitation.walk() if p.get_content_type() == "text/calendar"]
    payload = calendars[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    event = calendar.walk("VEVENT")[0]
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"meeting-{meeting_id}@kortkontor"
    assert str(event["LOCATION"]) == "Svartbäcksgatan 22, 753 33 Uppsala"
    assert all(
        r.status != NotificationStatus.pending or r.due_at > rig.clock.now
        for r in await rows(services)
    )


async def test_reminders_go_at_their_time_and_not_after_a_move(
    services: Services, rig: Rig
) -> None:
    world = await build_world(services)
    await confirmed_meeting(services, world)
    rig.clock.now = NOW - timedelta(days=2)
    await rig.dispatcher.run_due()
    before = len(rig.twilio.messages)
    rig.clock.now = NOW - timedelta(hours=1)  # 08:00, after the day-before reminder's 16:00
    await rig.dispatcher.run_due()
    reminders = rig.twilio.messages[before:]
    assert (
        len(reminders) == 1 and "i morgon" in reminders[0].body and "PIN-brev" in reminders[0].body
    )
    # Moved before the two-hour reminder: it is cancelled as stale, not sent.
    async with transaction(services.sessions) as session:
        meeting = (await session.exec(select(booking.Meeting))).one()
        meeting.starts_at += timedelta(hours=1)
        meeting.ends_at += timedelta(hours=1)
        session.add(meeting)
    rig.clock.now = NOW + timedelta(hours=6)
    await rig.dispatcher.run_due()
    assert len(rig.twilio.messages) == before + 1
    two_hours = (await rows(services, template="reminder_2h"))[0]
    assert two_hours.status == NotificationStatus.cancelled and "moved" in (
        two_hours.last_error or ""
    )


async def test_the_admins_answer_reaches_a_linked_user_in_the_chat(
    services: Services, rig: Rig
) -> None:
    world = await build_world(services)
    async with transaction(services.sessions) as session:
        user = await session.get(CardUser, world.users["maria"])
        assert user is not None
        user.telegram_user_id = MARIA_TELEGRAM
        session.add(user)
    await confirmed_meeting(services, world)
    rig.clock.now = NOW - timedelta(days=2)
    await rig.dispatcher.run_due()
    chat = rig.telegram.messages(MARIA_TELEGRAM)
    assert len(chat) == 1 and "Din tid är bekräftad" in (chat[0].text or "")
    # A linked user gets no SMS for the answer (the chat has it), but still the invitation.
    assert not [m for m in rig.twilio.messages if "bekräftad" in m.body]
    assert any(m["To"] == "maria@example.se" for m in rig.mails())


async def test_opted_out_and_undeliverable_sms_fall_back_to_email(
    services: Services, rig: Rig
) -> None:
    world = await build_world(services)
    async with transaction(services.sessions) as session:
        await outbox.set_opt_out(session, phone=MARIA_PHONE, opted_out=True, now=NOW)
    await confirmed_meeting(services, world)
    rig.clock.now = NOW - timedelta(days=2)
    await rig.dispatcher.run_due()
    await rig.dispatcher.run_due()  # the fallback written by the first run
    assert not [m for m in rig.twilio.messages if m.to == MARIA_PHONE]
    sms_row = (await rows(services, template="booking_confirmed", channel=Channel.sms))[0]
    assert sms_row.status == NotificationStatus.cancelled and sms_row.last_error == "opted out"
    fallback = await rows(services, idempotency_key=sms_row.idempotency_key + ":fallback")
    assert fallback and fallback[0].status == NotificationStatus.sent

    async with transaction(services.sessions) as session:
        await outbox.set_opt_out(session, phone=MARIA_PHONE, opted_out=False, now=NOW)
    rig.twilio.undeliverable.add(MARIA_PHONE)
    rig.clock.now = NOW - timedelta(hours=1)
    await rig.dispatcher.run_due()
    await rig.dispatcher.run_due()
    reminder = (await rows(services, template="reminder_24h", channel=Channel.sms))[0]
    assert reminder.status == NotificationStatus.failed
    assert (await rows(services, idempotency_key=reminder.idempotency_key + ":fallback"))[
        0
    ].status == NotificationStatus.sent


async def test_a_provider_error_is_retried_with_backoff(services: Services, rig: Rig) -> None:
    world = await build_world(services)
    await confirmed_meeting(services, world)
    rig.clock.now = NOW - timedelta(days=2)
    rig.twilio.fail_next(500, times=1)
    await rig.dispatcher.run_due()
    sms_row = (await rows(services, template="booking_confirmed", channel=Channel.sms))[0]
    assert sms_row.status == NotificationStatus.pending and sms_row.attempts == 1
    assert sms_row.due_at == rig.clock.now + timedelta(seconds=30)
    rig.clock.now += timedelta(seconds=31)
    await rig.dispatcher.run_due()
    sent = (await rows(services, template="booking_confirmed", channel=Channel.sms))[0]
    assert sent.status == NotificationStatus.sent and sent.provider_message_id
    assert len([m for m in rig.twilio.messages if "bekräftad" in m.body]) == 1


async def test_sms_waits_out_the_quiet_hours(services: Services, rig: Rig) -> None:
    world = await build_world(services)
    await confirmed_meeting(services, world)
    rig.clock.now = (NOW - timedelta(days=2)).replace(hour=21, minute=30)  # 22:30 in Stockholm
    await rig.dispatcher.run_due()
    assert not rig.twilio.messages
    sms_row = (await rows(services, template="booking_confirmed", channel=Channel.sms))[0]
    assert sms_row.status == NotificationStatus.pending
    assert sms_row.due_at.isoformat() == "2026-11-29T07:00:00+00:00"  # 08:00 local
    # E-mail does not wait.
    assert any(m["To"] == "maria@example.se" for m in rig.mails())


async def test_a_direct_chat_reply_is_not_held_by_the_quiet_hours(
    services: Services, rig: Rig
) -> None:
    night = NOW.replace(hour=22, minute=30)  # 23:30 in Stockholm
    rig.clock.now = night
    async with transaction(services.sessions) as session:
        await notifications.chat_reply(
            session, phone=MARIA_PHONE, text="Svar nu", key="sms:a", now=night
        )
        # One written 20 minutes ago (the provider was down) waits for the morning after all.
        await notifications.chat_reply(
            session, phone="+46702223344", text="Svar sent", key="sms:b", now=night
        )
        session.add(notification(night, recipient=MARIA_PHONE, template="nudge"))
    async with transaction(services.sessions) as session:
        written = (await rows(services, template="chat_reply"))[1]
        late = await session.get(Notification, written.id)
        assert late is not None
        late.created_at = night - timedelta(minutes=20)
        session.add(late)
    await rig.dispatcher.run_due()
    assert [(m.to, m.body) for m in rig.twilio.messages] == [(MARIA_PHONE, "Svar nu")]
    held = await rows(services, template="nudge")
    assert held[0].status == NotificationStatus.pending


async def test_a_recipients_messages_leave_in_the_order_they_were_written(
    services: Services, rig: Rig
) -> None:
    async with transaction(services.sessions) as session:
        for n in range(6):
            await notifications.chat_reply(
                session, phone=MARIA_PHONE, text=f"svar {n}", key=f"sms:{n}", now=NOW
            )
    rig.twilio.delay_first(MARIA_PHONE, seconds=0.3)  # the first send is slow at Twilio
    await rig.dispatcher.run_due()
    assert [m.body for m in rig.twilio.messages] == [f"svar {n}" for n in range(6)]


def test_the_outbox_list_command(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def seed() -> None:
        services = build_services(Settings(database_url=env), secret_key=TEST_SECRET_KEY)
        try:
            await confirmed_meeting(services, await build_world(services))
        finally:
            await services.close()

    asyncio.run(seed())
    code, out, _ = run_cli(capsys, "outbox", "list", "--status", "pending")
    assert code == 0 and "booking_confirmed" in out and "reminder_24h" in out
    assert MARIA_PHONE not in out and "maria@example.se" not in out
    code, _, err = run_cli(capsys, "outbox", "list", "--status", "lost")
    assert code == 2 and "lost" in err


def test_dispatch_changes_rows_only_through_the_outbox() -> None:
    """States, attempts and due times have one owner, scheduler/outbox.py: the dispatcher
    assigns to no attribute but its own."""
    tree = ast.parse(Path(dispatch.__file__).read_text(encoding="utf-8"))
    writes = [
        f"line {node.lineno}: {ast.unparse(target)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute)
        and not (isinstance(target.value, ast.Name) and target.value.id == "self")
    ]
    assert writes == []


class SearchingProvider(ConsoleSender):
    """An SMS provider that finds messages by text, and whose search takes its time: while it
    searches, the rest of the service must be able to write."""

    def __init__(self, services: Services) -> None:
        super().__init__("sms", io.StringIO())
        self.services = services
        self.searched: list[str] = []

    async def find(self, recipient: str, text: str, since: datetime) -> str | None:
        async with asyncio.timeout(5), transaction(self.services.sessions) as session:
            await outbox.set_opt_out(session, phone="+46700000009", opted_out=True, now=since)
        self.searched.append(text)
        return None


async def test_recovery_asks_the_provider_outside_a_transaction(services: Services) -> None:
    world = await build_world(services)
    claimed = NOW - timedelta(minutes=10)
    async with transaction(services.sessions) as session:
        session.add(
            notification(
                claimed,
                recipient=MARIA_PHONE,
                status=NotificationStatus.sending,
                attempts=1,
                claimed_at=claimed,
                card_id=world.cards["maria"],
            )
        )
    provider = SearchingProvider(services)
    dispatcher = Dispatcher(
        services.sessions, {Channel.sms: provider}, RenderSettings(), clock=lambda: NOW
    )
    assert await dispatcher.recover() == 1
    assert len(provider.searched) == 1 and "väntar" in provider.searched[0]
    [left] = await rows(services, template="nudge")
    assert (left.status, left.attempts) == (NotificationStatus.pending, 1)
    assert await dispatcher.recover() == 0
