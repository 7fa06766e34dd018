"""The issuer's monthly report from the API: the hand-computed November, as CSV and as PDF."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from tests.factories import ALL_TEST_PERSONNUMMER
from tests.payout.report_month import EXPECTED_CSV, MONTH, build_november
from tests.web.issuer_site import Site, serving


@pytest.fixture
async def site(services: Services) -> AsyncIterator[Site]:
    await build_november(services)
    async with serving(services) as running:
        yield running


async def exported(services: Services) -> list[dict[str, object]]:
    async with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == "report.exported")
        return [event.data for event in (await session.exec(query)).all()]


async def test_the_report_as_csv(site: Site, services: Services) -> None:
    response = await site.api("GET", f"/api/report?month={MONTH}&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="rapport-2026-11.csv"'
    assert response.text == EXPECTED_CSV
    assert not any(number in response.text for number in ALL_TEST_PERSONNUMMER)
    assert await exported(services) == [{"month": MONTH, "format": "csv", "offices": 2}]


async def test_the_report_as_pdf(site: Site, services: Services) -> None:
    response = await site.api("GET", f"/api/report?month={MONTH}&format=pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert await exported(services) == [{"month": MONTH, "format": "pdf", "offices": 2}]


async def test_the_report_needs_the_token(site: Site, services: Services) -> None:
    response = await site.client.get(f"/api/report?month={MONTH}")
    assert response.status_code == 401
    assert await exported(services) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("month=2026-13&format=csv", "month"),
        ("month=november&format=pdf", "month"),
        ("format=csv", "month"),
        (f"month={MONTH}&format=xlsx", "format"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    site: Site, services: Services, query: str, field: str
) -> None:
    response = await site.api("GET", f"/api/report?{query}")
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", field]
    assert problem["msg"]
    assert await exported(services) == []
