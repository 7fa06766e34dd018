"""Normalising what people type: personnummer, phone, e-mail, times. Shared by CSV, TOML and API."""

from __future__ import annotations

import re
from datetime import date, time

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from personnummer import personnummer as pnr

from models.errors import InvalidInput
from models.i18n import N_

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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
    """A non-empty trimmed text of sensible length."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(field, N_("is missing"))
    if len(value) > max_length:
        raise InvalidInput(field, N_("is longer than {limit} characters"), limit=max_length)
    return value
