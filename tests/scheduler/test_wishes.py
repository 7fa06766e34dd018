"""TimeWish matching against local slot start times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.zone import STOCKHOLM
from scheduler.wishes import (
    END_OF_DAY,
    NOT_UNDERSTOOD,
    TimeWish,
    WishPart,
    constrained_parts,
    matches,
    relax,
    unmet_at_clock,
    unmet_on_day,
)

TUESDAY = date(2026, 12, 1)
AFTERNOON = ((time(12), time(17)),)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)


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


def test_unmet_parts_split_by_day_and_clock() -> None:
    wish = TimeWish(
        weekdays=frozenset({1}), time_ranges=AFTERNOON, excluded_date_ranges=((TUESDAY, TUESDAY),)
    )
    assert unmet_on_day(wish, TUESDAY) == (WishPart.EXCLUDED_DATE_RANGES,)
    assert unmet_on_day(wish, date(2026, 12, 2)) == (WishPart.WEEKDAYS,)
    assert unmet_on_day(wish, date(2026, 12, 8)) == ()
    assert unmet_at_clock(wish, time(9)) == (WishPart.TIME_RANGES,)
    assert unmet_at_clock(wish, time(13)) == ()


# ---------------------------------------------------------------- against a reference


def _reference_matches(wish: TimeWish, moment: datetime) -> bool:
    """The semantics in the module docstring, spelled out without any shortcut."""
    local = moment.astimezone(STOCKHOLM) if moment.tzinfo is not None else moment
    day, clock = local.date(), local.time()

    def in_dates(ranges: tuple[tuple[date, date], ...]) -> bool:
        return any(first <= day <= last for first, last in ranges)

    def in_times(ranges: tuple[tuple[time, time], ...]) -> bool:
        return any(start <= clock < end for start, end in ranges)

    return (
        (not wish.date_ranges or in_dates(wish.date_ranges))
        and (not wish.weekdays or day.weekday() in wish.weekdays)
        and (not wish.time_ranges or in_times(wish.time_ranges))
        and not in_dates(wish.excluded_date_ranges)
        and day.weekday() not in wish.excluded_weekdays
        and not in_times(wish.excluded_time_ranges)
    )


_FIRST_DAY = date(2026, 10, 20)  # the horizon below spans the autumn clock change
_days = st.dates(min_value=_FIRST_DAY, max_value=_FIRST_DAY + timedelta(days=40))
_clocks = st.times(max_value=time(23, 59)).map(lambda t: t.replace(second=0, microsecond=0))


@st.composite
def _date_ranges(draw: st.DrawFn) -> tuple[tuple[date, date], ...]:
    ranges = []
    for _ in range(draw(st.integers(0, 2))):
        first, last = sorted(draw(st.lists(_days, min_size=2, max_size=2)))
        ranges.append((first, last))
    return tuple(ranges)


@st.composite
def _time_ranges(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    ranges = []
    for _ in range(draw(st.integers(0, 2))):
        start, end = sorted(draw(st.lists(_clocks, min_size=2, max_size=2, unique=True)))
        ranges.append((start, draw(st.sampled_from([end, END_OF_DAY]))))
    return tuple(ranges)


_weekday_sets = st.frozensets(st.integers(0, 6), max_size=3)
_any_wish = st.builds(
    TimeWish,
    date_ranges=_date_ranges(),
    weekdays=_weekday_sets,
    time_ranges=_time_ranges(),
    excluded_date_ranges=_date_ranges(),
    excluded_weekdays=_weekday_sets,
    excluded_time_ranges=_time_ranges(),
)
_moments = st.one_of(
    st.datetimes(
        min_value=datetime.combine(_FIRST_DAY, time()),
        max_value=datetime.combine(_FIRST_DAY + timedelta(days=40), time()),
        timezones=st.just(UTC),
    ),
    st.builds(datetime.combine, _days, _clocks),  # naive: taken as local
)


@settings(max_examples=500, deadline=None)
@given(_any_wish, _moments)
def test_matches_equals_the_reference(wish: TimeWish, moment: datetime) -> None:
    assert matches(wish, moment) is _reference_matches(wish, moment)
    for part in constrained_parts(wish):
        assert matches(relax(wish, part), moment) is _reference_matches(relax(wish, part), moment)
