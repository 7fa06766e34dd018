"""Amounts in öre, written for payroll files and for people."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

BABEL_LOCALES = {"sv": "sv_SE", "en": "en_SE"}


def sek(ore: int) -> str:
    """Kronor with two decimals and a point, for machines: 50000 → `500.00`, -25000 → `-250.00`."""
    sign = "-" if ore < 0 else ""
    kronor, rest = divmod(abs(ore), 100)
    return f"{sign}{kronor}.{rest:02d}"


def kronor(ore: int, locale: str = "sv") -> str:
    """Kronor for people, as Babel writes them: 50000 → «500,00 kr» in Swedish."""
    amount = Decimal(ore) / 100
    return format_currency(amount, "SEK", locale=BABEL_LOCALES.get(locale, locale))
