"""Operators' sessions in the database: found by the token's hash, refreshed when used, ended by
their limits, and purged a month after."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from kortkontor.wiring import Services
from models.db import transaction
from models.operator_sessions import (
    EndReason,
    Limits,
    OperatorSession,
    live_session,
    open_session,
    purge_sessions,
    token_id,
)
from models.operators import set_operator
from tests.bot.world import NOW

LIMITS = Limits(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


async def _operator_id(services: Services) -> int:
    async with transaction(services.sessions) as session:
        operator, _ = await set_operator(session, email="ops@example.se", password_hash="x")
    assert operator.id is not None
    return operator.id


async def test_a_session_is_refreshed_when_used_and_ends_when_idle(services: Services) -> None:
    operator_id = await _operator_id(services)
    async with transaction(services.sessions) as session:
        await open_session(session, operator_id=operator_id, token="abc", now=NOW)
    moments = [
        NOW + timedelta(seconds=30),
        NOW + timedelta(minutes=20),
        NOW + timedelta(minutes=49),
    ]
    seen = []
    for moment in moments:
        async with transaction(services.sessions) as session:
            found = await live_session(session, token="abc", now=moment, limits=LIMITS)
            assert found is not None
            seen.append(found.last_seen_at)
    # Written at most once a minute: the first use changed nothing.
    assert seen == [NOW, NOW + timedelta(minutes=20), NOW + timedelta(minutes=49)]
    later = NOW + timedelta(minutes=79)
    async with transaction(services.sessions) as session:
        assert await live_session(session, token="abc", now=later, limits=LIMITS) is None
    async with services.sessions() as session:
        row = await session.get(OperatorSession, token_id("abc"))
    assert row is not None and (row.ended_at, row.end_reason) == (later, EndReason.idle)


async def test_old_sessions_are_purged(services: Services) -> None:
    operator_id = await _operator_id(services)
    async with transaction(services.sessions) as session:
        for token, days_ago in (("old", 45), ("recent", 2)):
            await open_session(
                session, operator_id=operator_id, token=token, now=NOW - timedelta(days=days_ago)
            )
        await purge_sessions(session, now=NOW, limits=LIMITS)
    async with services.sessions() as session:
        ids = [row.id for row in (await session.exec(select(OperatorSession))).all()]
    assert ids == [token_id("recent")]
