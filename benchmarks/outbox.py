"""Benchmark of the outbox against DESIGN.md's outbox quality bars.

1. Dispatch: N due notifications of template `card_arrived` (an SMS row and an e-mail row per
   card in custody, as `notifications.card_arrived` plans them) are sent in-process by a
   `Dispatcher` with a real `TwilioSender` (no rate limit) against the fake Twilio REST API of
   `tests/fakes/twilio.py`, and the console sink for e-mail writing to an in-memory stream.
   The fake runs in a process of its own by default (as Twilio would), or with
   `--fake-in-process` on a thread of this one. Reported: notifications dispatched per second,
   duplicates (messages beyond the first per number or address) and lost ones (rows not
   `sent`, numbers or addresses that got nothing).
2. Start-up: 100,000 pending notifications due tomorrow are added; the time from constructing
   a `Dispatcher` to having run `recover()`, computed `next_due()` and started
   `scheduler.jobs.Jobs`; then, apart, how long the jobs it runs at once (the first tick and
   the expiry of requests) take before it is shut down.

Run with `.venv/bin/python benchmarks/outbox.py [--notifications N] [--pending N]`. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import multiprocessing
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import SQLModel, col, func, select

from benchmarks.common import add_database_option, bench_services
from kortkontor.wiring import Services
from models.cards import Card, CardStatus, CardUser
from models.db import transaction
from models.migrate import upgrade_to_head
from models.network import get_office_by_code
from models.network_file import read_network_toml, upsert_network
from models.outbox import Channel, Notification, NotificationStatus
from models.zone import STOCKHOLM
from scheduler.channels.base import Sender
from scheduler.channels.console import ConsoleSender
from scheduler.channels.sms import TwilioSender
from scheduler.dispatch import Dispatcher
from scheduler.jobs import Jobs
from scheduler.notifications import Template
from scheduler.rendering import RenderSettings
from tests.factories import network_toml, windows_toml
from tests.fakes.twilio import FakeTwilio

CHUNK = 5_000
SENDER_NUMBER = "+46701740699"
# The tests' one-office network file, open long days so that there are slots to offer.
NETWORK = network_toml(
    code="BENCH",
    windows=windows_toml(("mon", "thu"), "08:00", "19:00"),
    absences="[]",
)
EMAIL_HEADING = re.compile(r"^\[email → (\S+)\]", re.MULTILINE)


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows, CHUNK at a time."""
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def insert_rows(services: Services, table: str, rows: list[dict[str, Any]]) -> None:
    """Core executemany inserts into a table, one transaction per chunk."""
    statement = insert(SQLModel.metadata.tables[table])
    for chunk in chunks(rows):
        async with transaction(services.sessions) as session:
            await (await session.connection()).execute(statement, chunk)


async def seed_cards(services: Services, cards: int, now: datetime) -> list[int]:
    """The benchmark office and `cards` card users with a card in custody; the card ids."""
    await asyncio.to_thread(upgrade_to_head, services.settings.database_url)
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(NETWORK))
        office = await get_office_by_code(session, code="BENCH")
        assert office is not None and office.id is not None
    encrypted = services.vault.encrypt("199001010017")
    users = [
        {
            "given_name": f"Användare{n}",
            "family_name": "Test",
            "personnummer_encrypted": encrypted,
            "personnummer_hmac": f"bench-{n}",
            "phone": f"+4670{n:07d}",
            "email": f"u{n}@example.se",
            "locale": "sv",
            "created_at": now,
        }
        for n in range(cards)
    ]
    await insert_rows(services, "card_user", users)
    async with services.sessions() as session:
        user_ids = (await session.exec(select(CardUser.id).order_by(col(CardUser.id)))).all()
    card_rows = [
        {
            "order_ref": f"B-{n}",
            "office_id": office.id,
            "card_user_id": user_id,
            "status": CardStatus.in_custody,
            "ordered_at": now,
            "status_changed_at": now,
        }
        for n, user_id in enumerate(user_ids)
    ]
    await insert_rows(services, "card", card_rows)
    async with services.sessions() as session:
        card_ids = (await session.exec(select(Card.id).order_by(col(Card.id)))).all()
    return [card_id for card_id in card_ids if card_id is not None]


def notification(
    channel: Channel, recipient: str, key: str, due: datetime, card_id: int | None
) -> dict[str, Any]:
    """One pending `card_arrived` row, as `notifications.card_arrived` writes it."""
    return {
        "channel": channel,
        "recipient": recipient,
        "template": Template.card_arrived,
        "payload": {},
        "due_at": due,
        "idempotency_key": key,
        "status": NotificationStatus.pending,
        "attempts": 0,
        "card_id": card_id,
        "created_at": due,
    }


async def plan_arrivals(services: Services, card_ids: list[int], now: datetime) -> None:
    """An SMS row and an e-mail row per card, due now."""
    rows = []
    for n, card_id in enumerate(card_ids):
        key = f"card:{card_id}:arrived:{now:%Y%m%d%H%M%S}"
        rows.append(notification(Channel.sms, f"+4670{n:07d}", f"{key}:sms", now, card_id))
        rows.append(notification(Channel.email, f"u{n}@example.se", f"{key}:email", now, card_id))
    await insert_rows(services, "notification", rows)


def run_fake(conn: Connection) -> None:
    """FakeTwilio in a process of its own: send its address, and on request its messages."""
    with FakeTwilio() as fake:
        conn.send((fake.account_sid, fake.auth_token, fake.base_url))
        conn.recv()
        conn.send([(sms.to, sms.sid) for sms in fake.messages])


class FakeProcess:
    """FakeTwilio run by `run_fake` in a spawned process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=run_fake, args=(child,), daemon=True)
        self._process.start()
        self.account_sid, self.auth_token, self.base_url = self._conn.recv()

    def messages(self) -> list[tuple[str, str]]:
        """(to, sid) of every message the fake accepted; stops the fake."""
        self._conn.send("collect")
        received: list[tuple[str, str]] = self._conn.recv()
        self._process.join(10)
        return received


async def dispatch(services: Services, notifications: int, in_process: bool) -> dict[str, Any]:
    """Seed `notifications` due rows, dispatch them all, and count what arrived."""
    # Ten in the morning in Stockholm, whenever it runs: at night the SMS quiet hours would
    # hold every SMS, and only the e-mails would be measured.
    now = datetime.now(STOCKHOLM).replace(hour=10, minute=0, second=0, microsecond=0)
    now = now.astimezone(UTC)
    card_ids = await seed_cards(services, notifications // 2, now)
    await plan_arrivals(services, card_ids, now)
    fake: FakeTwilio | FakeProcess = FakeTwilio().start() if in_process else FakeProcess()
    sms = TwilioSender(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=SENDER_NUMBER,
        base_url=fake.base_url,
        messages_per_second=float("inf"),
    )
    mailbox = io.StringIO()
    senders: dict[Channel, Sender] = {
        Channel.sms: sms,
        Channel.email: ConsoleSender("email", mailbox),
    }
    dispatcher = Dispatcher(services.sessions, senders, RenderSettings(), clock=lambda: now)
    try:
        started = time.perf_counter()
        handled = await dispatcher.run_due()
        elapsed = time.perf_counter() - started
    finally:
        await sms.close()
        if isinstance(fake, FakeTwilio):
            received = [(m.to, m.sid) for m in fake.messages]
            fake.stop()
        else:
            received = fake.messages()
    counts = await count_outcomes(services, received, EMAIL_HEADING.findall(mailbox.getvalue()))
    return {
        "notifications": handled,
        "seconds": round(elapsed, 2),
        "dispatched_per_s": round(handled / elapsed, 1),
        "fake": "this process" if in_process else "own process",
        **counts,
    }


async def count_outcomes(
    services: Services, sms: list[tuple[str, str]], emails: list[str]
) -> dict[str, int]:
    """Duplicates (extra messages per recipient) and lost rows or recipients."""
    async with services.sessions() as session:
        rows = (await session.exec(select(Notification))).all()
    arrived = {Channel.sms: Counter(to for to, _ in sms), Channel.email: Counter(emails)}
    sids = dict(sms)
    duplicates = sum(n - 1 for counter in arrived.values() for n in counter.values() if n > 1)
    lost = 0
    for row in rows:
        channel = Channel(row.channel)
        got = arrived[channel][row.recipient]
        wrong_sid = channel == Channel.sms and sids.get(row.recipient) != row.provider_message_id
        if row.status != NotificationStatus.sent or got == 0 or wrong_sid:
            lost += 1
    return {"sms": len(sms), "emails": len(emails), "duplicates": duplicates, "lost": lost}


async def startup(services: Services, pending: int) -> dict[str, Any]:
    """Add `pending` rows due tomorrow; time a dispatcher's start-up over them."""
    due = datetime.now(UTC) + timedelta(days=1)
    rows = [
        notification(Channel.sms, f"+4671{n:07d}", f"startup:{n}:sms", due, None)
        for n in range(pending)
    ]
    await insert_rows(services, "notification", rows)
    async with services.sessions() as session:
        query = select(func.count()).where(Notification.status == NotificationStatus.pending)
        waiting = (await session.exec(query)).one()
    senders: dict[Channel, Sender] = {Channel.sms: ConsoleSender("sms", io.StringIO())}
    started = time.perf_counter()
    dispatcher = Dispatcher(services.sessions, senders, RenderSettings())
    recovered = await dispatcher.recover(stale_after=timedelta(0))
    upcoming = await dispatcher.next_due()
    jobs = Jobs(dispatcher, services.sessions)
    await jobs.start()
    elapsed = time.perf_counter() - started
    await settle()
    first_jobs = time.perf_counter() - started - elapsed
    await jobs.shutdown()
    await asyncio.sleep(0.01)  # the scheduler shuts down on the loop's next turn
    assert upcoming is not None and upcoming > datetime.now(UTC)
    return {
        "pending": waiting,
        "recovered": recovered,
        "startup_s": round(elapsed, 3),
        "first_jobs_s": round(first_jobs, 3),
    }


async def settle() -> None:
    """Wait until the jobs the scheduler runs at start (first tick, expiry) have finished."""
    while True:
        await asyncio.sleep(0.01)
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if not others:
            return
        await asyncio.gather(*others)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--fake-in-process", action="store_true")
    add_database_option(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    async with bench_services(args.database_url) as services:
        sent = await dispatch(services, args.notifications, args.fake_in_process)
        print(f"dispatch: {sent}")
        start = await startup(services, args.pending)
        print(f"start-up: {start}")
    print(
        json.dumps(
            {
                "dispatched_per_s": sent["dispatched_per_s"],
                "startup_s": start["startup_s"],
                "duplicates": sent["duplicates"],
                "lost": sent["lost"],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
