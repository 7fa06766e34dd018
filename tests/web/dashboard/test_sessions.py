"""Sessions kept on the server: the cookie holds an opaque token only, and logout, a new password,
an administrator, an idle half hour and twelve hours each end a session at once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json

import httpx
import pytest
from sqlmodel import col, select

from kortkontor.cli import main
from kortkontor.wiring import Services
from models.operator_sessions import EndReason, OperatorSession
from models.operators import OperatorRole, get_operator_by_email
from tests.conftest import TEST_SECRET_KEY
from tests.web.dashboard.conftest import (
    CLOCK,
    EMAIL,
    PASSWORD,
    ROLE_EMAILS,
    Clock,
    ClockedSite,
    Site,
    browsing,
    dashboard_app,
)
from web.dashboard import COOKIE

NEW_PASSWORD = "ett helt nytt långt lösen"


def _token(client: httpx.AsyncClient) -> str:
    """The token inside the cookie (Starlette signs base64 JSON: payload.timestamp.signature)."""
    payload = client.cookies[COOKIE].split(".")[0]
    content = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert list(content) == ["token"], content
    token: str = content["token"]
    return token


async def _sessions(services: Services) -> list[OperatorSession]:
    async with services.sessions() as session:
        rows = await session.exec(select(OperatorSession).order_by(col(OperatorSession.created_at)))
        return list(rows.all())


async def test_the_cookie_holds_an_opaque_token_and_the_server_its_hash(
    site: Site, services: Services
) -> None:
    await site.login()
    token = _token(site.client)
    assert len(token) >= 43  # 256 random bits
    (row,) = await _sessions(services)
    assert row.id == hashlib.sha256(token.encode()).hexdigest() != token
    async with services.sessions() as session:
        operator = await get_operator_by_email(session, email=EMAIL)
    assert operator is not None and row.operator_id == operator.id
    assert (row.created_at, row.last_seen_at, row.ended_at) == (CLOCK, CLOCK, None)


async def test_a_cookie_saved_before_logout_no_longer_opens_the_dashboard(
    site: Site, services: Services
) -> None:
    await site.login()
    saved = site.client.cookies[COOKIE]
    assert (await site.post("/dashboard/logout")).status_code == 303
    async with httpx.AsyncClient(base_url=site.url, cookies={COOKIE: saved}) as replay:
        response = await replay.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"
    (row,) = await _sessions(services)
    assert (row.ended_at, row.end_reason) == (CLOCK, EndReason.logout)


async def test_a_token_from_before_login_is_never_the_session(site: Site) -> None:
    """Logging in gives a new token: one planted before the login opens nothing after it."""
    await site.csrf()
    planted = site.client.cookies[COOKIE]
    before = _token(site.client)
    await site.login()
    assert _token(site.client) != before
    async with httpx.AsyncClient(base_url=site.url, cookies={COOKIE: planted}) as attacker:
        assert (await attacker.get("/dashboard")).status_code == 303


async def test_operator_add_for_an_existing_e_mail_ends_every_session_of_that_operator(
    server: str, seeded: object, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two browsers of the operator and one of a colleague; a new password by the CLI ends the
    operator's two at once, and the colleague's stays."""
    monkeypatch.setenv("DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("KORTKONTOR_SECRET_KEY", TEST_SECRET_KEY)
    async with (
        httpx.AsyncClient(base_url=server) as laptop,
        httpx.AsyncClient(base_url=server) as phone,
        httpx.AsyncClient(base_url=server) as colleague,
    ):
        for client, email in (
            (laptop, EMAIL),
            (phone, EMAIL),
            (colleague, ROLE_EMAILS[OperatorRole.viewer]),
        ):
            assert (await Site(server, client).login(email=email)).status_code == 303
            assert (await client.get("/dashboard")).status_code == 200
        monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
        assert await asyncio.to_thread(main, ["operator", "add", EMAIL]) == 0
        assert (await laptop.get("/dashboard")).status_code == 303
        assert (await phone.get("/dashboard")).status_code == 303
        assert (await colleague.get("/dashboard")).status_code == 200
    ended = [row.end_reason for row in await _sessions(services) if row.ended_at is not None]
    assert ended == [EndReason.password, EndReason.password]


async def test_an_idle_session_ends_after_30_minutes(clocked: ClockedSite) -> None:
    await clocked.login()
    for _ in range(3):
        clocked.clock.advance(minutes=29)
        assert (await clocked.client.get("/dashboard")).status_code == 200
    clocked.clock.advance(minutes=30)
    response = await clocked.client.get("/dashboard/payouts")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=/dashboard/payouts"
    # Coming back does not revive it.
    clocked.clock.advance(minutes=-1)
    assert (await clocked.client.get("/dashboard")).status_code == 303


async def test_the_idle_limit_is_a_setting(
    services: Services, seeded: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.settings, "dashboard_idle_minutes", 5)
    clock = Clock()
    async with browsing(dashboard_app(services, clock), clock) as site:
        await site.login()
        clock.advance(minutes=4)
        assert (await site.client.get("/dashboard")).status_code == 200
        clock.advance(minutes=5)
        assert (await site.client.get("/dashboard")).status_code == 303


async def test_the_cookie_expires_when_the_session_would_idle_out(site: Site) -> None:
    response = await site.client.get("/dashboard/login")
    assert f"max-age={30 * 60};" in response.headers["set-cookie"].lower()


async def test_a_session_stays_ended_in_every_worker(
    services: Services, clocked: ClockedSite
) -> None:
    """A logout at one worker is a logout at all: the session lives in the database."""
    await clocked.login()
    cookie = clocked.client.cookies[COOKIE]
    other = dashboard_app(services, clocked.clock)
    async with browsing(other, clocked.clock) as second:
        second.client.cookies.set(COOKIE, cookie, domain="dashboard.test", path="/dashboard")
        assert (await second.client.get("/dashboard")).status_code == 200
        assert (await clocked.post("/dashboard/logout")).status_code == 303
        assert (await second.client.get("/dashboard")).status_code == 303


async def test_a_wrong_password_after_login_leaves_the_session_alone(site: Site) -> None:
    await site.login()
    other = Site(site.url, httpx.AsyncClient(base_url=site.url))
    async with other.client:
        assert (await other.login(password=PASSWORD + "x")).status_code == 401
    assert (await site.client.get("/dashboard")).status_code == 200


async def test_logging_in_again_ends_the_browsers_session_before(
    site: Site, services: Services
) -> None:
    await site.login()
    first = site.client.cookies[COOKIE]
    await site.login(email=ROLE_EMAILS[OperatorRole.viewer])
    async with httpx.AsyncClient(base_url=site.url, cookies={COOKIE: first}) as copy:
        assert (await copy.get("/dashboard")).status_code == 303
    assert (await site.client.get("/dashboard")).status_code == 200
    ends = [row.end_reason for row in await _sessions(services)]
    assert sorted(ends, key=str) == sorted([EndReason.logout, None], key=str)
