"""Twilio's webhooks over real HTTP: the app served by WebServer on the test database."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from xml.etree import ElementTree

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.request_validator import RequestValidator

from bot.dialogue import Dialogue
from bot.flows import converse
from bot.sms import SmsChat
from kortkontor.wiring import Services
from models.db import transaction
from models.outbox import Notification, NotificationStatus, SmsOptOut
from models.types import utcnow
from scheduler.outbox import is_opted_out, set_opt_out
from tests.factories import add, notification
from web.app import create_app
from web.server import WebServer, run_web
from web.twilio_hooks import UNDELIVERABLE_HANDLERS

TOKEN = "twilio-test-auth-token"
SID = "SM" + "0123456789abcdef" * 2
# PTS's range reserved for fiction (070-174 06 05 .. 99).
PHONE = "+46701740605"
PUBLIC = "https://kortkontor.example"
STOPPED = "Du får inga fler sms från Kortkontor. Skicka START för att få sms igen."
RESTARTED = "Du får sms från Kortkontor igen."


@dataclass
class Site:
    """The app served on a free local port, and a client for it."""

    url: str
    client: httpx.AsyncClient

    async def post(
        self,
        path: str,
        form: dict[str, str],
        *,
        signed_url: str | None = None,
        token: str = TOKEN,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST the form signed like Twilio does (over `signed_url`, default the real URL)."""
        if signature is None:
            validator = RequestValidator(token)
            signature = validator.compute_signature(signed_url or self.url + path, form)
        return await self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})


Serve = Callable[..., Awaitable[Site]]


@pytest.fixture
async def serve(services: Services) -> AsyncIterator[Serve]:
    """Builds the app with a Twilio token (and a public URL) and serves it on port 0."""
    running: list[tuple[WebServer, httpx.AsyncClient]] = []

    async def start(*, token: str | None = TOKEN, public_base_url: str | None = None) -> Site:
        settings = services.settings.model_copy(
            update={
                "twilio_auth_token": SecretStr(token) if token is not None else None,
                "public_base_url": public_base_url,
            }
        )
        app = create_app(replace(services, settings=settings))
        app.state.sms_messages = SmsChat(
            Dialogue(services.sessions, services.vault, converse)
        ).webhook
        server = WebServer(app, host="127.0.0.1", port=0)
        await server.start()
        url = f"http://127.0.0.1:{server.port}"
        client = httpx.AsyncClient(base_url=url, timeout=5)
        running.append((server, client))
        return Site(url=url, client=client)

    yield start
    for server, client in running:
        await client.aclose()
        await server.stop()


@pytest.fixture
async def site(serve: Serve) -> Site:
    """The app with a Twilio auth token and no public URL."""
    return await serve()


@pytest.fixture
def undeliverable() -> Iterator[list[tuple[int | None, str | None]]]:
    """Registers a fallback that records (notification id, delivery status) per call."""
    calls: list[tuple[int | None, str | None]] = []

    async def record(session: AsyncSession, notification: Notification) -> None:
        # The fallback runs inside the request's transaction, so it can read and write.
        assert await is_opted_out(session, phone=notification.recipient) is False
        calls.append((notification.id, notification.delivery_status))

    UNDELIVERABLE_HANDLERS.append(record)
    yield calls
    UNDELIVERABLE_HANDLERS.remove(record)


@pytest.fixture
async def sent_sms(services: Services) -> int:
    """An SMS notification Twilio accepted as SID; returns its id."""
    async with transaction(services.sessions) as session:
        row = await add(
            session,
            notification(
                utcnow(),
                recipient=PHONE,
                template="reminder",
                idempotency_key="reminder:1:24h",
                status=NotificationStatus.sent,
                provider_message_id=SID,
            ),
        )
        assert row.id is not None
        return row.id


async def delivery_status(services: Services, notification_id: int) -> str | None:
    async with services.sessions() as session:
        row = await session.get(Notification, notification_id)
        assert row is not None
        return row.delivery_status


async def opted_out_numbers(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list((await session.exec(select(SmsOptOut.phone))).all())


def status_form(status: str, sid: str = SID) -> dict[str, str]:
    return {"MessageSid": sid, "MessageStatus": status, "To": PHONE, "AccountSid": "AC1"}


def inbound_form(body: str, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": "SM" + "f" * 32, "From": sender, "To": "+46701740699", "Body": body}


def reply_text(response: httpx.Response) -> str | None:
    """The text of the TwiML <Message>, None for an empty <Response/>."""
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    message = root.find("Message")
    return None if message is None else message.text


# -- status callback ---------------------------------------------------------------------------


async def test_status_callback_records_the_delivery_status(
    site: Site,
    services: Services,
    sent_sms: int,
    undeliverable: list[tuple[int | None, str | None]],
) -> None:
    response = await site.post("/twilio/status", status_form("delivered"))
    assert response.status_code == 204
    assert response.content == b""
    assert await delivery_status(services, sent_sms) == "delivered"
    assert undeliverable == []


async def test_undelivered_calls_the_fallbacks_once(
    site: Site,
    services: Services,
    sent_sms: int,
    undeliverable: list[tuple[int | None, str | None]],
) -> None:
    form = {**status_form("undelivered"), "ErrorCode": "30003"}
    assert (await site.post("/twilio/status", form)).status_code == 204
    assert await delivery_status(services, sent_sms) == "undelivered"
    assert undeliverable == [(sent_sms, "undelivered")]
    # Twilio repeats callbacks; the fallback must not run twice.
    assert (await site.post("/twilio/status", form)).status_code == 204
    assert (await site.post("/twilio/status", status_form("failed"))).status_code == 204
    assert undeliverable == [(sent_sms, "undelivered")]


async def test_failed_calls_the_fallbacks(
    site: Site, sent_sms: int, undeliverable: list[tuple[int | None, str | None]]
) -> None:
    assert (await site.post("/twilio/status", status_form("failed"))).status_code == 204
    assert undeliverable == [(sent_sms, "failed")]


async def test_a_late_callback_does_not_undo_a_final_status(
    site: Site, services: Services, sent_sms: int
) -> None:
    assert (await site.post("/twilio/status", status_form("delivered"))).status_code == 204
    assert (await site.post("/twilio/status", status_form("sent"))).status_code == 204
    assert await delivery_status(services, sent_sms) == "delivered"


async def test_a_failing_fallback_rolls_back_so_that_twilio_retries(
    site: Site, services: Services, sent_sms: int
) -> None:
    async def broken(session: AsyncSession, notification: Notification) -> None:
        raise RuntimeError("fallback broke")

    UNDELIVERABLE_HANDLERS.append(broken)
    try:
        response = await site.post("/twilio/status", status_form("undelivered"))
    finally:
        UNDELIVERABLE_HANDLERS.remove(broken)
    assert response.status_code == 500
    assert await delivery_status(services, sent_sms) is None


async def test_unknown_message_is_acknowledged(
    site: Site, undeliverable: list[tuple[int | None, str | None]], caplog: pytest.LogCaptureFixture
) -> None:
    form = status_form("undelivered", sid="SM" + "9" * 32)
    response = await site.post("/twilio/status", form)
    assert response.status_code == 204
    assert undeliverable == []
    assert "SM" + "9" * 32 in caplog.text
    assert PHONE not in caplog.text


async def test_forged_signature_is_refused(site: Site, services: Services, sent_sms: int) -> None:
    forged = await site.post("/twilio/status", status_form("delivered"), token="not-the-token")
    assert forged.status_code == 403
    assert forged.json() == {"detail": "invalid Twilio signature"}
    missing = await site.client.post("/twilio/status", data=status_form("delivered"))
    assert missing.status_code == 403
    assert await delivery_status(services, sent_sms) is None


async def test_a_signature_over_other_fields_is_refused(site: Site, sent_sms: int) -> None:
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(site.url + "/twilio/status", status_form("delivered"))
    response = await site.post("/twilio/status", status_form("failed"), signature=signature)
    assert response.status_code == 403


async def test_no_auth_token_means_503(serve: Serve) -> None:
    site = await serve(token=None)
    for path in ("/twilio/status", "/twilio/inbound"):
        response = await site.post(path, status_form("delivered"))
        assert response.status_code == 503
        assert "TWILIO_AUTH_TOKEN" in response.json()["detail"]


async def test_behind_a_proxy_the_public_url_is_signed(
    serve: Serve, services: Services, sent_sms: int
) -> None:
    site = await serve(public_base_url=PUBLIC + "/")
    local = await site.post("/twilio/status", status_form("delivered"))
    assert local.status_code == 403
    public = await site.post(
        "/twilio/status", status_form("delivered"), signed_url=PUBLIC + "/twilio/status"
    )
    assert public.status_code == 204
    assert await delivery_status(services, sent_sms) == "delivered"


# -- inbound SMS -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "stopp", " Avsluta ", "Stopp!"])
async def test_stop_opts_the_sender_out(
    site: Site, services: Services, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await site.post("/twilio/inbound", inbound_form(body))
    assert response.status_code == 200
    assert reply_text(response) == STOPPED
    assert await opted_out_numbers(services) == [PHONE]
    assert "opt-out stored" in caplog.text
    assert "1740605" not in caplog.text


async def test_a_national_number_is_stored_in_e164(site: Site, services: Services) -> None:
    response = await site.post("/twilio/inbound", inbound_form("STOP", sender="070-174 06 05"))
    assert reply_text(response) == STOPPED
    assert await opted_out_numbers(services) == [PHONE]


async def test_start_opts_the_sender_back_in(site: Site, services: Services) -> None:
    async with transaction(services.sessions) as session:
        await set_opt_out(session, phone=PHONE, opted_out=True, now=utcnow())
    response = await site.post("/twilio/inbound", inbound_form("start"))
    assert response.status_code == 200
    assert reply_text(response) == RESTARTED
    assert await opted_out_numbers(services) == []


@pytest.mark.parametrize(
    "body", ["Hej, när kan jag hämta mitt kort?", "", "stoppa <inte>", "🙂" * 500]
)
async def test_other_text_gets_an_empty_response(site: Site, services: Services, body: str) -> None:
    response = await site.post("/twilio/inbound", inbound_form(body))
    assert response.status_code == 200
    assert reply_text(response) is None
    assert response.text.endswith("<Response/>")
    assert await opted_out_numbers(services) == []


async def test_stop_from_a_sender_without_a_number_stores_nothing(
    site: Site, services: Services
) -> None:
    response = await site.post("/twilio/inbound", inbound_form("STOP", sender="Kortkontor"))
    assert reply_text(response) is None
    assert await opted_out_numbers(services) == []


async def test_inbound_with_a_forged_signature_stores_nothing(
    site: Site, services: Services
) -> None:
    response = await site.post("/twilio/inbound", inbound_form("STOP"), token="forged")
    assert response.status_code == 403
    async with services.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(SmsOptOut))).one() == 0


# -- the app and its server --------------------------------------------------------------------


async def test_healthz(site: Site) -> None:
    response = await site.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_run_web_serves_until_stopped(services: Services) -> None:
    port, stop = _free_port(), asyncio.Event()
    task = asyncio.create_task(
        run_web(create_app(services), host="127.0.0.1", port=port, stop=stop)
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(200):
            try:
                response = await client.get("/healthz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.01)
        else:
            pytest.fail("run_web did not start listening")
        assert response.json() == {"status": "ok"}
    stop.set()
    await asyncio.wait_for(task, 5)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "still listening after stop"


async def test_a_port_in_use_is_an_error_not_an_exit(
    site: Site, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    taken = int(site.url.rsplit(":", 1)[1])
    server = WebServer(create_app(services), host="127.0.0.1", port=taken)
    with caplog.at_level(logging.CRITICAL, logger="uvicorn.error"), pytest.raises(RuntimeError):
        await server.start()
