"""The dashboard over real HTTP: login, sessions, CSRF, the pages and the export."""

from __future__ import annotations

import csv
import io
import logging

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models import feeds
from models.audit import AuditEvent
from models.db import transaction
from models.meetings import Meeting
from models.operators import Operator, get_operator_by_email, hash_password, set_operator
from models.payouts import PayoutStatement
from scheduler import booking
from tests.conftest import TEST_SECRET_KEY
from tests.factories import ALL_TEST_PERSONNUMMER
from tests.web.dashboard.conftest import (
    CLOCK,
    EMAIL,
    PASSWORD,
    STUCK_DAYS,
    ClockedSite,
    Seeded,
    Site,
)
from web.dashboard import session_secret
from web.dashboard.auth import safe_next

GENERIC_REFUSAL = (
    "Fel e-postadress eller lösenord, eller för många försök. Försök igen om en stund."
)
PAGES = (
    "/dashboard",
    "/dashboard/offices/UPS1",
    "/dashboard/cards/SE-1",
    "/dashboard/payouts",
    "/dashboard/payouts?month=2026-12",
)


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_needs_a_login(site: Site, path: str) -> None:
    response = await site.client.get(path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/dashboard/login")
    if path != "/dashboard":
        assert "next=" in location
    follow = await site.client.get(location)
    assert follow.status_code == 200
    assert "Logga in" in follow.text


async def test_login_then_back_to_the_page_asked_for(site: Site) -> None:
    first = await site.client.get("/dashboard/cards/SE-1")
    login_page = await site.client.get(first.headers["location"])
    token = login_page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert 'name="next" value="/dashboard/cards/SE-1"' in login_page.text
    response = await site.client.post(
        "/dashboard/login",
        data={
            "csrf_token": token,
            "email": EMAIL.upper(),
            "password": PASSWORD,
            "next": "/dashboard/cards/SE-1",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/cards/SE-1"
    page = await site.client.get("/dashboard/cards/SE-1")
    assert page.status_code == 200
    assert "Kort SE-1" in page.text


async def test_login_records_the_moment(site: Site, services: Services) -> None:
    assert (await site.login()).status_code == 303
    async with services.sessions() as session:
        operator = await get_operator_by_email(session, email=EMAIL)
    assert operator is not None and operator.last_login_at == CLOCK


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (EMAIL, "fel lösenord, helt fel"),
        ("nobody@example.se", PASSWORD),
        ("not an e-mail", "nonsense password"),
    ],
)
async def test_a_wrong_login_is_refused_and_starts_no_session(
    site: Site, email: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await site.login(email=email, password=password)
    assert response.status_code == 401
    assert GENERIC_REFUSAL in response.text
    assert (await site.client.get("/dashboard")).status_code == 303
    assert email not in caplog.text and password not in caplog.text


async def test_logout_ends_the_session(site: Site) -> None:
    await site.login()
    token = await site.csrf("/dashboard")
    response = await site.client.post("/dashboard/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"
    assert (await site.client.get("/dashboard")).status_code == 303


async def test_a_new_password_ends_older_sessions(site: Site, services: Services) -> None:
    await site.login()
    assert (await site.client.get("/dashboard")).status_code == 200
    async with transaction(services.sessions) as session:
        await set_operator(session, email=EMAIL, password_hash=hash_password("ett helt nytt lösen"))
    assert (await site.client.get("/dashboard")).status_code == 303


async def test_a_session_lasts_at_most_twelve_hours(clocked: ClockedSite) -> None:
    """Used every 20 minutes it never idles out, but twelve hours after login it ends."""
    await clocked.login()
    while clocked.clock.now < CLOCK.replace(hour=20, minute=40):
        clocked.clock.advance(minutes=20)
        assert (await clocked.client.get("/dashboard")).status_code == 200
    clocked.clock.advance(minutes=20)
    assert (await clocked.client.get("/dashboard")).status_code == 303


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_a_post_without_the_csrf_token_is_refused(site: Site, token: str | None) -> None:
    await site.login()
    form = {"month": "2026-12", "format": "csv"}
    if token is not None:
        form["csrf_token"] = token
    response = await site.client.post("/dashboard/payouts/export", data=form)
    assert response.status_code == 403
    assert "Formuläret har gått ut" in response.text


async def test_login_itself_needs_the_csrf_token(site: Site) -> None:
    response = await site.client.post(
        "/dashboard/login", data={"email": EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert (await site.client.get("/dashboard")).status_code == 303


async def test_logout_needs_the_csrf_token(site: Site) -> None:
    await site.login()
    assert (await site.client.post("/dashboard/logout")).status_code == 403
    assert (await site.client.get("/dashboard")).status_code == 200


async def test_the_csrf_token_is_renewed_at_login(site: Site) -> None:
    before = await site.csrf()
    await site.login()
    assert await site.csrf("/dashboard") != before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/dashboard/cards/SE-1", "/dashboard/cards/SE-1"),
        ("/dashboard/payouts?month=2026-12", "/dashboard/payouts?month=2026-12"),
        ("https://evil.example/dashboard", "/dashboard"),
        ("//evil.example/dashboard", "/dashboard"),
        ("/dashboardx", "/dashboard"),
        ("/other", "/dashboard"),
        ("/dashboard/login", "/dashboard"),
        ("/dashboard/\r\nSet-Cookie: x=1", "/dashboard"),
        ("", "/dashboard"),
    ],
)
def test_after_login_only_dashboard_pages(raw: str, expected: str) -> None:
    assert safe_next(raw) == expected


def test_the_session_key_is_derived_from_the_secret_key() -> None:
    derived = session_secret(TEST_SECRET_KEY)
    assert derived == session_secret(TEST_SECRET_KEY) != session_secret(TEST_SECRET_KEY + "x")
    assert TEST_SECRET_KEY not in derived and len(derived) == 64


async def test_the_session_cookie_is_scoped_and_http_only(site: Site) -> None:
    response = await site.client.get("/dashboard/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("kortkontor_dashboard=")
    assert "path=/dashboard" in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


async def test_pages_forbid_scripts_and_framing(site: Site) -> None:
    await site.login()
    response = await site.client.get("/dashboard")
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script" not in response.text


async def test_overview(site: Site) -> None:
    await site.login()
    page = (await site.client.get("/dashboard")).text
    assert "Översikt" in page
    stuck = page.split('id="stuck"')[1].split("</section>")[0]
    assert 'href="/dashboard/cards/SE-1"' in stuck
    assert f'<td class="num">{STUCK_DAYS}</td>' in stuck
    assert "SE-2" not in stuck  # booked: not stuck
    assert page.count("<svg") == 2
    assert "Utlämningar per vecka" in page
    meetings = page.split('id="meetings"')[1].split("</section>")[0]
    assert "SE-2" in meetings and "16:00" in meetings and "bekräftad" in meetings


async def test_meetings_show_whether_the_card_user_said_they_come(
    site: Site, services: Services, seeded: Seeded
) -> None:
    """Ahmed's confirmed time today: «ej bekräftad» until he answers the reminder."""
    await site.login()
    meeting_id = seeded.upcoming_meeting_id

    async def attendance_on(path: str, section: str, marker: str) -> str:
        """The last cell of the row with `marker` in the section's table."""
        page = (await site.client.get(path)).text
        table = page.split(f'id="{section}"')[1].split("</table>")[0]
        row = next(row for row in table.split("<tr>")[1:] if marker in row)
        return row.split("<td>")[-1].split("</td>")[0]

    overview = ("/dashboard", "meetings", "SE-2")
    card = ("/dashboard/cards/SE-2", "card-meetings", f"<td>{meeting_id}</td>")
    assert "<th>Närvaro</th>" in (await site.client.get("/dashboard")).text
    assert await attendance_on(*overview) == "ej bekräftad"
    assert await attendance_on(*card) == "ej bekräftad"
    async with transaction(services.sessions) as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        user_id = seeded.world.users["ahmed"]
        await booking.confirm_attendance(session, meeting, card_user_id=user_id, now=CLOCK)

    assert await attendance_on(*overview) == "bekräftad av kortanvändaren"
    assert await attendance_on(*card) == "bekräftad av kortanvändaren"
    timeline = (await site.client.get("/dashboard/cards/SE-2")).text.split('id="timeline"')[1]
    assert f"Möte {meeting_id}: kortanvändaren svarade på påminnelsen att hen kommer." in timeline
    # A meeting no longer confirmed has nothing to say about it (Lena's card was handed out).
    assert await attendance_on("/dashboard/cards/SE-3", "card-meetings", "<td>") == ""


async def test_office_page(site: Site) -> None:
    await site.login()
    page = (await site.client.get("/dashboard/offices/UPS1")).text
    assert "Uppsala centrum" in page
    assert "anna@example.se" in page
    assert "Café Linné" in page and "Svartbäcksgatan 22" in page
    assert "måndag" in page and "16:00–19:00" in page
    assert "Kontoret är öppet: minst en ID-administratör har inte sagt upp sig." in page


async def test_card_page_tells_the_timeline(site: Site) -> None:
    await site.login()
    page = (await site.client.get("/dashboard/cards/SE-3")).text
    timeline = page.split('id="timeline"')[1]
    assert timeline.index("beställt") < timeline.index("i förvaring på kontoret")
    assert "ID-handling: svenskt pass." in timeline
    assert "Anna Andersson" in timeline


async def test_no_personal_data_of_card_users_is_shown(site: Site) -> None:
    await site.login()
    for path in (*PAGES, "/dashboard/cards/SE-2", "/dashboard/cards/SE-3"):
        page = (await site.client.get(path)).text
        for number in ALL_TEST_PERSONNUMMER:
            assert number not in page
        for name in ("Maria", "Ahmed", "Lena", "0701112233", "maria@example.se"):
            assert name not in page, (path, name)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/dashboard/cards/SE-404", "Det finns inget kort med orderreferensen «SE-404»."),
        ("/dashboard/offices/NOPE", "Inget kontor har koden «NOPE»."),
    ],
)
async def test_unknown_card_or_office(site: Site, path: str, text: str) -> None:
    await site.login()
    response = await site.client.get(path)
    assert response.status_code == 404
    assert text in response.text


async def test_payouts_default_to_the_previous_month(site: Site) -> None:
    await site.login()
    page = (await site.client.get("/dashboard/payouts")).text
    assert "december 2026" in page
    assert "bo@example.se" in page
    assert "500,00" in page
    assert "Lås och exportera CSV" in page


async def test_a_bad_month_is_a_400(site: Site) -> None:
    await site.login()
    response = await site.client.get("/dashboard/payouts?month=2026-13")
    assert response.status_code == 400
    assert "ÅÅÅÅ-MM" in response.text


async def test_export_locks_the_month_and_sends_the_csv(
    site: Site, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await site.login()
    with caplog.at_level(logging.INFO):
        token = await site.csrf("/dashboard/payouts")
        response = await site.client.post(
            "/dashboard/payouts/export",
            data={"csrf_token": token, "month": "2026-12", "format": "csv"},
        )
    assert response.status_code == 200
    assert (
        response.headers["content-disposition"] == 'attachment; filename="ersattning-2026-12.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1][1:] == [
        "bo@example.se",
        "2026-12-01",
        "SE-3",
        "handout",
        "500.00",
        "no",
        "frilansfinans",
        "",
    ]
    async with services.sessions() as session:
        statements = (await session.exec(select(PayoutStatement))).all()
        locks = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action == "payout.statement_locked")
            )
        ).all()
    assert [(s.month, s.total_ore, s.locked_at) for s in statements] == [("2026-12", 50_000, CLOCK)]
    assert len(locks) == 1
    assert "bo@example.se" not in caplog.text
    page = (await site.client.get("/dashboard/payouts?month=2026-12")).text
    assert "Låst 12 januari 2027 kl. 10:00" in page
    assert "Ladda ner CSV" in page and "Lås och exportera CSV" not in page


async def test_export_as_pdf(site: Site) -> None:
    await site.login()
    token = await site.csrf("/dashboard/payouts")
    response = await site.client.post(
        "/dashboard/payouts/export",
        data={"csrf_token": token, "month": "2026-12", "format": "pdf"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize(("month", "kind"), [("2026-12", "xlsx"), ("december", "csv")])
async def test_a_bad_export_request_locks_nothing(
    site: Site, services: Services, month: str, kind: str
) -> None:
    await site.login()
    token = await site.csrf("/dashboard/payouts")
    response = await site.client.post(
        "/dashboard/payouts/export", data={"csrf_token": token, "month": month, "format": kind}
    )
    assert response.status_code == 400
    async with services.sessions() as session:
        assert (await session.exec(select(PayoutStatement))).all() == []


async def test_the_stylesheet_is_public(site: Site) -> None:
    response = await site.client.get("/dashboard/static/dashboard.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


async def test_an_operator_row_keeps_no_password(services: Services, seeded: object) -> None:
    async with services.sessions() as session:
        operators = (await session.exec(select(Operator))).all()
    assert len(operators) == 3
    for operator in operators:
        assert PASSWORD not in operator.password_hash
        assert operator.password_hash.startswith("$argon2id$")


async def test_an_operator_ends_an_administrators_calendar_link(
    site: Site, seeded: Seeded, services: Services
) -> None:
    anna = seeded.world.admin_id
    async with transaction(services.sessions) as session:
        token = await feeds.new_feed_token(session, admin_id=anna, now=CLOCK)
    await site.login()
    page = await site.client.get("/dashboard/offices/UPS1")
    assert "Kalenderlänk: skapad" in page.text
    form = {"csrf_token": await site.csrf("/dashboard/offices/UPS1")}
    response = await site.client.post(f"/dashboard/admins/{anna}/calendar/revoke", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/offices/UPS1#admins"
    async with services.sessions() as session:
        assert await feeds.admin_for_token(session, token) is None
        events = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action == "calendar_feed.revoked")
            )
        ).all()
    assert [(e.entity_id, e.actor_role) for e in events] == [(anna, "operator")]
    assert "Kalenderlänk: ingen" in (await site.client.get("/dashboard/offices/UPS1")).text
    # Without the form's token nothing ends.
    refused = await site.client.post(f"/dashboard/admins/{anna}/calendar/revoke", data={})
    assert refused.status_code == 403


async def test_an_operator_records_an_administrators_notice(
    site: Site, seeded: Seeded, services: Services
) -> None:
    anna = seeded.world.admin_id
    await site.login()
    page = (await site.client.get("/dashboard/offices/UPS1")).text
    assert "Ingen uppsägning." in page and "Registrera uppsägningen" in page
    # Without the form's token nothing is recorded.
    refused = await site.client.post(f"/dashboard/admins/{anna}/notice", data={"on": ""})
    assert refused.status_code == 403
    form = {"csrf_token": await site.csrf("/dashboard/offices/UPS1"), "on": "2027-13-01"}
    bad = await site.client.post(f"/dashboard/admins/{anna}/notice", data=form)
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.text
    form["on"] = "2027-01-05"
    response = await site.client.post(f"/dashboard/admins/{anna}/notice", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == f"/dashboard/offices/UPS1#notice-{anna}"
    page = (await site.client.get("/dashboard/offices/UPS1")).text
    assert "Uppsagt " in page and "uppsägningstiden slutar" in page
    assert "Registrera uppsägningen" not in page
    again = await site.client.post(f"/dashboard/admins/{anna}/notice", data=form)
    assert again.status_code == 400 and "redan" in again.text
    async with services.sessions() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "admin.notice_given"))
        ).all()
    assert [(e.entity_id, e.actor_role, e.data["given_on"]) for e in events] == [
        (anna, "operator", "2027-01-05")
    ]


async def test_a_transfer_left_unconfirmed_stays_on_the_office_page(
    site: Site, seeded: Seeded, services: Services
) -> None:
    """Anna (under notice) keeps Maria's card; the operator hands it to Cecilia, who never
    confirms: the card shows «under överlämning» and the office page keeps it with its age.
    No reminder is planned."""
    from datetime import timedelta

    from models.admins import give_notice
    from models.cards import Card, CardStatus
    from models.lifecycle import Role
    from models.outbox import Notification
    from tests import factories

    anna, maria = seeded.world.admin_id, seeded.world.cards["maria"]
    async with transaction(services.sessions) as session:
        card = await session.get(Card, maria)
        assert card is not None
        card.custodian_admin_id = anna
        session.add(card)
        cecilia = await factories.add(
            session,
            factories.admin(card.office_id, email="cecilia@example.se", name="Cecilia Berg"),
        )
        await give_notice(session, admin_id=anna, role=Role.admin, actor_id=anna, now=CLOCK)
        notifications_before = len((await session.exec(select(Notification))).all())
    await site.login()
    page = (await site.client.get("/dashboard/offices/UPS1")).text
    assert (
        "Kort hos ID-administratörer som sagt upp sig" in page
        and "Ingen överlämning väntar." in page
    )
    form = {"csrf_token": await site.csrf("/dashboard/offices/UPS1"), "to_admin": str(anna)}
    refused = await site.client.post(f"/dashboard/cards/{maria}/handover", data=form)
    assert refused.status_code == 400 and "välj en annan ID-administratör" in refused.text
    form["to_admin"] = str(cecilia.id)
    response = await site.client.post(f"/dashboard/cards/{maria}/handover", data=form)
    assert response.status_code == 303
    async with services.sessions() as session:
        card = await session.get(Card, maria)
        assert card is not None and card.status == CardStatus.in_transfer
        assert len((await session.exec(select(Notification))).all()) == notifications_before
        # Days later, still unconfirmed.
        card.status_changed_at = CLOCK - timedelta(days=6)
        session.add(card)
        await session.commit()
    page = (await site.client.get("/dashboard/offices/UPS1")).text
    assert "Under överlämning, väntar på att mottagaren bekräftar i chatten" in page
    order_ref = card.order_ref
    assert f"{order_ref}: från Anna Andersson till Cecilia Berg (UPS1), för 6 dagar sedan" in page
    card_page = (await site.client.get(f"/dashboard/cards/{order_ref}")).text
    assert "under överlämning mellan ID-administratörer" in card_page
