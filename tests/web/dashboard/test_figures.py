"""The dashboard's pure figures: ages, buckets, weeks, status counts, statements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from models.cards import CardStatus
from models.payouts import PayoutKind
from payout.statements import Line, statement
from web.dashboard.figures import (
    AGE_BUCKETS,
    age_buckets,
    age_in_days,
    first_week_shown,
    previous_month,
    status_counts,
    summarize,
    today_or_coming,
    week_counts,
)

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "days"),
    [
        (NOW, 0),
        (NOW - timedelta(hours=23, minutes=59), 0),
        (NOW - timedelta(days=1), 1),
        (NOW - timedelta(days=30, hours=1), 30),
        (NOW + timedelta(hours=1), 0),  # a clock a little ahead is not a negative age
    ],
)
def test_age_in_whole_days(since: datetime, days: int) -> None:
    assert age_in_days(since, NOW) == days


def test_age_bucket_labels() -> None:
    assert [bucket.label for bucket in AGE_BUCKETS] == ["0–7", "8–14", "15–30", ">30"]


def test_ages_fall_in_their_buckets() -> None:
    buckets = age_buckets([0, 7, 8, 14, 15, 30, 31, 400])
    assert [(b.label, b.count) for b in buckets] == [
        ("0–7", 2),
        ("8–14", 2),
        ("15–30", 2),
        (">30", 2),
    ]


def test_no_ages_give_empty_buckets() -> None:
    assert [b.count for b in age_buckets([])] == [0, 0, 0, 0]


def test_status_counts_in_life_order_with_zeros() -> None:
    found = {
        "handed_out": (3, NOW - timedelta(days=40)),
        "ordered": (2, NOW - timedelta(days=2, hours=3)),
    }
    rows = status_counts(found, now=NOW)
    assert [row.status for row in rows] == list(CardStatus)
    assert [(row.count, row.oldest_days) for row in rows] == [
        (2, 2),
        (0, None),
        (0, None),
        (0, None),
        (0, None),
        (0, None),  # in transfer
        (3, 40),
        (0, None),
        (0, None),
    ]


def test_the_first_week_shown_is_a_monday_eleven_weeks_back() -> None:
    assert first_week_shown(date(2027, 1, 12)) == date(2026, 10, 26)
    assert first_week_shown(date(2027, 1, 11), weeks=1) == date(2027, 1, 11)


def test_week_counts_by_iso_week_in_stockholm() -> None:
    moments = [
        # Sunday 3 January 2027 23:30 UTC is Monday 4 January in Stockholm: week 1.
        datetime(2027, 1, 3, 23, 30, tzinfo=UTC),
        datetime(2027, 1, 3, 12, 0, tzinfo=UTC),  # week 53 of 2026
        datetime(2027, 1, 12, 8, 0, tzinfo=UTC),  # this week
        datetime(2027, 1, 13, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 12, 0, tzinfo=UTC),  # before the first week shown
    ]
    weeks = week_counts(moments, today=date(2027, 1, 12))
    assert len(weeks) == 12
    assert [(w.year, w.week) for w in weeks][:2] == [(2026, 44), (2026, 45)]
    assert [(w.year, w.week, w.count) for w in weeks][-3:] == [
        (2026, 53, 1),
        (2027, 1, 1),
        (2027, 2, 2),
    ]
    assert sum(w.count for w in weeks) == 4


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        (datetime(2027, 1, 12, 15, 0, tzinfo=UTC), "today"),
        (datetime(2027, 1, 11, 23, 0, tzinfo=UTC), "today"),  # 00:00 in Stockholm
        (datetime(2027, 1, 13, 7, 0, tzinfo=UTC), "coming"),
        (datetime(2027, 1, 19, 22, 0, tzinfo=UTC), "coming"),  # 23:00 on the 7th day
        (datetime(2027, 1, 19, 23, 0, tzinfo=UTC), None),  # 00:00 on the 8th day
        (datetime(2027, 1, 11, 12, 0, tzinfo=UTC), None),
    ],
)
def test_today_or_coming(starts_at: datetime, expected: str | None) -> None:
    assert today_or_coming(starts_at, today=date(2027, 1, 12)) == expected


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2027, 1, 12), "2026-12"),
        (date(2026, 3, 31), "2026-02"),
        (date(2026, 12, 1), "2026-11"),
    ],
)
def test_previous_month(today: date, month: str) -> None:
    assert previous_month(today) == month


def test_a_statement_summarized() -> None:
    lines = [
        Line(1, 7, PayoutKind.handout, 50_000, NOW),
        Line(2, 7, PayoutKind.handout, 50_000, NOW),
        Line(3, 7, PayoutKind.extra_meeting, 25_000, NOW),
        Line(4, 7, PayoutKind.adjustment, -10_000, NOW, note="fel"),
    ]
    summary = summarize(statement(7, "2027-01", lines))
    assert (summary.handouts, summary.extra_meetings) == (2, 1)
    assert (summary.adjustments_ore, summary.total_ore) == (-10_000, 115_000)
