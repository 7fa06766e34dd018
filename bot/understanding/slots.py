"""The slots a message carries: its time wish, the language asked for, a message to pass on.

Time wishes are read by the existing Swedish wish parser. English ones are first written in
the parser's words («tuesday afternoon» as «tisdag eftermiddag»), so one parser serves both
languages and both read a wish alike.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.understanding.text import Token
from bot.wish_parser import parse_wish
from scheduler.wishes import TimeWish

_MONTHS = {
    "january": "januari", "jan": "januari", "february": "februari", "feb": "februari",
    "march": "mars", "mar": "mars", "april": "april", "apr": "april", "may": "maj",
    "june": "juni", "jun": "juni", "july": "juli", "jul": "juli", "august": "augusti",
    "aug": "augusti", "september": "september", "sep": "september", "sept": "september",
    "october": "oktober", "oct": "oktober", "november": "november", "nov": "november",
    "december": "december", "dec": "december",
}  # fmt: skip
# English words that are no Swedish words: written in the parser's words in any text.
_ENGLISH_ONLY = {
    "monday": "måndag", "tuesday": "tisdag", "wednesday": "onsdag", "thursday": "torsdag",
    "friday": "fredag", "saturday": "lördag", "sunday": "söndag",
    "mondays": "måndagar", "tuesdays": "tisdagar", "wednesdays": "onsdagar",
    "thursdays": "torsdagar", "fridays": "fredagar",
    "morning": "förmiddag", "mornings": "förmiddag", "afternoon": "eftermiddag",
    "afternoons": "eftermiddag", "evening": "kväll", "evenings": "kväll", "noon": "lunch",
    "lunchtime": "lunch", "today": "idag", "tomorrow": "imorgon", "tonight": "ikväll",
    "tmrw": "imorgon", "tmr": "imorgon", "tomoz": "imorgon",
    "weekend": "helgen", "weekday": "vardag", "weekdays": "vardagar",
    "asap": "snarast", "anytime": "när som helst", "whenever": "när som helst",
}  # fmt: skip
# Words that are also Swedish («fri», «sen»), or grammar: only in English text.
_ENGLISH_GRAMMAR = {
    "mon": "måndag", "tue": "tisdag", "tues": "tisdag", "wed": "onsdag", "thu": "torsdag",
    "thur": "torsdag", "thurs": "torsdag", "fri": "fredag", "sat": "lördag", "sun": "söndag",
    "after": "efter", "before": "före", "between": "mellan", "and": "och", "or": "eller",
    "not": "inte", "except": "utom", "but": "men", "from": "från", "until": "till",
    "till": "till", "at": "kl", "around": "runt", "on": "", "the": "", "in": "om",
    "next": "nästa", "this": "denna", "week": "vecka", "weeks": "veckor", "day": "dag",
    "days": "dagar", "month": "månad", "lunch": "lunch", "work": "jobbet",
    "instead": "", "please": "", "pls": "",
}  # fmt: skip
_ENGLISH_PHRASES = (
    (r"as soon as possible|earliest possible|first available|as early as possible", "snarast"),
    (r"any ?time|any day|whenever", "när som helst"),
    (r"(?:the )?day after tomorrow", "i övermorgon"),
    (r"this afternoon", "i eftermiddag"),
    (r"this morning", "i förmiddag"),
    (r"this evening|tonight", "ikväll"),
    (r"this week", "i veckan"),
    (r"(?:this|the) weekend", "i helgen"),
    (r"next weekend", "nästa helg"),
    (r"in the (morning|afternoon|evening)", r"\1"),
    (r"(after|before) work", r"\1 jobbet"),
    (r"(\d{1,2})(?:st|nd|rd|th)? of (" + "|".join(_MONTHS) + r")\b", r"\1 \2"),
    (r"(" + "|".join(_MONTHS) + r") (\d{1,2})(?:st|nd|rd|th)?\b", r"\2 \1"),
    (r"the (\d{1,2})(?:st|nd|rd|th)\b", r"den \1:e"),
    (r"(\d{1,2})(?:st|nd|rd|th)\b", r"den \1:e"),
)
_COMPILED_PHRASES = tuple((re.compile(r"\b" + p + r"\b"), r) for p, r in _ENGLISH_PHRASES)
_AM_PM = re.compile(r"\b(\d{1,2})(?:[:.](\d\d))?\s*([ap])\.?m\.?(?!\w)")
_WORDS = re.compile(r"[^\W\d_]+")


def _clock(match: re.Match[str]) -> str:
    """«3pm» as «15:00», «10.30 am» as «10:30»."""
    hour, minute = int(match.group(1)) % 12, match.group(2) or "00"
    if match.group(3) == "p":
        hour += 12
    return f"{hour:02d}:{minute}"


# «kan jag inte ta fredag istället?» suggests Friday: the «inte» of a question that opens the
# message or a clause negates nothing. (A statement «fredag kan jag inte» keeps it: there
# the verb does not open the clause.)
_SUGGESTION = re.compile(
    r"(^|[,.!?;]\s*)((?:kan|kunde|skulle|går)\s+(?:jag|vi|man|ni|det)\s+)inte\b"
)


def in_parser_words(text: str, *, english: bool) -> str:
    """The wish text with English time words in Swedish; grammar only when `english`."""
    text = _SUGGESTION.sub(r"\1\2", text)
    if english:
        text = _AM_PM.sub(_clock, text)
        for pattern, replacement in _COMPILED_PHRASES:
            text = pattern.sub(replacement, text)
    table = {**_ENGLISH_ONLY, **_MONTHS, **_ENGLISH_GRAMMAR} if english else _ENGLISH_ONLY
    return _WORDS.sub(lambda m: table.get(m.group(0), m.group(0)), text)


def read_wish(text: str, *, english: bool, now: datetime) -> TimeWish | None:
    """The time wish in a message, or None when it names no time."""
    wish = parse_wish(in_parser_words(text, english=english), now=now)
    return wish if wish.understood else None


def is_substantial(wish: TimeWish) -> bool:
    """A wish that asks for something, not only rules something out («inte måndag»)."""
    return bool(wish.date_ranges or wish.weekdays or wish.time_ranges or wish.asap) or not (
        wish.excluded_date_ranges or wish.excluded_weekdays or wish.excluded_time_ranges
    )


_LANGUAGES = {
    "engelska": "en", "english": "en", "engelsk": "en", "eng": "en", "svenska": "sv",
    "swedish": "sv", "svensk": "sv",
}  # fmt: skip


def language_asked(tokens: tuple[Token, ...]) -> str | None:
    """The language a message names, the last one when it names two («från svenska till
    engelska»)."""
    named = [_LANGUAGES[t.text] for t in tokens if t.text in _LANGUAGES]
    return named[-1] if named else None


# «säg till admin att …», «skriv till administratören: …», «tell the admin …»: the rest is
# the message. A request to write without words to pass on has no message yet.
_TO_WHOM = (
    r"(?:till\s+)?(?:(?:min|mina|din|den|er|din)\s+)?"
    r"(?:id-?admin\w*|admin\w*|administratör\w*|handläggare\w*|henne|honom|dem|dom|"
    r"den\s+som\s+lämnar\s+ut(?:\s+kortet)?|"
    # a name: «säg till anna att …»
    r"[^\W\d_]+(?=\s+att\b))?"
)
_DIRECTIVES = (
    re.compile(
        r"\b(?:säga?|skriva?|meddela|hälsa|berätta|framför)\s+" + _TO_WHOM + r"\s*(?:att|:|-)?\s*",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:tell|let|inform|message)\s+(?:the\s+)?(?:admin\w*|administrator|them|him|her)?"
        r"\s*(?:know)?\s*(?:that|:|-)?\s*",
        re.IGNORECASE,
    ),
)
_ASKING_TO_WRITE = re.compile(
    r"^(?:kan|får|går)\s+(?:jag|man|det)\s+(?:att\s+)?(?:skicka|skriva|kontakta|nå)|"
    r"^(?:can|may)\s+i\s+(?:send|write|contact|message)",
    re.IGNORECASE,
)
_FRAMING = " \t\n.,!?:;-"


def message_for_admin(text: str) -> str | None:
    """The words to pass to the administrator: after «säg till admin att», else all of it."""
    text = text.strip()
    if _ASKING_TO_WRITE.search(text):
        return None
    for directive in _DIRECTIVES:
        found = directive.search(text)
        if found is not None:
            rest = text[found.end() :].strip(_FRAMING)
            return rest or None
    return text.strip(_FRAMING) or None
