"""The bot tests' shared fixtures: the demo-like world and a settable clock."""

from __future__ import annotations

import pytest

from kortkontor.wiring import Services
from tests.bot.world import Clock, World, build_world


@pytest.fixture
async def world(services: Services) -> World:
    """An office with an admin and card users whose cards wait to be booked."""
    return await build_world(services)


@pytest.fixture
def clock() -> Clock:
    """The dialogue's clock, set to the world's NOW until a test moves it."""
    return Clock()
