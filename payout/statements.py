"""Monthly statements from payout lines: pure functions, no I/O.

A line is paid in the Stockholm month it occurred in (a line at 23:30 UTC on 31 January is in
February), unless it came too late for that month's locked statement and was carried into a
later one (`paid_in`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models.errors import InvalidInput
from models.i18n import N_
from models.payouts import PayoutKind
from models.zone import STOCKHOLM

# Years 1000–2999: a month whose bounds Python's dates can hold (not 0000, nor 9999-12).
MONTH_PATTERN = r"^[12]\d{3}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


def parse_month(text: str) -> str:
    """A month as `YYYY-MM`; anything else is refused naming the field `month`."""
    if not _MONTH.fullmatch(text.strip()):
        raise InvalidInput(
            "month",
            N_("«{value}» is not a month: write it as YYYY-MM, for example 2026-11."),
            value=text,
        )
    return text.strip()


def month_of(moment: datetime) -> str:
    """The Stockholm month (`YYYY-MM`) of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The month as a half-open UTC interval [start, end), midnight to midnight in Stockholm."""
    year, number = (int(part) for part in parse_month(month).split("-"))
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    start = datetime(year, number, 1, tzinfo=STOCKHOLM)
    end = datetime(*following, 1, tzinfo=STOCKHOLM)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Line:
    """One payout line as a statement shows it."""

    id: int
    admin_id: int
    kind: PayoutKind
    amount_ore: int
    occurred_at: datetime
    order_ref: str | None = None
    note: str | None = None
    # The month of a later statement that took the line, its own month being locked already.
    paid_in: str | None = None
    # For a handout: whether the last four digits printed on the card were checked against the
    # order (an order without the card's number cannot be); None for other lines.
    card_number_checked: bool | None = None

    @property
    def month(self) -> str:
        """The month whose statement pays the line."""
        return self.paid_in or month_of(self.occurred_at)


@dataclass(frozen=True, slots=True)
class Statement:
    """What one admin is paid for one month: lines by date, totals per kind, grand total."""

    admin_id: int
    month: str
    lines: tuple[Line, ...]
    totals: Mapping[PayoutKind, int] = field(default_factory=dict)
    counts: Mapping[PayoutKind, int] = field(default_factory=dict)

    @property
    def total_ore(self) -> int:
        """The grand total, in öre; negative when adjustments outweigh the rest."""
        return sum(self.totals.values())


def statement(admin_id: int, month: str, lines: Iterable[Line]) -> Statement:
    """One admin's statement for a month from that statement's lines."""
    ordered = tuple(sorted(lines, key=lambda line: (line.occurred_at, line.id)))
    totals = {kind: 0 for kind in PayoutKind}
    counts = {kind: 0 for kind in PayoutKind}
    for line in ordered:
        totals[line.kind] += line.amount_ore
        counts[line.kind] += 1
    return Statement(admin_id, month, ordered, totals, counts)


def statements(lines: Iterable[Line]) -> list[Statement]:
    """Per-admin monthly statements, ordered by month, then admin."""
    grouped: defaultdict[tuple[str, int], list[Line]] = defaultdict(list)
    for line in lines:
        grouped[(line.month, line.admin_id)].append(line)
    return [
        statement(admin_id, month, grouped[(month, admin_id)])
        for month, admin_id in sorted(grouped)
    ]
