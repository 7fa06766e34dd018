"""Gettext catalogs from `locales/`, loaded once per locale, and a month's name in a language.

The .po files are compiled in memory with Babel, so a fresh checkout needs no build step.
"""

from __future__ import annotations

import gettext
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "kortkontor"
DEFAULT_LOCALE = "sv"
SUPPORTED_LOCALES = ("sv", "en")


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog for a locale; English is the msgid language and needs none."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translate(message: str, locale: str = DEFAULT_LOCALE) -> str:
    """Translate one message id."""
    return translations(locale).gettext(message)


def translate_plural(singular: str, plural: str, n: int, locale: str = DEFAULT_LOCALE) -> str:
    """Translate a message whose form depends on a count."""
    return translations(locale).ngettext(singular, plural, n)


def format_month(month: str, locale: str = DEFAULT_LOCALE) -> str:
    """«december 2026» for "2026-12"."""
    year, number = (int(part) for part in month.split("-"))
    return format_date(date(year, number, 1), "LLLL y", locale=locale)
