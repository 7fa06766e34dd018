"""/metrics under `kortkontor.serve.start`: Prometheus's text, parsed back, after a booking, a
chat update and an outbox send; served only to local clients or to METRICS_TOKEN's bearer."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlmodel import select

from kortkontor.wiring import Services
from models.db import transaction
from models.meetings import FailureReason, MeetingStatus
from models.outbox import Notification, NotificationStatus
from models.types import utcnow
from scheduler.outbox import UNSETTLED
from tests import factories
from tests.fakes.telegram import FakeBotApi
from tests.scheduler.test_booking import book, build_world, free
from tests.web.conftest import Started
from web.app import create_app

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def wait_until_sent(services: Services) -> list[Notification]:
    """The outbox's rows once the dispatcher has settled every one due by now."""
    for _ in range(200):
        now = utcnow()
        async with services.sessions() as session:
            rows = list((await session.exec(select(Notification))).all())
        due = [row for row in rows if row.due_at <= now]
        if due and all(row.status not in UNSETTLED for row in due):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("the dispatcher did not send the outbox")


async def test_a_scrape_counts_bookings_failures_chats_sends_and_jobs(
    served: Started, services: Services
) -> None:
    now = utcnow()
    world = await build_world(services)
    booked = await book(services, world, 0, (await free(services, world, now))[0], now)
    assert booked is not None
    card_id, _ = world.cards[1]
    async with transaction(services.sessions) as session:
        await factories.add(
            session,
            factories.meeting(
                card_id,
                world.admin_id,
                now,
                status=MeetingStatus.failed,
                failure_reason=FailureReason.no_show,
            ),
        )
    with FakeBotApi() as fake:
        running, client = await served(
            telegram_bot_token=SecretStr(fake.token), telegram_api_base_url=fake.base_url
        )
        rows = await wait_until_sent(services)
        fake.send_text(4242, "/start")
        await asyncio.to_thread(fake.wait_messages_sync, 4242, 1, timeout=10)
        await asyncio.sleep(0.1)  # the update is counted once its handling returns
        answer = await client.get("/metrics")
        await running.stop()  # while the fake Bot API still answers
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = parse(answer.text)

    assert samples[("kortkontor_bookings_total", ())] == 2
    assert samples[("kortkontor_handouts_total", ())] == 0
    assert samples[("kortkontor_failed_meetings_total", (("reason", "no_show"),))] == 1
    assert samples[("kortkontor_failed_meetings_total", (("reason", "no_valid_id"),))] == 0

    assert samples[("kortkontor_chat_updates_total", (("channel", "telegram"),))] == 1
    assert samples[("kortkontor_chat_update_seconds_count", (("channel", "telegram"),))] == 1

    sent = [row for row in rows if row.status == NotificationStatus.sent]
    assert sent
    for channel in {str(row.channel) for row in sent}:
        expected = sum(1 for row in sent if row.channel == channel)
        key = (("channel", channel), ("result", "sent"))
        assert samples[("kortkontor_sends_total", key)] == expected
    assert samples[("kortkontor_outbox_notifications", (("status", "sent"),))] == len(sent)
    pending = sum(1 for row in rows if row.status == NotificationStatus.pending)
    assert samples[("kortkontor_outbox_notifications", (("status", "pending"),))] == pending
    assert samples[("kortkontor_outbox_oldest_due_age_seconds", ())] == 0

    tick = samples[("kortkontor_job_last_success_timestamp_seconds", (("job", "dispatch:tick"),))]
    assert abs(tick - now.timestamp()) < 60
    assert samples[("kortkontor_job_last_run_failed", (("job", "dispatch:tick"),))] == 0
    assert samples[("kortkontor_leader", ())] == 1


async def test_the_oldest_due_row_ages(services: Services) -> None:
    now = utcnow()
    async with transaction(services.sessions) as session:
        await factories.add(
            session, factories.notification(now.replace(microsecond=0) - timedelta(minutes=1))
        )
    async with _local_client(services) as client:
        samples = parse((await client.get("/metrics")).text)
    age = samples[("kortkontor_outbox_oldest_due_age_seconds", ())]
    assert 60 <= age < 120
    assert samples[("kortkontor_outbox_notifications", (("status", "pending"),))] == 1


def _client(
    services: Services, *, host: str, token: str | None = None, forwarded: bool = False
) -> httpx.AsyncClient:
    """A client of the app in this process, as if it called from `host`."""
    settings = services.settings.model_copy(
        update={"metrics_token": SecretStr(token) if token else None}
    )
    app = create_app(replace(services, settings=settings))
    transport = httpx.ASGITransport(app=app, client=(host, 1234))
    headers = {"X-Forwarded-For": "10.0.0.5"} if forwarded else {}
    return httpx.AsyncClient(transport=transport, base_url="http://kortkontor", headers=headers)


def _local_client(services: Services) -> httpx.AsyncClient:
    return _client(services, host="127.0.0.1")


async def test_without_a_token_only_local_clients_are_served(services: Services) -> None:
    for host, status in (("127.0.0.1", 200), ("::1", 200), ("10.0.0.5", 403), ("192.0.2.7", 403)):
        async with _client(services, host=host) as client:
            assert (await client.get("/metrics")).status_code == status, host
    # A request a local proxy relays is not local.
    async with _client(services, host="127.0.0.1", forwarded=True) as client:
        assert (await client.get("/metrics")).status_code == 403


async def test_with_a_token_its_bearer_is_served_from_anywhere(services: Services) -> None:
    token = "metrics-test-token-0123456789"
    async with _client(services, host="10.0.0.5", token=token) as client:
        assert (await client.get("/metrics")).status_code == 403
        wrong = {"Authorization": "Bearer not-the-token"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 403
        right = {"Authorization": f"Bearer {token}"}
        answer = await client.get("/metrics", headers=right)
        assert answer.status_code == 200
        assert ("kortkontor_leader", ()) in parse(answer.text)
    # The token, once set, is asked of local clients too.
    async with _client(services, host="127.0.0.1", token=token) as client:
        assert (await client.get("/metrics")).status_code == 403


async def test_each_app_counts_in_its_own_registry(services: Services) -> None:
    first, second = create_app(services), create_app(services)
    first.state.metrics.chat_update("sms", 0.01)
    assert first.state.metrics.registry is not second.state.metrics.registry
    async with _local_client(services) as client:
        samples = parse((await client.get("/metrics")).text)
    assert ("kortkontor_chat_updates_total", (("channel", "sms"),)) not in samples


async def test_the_leader_gauge_reads_the_lease_at_each_scrape(services: Services) -> None:
    settings = services.settings.model_copy(update={"metrics_token": None})
    app = create_app(replace(services, settings=settings))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1234))
    leads = [True]
    app.state.leader = lambda: leads[0]  # as `kortkontor serve` sets it to its lease
    async with httpx.AsyncClient(transport=transport, base_url="http://kortkontor") as client:
        assert parse((await client.get("/metrics")).text)[("kortkontor_leader", ())] == 1
        leads[0] = False
        assert parse((await client.get("/metrics")).text)[("kortkontor_leader", ())] == 0
