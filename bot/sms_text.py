"""A turn's dialogue replies as one SMS: buttons as numbered choices, GSM-7, at most three segments.

Pure: no I/O and no Twilio (that lives in scheduler/channels/sms.py); the SMS adapter
(`bot/sms.py`) sends what it renders through the outbox, and `bot.dialogue` reads a typed number
back as the button it stands for.

GSM-7 (3GPP TS 23.038, formerly GSM 03.38, §6.2.1): the 128-character default alphabet below,
plus an extension table reached through an escape, so each of its characters costs two septets.
One segment holds 160 septets, a concatenated message 153 per segment (the rest is the user data
header). Text with any other character goes as UCS-2: 70 UTF-16 units, 67 when concatenated.
The libraries looked at on PyPI do not count segments: `gsm0338` 1.1.0 is a codec only and
`smspdudecoder` 2.2.0 decodes PDUs; so the table is written once here.

Layout: the replies' texts, then the choices («1 Boka, 2 Var är mitt kort?, 3 Hjälp» on one line,
or one a line when a label is longer than LABEL_MAX, such as a time with its venue), then
«Reply 1, 2 or 3.».

Shortening, in this order, until the text fits in two segments (TARGET_SEGMENTS):
1. always: typographic characters become GSM-7 ones (`to_gsm7`), blank lines and trailing spaces
   go;
2. the replies' lines go from the last towards the first, except the first line of each reply
   and any line with a digit outside a link (a time, a date, an address); so a map link goes
   before the address it points to;
3. button labels longer than LABEL_MAX lose their last words, but never a word with a digit
   (a time, a date).
Choices, their numbers and «Reply 1, 2 or 3.» are never cut. What is left may still exceed two
segments; the tests hold the real dialogue's replies to MAX_SEGMENTS (three).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dialogue import Button, Reply, numbered_buttons
from models.i18n import N_, translate

TARGET_SEGMENTS = 2
MAX_SEGMENTS = 3
LABEL_MAX = 20

# The default alphabet in code order 0x00-0x7F, ESC (0x1B) left out: it is no character.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑ\u00dc\u00a7"  # Ü §
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table (ESC + code): form feed, ^ { } \ [ ~ ] | €.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_SEPTETS = 160
CONCAT_SEPTETS = 153
SINGLE_UCS2 = 70
CONCAT_UCS2 = 67

# Typographic characters and their GSM-7 stand-ins; anything else outside GSM-7 is decomposed
# (á → a) or, when nothing of it is GSM-7 (emoji, symbols), dropped.
_REPLACEMENTS = {
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
    "‹": "'", "›": "'", "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
    "–": "-", "—": "-", "‐": "-", "‑": "-", "‒": "-", "−": "-", "•": "-",
    "…": "...", "·": "-",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ",
    "\t": " ", "×": "x",
}  # fmt: skip


def is_gsm7(text: str) -> bool:
    """Whether the text goes as GSM-7 (default alphabet and extension table only)."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _to_gsm7_char(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(part for part in decomposed if part in GSM7_BASIC)


def to_gsm7(text: str) -> str:
    """The text with typographic characters replaced by GSM-7 ones and the rest dropped;
    Swedish letters (åäöÅÄÖ, é) are GSM-7 and stay."""
    converted = "".join(_to_gsm7_char(char) for char in unicodedata.normalize("NFC", text))
    # A dropped emoji leaves its spaces behind.
    converted = re.sub(r" {2,}", " ", converted)
    return re.sub(r" +(?=\n)|(?<=\n) +", "", converted).strip(" ")


def segments(text: str) -> int:
    """How many SMS segments the text takes (0 for none): GSM-7 when it can, else UCS-2.

    A concatenated message never splits an extension character's escape pair nor a UTF-16
    surrogate pair across segments.
    """
    if not text:
        return 0
    if is_gsm7(text):
        units = [2 if char in GSM7_EXTENSION else 1 for char in text]
        single, concat = SINGLE_SEPTETS, CONCAT_SEPTETS
    else:
        units = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, concat = SINGLE_UCS2, CONCAT_UCS2
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > concat:
            count, used = count + 1, 0
        used += unit
    return count


@dataclass(frozen=True, slots=True)
class SmsReply:
    """One SMS's text and the buttons its numbers stand for (1 is buttons[0])."""

    text: str
    buttons: tuple[Button, ...] = ()


REPLY_ONE = N_("Reply {number}.")
REPLY_MANY = N_("Reply {numbers} or {last}.")


def _reply_line(count: int, locale: str) -> str:
    if count == 1:
        return translate(REPLY_ONE, locale).format(number=1)
    numbers = ", ".join(str(number) for number in range(1, count))
    return translate(REPLY_MANY, locale).format(numbers=numbers, last=count)


def _compose(texts: list[list[str]], labels: list[str], locale: str) -> str:
    lines = [line for text in texts for line in text]
    choices = [f"{number} {label}" for number, label in enumerate(labels, start=1)]
    if any(len(label) > LABEL_MAX for label in labels):
        lines += choices
    elif choices:
        lines.append(", ".join(choices))
    if labels:
        lines.append(to_gsm7(_reply_line(len(labels), locale)))
    return "\n".join(lines)


_LINK = re.compile(r"https?://\S+")


def _keeps(line: str) -> bool:
    """A line with a digit outside a link: a time, a date, an address."""
    return any(char.isdigit() for char in _LINK.sub("", line))


def _short_label(label: str) -> str:
    words = label.split(" ")
    while len(" ".join(words)) > LABEL_MAX and len(words) > 1 and not _keeps(words[-1]):
        words.pop()
    return " ".join(words).rstrip(" -.,:;")


def render_sms(replies: Sequence[Reply], locale: str) -> SmsReply:
    """One turn's replies as one GSM-7 SMS, buttons numbered across the replies in order."""
    buttons = tuple(numbered_buttons(replies))
    texts = [[line for line in to_gsm7(reply.text).split("\n") if line] for reply in replies]
    labels = [to_gsm7(button.label) for button in buttons]

    def fits() -> bool:
        return segments(_compose(texts, labels, locale)) <= TARGET_SEGMENTS

    # Step 2: lines go from the end, but not a reply's first line nor one with a digit.
    for lines in reversed(texts):
        for index in range(len(lines) - 1, 0, -1):
            if not fits() and not _keeps(lines[index]):
                del lines[index]
    # Step 3: long labels lose their last words.
    if not fits():
        labels = [_short_label(label) for label in labels]
    return SmsReply(_compose(texts, labels, locale), buttons)
