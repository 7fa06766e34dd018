"""Tests of the pure slot computation: a brute-force oracle, invariants and fixed calendar cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scheduler.slots as slots_module
from models.zone import STOCKHOLM
from scheduler.slots import (
    _SETTERS,
    AbsenceSpan,
    Busy,
    OfficeRules,
    Slot,
    WeeklyWindow,
    _append_slots,
    free_slots,
    horizon_dates,
    is_closed_day,
    slot_is_free,
)

PROPERTY = settings(max_examples=150, deadline=None)


# --- helpers -----------------------------------------------------------------------------


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An aware Stockholm wall-clock time."""
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An aware UTC time."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def every_day(admin_id: int = 1, start: time = time(9), end: time = time(17)) -> list[WeeklyWindow]:
    """One window on each weekday, Monday to Sunday, at venue 10."""
    return [WeeklyWindow(admin_id, wd, start, end, 10) for wd in range(7)]


def slots_for(
    windows: Sequence[WeeklyWindow],
    now: datetime,
    *,
    busy: Sequence[Busy] = (),
    absences: Sequence[AbsenceSpan] = (),
    rules: OfficeRules | None = None,
    home_delivery_admins: Collection[int] = (),
    home_delivery: bool = False,
) -> list[Slot]:
    """free_slots with defaults for the inputs a test does not care about."""
    return free_slots(
        windows=windows,
        busy=busy,
        absences=absences,
        rules=rules or OfficeRules(),
        now=now,
        home_delivery_admins=home_delivery_admins,
        home_delivery=home_delivery,
    )


def local_days(slots: Sequence[Slot]) -> set[date]:
    """The Stockholm dates that have at least one slot."""
    return {s.starts_at.astimezone(STOCKHOLM).date() for s in slots}


def on_day(slots: Sequence[Slot], day: date) -> list[Slot]:
    """The slots starting on this Stockholm date."""
    return [s for s in slots if s.starts_at.astimezone(STOCKHOLM).date() == day]


def reference_free_slots(
    windows: Sequence[WeeklyWindow],
    busy: Sequence[Busy],
    absences: Sequence[AbsenceSpan],
    rules: OfficeRules,
    now: datetime,
    home_delivery_admins: Collection[int],
    home_delivery: bool,
) -> list[Slot]:
    """Deliberately naive oracle: every candidate checked against every rule and meeting."""
    today = now.astimezone(STOCKHOLM).date()
    closed = holidays.country_holidays("SE", categories=("public", "de_facto"))
    step = timedelta(minutes=rules.slot_minutes)
    buffer = timedelta(minutes=rules.buffer_minutes)
    found: set[Slot] = set()
    for offset in range(rules.horizon_days + 1):
        day = today + timedelta(days=offset)
        if day in closed:
            continue
        for w in windows:
            if w.weekday != day.weekday():
                continue
            if home_delivery and w.admin_id not in home_delivery_admins:
                continue
            if any(a.admin_id == w.admin_id and a.first_day <= day <= a.last_day for a in absences):
                continue
            window_start = datetime.combine(day, w.start, tzinfo=STOCKHOLM).astimezone(UTC)
            window_end = datetime.combine(day, w.end, tzinfo=STOCKHOLM).astimezone(UTC)
            start = window_start
            while start + step <= window_end:
                end = start + step
                clash = any(
                    b.admin_id == w.admin_id
                    and b.starts_at - buffer < end
                    and b.ends_at + buffer > start
                    for b in busy
                )
                if start >= now + rules.min_notice and not clash:
                    venue = None if home_delivery else w.venue_id
                    found.add(Slot(w.admin_id, venue, start, end))
                start = end
    return sorted(found, key=lambda s: (s.starts_at, s.admin_id, s.venue_id or -1))


# --- strategies --------------------------------------------------------------------------

# Dates near DST changes and holidays are where bugs live, so `now` is often drawn near one.
INTERESTING = [
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2026, 12, 24),
    date(2026, 12, 31),
    date(2026, 6, 19),
    date(2027, 6, 25),
    date(2026, 4, 3),
    date(2027, 3, 26),
]

nows = st.one_of(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 1), timezones=st.just(UTC)
    ),
    st.builds(
        lambda day, minutes: datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=minutes),
        st.sampled_from(INTERESTING),
        st.integers(min_value=-10 * 24 * 60, max_value=24 * 60),
    ),
)

rules_st = st.builds(
    OfficeRules,
    slot_minutes=st.sampled_from([10, 15, 20, 30, 45, 60]),
    buffer_minutes=st.sampled_from([0, 0, 5, 10, 15, 30]),
    min_notice=st.integers(min_value=0, max_value=48 * 60).map(lambda m: timedelta(minutes=m)),
    horizon_days=st.integers(min_value=0, max_value=35),
)


@st.composite
def daytime_windows(draw: st.DrawFn, admins: int = 3) -> WeeklyWindow:
    """A window between 06:00 and 23:55 local, the hours admins really declare."""
    start = draw(st.integers(min_value=6 * 12, max_value=22 * 12)) * 5
    length = draw(st.integers(min_value=1, max_value=10 * 12)) * 5
    end = min(start + length, 23 * 60 + 55)
    return WeeklyWindow(
        admin_id=draw(st.integers(min_value=1, max_value=admins)),
        weekday=draw(st.integers(min_value=0, max_value=6)),
        start=time(start // 60, start % 60),
        end=time(end // 60, end % 60),
        venue_id=draw(st.integers(min_value=1, max_value=3)),
    )


@st.composite
def any_time_windows(draw: st.DrawFn, weekdays: Sequence[int] = range(7)) -> WeeklyWindow:
    """A window anywhere in the day, night hours (and DST gaps) included."""
    start = draw(st.integers(min_value=0, max_value=23 * 60 + 59))
    end = draw(st.integers(min_value=0, max_value=23 * 60 + 59))
    return WeeklyWindow(
        admin_id=draw(st.integers(min_value=1, max_value=3)),
        weekday=draw(st.sampled_from(weekdays)),
        start=time(start // 60, start % 60),
        end=time(end // 60, end % 60),
        venue_id=draw(st.integers(min_value=1, max_value=3)),
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
    windows: st.SearchStrategy[WeeklyWindow] | None = None,
    now_st: st.SearchStrategy[datetime] = nows,
) -> dict[str, object]:
    """Random free_slots inputs; meetings and absences land around the horizon."""
    now = draw(now_st)
    rules = draw(rules_st)
    span = (rules.horizon_days + 3) * 24 * 60
    busy = [
        Busy(
            admin_id=draw(st.integers(min_value=1, max_value=4)),
            starts_at=(start := now + timedelta(minutes=draw(st.integers(-1440, span)))),
            ends_at=start + timedelta(minutes=draw(st.integers(min_value=1, max_value=240))),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=30)))
    ]
    today = now.astimezone(STOCKHOLM).date()
    absences = [
        AbsenceSpan(
            admin_id=draw(st.integers(min_value=1, max_value=3)),
            first_day=(first := today + timedelta(days=draw(st.integers(-5, 40)))),
            last_day=first + timedelta(days=draw(st.integers(0, 10))),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    return {
        "windows": draw(
            st.lists(daytime_windows() if windows is None else windows, min_size=1, max_size=6)
        ),
        "busy": busy,
        "absences": absences,
        "rules": rules,
        "now": now,
        "home_delivery_admins": draw(
            st.frozensets(st.integers(1, 3), min_size=draw(st.sampled_from([0, 1, 1, 2])))
        ),
        "home_delivery": draw(st.booleans()),
    }


# --- properties --------------------------------------------------------------------------


@PROPERTY
@given(scenarios(windows=st.one_of(daytime_windows(), any_time_windows())))
def test_matches_the_brute_force_oracle(case: dict) -> None:
    assert free_slots(**case) == reference_free_slots(**case)


DST_SUNDAYS = [date(y, m, d) for y, m, d in [(2025, 3, 30), (2025, 10, 26), (2026, 3, 29)]] + [
    date(y, m, d) for y, m, d in [(2026, 10, 25), (2027, 10, 31), (2028, 3, 26), (2028, 10, 29)]
]
before_dst = st.builds(
    lambda day, minutes: datetime.combine(day, time(), tzinfo=UTC) - timedelta(minutes=minutes),
    st.sampled_from(DST_SUNDAYS),
    st.integers(min_value=0, max_value=3 * 24 * 60),
)


@PROPERTY
@given(scenarios(windows=any_time_windows(weekdays=[5, 6, 0]), now_st=before_dst))
def test_matches_the_oracle_on_dst_changes(case: dict) -> None:
    assert free_slots(**case) == reference_free_slots(**case)


@PROPERTY
@given(scenarios())
def test_every_slot_obeys_every_rule(case: dict) -> None:
    rules: OfficeRules = case["rules"]
    now: datetime = case["now"]
    slots = free_slots(**case)
    buffer = timedelta(minutes=rules.buffer_minutes)
    first_day, last_day = horizon_dates(now, rules)
    assert first_day == now.astimezone(STOCKHOLM).date()
    assert (last_day - first_day).days == rules.horizon_days

    for s in slots:
        assert s.starts_at.tzinfo is UTC and s.ends_at.tzinfo is UTC
        assert s.ends_at - s.starts_at == timedelta(minutes=rules.slot_minutes)
        start, end = s.starts_at.astimezone(STOCKHOLM), s.ends_at.astimezone(STOCKHOLM)
        day = start.date()
        # Minimum notice and horizon.
        assert s.starts_at >= now + rules.min_notice
        assert first_day <= day <= last_day
        # Never on a holiday or eve, never while the admin is away.
        assert not is_closed_day(day)
        assert not any(
            a.admin_id == s.admin_id and a.first_day <= day <= a.last_day for a in case["absences"]
        )
        # Never against a meeting of the same admin, buffer included.
        assert not any(
            b.admin_id == s.admin_id
            and b.starts_at - buffer < s.ends_at
            and b.ends_at + buffer > s.starts_at
            for b in case["busy"]
        )
        # Inside one of the admin's windows, in local wall-clock time, on the window's grid.
        home = case["home_delivery"]
        assert (s.venue_id is None) == home
        if home:
            assert s.admin_id in case["home_delivery_admins"]
        assert any(
            w.admin_id == s.admin_id
            and (home or w.venue_id == s.venue_id)
            and w.weekday == day.weekday()
            and w.start <= start.time()
            and end.date() == day
            and end.time() <= w.end
            and (start - datetime.combine(day, w.start, tzinfo=STOCKHOLM)).total_seconds()
            % (rules.slot_minutes * 60)
            == 0
            for w in case["windows"]
        )

    keys = [(s.starts_at, s.admin_id, s.venue_id or -1) for s in slots]
    assert keys == sorted(keys)
    assert len(set(slots)) == len(slots)


@PROPERTY
@given(scenarios(), st.data())
def test_slot_is_free_agrees_with_free_slots(case: dict, data: st.DataObject) -> None:
    slots = free_slots(**case)
    recheck = {k: v for k, v in case.items() if k != "home_delivery"}
    if slots:
        chosen = data.draw(st.sampled_from(slots))
        assert slot_is_free(chosen, **recheck)
        # Once somebody books it, it is no longer free ...
        taken = Busy(chosen.admin_id, chosen.starts_at, chosen.ends_at)
        assert not slot_is_free(chosen, **{**recheck, "busy": [*case["busy"], taken]})
        # ... and a slot off the grid or at another venue never was.
        shifted = dataclasses.replace(
            chosen,
            starts_at=chosen.starts_at + timedelta(minutes=5),
            ends_at=chosen.ends_at + timedelta(minutes=5),
        )
        assert slot_is_free(shifted, **recheck) == (shifted in slots)
        moved = dataclasses.replace(chosen, venue_id=99 if chosen.venue_id is not None else None)
        assert slot_is_free(moved, **recheck) == (moved in slots)
    else:
        some = Slot(1, 1, case["now"] + timedelta(hours=3), case["now"] + timedelta(hours=4))
        assert not slot_is_free(some, **recheck)


# --- daylight saving time ----------------------------------------------------------------

DST_WEEKS = [
    # (now, {open local date: expected UTC offset in hours}, closed dates in the same weeks)
    pytest.param(
        utc(2026, 3, 20),
        {
            date(2026, 3, 22): 1,  # Sunday before the change, CET
            date(2026, 3, 23): 1,
            date(2026, 3, 29): 2,  # the change itself: clocks went forward at 02:00
            date(2026, 3, 30): 2,
        },
        set(),
        id="spring-2026",
    ),
    pytest.param(
        utc(2026, 10, 16),
        {
            date(2026, 10, 18): 2,
            date(2026, 10, 19): 2,
            date(2026, 10, 25): 1,  # clocks went back at 03:00
            date(2026, 10, 26): 1,
        },
        set(),
        id="autumn-2026",
    ),
    pytest.param(
        utc(2027, 3, 19),
        {
            date(2027, 3, 21): 1,
            date(2027, 3, 22): 1,
            date(2027, 4, 4): 2,
            date(2027, 4, 5): 2,
        },
        # In 2027 the change falls on Easter Sunday, and the Monday is Easter Monday.
        {date(2027, 3, 28), date(2027, 3, 29)},
        id="spring-2027-easter",
    ),
    pytest.param(
        utc(2027, 10, 22),
        {
            date(2027, 10, 24): 2,
            date(2027, 10, 25): 2,
            date(2027, 10, 31): 1,
            date(2027, 11, 1): 1,
        },
        set(),
        id="autumn-2027",
    ),
]


@pytest.mark.parametrize(("now", "open_days", "closed"), DST_WEEKS)
def test_dst_weeks_keep_local_wall_clock(
    now: datetime, open_days: dict[date, int], closed: set[date]
) -> None:
    windows = [
        WeeklyWindow(1, 0, time(16), time(19), 10),  # Monday
        WeeklyWindow(1, 6, time(16), time(19), 10),  # Sunday
    ]
    # The horizon ends on the last listed day, so nothing beyond the two weeks shows up.
    last = max(open_days.keys() | closed)
    slots = slots_for(windows, now, rules=OfficeRules(horizon_days=(last - now.date()).days))
    for day, offset_hours in open_days.items():
        todays = on_day(slots, day)
        assert len(todays) == 12, day
        first = todays[0].starts_at
        assert first.astimezone(STOCKHOLM).time() == time(16, 0)
        assert first.astimezone(STOCKHOLM).utcoffset() == timedelta(hours=offset_hours)
        assert first == datetime.combine(day, time(16 - offset_hours), tzinfo=UTC)
        assert [s.starts_at.astimezone(STOCKHOLM).time() for s in todays[:3]] == [
            time(16, 0),
            time(16, 15),
            time(16, 30),
        ]
        assert todays[-1].ends_at.astimezone(STOCKHOLM).time() == time(19, 0)
    assert not closed & local_days(slots)
    # Exactly the expected days: nothing leaks onto other weekdays or the closed days.
    assert local_days(slots) == set(open_days)


def test_window_across_the_autumn_night_lasts_real_time() -> None:
    # 01:00-04:00 on the night the clocks go back is four real hours: 02:00-03:00 happens twice.
    windows = [WeeklyWindow(1, 6, time(1), time(4), 10)]
    rules = OfficeRules(min_notice=timedelta(0), horizon_days=1)
    slots = slots_for(windows, utc(2026, 10, 24), rules=rules)
    assert len(on_day(slots, date(2026, 10, 25))) == 16
    assert slots[0].starts_at == utc(2026, 10, 24, 23)  # 01:00 CEST
    assert slots[-1].ends_at == utc(2026, 10, 25, 3)  # 04:00 CET


# --- holidays ----------------------------------------------------------------------------

CLOSED_DAYS = [
    pytest.param(date(2026, 12, 24), id="julafton-2026"),
    pytest.param(date(2026, 12, 31), id="nyarsafton-2026"),
    pytest.param(date(2026, 6, 19), id="midsommarafton-2026"),
    pytest.param(date(2027, 6, 25), id="midsommarafton-2027"),
    pytest.param(date(2026, 4, 3), id="langfredagen-2026"),
    pytest.param(date(2026, 4, 6), id="annandag-pask-2026"),
    pytest.param(date(2027, 3, 26), id="langfredagen-2027"),
    pytest.param(date(2027, 3, 29), id="annandag-pask-2027"),
    pytest.param(date(2026, 5, 1), id="forsta-maj"),
    pytest.param(date(2026, 5, 14), id="kristi-himmelsfard"),
    pytest.param(date(2026, 6, 6), id="nationaldagen"),
    pytest.param(date(2026, 12, 25), id="juldagen"),
    pytest.param(date(2027, 1, 1), id="nyarsdagen"),
]


@pytest.mark.parametrize("day", CLOSED_DAYS)
def test_holidays_and_eves_have_no_slots(day: date) -> None:
    now = datetime.combine(day - timedelta(days=3), time(6), tzinfo=UTC)
    slots = slots_for(every_day(), now, rules=OfficeRules(horizon_days=7))
    assert is_closed_day(day)
    assert on_day(slots, day) == []
    # The windows themselves work: every open day around it does have slots.
    horizon = [now.astimezone(STOCKHOLM).date() + timedelta(days=k) for k in range(8)]
    assert local_days(slots) == {d for d in horizon if not is_closed_day(d)}


@pytest.mark.parametrize(
    "day",
    [date(2026, 3, 22), date(2026, 6, 7), date(2026, 12, 20), date(2027, 6, 27)],
)
def test_ordinary_sundays_are_not_holidays(day: date) -> None:
    assert day.weekday() == 6
    assert not is_closed_day(day)
    now = datetime.combine(day - timedelta(days=1), time(6), tzinfo=UTC)
    assert len(on_day(slots_for(every_day(), now), day)) == 32


def test_ordinary_eves_and_weekdays_are_open() -> None:
    # Only midsommar-, jul- and nyårsafton are de facto holidays; other eves are workdays.
    for day in (date(2026, 4, 4), date(2026, 4, 30), date(2026, 12, 23), date(2026, 6, 18)):
        assert not is_closed_day(day), day


# --- single rules ------------------------------------------------------------------------


def test_buffer_extends_meetings_on_both_sides() -> None:
    windows = [WeeklyWindow(1, 0, time(9), time(12), 10)]  # Monday 2026-09-14
    meeting = Busy(1, local(2026, 9, 14, 10), local(2026, 9, 14, 10, 30))
    now = utc(2026, 9, 13)

    def starts(buffer: int) -> list[time]:
        slots = slots_for(windows, now, busy=[meeting], rules=OfficeRules(buffer_minutes=buffer))
        return [s.starts_at.astimezone(STOCKHOLM).time() for s in on_day(slots, date(2026, 9, 14))]

    assert time(9, 45) in starts(0) and time(10, 30) in starts(0)
    assert time(10, 0) not in starts(0) and time(10, 15) not in starts(0)
    with_buffer = starts(15)
    assert time(9, 30) in with_buffer and time(10, 45) in with_buffer
    for blocked in (time(9, 45), time(10, 0), time(10, 15), time(10, 30)):
        assert blocked not in with_buffer


def test_other_admins_meetings_do_not_block() -> None:
    windows = [WeeklyWindow(1, 0, time(9), time(10), 10), WeeklyWindow(2, 0, time(9), time(10), 10)]
    meeting = Busy(2, local(2026, 9, 14, 9), local(2026, 9, 14, 10))
    slots = slots_for(windows, utc(2026, 9, 13), busy=[meeting], rules=OfficeRules(horizon_days=1))
    assert {s.admin_id for s in slots} == {1}
    assert len(on_day(slots, date(2026, 9, 14))) == 4


def test_minimum_notice_and_horizon_edges() -> None:
    now = local(2026, 9, 14, 8, 10)  # Monday
    slots = slots_for(every_day(), now, rules=OfficeRules(horizon_days=2))
    assert slots[0].starts_at == local(2026, 9, 14, 10, 15)  # 08:10 + 2 h, next quarter
    assert local_days(slots) == {date(2026, 9, 14), date(2026, 9, 15), date(2026, 9, 16)}


def test_horizon_zero_is_today_only() -> None:
    slots = slots_for(every_day(), local(2026, 9, 14, 6), rules=OfficeRules(horizon_days=0))
    assert local_days(slots) == {date(2026, 9, 14)}


def test_absence_removes_whole_days_of_that_admin_only() -> None:
    windows = every_day(1) + every_day(2)
    away = AbsenceSpan(1, date(2026, 9, 15), date(2026, 9, 16))
    slots = slots_for(windows, utc(2026, 9, 13), absences=[away], rules=OfficeRules(horizon_days=5))
    admin1_days = local_days([s for s in slots if s.admin_id == 1])
    admin2_days = local_days([s for s in slots if s.admin_id == 2])
    assert date(2026, 9, 15) not in admin1_days and date(2026, 9, 16) not in admin1_days
    assert date(2026, 9, 14) in admin1_days and date(2026, 9, 17) in admin1_days
    assert {date(2026, 9, 15), date(2026, 9, 16)} <= admin2_days


def test_slot_must_end_inside_the_window() -> None:
    windows = [WeeklyWindow(1, 0, time(9), time(10, 10), 10)]
    slots = slots_for(windows, utc(2026, 9, 13), rules=OfficeRules(slot_minutes=20, horizon_days=1))
    times = [s.starts_at.astimezone(STOCKHOLM).time() for s in slots]
    assert times == [time(9), time(9, 20), time(9, 40)]  # 10:00-10:20 would overrun 10:10


def test_overlapping_windows_at_one_venue_are_deduplicated() -> None:
    windows = [
        WeeklyWindow(1, 0, time(9), time(11), 10),
        WeeklyWindow(1, 0, time(10), time(12), 10),
    ]
    slots = slots_for(windows, utc(2026, 9, 13), rules=OfficeRules(horizon_days=1))
    assert len(slots) == 12 == len(set(slots))


def test_same_time_at_two_venues_is_offered_at_both() -> None:
    windows = [WeeklyWindow(1, 0, time(9), time(10), 10), WeeklyWindow(1, 0, time(9), time(10), 20)]
    slots = slots_for(windows, utc(2026, 9, 13), rules=OfficeRules(horizon_days=1))
    assert [(s.starts_at.astimezone(STOCKHOLM).time(), s.venue_id) for s in slots[:2]] == [
        (time(9), 10),
        (time(9), 20),
    ]
    assert len(slots) == 8


def test_results_sorted_by_time_then_admin_then_venue() -> None:
    windows = [
        WeeklyWindow(3, 0, time(9), time(10), 1),
        WeeklyWindow(1, 0, time(9, 30), time(10), 7),
        WeeklyWindow(1, 0, time(9), time(10), 2),
        WeeklyWindow(2, 0, time(9), time(10), 5),
    ]
    slots = slots_for(windows, utc(2026, 9, 13), rules=OfficeRules(horizon_days=1))
    keys = [(s.starts_at, s.admin_id, s.venue_id) for s in slots]
    assert keys == sorted(keys)
    assert [(s.admin_id, s.venue_id) for s in slots[:3]] == [(1, 2), (2, 5), (3, 1)]


# --- home delivery -----------------------------------------------------------------------


def test_home_delivery_only_for_willing_admins_without_venue() -> None:
    windows = [
        WeeklyWindow(1, 0, time(9), time(10), 10),
        WeeklyWindow(1, 0, time(9), time(10), 20),  # same hour, other venue: one home slot
        WeeklyWindow(2, 0, time(9), time(10), 10),
    ]
    now = utc(2026, 9, 13)
    rules = OfficeRules(horizon_days=1)
    home = slots_for(windows, now, rules=rules, home_delivery_admins={1}, home_delivery=True)
    assert [s.venue_id for s in home] == [None] * 4
    assert {s.admin_id for s in home} == {1}
    assert [s.starts_at for s in home] == [local(2026, 9, 14, 9, 15 * k) for k in range(4)]
    # The venue list is unaffected by the home-delivery setting.
    at_venues = slots_for(windows, now, rules=rules, home_delivery_admins={1})
    assert len(at_venues) == 12 and None not in {s.venue_id for s in at_venues}
    # Nobody willing: no home slots at all.
    assert slots_for(windows, now, rules=rules, home_delivery=True) == []


def test_home_delivery_respects_busy_time_at_any_venue() -> None:
    windows = [WeeklyWindow(1, 0, time(9), time(10), 10)]
    meeting = Busy(1, local(2026, 9, 14, 9), local(2026, 9, 14, 9, 30))
    home = slots_for(
        windows,
        utc(2026, 9, 13),
        busy=[meeting],
        home_delivery_admins={1},
        home_delivery=True,
        rules=OfficeRules(horizon_days=1),
    )
    assert [s.starts_at for s in home] == [local(2026, 9, 14, 9, 30), local(2026, 9, 14, 9, 45)]


# --- slot_is_free and input checks -------------------------------------------------------


def test_slot_is_free_rechecks_a_chosen_slot() -> None:
    windows = [WeeklyWindow(1, 0, time(9), time(10), 10)]
    now = utc(2026, 9, 13)
    kwargs: dict[str, Any] = {
        "windows": windows,
        "busy": [],
        "absences": [],
        "rules": OfficeRules(),
        "now": now,
        "home_delivery_admins": {1},
    }
    chosen = slots_for(windows, now)[1]
    assert slot_is_free(chosen, **kwargs)
    assert not slot_is_free(
        chosen, **{**kwargs, "busy": [Busy(1, chosen.starts_at, chosen.ends_at)]}
    )
    assert not slot_is_free(chosen, **{**kwargs, "now": chosen.starts_at})  # notice has passed
    assert not slot_is_free(dataclasses.replace(chosen, admin_id=2), **kwargs)
    longer = dataclasses.replace(chosen, ends_at=chosen.ends_at + timedelta(minutes=5))
    assert not slot_is_free(longer, **kwargs)
    home = dataclasses.replace(chosen, venue_id=None)
    assert slot_is_free(home, **kwargs)
    assert not slot_is_free(home, **{**kwargs, "home_delivery_admins": ()})
    in_stockholm = dataclasses.replace(
        chosen,
        starts_at=chosen.starts_at.astimezone(STOCKHOLM),
        ends_at=chosen.ends_at.astimezone(STOCKHOLM),
    )
    assert slot_is_free(in_stockholm, **kwargs)  # the same instants, another zone


def test_naive_datetimes_are_rejected() -> None:
    windows = every_day()
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_for(windows, datetime(2026, 9, 14, 8))
    naive = Busy(1, datetime(2026, 9, 14, 9), datetime(2026, 9, 14, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_for(windows, utc(2026, 9, 13), busy=[naive])


def test_now_in_another_zone_means_the_same_instant() -> None:
    now = utc(2026, 9, 13, 22, 30)  # already 14 September in Stockholm
    assert slots_for(every_day(), now) == slots_for(every_day(), now.astimezone(STOCKHOLM))
    assert horizon_dates(now, OfficeRules())[0] == date(2026, 9, 14)


def test_fast_slot_construction_makes_real_slots() -> None:
    bounds = [utc(2026, 9, 14, 9), utc(2026, 9, 14, 9, 15), utc(2026, 9, 14, 9, 30)]
    built: list[Slot] = []
    _append_slots(built, 1, None, bounds, 0, 2)
    assert _SETTERS is not None  # the descriptor path is the one in use
    assert built == [Slot(1, None, bounds[0], bounds[1]), Slot(1, None, bounds[1], bounds[2])]
    assert all(type(s) is Slot for s in built)
    assert hash(built[0]) == hash(Slot(1, None, bounds[0], bounds[1]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        built[0].admin_id = 2  # type: ignore[misc]


def test_plain_constructor_fallback_gives_the_same_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    windows = every_day(1) + every_day(2, time(8), time(12))
    busy = [Busy(1, local(2026, 9, 14, 10), local(2026, 9, 14, 11))]
    fast = slots_for(windows, utc(2026, 9, 13), busy=busy)
    monkeypatch.setattr(slots_module, "_SETTERS", None)
    assert slots_for(windows, utc(2026, 9, 13), busy=busy) == fast
