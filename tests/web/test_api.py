"""The issuer's JSON API over real HTTP: the bearer token, filters, posting orders like the CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import func, select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.cards import Card, CardUser
from models.meetings import Meeting, MeetingStatus
from models.outbox import Notification
from tests.factories import ALL_TEST_PERSONNUMMER, PERSONNUMMER
from tests.web.issuer_site import API_TOKEN, Network, Site, build_network, serving

NEW_ORDER: dict[str, Any] = {
    "order_ref": "SE-9001",
    "office_code": "GBG1",
    "given_name": "Maria",
    "family_name": "Ek",
    "personnummer": PERSONNUMMER["samordning"][0],
    "phone": "070-174 06 05",
    "email": "maria.ek@example.se",
}


@pytest.fixture
async def network(services: Services) -> Network:
    return await build_network(services)


@pytest.fixture
async def site(services: Services, network: Network) -> AsyncIterator[Site]:
    """The app with the network; afterwards, no answer may have carried a personnummer."""
    async with serving(services) as running:
        yield running
    for response in running.responses:
        for number in ALL_TEST_PERSONNUMMER:
            assert number not in response.text, f"{response.request.url} returned a personnummer"


async def count(services: Services, table: type[Card] | type[CardUser] | type[AuditEvent]) -> int:
    async with services.sessions() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


# -- the bearer token ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/cards", "/api/meetings", "/api/offices"])
async def test_no_or_a_wrong_token_is_401(site: Site, path: str) -> None:
    missing = await site.client.get(path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await site.client.get(path, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    basic = await site.client.get(path, headers={"Authorization": f"Basic {API_TOKEN}"})
    assert basic.status_code == 401
    # A non-ASCII token is compared as bytes, not a crash.
    odd = await site.client.get(path, headers={b"Authorization": "Bearer åäö".encode()})
    assert odd.status_code == 401


async def test_post_without_a_token_writes_nothing(site: Site, services: Services) -> None:
    before = await count(services, Card)
    response = await site.client.post("/api/cards", json=NEW_ORDER)
    assert response.status_code == 401
    assert await count(services, Card) == before


async def test_no_token_configured_is_503(services: Services) -> None:
    async with serving(services, api_token=None) as site:
        response = await site.api("GET", "/api/cards")
        assert response.status_code == 503
        assert "KORTKONTOR_API_TOKEN" in response.json()["detail"]


async def test_openapi_schema_declares_the_bearer_token(site: Site) -> None:
    schema = (await site.client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path in ("/api/cards", "/api/meetings", "/api/offices"):
        assert schema["paths"][path]["get"]["security"] == [{"HTTPBearer": []}]
    # Webhooks, the feed and the public page are not part of the issuer's API.
    assert not [
        path for path in schema["paths"] if not path.startswith(("/api/", "/healthz", "/readyz"))
    ]


# -- listing ---------------------------------------------------------------------------------


async def test_cards_show_ids_and_states_only(site: Site, network: Network) -> None:
    response = await site.api("GET", "/api/cards")
    assert response.status_code == 200
    cards = response.json()
    assert [card["order_ref"] for card in cards] == list(network.cards)
    assert set(cards[0]) == {
        "id",
        "order_ref",
        "office",
        "status",
        "ordered_at",
        "status_changed_at",
        "in_custody_since",
    }
    assert cards[0]["office"] == "UPS1" and cards[0]["status"] == "booked"
    assert "Maria" not in response.text and "example.se" not in response.text


async def test_cards_filtered_by_office_and_status(site: Site) -> None:
    by_office = (await site.api("GET", "/api/cards", params={"office": "UPS1"})).json()
    assert [card["order_ref"] for card in by_office] == ["SE-1001", "SE-1002"]
    both = await site.api("GET", "/api/cards", params={"office": "UPS1", "status": "in_custody"})
    assert [card["order_ref"] for card in both.json()] == ["SE-1002"]
    none = await site.api("GET", "/api/cards", params={"status": "handed_out"})
    assert none.json() == []


async def test_cards_are_paged_by_id(site: Site, network: Network) -> None:
    first = (await site.api("GET", "/api/cards", params={"limit": 2})).json()
    rest = (await site.api("GET", "/api/cards", params={"after": first[-1]["id"]})).json()
    assert [card["order_ref"] for card in first + rest] == list(network.cards)


async def test_an_unknown_office_or_status_is_a_4xx_with_a_reason(site: Site) -> None:
    office = await site.api("GET", "/api/cards", params={"office": "NOPE"})
    assert office.status_code == 404
    assert "NOPE" in office.json()["detail"]
    status = await site.api("GET", "/api/cards", params={"status": "lost"})
    assert status.status_code == 422
    assert status.json()["detail"][0]["loc"] == ["query", "status"]
    meetings = await site.api("GET", "/api/meetings", params={"office": "NOPE"})
    assert meetings.status_code == 404
    meeting_status = await site.api("GET", "/api/meetings", params={"status": "booked"})
    assert meeting_status.status_code == 422
    offices = await site.api("GET", "/api/offices", params={"status": "gone"})
    assert offices.status_code == 422


async def test_a_misspelt_filter_is_refused_rather_than_ignored(site: Site) -> None:
    response = await site.api("GET", "/api/cards", params={"stauts": "booked"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "stauts"]


async def test_meetings_filtered_by_office_and_status(site: Site, network: Network) -> None:
    everything = (await site.api("GET", "/api/meetings")).json()
    assert [m["id"] for m in everything] == sorted(network.meetings.values())
    ups1 = (await site.api("GET", "/api/meetings", params={"office": "UPS1"})).json()
    assert {m["office"] for m in ups1} == {"UPS1"} and len(ups1) == 4
    confirmed = await site.api("GET", "/api/meetings", params={"status": "confirmed"})
    assert {m["id"] for m in confirmed.json()} == {
        network.meetings["confirmed"],
        network.meetings["other_admin"],
    }
    requested = await site.api(
        "GET", "/api/meetings", params={"office": "UPS1", "status": "requested"}
    )
    [home] = requested.json()
    assert home["home_delivery"] is True and home["venue"] is None
    assert home["order_ref"] == "SE-1002" and home["admin_id"] == network.admins["UPS1"]
    assert home["replaces_meeting_id"] is None  # a booking, not a move of a confirmed time
    # The card user's home address is theirs and the admin's, not the issuer's.
    assert "Storgatan" not in requested.text


async def test_offices_with_their_state_and_venues(site: Site) -> None:
    offices = {o["code"]: o for o in (await site.api("GET", "/api/offices")).json()}
    assert set(offices) == {"UPS1", "UPS2", "GBG1", "STO1", "MLM1"}
    assert offices["UPS1"]["state"] == "open" and offices["UPS1"]["notice_ends_on"] is None
    assert offices["STO1"]["state"] == "closing" and offices["STO1"]["notice_ends_on"]
    assert offices["MLM1"]["state"] == "closed"
    assert offices["GBG1"]["venues"] == [
        {
            "key": "main",
            "name": "Café Husaren",
            "address": "Haga Nygata 28, 413 01 Göteborg",
            "kind": "cafe",
        }
    ]
    closing = (await site.api("GET", "/api/offices", params={"status": "closing"})).json()
    assert [o["code"] for o in closing] == ["STO1"]
    assert "example.se" not in str(offices)  # admins' e-mail and names stay out


# -- posting orders --------------------------------------------------------------------------


async def test_post_one_order_creates_the_card(site: Site, services: Services) -> None:
    response = await site.api("POST", "/api/cards", json=NEW_ORDER)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"], result["unchanged"]) == (1, 0, 0)
    [card] = result["cards"]
    assert card["order_ref"] == "SE-9001" and card["office"] == "GBG1"
    assert card["status"] == "ordered"
    listed = await site.api("GET", "/api/cards", params={"office": "GBG1", "status": "ordered"})
    assert [c["order_ref"] for c in listed.json()] == ["SE-9001"]


async def test_reposting_updates_and_never_duplicates(site: Site, services: Services) -> None:
    assert (await site.api("POST", "/api/cards", json=NEW_ORDER)).json()["created"] == 1
    cards, users = await count(services, Card), await count(services, CardUser)
    again = (await site.api("POST", "/api/cards", json=[NEW_ORDER])).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    moved = {**NEW_ORDER, "office_code": "UPS2", "status": "shipped"}
    changed = (await site.api("POST", "/api/cards", json=moved)).json()
    assert (changed["created"], changed["updated"]) == (0, 1)
    assert changed["cards"][0]["office"] == "UPS2" and changed["cards"][0]["status"] == "shipped"
    assert (await count(services, Card), await count(services, CardUser)) == (cards, users)


async def test_an_order_may_carry_the_card_number(site: Site, services: Services) -> None:
    bad = {**NEW_ORDER, "card_number": "12-34"}
    response = await site.api("POST", "/api/cards", json=bad)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "card_number"]
    assert problem["msg"] == "måste vara kortets nummer, 8 till 20 siffror"
    good = {**NEW_ORDER, "card_number": "9752 2699 0012 3456"}
    assert (await site.api("POST", "/api/cards", json=good)).status_code == 200
    async with services.sessions() as session:
        card = (await session.exec(select(Card).where(Card.order_ref == "SE-9001"))).one()
    assert card.card_number == "9752269900123456"


async def test_a_bad_personnummer_names_the_field_and_writes_nothing(
    site: Site, services: Services
) -> None:
    before = (await count(services, Card), await count(services, AuditEvent))
    bad = {**NEW_ORDER, "order_ref": "SE-9002", "personnummer": "850312-1234"}
    response = await site.api("POST", "/api/cards", json=[NEW_ORDER, bad])
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", 1, "personnummer"]
    assert problem["msg"] == "är inget giltigt personnummer (fel kontrollsiffra eller datum)"
    assert "850312" not in response.text
    assert (await count(services, Card), await count(services, AuditEvent)) == before


async def test_a_name_that_reads_differently_is_refused_with_the_reason(
    site: Site, services: Services
) -> None:
    before = await count(services, Card)
    bad = {**NEW_ORDER, "family_name": "Ek\u202eexe.txt", "given_name": "Ma\u200bria"}
    response = await site.api("POST", "/api/cards", json=bad)
    assert response.status_code == 422
    problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
    why = "ett osynligt tecken eller styrtecken som kan få texten att läsas på ett annat sätt"
    assert problems == {
        ("body", "family_name"): f"innehåller U+202E, {why}: ta bort det",
        ("body", "given_name"): f"innehåller U+200B, {why}: ta bort det",
    }
    assert await count(services, Card) == before


async def test_every_problem_is_reported_at_once(site: Site) -> None:
    bad = {**NEW_ORDER, "phone": "12", "email": "not-an-address", "personnummer": "abc"}
    response = await site.api("POST", "/api/cards", json=bad)
    assert response.status_code == 422
    fields = [problem["loc"] for problem in response.json()["detail"]]
    assert fields == [["body", "email"], ["body", "personnummer"], ["body", "phone"]]


async def test_an_unknown_office_rolls_back_the_whole_batch(site: Site, services: Services) -> None:
    before = await count(services, CardUser)
    elsewhere = {**NEW_ORDER, "order_ref": "SE-9002", "office_code": "NOPE"}
    response = await site.api("POST", "/api/cards", json=[NEW_ORDER, elsewhere])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "office_code"]
    assert "NOPE" in response.json()["detail"][0]["msg"]
    assert await count(services, CardUser) == before
    assert (await site.api("GET", "/api/cards", params={"office": "GBG1"})).json()[-1][
        "order_ref"
    ] == "SE-2001"


async def test_rules_of_the_csv_hold(site: Site) -> None:
    twice = await site.api("POST", "/api/cards", json=[NEW_ORDER, NEW_ORDER])
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", 1, "order_ref"]
    closing = await site.api("POST", "/api/cards", json={**NEW_ORDER, "office_code": "STO1"})
    assert closing.status_code == 422
    assert "STO1" in closing.json()["detail"][0]["msg"]
    late = await site.api("POST", "/api/cards", json={**NEW_ORDER, "status": "handed_out"})
    assert late.status_code == 422
    assert late.json()["detail"][0]["loc"] == ["body", "status"]


MARIA = {
    **NEW_ORDER,
    "order_ref": "SE-1001",
    "office_code": "UPS1",
    "personnummer": PERSONNUMMER["maria"][0],
    "phone": "0701110000",
    "email": "maria@example.se",
}


async def test_an_older_status_is_a_note_and_the_card_stays(site: Site) -> None:
    backwards = await site.api("POST", "/api/cards", json=[{**MARIA, "status": "shipped"}])
    assert backwards.status_code == 200, backwards.text
    result = backwards.json()
    assert result["notes"] == [
        {
            "loc": ["body", 0, "status"],
            "msg": "«skickat» är äldre än kortets status «bokat»: kortet lämnas som det är",
        }
    ]
    assert result["cards"][0]["status"] == "booked" and result["unchanged"] == 1


async def test_revoking_a_booked_card_cancels_its_meeting_and_tells_both_sides(
    site: Site, services: Services, network: Network
) -> None:
    response = await site.api("POST", "/api/cards", json={**MARIA, "status": "revoked"})
    assert response.status_code == 200, response.text
    assert response.json()["cards"][0]["status"] == "revoked"
    async with services.sessions() as session:
        meeting = await session.get(Meeting, network.meetings["confirmed"])
        told = (
            await session.exec(
                select(Notification.template, Notification.recipient).where(
                    Notification.meeting_id == network.meetings["confirmed"]
                )
            )
        ).all()
    assert meeting is not None and meeting.status == MeetingStatus.cancelled
    assert ("admin_cancelled", "anna@example.se") in told
    assert ("booking_cancelled", "maria@example.se") in told  # the calendar's cancellation
    assert any(template == "booking_cancelled" and to.startswith("+46") for template, to in told)


async def test_an_unknown_office_is_reported_with_the_other_problems(site: Site) -> None:
    nowhere = {**NEW_ORDER, "order_ref": "SE-9002", "office_code": "NOPE", "phone": "12"}
    response = await site.api("POST", "/api/cards", json=[NEW_ORDER, nowhere])
    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [
        ["body", 1, "office_code"],
        ["body", 1, "phone"],
    ]


async def test_a_malformed_body_is_422_without_echoing_it(site: Site) -> None:
    missing = {key: value for key, value in NEW_ORDER.items() if key != "email"}
    response = await site.api("POST", "/api/cards", json=missing)
    assert response.status_code == 422
    assert any(problem["loc"][-1] == "email" for problem in response.json()["detail"])
    assert "input" not in response.json()["detail"][0]
    extra = await site.api("POST", "/api/cards", json={**NEW_ORDER, "nickname": "Mia"})
    assert extra.status_code == 422
    not_json = await site.api("POST", "/api/cards", content=b"{")
    assert not_json.status_code == 422
