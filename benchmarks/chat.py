"""Benchmark of the Telegram chat against DESIGN.md's chat quality bars.

Linked card users chat with the real python-telegram-bot Application, which polls a local fake
Bot API over HTTP (tests/fakes/telegram.py) and answers through the real dialogue and database.
The far side, the fake Bot API and the simulated users, runs in a child process, as Telegram's
servers would: it does not share this process's interpreter lock. Three runs:

1. Capacity, outgoing rate limiter off: rounds of messages (status, book, a time wish, menu),
   each round sent by every user at once; updates/s over the whole run.
2. Steady load, limiter off: users write the same rounds at a steady `--rate` updates/s,
   staggered so that statuses, bookings, wishes and menus mix evenly; the latency of each
   update from the moment the fake Bot API holds it to the moment the bot's reply arrives
   there, and the rate actually served.
3. Burst with the limiter on and the fake enforcing Telegram's flood limits: `--burst` users
   write at once; replies/s against Telegram's 30 messages/s ceiling, and the number of 429s.

Run with `.venv/bin/python benchmarks/chat.py [--users N] [--rate R] [--burst N]
[--database-url URL]`. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from itertools import zip_longest
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import add_database_option, bench_services
from bot.accounts import hint_for
from bot.dialogue import Dialogue, Incoming, Within
from bot.dialogue import Reply as ChatReply
from bot.flows import converse
from bot.telegram import CHANNEL, build_application, start_polling, stop_polling
from kortkontor.serve import settle_heap
from kortkontor.wiring import Services
from models.cards import Card, CardStatus, CardUser
from models.db import transaction
from models.dialogue import DialogueState
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
Message = tuple[int, str]  # (chat, text)
Reply = tuple[int, float, float]  # (chat, sent at, reply at) on the monotonic clock
JSONish = dict[str, Any]
Run = Callable[..., JSONish]  # a command for the far side, and what it answers


async def seed(services: Services, users: int) -> None:
    """The benchmark office, and `users` card users with a card in custody, linked to chats.

    Each has the chat state that linking left behind: users link their account in the chat.
    """
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
            session.add(
                DialogueState(
                    channel=CHANNEL,
                    chat_key=str(FIRST_USER_ID + n),
                    data={"account": hint_for(user)},
                )
            )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def chats(users: range) -> list[int]:
    """The Telegram chat (= user) ids of the seeded users in `users`."""
    return [FIRST_USER_ID + n for n in users]


# -- the far side: runs in the child process --------------------------------------------------


class _Users:
    """Simulated users writing through the fake Bot API; knows which reply answers what."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.expected: dict[int, int] = {}  # chat -> replies expected once all are answered
        self.sent: list[tuple[int, int, float]] = []  # (chat, reply index, sent at)

    def write(self, chat: int, text: str) -> None:
        """The user writes `text`; its reply will be the chat's next message from the bot."""
        index = self.expected.get(chat, len(self.fake.messages(chat)))
        self.expected[chat] = index + 1
        self.sent.append((chat, index, time.monotonic()))
        self.fake.send_text(chat, text)

    def replies(self, timeout: float) -> list[Reply]:
        """Wait for every reply; (chat, sent at, reply at) for each message, in sending order."""
        deadline = time.monotonic() + timeout
        for chat, count in self.expected.items():
            self.fake.wait_messages_sync(chat, count, max(0.0, deadline - time.monotonic()))
        return [(chat, at, self.fake.messages(chat)[index].at) for chat, index, at in self.sent]


def _rounds(fake: FakeBotApi, messages: list[list[Message]]) -> JSONish:
    """Each round's messages sent at once; the next round once all are answered."""
    started = time.monotonic()
    replies: list[Reply] = []
    for round_ in messages:
        users = _Users(fake)
        for chat, text in round_:
            users.write(chat, text)
        replies += users.replies(timeout=120)
    return {"seconds": time.monotonic() - started, "replies": replies}


def _steady(fake: FakeBotApi, messages: list[Message], rate: float) -> JSONish:
    """The messages at a steady `rate` per second, whatever the replies do."""
    users = _Users(fake)
    started = time.monotonic()
    for i, (chat, text) in enumerate(messages):
        time.sleep(max(0.0, started + i / rate - time.monotonic()))
        users.write(chat, text)
    replies = users.replies(timeout=120)
    return {"seconds": max(reply for _, _, reply in replies) - started, "replies": replies}


def _burst(fake: FakeBotApi, messages: list[Message]) -> JSONish:
    """Every message at once; the time until the last reply and the 429s on the way."""
    users = _Users(fake)
    started = time.monotonic()
    for chat, text in messages:
        users.write(chat, text)
    last = max(reply for _, _, reply in users.replies(timeout=600))
    return {"seconds": last - started, "too_many_requests": fake.too_many_requests}


_COMMANDS: dict[str, Run] = {
    "rounds": _rounds,
    "steady": _steady,
    "burst": _burst,
}


def _far_side(connection: Connection, enforce_limits: bool) -> None:
    """The child process: serve the fake Bot API and run the simulated users on command."""
    with FakeBotApi(enforce_limits=enforce_limits) as fake:
        connection.send((fake.base_url, fake.token))
        while (command := connection.recv()) is not None:
            name, args = command
            connection.send(_COMMANDS[name](fake, *args))


@contextmanager
def far_side(*, enforce_limits: bool) -> Iterator[tuple[str, str, Run]]:
    """Start the child process; yields the Bot API's base URL, its token and `run(command)`."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_far_side, args=(theirs, enforce_limits), daemon=True
    )
    process.start()
    base_url, token = ours.recv()

    def run(name: str, *args: Any) -> JSONish:
        ours.send((name, args))
        return ours.recv()

    try:
        yield base_url, token, run
    finally:
        ours.send(None)
        process.join(10)


# -- this side: the bot -------------------------------------------------------------------------


class TimedDialogue(Dialogue):
    """The real dialogue, noting when it begins each chat's updates: latency minus queueing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.began: dict[int, list[float]] = defaultdict(list)

    async def handle(self, incoming: Incoming, *, within: Within | None = None) -> list[ChatReply]:
        self.began[int(incoming.chat_key)].append(time.monotonic())
        return await super().handle(incoming, within=within)

    def figures(self, replies: list[Reply]) -> JSONish:
        """p50/p99/max of the latency (sent → reply) and of the handling (begun → reply)."""
        latencies = [reply - sent for _, sent, reply in replies]
        nth: dict[int, int] = defaultdict(int)
        handling = []
        for chat, _, reply in replies:  # a chat's replies come in the order of its updates
            handling.append(reply - self.began[chat][nth[chat]])
            nth[chat] += 1
        return {**_figures("", latencies), **_figures("handling_", handling)}


def _figures(prefix: str, seconds: list[float]) -> JSONish:
    return {
        f"{prefix}p50_ms": round(statistics.median(seconds) * 1000, 1),
        f"{prefix}p99_ms": round(percentile(seconds, 99) * 1000, 1),
        f"{prefix}max_ms": round(max(seconds) * 1000, 1),
    }


@asynccontextmanager
async def bot(
    services: Services, *, rate_limited: bool
) -> AsyncIterator[tuple[Run, TimedDialogue]]:
    """The real Application with the real dialogue, polling the far side."""
    with far_side(enforce_limits=rate_limited) as (base_url, token, run):
        dialogue = TimedDialogue(services.sessions, services.vault, converse)
        application = build_application(
            token=token, base_url=base_url, dialogue=dialogue, rate_limited=rate_limited
        )
        await start_polling(application)
        settle_heap()  # as `kortkontor serve` does once it is up
        try:
            yield run, dialogue
        finally:
            await stop_polling(application)


async def capacity(services: Services, users: range) -> JSONish:
    """Every user sends ROUND, each round once all replies of the previous one arrived."""
    rounds = [[(chat, text) for chat in chats(users)] for text in ROUND]
    async with bot(services, rate_limited=False) as (run, dialogue):
        # The bot's own CPU (all its threads; the far side is another process): on a shared
        # machine it varies far less than the wall-clock capacity does.
        cpu = time.process_time()
        result = await asyncio.to_thread(run, "rounds", rounds)
        cpu = time.process_time() - cpu
    updates = len(users) * len(ROUND)
    return {
        "users": len(users),
        "updates": updates,
        "seconds": round(result["seconds"], 2),
        "updates_per_s": round(updates / result["seconds"], 1),
        "cpu_ms_per_update": round(cpu / updates * 1000, 2),
        **dialogue.figures(result["replies"]),
    }


async def steady(services: Services, users: range, rate: float) -> JSONish:
    """Users write ROUND at a steady `rate` updates/s; per-update latency, limiter off."""
    messages = staggered(chats(users), group=50)
    async with bot(services, rate_limited=False) as (run, dialogue):
        result = await asyncio.to_thread(run, "steady", messages, rate)
    return {
        "rate": rate,
        "users": len(users),
        "updates": len(messages),
        "served_per_s": round(len(messages) / result["seconds"], 1),
        **dialogue.figures(result["replies"]),
    }


def staggered(everyone: list[int], *, group: int) -> list[Message]:
    """Each user's ROUND in order, groups of users starting one wave after the other.

    Once the first groups are under way, every wave holds all the steps of ROUND in equal
    shares, interleaved, as real traffic would be, instead of a phase of wishes after a
    phase of statuses.
    """
    groups = [everyone[i : i + group] for i in range(0, len(everyone), group)]
    messages: list[Message] = []
    for wave in range(len(groups) + len(ROUND) - 1):
        steps = [
            [(chat, ROUND[wave - start]) for chat in members]
            for start, members in enumerate(groups)
            if 0 <= wave - start < len(ROUND)
        ]
        messages += [message for turn in zip_longest(*steps) for message in turn if message]
    return messages


async def burst(services: Services, users: range) -> JSONish:
    """`users` people write at once; the limiter on, the fake enforcing flood limits."""
    async with bot(services, rate_limited=True) as (run, _):
        result = await asyncio.to_thread(run, "burst", [(c, "/status") for c in chats(users)])
    per_second = len(users) / result["seconds"]
    return {
        "users": len(users),
        "seconds": round(result["seconds"], 2),
        "replies_per_s": round(per_second, 2),
        "share_of_ceiling": round(per_second / 30, 3),
        "too_many_requests": result["too_many_requests"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300, help="users in the capacity run")
    parser.add_argument("--rate", type=float, default=300, help="updates/s of the steady run")
    parser.add_argument("--steady-users", type=int, default=600)
    parser.add_argument("--burst", type=int, default=1000)
    add_database_option(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    async with bench_services(args.database_url) as services:
        # Each run has its own users: a fresh fake Bot API numbers its updates from 1 again.
        first, second = args.users, args.users + args.steady_users
        await seed(services, second + args.burst)
        cap = await capacity(services, range(first))
        print(f"capacity: {cap}")
        load = await steady(services, range(first, second), args.rate)
        print(f"steady load: {load}")
        flood = await burst(services, range(second, second + args.burst)) if args.burst else {}
        print(f"burst with limiter: {flood}")
    print(
        json.dumps(
            {
                "updates_per_s": cap["updates_per_s"],
                "cpu_ms_per_update": cap["cpu_ms_per_update"],
                "steady_rate": load["rate"],
                "steady_served_per_s": load["served_per_s"],
                "p99_ms": load["p99_ms"],
                "limited_replies_per_s": flood.get("replies_per_s"),
                "too_many_requests": flood.get("too_many_requests"),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
