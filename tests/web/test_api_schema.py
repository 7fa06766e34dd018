"""Schemathesis against the app's own OpenAPI schema, over real HTTP, with the bearer token.

Schemathesis calls are synchronous, so the app runs on an event loop of its own in a thread.
The schema is read when the module loads, from an app whose database is never touched
(`schemathesis.pytest.from_fixture` would read it per test, but it does not work on pytest 9.2).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from kortkontor.settings import Settings
from kortkontor.wiring import build_services
from tests.conftest import TEST_SECRET_KEY
from tests.web.issuer_site import API_TOKEN, build_network, issuer_app
from web.server import WebServer

T = TypeVar("T")

# Valid-looking orders can still be refused with 422: a personnummer's check digit, a real
# phone number and an existing office are beyond what JSON Schema can say.
CONFIG = f"""
[auth.openapi.HTTPBearer]
bearer = "{API_TOKEN}"

[[operations]]
include-path = "/api/cards"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422"]
"""


@pytest.fixture
def served(database_url: str) -> Iterator[str]:
    """The app with the test network, served from a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="schemathesis-app", daemon=True)
    thread.start()

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(30)

    services = build_services(Settings(database_url=database_url), secret_key=TEST_SECRET_KEY)
    server = WebServer(issuer_app(services), host="127.0.0.1", port=0)
    try:
        run(build_network(services))
        run(server.start())
        yield f"http://127.0.0.1:{server.port}"
    finally:
        run(server.stop())
        run(services.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def _published_schema() -> dict[str, Any]:
    """What /openapi.json serves: the schema does not depend on the database."""
    unused = build_services(Settings(database_url="sqlite:///:memory:"), secret_key=TEST_SECRET_KEY)
    return issuer_app(unused).openapi()


schema = schemathesis.openapi.from_dict(
    _published_schema(), config=SchemathesisConfig.from_str(CONFIG)
).include(path_regex=r"^/(api/|healthz$)")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(case: Case, served: str) -> None:
    case.call_and_validate(base_url=served)
