"""Security headers on every response: our pages (public and dashboard) under one policy with
no inline script or style, the API docs under a policy that lets exactly their assets load,
and everything else under a policy that allows nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from kortkontor.wiring import Services
from tests.web.issuer_site import Site, serving
from web.docs import CDN, inline_script_hashes
from web.security_headers import NOTHING_POLICY, PAGE_POLICY

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
PAGES = ["/", "/dashboard/login", "/dashboard"]  # /dashboard: the login redirect's target too
NOT_PAGES = [
    "/healthz",
    "/openapi.json",
    "/api/cards",  # 401
    "/no-such-page",  # 404
    "/static/offices.css",
    "/dashboard/static/dashboard.css",
    "/calendar/1/wrong.ics",
]


@pytest.fixture
async def site(services: Services) -> AsyncIterator[Site]:
    async with serving(services) as running:
        yield running


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_common(response: httpx.Response) -> dict[str, list[str]]:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["default-src"] == ["'none'"]
    return policy


@pytest.mark.parametrize("path", PAGES)
async def test_our_pages_allow_no_inline_code(site: Site, path: str) -> None:
    response = await site.client.get(path, follow_redirects=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert_common(response)
    assert response.headers["content-security-policy"] == PAGE_POLICY
    # The policy holds the page: no inline script or style, and its stylesheet is ours.
    assert "<script" not in response.text and "<style" not in response.text
    assert " style=" not in response.text
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', response.text):
        sheet = await site.client.get(href)
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", NOT_PAGES)
async def test_everything_else_allows_nothing(site: Site, path: str) -> None:
    response = await site.client.get(path)
    assert_common(response)
    assert response.headers["content-security-policy"] == NOTHING_POLICY


async def test_refusals_of_the_middlewares_have_them_too(site: Site) -> None:
    response = await site.client.post("/twilio/status", content=b"x" * 70_000)
    assert response.status_code in (413, 503)
    assert_common(response)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_may_load_exactly_their_assets(site: Site, path: str) -> None:
    response = await site.client.get(path)
    assert response.status_code == 200
    policy = assert_common(response)
    html = response.content
    # Each inline script runs by its hash; no script may be inline otherwise, or come from
    # anywhere but the CDN.
    assert policy["script-src"] == [CDN, *inline_script_hashes(html)]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in str(policy)
    for src in re.findall(rb'<script src="([^"]+)"', html):
        assert src.decode().startswith(CDN + "/")
    for href in re.findall(rb'<link[^>]*href="([^"]+)"', html):
        host = "/".join(href.decode().split("/")[:3])
        assert host in policy["style-src"] + policy["img-src"], href
    assert policy["connect-src"] == ["'self'"]  # the schema, and «Try it out», only to us
    assert policy["form-action"] == ["'none'"] and policy["base-uri"] == ["'none'"]


async def test_swagger_uis_start_script_has_its_hash(site: Site) -> None:
    html = (await site.client.get("/docs")).content
    assert len(inline_script_hashes(html)) == 1  # SwaggerUIBundle({...}), and nothing else
    assert (await site.client.get("/openapi.json")).status_code == 200
