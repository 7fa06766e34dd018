"""Operator roles: a viewer sees, payroll also locks and exports payouts, an operator
administrator also manages the operators. Checked on the server for every route; the pages show
only what the role can do."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models import feeds
from models.audit import AuditEvent
from models.db import transaction
from models.operators import Operator, OperatorRole, get_operator_by_email
from models.payouts import PayoutStatement
from tests.web.dashboard.conftest import CLOCK, ROLE_EMAILS, Seeded, Site

VIEWER, PAYROLL, ADMIN = OperatorRole.viewer, OperatorRole.payroll, OperatorRole.admin
PAGES = (
    "/dashboard",
    "/dashboard/offices/UPS1",
    "/dashboard/cards/SE-1",
    "/dashboard/payouts?month=2026-12",
)
EXPORT = {"month": "2026-12", "format": "csv"}


async def _as(site: Site, role: OperatorRole) -> Site:
    assert (await site.login(email=ROLE_EMAILS[role])).status_code == 303
    return site


async def _operator(services: Services, role: OperatorRole) -> Operator:
    async with services.sessions() as session:
        found = await get_operator_by_email(session, email=ROLE_EMAILS[role])
    assert found is not None
    return found


async def _statements(services: Services) -> list[PayoutStatement]:
    async with services.sessions() as session:
        return list((await session.exec(select(PayoutStatement))).all())


@pytest.mark.parametrize("role", list(OperatorRole))
async def test_every_role_sees_the_dashboard(site: Site, role: OperatorRole) -> None:
    await _as(site, role)
    for path in PAGES:
        response = await site.client.get(path)
        assert response.status_code == 200, path


@pytest.mark.parametrize(
    ("role", "name"),
    [(VIEWER, "läsare"), (PAYROLL, "lönehandläggare"), (ADMIN, "huvudanvändare")],
)
async def test_the_header_names_the_role(site: Site, role: OperatorRole, name: str) -> None:
    await _as(site, role)
    page = (await site.client.get("/dashboard")).text
    assert f"Inloggad som {ROLE_EMAILS[role]} ({name})" in page


@pytest.mark.parametrize(("role", "shown"), [(VIEWER, False), (PAYROLL, True), (ADMIN, True)])
async def test_the_export_buttons_show_only_for_payroll_and_up(
    site: Site, role: OperatorRole, shown: bool
) -> None:
    await _as(site, role)
    page = (await site.client.get("/dashboard/payouts?month=2026-12")).text
    assert "500,00" in page  # every role sees the statements
    assert ("Lås och exportera CSV" in page) is shown
    assert ('action="/dashboard/payouts/export"' in page) is shown


async def test_a_forged_export_by_a_viewer_is_refused_and_locks_nothing(
    site: Site, services: Services
) -> None:
    """The viewer has a valid session and CSRF token, and posts the form the page hides."""
    await _as(site, VIEWER)
    response = await site.post("/dashboard/payouts/export", EXPORT, page="/dashboard/payouts")
    assert response.status_code == 403
    assert "Behörighet saknas" in response.text
    assert "Din roll, läsare, räcker inte till detta" in response.text
    assert "lönehandläggare" in response.text
    assert "text/html" in response.headers["content-type"]
    assert await _statements(services) == []


@pytest.mark.parametrize("role", [PAYROLL, ADMIN])
async def test_payroll_and_admins_lock_and_export(
    site: Site, services: Services, role: OperatorRole
) -> None:
    await _as(site, role)
    response = await site.post("/dashboard/payouts/export", EXPORT, page="/dashboard/payouts")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert [s.month for s in await _statements(services)] == ["2026-12"]


@pytest.mark.parametrize(("role", "allowed"), [(VIEWER, False), (PAYROLL, False), (ADMIN, True)])
async def test_only_admins_see_the_operators_page(
    site: Site, role: OperatorRole, allowed: bool
) -> None:
    await _as(site, role)
    overview = (await site.client.get("/dashboard")).text
    assert ('href="/dashboard/operators"' in overview) is allowed
    response = await site.client.get("/dashboard/operators")
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        for email in ROLE_EMAILS.values():
            assert email in response.text
    else:
        assert "Behörighet saknas" in response.text
        assert "huvudanvändare" in response.text


@pytest.mark.parametrize("role", [VIEWER, PAYROLL])
async def test_a_forged_role_change_is_refused(
    site: Site, services: Services, role: OperatorRole
) -> None:
    """Someone below admin posts the admin's form to make themselves an admin."""
    await _as(site, role)
    me = await _operator(services, role)
    response = await site.post(f"/dashboard/operators/{me.id}/role", {"role": "admin"})
    assert response.status_code == 403
    response = await site.post(f"/dashboard/operators/{me.id}/sessions/end")
    assert response.status_code == 403
    assert (await _operator(services, role)).role == role


async def test_an_admin_changes_a_role_and_it_counts_at_once(
    server: str, site: Site, services: Services
) -> None:
    viewer = await _operator(services, VIEWER)
    async with httpx.AsyncClient(base_url=server) as other:
        colleague = await _as(Site(server, other), VIEWER)
        refused = await colleague.post(
            "/dashboard/payouts/export", EXPORT, page="/dashboard/payouts"
        )
        assert refused.status_code == 403

        await _as(site, ADMIN)
        response = await site.post(
            f"/dashboard/operators/{viewer.id}/role",
            {"role": "payroll"},
            page="/dashboard/operators",
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/operators"

        allowed = await colleague.post(
            "/dashboard/payouts/export", EXPORT, page="/dashboard/payouts"
        )
        assert allowed.status_code == 200
    admin = await _operator(services, ADMIN)
    async with services.sessions() as session:
        (event,) = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "operator.role_set"))
        ).all()
    assert (event.actor_id, event.entity_id) == (admin.id, viewer.id)
    assert event.data == {"role": "payroll", "previous": "viewer"}


@pytest.mark.parametrize(
    ("role", "message"), [("boss", "är ingen roll"), ("admin", "din egen roll")]
)
async def test_a_bad_role_change_is_a_400(
    site: Site, services: Services, role: str, message: str
) -> None:
    await _as(site, ADMIN)
    target = await _operator(services, ADMIN if role == "admin" else VIEWER)
    response = await site.post(f"/dashboard/operators/{target.id}/role", {"role": role})
    assert response.status_code == 400
    assert message in response.text
    assert (await _operator(services, VIEWER)).role == VIEWER


async def test_an_unknown_operator_is_a_404(site: Site) -> None:
    await _as(site, ADMIN)
    response = await site.post("/dashboard/operators/999/role", {"role": "viewer"})
    assert response.status_code == 404


async def test_an_admin_ends_a_colleagues_sessions(
    server: str, site: Site, services: Services
) -> None:
    viewer = await _operator(services, VIEWER)
    async with httpx.AsyncClient(base_url=server) as other:
        await _as(Site(server, other), VIEWER)
        assert (await other.get("/dashboard")).status_code == 200
        await _as(site, ADMIN)
        page = (await site.client.get("/dashboard/operators")).text
        assert f'action="/dashboard/operators/{viewer.id}/sessions/end"' in page
        response = await site.post(
            f"/dashboard/operators/{viewer.id}/sessions/end", page="/dashboard/operators"
        )
        assert response.status_code == 303
        assert (await other.get("/dashboard")).status_code == 303
    assert (await site.client.get("/dashboard")).status_code == 200
    page = (await site.client.get("/dashboard/operators")).text
    assert f'action="/dashboard/operators/{viewer.id}/sessions/end"' not in page


@pytest.mark.parametrize(("role", "allowed"), [(VIEWER, False), (PAYROLL, False), (ADMIN, True)])
async def test_only_admins_end_an_administrators_calendar_link(
    site: Site, seeded: Seeded, services: Services, role: OperatorRole, allowed: bool
) -> None:
    anna = seeded.world.admin_id
    async with transaction(services.sessions) as session:
        token = await feeds.new_feed_token(session, admin_id=anna, now=CLOCK)
    await _as(site, role)
    page = (await site.client.get("/dashboard/offices/UPS1")).text
    assert "Kalenderlänk: skapad" in page  # every role sees the link's state
    assert ("Stäng kalenderlänken" in page) is allowed
    response = await site.post(
        f"/dashboard/admins/{anna}/calendar/revoke", page="/dashboard/offices/UPS1"
    )
    assert response.status_code == (303 if allowed else 403)
    async with services.sessions() as session:
        still = await feeds.admin_for_token(session, token)
    assert (still is None) is allowed
