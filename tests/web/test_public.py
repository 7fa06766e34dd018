"""The public page: active offices by city, with venues, in Swedish, without JavaScript."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest

from kortkontor.wiring import Services
from models.db import transaction
from models.network import Venue
from tests.web.issuer_site import Network, Site, build_network, serving


class Outline(HTMLParser):
    """The page's headings (h2 cities, h3 offices) and list items, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("h2", "h3", "li"):
            self._open = tag
            self.items.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            tag, text = self.items[-1]
            self.items[-1] = (tag, (text + data).strip())


@pytest.fixture
async def network(services: Services) -> Network:
    return await build_network(services)


@pytest.fixture
async def site(services: Services, network: Network) -> AsyncIterator[Site]:
    async with serving(services, api_token=None) as running:
        yield running


async def outline(site: Site) -> Outline:
    response = await site.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    parser = Outline()
    parser.feed(response.text)
    return parser


async def test_the_active_offices_by_city(site: Site) -> None:
    page = await outline(site)
    assert page.items == [
        ("h2", "Göteborg"),
        ("h3", "Göteborg Haga"),
        ("li", "Café Husaren, Haga Nygata 28, 413 01 Göteborg"),
        ("h2", "Stockholm"),
        ("h3", "Stockholm Söder"),
        ("li", "Café String, Nytorgsgatan 38, 116 40 Stockholm"),
        ("h2", "Uppsala"),
        ("h3", "Uppsala centrum"),
        ("li", "Café Linné, Svartbäcksgatan 22, 753 33 Uppsala"),
        ("h3", "Uppsala Gränby"),
        ("li", "Hotell Gränby, Marknadsgatan 2, 754 51 Uppsala"),
    ]
    assert "script" not in page.tags


async def test_an_office_whose_notice_has_ended_is_hidden(site: Site) -> None:
    response = await site.client.get("/")
    assert "Malmö" not in response.text and "Glassfabriken" not in response.text
    # One still within its notice period shows when it closes.
    assert "Stänger efter" in response.text


async def test_the_page_is_swedish_and_tells_what_to_bring(site: Site) -> None:
    response = await site.client.get("/")
    assert '<html lang="sv">' in response.text
    assert "PIN-brev" in response.text
    # Admins are people, not places: neither their names nor their contact details appear.
    assert "example.se" not in response.text and "Admin UPS1" not in response.text
    assert "+4670" not in response.text


async def test_names_are_escaped(site: Site, services: Services) -> None:
    async with transaction(services.sessions) as session:
        venue = await session.get(Venue, 1)
        assert venue is not None
        venue.name = "<script>alert(1)</script>"
        session.add(venue)
    response = await site.client.get("/")
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


async def test_with_no_offices_the_page_says_so(services: Services) -> None:
    async with serving(services) as site:
        response = await site.client.get("/")
        assert response.status_code == 200
        assert "Det finns inga aktiva kortutlämningskontor just nu." in response.text
