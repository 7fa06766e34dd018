"""Login throttling over HTTP: per account and per address, an exponential back-off kept in the
database, one answer for every refusal, and an audit event for each failure and each lock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.operators import get_operator_by_email, verify_password
from tests.web.dashboard.conftest import (
    CLOCK,
    EMAIL,
    ClockedSite,
    browsing,
    dashboard_app,
)
from tests.web.dashboard.test_http import GENERIC_REFUSAL

WRONG = "fel lösenord, helt fel"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the login really checked against a hash (the unknown-e-mail check too)."""
    checked: list[str] = []

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return verify_password(password_hash, password)

    monkeypatch.setattr("web.dashboard.auth.verify_password", counting)
    monkeypatch.setattr("web.dashboard.auth.spend_a_verification", lambda: checked.append("-"))
    return checked


async def _events(services: Services, action: str) -> list[AuditEvent]:
    async with services.sessions() as session:
        rows = await session.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))
        )
        return list(rows.all())


async def test_fifty_wrong_passwords_meet_a_doubling_back_off(
    clocked: ClockedSite, services: Services, checks: list[str]
) -> None:
    """One attempt a second: five are checked, then one each time the lock (1, 2, 4, 8, 16,
    32 s) runs out; the rest are refused unchecked, with the same answer."""
    checked_at = []
    for attempt in range(1, 51):
        before = len(checks)
        response = await clocked.login(password=WRONG)
        assert response.status_code == 401
        assert GENERIC_REFUSAL in response.text
        if len(checks) > before:
            checked_at.append(attempt)
        clocked.clock.advance(seconds=1)
    assert checked_at == [1, 2, 3, 4, 5, 6, 8, 12, 20, 36]

    # Locked until 32 s after attempt 36: even the right password is refused, unchecked.
    before = len(checks)
    response = await clocked.login()
    assert response.status_code == 401 and GENERIC_REFUSAL in response.text
    assert len(checks) == before
    assert (await clocked.client.get("/dashboard")).status_code == 303

    clocked.clock.now = CLOCK + timedelta(seconds=35 + 32)
    response = await clocked.login()
    assert response.status_code == 303
    assert (await clocked.client.get("/dashboard")).status_code == 200

    async with services.sessions() as session:
        operator = await get_operator_by_email(session, email=EMAIL)
    assert operator is not None
    failures = await _events(services, "operator.login_failed")
    locks = await _events(services, "operator.login_locked")
    assert [event.entity_id for event in failures] == [operator.id] * 10
    assert [event.data["seconds"] for event in locks] == [1, 2, 4, 8, 16, 32]
    assert {event.data["scope"] for event in locks} == {"account"}
    assert all(event.data["network"] == "127.0.0.0/24" for event in failures + locks)
    for event in failures + locks:
        assert EMAIL not in str(event.data) and WRONG not in str(event.data)


async def test_an_unknown_account_gets_the_same_answer_and_the_same_back_off(
    clocked: ClockedSite, services: Services, checks: list[str]
) -> None:
    answers = set()
    for _ in range(7):
        response = await clocked.login(email="nobody@example.se", password=WRONG)
        answers.add((response.status_code, GENERIC_REFUSAL in response.text))
    assert answers == {(401, True)}
    assert checks == ["-"] * 5  # the sixth and seventh were refused unchecked
    (lock,) = await _events(services, "operator.login_locked")
    assert lock.entity_id == 0 and lock.data["failures"] == 5
    assert "nobody" not in str(lock.data)
    # Another e-mail from the same address is not locked by it.
    assert (await clocked.login()).status_code == 303


async def test_many_accounts_from_one_address_lock_that_address(
    clocked: ClockedSite, services: Services, checks: list[str]
) -> None:
    for number in range(20):
        response = await clocked.login(email=f"guess{number}@example.se", password=WRONG)
        assert response.status_code == 401
    # The twentieth failure locked the address for a second: even the right login waits.
    response = await clocked.login()
    assert response.status_code == 401 and GENERIC_REFUSAL in response.text
    assert len(checks) == 20
    (lock,) = await _events(services, "operator.login_locked")
    assert (lock.data["scope"], lock.data["seconds"]) == ("address", 1)
    clocked.clock.advance(seconds=1)
    assert (await clocked.login()).status_code == 303


async def test_the_right_password_resets_the_account(
    clocked: ClockedSite, checks: list[str]
) -> None:
    for _ in range(4):
        assert (await clocked.login(password=WRONG)).status_code == 401
    assert (await clocked.login()).status_code == 303
    for _ in range(4):
        assert (await clocked.login(password=WRONG)).status_code == 401
    assert len(checks) == 9  # none refused unchecked


async def test_a_quiet_hour_forgets_the_failures(clocked: ClockedSite, checks: list[str]) -> None:
    for _ in range(5):
        await clocked.login(password=WRONG)
    clocked.clock.advance(hours=1)
    for _ in range(4):
        await clocked.login(password=WRONG)
    assert len(checks) == 9


async def test_the_back_off_holds_across_workers(
    services: Services, clocked: ClockedSite, checks: list[str]
) -> None:
    for _ in range(5):
        await clocked.login(password=WRONG)
    async with browsing(dashboard_app(services, clocked.clock), clocked.clock) as other_worker:
        response = await other_worker.login()
        assert response.status_code == 401 and GENERIC_REFUSAL in response.text
    assert len(checks) == 5


async def test_parallel_attempts_do_not_slip_through_one_free_moment(
    clocked: ClockedSite, checks: list[str]
) -> None:
    """Twenty requests at once, one short of the lock: the first one counted locks the rest."""
    for _ in range(4):
        await clocked.login(password=WRONG)
    form = {"csrf_token": await clocked.csrf(), "email": EMAIL, "password": WRONG}
    responses = await asyncio.gather(
        *(clocked.client.post("/dashboard/login", data=form) for _ in range(20))
    )
    assert {response.status_code for response in responses} == {401}
    assert len(checks) == 5
