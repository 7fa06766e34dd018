"""The session cookie is Secure by a setting, COOKIE_SECURE, on by default (also without
PUBLIC_BASE_URL, as in polling mode behind a TLS proxy); the demo and the tests turn it off,
and a plain-http PUBLIC_BASE_URL must say so out loud."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from kortkontor.demo import demo_services
from kortkontor.settings import Settings
from kortkontor.wiring import Services
from tests.conftest import TEST_SECRET_KEY
from tests.kortkontor.cli_helpers import run_cli
from web.app import create_app
from web.dashboard import COOKIE
from web.server import WebServer

SessionCookie = Callable[..., Awaitable[str]]


@pytest.fixture
async def session_cookie(services: Services) -> AsyncIterator[SessionCookie]:
    """The Set-Cookie header of the login page, served on these settings."""
    servers: list[WebServer] = []

    async def get(**settings: object) -> str:
        update = {"kortkontor_secret_key": SecretStr(TEST_SECRET_KEY), **settings}
        changed = services.settings.model_copy(update=update)
        server = WebServer(
            create_app(replace(services, settings=changed)), host="127.0.0.1", port=0
        )
        await server.start()
        servers.append(server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            response = await client.get("/dashboard/login")
        [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE)]
        return cookie.lower()

    yield get
    for server in servers:
        await server.stop()


async def test_secure_by_default_also_without_a_public_url(session_cookie: SessionCookie) -> None:
    assert Settings(_env_file=None).cookie_secure is True
    cookie = await session_cookie(cookie_secure=True, public_base_url=None)
    assert "; secure" in cookie and "; httponly" in cookie and "samesite=lax" in cookie


async def test_off_when_the_setting_says_so(session_cookie: SessionCookie) -> None:
    cookie = await session_cookie(cookie_secure=False, public_base_url="https://kortkontor.example")
    assert "; secure" not in cookie


def test_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOKIE_SECURE", "false")
    assert Settings(_env_file=None).cookie_secure is False


def test_the_demo_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    services = demo_services(Settings(_env_file=None))
    assert services.settings.cookie_secure is False


def test_serve_refuses_plain_http_with_secure_cookies(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://kortkontor.example")
    code, _, err = run_cli(capsys, "serve")
    assert code == 2
    assert err == (
        "PUBLIC_BASE_URL är vanlig http, men COOKIE_SECURE är på: webbläsare sparar ingen "
        "Secure-kaka från en http-sida, så ingen skulle kunna logga in i översikten. "
        "Använd https, eller sätt COOKIE_SECURE=false.\n"
    )
