"""The console adapter numbers the buttons of all of one turn's replies."""

from __future__ import annotations

from bot.console import chat
from bot.dialogue import Button, Incoming, Reply


class TwoReplies:
    """A dialogue that answers every update with times and, after them, a language offer."""

    def __init__(self) -> None:
        self.pressed: list[str | None] = []

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.pressed.append(incoming.button)
        return [
            Reply("Times", ((Button("16:00", "o:a"),), (Button("Menu", "cmd:menu"),))),
            Reply("Switch?", ((Button("English", "cmd:lang:en"),),)),
        ]


async def test_buttons_of_every_reply_in_a_turn_can_be_chosen() -> None:
    dialogue = TwoReplies()
    lines = iter(["1", "3", None])
    written: list[str] = []

    async def read_line(prompt: str) -> str | None:
        return next(lines)

    await chat(dialogue, card_user_id=1, read_line=read_line, write=written.append)  # type: ignore[arg-type]
    assert "  3) English" in written[1]
    assert dialogue.pressed == [None, "o:a", "cmd:lang:en"]
