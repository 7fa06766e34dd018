"""Fixtures of the web tests: serve's parts started in this process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from kortkontor.serve import Running, start
from kortkontor.wiring import Services

Started = Callable[..., Awaitable[tuple[Running, httpx.AsyncClient]]]


@pytest.fixture
async def served(services: Services) -> AsyncIterator[Started]:
    """Starts serve's parts in this process (web on a free port); stops them afterwards."""
    started: list[tuple[Running, httpx.AsyncClient]] = []

    async def run(**settings: Any) -> tuple[Running, httpx.AsyncClient]:
        configured = services.settings.model_copy(update={"web_port": 0, **settings})
        running = await start(replace(services, settings=configured))
        assert running.web is not None
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.web.port}", timeout=10)
        started.append((running, client))
        return running, client

    yield run
    for running, client in started:
        await client.aclose()
        await running.stop()
