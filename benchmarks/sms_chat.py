"""Benchmark of the SMS chat against issue 14's measures: the messages a booking takes, the SMS
segments it costs, and the time from an inbound webhook to its answer reaching Twilio.

`kortkontor serve`'s parts run in this process (`kortkontor.serve.start`, the heap settled as
`serve` does), with SMS going to the fake Twilio of tests/fakes/twilio.py over HTTP on
127.0.0.1. The fake and Twilio's side of the inbound messages (signed webhooks posted to the
real web app) run in a child process, as Twilio's servers would: they do not share this
process's interpreter lock. Every answer goes the production way: written to the outbox in
the message's transaction, sent by the dispatcher that the commit pokes.

1. A booking: card user Maria writes «tisdag eftermiddag», «1», «ja», each once the answer
   before has arrived; the messages it takes, and the segments of every answer. Then the admin
   confirms (scheduler.booking, as her chat does) and the confirmation SMS is counted as well
   (not during the quiet hours, when it waits for the morning).
2. Steady load: `--rate` inbound SMS a second for `--seconds` from distinct card users (each
   writes «var är mitt kort?», «boka», «tisdag eftermiddag», «meny», spread over the run, so
   that no number nears the 20 answers an hour); per message the time from posting the webhook
   to its answer reaching the fake Twilio (p50, p99, max), and the webhook's own response time.

Twilio's sender spaces its sends at TWILIO_MESSAGES_PER_SECOND (10 by default, which would
throttle 20 answers a second): it is set to `--twilio-rate`, 100 by default.

Run with `.venv/bin/python benchmarks/sms_chat.py [--rate 20] [--seconds 30]
[--database-url URL]`. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import multiprocessing
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr
from sqlmodel import select

from benchmarks.chat import percentile
from benchmarks.common import add_database_option, bench_services
from bot.sms_text import is_gsm7, segments
from kortkontor.serve import Running, settle_heap, start
from kortkontor.wiring import Services
from models.db import transaction
from models.meetings import Meeting, MeetingStatus
from models.migrate import upgrade_to_head
from models.types import utcnow
from scheduler import booking
from scheduler.notifications import in_quiet_hours
from tests.fakes.twilio import FakeTwilio
from tests.fakes.twilio_inbound import SERVICE_NUMBER, TwilioInbound
from tests.sms_world import MARIA, MARIA_SE1, Holder, phone, seed_sms_world

BOOKING = ("tisdag eftermiddag", "1", "ja")
ROUND = ("var är mitt kort?", "boka", "tisdag eftermiddag", "meny")
REPLY_TIMEOUT = 60.0
JSONish = dict[str, Any]
Run = Callable[..., Any]


# -- the far side: the fake Twilio and Twilio's webhooks, in the child process -----------------


def _next_reply(fake: FakeTwilio, number: str, count: int, timeout: float) -> list[Any]:
    """The number's messages once there are `count`."""
    deadline = time.monotonic() + timeout
    while len(got := fake.sent_to(number)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(got)} SMS to {number}, expected {count}")
        time.sleep(0.002)
    return got


def _converse(fake: FakeTwilio, url: str, number: str, texts: list[str]) -> list[JSONish]:
    """Each text once the answer to the one before has arrived; the answers and their times."""

    async def talk() -> list[JSONish]:
        answers = []
        async with TwilioInbound(url, fake.auth_token) as twilio:
            for text in texts:
                before = len(fake.sent_to(number))
                sent = time.monotonic()
                await twilio.send(number, text)
                got = await asyncio.to_thread(_next_reply, fake, number, before + 1, REPLY_TIMEOUT)
                answers.append({"text": got[before].body, "s": got[before].accepted_at - sent})
        return answers

    return asyncio.run(talk())


def _wait(fake: FakeTwilio, number: str, count: int) -> list[str]:
    return [sms.body for sms in _next_reply(fake, number, count, REPLY_TIMEOUT)]


def _steady(fake: FakeTwilio, url: str, messages: list[tuple[str, str]], rate: float) -> JSONish:
    """The messages at a steady `rate` a second, whatever the answers do; then every answer.

    A webhook that fails (the service overloaded) is counted, and its number left out of the
    latencies: whether it was handled is not known."""
    before = {number: len(fake.sent_to(number)) for number, _ in messages}
    posted: list[tuple[str, float, float]] = []  # (number, sent at, webhook answered at)
    failed: set[str] = set()

    async def post_all() -> float:
        async with TwilioInbound(url, fake.auth_token) as twilio:

            async def post(number: str, text: str) -> None:
                sent = time.monotonic()
                try:
                    await twilio.send(number, text)
                except (AssertionError, httpx.HTTPError):
                    failed.add(number)
                    return
                posted.append((number, sent, time.monotonic()))

            started = time.monotonic()
            tasks = []
            for i, (number, text) in enumerate(messages):
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                tasks.append(asyncio.create_task(post(number, text)))
            await asyncio.gather(*tasks)
            return started

    started = asyncio.run(post_all())
    expected: dict[str, int] = defaultdict(int)
    for number, _, _ in posted:
        expected[number] += 1
    for number, count in expected.items():
        if number not in failed:
            _next_reply(fake, number, before[number] + count, REPLY_TIMEOUT)
    # A number's answers arrive in the order of its messages, one each.
    sent_at: dict[str, list[float]] = defaultdict(list)
    for number, sent, _ in sorted(posted, key=lambda p: p[1]):
        sent_at[number].append(sent)
    latencies, texts = [], []
    for number, times in sent_at.items():
        answers = fake.sent_to(number)[before[number] :]
        texts += [answer.body for answer in answers]
        if number in failed:
            continue
        assert len(answers) == len(times), (number, len(answers), len(times))
        latencies += [answer.accepted_at - at for answer, at in zip(answers, times, strict=True)]
    last = max(sms.accepted_at for sms in fake.messages)
    return {
        "latencies": latencies,
        "webhook": [answered - sent for _, sent, answered in posted],
        "failed_webhooks": len(messages) - len(posted),
        "posting_s": max(sent for _, sent, _ in posted) - started,
        "seconds": last - started,
        "texts": texts,
    }


_COMMANDS: dict[str, Run] = {"converse": _converse, "wait": _wait, "steady": _steady}


def _far_side(connection: Connection) -> None:
    logging.basicConfig(level=logging.WARNING)
    with FakeTwilio() as fake:
        connection.send((fake.base_url, fake.account_sid, fake.auth_token))
        while (command := connection.recv()) is not None:
            name, args = command
            connection.send(_COMMANDS[name](fake, *args))


@contextmanager
def far_side() -> Iterator[tuple[str, str, str, Run]]:
    """The child process: yields the fake's base URL, account SID, auth token and `run`."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_far_side, args=(theirs,), daemon=True
    )
    process.start()
    base_url, account_sid, auth_token = ours.recv()

    def run(name: str, *args: Any) -> Any:
        ours.send((name, args))
        return ours.recv()

    try:
        yield base_url, account_sid, auth_token, run
    finally:
        ours.send(None)
        process.join(10)


# -- this side: serve ---------------------------------------------------------------------------


def _ms(seconds: list[float], prefix: str = "") -> JSONish:
    return {
        f"{prefix}p50_ms": round(statistics.median(seconds) * 1000, 1),
        f"{prefix}p99_ms": round(percentile(seconds, 99) * 1000, 1),
        f"{prefix}max_ms": round(max(seconds) * 1000, 1),
    }


async def a_booking(services: Services, running: Running, url: str, run: Run) -> JSONish:
    """Maria books by SMS; the admin confirms; what it took."""
    answers = await asyncio.to_thread(run, "converse", url, MARIA, list(BOOKING))
    texts = [answer["text"] for answer in answers]
    async with services.sessions() as session:
        requested = (
            await session.exec(select(Meeting).where(Meeting.status == MeetingStatus.requested))
        ).all()
    assert len(requested) == 1 and "Din förfrågan är skickad" in texts[-1], texts
    result: JSONish = {
        "messages": len(BOOKING),
        "answers": len(texts),
        "segments": [segments(text) for text in texts],
        "gsm7": all(is_gsm7(text) for text in texts),
        "answer_ms": [round(answer["s"] * 1000) for answer in answers],
    }
    if in_quiet_hours(utcnow()):
        result["confirmation_segments"] = None  # it waits for 08:00
        return result
    meeting = requested[0]
    assert meeting.id is not None
    async with transaction(services.sessions) as session:
        await booking.confirm(session, meeting_id=meeting.id, admin_id=meeting.admin_id)
    assert running.jobs is not None
    running.jobs.poke()
    confirmation = (await asyncio.to_thread(run, "wait", MARIA, len(texts) + 1))[-1]
    result["confirmation_segments"] = segments(confirmation)
    result["gsm7"] = result["gsm7"] and is_gsm7(confirmation)
    return result


def load_messages(users: int, count: int) -> list[tuple[str, str]]:
    """`count` messages: ROUND's first step from every user, then the second, and so on."""
    return [(phone(n), text) for text in ROUND for n in range(users)][:count]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20, help="inbound SMS a second")
    parser.add_argument("--seconds", type=float, default=30, help="how long the load lasts")
    parser.add_argument("--twilio-rate", type=float, default=100, help="TWILIO_MESSAGES_PER_SECOND")
    add_database_option(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    count = round(args.rate * args.seconds)
    users = math.ceil(count / len(ROUND))
    async with bench_services(args.database_url) as services:
        await asyncio.to_thread(upgrade_to_head, services.settings.database_url)
        holders = [MARIA_SE1, *(Holder(f"B-{n}", f"Användare{n}", phone(n)) for n in range(users))]
        await seed_sms_world(services, now=utcnow(), holders=holders)
        with far_side() as (twilio_url, account_sid, auth_token, run):
            settings = services.settings.model_copy(
                update={
                    "twilio_account_sid": account_sid,
                    "twilio_auth_token": SecretStr(auth_token),
                    "twilio_from": SERVICE_NUMBER,
                    "twilio_api_base_url": twilio_url,
                    "twilio_messages_per_second": args.twilio_rate,
                    "web_host": "127.0.0.1",
                    "web_port": 0,
                }
            )
            running = await start(replace(services, settings=settings))
            settle_heap()  # as `kortkontor serve` does once it is up
            assert running.web is not None
            url = f"http://127.0.0.1:{running.web.port}"
            try:
                booked = await a_booking(services, running, url, run)
                print(f"booking: {booked}")
                messages = load_messages(users, count)
                # serve's own CPU (all its threads; the far side is another process): on a
                # shared machine it varies far less than the latencies do.
                cpu = time.process_time()
                result = await asyncio.to_thread(run, "steady", url, messages, args.rate)
                cpu = time.process_time() - cpu
            finally:
                await running.stop()
    texts = result.pop("texts")
    load = {
        "rate": args.rate,
        "messages": len(messages),
        "numbers": users,
        "twilio_messages_per_second": args.twilio_rate,
        "failed_webhooks": result["failed_webhooks"],
        "posting_s": round(result["posting_s"], 2),
        "answered_per_s": round(len(messages) / result["seconds"], 1),
        "cpu_ms_per_message": round(cpu / len(messages) * 1000, 1),
        **_ms(result["latencies"]),
        **_ms(result["webhook"], "webhook_"),
        "answers_over_2_segments": sum(segments(text) > 2 for text in texts),
        "answers_not_gsm7": sum(not is_gsm7(text) for text in texts),
    }
    print(f"steady load: {load}")
    print(
        json.dumps(
            {
                "booking_messages": booked["messages"],
                "booking_segments": sum(booked["segments"]),
                "booking_segments_with_confirmation": (
                    sum(booked["segments"]) + booked["confirmation_segments"]
                    if booked["confirmation_segments"] is not None
                    else None
                ),
                "rate": args.rate,
                "p50_ms": load["p50_ms"],
                "p99_ms": load["p99_ms"],
                "max_ms": load["max_ms"],
                "webhook_p99_ms": load["webhook_p99_ms"],
                "failed_webhooks": load["failed_webhooks"],
                "cpu_ms_per_message": load["cpu_ms_per_message"],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
