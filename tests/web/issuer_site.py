"""The web app served on a free port with an API token and a secret key, and a small network:
offices in three cities (one working out its notice, one whose notice has ended), cards and
meetings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import transaction
from models.lifecycle import Role, transition_card
from models.meetings import MeetingStatus
from models.network import Office, Venue, get_admin_by_email
from models.network_file import read_network_toml, upsert_network
from models.orders import read_orders_csv
from models.types import utcnow
from scheduler.cards import import_orders
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PERSONNUMMER, add, csv_row, eligibility_toml, meeting, orders_csv
from web.app import create_app
from web.server import WebServer

API_TOKEN = "issuer-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _office(code: str, name: str, city: str, email: str, venue: str, address: str) -> str:
    return f"""
[[office]]
code = "{code}"
name = "{name}"
city = "{city}"

[[office.venue]]
key = "main"
name = "{venue}"
address = "{address}"
kind = "cafe"

[[office.admin]]
email = "{email}"
name = "Admin {code}"
phone = "+46701234567"
windows = [ {{ weekday = "tue", start = "16:00", end = "19:00", venue = "main" }},
            {{ weekday = "thu", start = "16:00", end = "19:00", venue = "main" }} ]
{eligibility_toml(city, address=address)}"""


NETWORK = "".join(
    (
        _office(
            "UPS1",
            "Uppsala centrum",
            "Uppsala",
            "anna@example.se",
            "Café Linné",
            "Svartbäcksgatan 22, 753 33 Uppsala",
        ),
        _office(
            "UPS2",
            "Uppsala Gränby",
            "Uppsala",
            "ulf@example.se",
            "Hotell Gränby",
            "Marknadsgatan 2, 754 51 Uppsala",
        ),
        _office(
            "GBG1",
            "Göteborg Haga",
            "Göteborg",
            "bo@example.se",
            "Café Husaren",
            "Haga Nygata 28, 413 01 Göteborg",
        ),
        _office(
            "STO1",
            "Stockholm Söder",
            "Stockholm",
            "sara@example.se",
            "Café String",
            "Nytorgsgatan 38, 116 40 Stockholm",
        ),
        _office(
            "MLM1",
            "Malmö Möllan",
            "Malmö",
            "mats@example.se",
            "Café Glassfabriken",
            "Bergsgatan 33, 214 22 Malmö",
        ),
    )
)
# Order ref → (office, personnummer key).
CARDS = {
    "SE-1001": ("UPS1", "maria"),
    "SE-1002": ("UPS1", "ahmed"),
    "SE-2001": ("GBG1", "lena"),
    "SE-3001": ("STO1", "oskar"),
}


@dataclass
class Network:
    """Ids of what the tests talk about."""

    admins: dict[str, int] = field(default_factory=dict)  # office code → its admin's id
    cards: dict[str, int] = field(default_factory=dict)  # order ref → card id
    meetings: dict[str, int] = field(default_factory=dict)  # name → meeting id


async def _meeting(
    session: AsyncSession,
    card: Card,
    admin_id: int,
    venue_id: int | None,
    starts_at: datetime,
    status: MeetingStatus,
    **fields: Any,
) -> int:
    row = await add(
        session, meeting(card, admin_id, starts_at, venue_id=venue_id, status=status, **fields)
    )
    assert row.id is not None
    return row.id


async def build_network(services: Services) -> Network:
    """The offices, the cards in custody, and a few meetings at UPS1 and GBG1.

    STO1 gave notice a week ago (still active); MLM1 two months ago (its notice has ended).
    """
    now = utcnow()
    network = Network()
    rows = [
        csv_row(
            order_ref=ref,
            office_code=office,
            given_name=key.title(),
            family_name="Test",
            personnummer=PERSONNUMMER[key][0],
            phone=f"070111{index:04d}",
            email=f"{key}@example.se",
        )
        for index, (ref, (office, key)) in enumerate(CARDS.items())
    ]
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(NETWORK))
        await import_orders(session, read_orders_csv(orders_csv(*rows)), vault=services.vault)
        offices = {o.code: o for o in (await session.exec(select(Office))).all()}
        offices["STO1"].notice_given_at = now - timedelta(days=7)
        offices["MLM1"].notice_given_at = now - timedelta(days=62)
        for code, email in (("UPS1", "anna"), ("GBG1", "bo"), ("STO1", "sara")):
            admin = await get_admin_by_email(session, email=f"{email}@example.se")
            assert admin is not None and admin.id is not None
            network.admins[code] = admin.id
        venues = {v.office_id: v.id for v in (await session.exec(select(Venue))).all()}
        for ref in CARDS:
            card = (await session.exec(select(Card).where(Card.order_ref == ref))).one()
            assert card.id is not None
            network.cards[ref] = card.id
            for status, role in (
                (CardStatus.shipped, Role.operator),
                (CardStatus.in_custody, Role.admin),
            ):
                await transition_card(session, card, status, role=role, actor_id=None, now=now)
        ups1, gbg1 = offices["UPS1"], offices["GBG1"]
        assert ups1.id is not None and gbg1.id is not None
        maria = (await session.exec(select(Card).where(Card.order_ref == "SE-1001"))).one()
        ahmed = (await session.exec(select(Card).where(Card.order_ref == "SE-1002"))).one()
        lena = (await session.exec(select(Card).where(Card.order_ref == "SE-2001"))).one()
        for booked in (maria, lena):
            await transition_card(
                session, booked, CardStatus.booked, role=Role.admin, actor_id=None, now=now
            )
        soon = now.replace(microsecond=0) + timedelta(days=2)
        anna, bo = network.admins["UPS1"], network.admins["GBG1"]
        cafe, husaren = venues[ups1.id], venues[gbg1.id]
        long_ago = datetime(2020, 1, 7, 15, tzinfo=UTC)
        network.meetings["confirmed"] = await _meeting(
            session, maria, anna, cafe, soon, MeetingStatus.confirmed, confirmed_at=now
        )
        network.meetings["requested"] = await _meeting(
            session,
            ahmed,
            anna,
            None,
            soon + timedelta(days=1),
            MeetingStatus.requested,
            home_address_encrypted="not read here",
        )
        network.meetings["cancelled"] = await _meeting(
            session,
            maria,
            anna,
            cafe,
            soon - timedelta(days=1),
            MeetingStatus.cancelled,
            closed_at=now,
        )
        network.meetings["old"] = await _meeting(
            session, maria, anna, cafe, long_ago, MeetingStatus.failed, closed_at=long_ago
        )
        network.meetings["other_admin"] = await _meeting(
            session, lena, bo, husaren, soon, MeetingStatus.confirmed
        )
    return network


@dataclass
class Site:
    """The app on a free local port, and a client for it (no credentials by default)."""

    url: str
    client: httpx.AsyncClient
    responses: list[httpx.Response] = field(default_factory=list)

    async def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A call with the issuer's bearer token, kept for the no-personnummer check."""
        response = await self.client.request(method, path, headers=AUTH, **kwargs)  # type: ignore[arg-type]
        self.responses.append(response)
        return response


def issuer_app(
    services: Services,
    *,
    api_token: str | None = API_TOKEN,
    secret_key: str | None = TEST_SECRET_KEY,
) -> FastAPI:
    """The app with KORTKONTOR_API_TOKEN and KORTKONTOR_SECRET_KEY set (or not)."""
    settings = services.settings.model_copy(
        update={
            "kortkontor_api_token": SecretStr(api_token) if api_token is not None else None,
            "kortkontor_secret_key": SecretStr(secret_key) if secret_key is not None else None,
        }
    )
    return create_app(replace(services, settings=settings))


Handler = Callable[[dict[str, object]], Awaitable[None]]


@asynccontextmanager
async def serving(
    services: Services,
    *,
    api_token: str | None = API_TOKEN,
    secret_key: str | None = TEST_SECRET_KEY,
    telegram_updates: Handler | None = None,
) -> AsyncIterator[Site]:
    """Serve create_app on these settings over real HTTP until the block ends."""
    app = issuer_app(services, api_token=api_token, secret_key=secret_key)
    app.state.telegram_updates = telegram_updates
    server = WebServer(app, host="127.0.0.1", port=0)
    await server.start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield Site(url=url, client=client)
    finally:
        await server.stop()
