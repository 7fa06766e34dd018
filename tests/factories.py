"""Test data builders: small functions that make valid rows and files.

The row builders return unsaved rows with sensible defaults; any field can be given instead
(a misspelt one is refused). Parents are passed as rows or ids. Each call that needs a unique
value (order ref, personnummer, idempotency key) gets a fresh one unless it is given.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardUser
from models.crypto import PersonnummerVault
from models.meetings import Meeting
from models.network import (
    ONBOARDING_ITEMS,
    Absence,
    Admin,
    AvailabilityWindow,
    Office,
    Payee,
    Venue,
    VenueKind,
)
from models.outbox import Channel, Notification
from models.validation import normalize_personnummer

# Valid (checksummed) fictitious numbers; 12-digit, 10-digit and samordningsnummer forms.
PERSONNUMMER = {
    "maria": ("850312-1231", "198503121231"),
    "ahmed": ("920505-2344", "199205052344"),
    "lena": ("780914-3451", "197809143451"),
    "oskar": ("20011120-4566", "200111204566"),
    "samordning": ("701063-2391", "197010632391"),
}
ALL_TEST_PERSONNUMMER = tuple(
    form for raw, long in PERSONNUMMER.values() for form in {raw, long, raw.replace("-", "")}
)

CSV_HEADER = "order_ref,office_code,given_name,family_name,personnummer,phone,email"

# The day every default administrator finished onboarding: long before any test's clock.
ONBOARDED_ON = date(2020, 1, 15)
ONBOARDED = {item: ONBOARDED_ON for item in ONBOARDING_ITEMS}
NOT_ONBOARDED: dict[str, Any] = {item: None for item in ONBOARDING_ITEMS}


def windows_toml(days: tuple[str, ...], start: str, end: str, venue: str = "cafe") -> str:
    """A TOML list of weekly windows, the same hours on each of `days` ("mon", "tue" …)."""
    hours = f'start = "{start}", end = "{end}", venue = "{venue}"'
    return "[ " + ", ".join(f'{{ weekday = "{day}", {hours} }}' for day in days) + " ]"


def eligibility_toml(
    town: str = "Uppsala",
    *,
    address: str = "Svartbäcksgatan 1, 753 20 Uppsala",
    birth_date: str = "1985-03-12",
    payee: str = 'payee = "frilansfinans"',
    onboarding: str | None = None,
) -> str:
    """An administrator's eligibility keys and, last (it opens a table), their onboarding
    checklist: every item dated long ago unless `onboarding` gives the table's lines."""
    if onboarding is None:
        onboarding = "\n".join(f"{item} = {ONBOARDED_ON.isoformat()}" for item in ONBOARDING_ITEMS)
    return f"""birth_date = "{birth_date}"
address = "{address}"
town = "{town}"
{payee}

[office.admin.onboarding]
{onboarding}
"""


def network_toml(
    *,
    code: str = "UPS1",
    email: str = "anna@example.se",
    windows: str = (
        '[ { weekday = "tue", start = "16:00", end = "19:00", venue = "cafe" },\n'
        '            { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
    ),
    absences: str = '[ { from = "2026-12-21", to = "2027-01-06" } ]',
    kind: str = "cafe",
    auto_confirm: bool = False,
    eligibility: str | None = None,
) -> str:
    """A one-office network file in DESIGN.md's format; its administrator is eligible and
    onboarded unless `eligibility` gives other lines (see eligibility_toml)."""
    admin_tail = eligibility_toml() if eligibility is None else eligibility
    return f"""[[office]]
code = "{code}"
name = "Uppsala centrum"
city = "Uppsala"
slot_minutes = 15

[[office.venue]]
key = "cafe"
name = "Café Linné"
address = "Svartbäcksgatan 22, 753 33 Uppsala"
kind = "{kind}"

[[office.admin]]
email = "{email}"
name = "Anna Andersson"
phone = "+46701234567"
windows = {windows}
absences = {absences}
home_delivery = false
auto_confirm = {str(auto_confirm).lower()}
{admin_tail}"""


def csv_row(
    order_ref: str = "SE-1",
    office_code: str = "UPS1",
    given_name: str = "Maria",
    family_name: str = "Ek",
    personnummer: str = PERSONNUMMER["maria"][0],
    phone: str = "0701112233",
    email: str = "maria.ek@example.se",
) -> str:
    """One order line matching CSV_HEADER."""
    return ",".join((order_ref, office_code, given_name, family_name, personnummer, phone, email))


def orders_csv(*rows: str, header: str = CSV_HEADER) -> str:
    """A whole orders file."""
    return "\n".join((header, *rows)) + "\n"


# --- rows ---------------------------------------------------------------------------------

Row = TypeVar("Row", bound=SQLModel)
_serial = itertools.count(1)  # order refs, e-mails and idempotency keys
_births = itertools.count()
# Every personnummer a card user was built with, in each form it may be written; the log guard
# in tests/conftest.py looks for these as well as ALL_TEST_PERSONNUMMER.
made_personnummer: list[str] = []


def _build(model: type[Row], defaults: dict[str, Any], overrides: dict[str, Any]) -> Row:
    unknown = overrides.keys() - model.model_fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    return model(**(defaults | overrides))


def _id(row: SQLModel | int) -> int:
    """The id of a parent given as a row (flushed already) or as its id."""
    if isinstance(row, int):
        return row
    found = getattr(row, "id", None)
    assert isinstance(found, int), f"add and flush the {type(row).__name__} first"
    return found


def _check_digit(nine: str) -> int:
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(nine))
    return (10 - total % 10) % 10


def fresh_personnummer() -> str:
    """A valid personnummer no other row in this run has (born 1960 or a few days after)."""
    n = next(_births)
    born = date(1960, 1, 1) + timedelta(days=n // 999)
    nine = f"{born:%y%m%d}{n % 999 + 1:03d}"  # the birth number runs 001 to 999
    return f"{nine[:6]}-{nine[6:]}{_check_digit(nine)}"  # the Luhn check digit


def office(**overrides: Any) -> Office:
    """The office network_toml() describes: UPS1, Uppsala centrum."""
    return _build(Office, {"code": "UPS1", "name": "Uppsala centrum", "city": "Uppsala"}, overrides)


def venue(office: Office | int, **overrides: Any) -> Venue:
    """The office's café, as in network_toml()."""
    defaults = {
        "office_id": _id(office),
        "key": "cafe",
        "name": "Café Linné",
        "address": "Svartbäcksgatan 22, 753 33 Uppsala",
        "kind": VenueKind.cafe,
    }
    return _build(Venue, defaults, overrides)


def admin(office: Office | int, **overrides: Any) -> Admin:
    """Anna, the office's admin, as in network_toml(): eligible and fully onboarded (active),
    unless checklist dates are given (NOT_ONBOARDED clears them all)."""
    defaults = {
        "office_id": _id(office),
        "email": "anna@example.se",
        "name": "Anna Andersson",
        "phone": "+46701234567",
        "birth_date": date(1985, 3, 12),
        "address": "Svartbäcksgatan 1, 753 20 Uppsala",
        "town": "Uppsala",
        "payee": Payee.frilansfinans,
        **ONBOARDED,
    }
    return _build(Admin, defaults, overrides)


def window(
    admin: Admin | int, venue: Venue | int, weekday: int, start: time, end: time
) -> AvailabilityWindow:
    """A weekly window (weekday 0 is Monday) at a venue."""
    return AvailabilityWindow(
        admin_id=_id(admin), weekday=weekday, start=start, end=end, venue_id=_id(venue)
    )


def absence(admin: Admin | int, first_day: date, last_day: date) -> Absence:
    """Days the admin is away, both included."""
    return Absence(admin_id=_id(admin), first_day=first_day, last_day=last_day)


def card_user(
    vault: PersonnummerVault, *, personnummer: str | None = None, **overrides: Any
) -> CardUser:
    """A card user whose personnummer (fresh unless given) is stored as production stores it:
    encrypted, and found by the vault's HMAC."""
    number = normalize_personnummer(personnummer or fresh_personnummer())
    made_personnummer.extend(
        (number, f"{number[:8]}-{number[8:]}", number[2:], f"{number[2:8]}-{number[8:]}")
    )
    n = next(_serial)
    defaults = {
        "given_name": "Kim",
        "family_name": "Test",
        "personnummer_encrypted": vault.encrypt(number),
        "personnummer_hmac": vault.lookup_key(number),
        "phone": "+46701112233",
        "email": f"kim{n}@example.se",
    }
    return _build(CardUser, defaults, overrides)


def card(user: CardUser | int, office: Office | int, **overrides: Any) -> Card:
    """The user's card at the office, `ordered` unless a status is given."""
    defaults = {
        "order_ref": f"SE-T{next(_serial)}",
        "card_user_id": _id(user),
        "office_id": _id(office),
    }
    return _build(Card, defaults, overrides)


def meeting(card: Card | int, admin: Admin | int, starts_at: datetime, **overrides: Any) -> Meeting:
    """A fifteen-minute meeting for the card with the admin, `requested` unless a status is
    given; at no venue unless venue_id (or home_address_encrypted) is given."""
    defaults = {
        "card_id": _id(card),
        "admin_id": _id(admin),
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=15),
    }
    return _build(Meeting, defaults, overrides)


def notification(due_at: datetime, **overrides: Any) -> Notification:
    """An outbox row: a pending nudge by SMS to +46701112233, due then."""
    defaults = {
        "channel": Channel.sms,
        "recipient": "+46701112233",
        "template": "nudge",
        "due_at": due_at,
        "idempotency_key": f"test:{next(_serial)}",
    }
    return _build(Notification, defaults, overrides)


async def add(session: AsyncSession, row: Row) -> Row:
    """Add the row and flush, so it has its id."""
    session.add(row)
    await session.flush()
    return row


async def add_card(
    session: AsyncSession,
    vault: PersonnummerVault,
    office: Office | int,
    *,
    user: CardUser | None = None,
    **overrides: Any,
) -> Card:
    """A card at the office for `user` (a new card user unless given), both added and flushed."""
    holder = await add(session, user or card_user(vault))
    return await add(session, card(holder, office, **overrides))
