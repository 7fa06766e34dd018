"""The SMS chat through `kortkontor serve` run as a real process on a set clock (tests/clock.py):
inbound SMS posted to it as Twilio posts them, signed; its answers watched at the fake Twilio.

- A booking, its move and its cancellation by SMS, the admin confirming in her Telegram chat
  (the fake Bot API): a Monday morning, so that the confirmations are not held by the quiet
  hours.
- At 23:30 a direct answer goes out at once while a nudge waits for 08:00.
- serve killed (SIGKILL) between an inbound SMS and its answer: the answer still goes out, once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sms_text import MAX_SEGMENTS, is_gsm7, segments
from kortkontor.wiring import Services
from models.db import async_url, make_sessionmaker, transaction
from models.meetings import Meeting, MeetingStatus
from models.outbox import Notification, NotificationStatus
from models.zone import STOCKHOLM
from scheduler.notifications import Template
from tests.clock import SetClock
from tests.conftest import TEST_SECRET_KEY
from tests.factories import add, notification
from tests.fakes.telegram import FakeBotApi
from tests.fakes.twilio import FakeTwilio
from tests.fakes.twilio_inbound import SERVICE_NUMBER, TwilioInbound
from tests.sms_world import MARIA, MARIA_SE1, Holder, seed_sms_world

Reader = async_sessionmaker[AsyncSession]
KORTKONTOR = [sys.executable, "-m", "kortkontor.cli", "serve"]
TIMEOUT = 60.0
ANNA_TELEGRAM = 5151
AHMED = "+46702223344"
LENA = "+46703334455"
WEB_ON = re.compile(r"kortkontor ready: .*web on [0-9.]+:(\d+)")


@dataclass
class Serve:
    """A running `kortkontor serve` and the port its web app listens on."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def logged(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        """Fail with serve's log if it has exited."""
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.logged()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        """SIGTERM, and a clean exit."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0, self.logged()


def environment(
    database_url: str, twilio: FakeTwilio, telegram: FakeBotApi | None = None
) -> dict[str, str]:
    """serve on the test database, SMS through the fake Twilio, e-mail to the console, Telegram
    through the fake Bot API if given; a claim left `sending` is recovered at once at start."""
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "SMTP_"))
    }
    bot = (
        {"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_BASE_URL": telegram.base_url}
        if telegram is not None
        else {}
    )
    return {
        **keep,
        "DATABASE_URL": database_url,
        "KORTKONTOR_SECRET_KEY": TEST_SECRET_KEY,
        "WEB_PORT": "0",
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM": SERVICE_NUMBER,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "TWILIO_MESSAGES_PER_SECOND": "1000",
        # On PostgreSQL start-up recovers only claims older than 2 minutes unless told.
        "OUTBOX_STALE_CLAIM_SECONDS": "0",
        **bot,
    }


def start_serve(environ: dict[str, str], clock: SetClock, folder: Path) -> Serve:
    """serve in the background on the set clock, once it logs that it is ready (each start
    logs to a file of its own)."""
    log = folder / f"serve-{len(list(folder.glob('serve-*.log')))}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            KORTKONTOR,
            env={**environ, **clock.environment()},
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    serve = Serve(process, log, port=0)
    deadline = time.monotonic() + TIMEOUT
    while (ready := WEB_ON.search(serve.logged())) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"serve did not start:\n{serve.logged()}")
        time.sleep(0.1)
    serve.port = int(ready.group(1))
    return serve


@pytest.fixture
async def reader(database_url: str) -> AsyncIterator[Reader]:
    """Sessions that only look (on SQLite they do not queue behind serve's writes)."""
    engine = create_async_engine(async_url(database_url))
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def processes() -> Iterator[list[Serve]]:
    """Every serve a test starts is gone at its end."""
    started: list[Serve] = []
    yield started
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
            serve.process.wait(timeout=20)


async def sms_to(fake: FakeTwilio, serve: Serve, number: str, count: int) -> list[str]:
    """The texts the number got, once there are `count`; fails early if serve dies."""
    deadline = time.monotonic() + TIMEOUT
    while len(got := fake.sent_to(number)) < count:
        serve.alive()
        assert time.monotonic() < deadline, f"{len(got)} SMS to {number}: {got}"
        await asyncio.sleep(0.02)
    return [sms.body for sms in got]


async def meetings(reader: Reader) -> list[Meeting]:
    async with reader() as session:
        return list((await session.exec(select(Meeting).order_by(col(Meeting.id)))).all())


async def rows(reader: Reader, template: Template) -> list[Notification]:
    async with reader() as session:
        query = select(Notification).where(Notification.template == template)
        return list((await session.exec(query.order_by(col(Notification.id)))).all())


def assert_fits(texts: list[str]) -> None:
    for text in texts:
        assert is_gsm7(text), f"not GSM-7: {text!r}"
        assert segments(text) <= MAX_SEGMENTS, f"{segments(text)} segments: {text!r}"


# -- a booking, a move and a cancellation ---------------------------------------------------


def local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%a %H:%M")


async def confirm_as_anna(bot: FakeBotApi, serve: Serve, pressed: set[str]) -> None:
    """Anna presses «Bekräfta» on the next request that reaches her chat."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        offered = [
            data
            for sent in bot.messages(ANNA_TELEGRAM)
            for label, data in bot.buttons(sent)
            if label == "Bekräfta" and data not in pressed
        ]
        if offered:
            break
        serve.alive()
        assert time.monotonic() < deadline, "no request reached Anna's chat"
        await asyncio.sleep(0.05)
    pressed.add(offered[0])
    bot.press(ANNA_TELEGRAM, offered[0])


async def wait_status(reader: Reader, serve: Serve, *wanted: MeetingStatus) -> list[Meeting]:
    """The meetings, once their statuses are `wanted` in order."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = await meetings(reader)
        if [m.status for m in found] == list(wanted):
            return found
        serve.alive()
        assert time.monotonic() < deadline, [(m.status, m.starts_at) for m in found]
        await asyncio.sleep(0.05)


async def test_a_booking_its_move_and_its_cancellation_by_sms(
    services: Services, reader: Reader, database_url: str, tmp_path: Path, processes: list[Serve]
) -> None:
    # Monday 30 November 2026, 09:00 in Stockholm.
    clock = SetClock(datetime(2026, 11, 30, 9, 0, tzinfo=STOCKHOLM))
    await seed_sms_world(services, now=clock.now(), admin_telegram_user_id=ANNA_TELEGRAM)
    with FakeTwilio(clock=clock.now) as fake, FakeBotApi() as bot:
        serve = start_serve(environment(database_url, fake, bot), clock, tmp_path)
        processes.append(serve)
        async with TwilioInbound(f"http://127.0.0.1:{serve.port}", fake.auth_token) as twilio:
            # Book: a wish, a time, yes. Typed without waiting for each answer, as people do;
            # each number picks from the answer before it all the same.
            booking = ("tisdag eftermiddag", "1", "ja")
            for body in booking:
                assert (await twilio.send(MARIA, body)).immediate is None
            times, summary, sent = await sms_to(fake, serve, MARIA, 3)
            assert "1 tisdag 1 december kl. 16:00" in times and "Svara 1, 2" in times, times
            assert "Stämmer det här?" in summary and "tisdag 1 december kl. 16:00" in summary
            assert "Din förfrågan är skickad" in sent, sent
            [requested] = await wait_status(reader, serve, MeetingStatus.requested)
            assert local(requested.starts_at) == "Tue 16:00"

            pressed: set[str] = set()
            await confirm_as_anna(bot, serve, pressed)
            confirmed = (await sms_to(fake, serve, MARIA, 4))[3]
            assert "Din tid är bekräftad: tisdag 1 december kl. 16:00" in confirmed, confirmed
            await wait_status(reader, serve, MeetingStatus.confirmed)

            # Move to Thursday.
            for body in ("ändra tid", "torsdag", "1", "ja"):
                await twilio.send(MARIA, body)
            when, thursday, check, asked = (await sms_to(fake, serve, MARIA, 8))[4:]
            assert "När passar det dig?" in when, when
            assert "1 torsdag 3 december kl. 16:00" in thursday, thursday
            assert "gäller tills Anna har bekräftat den nya" in check, check
            assert "Din förfrågan är skickad" in asked, asked
            await confirm_as_anna(bot, serve, pressed)
            moved = (await sms_to(fake, serve, MARIA, 9))[8]
            assert "torsdag 3 december kl. 16:00" in moved, moved
            old, new = await wait_status(
                reader, serve, MeetingStatus.cancelled, MeetingStatus.confirmed
            )
            assert (local(old.starts_at), local(new.starts_at)) == ("Tue 16:00", "Thu 16:00")

            # Cancel, with the explicit yes it needs.
            for body in ("avboka", "1"):
                await twilio.send(MARIA, body)
            question, done = (await sms_to(fake, serve, MARIA, 11))[9:]
            assert "Vill du avboka den här tiden?" in question, question
            assert "Din tid är avbokad" in done, done
            await wait_status(reader, serve, MeetingStatus.cancelled, MeetingStatus.cancelled)
        serve.stop()
        texts = [sms.body for sms in fake.sent_to(MARIA)]

    assert len(texts) == 11, texts
    assert_fits(texts)
    # Most in two segments: the two confirmations (the full notification, with what to bring)
    # and the answer to a move (which keeps the old time too) take three.
    assert sum(segments(text) <= 2 for text in texts) >= 8, [segments(t) for t in texts]
    assert "+4670" not in serve.logged(), "a phone number reached the log"


# -- the quiet hours -------------------------------------------------------------------------


async def test_a_direct_reply_at_half_past_eleven_goes_at_once(
    services: Services, reader: Reader, database_url: str, tmp_path: Path, processes: list[Serve]
) -> None:
    clock = SetClock(datetime(2026, 12, 2, 23, 30, tzinfo=STOCKHOLM))
    world = await seed_sms_world(services, now=clock.now() - timedelta(days=3))
    planned = clock.now()
    async with transaction(services.sessions) as session:
        await add(
            session,
            notification(
                planned,
                recipient=MARIA,
                template=Template.nudge,
                card_id=world.cards["SE-1"],
                idempotency_key="nudge:test:sms",
            ),
        )
    with FakeTwilio(clock=clock.now) as fake:
        serve = start_serve(environment(database_url, fake), clock, tmp_path)
        processes.append(serve)
        async with TwilioInbound(f"http://127.0.0.1:{serve.port}", fake.auth_token) as twilio:
            await twilio.send(MARIA, "var är mitt kort?")
            [answer] = await sms_to(fake, serve, MARIA, 1)
        assert "Uppsala centrum" in answer, answer
        nudge = await held_nudge(reader, serve, planned)
        serve.stop()
        assert len(fake.sent_to(MARIA)) == 1

    held_until = nudge.due_at.astimezone(STOCKHOLM)
    assert (held_until.date().isoformat(), held_until.hour) == ("2026-12-03", 8)
    [reply] = await rows(reader, Template.chat_reply)
    assert reply.status == NotificationStatus.sent


async def held_nudge(reader: Reader, serve: Serve, planned: datetime) -> Notification:
    """The nudge, once the dispatcher has put it off (pending, due later than planned)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        [nudge] = await rows(reader, Template.nudge)
        if nudge.status == NotificationStatus.pending and nudge.due_at > planned:
            return nudge
        serve.alive()
        assert time.monotonic() < deadline, (nudge.status, nudge.due_at)
        await asyncio.sleep(0.05)


# -- a crash between the message and its answer ---------------------------------------------


async def test_serve_killed_between_a_message_and_its_answer_answers_once(
    services: Services, reader: Reader, database_url: str, tmp_path: Path, processes: list[Serve]
) -> None:
    clock = SetClock(datetime(2026, 12, 2, 10, 0, tzinfo=STOCKHOLM))
    lena = Holder("SE-3", "Lena", LENA)
    await seed_sms_world(
        services, now=clock.now(), holders=(MARIA_SE1, Holder("SE-2", "Ahmed", AHMED), lena)
    )
    with FakeTwilio(clock=clock.now) as fake:
        # Maria's answer never reaches Twilio; Twilio takes Ahmed's, but serve dies before it
        # hears so. Lena's answer, held first, keeps the dispatcher busy until both are written,
        # so that they leave together.
        fake.hold_sends(LENA, accept=True)
        fake.hold_sends(MARIA, accept=False)
        fake.hold_sends(AHMED, accept=True)
        environ = environment(database_url, fake)
        first = start_serve(environ, clock, tmp_path)
        processes.append(first)
        async with TwilioInbound(f"http://127.0.0.1:{first.port}", fake.auth_token) as twilio:
            await twilio.send(LENA, "hej")
            await asyncio.to_thread(fake.wait_held, 1, TIMEOUT)
            for number in (MARIA, AHMED):
                await twilio.send(number, "var är mitt kort?")
        fake.release_sends(LENA)
        held = await asyncio.to_thread(fake.wait_held, 3, TIMEOUT)
        assert sorted(held[1:]) == sorted([MARIA, AHMED])
        first.kill()
        fake.release_sends()
        left = {row.recipient: row.status for row in await rows(reader, Template.chat_reply)}
        assert left == {
            LENA: NotificationStatus.sent,
            MARIA: NotificationStatus.sending,
            AHMED: NotificationStatus.sending,
        }
        assert (len(fake.sent_to(MARIA)), len(fake.sent_to(AHMED))) == (0, 1)
        [taken] = fake.sent_to(AHMED)

        second = start_serve(environ, clock, tmp_path)
        processes.append(second)
        [maria] = await sms_to(fake, second, MARIA, 1)
        deadline = time.monotonic() + TIMEOUT
        while any(
            r.status != NotificationStatus.sent for r in await rows(reader, Template.chat_reply)
        ):
            second.alive()
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # a dispatch that would send anything again has run by now
        second.stop()
        to_maria, to_ahmed = fake.sent_to(MARIA), fake.sent_to(AHMED)

    assert [sms.body for sms in to_maria] == [maria] and "Uppsala centrum" in maria
    assert [sms.sid for sms in to_ahmed] == [taken.sid], "Ahmed's answer went twice"
    answers = {row.recipient: row for row in await rows(reader, Template.chat_reply)}
    assert answers[AHMED].provider_message_id == taken.sid
    assert answers[MARIA].provider_message_id == to_maria[0].sid
    assert "recovered 2 notifications left sending" in second.logged()
    assert "+4670" not in first.logged() + second.logged(), "a phone number reached the log"
