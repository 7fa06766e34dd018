"""When the bot is unsure or lost: «Menade du …?» with the best readings as buttons, and a
count of the messages in a row it did not understand, so that the same «förstod inte» never
comes twice in a row and the second miss offers the menu instead."""

from __future__ import annotations

from datetime import datetime

from bot.dialogue import Button, Conversation
from bot.understanding import Context, Intent, Reading, understand
from models.i18n import N_
from scheduler.actions import Name

MISSES = "misses"
MEANT = "meant"
# Only so much of a message rides along in a «Menade du …?» button, to be read again.
KEPT_TEXT = 200

# What each reading is called on a «Menade du …?» button.
INTENT_LABELS = {
    Intent.greet: N_("Say hello"),
    Intent.thanks: N_("Say thanks"),
    Intent.goodbye: N_("Say goodbye"),
    Intent.help: N_("Help"),
    Intent.language: N_("Change language"),
    Intent.yes: N_("Yes"),
    Intent.no: N_("No"),
    Intent.confirm: N_("Yes"),
    Intent.decline: N_("No"),
    Intent.status: N_("Where is my card?"),
    Intent.book: N_("Book a time"),
    Intent.my_meeting: N_("When is my time?"),
    Intent.move: N_("Change time"),
    Intent.cancel: N_("Cancel booking"),
    Intent.what_to_bring: N_("What should I bring?"),
    Intent.where: N_("Where do we meet?"),
    Intent.cant_come: N_("I cannot come"),
    Intent.keep_time: N_("How long is the card kept?"),
    Intent.write_admin: N_("Write to the ID administrator"),
    Intent.today: N_("Today"),
    Intent.tomorrow: N_("Tomorrow"),
    Intent.upcoming: N_("Upcoming"),
    Intent.custody: N_("Cards"),
    Intent.picked_up: N_("Picked up"),
    Intent.avi_arrived: N_("Notice (avi) received"),
    Intent.absence: N_("Absence"),
}
NOT_UNDERSTOOD = N_("I did not quite understand. Choose below, or write /hjalp for help.")
STILL_NOT_UNDERSTOOD = N_(
    "Sorry, I still do not understand. These are the things I can help with; press one, or "
    "write /hjalp to see what you can write."
)
STILL_NOT_UNDERSTOOD_WRITE = N_(
    "Sorry, I still do not understand. These are the things I can help with; press one, "
    "write /hjalp to see what you can write, or write to the ID administrator."
)


def reset(conv: Conversation) -> None:
    """The person was understood (or pressed a button): the next miss is a first one again."""
    if MISSES in conv.state.data:
        conv.state.data = {k: v for k, v in conv.state.data.items() if k != MISSES}


def missed(conv: Conversation) -> int:
    """Count one more message not understood; how many in a row now."""
    misses = int(conv.state.data.get(MISSES, 0)) + 1
    conv.state.data = {**conv.state.data, MISSES: misses}
    return misses


def not_understood_text(conv: Conversation, misses: int) -> str:
    """The answer to a miss: a first one, then the menu, never the same text twice in a row."""
    return conv._(NOT_UNDERSTOOD if misses % 2 else STILL_NOT_UNDERSTOOD)


def still_not_understood(conv: Conversation, *, can_write: bool) -> str:
    """The second miss in a row, which offers writing to the administrator when one can."""
    return conv._(STILL_NOT_UNDERSTOOD_WRITE if can_write else STILL_NOT_UNDERSTOOD)


def write_admin_row(conv: Conversation, *, can_write: bool) -> list[Button]:
    """«Skriv till ID-administratören», for a card user with a meeting to write about."""
    if not can_write:
        return []
    return [conv.command(conv._(INTENT_LABELS[Intent.write_admin]), Name.write)]


def is_miss(reading: Reading) -> bool:
    """Nothing to act on and nothing to ask about (out of scope, with no likely reading)."""
    if not reading.choices:
        return True
    return reading.intent is Intent.out_of_scope and not reading.unsure


def choices(conv: Conversation, reading: Reading, text: str) -> list[list[Button]]:
    """One button per likely reading; each carries the message, to be read again if pressed."""
    return [
        [
            conv.offer(
                conv._(INTENT_LABELS.get(intent, INTENT_LABELS[Intent.help])),
                MEANT,
                intent=intent.value,
                text=text[:KEPT_TEXT],
            )
        ]
        for intent in reading.choices
    ]


def did_you_mean(conv: Conversation, reading: Reading, text: str, *rows: list[Button]) -> None:
    """Ask «Menade du …?» with the readings as buttons; the buttons shown so far stay valid."""
    conv.keep_offers()
    conv.say(conv._("Did you mean …?"), *choices(conv, reading, text), *rows)


def meant(offer: dict[str, object], context: Context, *, locale: str, now: datetime) -> Reading:
    """The reading a «Menade du …?» button stands for, with the slots its message carries."""
    reading = understand(str(offer.get("text", "")), context, locale=locale, now=now)
    try:
        intent = Intent(str(offer.get("intent")))
    except ValueError:
        intent = Intent.out_of_scope
    return Reading(intent=intent, confidence=1.0, slots=reading.slots)
