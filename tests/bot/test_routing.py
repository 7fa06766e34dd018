"""The flows' steps and offered buttons: each flow names its own, and they do not collide; and
a refusal rolls back all the update wrote, and the flow answers it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest

from bot import admin_flow, card_user_flow
from bot.admin_custody_flow import CustodyOffer, CustodyStep
from bot.admin_flow import AdminOffer, AdminStep
from bot.admin_outcome_flow import OutcomeOffer, OutcomeStep
from bot.admin_settings_flow import SettingsOffer, SettingsStep, step_of
from bot.card_user_flow import CardOffer, CardStep
from bot.clarify import MEANT
from bot.dialogue import Conversation, Dialogue
from bot.flows import StartStep
from bot.understanding.model import FLOW_STEPS
from kortkontor.wiring import Services
from models.db import transaction
from models.errors import DomainError
from models.network import Admin
from tests.bot.world import Chat, World

ADMIN_STEPS: tuple[type[StrEnum], ...] = (AdminStep, CustodyStep, OutcomeStep, SettingsStep)


def test_the_admin_flows_steps_meet_only_at_rest() -> None:
    # Custody and the outcome end where the admin chat rests; otherwise each step is one flow's.
    assert CustodyStep.idle == OutcomeStep.idle == AdminStep.idle
    values = [step.value for flow in ADMIN_STEPS for step in flow if step.value != "idle"]
    assert len(values) == len(set(values))
    assert not set(values) & {step.value for step in StartStep}


def test_settings_steps_are_told_from_the_others() -> None:
    assert all(step.value.startswith("tider") for step in SettingsStep)
    assert all(step_of(step) is step for step in SettingsStep)
    others = [*AdminStep, *CustodyStep, *OutcomeStep, *StartStep, *CardStep, "tider:nonsense"]
    assert all(step_of(step) is None for step in others)


def test_the_understanding_layer_knows_steps_the_flows_have() -> None:
    flows: tuple[type[StrEnum], ...] = (*ADMIN_STEPS, CardStep, StartStep)
    known = {step.value for flow in flows for step in flow}
    assert set(FLOW_STEPS) <= known


def test_every_admin_button_has_its_handler_in_one_table() -> None:
    offers: list[str] = [MEANT, *AdminOffer, *CustodyOffer, *OutcomeOffer, *SettingsOffer]
    assert len(offers) == len(set(offers))
    assert set(admin_flow._OFFERS) == set(offers)
    assert all(action.startswith("tider:") for action in SettingsOffer)


def test_every_card_user_button_has_its_handler_in_one_table() -> None:
    assert set(card_user_flow._OFFERS) == {MEANT, *CardOffer}


async def test_a_refusal_undoes_all_the_update_wrote_and_the_flow_answers(
    services: Services, world: World
) -> None:
    attempts: list[str] = []

    async def refused(conv: Conversation, admin: Admin, refusal: DomainError) -> None:
        conv.go(AdminStep.idle)
        conv.say(f"{refusal.translated('en')} ({admin.first_name}, {conv.step})")

    async def flow(conv: Conversation) -> None:
        admin = await conv.session.get(Admin, world.admin_id)
        assert admin is not None
        attempts.append(conv.step)
        if await conv.answer_refusal(admin):
            return
        conv.on_refusal = refused
        conv.go(AdminStep.confirm_cards)
        admin.name = "Changed Name"
        conv.session.add(admin)
        await conv.session.flush()
        conv.say("half-way")
        raise DomainError("Not allowed.")

    chat = Chat(Dialogue(services.sessions, services.vault, flow), 7001)
    replies = await chat.send("anything")
    # The second attempt sees the chat and the admin as they were before the update.
    assert [reply.text for reply in replies] == ["Not allowed. (Anna, idle)"]
    assert attempts == ["start", "start"]
    async with transaction(services.sessions) as session:
        admin = await session.get(Admin, world.admin_id)
        assert admin is not None and admin.first_name == "Anna"
    await chat.send("again")
    assert attempts[-1] == "idle"


async def test_a_refusal_no_flow_answers_fails_the_update(services: Services) -> None:
    async def flow(conv: Conversation) -> None:
        raise DomainError("Not allowed.")

    chat = Chat(Dialogue(services.sessions, services.vault, flow), 7001)
    with pytest.raises(DomainError):
        await chat.send("anything")


def test_flows_nest_no_savepoints_of_their_own() -> None:
    bot = Path(__file__).parents[2] / "bot"
    nesting = [
        path.name
        for path in bot.rglob("*.py")
        if "begin_nested" in path.read_text() and path.name != "dialogue.py"
    ]
    assert nesting == []
