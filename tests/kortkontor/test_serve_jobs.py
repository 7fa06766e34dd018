"""`kortkontor serve` keeps every periodic job's promise, run as a real process on a set clock
(tests/clock.py): the admins' agenda goes out at 07:00, nudges at five past the hour, and a row
a crashed process left `sending` is recovered while serve runs, without a restart. Then
`kortkontor status` finds every job on time."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from kortkontor.wiring import Services
from models.cards import CardStatus
from models.db import transaction
from models.meetings import MeetingStatus
from models.network import Venue, get_admin_by_email, get_office_by_code
from models.network_file import read_network_toml, upsert_network
from models.outbox import Channel, Notification, NotificationStatus
from models.zone import STOCKHOLM
from tests.clock import SetClock
from tests.factories import (
    PERSONNUMMER,
    add,
    add_card,
    card_user,
    meeting,
    network_toml,
    notification,
)
from tests.kortkontor import processes

KORTKONTOR = [sys.executable, "-m", "kortkontor.cli"]
# A Wednesday; serve starts this long before a job's time (start-up takes a few seconds, and
# on a busy machine up to 20).
DAY = datetime(2026, 12, 2, tzinfo=STOCKHOLM)
HEAD_START = timedelta(seconds=30)
TIMEOUT = 60.0


@dataclass
class Serve:
    """A running `kortkontor serve`: its console sinks' output and its log."""

    process: subprocess.Popen[bytes]
    out: Path
    log: Path

    def logged(self) -> str:
        return self.log.read_text(errors="replace")

    def printed(self) -> str:
        return self.out.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, and a clean exit."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0, self.logged()


def environment(database_url: str, clock: SetClock, **extra: str) -> dict[str, str]:
    """The test database, console channels, a free port and the set clock."""
    return processes.environment(database_url, **extra, **clock.environment())


def start_serve(database_url: str, clock: SetClock, folder: Path, **extra: str) -> Serve:
    """serve in the background, until it logs that it is ready."""
    out, log = folder / "serve.out", folder / "serve.log"
    with out.open("wb") as stdout, log.open("wb") as stderr:
        process = subprocess.Popen(
            [*KORTKONTOR, "serve"],
            env=environment(database_url, clock, **extra),
            cwd=folder,
            stdout=stdout,
            stderr=stderr,
        )
    serve = Serve(process, out, log)
    deadline = time.monotonic() + TIMEOUT
    while "kortkontor ready" not in serve.logged():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"serve did not start:\n{serve.logged()}")
        time.sleep(0.1)
    return serve


async def wait_until(serve: Serve, what: str, done: Callable[[], Awaitable[bool]]) -> None:
    """Poll until `done`, for TIMEOUT seconds at most; fail early if serve dies."""
    deadline = time.monotonic() + TIMEOUT
    while not await done():
        if serve.process.poll() is not None or time.monotonic() > deadline:
            serve.process.kill()
            raise AssertionError(f"{what}: not within {TIMEOUT} s\n{serve.logged()}")
        await asyncio.sleep(0.2)


async def rows(services: Services, template: str) -> list[Notification]:
    async with services.sessions() as session:
        query = select(Notification).where(Notification.template == template)
        return list((await session.exec(query.order_by(col(Notification.id)))).all())


async def all_sent(services: Services, template: str) -> bool:
    found = await rows(services, template)
    return bool(found) and all(r.status == NotificationStatus.sent for r in found)


async def seed(services: Services, *, custody_since: datetime, meeting_at: datetime) -> int:
    """Anna's office with two cards: Maria's in custody since `custody_since`, and Ahmed's
    booked for a confirmed meeting at `meeting_at`. Returns Maria's card id."""
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(network_toml(absences="[]")))
        office = await get_office_by_code(session, code="UPS1")
        anna = await get_admin_by_email(session, email="anna@example.se")
        venue = (await session.exec(select(Venue))).one()
        assert office is not None and office.id and anna is not None and anna.id
        maria, ahmed = (
            card_user(
                services.vault,
                personnummer=PERSONNUMMER[name.lower()][0],
                given_name=name,
                phone=phone,
                email=f"{name.lower()}@example.se",
            )
            for name, phone in (("Maria", "+46701112233"), ("Ahmed", "+46702223344"))
        )
        waiting = await add_card(
            session,
            services.vault,
            office,
            user=maria,
            order_ref="SE-1",
            status=CardStatus.in_custody,
            status_changed_at=custody_since,
            in_custody_since=custody_since,
        )
        booked = await add_card(
            session, services.vault, office, user=ahmed, order_ref="SE-2", status=CardStatus.booked
        )
        session.add(
            meeting(booked, anna, meeting_at, venue_id=venue.id, status=MeetingStatus.confirmed)
        )
        assert waiting.id
        return waiting.id


async def leave_a_crashed_claim(services: Services, card_id: int, now: datetime) -> int:
    """A card-arrived e-mail that a process claimed ten minutes ago and then died with."""
    claimed = now - timedelta(minutes=10)
    async with transaction(services.sessions) as session:
        row = await add(
            session,
            notification(
                claimed,
                channel=Channel.email,
                recipient="maria@example.se",
                template="card_arrived",
                status=NotificationStatus.sending,
                attempts=1,
                claimed_at=claimed,
                card_id=card_id,
            ),
        )
        assert row.id is not None
        return row.id


async def test_serve_sends_the_agenda_at_seven_and_recovers_a_crashed_claim_while_running(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    seven = DAY.replace(hour=7)
    card_id = await seed(services, custody_since=seven, meeting_at=DAY.replace(hour=10))
    clock = SetClock(seven - HEAD_START)
    # The recovery looks every second instead of every minute; claims count as crashed after
    # the usual two minutes.
    serve = start_serve(database_url, clock, tmp_path, OUTBOX_RECOVER_SECONDS="1")
    try:
        assert clock.now() < seven - timedelta(seconds=2), "serve took too long to start"
        # Start-up recovery is over: only the periodic job can find this one.
        crashed = await leave_a_crashed_claim(services, card_id, clock.now())

        async def recovered() -> bool:
            async with services.sessions() as session:
                row = await session.get(Notification, crashed)
                return row is not None and row.status == NotificationStatus.sent

        await wait_until(serve, "the crashed claim recovered and sent", recovered)
        assert clock.now() < seven, "recovered only after the agenda's time"
        assert await rows(services, "admin_agenda") == []
        await wait_until(serve, "the agenda sent", lambda: all_sent(services, "admin_agenda"))
        [agenda] = await rows(services, "admin_agenda")
        assert seven <= agenda.due_at < seven + timedelta(seconds=5)

        status = await asyncio.to_thread(
            subprocess.run,
            [*KORTKONTOR, "status"],
            env=environment(database_url, clock),
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=TIMEOUT,
        )
        serve.stop()
    finally:
        if serve.process.poll() is None:
            serve.process.kill()
    logged, printed = serve.logged(), serve.printed()
    assert "recovered 1 notifications left sending" in logged
    assert "kortkontor ready" in logged.split("recovered 1 notifications")[0]
    assert "God morgon Anna! Dina möten i dag:" in printed
    assert "10:00 – Café Linné – Ahmed Test (SE-2)" in printed
    # APScheduler's lines name each job by its id.
    assert 'Running job "admins:agenda (trigger: cron' in logged
    assert 'Running job "dispatch:recover (trigger: interval' in logged
    # The end of notice months runs at start (and daily after), on the leader.
    assert 'Running job "admins:notice-end (trigger: cron' in logged
    assert "job admins:notice-end runs on the leader" in logged
    assert "<locals>" not in logged
    assert status.returncode == 0, status.stdout + status.stderr
    for job_id in ("dispatch:tick", "dispatch:recover", "admins:agenda", "admins:notice-end"):
        assert f"{job_id} " in status.stdout
    assert "FÖRSENAT" not in status.stdout


async def test_serve_nudges_at_five_past_the_hour(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    five_past = DAY.replace(hour=10, minute=5)
    await seed(
        services, custody_since=five_past - timedelta(days=4), meeting_at=DAY.replace(hour=15)
    )
    clock = SetClock(five_past - HEAD_START)
    serve = start_serve(database_url, clock, tmp_path)
    try:
        assert clock.now() < five_past - timedelta(seconds=2), "serve took too long to start"
        assert await rows(services, "nudge") == []
        await wait_until(serve, "the nudge sent", lambda: all_sent(services, "nudge"))
        serve.stop()
    finally:
        if serve.process.poll() is None:
            serve.process.kill()
    [nudge] = await rows(services, "nudge")
    assert (nudge.channel, nudge.recipient) == (Channel.sms, "+46701112233")
    assert five_past <= nudge.due_at < five_past + timedelta(seconds=5)
    assert "[sms → +46701112233]" in serve.printed()
    assert 'Running job "cards:nudges (trigger: cron' in serve.logged()
