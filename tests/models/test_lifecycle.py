"""The card state machine: every allowed move works and is audited; everything else is refused."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.cards import CARD_STATUS_NAMES, Card, CardStatus
from models.db import transaction
from models.errors import IllegalTransition
from models.i18n import translate
from models.lifecycle import (
    CARD_TRANSITIONS,
    FINAL_CARD_STATES,
    ROLE_NAMES,
    Role,
    check_transition,
    transition_card,
)
from tests import factories

ALLOWED = sorted(
    (current, target, role)
    for (current, target), roles in CARD_TRANSITIONS.items()
    for role in roles
)


def test_the_happy_path_of_design_md_is_allowed() -> None:
    path = [
        CardStatus.ordered,
        CardStatus.shipped,
        CardStatus.notified,
        CardStatus.in_custody,
        CardStatus.booked,
        CardStatus.handed_out,
    ]
    roles = [Role.operator, Role.admin, Role.admin, Role.admin, Role.admin]
    for (current, target), role in zip(pairwise(path), roles, strict=True):
        check_transition(current, target, role)


def test_final_states_have_no_way_out() -> None:
    assert {current for current, _ in CARD_TRANSITIONS} & FINAL_CARD_STATES == set()


@given(st.sampled_from(CardStatus), st.sampled_from(CardStatus), st.sampled_from(Role))
def test_anything_not_in_the_table_is_refused(
    current: CardStatus, target: CardStatus, role: Role
) -> None:
    if role in CARD_TRANSITIONS.get((current, target), frozenset()):
        check_transition(current, target, role)
        return
    with pytest.raises(IllegalTransition) as raised:
        check_transition(current, target, role)
    assert raised.value.code == "illegal_transition"
    said = raised.value.translated("sv")
    # Wholly Swedish: the states and the role in words, never the code's names.
    assert f"«{translate(CARD_STATUS_NAMES[current], 'sv')}»" in said
    assert translate(ROLE_NAMES[role], "sv") in said and "ogiltig övergång" in said
    assert f"«{current.value}»" not in said and not re.search(rf"\b{role.value}\b", said)


async def _card(services: Services, status: CardStatus) -> int:
    async with transaction(services.sessions) as session:
        office = await factories.add(session, factories.office())
        card = await factories.add_card(session, services.vault, office, status=status)
        assert card.id
        return card.id


@pytest.mark.parametrize(("current", "target", "role"), ALLOWED)
async def test_every_allowed_transition_is_stored_and_audited(
    services: Services, current: CardStatus, target: CardStatus, role: Role
) -> None:
    card_id = await _card(services, current)
    async with transaction(services.sessions) as session:
        card = await session.get(Card, card_id)
        assert card is not None
        await transition_card(session, card, target, role=role, actor_id=7)
    async with services.sessions() as session:
        stored = await session.get(Card, card_id)
        events = (await session.exec(select(AuditEvent))).all()
    assert stored is not None and stored.status == target
    assert [(e.action, e.entity_id, e.actor_role, e.actor_id, e.data) for e in events] == [
        ("card.status", card_id, role.value, 7, {"from": current.value, "to": target.value})
    ]


async def test_an_illegal_transition_changes_nothing(services: Services) -> None:
    card_id = await _card(services, CardStatus.ordered)
    with pytest.raises(IllegalTransition):
        async with transaction(services.sessions) as session:
            card = await session.get(Card, card_id)
            assert card is not None
            await transition_card(session, card, CardStatus.handed_out, role=Role.admin, actor_id=1)
    async with services.sessions() as session:
        stored = await session.get(Card, card_id)
        assert stored is not None and stored.status == CardStatus.ordered
        assert (await session.exec(select(AuditEvent))).all() == []


def test_a_card_in_transfer_is_as_far_along_as_one_in_custody() -> None:
    """A re-imported order never moves a card under hand-over back, nor forward past it."""
    from models.lifecycle import is_behind

    assert is_behind(CardStatus.in_transfer, CardStatus.shipped)
    assert not is_behind(CardStatus.in_transfer, CardStatus.in_custody)
    assert not is_behind(CardStatus.in_transfer, CardStatus.booked)
