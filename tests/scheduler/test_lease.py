"""The leader lease: one holder among several instances on one PostgreSQL database, taken over
when the holder goes, given up when its session is lost; SQLite's one process always leads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import text

from kortkontor.wiring import Services
from models.db import is_sqlite
from scheduler.lease import AdvisoryLease, AlwaysLeader, lease_for
from tests.conftest import requires_postgres

QUICK = timedelta(seconds=0.2)


async def test_sqlite_always_leads(services: Services) -> None:
    lease = lease_for(services.engine)
    if not is_sqlite(services.engine):
        assert isinstance(lease, AdvisoryLease)
        return
    assert isinstance(lease, AlwaysLeader)
    await lease.start()
    assert lease.held() and await lease.confirm()
    await lease.stop()


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time")


@requires_postgres
async def test_one_holder_and_a_follower_takes_over_when_it_goes(services: Services) -> None:
    first = AdvisoryLease(services.engine, retry=QUICK, check=QUICK)
    second = AdvisoryLease(services.engine, retry=QUICK, check=QUICK)
    changes: list[bool] = []
    second.on_change = changes.append
    await first.start()
    await second.start()
    try:
        assert first.held() and not second.held()
        await asyncio.sleep(0.5)  # the follower retries, and fails, a few times
        assert not second.held() and not await second.confirm()
        await first.stop()
        assert not first.held()
        await _until(second.held)
        assert changes == [True]
    finally:
        await first.stop()
        await second.stop()


@requires_postgres
async def test_a_leader_whose_session_dies_steps_down_before_its_next_job(
    services: Services,
) -> None:
    slow = timedelta(hours=1)  # no background check: only `confirm` can notice
    leader = AdvisoryLease(services.engine, retry=slow, check=slow)
    follower = AdvisoryLease(services.engine, retry=QUICK, check=QUICK)
    await leader.start()
    await follower.start()
    try:
        assert leader.held()
        async with services.engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            await connection.commit()
        await _until(follower.held)
        assert not await leader.confirm()
        assert not leader.held()
    finally:
        await leader.stop()
        await follower.stop()
