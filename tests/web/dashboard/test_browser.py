"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against the served app.

`make test` installs Chromium with apt where it can; without it these tests are skipped.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from kortkontor.wiring import Services
from models.payouts import PayoutStatement
from tests.web.dashboard.conftest import CHROMIUM, CLOCK, STUCK_DAYS, Seeded, log_in

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not at /usr/bin/chromium (`make test` installs it with apt)",
)


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies), Swedish, a laptop-sized window, no JavaScript."""
    context = await browser.new_context(
        locale="sv-SE",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=False,
        accept_downloads=True,
    )
    yield await context.new_page()
    await context.close()


async def test_find_a_stuck_card_then_lock_and_export_the_month(
    page: Page, server: str, seeded: Seeded, services: Services
) -> None:
    await log_in(page, server)
    await expect(page.get_by_role("heading", name="Översikt")).to_be_visible()
    stuck = page.locator("#stuck")
    await expect(stuck.get_by_role("row", name=re.compile(r"SE-1"))).to_contain_text(
        str(STUCK_DAYS)
    )
    await expect(page.locator("svg.chart")).to_have_count(2)

    await stuck.get_by_role("link", name="SE-1").click()
    await expect(page.get_by_role("heading", name="Kort SE-1")).to_be_visible()
    timeline = page.locator("ol.timeline")
    await expect(timeline).to_contain_text("Beställningen importerades som «beställt».")
    await expect(timeline).to_contain_text("Kort: skickat (REK på väg) → i förvaring på kontoret.")

    await page.get_by_role("link", name="Uppsala centrum").first.click()
    await expect(page.get_by_role("heading", name=re.compile("Uppsala centrum"))).to_be_visible()
    await expect(page.locator("#admins")).to_contain_text("anna@example.se")

    await page.get_by_role("link", name="Ersättningar").click()
    await expect(
        page.get_by_role("heading", name="Sammanställningar för december 2026")
    ).to_be_visible()
    await expect(page.locator("#statements")).to_contain_text("500,00")
    async with page.expect_download() as started:
        await page.get_by_role("button", name="Lås och exportera CSV").click()
    download = await started.value
    assert download.suggested_filename == "ersattning-2026-12.csv"
    saved = Path(await download.path())
    exported = await asyncio.to_thread(saved.read_text, encoding="utf-8")
    bo = seeded.world.other_admin_id
    assert exported == (
        "admin_id,admin_email,date,order_ref,kind,amount_sek,card_number_checked,payee,org_number\n"
        f"{bo},bo@example.se,2026-12-01,SE-3,handout,500.00,no,frilansfinans,\n"
    )

    async with services.sessions() as session:
        statements = (await session.exec(select(PayoutStatement))).all()
    assert [(s.admin_id, s.month, s.total_ore, s.locked_at) for s in statements] == [
        (bo, "2026-12", 50_000, CLOCK)
    ]
    await page.goto(f"{server}/dashboard/payouts?month=2026-12")
    await expect(page.locator("p.locked")).to_contain_text("Låst 12 januari 2027 kl. 10:00")
    await expect(page.get_by_role("button", name="Ladda ner CSV")).to_be_visible()

    await page.get_by_role("button", name="Logga ut").click()
    await expect(page).to_have_url(f"{server}/dashboard/login")
