"""The hash chain finds edited, deleted and reordered events, and `audit verify` names them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from kortkontor.settings import Settings
from kortkontor.wiring import build_services
from models import audit
from models.db import transaction
from tests.conftest import TEST_SECRET_KEY
from tests.kortkontor.cli_helpers import run_cli


async def _seed_and(database_url: str, tamper: str | None) -> None:
    services = build_services(Settings(database_url=database_url), secret_key=TEST_SECRET_KEY)
    try:
        async with transaction(services.sessions) as session:
            for n in range(1, 6):
                await audit.append(
                    session,
                    actor_role="operator",
                    actor_id=None,
                    action="test",
                    entity="card",
                    entity_id=n,
                    data={"n": n, "note": "åäö"},
                )
        if tamper:
            async with services.engine.begin() as connection:
                for statement in tamper.split(";"):
                    await connection.execute(text(statement))
    finally:
        await services.close()


def verify(env: str, capsys: pytest.CaptureFixture[str], tamper: str | None) -> tuple[int, str]:
    asyncio.run(_seed_and(env, tamper))
    code, _, err = run_cli(capsys, "audit", "verify")
    return code, err


def test_an_intact_chain_verifies(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = verify(env, capsys, None)
    assert code == 0, err


def test_an_edited_event_is_named(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = verify(env, capsys, "UPDATE audit_event SET entity_id = 99 WHERE seq = 3")
    assert code == 1
    assert "händelse 3: innehållet stämmer inte" in err
    assert "händelse 4" not in err


def test_a_deleted_event_is_named(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = verify(env, capsys, "DELETE FROM audit_event WHERE seq = 2")
    assert code == 1
    assert "händelse 2: saknas" in err


def test_deleting_the_newest_event_and_rehashing_is_still_caught_by_seq(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = verify(env, capsys, "DELETE FROM audit_event WHERE seq = 1")
    assert code == 1 and "händelse 1: saknas" in err and "händelse 2: hänger inte ihop" in err


def test_reordered_events_are_named(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    swap = (
        "UPDATE audit_event SET seq = 100 WHERE seq = 2;"
        "UPDATE audit_event SET seq = 2 WHERE seq = 3;"
        "UPDATE audit_event SET seq = 3 WHERE seq = 100"
    )
    code, err = verify(env, capsys, swap)
    assert code == 1
    assert "händelse 2:" in err and "händelse 3:" in err


async def test_appends_chain_onto_each_other(services) -> None:  # type: ignore[no-untyped-def]
    async with transaction(services.sessions) as session:
        first = await audit.append(
            session, actor_role="system", actor_id=None, action="a", entity="card", entity_id=1
        )
        second = await audit.append(
            session, actor_role="system", actor_id=None, action="b", entity="card", entity_id=1
        )
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    async with services.sessions() as session:
        assert await audit.verify_chain(session) == []
