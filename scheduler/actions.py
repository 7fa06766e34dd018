"""What a chat button asks for, as small typed records with their callback data.

The bot builds its buttons from these, and so do the notifications the scheduler sends (a
booking request's «Bekräfta», a proposal's «Boka …»). The wire strings are the ones buttons in
messages already sent carry, so they must not change:

| record | data |
|---|---|
| `Command(Name.book)` | `cmd:book` |
| `QuickWish(WishKey.afternoon)` | `cmd:wish:afternoon` |
| `SetLanguage("en")` | `cmd:lang:en` |
| `AddWindowOn(1)` | `cmd:tider:add:1` |
| `BookProposal(7)` | `p:7` |
| `AnswerRequest(Verb.confirm, 7)` | `m:confirm:7` |
| `AnswerMessage(5)` | `r:5` (an administrator's «Svara» under a card user's message) |
| `Offer("Ab3_-x9Q")` | `o:Ab3_-x9Q` (a random token for an object kept in that chat's state) |

`decode` reads any string a button may carry, and anything else (forged, truncated, from an
older version) as None, never an exception. Telegram caps callback data at 64 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from models.i18n import SUPPORTED_LOCALES

# Telegram's limit on a button's callback_data, in bytes.
MAX_DATA_BYTES = 64
# Ids are the database's integers (PostgreSQL's INTEGER): a larger one is forged.
MAX_ID = 2**31 - 1
COMMAND_PREFIX = "cmd:"
PROPOSAL_PREFIX = "p:"
REQUEST_PREFIX = "m:"
MESSAGE_PREFIX = "r:"
OFFER_PREFIX = "o:"
WISH_PREFIX = "wish:"
LANGUAGE_PREFIX = "lang:"
ADD_WINDOW_PREFIX = "tider:add:"
_ID = re.compile(r"[1-9][0-9]{0,9}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")


class Name(StrEnum):
    """A stateless command: the same for everyone who has the button."""

    # everyone
    menu = "menu"
    help = "help"
    language = "language"
    # card users
    status = "status"
    book = "book"
    move = "move"
    cancel = "cancel"
    again = "again"  # «Andra tider» at the booking summary
    write = "write"  # write to the meeting's administrator
    write_no = "write:no"  # «Nej» to «Skicka till Anna: …?»
    # administrators
    today = "today"
    upcoming = "upcoming"
    cards = "cards"
    pickup = "pickup"
    notice = "notice"
    calendar = "calendar"  # a new calendar feed link (the earlier one ends)
    # administrators' /tider
    tider = "tider"
    tider_add = "tider:add"
    tider_remove = "tider:remove"
    tider_venues = "tider:venues"
    tider_venue_new = "tider:venue:new"
    tider_absence = "tider:absence"
    tider_notice = "tider:notice"


class WishKey(StrEnum):
    """A quick wish button while a card user chooses a time."""

    asap = "asap"
    morning = "morning"
    afternoon = "afternoon"
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"


class Verb(StrEnum):
    """An administrator's answer to a booking request."""

    confirm = "confirm"
    propose = "propose"
    decline = "decline"


def _check_id(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ValueError(f"not an id: {value!r}")


@dataclass(frozen=True, slots=True)
class Command:
    """A menu command (`cmd:book`)."""

    name: Name

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", Name(self.name))

    def encode(self) -> str:
        return COMMAND_PREFIX + self.name.value


@dataclass(frozen=True, slots=True)
class QuickWish:
    """A quick time wish while choosing (`cmd:wish:afternoon`)."""

    key: WishKey

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", WishKey(self.key))

    def encode(self) -> str:
        return COMMAND_PREFIX + WISH_PREFIX + self.key.value


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """Switch the chat's language (`cmd:lang:en`)."""

    code: str

    def __post_init__(self) -> None:
        if self.code not in SUPPORTED_LOCALES:
            raise ValueError(f"not a supported language: {self.code!r}")

    def encode(self) -> str:
        return COMMAND_PREFIX + LANGUAGE_PREFIX + self.code


@dataclass(frozen=True, slots=True)
class AddWindowOn:
    """/tider: add a weekly time on this weekday, 0 Monday to 6 Sunday (`cmd:tider:add:1`)."""

    weekday: int

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or self.weekday not in range(7):
            raise ValueError(f"not a weekday: {self.weekday!r}")

    def encode(self) -> str:
        return COMMAND_PREFIX + ADD_WINDOW_PREFIX + str(self.weekday)


@dataclass(frozen=True, slots=True)
class BookProposal:
    """A card user books the time an administrator proposed instead (`p:7`)."""

    meeting_id: int

    def __post_init__(self) -> None:
        _check_id(self.meeting_id)

    def encode(self) -> str:
        return f"{PROPOSAL_PREFIX}{self.meeting_id}"


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """An administrator answers a booking request (`m:confirm:7`)."""

    verb: Verb
    meeting_id: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "verb", Verb(self.verb))
        _check_id(self.meeting_id)

    def encode(self) -> str:
        return f"{REQUEST_PREFIX}{self.verb.value}:{self.meeting_id}"


@dataclass(frozen=True, slots=True)
class AnswerMessage:
    """An administrator answers a card user's relayed message (`r:5`)."""

    message_id: int

    def __post_init__(self) -> None:
        _check_id(self.message_id)

    def encode(self) -> str:
        return f"{MESSAGE_PREFIX}{self.message_id}"


@dataclass(frozen=True, slots=True)
class Offer:
    """A concrete object offered in one chat, found by its token in the chat's state (`o:…`)."""

    token: str

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.token):
            raise ValueError(f"not an offer token: {self.token!r}")

    def encode(self) -> str:
        return OFFER_PREFIX + self.token


Action = (
    Command
    | QuickWish
    | SetLanguage
    | AddWindowOn
    | BookProposal
    | AnswerRequest
    | AnswerMessage
    | Offer
)


def _decode_command(name: str) -> Action | None:
    if name.startswith(WISH_PREFIX):
        key = name[len(WISH_PREFIX) :]
        return QuickWish(WishKey(key)) if key in WishKey._value2member_map_ else None
    if name.startswith(LANGUAGE_PREFIX):
        code = name[len(LANGUAGE_PREFIX) :]
        return SetLanguage(code) if code in SUPPORTED_LOCALES else None
    if name.startswith(ADD_WINDOW_PREFIX):
        day = name[len(ADD_WINDOW_PREFIX) :]
        return AddWindowOn(int(day)) if len(day) == 1 and day in "0123456" else None
    return Command(Name(name)) if name in Name._value2member_map_ else None


def _decode_request(rest: str) -> Action | None:
    verb, _, meeting_id = rest.partition(":")
    if verb not in Verb._value2member_map_ or not _ID.fullmatch(meeting_id):
        return None
    if int(meeting_id) > MAX_ID:
        return None
    return AnswerRequest(Verb(verb), int(meeting_id))


def _id_after(data: str, prefix: str) -> int | None:
    """The id that follows `prefix`, or None when it is not one of ours."""
    raw = data[len(prefix) :]
    return int(raw) if _ID.fullmatch(raw) and int(raw) <= MAX_ID else None


def decode(data: str) -> Action | None:
    """The action a button's data stands for; None for anything no button of ours carries."""
    if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_DATA_BYTES:
        return None
    if data.startswith(COMMAND_PREFIX):
        return _decode_command(data[len(COMMAND_PREFIX) :])
    if data.startswith(OFFER_PREFIX):
        token = data[len(OFFER_PREFIX) :]
        return Offer(token) if _TOKEN.fullmatch(token) else None
    if data.startswith(PROPOSAL_PREFIX):
        meeting_id = _id_after(data, PROPOSAL_PREFIX)
        return BookProposal(meeting_id) if meeting_id is not None else None
    if data.startswith(MESSAGE_PREFIX):
        message_id = _id_after(data, MESSAGE_PREFIX)
        return AnswerMessage(message_id) if message_id is not None else None
    if data.startswith(REQUEST_PREFIX):
        return _decode_request(data[len(REQUEST_PREFIX) :])
    return None
