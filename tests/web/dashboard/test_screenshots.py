"""The README's screenshots: the demo network with three months of history, photographed in
Debian's Chromium. Runs only with KORTKONTOR_SCREENSHOTS=1; it writes docs/screenshots/*.png.

    KORTKONTOR_SCREENSHOTS=1 .venv/bin/pytest tests/web/dashboard/test_screenshots.py
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from kortkontor.wiring import Services
from models.cards import Card, CardStatus, get_card_by_order_ref
from models.db import transaction
from models.lifecycle import Role, transition_card
from models.meetings import FailureReason, IdDocument, Meeting, MeetingStatus
from models.network import Office, get_office_by_code
from models.network_file import read_network_toml, upsert_network
from models.operators import OperatorRole, hash_password, set_operator
from models.orders import read_orders_csv
from models.payouts import Tariffs
from scheduler import booking, outcomes
from scheduler.availability import load_availability
from scheduler.booking import Booked
from scheduler.cards import import_orders
from tests.web.dashboard.conftest import CHROMIUM, CLOCK, EMAIL, PASSWORD, log_in

ROOT = Path(__file__).resolve().parents[3]
DEMO_DATA = ROOT / "kortkontor" / "demo_data"
SCREENSHOTS = ROOT / "docs" / "screenshots"
WANTS_SCREENSHOTS = os.environ.get("KORTKONTOR_SCREENSHOTS") == "1"
DAY = timedelta(days=1)

pytestmark = pytest.mark.skipif(
    not (WANTS_SCREENSHOTS and CHROMIUM.exists()),
    reason="screenshots are made on request: KORTKONTOR_SCREENSHOTS=1, with /usr/bin/chromium",
)


@dataclass(frozen=True)
class Step:
    """What happens to one card: picked up, then meetings (None: handed out, else why not)."""

    order_ref: str
    picked_up: datetime
    meetings: tuple[FailureReason | None, ...] = ()
    leave_booked: bool = False


# CLOCK is Tuesday 12 January 2027. Handouts spread over the autumn; two cards are stuck.
HISTORY = (
    Step("SE-1001", CLOCK - 77 * DAY, (None,)),
    Step("SE-2001", CLOCK - 63 * DAY, (None,)),
    Step("SE-1003", CLOCK - 49 * DAY, (None,)),
    Step("SE-3001", CLOCK - 43 * DAY, (FailureReason.no_valid_id, None)),
    Step("SE-1004", CLOCK - 36 * DAY, (None,)),
    Step("SE-2003", CLOCK - 29 * DAY, (None,)),
    Step("SE-3002", CLOCK - 40 * DAY),
    Step("SE-2002", CLOCK - 33 * DAY),
    Step("SE-1002", CLOCK - 5 * DAY, leave_booked=True),
    Step("SE-3003", CLOCK - 12 * DAY, leave_booked=True),
)


async def _book(services: Services, card: Card, after: datetime) -> Meeting:
    """The card user books the first free time after `after`; the admin confirms it."""
    async with transaction(services.sessions) as session:
        office = await session.get(Office, card.office_id)
        assert office is not None and card.id is not None
        slot = (await load_availability(session, office, now=after)).free(now=after)[0]
        result = await booking.request_booking(
            session, card_id=card.id, card_user_id=card.card_user_id, slot=slot, now=after
        )
        assert isinstance(result, Booked) and result.meeting.id is not None
        if result.meeting.status == MeetingStatus.requested:
            await booking.confirm(
                session, meeting_id=result.meeting.id, admin_id=slot.admin_id, now=after
            )
        return result.meeting


async def _outcome(services: Services, meeting: Meeting, failure: FailureReason | None) -> None:
    """Record the meeting's outcome ten minutes after it began."""
    assert meeting.id is not None
    at = meeting.starts_at + timedelta(minutes=10)
    async with transaction(services.sessions) as session:
        if failure is None:
            await outcomes.record_handout(
                session,
                admin_id=meeting.admin_id,
                meeting_id=meeting.id,
                document=IdDocument.driving_licence,
                tariffs=Tariffs(),
                now=at,
            )
        else:
            await outcomes.record_failure(
                session,
                admin_id=meeting.admin_id,
                meeting_id=meeting.id,
                reason=failure,
                tariffs=Tariffs(),
                now=at,
            )


async def _pick_up(services: Services, order_ref: str, at: datetime) -> Card:
    async with transaction(services.sessions) as session:
        card = await get_card_by_order_ref(session, order_ref=order_ref)
        assert card is not None
        if card.status == CardStatus.ordered:
            await transition_card(
                session,
                card,
                CardStatus.shipped,
                role=Role.operator,
                actor_id=None,
                now=at - 9 * DAY,
            )
        await transition_card(
            session, card, CardStatus.in_custody, role=Role.admin, actor_id=None, now=at
        )
        return card


async def seed_demo(services: Services) -> None:
    """The demo network and its orders, the history above, a notice, and an operator."""
    network = (DEMO_DATA / "network.toml").read_text(encoding="utf-8")
    orders = (DEMO_DATA / "cards.csv").read_text(encoding="utf-8")
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(network))
        await import_orders(
            session, read_orders_csv(orders), vault=services.vault, now=CLOCK - 90 * DAY
        )
    for step in HISTORY:
        card = await _pick_up(services, step.order_ref, step.picked_up)
        after = step.picked_up
        for failure in step.meetings:
            meeting = await _book(services, card, after)
            await _outcome(services, meeting, failure)
            after = meeting.starts_at + DAY
        if step.leave_booked:
            await _book(services, card, CLOCK)
    async with transaction(services.sessions) as session:
        stockholm = await get_office_by_code(session, code="STH-SOD")
        assert stockholm is not None
        stockholm.notice_given_at = CLOCK - 10 * DAY
        session.add(stockholm)
        await set_operator(
            session, email=EMAIL, password_hash=hash_password(PASSWORD), role=OperatorRole.admin
        )


async def shoot(page: Page, name: str) -> None:
    """The whole page as docs/screenshots/<name>.png."""
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_screenshots_of_the_main_pages(
    browser: Browser, server: str, services: Services
) -> None:
    await seed_demo(services)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(
        locale="sv-SE", viewport={"width": 1200, "height": 800}, java_script_enabled=False
    )
    page = await context.new_page()
    await log_in(page, server)
    await expect(page.locator("#stuck tbody tr")).to_have_count(2)
    await shoot(page, "overview")
    await page.goto(f"{server}/dashboard/cards/SE-3001")
    await expect(page.locator("ol.timeline")).to_contain_text("Ingen giltig ID-handling")
    await shoot(page, "card")
    await page.goto(f"{server}/dashboard/offices/UPS1")
    await expect(page.locator("#admins")).to_contain_text("Erik Lind")
    await shoot(page, "office")
    await page.goto(f"{server}/dashboard/payouts")
    await expect(page.locator("#statements")).to_contain_text("Johan Berg")
    await shoot(page, "payouts")
    await context.close()
