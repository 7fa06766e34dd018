"""The office page shows each administrator's onboarding checklist and what is missing, and an
operator administrator dates an item there (audited); the overview flags offices that absences
leave without bookable time for more than 14 days."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.admins import AdminState, admin_state
from models.audit import AuditEvent
from models.db import transaction
from models.network import Admin, get_admin_by_email
from models.network_file import read_network_toml, upsert_network
from models.operators import OperatorRole, get_operator_by_email
from tests.bot.admin_settings_chat import AsAdmin, settings_chat
from tests.bot.world import Clock as ChatClock
from tests.factories import eligibility_toml, network_toml, windows_toml
from tests.web.dashboard.conftest import CLOCK, ROLE_EMAILS, Seeded, Site

OFFICE = "/dashboard/offices/UPS1"
TODAY = date(2027, 1, 12)  # CLOCK's day in Stockholm


async def _as(site: Site, role: OperatorRole) -> None:
    assert (await site.login(email=ROLE_EMAILS[role])).status_code == 303


async def _anna_onboarding(services: Services) -> int:
    """Anna (UPS1) without her record check and PC: still onboarding."""
    async with transaction(services.sessions) as session:
        anna = await get_admin_by_email(session, email="anna@example.se")
        assert anna is not None and anna.id is not None
        anna.record_checked = anna.pc_two_usb = None
        session.add(anna)
        return anna.id


async def _anna(services: Services) -> Admin:
    async with services.sessions() as session:
        anna = await get_admin_by_email(session, email="anna@example.se")
    assert anna is not None
    return anna


def _text(html: str) -> str:
    """The page's words without tags, one space between them."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_office_page_shows_the_checklist_and_what_is_missing(
    site: Site, services: Services
) -> None:
    await _anna_onboarding(services)
    await _as(site, OperatorRole.viewer)
    page = _text((await site.client.get(OFFICE)).text)
    assert "Anna Andersson Läge: under introduktion" in page
    assert "Född: 1985-03-12" in page and "Ort: Uppsala" in page
    assert "Utbetalning: lön via frilansfinans" in page
    assert "avtal undertecknat 15 januari 2020" in page
    assert "utdrag ur belastningsregistret kontrollerat saknas" in page
    assert (
        "Saknas innan kortanvändare kan erbjudas den här administratören: utdrag ur "
        "belastningsregistret kontrollerat, egen pc (inte Mac) med två lediga USB-portar"
    ) in page
    assert "Spara datumet" not in page  # a viewer sees, and sets nothing
    gbg = _text((await site.client.get("/dashboard/offices/GBG1")).text)
    assert "Läge: aktiv" in gbg and "Alla punkter är klara." in gbg


async def test_an_operator_administrator_dates_an_item_and_it_is_audited(
    site: Site, services: Services
) -> None:
    anna_id = await _anna_onboarding(services)
    await _as(site, OperatorRole.admin)
    page = (await site.client.get(OFFICE)).text
    assert f'action="/dashboard/admins/{anna_id}/onboarding"' in page
    for item, day in (("record_checked", "2027-01-11"), ("pc_two_usb", "2027-01-12")):
        response = await site.post(
            f"/dashboard/admins/{anna_id}/onboarding", {"item": item, "day": day}, page=OFFICE
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{OFFICE}#admin-{anna_id}"
    anna = await _anna(services)
    assert anna.record_checked == date(2027, 1, 11) and anna.pc_two_usb == TODAY
    assert admin_state(anna, today=TODAY) is AdminState.active
    page = _text((await site.client.get(OFFICE)).text)
    assert "Anna Andersson Läge: aktiv" in page
    assert "utdrag ur belastningsregistret kontrollerat 11 januari 2027" in page

    async with services.sessions() as session:
        operator = await get_operator_by_email(session, email=ROLE_EMAILS[OperatorRole.admin])
        events = (
            await session.exec(
                select(AuditEvent)
                .where(AuditEvent.action == "admin.onboarding", AuditEvent.entity_id == anna_id)
                .order_by(col(AuditEvent.seq))
            )
        ).all()
    assert operator is not None
    dashboard = [e for e in events if e.data["source"] == "dashboard"]
    assert [(e.actor_id, e.data["items"]) for e in dashboard] == [
        (operator.id, {"record_checked": "2027-01-11"}),
        (operator.id, {"pc_two_usb": "2027-01-12"}),
    ]
    assert dashboard[0].data["previous"] is None and dashboard[1].data["state"] == "active"


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"item": "pc_two_usb", "day": "2027-01-13"}, "får inte vara efter i dag (2027-01-12)"),
        ({"item": "pc_two_usb", "day": "13/1"}, "ÅÅÅÅ-MM-DD"),
        ({"item": "coffee", "day": "2027-01-10"}, "måste vara en av: contract_signed"),
    ],
)
async def test_a_bad_date_or_item_is_refused_on_the_page(
    site: Site, services: Services, form: dict[str, str], words: str
) -> None:
    anna_id = await _anna_onboarding(services)
    await _as(site, OperatorRole.admin)
    response = await site.post(f"/dashboard/admins/{anna_id}/onboarding", form, page=OFFICE)
    assert response.status_code == 400
    assert "Datumet sparades inte" in response.text and words in response.text
    assert (await _anna(services)).pc_two_usb is None


@pytest.mark.parametrize("role", [OperatorRole.viewer, OperatorRole.payroll])
async def test_only_an_operator_administrator_may_date_an_item(
    site: Site, services: Services, role: OperatorRole
) -> None:
    anna_id = await _anna_onboarding(services)
    await _as(site, role)
    form = {"item": "pc_two_usb", "day": "2027-01-10"}
    response = await site.post(f"/dashboard/admins/{anna_id}/onboarding", form, page=OFFICE)
    assert response.status_code == 403
    assert (await _anna(services)).pc_two_usb is None


async def test_dating_an_item_needs_the_csrf_token(site: Site, services: Services) -> None:
    anna_id = await _anna_onboarding(services)
    await _as(site, OperatorRole.admin)
    response = await site.client.post(
        f"/dashboard/admins/{anna_id}/onboarding", data={"item": "pc_two_usb", "day": "2027-01-10"}
    )
    assert response.status_code == 403
    assert (await _anna(services)).pc_two_usb is None


# ---------------------------------------------------------------- coverage


async def test_an_absence_in_the_chat_that_empties_the_office_is_flagged_on_the_overview(
    site: Site, services: Services, seeded: Seeded
) -> None:
    """Anna, UPS1's only administrator, works weekday evenings; away 1–19 February she leaves
    the office without a bookable day from Saturday 30 January to Sunday 21 February."""
    await _as(site, OperatorRole.viewer)
    overview = _text((await site.client.get("/dashboard")).text)
    assert "Inget kontor saknar bokningsbar tid i mer än 14 dagar." in overview

    anna = settings_chat(services, ChatClock(CLOCK), AsAdmin(seeded.world.admin_id))
    await anna.send("/tider")
    await anna.press("Frånvaro")
    await anna.send("ledig 1/2–19/2")
    await anna.press("Spara")
    assert "Frånvaro sparad" in anna.text  # accepted

    overview = _text((await site.client.get("/dashboard")).text)
    assert "Kontor utan bokningsbar tid 1" in overview
    assert "Uppsala centrum UPS1 30 januari 2027 – 21 februari 2027 (23 dagar)" in overview


async def test_a_short_absence_or_a_colleague_at_work_is_not_flagged(
    site: Site, services: Services
) -> None:
    """From the network file: Bo (GBG1) is away two weeks, and a colleague covers UPS1."""
    network = network_toml(
        windows=windows_toml(("mon", "tue", "wed", "thu", "fri"), "16:00", "19:00"),
        absences='[ { from = "2027-02-01", to = "2027-03-31" } ]',
    ) + network_toml(
        code="GBG1",
        email="bo@example.se",
        windows=windows_toml(("mon", "tue", "wed", "thu", "fri"), "16:00", "19:00"),
        absences='[ { from = "2027-02-01", to = "2027-02-05" } ]',
    )
    colleague = network.replace(
        '[[office]]\ncode = "GBG1"',
        '[[office.admin]]\nemail = "cecilia@example.se"\nname = "Cecilia Berg"\n'
        'phone = "+46701234568"\nwindows = '
        + windows_toml(("mon", "wed"), "08:00", "10:00")
        + "\n"
        + eligibility_toml()
        + '\n[[office]]\ncode = "GBG1"',
    )
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(colleague, today=TODAY))
    await _as(site, OperatorRole.viewer)
    overview = _text((await site.client.get("/dashboard")).text)
    assert "Inget kontor saknar bokningsbar tid i mer än 14 dagar." in overview
