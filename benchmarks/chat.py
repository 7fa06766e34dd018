"""Benchmark of the Telegram chat against DESIGN.md's chat quality bars.

N linked card users chat with the real python-telegram-bot Application, which polls a local
fake Bot API over HTTP (tests/fakes/telegram.py) and answers through the real dialogue on a
SQLite file. Two runs:

1. Capacity, outgoing rate limiter off: every user sends a round of messages (status, book, a
   time wish, menu); updates/s over the whole run, and the latency of each update from the
   moment the fake Bot API holds it to the moment the bot's reply arrives there.
2. Burst with the limiter on and the fake enforcing Telegram's flood limits: 1,000 users write
   at once; replies/s against Telegram's 30 messages/s ceiling, and the number of 429s.

Run with `.venv/bin/python benchmarks/chat.py [--users N] [--burst N]`. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.dialogue import Dialogue
from bot.flows import converse
from bot.telegram import build_application, start_polling, stop_polling
from kortkontor.settings import Settings
from kortkontor.wiring import Services, build_services
from models.cards import Card, CardStatus, CardUser
from models.db import transaction
from models.migrate import upgrade_to_head
from models.network import get_office_by_code
from models.network_file import read_network_toml, upsert_network
from tests.factories import network_toml, windows_toml
from tests.fakes.telegram import FakeBotApi

ROUND = ("/status", "/boka", "tisdag eftermiddag", "/meny")
FIRST_USER_ID = 100_000
# The tests' one-office network file, open long days so that there are slots to offer.
NETWORK = network_toml(
    code="BENCH",
    windows=windows_toml(("mon", "tue", "thu"), "08:00", "19:00"),
    absences="[]",
)


async def seed(services: Services, users: int) -> None:
    """The benchmark office, and `users` card users with a card in custody, linked to chats."""
    await asyncio.to_thread(upgrade_to_head, services.settings.database_url)
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(NETWORK))
        office = await get_office_by_code(session, code="BENCH")
        assert office is not None and office.id is not None
        for n in range(users):
            user = CardUser(
                given_name=f"Användare{n}",
                family_name="Test",
                personnummer_encrypted=services.vault.encrypt("199001010017"),
                personnummer_hmac=f"bench-{n}",
                phone=f"+4670{n:07d}",
                email=f"u{n}@example.se",
                telegram_user_id=FIRST_USER_ID + n,
            )
            session.add(user)
            await session.flush()
            assert user.id is not None
            session.add(
                Card(
                    order_ref=f"B-{n}",
                    office_id=office.id,
                    card_user_id=user.id,
                    status=CardStatus.in_custody,
                )
            )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _until(fake: FakeBotApi, expected: dict[int, int], seconds: float) -> None:
    """Wait until each chat has its expected number of replies, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while any(len(fake.messages(chat)) < count for chat, count in expected.items()):
        if time.monotonic() > deadline:
            missing = sum(count - len(fake.messages(c)) for c, count in expected.items())
            raise RuntimeError(f"{missing} replies missing after {seconds} s")
        await asyncio.sleep(0.01)


async def capacity(services: Services, users: range) -> dict[str, Any]:
    """Every user sends ROUND, one message after the other reply; limiter off."""
    with FakeBotApi() as fake:
        dialogue = Dialogue(services.sessions, services.vault, converse)
        application = build_application(
            token=fake.token, base_url=fake.base_url, dialogue=dialogue, rate_limited=False
        )
        await start_polling(application)
        latencies: list[float] = []
        try:
            started = time.monotonic()
            for text in ROUND:
                sent_at: dict[int, float] = {}
                before = {FIRST_USER_ID + n: len(fake.messages(FIRST_USER_ID + n)) for n in users}
                for chat in before:
                    sent_at[chat] = time.monotonic()
                    fake.send_text(chat, text)
                await _until(fake, {chat: count + 1 for chat, count in before.items()}, 120)
                for chat, count in before.items():
                    latencies.append(fake.messages(chat)[count].at - sent_at[chat])
            elapsed = time.monotonic() - started
        finally:
            await stop_polling(application)
    updates = len(users) * len(ROUND)
    return {
        "users": len(users),
        "updates": updates,
        "seconds": round(elapsed, 2),
        "updates_per_s": round(updates / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
    }


async def latency(services: Services, users: range, rate: float) -> dict[str, Any]:
    """Users write at a steady `rate` updates/s; per-update latency, limiter off."""
    with FakeBotApi() as fake:
        dialogue = Dialogue(services.sessions, services.vault, converse)
        application = build_application(
            token=fake.token, base_url=fake.base_url, dialogue=dialogue, rate_limited=False
        )
        await start_polling(application)
        try:
            sent: list[tuple[int, int, float]] = []
            for i in users:
                chat = FIRST_USER_ID + i
                sent.append((chat, len(fake.messages(chat)), time.monotonic()))
                fake.send_text(chat, "/status")
                await asyncio.sleep(1 / rate)
            await _until(fake, {chat: count + 1 for chat, count, _ in sent}, 60)
        finally:
            await stop_polling(application)
    samples = [fake.messages(chat)[count].at - at for chat, count, at in sent]
    return {
        "rate": rate,
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p99_ms": round(percentile(samples, 99) * 1000, 1),
    }


async def burst(services: Services, users: range) -> dict[str, Any]:
    """`users` people write at once; the limiter on, the fake enforcing flood limits."""
    with FakeBotApi(enforce_limits=True) as fake:
        dialogue = Dialogue(services.sessions, services.vault, converse)
        application = build_application(
            token=fake.token, base_url=fake.base_url, dialogue=dialogue, rate_limited=True
        )
        await start_polling(application)
        try:
            before = {FIRST_USER_ID + n: len(fake.messages(FIRST_USER_ID + n)) for n in users}
            started = time.monotonic()
            for chat in before:
                fake.send_text(chat, "/status")
            await _until(fake, {chat: count + 1 for chat, count in before.items()}, 600)
            replies = sorted(fake.messages(chat)[count].at for chat, count in before.items())
        finally:
            await stop_polling(application)
    elapsed = replies[-1] - started
    per_second = len(users) / elapsed
    return {
        "users": len(users),
        "seconds": round(elapsed, 2),
        "replies_per_s": round(per_second, 2),
        "share_of_ceiling": round(per_second / 30, 3),
        "too_many_requests": fake.too_many_requests,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=60)
    parser.add_argument(
        "--database-url", help="an empty database (default: a fresh SQLite file)", default=None
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        services = build_services(Settings(database_url=url), secret_key="bench-" * 8)
        # Each run has its own users: a fresh fake Bot API numbers its updates from 1 again.
        n = args.users
        try:
            await seed(services, 2 * n + args.burst)
            cap = await capacity(services, range(n))
            print(f"capacity: {cap}")
            steady = await latency(services, range(n, 2 * n), args.rate)
            print(f"steady load: {steady}")
            flood = await burst(services, range(2 * n, 2 * n + args.burst)) if args.burst else {}
            print(f"burst with limiter: {flood}")
        finally:
            await services.close()
    print(
        json.dumps(
            {
                "updates_per_s": cap["updates_per_s"],
                "p99_ms": steady["p99_ms"],
                "burst_p99_ms": cap["p99_ms"],
                "limited_replies_per_s": flood.get("replies_per_s"),
                "too_many_requests": flood.get("too_many_requests"),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
