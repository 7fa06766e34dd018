"""The issuer's monthly report from the dashboard: a download on the payouts page, for payroll
and up; the hand-computed November as CSV and as PDF, audited with the operator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.db import transaction
from models.operators import OperatorRole, get_operator_by_email, hash_password, set_operator
from tests.payout.report_month import EXPECTED_CSV, MONTH, build_november
from tests.web.dashboard.conftest import PASSWORD, ROLE_EMAILS, Site

EXPORT = "/dashboard/report/export"
PAGE = f"/dashboard/payouts?month={MONTH}"


@pytest.fixture
async def november(server: str, services: Services) -> AsyncIterator[Site]:
    """The served dashboard over the November month, with an operator of each role."""
    await build_november(services)
    async with transaction(services.sessions) as session:
        password_hash = hash_password(PASSWORD)
        for role, email in ROLE_EMAILS.items():
            await set_operator(session, email=email, password_hash=password_hash, role=role)
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield Site(server, client)


async def exported(services: Services) -> list[AuditEvent]:
    async with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == "report.exported")
        return list((await session.exec(query)).all())


async def test_payroll_downloads_the_csv(november: Site, services: Services) -> None:
    await november.login(ROLE_EMAILS[OperatorRole.payroll])
    page = (await november.client.get(PAGE)).text
    assert "Månadsrapport för november 2026" in page
    assert f'action="{EXPORT}"' in page
    response = await november.post(EXPORT, {"month": MONTH, "format": "csv"}, page=PAGE)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="rapport-2026-11.csv"'
    assert response.text == EXPECTED_CSV
    async with services.sessions() as session:
        payroll = await get_operator_by_email(session, email=ROLE_EMAILS[OperatorRole.payroll])
    [event] = await exported(services)
    assert payroll is not None and event.actor_id == payroll.id
    assert event.data == {"month": MONTH, "format": "csv", "offices": 2}


async def test_payroll_downloads_the_pdf(november: Site, services: Services) -> None:
    await november.login(ROLE_EMAILS[OperatorRole.payroll])
    response = await november.post(EXPORT, {"month": MONTH, "format": "pdf"}, page=PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(await exported(services)) == 1


async def test_a_viewer_sees_no_download_and_a_forged_one_is_refused(
    november: Site, services: Services
) -> None:
    await november.login(ROLE_EMAILS[OperatorRole.viewer])
    page = (await november.client.get(PAGE)).text
    assert EXPORT not in page
    response = await november.post(EXPORT, {"month": MONTH, "format": "csv"}, page=PAGE)
    assert response.status_code == 403
    assert await exported(services) == []


@pytest.mark.parametrize(("month", "kind"), [("2026-13", "csv"), ("", "pdf"), (MONTH, "xlsx")])
async def test_a_bad_request_is_a_400_and_sends_nothing(
    november: Site, services: Services, month: str, kind: str
) -> None:
    await november.login(ROLE_EMAILS[OperatorRole.payroll])
    response = await november.post(EXPORT, {"month": month, "format": kind}, page=PAGE)
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert await exported(services) == []


async def test_the_payouts_page_names_each_payee(november: Site) -> None:
    await november.login(ROLE_EMAILS[OperatorRole.viewer])
    page = (await november.client.get(PAGE)).text
    assert page.count("Lön via Frilans Finans (brutto, inklusive semesterersättning)") == 2
