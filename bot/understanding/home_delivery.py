"""Does a card user ask for the card at home? Pure: a few Swedish and English phrasings, read
before the intents, since the general readings take them for a status question."""

from __future__ import annotations

import re

_ASKS = re.compile(
    r"hemleverans|leverera\w* (?:\w+ )*?hem|skicka\w* (?:\w+ )*?hem\b|komma? hem till|"
    r"hem till mig|hemma hos mig|till min (?:bostad|adress)|"
    r"home delivery|deliver\w* (?:\w+ )*?(?:to my )?home|come to my (?:home|house|place)|"
    r"to my (?:home|house|address)"
)


def asks_for_home_delivery(text: str) -> bool:
    """True for «kan du komma hem till mig?», «hemleverans», «deliver it to my home»."""
    return _ASKS.search(" ".join(text.casefold().split())) is not None
