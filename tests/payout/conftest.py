"""A network with real meetings whose outcomes straddle the turn of November 2026."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kortkontor.wiring import Services
from models.meetings import FailureReason
from tests.bot.world import NOW, World, build_world
from tests.payout.helpers import failed, handed_out, into_custody

DECEMBER_1 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def seeded(services: Services) -> World:
    """November: Bo hands Lena's card out at 23:30 on 30 November (Stockholm).
    December: Anna hands Ahmed's card out at 00:30 on 1 December (23:30 UTC on 30 November);
    Maria's first meeting fails for want of a valid ID, her extra meeting on 1 December ends
    in a handout (a handout and an extra meeting)."""
    world = await build_world(services)
    await into_custody(services, world.cards["ahmed"], NOW)
    await handed_out(
        services,
        world,
        "lena",
        booked_at=NOW,
        recorded_at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC),
    )
    await handed_out(
        services,
        world,
        "ahmed",
        booked_at=NOW,
        recorded_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
    )
    await failed(services, world, "maria", FailureReason.no_valid_id, booked_at=NOW)
    await handed_out(
        services,
        world,
        "maria",
        booked_at=DECEMBER_1,
        recorded_at=datetime(2026, 12, 1, 15, 10, tzinfo=UTC),
    )
    return world
