"""The custody hand-over over the fake Telegram Bot API: Bo, at another office, presses the
receiver's «Mottaget» button with forged data and nothing happens; Cecilia's press confirms."""

from __future__ import annotations

from typing import Any

from kortkontor.wiring import Services
from models.admins import give_notice
from models.cards import Card, CardStatus
from models.db import transaction
from models.lifecycle import Role
from scheduler.dispatch import Dispatcher
from tests import factories
from tests.bot.test_admin_telegram import admin, fake, running
from tests.bot.world import NOW, World
from tests.fakes.telegram import FakeBotApi

__all__ = ["fake", "running"]  # the fixtures, shared with the admin's Telegram tests
ANNA, CECILIA, BO = 7111, 7112, 7113


async def _status(services: Services, card_id: int) -> CardStatus:
    async with services.sessions() as session:
        card = await session.get(Card, card_id)
    assert card is not None
    return CardStatus(card.status)


async def test_only_the_receiver_confirms_a_transfer_over_telegram(
    running: tuple[Any, Dispatcher], fake: FakeBotApi, services: Services, world: World
) -> None:
    se1 = world.cards["maria"]
    async with transaction(services.sessions) as session:
        card = await session.get(Card, se1)
        assert card is not None
        card.custodian_admin_id = world.admin_id
        session.add(card)
        cecilia_row = await factories.add(
            session,
            factories.admin(card.office_id, email="cecilia@example.se", name="Cecilia Berg"),
        )
        await give_notice(
            session, admin_id=world.admin_id, role=Role.admin, actor_id=world.admin_id, now=NOW
        )
    assert cecilia_row.id is not None
    anna = await admin(fake, services, world.admin_id, ANNA)
    cecilia = await admin(fake, services, cecilia_row.id, CECILIA)
    bo = await admin(fake, services, world.other_admin_id, BO)
    await anna.send("/kort")
    await anna.press("SE-1 → Cecilia")
    assert "SE-1 är under överlämning" in anna.text
    assert await _status(services, se1) == CardStatus.in_transfer
    await cecilia.send("/kort")
    received = cecilia.data("Mottaget: SE-1")
    fake.press(BO, received, message_id=bo.last.message_id if bo.last else None)
    await bo._replies(1)
    assert "SE-1" not in bo.text and "Maria" not in bo.text
    assert await _status(services, se1) == CardStatus.in_transfer
    await cecilia.press("Mottaget: SE-1")
    assert "SE-1 finns nu i din förvaring." in cecilia.text
    assert await _status(services, se1) == CardStatus.in_custody
