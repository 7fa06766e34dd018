"""Request bodies are capped per path and refused before they are read: credentials and
signatures first, then the size. A 20 MB body sent to `serve` without credentials is answered
before it is sent whole, and the process's peak memory does not grow with it."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from kortkontor.wiring import Services
from models.crypto import webhook_secret
from tests.conftest import TEST_SECRET_KEY
from tests.kortkontor.processes import environment, serving
from tests.web.issuer_site import API_TOKEN, AUTH
from web.app import create_app
from web.limits import KB, MB, limit_for
from web.server import WebServer
from web.telegram_webhook import SECRET_HEADER

TWILIO_TOKEN = "twilio-test-auth-token"
HUGE = 20 * MB
# How much the serving process's peak resident memory may grow while refusing the huge bodies:
# a body read whole would add at least its 20 MB.
PEAK_GROWTH_BOUND = 8 * MB


@dataclass
class Answer:
    """A response's status, how long it took, and how much of the body was sent by then."""

    status: int
    seconds: float
    body_sent: int


def send(
    port: int,
    path: str,
    size: int,
    *,
    headers: dict[str, str] | None = None,
    chunked: bool = False,
    timeout: float = 30,
) -> Answer:
    """POST `size` bytes, reading the answer as soon as it comes: a server that answers early
    is not made to wait for the whole body (as a client sending it all first would)."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    pending = ("\r\n".join(lines) + "\r\n\r\n").encode()
    piece = b"x" * (64 * KB)
    queued = 0
    response = b""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.setblocking(False)
        while b"\r\n" not in response:
            if not pending and queued < size:
                data = piece[: size - queued]
                queued += len(data)
                pending = f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data
                if chunked and queued == size:
                    pending += b"0\r\n\r\n"
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], timeout)
            assert readable or writable, f"no answer from {path} in {timeout} s"
            if readable:
                data = sock.recv(64 * KB)
                assert data, f"{path}: the connection closed without an answer"
                response += data
            elif writable:
                try:
                    pending = pending[sock.send(pending) :]
                except (BrokenPipeError, ConnectionResetError):
                    pending, queued = b"", size  # closed on us: read what it said
        seconds = time.monotonic() - started
    status = int(response.split(b" ", 2)[1])
    return Answer(status, seconds, max(0, queued - len(pending)))


async def sent(*args: object, **kwargs: object) -> Answer:
    """`send` on a thread: the app in this process answers on this event loop."""
    return await asyncio.to_thread(send, *args, **kwargs)  # type: ignore[arg-type]


# -- the app in this process ------------------------------------------------------------------


@dataclass
class Site:
    """The app on a free port: its port and a client."""

    port: int
    client: httpx.AsyncClient


@pytest.fixture
async def site(services: Services) -> AsyncIterator[Site]:
    """The app with the API token, Twilio's token and the secret key (the dashboard on)."""
    settings = services.settings.model_copy(
        update={
            "kortkontor_api_token": SecretStr(API_TOKEN),
            "twilio_auth_token": SecretStr(TWILIO_TOKEN),
            "kortkontor_secret_key": SecretStr(TEST_SECRET_KEY),
        }
    )
    server = WebServer(create_app(replace(services, settings=settings)), host="127.0.0.1", port=0)
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Site(server.port, client)
    finally:
        await server.stop()


def test_the_limits_per_path() -> None:
    assert limit_for("/api/cards") == 1 * MB
    assert limit_for("/telegram/webhook") == 256 * KB
    assert limit_for("/twilio/inbound") == limit_for("/twilio/status") == 64 * KB
    assert limit_for("/dashboard/login") == 64 * KB
    assert limit_for("/") == limit_for("/calendar/1/x.ics") == 64 * KB


def test_the_api_limit_holds_a_full_batch() -> None:
    """The API's largest request, 1000 orders of the usual length, fits with room to spare."""
    orders = [
        {
            "order_ref": f"SE-{n:06d}",
            "office_code": "UPS1",
            "given_name": "Anna-Karin",
            "family_name": "Åkesson-Öberg",
            "personnummer": "19811228-9874",
            "phone": "+46701234567",
            "email": f"anna-karin.akesson-oberg.{n}@region-uppsala.example.se",
            "status": "shipped",
            "ordered_at": "2026-11-30",
        }
        for n in range(1000)
    ]
    assert len(json.dumps(orders).encode()) < limit_for("/api/cards") // 2


async def test_the_token_is_checked_before_the_body_is_read(site: Site) -> None:
    answer = await sent(site.port, "/api/cards", HUGE, headers={"Content-Type": "application/json"})
    assert answer.status == 401 and answer.body_sent < HUGE
    answer = await sent(site.port, "/api/cards", HUGE, headers={"Authorization": "Bearer wrong"})
    assert answer.status == 401


async def test_an_api_body_over_the_limit_is_refused(site: Site) -> None:
    response = await site.client.post(
        "/api/cards",
        content=b"[" + b" " * MB + b"]",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than 1 MB, the limit here"}
    # Without Content-Length the body is counted as it comes.
    answer = await sent(site.port, "/api/cards", HUGE, headers=AUTH, chunked=True)
    assert answer.status == 413 and answer.body_sent < HUGE
    # Under the limit, the request is read as before.
    response = await site.client.post("/api/cards", json=[], headers=AUTH)
    assert response.status_code == 200


async def test_twilio_bodies_are_capped_before_the_signature_is_checked(site: Site) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
    for chunked in (False, True):
        answer = await sent(site.port, "/twilio/inbound", HUGE, headers=form, chunked=chunked)
        assert answer.status == 413 and answer.body_sent < HUGE
    # A small one reaches the signature check.
    response = await site.client.post("/twilio/inbound", data={"Body": "hej"}, headers=form)
    assert response.status_code == 403


async def test_telegram_checks_its_secret_first(site: Site) -> None:
    assert (await sent(site.port, "/telegram/webhook", HUGE)).status == 403
    secret = {SECRET_HEADER: webhook_secret(TEST_SECRET_KEY)}
    answer = await sent(site.port, "/telegram/webhook", 300 * KB, headers=secret)
    assert answer.status == 413


async def test_dashboard_forms_are_capped(site: Site) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await sent(site.port, "/dashboard/login", HUGE, headers=form)).status == 413


# -- `kortkontor serve`, its memory measured --------------------------------------------------


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * KB
    raise AssertionError("no VmHWM in /proc")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_serve_refuses_huge_bodies_without_growing(env: str, tmp_path: Path) -> None:
    settings = environment(env, KORTKONTOR_API_TOKEN=API_TOKEN, TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
    json_type = {"Content-Type": "application/json"}
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
    attempts = [
        ("/api/cards", json_type, False, 401),
        ("/api/cards", {**json_type, **AUTH}, False, 413),
        ("/api/cards", {**json_type, **AUTH}, True, 413),
        ("/twilio/inbound", form, False, 413),
        ("/twilio/inbound", form, True, 413),
        ("/telegram/webhook", json_type, False, 403),
        ("/dashboard/login", form, False, 413),
    ]
    with serving(settings, tmp_path) as served:
        port = served.port
        # Every route once with a small body first, so that what it loads on first use is in
        # the baseline.
        for path, headers, _, _ in attempts:
            send(port, path, 100, headers=headers)
        before = _peak_rss(served.process.pid)
        answers = [
            (path, expected, send(port, path, HUGE, headers=headers, chunked=chunked))
            for path, headers, chunked, expected in attempts
            for _ in range(2)
        ]
        growth = _peak_rss(served.process.pid) - before
        assert served.stop() == 0
    for path, expected, answer in answers:
        assert answer.status == expected, (path, answer)
        assert answer.body_sent < HUGE, (path, answer)  # answered before it was all sent
        assert answer.seconds < 5, (path, answer)
    slowest = max(answer.seconds for _, _, answer in answers)
    print(f"peak RSS growth {growth / MB:.1f} MB; slowest answer {slowest * 1000:.0f} ms")
    assert growth < PEAK_GROWTH_BOUND
