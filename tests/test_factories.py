"""The row factory makes rows production would have made: valid personnummer, stored as an
import stores them, and a misspelt field refused rather than dropped."""

from __future__ import annotations

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.cards import Card, CardUser
from models.db import transaction
from models.orders import read_orders_csv
from models.validation import normalize_personnummer
from scheduler.cards import import_orders
from tests import factories
from tests.factories import PERSONNUMMER, csv_row, orders_csv


def test_fresh_personnummer_are_valid_and_never_repeat() -> None:
    made = [factories.fresh_personnummer() for _ in range(3000)]
    assert len({normalize_personnummer(number) for number in made}) == len(made)


async def test_an_import_finds_the_card_user_the_factory_made(services: Services) -> None:
    maria = PERSONNUMMER["maria"]
    async with transaction(services.sessions) as session:
        office = await factories.add(session, factories.office())
        await factories.add(session, factories.admin(office))  # an office with nobody takes none
        card = await factories.add_card(
            session,
            services.vault,
            office,
            user=factories.card_user(services.vault, personnummer=maria[0]),
        )
        row = csv_row(order_ref="SE-NEW", personnummer=maria[1])
        await import_orders(session, read_orders_csv(orders_csv(row)), vault=services.vault)
    async with services.sessions() as session:
        [user] = (await session.exec(select(CardUser))).all()
        cards = (await session.exec(select(Card).where(Card.card_user_id == user.id))).all()
    assert user.id == card.card_user_id and len(cards) == 2
    assert services.vault.decrypt(user.personnummer_encrypted) == maria[1]


def test_a_misspelt_field_is_refused() -> None:
    with pytest.raises(TypeError, match="auto_confrim"):
        factories.admin(1, auto_confrim=True)
