"""What the dashboard computes, as pure functions: counts per status, ages, weeks, groupings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.cards import CardStatus
from models.payouts import PayoutKind
from models.zone import local_day
from payout.statements import Statement

WEEKS_SHOWN = 12
UPCOMING_DAYS = 7


@dataclass(frozen=True, slots=True)
class AgeBucket:
    """Cards whose age in days lies in [low, high]; high None means no upper end."""

    low: int
    high: int | None
    count: int = 0

    @property
    def label(self) -> str:
        """«0–7», «>30»."""
        return f"{self.low}–{self.high}" if self.high is not None else f">{self.low - 1}"

    def holds(self, days: int) -> bool:
        """Whether a card this many days old belongs here."""
        return self.low <= days and (self.high is None or days <= self.high)


# 0–7, 8–14, 15–30 and more than 30 days.
AGE_BUCKETS = (AgeBucket(0, 7), AgeBucket(8, 14), AgeBucket(15, 30), AgeBucket(31, None))


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many cards are in a status, and how long the longest-waiting one has been there."""

    status: CardStatus
    count: int
    oldest_days: int | None


@dataclass(frozen=True, slots=True)
class WeekCount:
    """How many of something fell in one ISO week (Stockholm time)."""

    year: int
    week: int
    monday: date
    count: int


@dataclass(frozen=True, slots=True)
class StatementSummary:
    """One admin's statement in a row: counts of handouts and extra meetings, sums in öre."""

    admin_id: int
    handouts: int
    extra_meetings: int
    adjustments_ore: int
    total_ore: int


def age_in_days(since: datetime, now: datetime) -> int:
    """Whole days from `since` to `now` (never negative)."""
    return max((now - since) // timedelta(days=1), 0)


def age_buckets(ages: Iterable[int]) -> list[AgeBucket]:
    """How many ages fall in each of AGE_BUCKETS."""
    counts: Counter[int] = Counter()
    for days in ages:
        for index, bucket in enumerate(AGE_BUCKETS):
            if bucket.holds(days):
                counts[index] += 1
                break
    return [
        AgeBucket(bucket.low, bucket.high, counts[index])
        for index, bucket in enumerate(AGE_BUCKETS)
    ]


def status_counts(
    found: Mapping[str, tuple[int, datetime | None]], *, now: datetime
) -> list[StatusCount]:
    """Every status in life order, with its count and oldest age; zero where none were found."""
    rows = []
    for status in CardStatus:
        count, oldest = found.get(status.value, (0, None))
        rows.append(
            StatusCount(status, count, age_in_days(oldest, now) if oldest and count else None)
        )
    return rows


def first_week_shown(today: date, weeks: int = WEEKS_SHOWN) -> date:
    """The Monday that starts the first of the last `weeks` ISO weeks, this one included."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=weeks - 1)


def week_counts(
    moments: Iterable[datetime], *, today: date, weeks: int = WEEKS_SHOWN
) -> list[WeekCount]:
    """Moments counted per ISO week over the last `weeks` weeks (Stockholm time), oldest first;
    moments outside those weeks are left out."""
    first = first_week_shown(today, weeks)
    counts: Counter[date] = Counter()
    for moment in moments:
        day = local_day(moment)
        counts[day - timedelta(days=day.weekday())] += 1
    shown = []
    for offset in range(weeks):
        monday = first + timedelta(weeks=offset)
        year, week, _ = monday.isocalendar()
        shown.append(WeekCount(year, week, monday, counts[monday]))
    return shown


def today_or_coming(starts_at: datetime, *, today: date, days: int = UPCOMING_DAYS) -> str | None:
    """«today», «coming» (within the next `days` days) or None for anything else."""
    day = local_day(starts_at)
    if day == today:
        return "today"
    if today < day <= today + timedelta(days=days):
        return "coming"
    return None


def summarize(statement: Statement) -> StatementSummary:
    """A statement's counts and sums for the payouts table."""
    return StatementSummary(
        admin_id=statement.admin_id,
        handouts=statement.counts.get(PayoutKind.handout, 0),
        extra_meetings=statement.counts.get(PayoutKind.extra_meeting, 0),
        adjustments_ore=statement.totals.get(PayoutKind.adjustment, 0),
        total_ore=statement.total_ore,
    )


def previous_month(today: date) -> str:
    """The month before `today`'s, as YYYY-MM: the one usually exported."""
    last_of_previous = today.replace(day=1) - timedelta(days=1)
    return f"{last_of_previous:%Y-%m}"
