"""Statements from lines: Stockholm months across DST, totals per kind, adjustments, money."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.errors import InvalidInput
from models.payouts import PayoutKind
from payout.money import kronor, sek
from payout.statements import Line, month_bounds, month_of, parse_month, statements

H, X, A = PayoutKind.handout, PayoutKind.extra_meeting, PayoutKind.adjustment


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        (utc(2027, 1, 31, 22, 59), "2027-01"),  # 23:59 CET
        (utc(2027, 1, 31, 23, 30), "2027-02"),  # 00:30 on 1 February in Stockholm
        (utc(2026, 3, 31, 21, 59), "2026-03"),  # 23:59 CEST, two days after the spring change
        (utc(2026, 3, 31, 22, 0), "2026-04"),
        (utc(2026, 10, 31, 22, 59), "2026-10"),  # 23:59 CET, a week after the autumn change
        (utc(2026, 10, 31, 23, 0), "2026-11"),
        (utc(2026, 12, 31, 23, 0), "2027-01"),  # the year turns in Stockholm first
    ],
)
def test_a_line_belongs_to_its_stockholm_month(moment: datetime, month: str) -> None:
    assert month_of(moment) == month


def test_month_bounds_are_stockholm_midnights_in_utc() -> None:
    assert month_bounds("2026-03") == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))  # CET → CEST
    assert month_bounds("2026-10") == (utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))  # CEST → CET
    assert month_bounds("2026-12") == (utc(2026, 11, 30, 23), utc(2026, 12, 31, 23))


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "2026-1", "", "nov"])
def test_a_malformed_month_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_month(text)
    assert raised.value.field == "month"
    assert "ÅÅÅÅ-MM" in raised.value.translated("sv")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        month_of(datetime(2026, 11, 1, 12))


def test_statements_per_admin_and_month_with_totals() -> None:
    lines = [
        Line(1, 7, H, 50_000, utc(2026, 11, 10, 15), "SE-1"),
        Line(2, 7, X, 25_000, utc(2026, 11, 3, 15), "SE-2"),
        Line(3, 7, H, 50_000, utc(2026, 11, 3, 15), "SE-2"),
        Line(4, 7, A, -25_000, utc(2026, 11, 20, 9), note="Betalt två gånger"),
        Line(5, 8, H, 50_000, utc(2026, 11, 30, 23, 30), "SE-3"),  # December in Stockholm
        Line(6, 8, H, 50_000, utc(2026, 11, 30, 22, 30), "SE-4"),  # still November
    ]
    made = statements(reversed(lines))
    assert [(s.month, s.admin_id) for s in made] == [
        ("2026-11", 7),
        ("2026-11", 8),
        ("2026-12", 8),
    ]
    anna = made[0]
    assert [line.id for line in anna.lines] == [2, 3, 1, 4]  # by time, then id
    assert anna.totals == {H: 100_000, X: 25_000, A: -25_000}
    assert anna.counts == {H: 2, X: 1, A: 1}
    assert anna.total_ore == 100_000
    assert [line.id for line in made[1].lines] == [6]
    assert made[2].total_ore == 50_000


def test_adjustments_may_take_a_statement_below_zero() -> None:
    made = statements([Line(1, 7, A, -75_000, utc(2026, 11, 2, 9), note="Återbetalning")])
    assert made[0].total_ore == -75_000
    assert made[0].totals == {H: 0, X: 0, A: -75_000}


def test_a_carried_line_is_paid_in_the_month_it_was_carried_into() -> None:
    late = Line(1, 7, H, 50_000, utc(2026, 11, 30, 22, 59), "SE-1", paid_in="2026-12")
    made = statements([late, Line(2, 7, H, 50_000, utc(2026, 12, 2, 15), "SE-2")])
    assert [(s.month, len(s.lines), s.total_ore) for s in made] == [("2026-12", 2, 100_000)]


def test_no_lines_no_statements() -> None:
    assert statements([]) == []


@pytest.mark.parametrize(
    ("ore", "machine", "person"),
    [
        (50_000, "500.00", "500,00\xa0kr"),
        (-25_000, "-250.00", "-250,00\xa0kr"),
        (125_050, "1250.50", "1\xa0250,50\xa0kr"),
        (5, "0.05", "0,05\xa0kr"),
        (-5, "-0.05", "-0,05\xa0kr"),
        (0, "0.00", "0,00\xa0kr"),
    ],
)
def test_money_for_payroll_and_for_people(ore: int, machine: str, person: str) -> None:
    assert sek(ore) == machine
    assert kronor(ore) == person
