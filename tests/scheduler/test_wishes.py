"""TimeWish matching against local slot start times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduler.wishes import (
    END_OF_DAY,
    LOCAL_TZ,
    NOT_UNDERSTOOD,
    TimeWish,
    WishPart,
    constrained_parts,
    matches,
    relax,
)

TUESDAY = date(2026, 12, 1)
AFTERNOON = ((time(12), time(17)),)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("wish", "start", "expected"),
    [
        (TimeWish(), at(TUESDAY, 3), True),
        (NOT_UNDERSTOOD, at(TUESDAY, 3), True),  # no constraint; the bot asks again
        (TimeWish(weekdays=frozenset({1})), at(TUESDAY, 10), True),
        (TimeWish(weekdays=frozenset({2, 3})), at(TUESDAY, 10), False),
        (TimeWish(date_ranges=((TUESDAY, TUESDAY),)), at(TUESDAY, 23, 45), True),
        (TimeWish(date_ranges=((date(2026, 11, 30), TUESDAY),)), at(TUESDAY, 8), True),
        (TimeWish(date_ranges=((date(2026, 12, 2), date.max),)), at(TUESDAY, 8), False),
        # time ranges include the start and exclude the end
        (TimeWish(time_ranges=AFTERNOON), at(TUESDAY, 12), True),
        (TimeWish(time_ranges=AFTERNOON), at(TUESDAY, 16, 45), True),
        (TimeWish(time_ranges=AFTERNOON), at(TUESDAY, 17), False),
        (TimeWish(time_ranges=((time(16), END_OF_DAY),)), at(TUESDAY, 23, 45), True),
        # alternatives within a field
        (TimeWish(time_ranges=((time(8), time(12)), (time(17), time(21)))), at(TUESDAY, 18), True),
        (
            TimeWish(date_ranges=((date(2026, 12, 3),) * 2, (TUESDAY, TUESDAY))),
            at(TUESDAY, 9),
            True,
        ),
        # fields combine with and
        (TimeWish(weekdays=frozenset({1}), time_ranges=AFTERNOON), at(TUESDAY, 10), False),
        (TimeWish(weekdays=frozenset({1}), time_ranges=AFTERNOON), at(TUESDAY, 13), True),
        # exclusions win
        (TimeWish(excluded_weekdays=frozenset({1})), at(TUESDAY, 13), False),
        (
            TimeWish(weekdays=frozenset({1}), excluded_weekdays=frozenset({1})),
            at(TUESDAY, 13),
            False,
        ),
        (TimeWish(excluded_date_ranges=((TUESDAY, TUESDAY),)), at(TUESDAY, 13), False),
        (TimeWish(excluded_date_ranges=((TUESDAY, TUESDAY),)), at(date(2026, 12, 2), 13), True),
        (TimeWish(excluded_time_ranges=AFTERNOON), at(TUESDAY, 13), False),
        (TimeWish(excluded_time_ranges=AFTERNOON), at(TUESDAY, 17), True),
    ],
)
def test_matches(wish: TimeWish, start: datetime, expected: bool) -> None:
    assert matches(wish, start) is expected


def test_aware_utc_is_read_in_stockholm_time() -> None:
    after_16 = TimeWish(time_ranges=((time(16), END_OF_DAY),))
    # winter: UTC+1
    assert matches(after_16, datetime(2026, 12, 1, 15, 30, tzinfo=UTC))
    assert not matches(after_16, datetime(2026, 12, 1, 14, 30, tzinfo=UTC))
    # summer: UTC+2
    assert matches(after_16, datetime(2026, 7, 1, 14, 30, tzinfo=UTC))
    # the local day decides the weekday: 23:30 UTC Monday is Tuesday in Stockholm
    assert matches(TimeWish(weekdays=frozenset({1})), datetime(2026, 11, 30, 23, 30, tzinfo=UTC))


def test_naive_is_taken_as_local() -> None:
    assert matches(TimeWish(time_ranges=AFTERNOON), datetime(2026, 12, 1, 12, 0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"date_ranges": ((date(2026, 12, 2), TUESDAY),)},
        {"excluded_date_ranges": ((date(2026, 12, 2), TUESDAY),)},
        {"time_ranges": ((time(12), time(12)),)},
        {"excluded_time_ranges": ((time(13), time(12)),)},
        {"weekdays": frozenset({7})},
        {"excluded_weekdays": frozenset({-1})},
    ],
)
def test_malformed_wish_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TimeWish(**kwargs)  # type: ignore[arg-type]


def test_constrained_parts_and_relax() -> None:
    wish = TimeWish(
        weekdays=frozenset({1}), time_ranges=AFTERNOON, excluded_weekdays=frozenset({4})
    )
    assert constrained_parts(wish) == (
        WishPart.WEEKDAYS,
        WishPart.TIME_RANGES,
        WishPart.EXCLUDED_WEEKDAYS,
    )
    assert relax(wish, WishPart.TIME_RANGES) == TimeWish(
        weekdays=frozenset({1}), excluded_weekdays=frozenset({4})
    )
    assert constrained_parts(TimeWish(asap=True)) == ()
