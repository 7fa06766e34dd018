"""The console adapter: the same dialogue in a terminal, buttons numbered, for the demo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.accounts import CONSOLE
from bot.dialogue import Button, Dialogue, Incoming, Reply, numbered_buttons, typed_choice
from models.i18n import N_, translate

QUIT_WORDS = frozenset({"q", "quit", "sluta", "avsluta", "exit"})
PROMPT = N_("Write a number or some text (q to quit)")


def render(reply: Reply, first: int = 1) -> tuple[str, list[Button]]:
    """A reply as terminal text with its buttons numbered from `first`, and those buttons."""
    buttons = numbered_buttons([reply])
    lines = [reply.text]
    lines += [f"  {number}) {button.label}" for number, button in enumerate(buttons, start=first)]
    return "\n".join(lines), buttons


def to_incoming(line: str, buttons: list[Button], *, card_user_id: int) -> Incoming:
    """A number picks a shown button, an empty line asks for the menu, the rest is text."""
    choice = line.strip() or "/meny"
    button = typed_choice(choice, buttons)
    return Incoming(
        channel=CONSOLE,
        chat_key=f"card_user:{card_user_id}",
        user_id=card_user_id,
        button=button.data if button else None,
        text=None if button else choice,
    )


async def chat(
    dialogue: Dialogue,
    *,
    card_user_id: int,
    read_line: Callable[[str], Awaitable[str | None]],
    write: Callable[[str], None],
    locale: str = "sv",
) -> None:
    """Talk until the user quits or the input ends; the chat opens with the menu."""
    line: str | None = "/meny"
    buttons: list[Button] = []
    while line is not None and line.strip().casefold() not in QUIT_WORDS:
        incoming = to_incoming(line, buttons, card_user_id=card_user_id)
        # The buttons of all of one turn's replies, numbered on from one reply to the next
        # (times offered, then the offer to switch language).
        shown: list[Button] = []
        for reply in await dialogue.handle(incoming):
            text, more = render(reply, first=len(shown) + 1)
            shown += more
            write(text + "\n")
        buttons = shown or buttons
        line = await read_line(translate(PROMPT, locale) + "> ")
