"""A chat that hands every update to the admin's /tider, checking its routing contract."""

from __future__ import annotations

from bot import admin_settings_flow
from bot.dialogue import Conversation, Dialogue
from kortkontor.wiring import Services
from models.network import Admin
from scheduler.actions import AddWindowOn, Command, Name, Offer, decode
from tests.bot.world import Chat, Clock

ANNA_TG = 7001


class AsAdmin:
    """Which admin the chat belongs to; a test may switch it to play a stale chat."""

    def __init__(self, admin_id: int) -> None:
        self.admin_id = admin_id


def _check_contract(conv: Conversation) -> None:
    """Steps, command buttons and offers stay inside /tider's routing contract."""
    assert conv.step.startswith("tider"), conv.step
    for reply in conv.replies:
        for row in reply.buttons:
            for button in row:
                action = decode(button.data)
                if isinstance(action, Command):
                    assert action.name in admin_settings_flow.COMMANDS | {Name.menu}, action
                else:
                    assert isinstance(action, (AddWindowOn, Offer)), button.data
    assert all(offer["action"].startswith("tider:") for offer in conv._offers.values())


def settings_chat(services: Services, clock: Clock, who: AsAdmin, user_id: int = ANNA_TG) -> Chat:
    """A chat whose every update goes to /tider for the admin `who` names."""

    async def flow(conv: Conversation) -> None:
        admin = await conv.session.get(Admin, who.admin_id)
        assert admin is not None
        await admin_settings_flow.handle(conv, admin)
        _check_contract(conv)

    return Chat(Dialogue(services.sessions, services.vault, flow, clock=clock), user_id)
