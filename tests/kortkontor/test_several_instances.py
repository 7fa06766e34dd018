"""DESIGN.md's bar for several instances: two `kortkontor serve` processes on one PostgreSQL
database, in webhook mode, share the work. Telegram updates are posted to both in turn, and
card arrivals send SMS through both to the fake Twilio; the leader is killed with SIGKILL in the
middle. Every SMS reaches Twilio once, every update is answered once, the other process takes
the leader lease and runs the periodic jobs on, and no periodic job ever ran in both.

Real processes and real HTTP, on a set clock in the morning (tests/clock.py) so that the SMS
quiet hours never hold the messages. SQLite serves one process only: the test needs PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.crypto import webhook_secret
from models.db import transaction
from models.network import get_office_by_code
from models.network_file import read_network_toml, upsert_network
from models.outbox import Channel, Notification, NotificationStatus
from scheduler import notifications
from scheduler.jobs import periodic_jobs
from tests.conftest import POSTGRES_URL, TEST_SECRET_KEY
from tests.factories import card, card_user, network_toml
from tests.fakes.telegram import FakeBotApi
from tests.fakes.twilio import FakeTwilio, SentSms
from tests.kortkontor.test_serve_jobs import environment
from tests.scheduler.test_outbox_crash import a_morning, an_hour_before
from web.telegram_webhook import SECRET_HEADER

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="several instances share one PostgreSQL database; SQLite serves one process only "
    "(set TEST_DATABASE_URL)",
)

KORTKONTOR = [sys.executable, "-m", "kortkontor.cli"]
CARDS = 600
# Each instance sends this many SMS a second: a batch (100 SMS) takes seconds, so the two
# instances' ticks overlap and claim rows side by side, and the kill lands mid-batch.
SMS_PER_SECOND = "15"
USERS = range(7001, 7011)
SECRET = webhook_secret(TEST_SECRET_KEY)
SENDER_NUMBER = "+46701740699"
READY_TIMEOUT = 60.0
# A killed instance's claims are recovered once 2 minutes old (scheduler.outbox.STALE_CLAIM).
SENDING_TIMEOUT = 300.0
LEADER_JOBS = [job.job_id for job in periodic_jobs() if not job.everywhere]
TAKEN = "leader lease: taken"


def phone(n: int) -> str:
    return f"+4671{n:07d}"


@dataclass
class Instance:
    """One `kortkontor serve`: its process, log and web port."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    def logged(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def leader_runs(self, text: str | None = None) -> list[str]:
        """The leader-only jobs this instance ran, in order, by their log lines."""
        return re.findall(r"job (\S+) runs on the leader", self.logged() if text is None else text)


def start(name: str, env: dict[str, str], folder: Path) -> Instance:
    log = folder / f"{name}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*KORTKONTOR, "serve"], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=stderr
        )
    instance = Instance(name, process, log)
    deadline = time.monotonic() + READY_TIMEOUT
    while (
        found := re.search(r"kortkontor ready: .*web on [\d.]+:(\d+)", instance.logged())
    ) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{name} did not start:\n{instance.logged()}")
        time.sleep(0.1)
    instance.port = int(found.group(1))
    return instance


async def seed(services: Services) -> None:
    """An office with CARDS card users, each with a card in custody."""
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(network_toml(absences="[]")))
        office = await get_office_by_code(session, code="UPS1")
        assert office is not None and office.id is not None
        users = [
            card_user(services.vault, given_name=f"U{n}", phone=phone(n), email=f"u{n}@example.se")
            for n in range(CARDS)
        ]
        session.add_all(users)
        await session.flush()
        session.add_all(
            card(user, office, order_ref=f"C-{n}", status=CardStatus.in_custody)
            for n, user in enumerate(users)
        )


async def plan_card_arrived(services: Services, now: datetime) -> None:
    async with transaction(services.sessions) as session:
        for each in (await session.exec(select(Card).order_by(col(Card.id)))).all():
            await notifications.card_arrived(session, each, now=now)


async def sms_by_status(services: Services) -> Counter[str]:
    async with services.sessions() as session:
        query = (
            select(Notification.status, func.count())
            .where(Notification.channel == Channel.sms)
            .group_by(Notification.status)
        )
        return Counter({str(status): n for status, n in (await session.exec(query)).all()})


def text_update(update_id: int, user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Test"}
    message = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Test"},
        "date": int(time.time()),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": update_id, "message": message}


async def post_updates(
    client: httpx.AsyncClient, targets: list[Instance], first_id: int, rounds: int
) -> dict[int, int]:
    """Each user writes `rounds` times, in order, to the instances in turn (users in
    parallel); returns how many updates each user sent."""

    async def one_user(index: int, user_id: int) -> None:
        for n in range(rounds):
            target = targets[(index + n) % len(targets)]
            update_id = first_id + index * rounds + n
            answer = await client.post(
                f"{target.url}/telegram/webhook",
                json=text_update(update_id, user_id),
                headers={SECRET_HEADER: SECRET},
            )
            assert answer.status_code == 204, (target.name, answer.status_code, answer.text)

    await asyncio.gather(*(one_user(i, user) for i, user in enumerate(USERS)))
    return dict.fromkeys(USERS, rounds)


async def scrape(client: httpx.AsyncClient, instance: Instance) -> dict[str, float]:
    """The instance's leader gauge and SMS sent, from /metrics."""
    text = (await client.get(f"{instance.url}/metrics")).text
    leader = re.search(r"^kortkontor_leader ([\d.]+)$", text, re.M)
    sent = re.search(
        r'^kortkontor_sends_total\{channel="sms",result="sent"\} ([\d.]+)$', text, re.M
    )
    return {
        "leader": float(leader.group(1)) if leader else -1.0,
        "sms_sent": float(sent.group(1)) if sent else 0.0,
    }


def by_number(messages: list[SentSms]) -> dict[str, list[SentSms]]:
    grouped: dict[str, list[SentSms]] = {}
    for message in messages:
        grouped.setdefault(message.to, []).append(message)
    return grouped


async def test_two_instances_share_the_work_and_survive_a_killed_leader(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    clock = a_morning()
    await seed(services)
    with FakeTwilio(clock=clock.now) as twilio, FakeBotApi() as telegram:
        env = environment(
            database_url,
            clock,
            TWILIO_ACCOUNT_SID=twilio.account_sid,
            TWILIO_AUTH_TOKEN=twilio.auth_token,
            TWILIO_FROM=SENDER_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
            TWILIO_MESSAGES_PER_SECOND=SMS_PER_SECOND,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            PUBLIC_BASE_URL="https://kortkontor.example",
            # The leader looks for crashed claims every second (they count as crashed once
            # 2 minutes old, as always).
            OUTBOX_RECOVER_SECONDS="1",
        )
        first = start("first", env, tmp_path)
        second = start("second", env, tmp_path)
        instances = [first, second]
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                # The first to start leads; the second follows and is ready all the same.
                assert TAKEN in first.logged() and TAKEN not in second.logged()
                assert "another instance holds it" in second.logged()
                assert (await scrape(client, first))["leader"] == 1.0
                assert (await scrape(client, second))["leader"] == 0.0
                ready = await client.get(f"{second.url}/readyz")
                assert ready.status_code == 200, ready.text

                await plan_card_arrived(services, an_hour_before(clock))
                updates = await post_updates(client, instances, 1, rounds=3)

                # Wait until both have sent SMS, and the run is far from over: then kill -9.
                deadline = time.monotonic() + SENDING_TIMEOUT
                while True:
                    figures = [await scrape(client, each) for each in instances]
                    if all(f["sms_sent"] > 0 for f in figures) and len(twilio.messages) >= 200:
                        break
                    assert len(twilio.messages) < CARDS - 100, f"the run ended first: {figures}"
                    assert time.monotonic() < deadline, figures
                    await asyncio.sleep(0.2)
                first.process.send_signal(signal.SIGKILL)
                first.process.wait(timeout=20)
                killed_at = time.monotonic()
                left_sending = (await sms_by_status(services))[NotificationStatus.sending]
                second_before_takeover = second.logged()
                assert TAKEN not in second_before_takeover

                # The survivor takes every update; one the dead instance answered, sent again
                # (Telegram redelivers), is not answered twice.
                more = await post_updates(client, [second], 1000, rounds=2)
                await client.post(
                    f"{second.url}/telegram/webhook",
                    json=text_update(1, USERS[0]),
                    headers={SECRET_HEADER: SECRET},
                )

                # It takes the lease within a minute and runs the leader's jobs.
                while TAKEN not in second.logged():
                    assert time.monotonic() - killed_at < 60, second.logged()
                    await asyncio.sleep(0.2)
                took_over_after = time.monotonic() - killed_at
                assert (await scrape(client, second))["leader"] == 1.0

                # Every SMS goes out, the dead instance's claims recovered by the survivor.
                while (await sms_by_status(services))[NotificationStatus.sent] < CARDS:
                    assert second.process.poll() is None, second.logged()
                    assert time.monotonic() < deadline, await sms_by_status(services)
                    await asyncio.sleep(0.5)

            status = await asyncio.to_thread(
                subprocess.run,
                [*KORTKONTOR, "status"],
                env=environment(database_url, clock),
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=60,
            )
            second.process.send_signal(signal.SIGTERM)
            assert second.process.wait(timeout=30) == 0, second.logged()
        finally:
            for each in instances:
                if each.process.poll() is None:
                    each.process.kill()
                    each.process.wait(timeout=20)
        received = by_number(twilio.messages)
        replies = Counter(
            sent.chat_id for sent in telegram.all_sent() if sent.method == "sendMessage"
        )

    # Nothing lost, nothing sent twice.
    repeated = {number: len(sms) for number, sms in received.items() if len(sms) > 1}
    assert repeated == {}, f"numbers that got more than one SMS: {repeated}"
    assert set(received) == {phone(n) for n in range(CARDS)}, "numbers without an SMS"
    assert left_sending > 0, "the kill did not land mid-batch"
    assert {user: replies[user] for user in USERS} == {
        user: updates[user] + more[user] for user in USERS
    }, "an update lost or answered twice"

    # The leader's jobs ran on the first until it died, then on the second only: never in both.
    first_runs = first.leader_runs()
    assert first_runs and set(first_runs) <= set(LEADER_JOBS)
    assert second.leader_runs(second_before_takeover) == []
    after = second.logged().split(TAKEN, 1)[1]
    assert second.leader_runs(second.logged()) == second.leader_runs(after)
    assert {"dispatch:recover", "requests:expire"} <= set(second.leader_runs(after))
    assert took_over_after < 30, took_over_after
    assert "recovered" in after
    assert status.returncode == 0, status.stdout + status.stderr
    assert "FÖRSENAT" not in status.stdout, status.stdout
    for instance in instances:
        assert "+4671" not in instance.logged(), "a phone number reached the log"
        assert "Traceback" not in instance.logged(), instance.logged()
