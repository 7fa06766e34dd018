"""Normalising what people type: personnummer, phone, e-mail, times. Shared by CSV, TOML and API."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from personnummer import personnummer as pnr

from models.errors import InvalidInput
from models.i18n import N_

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

# Characters that make text read other than it shows: C0 and C1 controls and DEL; the
# bidirectional embeddings, overrides and isolates (U+202E turns «exe.txt» into «txt.exe»);
# zero-width spaces and joiners, the word joiner and the byte-order mark.
_CONTROLS = r"\x00-\x09\x0b-\x1f\x7f-\x9f"  # the newline, \x0a, is taken on its own
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_ZERO_WIDTH = r"\u200b-\u200d\u2060\ufeff"
_HIDDEN_IN_LINE = re.compile(f"[{_CONTROLS}\\n{_BIDI}{_ZERO_WIDTH}]")
# Multi-line text (a message) keeps its newlines, and the zero-width joiner inside an emoji:
# 👩‍⚕️ is 👩, a joiner, ⚕ and a variation selector.
_HIDDEN_IN_TEXT = re.compile(f"[{_CONTROLS}{_BIDI}{_ZERO_WIDTH}]")
_JOINER = "\u200d"
HIDDEN_CHARACTER = N_(
    "contains {character}, an invisible or control character that can make it read "
    "differently: remove it"
)


def _emoji_part(character: str) -> bool:
    """A pictograph, a skin tone or the emoji variation selector: what a joiner may join."""
    return character == "\ufe0f" or unicodedata.category(character) in ("So", "Sk")


def _joins_emoji(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and all(_emoji_part(text[i]) for i in (index - 1, index + 1))


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character that could make the text read other than it shows, as «U+202E»;
    None when there is none. Multi-line text may hold newlines and emoji joiners."""
    if not multiline:
        found = _HIDDEN_IN_LINE.search(value)
        return None if found is None else f"U+{ord(found.group()):04X}"
    text = value.replace("\r\n", "\n")
    for found in _HIDDEN_IN_TEXT.finditer(text):
        if found.group() != _JOINER or not _joins_emoji(text, found.start()):
            return f"U+{ord(found.group()):04X}"
    return None


def require_plain(value: str, *, field: str, multiline: bool = False) -> str:
    """The text as it is, if it holds no hidden or control character; else InvalidInput
    naming the field and the character."""
    character = hidden_character(value, multiline=multiline)
    if character is not None:
        raise InvalidInput(field, HIDDEN_CHARACTER, character=character)
    return value


def normalize_personnummer(raw: str, *, field: str = "personnummer") -> str:
    """10 or 12 digits with a valid checksum (samordningsnummer too), as 12 digits."""
    digits = re.sub(r"[\s]", "", raw)
    # ASCII digits only: \d would also take other scripts' digits, which nothing can check.
    if not re.fullmatch(r"([0-9]{6}|[0-9]{8})[-+]?[0-9]{4}", digits):
        raise InvalidInput(field, N_("must be 10 or 12 digits, e.g. 19811228-9874"))
    try:
        parsed = pnr.parse(digits)
    except pnr.PersonnummerException:
        raise InvalidInput(field, N_("is not a valid personnummer (check digit or date)")) from None
    return str(parsed.format(True))


def birth_date(personnummer: str) -> date:
    """The birth date in a 12-digit personnummer (a samordningsnummer's day is +60)."""
    day = int(personnummer[6:8])
    return date(int(personnummer[:4]), int(personnummer[4:6]), day - 60 if day > 60 else day)


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """A Swedish or international number in E.164."""
    try:
        number = phonenumbers.parse(raw, "SE")
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, N_("is not a phone number")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, N_("is not a valid phone number"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, *, field: str = "email") -> str:
    """An e-mail address by syntax (no DNS look-up)."""
    require_plain(raw.strip(), field=field)
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(field, N_("is not a valid e-mail address")) from None


def parse_clock(raw: str, *, field: str) -> time:
    """A wall-clock time written HH:MM."""
    match = _CLOCK.match(raw.strip())
    if not match:
        raise InvalidInput(field, N_("must be a time written HH:MM, e.g. 16:00"))
    return time(int(match.group(1)), int(match.group(2)))


def parse_day(raw: str, *, field: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(field, N_("must be a date written YYYY-MM-DD")) from None


def require_text(raw: str | None, *, field: str, max_length: int = 200) -> str:
    """A non-empty trimmed one-line text of sensible length, without hidden characters."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(field, N_("is missing"))
    if len(value) > max_length:
        raise InvalidInput(field, N_("is longer than {limit} characters"), limit=max_length)
    return require_plain(value, field=field)


CARD_NUMBER_DIGITS = (8, 20)


def normalize_card_number(raw: str, *, field: str = "card_number") -> str | None:
    """The number printed on a card, as its digits (spaces and hyphens between groups are
    dropped); 8 to 20 ASCII digits. Empty: None, the order carries no number."""
    value = raw.strip()
    if not value:
        return None
    digits = re.sub(r"[\s-]", "", value)
    shortest, longest = CARD_NUMBER_DIGITS
    if not re.fullmatch(f"[0-9]{{{shortest},{longest}}}", digits):
        raise InvalidInput(
            field,
            N_("must be the card's number, {shortest} to {longest} digits"),
            shortest=shortest,
            longest=longest,
        )
    return digits


# «Storgatan 12B, 753 20 Uppsala», «Kungsgatan 1 lgh 1102, 11143 Stockholm»: a street with a
# number (a letter, an entrance or a flat may follow), a five-digit postcode and a town.
_STREET = r"(?P<street>[^\W\d_][\w .'-]*?\s+\d+[\w .'/-]*?)"
_POSTCODE = r"(?P<postcode>[1-9]\d{2})\s?(?P<postcode_end>\d{2})"
_TOWN = r"(?P<town>[^\W\d_][^\W\d_ .'-]*(?:[ .'-]+[^\W\d_]+)*)"
_ADDRESS = re.compile(rf"{_STREET}\s*,?\s*{_POSTCODE}\s+{_TOWN}")
# Its ciphertext must fit meeting.home_address (300 characters): 140 bytes of UTF-8 do.
ADDRESS_MAX_BYTES = 140
NOT_AN_ADDRESS = N_(
    "must be a street address with postcode and town, e.g. «Storgatan 12, 753 20 Uppsala»"
)


def normalize_home_address(raw: str, *, field: str = "address") -> str:
    """A Swedish street address for home delivery, written as «Storgatan 12, 753 20 Uppsala»:
    street and number, a five-digit postcode and the town (on one line or several)."""
    value = " ".join(raw.replace(",", ", ").split()).strip(" ,")
    require_plain(value, field=field)
    short = len(value.encode()) <= ADDRESS_MAX_BYTES
    match = _ADDRESS.fullmatch(value) if short else None
    if match is None:
        raise InvalidInput(field, NOT_AN_ADDRESS)
    street = " ".join(match["street"].replace(",", " ").split())
    return f"{street}, {match['postcode']} {match['postcode_end']} {match['town']}"
