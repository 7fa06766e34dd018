"""The dashboard on the test database: a seeded network at a fixed moment, operators of each
role, and the app served by WebServer on a free port (or in-process on a clock that moves)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright, expect

from kortkontor.wiring import Services
from models.cards import Card
from models.db import transaction
from models.operators import OperatorRole, hash_password, set_operator
from tests.bot.world import NOW, World, build_world
from tests.conftest import TEST_SECRET_KEY
from tests.payout.helpers import handed_out, into_custody, meeting
from web.app import create_app
from web.dashboard import install
from web.server import WebServer

CHROMIUM = Path("/usr/bin/chromium")
# Tuesday 12 January 2027, 10:00 in Stockholm: December 2026 is over and ready to export.
CLOCK = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
EMAIL = "operator@example.se"  # an operator administrator
PASSWORD = "rätt häftklammer 42"
# One operator per role, all with PASSWORD.
ROLE_EMAILS = {
    OperatorRole.viewer: "viewer@example.se",
    OperatorRole.payroll: "payroll@example.se",
    OperatorRole.admin: EMAIL,
}
STUCK_DAYS = 35
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Seeded:
    """The network and what was done to it."""

    world: World
    upcoming_meeting_id: int


async def seed(services: Services) -> Seeded:
    """Two offices; Lena's card handed out on 1 December (a payout line for December), Maria's
    card stuck in custody for 35 days, Ahmed's card picked up 10 days ago and booked for today,
    and an operator of each role."""
    world = await build_world(services)
    await handed_out(
        services,
        world,
        "lena",
        booked_at=NOW,
        recorded_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    )
    await into_custody(services, world.cards["ahmed"], CLOCK - timedelta(days=10))
    upcoming = await meeting(services, world, "ahmed", booked_at=CLOCK)
    async with transaction(services.sessions) as session:
        maria = await session.get(Card, world.cards["maria"])
        assert maria is not None
        maria.in_custody_since = CLOCK - timedelta(days=STUCK_DAYS)
        session.add(maria)
        password_hash = hash_password(PASSWORD)
        for role, email in ROLE_EMAILS.items():
            await set_operator(session, email=email, password_hash=password_hash, role=role)
    return Seeded(world, upcoming)


@pytest.fixture
async def seeded(services: Services) -> Seeded:
    """The seeded network."""
    return await seed(services)


@dataclass
class Site:
    """The app served on a free local port, and a client for it (cookies kept)."""

    url: str
    client: httpx.AsyncClient

    async def csrf(self, path: str = "/dashboard/login") -> str:
        """The session's CSRF token, read from a page's form."""
        response = await self.client.get(path)
        found = CSRF.search(response.text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    async def login(self, email: str = EMAIL, password: str = PASSWORD) -> httpx.Response:
        """Post the login form as a browser would."""
        token = await self.csrf()
        form = {"csrf_token": token, "email": email, "password": password, "next": "/dashboard"}
        return await self.client.post("/dashboard/login", data=form)

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, page: str = "/dashboard"
    ) -> httpx.Response:
        """Post a form with the CSRF token of `page`, as its form would."""
        token = await self.csrf(page)
        return await self.client.post(path, data={"csrf_token": token, **(data or {})})


@pytest.fixture
async def server(services: Services) -> AsyncIterator[str]:
    """The app with the dashboard installed, its clock fixed at CLOCK; yields its base URL."""
    app = create_app(services)
    install(app, secret_key=TEST_SECRET_KEY, clock=lambda: CLOCK)
    web = WebServer(app, host="127.0.0.1", port=0)
    await web.start()
    yield f"http://127.0.0.1:{web.port}"
    await web.stop()


@pytest.fixture
async def site(server: str, seeded: Seeded) -> AsyncIterator[Site]:
    """A client for the served dashboard, over the seeded network."""
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield Site(server, client)


class Clock:
    """The dashboard's clock, moved by the test."""

    def __init__(self, start: datetime = CLOCK) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move on by a timedelta's worth (minutes=29, seconds=1 …)."""
        self.now += timedelta(**delta)


@dataclass
class ClockedSite(Site):
    """The app in-process (ASGI), on a clock the test moves."""

    clock: Clock
    app: FastAPI


def dashboard_app(services: Services, clock: Clock) -> FastAPI:
    """An app with the dashboard on this clock: one more worker over the same database."""
    app = create_app(services)
    install(app, secret_key=TEST_SECRET_KEY, clock=clock)
    return app


@asynccontextmanager
async def browsing(app: FastAPI, clock: Clock) -> AsyncIterator[ClockedSite]:
    """A browser of its own (its own cookies) on an in-process app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as client:
        yield ClockedSite("http://dashboard.test", client, clock, app)


@pytest.fixture
async def clocked(services: Services, seeded: Seeded) -> AsyncIterator[ClockedSite]:
    """The seeded dashboard in-process, its clock at CLOCK until the test moves it."""
    clock = Clock()
    async with browsing(dashboard_app(services, clock), clock) as site:
        yield site


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from Debian (never one Playwright downloads), without a sandbox."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield launched
        await launched.close()


async def log_in(page: Page, server: str) -> None:
    """Open the dashboard, get sent to the login page, and log in."""
    await page.goto(f"{server}/dashboard")
    await expect(page).to_have_url(re.compile(r"/dashboard/login"))
    await expect(page.get_by_role("heading", name="Logga in")).to_be_visible()
    await page.get_by_label("E-post").fill(EMAIL)
    await page.get_by_label("Lösenord").fill(PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await expect(page).to_have_url(f"{server}/dashboard")
