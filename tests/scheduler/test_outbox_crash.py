"""DESIGN.md's fault bar for the outbox: `kortkontor serve` is killed (SIGKILL) in the middle
of sending 1,000 SMS through the fake Twilio and started again; every number gets its message
exactly once, and every row records the SID of the message that number got.

Real processes and real HTTP: the service runs as `python -m kortkontor.cli serve`, and the
restarted one finds what the killed one had handed to Twilio by asking Twilio's list API.
serve and the fake Twilio run on a set clock in the morning (tests/clock.py), so the SMS quiet
hours never hold the messages, whatever the hour the tests run at.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import async_url, make_sessionmaker, transaction
from models.network import get_office_by_code
from models.network_file import read_network_toml, upsert_network
from models.outbox import Channel, Notification, NotificationStatus
from models.zone import STOCKHOLM
from scheduler import notifications
from tests.clock import SetClock
from tests.factories import card, card_user, network_toml
from tests.fakes.twilio import FakeTwilio, SentSms
from tests.kortkontor import processes

Reader = async_sessionmaker[AsyncSession]
KORTKONTOR = [sys.executable, "-m", "kortkontor.cli", "serve"]
CARDS = 1_000
# Kill in the middle of a batch's sends: a batch claims 200 rows, 100 SMS and 100 e-mails.
KILL_AFTER = 450
SENDING_TIMEOUT = 180.0
SENDER_NUMBER = "+46701740699"
# What serve would need to recover a fresh claim on PostgreSQL (see `recovery_environment`).
STALE_CLAIM_SETTING = "outbox_stale_claim_seconds"


def phone(n: int) -> str:
    """The n-th card user's number."""
    return f"+4670{n:07d}"


def a_morning() -> SetClock:
    """A clock for serve and the fake Twilio at 10:00 in Stockholm: outside the SMS quiet
    hours, whenever the test runs."""
    return SetClock(datetime(2026, 12, 2, 10, 0, tzinfo=STOCKHOLM))


def an_hour_before(clock: SetClock) -> datetime:
    """When the rows fell due: they are sent at once."""
    return clock.now() - timedelta(hours=1)


async def seed(services: Services) -> None:
    """An office with CARDS card users, each with a card in custody."""
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(network_toml(absences="[]")))
        office = await get_office_by_code(session, code="UPS1")
        assert office is not None and office.id is not None
        users = [
            card_user(
                services.vault, given_name=f"Användare{n}", phone=phone(n), email=f"u{n}@example.se"
            )
            for n in range(CARDS)
        ]
        session.add_all(users)
        await session.flush()
        session.add_all(
            card(user, office, order_ref=f"C-{n}", status=CardStatus.in_custody)
            for n, user in enumerate(users)
        )


async def plan_card_arrived(services: Services, now: datetime) -> None:
    """Every card's arrival in one transaction: an SMS row and an e-mail row per card."""
    async with transaction(services.sessions) as session:
        for card in (await session.exec(select(Card).order_by(col(Card.id)))).all():
            await notifications.card_arrived(session, card, now=now)


@pytest.fixture
async def reader(database_url: str) -> AsyncIterator[Reader]:
    """Sessions that only look. On SQLite a plain connection reads the WAL at once, while the
    service's engine begins every transaction IMMEDIATE and so would queue behind serve's writes
    (on a loaded machine, past the busy timeout)."""
    engine = create_async_engine(async_url(database_url))
    yield make_sessionmaker(engine)
    await engine.dispose()


async def sms_rows(reader: Reader) -> list[Notification]:
    """Every SMS row, as it stands."""
    async with reader() as session:
        query = select(Notification).where(Notification.channel == Channel.sms)
        return list((await session.exec(query)).all())


async def count_by_status(reader: Reader, channel: Channel) -> Counter[str]:
    """How many rows of this channel are in each state."""
    async with reader() as session:
        query = (
            select(Notification.status, func.count())
            .where(Notification.channel == channel)
            .group_by(Notification.status)
        )
        return Counter({str(status): n for status, n in (await session.exec(query)).all()})


def recovery_environment(database_url: str) -> dict[str, str]:
    """What serve needs to recover at once what the killed process left `sending`: on
    SQLite it does so anyway; on PostgreSQL only claims older than 2 minutes, unless told."""
    if database_url.startswith("sqlite"):
        return {}
    return {"OUTBOX_STALE_CLAIM_SECONDS": "0"}


def serve_environment(
    database_url: str, fake: FakeTwilio, recovery: dict[str, str]
) -> dict[str, str]:
    """serve on the test database, SMS through the fake Twilio, e-mail to the console (the
    set clock is added at each start)."""
    return {
        **processes.environment(database_url),
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM": SENDER_NUMBER,
        "TWILIO_API_BASE_URL": fake.base_url,
        "TWILIO_MESSAGES_PER_SECOND": "1000",
        **recovery,
    }


def start_serve(
    environment: dict[str, str], clock: SetClock, folder: Path, log: Path
) -> subprocess.Popen[bytes]:
    """`kortkontor serve` in the background on the set clock; stderr to `log`, the e-mail
    console discarded."""
    with log.open("ab") as stderr:
        return subprocess.Popen(
            KORTKONTOR,
            env={**environment, **clock.environment()},
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Make sure the process is gone."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=20)


def read(log: Path) -> str:
    """What serve logged so far."""
    return log.read_text(errors="replace")


def wait_messages(fake: FakeTwilio, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the fake holds KILL_AFTER messages; fail early if serve dies."""
    deadline = time.monotonic() + SENDING_TIMEOUT
    while True:
        with suppress(AssertionError):
            fake.wait_messages_sync(KILL_AFTER, timeout=0.5)
            return
        if process.poll() is not None or time.monotonic() > deadline:
            got = len(fake.messages)
            raise AssertionError(f"{got} SMS; serve exit code {process.poll()}:\n{read(log)}")


async def wait_all_sms_sent(reader: Reader, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the database until every SMS row is `sent`; fail early if serve dies."""
    deadline = time.monotonic() + SENDING_TIMEOUT
    while True:
        counts = await count_by_status(reader, Channel.sms)
        if counts[NotificationStatus.sent] == CARDS:
            return
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{read(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"SMS rows after {SENDING_TIMEOUT} s: {dict(counts)}")
        await asyncio.sleep(0.2)


def by_number(messages: list[SentSms]) -> dict[str, list[SentSms]]:
    """The fake's messages, grouped by recipient."""
    grouped: dict[str, list[SentSms]] = {}
    for message in messages:
        grouped.setdefault(message.to, []).append(message)
    return grouped


async def test_a_killed_dispatcher_neither_loses_nor_repeats_sms(
    services: Services, reader: Reader, database_url: str, tmp_path: Path
) -> None:
    recovery = recovery_environment(database_url)
    clock = a_morning()
    await seed(services)
    await plan_card_arrived(services, an_hour_before(clock))
    assert (await count_by_status(reader, Channel.sms))[NotificationStatus.pending] == CARDS
    log = tmp_path / "serve.log"

    with FakeTwilio(clock=clock.now) as fake:
        environment = serve_environment(database_url, fake, recovery)
        first = start_serve(environment, clock, tmp_path, log)
        try:
            wait_messages(fake, first, log)
        finally:
            first.send_signal(signal.SIGKILL)
            stop(first)
        sent_before_kill = by_number(fake.messages)
        assert KILL_AFTER <= len(sent_before_kill) < CARDS

        # The kill landed mid-dispatch: rows left `sending`, some already with Twilio.
        left = [r for r in await sms_rows(reader) if r.status == NotificationStatus.sending]
        handed_over = [r for r in left if r.recipient in sent_before_kill]
        assert handed_over and len(handed_over) < len(left), (len(handed_over), len(left))
        emails_left = (await count_by_status(reader, Channel.email))[NotificationStatus.sending]

        second = start_serve(environment, clock, tmp_path, log)
        try:
            await wait_all_sms_sent(reader, second, log)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=20) == 0
        finally:
            stop(second)
        received = by_number(fake.messages)

    repeated = {number: len(sms) for number, sms in received.items() if len(sms) > 1}
    assert repeated == {}, f"numbers that got more than one SMS: {repeated}"
    assert set(received) == {phone(n) for n in range(CARDS)}, "numbers without an SMS"
    rows = await sms_rows(reader)
    assert len(rows) == CARDS
    for row in rows:
        [message] = received[row.recipient]
        assert (row.status, row.provider_message_id) == (NotificationStatus.sent, message.sid)
    for row in handed_over:  # found at Twilio, not sent again
        assert received[row.recipient] == sent_before_kill[row.recipient]
    logged = read(log)
    assert f"recovered {len(left) + emails_left} notifications left sending" in logged
    assert "+4670" not in logged, "a phone number reached the log"
    assert (await count_by_status(reader, Channel.email))[NotificationStatus.failed] == 0


async def test_sigterm_mid_dispatch_leaves_nothing_sending(
    services: Services, reader: Reader, database_url: str, tmp_path: Path
) -> None:
    clock = a_morning()
    await seed(services)
    await plan_card_arrived(services, an_hour_before(clock))
    log = tmp_path / "serve.log"
    with FakeTwilio(clock=clock.now) as fake:
        process = start_serve(serve_environment(database_url, fake, {}), clock, tmp_path, log)
        try:
            wait_messages(fake, process, log)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            stop(process)
        sent = by_number(fake.messages)
    counts = await count_by_status(reader, Channel.sms)
    assert counts[NotificationStatus.sending] == 0, dict(counts)
    assert (await count_by_status(reader, Channel.email))[NotificationStatus.sending] == 0
    # Every SMS that reached Twilio is recorded as sent: the batch ran to its end.
    assert counts[NotificationStatus.sent] == len(sent)
