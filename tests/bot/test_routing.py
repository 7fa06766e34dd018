"""The flows' steps and offered buttons: each flow names its own, and they do not collide."""

from __future__ import annotations

from enum import StrEnum

from bot import admin_flow
from bot.admin_custody_flow import CustodyOffer, CustodyStep
from bot.admin_flow import AdminOffer, AdminStep
from bot.admin_outcome_flow import OutcomeOffer, OutcomeStep
from bot.admin_settings_flow import SettingsOffer, SettingsStep, step_of
from bot.card_user_flow import CardStep
from bot.clarify import MEANT
from bot.flows import StartStep
from bot.understanding.model import FLOW_STEPS

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
