"""Gaps in an office's bookable days that absences cause."""

from __future__ import annotations

from datetime import date

from scheduler.coverage import Gap, coverage_gaps
from scheduler.slots import AbsenceSpan

TUE_THU = [(1, 1), (1, 3)]  # admin 1 on Tuesdays and Thursdays
TODAY = date(2027, 1, 12)  # a Tuesday


def test_no_absence_no_gap() -> None:
    assert coverage_gaps(TUE_THU, [], today=TODAY) == []


def test_a_gap_runs_from_the_last_bookable_day_to_the_next() -> None:
    """Away Monday 1 to Sunday 14 February: nothing from Friday 29 January to Monday 15."""
    away = [AbsenceSpan(1, date(2027, 2, 1), date(2027, 2, 14))]
    assert coverage_gaps(TUE_THU, away, today=TODAY) == [Gap(date(2027, 1, 29), date(2027, 2, 15))]


def test_fourteen_days_without_time_are_not_flagged_fifteen_are() -> None:
    every_day = [(1, weekday) for weekday in range(7)]
    fourteen = [AbsenceSpan(1, date(2027, 2, 1), date(2027, 2, 14))]
    assert coverage_gaps(every_day, fourteen, today=TODAY) == []
    fifteen = [AbsenceSpan(1, date(2027, 2, 1), date(2027, 2, 15))]
    assert coverage_gaps(every_day, fifteen, today=TODAY) == [
        Gap(date(2027, 2, 1), date(2027, 2, 15))
    ]


def test_holidays_lengthen_a_gap() -> None:
    """Away 14 days, Friday 10 to Thursday 23 December, from a Monday–Friday week: Christmas
    Eve (a Friday) is closed too, so nothing can be booked before Monday 27."""
    weekdays = [(1, weekday) for weekday in range(5)]
    away = [AbsenceSpan(1, date(2027, 12, 10), date(2027, 12, 23))]
    (gap,) = coverage_gaps(weekdays, away, today=TODAY)
    assert (gap.first_day, gap.last_day) == (date(2027, 12, 10), date(2027, 12, 26))


def test_a_colleague_at_work_closes_the_gap() -> None:
    away = [AbsenceSpan(1, date(2027, 2, 1), date(2027, 3, 31))]
    colleague = [*TUE_THU, (2, 0)]
    assert coverage_gaps(colleague, away, today=TODAY) == []


def test_an_absence_of_someone_not_offered_flags_nothing() -> None:
    """An office with nobody offered has no time for another reason than the absence."""
    away = [AbsenceSpan(9, date(2027, 2, 1), date(2027, 3, 31))]
    assert coverage_gaps([], away, today=TODAY) == []


def test_a_year_away_is_flagged_to_its_end() -> None:
    away = [AbsenceSpan(1, date(2027, 1, 13), date(2028, 1, 12))]
    (gap,) = coverage_gaps(TUE_THU, away, today=TODAY)
    assert gap.first_day == date(2027, 1, 13) and gap.last_day == date(2028, 1, 12)
    assert gap.days == 365
