"""A user's time wish as a language-neutral constraint on slot start times: pure, no I/O.

The bot turns free text into a TimeWish; the scheduler only ever sees this structure, so no
human language lives here. Semantics: inside one field the entries are alternatives (or); the
fields combine with and; the excluded_* fields remove what they name. An empty field means
"no constraint". Matching looks at the slot's start in local time (Europe/Stockholm).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import Enum

from models.zone import STOCKHOLM

# A time range [start, end): start included, end excluded. END_OF_DAY as end means "until
# midnight" (no slot starts at 23:59:59.999999, so the excluded instant never matters).
START_OF_DAY = time.min
END_OF_DAY = time.max

DateRange = tuple[date, date]  # local days, both ends included
TimeRange = tuple[time, time]  # local clock times, [start, end)


class WishPart(Enum):
    """A constrainable part of a TimeWish; the value is the TimeWish field's name."""

    DATE_RANGES = "date_ranges"
    WEEKDAYS = "weekdays"
    TIME_RANGES = "time_ranges"
    EXCLUDED_DATE_RANGES = "excluded_date_ranges"
    EXCLUDED_WEEKDAYS = "excluded_weekdays"
    EXCLUDED_TIME_RANGES = "excluded_time_ranges"


@dataclass(frozen=True, slots=True)
class TimeWish:
    """What the user asked for; TimeWish() accepts any time, understood=False means no reading."""

    date_ranges: tuple[DateRange, ...] = ()
    weekdays: frozenset[int] = frozenset()  # 0=Monday .. 6=Sunday
    time_ranges: tuple[TimeRange, ...] = ()
    excluded_date_ranges: tuple[DateRange, ...] = ()
    excluded_weekdays: frozenset[int] = frozenset()
    excluded_time_ranges: tuple[TimeRange, ...] = ()
    asap: bool = False
    understood: bool = True

    def __post_init__(self) -> None:
        """Reject malformed ranges early: a bad wish would silently match nothing."""
        for first, last in (*self.date_ranges, *self.excluded_date_ranges):
            if first > last:
                raise ValueError(f"date range ends before it starts: {first}..{last}")
        for start, end in (*self.time_ranges, *self.excluded_time_ranges):
            if start >= end:
                raise ValueError(f"empty time range: {start}..{end}")
        if not all(0 <= day <= 6 for day in self.weekdays | self.excluded_weekdays):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")


NOT_UNDERSTOOD = TimeWish(understood=False)


def to_local(moment: datetime) -> datetime:
    """An aware datetime in Europe/Stockholm; a naive one is taken to be local already."""
    return moment.astimezone(STOCKHOLM) if moment.tzinfo is not None else moment


def _in_dates(day: date, ranges: tuple[DateRange, ...]) -> bool:
    return any(first <= day <= last for first, last in ranges)


def _in_times(clock: time, ranges: tuple[TimeRange, ...]) -> bool:
    return any(start <= clock < end for start, end in ranges)


# One test per part, so that ranking can ask "would dropping this part give a match?". Each
# part looks either at the local day or at the local clock time, never both, so a caller
# with many slots can test each distinct day and each distinct clock time just once.
_DAY_TESTS: dict[WishPart, Callable[[TimeWish, date], bool]] = {
    WishPart.DATE_RANGES: lambda w, d: not w.date_ranges or _in_dates(d, w.date_ranges),
    WishPart.WEEKDAYS: lambda w, d: not w.weekdays or d.weekday() in w.weekdays,
    WishPart.EXCLUDED_DATE_RANGES: lambda w, d: not _in_dates(d, w.excluded_date_ranges),
    WishPart.EXCLUDED_WEEKDAYS: lambda w, d: d.weekday() not in w.excluded_weekdays,
}
_CLOCK_TESTS: dict[WishPart, Callable[[TimeWish, time], bool]] = {
    WishPart.TIME_RANGES: lambda w, t: not w.time_ranges or _in_times(t, w.time_ranges),
    WishPart.EXCLUDED_TIME_RANGES: lambda w, t: not _in_times(t, w.excluded_time_ranges),
}


def unmet_on_day(wish: TimeWish, day: date) -> tuple[WishPart, ...]:
    """The date and weekday parts of the wish that a slot starting on this local day fails."""
    return tuple(part for part, test in _DAY_TESTS.items() if not test(wish, day))


def unmet_at_clock(wish: TimeWish, clock: time) -> tuple[WishPart, ...]:
    """The time-range parts of the wish that a slot starting at this local time fails."""
    return tuple(part for part, test in _CLOCK_TESTS.items() if not test(wish, clock))


def matches(wish: TimeWish, slot_start_local: datetime) -> bool:
    """Whether a slot starting at this (local, or aware) moment satisfies the wish."""
    local = to_local(slot_start_local)
    return not unmet_on_day(wish, local.date()) and not unmet_at_clock(wish, local.time())


def constrained_parts(wish: TimeWish) -> tuple[WishPart, ...]:
    """The parts of the wish that actually constrain, in WishPart order."""
    return tuple(part for part in WishPart if getattr(wish, part.value))


def relax(wish: TimeWish, part: WishPart) -> TimeWish:
    """The same wish with one part dropped."""
    empty = type(getattr(wish, part.value))()
    return replace(wish, **{part.value: empty})
