"""Each admin's calendar feed at a secret URL: the right meetings, parsed by icalendar."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from icalendar import Calendar

from kortkontor.wiring import Services
from models import feeds
from models.crypto import admin_for_feed_token, feed_token
from models.db import transaction
from models.meetings import Meeting
from models.types import utcnow
from scheduler.wording import format_slot_time
from tests.conftest import TEST_SECRET_KEY
from tests.factories import ALL_TEST_PERSONNUMMER, add, meeting
from tests.web.issuer_site import Network, Site, build_network, serving
from web.calendar_feed import feed_url


@pytest.fixture
async def network(services: Services) -> Network:
    return await build_network(services)


@pytest.fixture
async def site(services: Services, network: Network) -> AsyncIterator[Site]:
    async with serving(services) as running:
        yield running


def path_of(admin_id: int) -> str:
    """The older kind of link: the admin's id with its HMAC."""
    return f"/calendar/{feed_token(TEST_SECRET_KEY, admin_id)}.ics"


def test_the_token_names_its_admin_and_cannot_be_forged() -> None:
    token = feed_token(TEST_SECRET_KEY, 7)
    assert admin_for_feed_token(TEST_SECRET_KEY, token) == 7
    assert admin_for_feed_token("another-key", token) is None
    forged = "8" + token[1:]
    assert admin_for_feed_token(TEST_SECRET_KEY, forged) is None
    for junk in ("", "7", "7-", "-" + token, "07" + token[1:], "x-" + token, "٧" + token[1:]):
        assert admin_for_feed_token(TEST_SECRET_KEY, junk) is None


def test_feed_url_is_under_the_public_base_url() -> None:
    assert (
        feed_url("https://kortkontor.example/", "abc")
        == "https://kortkontor.example/calendar/abc.ics"
    )


async def new_link(services: Services, admin_id: int) -> str:
    async with transaction(services.sessions) as session:
        return await feeds.new_feed_token(session, admin_id=admin_id, now=utcnow())


async def test_a_new_link_opens_the_feed_and_ends_every_earlier_one(
    services: Services, site: Site, network: Network
) -> None:
    anna = network.admins["UPS1"]
    assert (await site.client.get(path_of(anna))).status_code == 200  # the older kind, still
    first = await new_link(services, anna)
    assert (await site.client.get(f"/calendar/{first}.ics")).status_code == 200
    assert (await site.client.get(path_of(anna))).status_code == 404
    second = await new_link(services, anna)
    assert (await site.client.get(f"/calendar/{first}.ics")).status_code == 404
    assert (await site.client.get(f"/calendar/{second}.ics")).status_code == 200
    # Another admin's older link is untouched: links end one at a time.
    assert (await site.client.get(path_of(network.admins["GBG1"]))).status_code == 200


async def test_a_revocation_ends_the_older_kind_of_link_too(
    services: Services, site: Site, network: Network
) -> None:
    anna = network.admins["UPS1"]
    async with transaction(services.sessions) as session:
        assert await feeds.revoke_feeds(session, admin_id=anna, now=utcnow()) == 1
    assert (await site.client.get(path_of(anna))).status_code == 404


async def test_the_feed_lists_the_admins_requested_and_confirmed_meetings(
    site: Site, network: Network
) -> None:
    response = await site.client.get(path_of(network.admins["UPS1"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["x-wr-calname"]) == "Kortkontor: utlämningar"
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {
        f"meeting-{network.meetings['confirmed']}-feed@kortkontor",
        f"meeting-{network.meetings['requested']}-feed@kortkontor",
    }
    confirmed = events[f"meeting-{network.meetings['confirmed']}-feed@kortkontor"]
    assert str(confirmed["summary"]) == "Utlämning SE-1001"
    assert str(confirmed["status"]) == "CONFIRMED"
    assert str(confirmed["location"]) == "Café Linné, Svartbäcksgatan 22, 753 33 Uppsala"
    assert "Maria" in str(confirmed["description"])
    assert "PIN-brev" in str(confirmed["description"])
    assert confirmed.decoded("dtstart").tzinfo is not None
    requested = events[f"meeting-{network.meetings['requested']}-feed@kortkontor"]
    assert str(requested["summary"]) == "Utlämning SE-1002"
    assert str(requested["status"]) == "TENTATIVE"
    # The home delivery's address is personal data: the chat shows it, a feed never does.
    assert str(requested["location"]) == "hemleverans"
    for number in ALL_TEST_PERSONNUMMER:
        assert number not in response.text
    assert "Test" not in response.text  # the holders' family name stays out


async def test_a_requested_move_names_the_confirmed_time_it_would_replace(
    services: Services, site: Site, network: Network
) -> None:
    async with transaction(services.sessions) as session:
        confirmed = await session.get(Meeting, network.meetings["confirmed"])
        assert confirmed is not None
        move = await add(
            session,
            meeting(
                confirmed.card_id,
                confirmed.admin_id,
                confirmed.starts_at + timedelta(hours=2),
                venue_id=confirmed.venue_id,
                replaces_meeting_id=confirmed.id,
            ),
        )
    response = await site.client.get(path_of(network.admins["UPS1"]))
    events = {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    tentative = events[f"meeting-{move.id}-feed@kortkontor"]
    assert str(tentative["status"]) == "TENTATIVE"
    when = format_slot_time(confirmed.starts_at)
    assert f"Flytt av mötet {when}, som gäller tills du bekräftar." in str(tentative["description"])
    kept = events[f"meeting-{confirmed.id}-feed@kortkontor"]
    assert str(kept["status"]) == "CONFIRMED" and "Flytt" not in str(kept["description"])


async def test_each_admin_sees_only_their_own(site: Site, network: Network) -> None:
    response = await site.client.get(path_of(network.admins["GBG1"]))
    calendar = Calendar.from_ical(response.content)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == ["Utlämning SE-2001"]
    empty = await site.client.get(path_of(network.admins["STO1"]))
    assert Calendar.from_ical(empty.content).walk("VEVENT") == []


async def test_an_unknown_token_is_404(site: Site, network: Network) -> None:
    token = feed_token(TEST_SECRET_KEY, network.admins["UPS1"])
    for path in (f"/calendar/{token[:-1]}0.ics", "/calendar/1.ics", "/calendar/abc.ics"):
        assert (await site.client.get(path)).status_code == 404
    # A well-signed token for an admin who does not exist.
    assert (await site.client.get(path_of(999_999))).status_code == 404


async def test_without_a_secret_key_no_feed_is_served(services: Services, network: Network) -> None:
    async with serving(services, secret_key=None) as site:
        response = await site.client.get(path_of(network.admins["UPS1"]))
        assert response.status_code == 404
