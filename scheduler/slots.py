"""Free meeting slots computed from declared availability: pure functions, no I/O.

Rules, as implemented (all datetimes in and out are aware; results are in UTC):

- Time zone Europe/Stockholm. A window's wall-clock start and end are resolved on each date,
  so a 16:00-19:00 window starts at 16:00 local on both sides of a DST change. Slots of
  rules.slot_minutes are tiled in real elapsed time from the window start, and a slot must
  end at or before the window end. A window whose end is not after its start gives nothing
  (windows do not cross midnight). A wall-clock time that does not exist (the spring gap)
  resolves as PEP 495 says, e.g. 02:30 is read as 03:30.
- Horizon: the local dates from today (the date of `now` in Stockholm) through
  today + horizon_days, both included; 28 gives today plus four full weeks.
- Minimum notice: a slot must start at or after now + min_notice.
- Meetings (Busy) are half-open [starts_at, ends_at), widened by buffer_minutes on both
  sides, and block their admin everywhere: at every venue and for home delivery. With
  buffer 0, back-to-back meetings are allowed.
- Absences remove whole local dates, both ends included, for that admin only.
- Closed dates: Swedish public holidays plus the de facto eves (midsommarafton, julafton,
  nyårsafton), from the `holidays` package with categories public and de_facto. Sundays as
  such are not closed (the weekly windows decide); a Sunday is closed only when it is itself a
  holiday, such as Easter Day, Pentecost or 6 June.
- Venues: each slot carries its window's venue_id. The same time at two venues is offered at
  both; identical slots from overlapping windows appear once. Home delivery: only admins in
  home_delivery_admins, venue_id None, one slot per (admin, start).
- Order: (starts_at, admin_id, venue_id).

Cost: O(windows x days + slots + meetings log meetings). The meetings are merged per admin
into sorted disjoint intervals, and each window-day walks them once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

import holidays

from models.zone import STOCKHOLM


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """An admin's recurring availability: weekday 0=Monday, local start/end, at a venue."""

    admin_id: int
    weekday: int
    start: time
    end: time
    venue_id: int


@dataclass(frozen=True, slots=True)
class Busy:
    """Time an admin is taken (a requested or confirmed meeting), aware UTC datetimes."""

    admin_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class AbsenceSpan:
    """Whole local days an admin is away, both ends included."""

    admin_id: int
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class OfficeRules:
    """Per-office booking rules; the defaults are DESIGN.md's."""

    slot_minutes: int = 15
    buffer_minutes: int = 0
    min_notice: timedelta = timedelta(hours=2)
    horizon_days: int = 28


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time; venue_id None means home delivery. Aware UTC datetimes."""

    admin_id: int
    venue_id: int | None
    starts_at: datetime
    ends_at: datetime


def slot_to_data(slot: Slot) -> dict[str, Any]:
    """A slot as JSON-ready data (chat offers, outbox payloads)."""
    return {
        "admin_id": slot.admin_id,
        "venue_id": slot.venue_id,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
    }


def slot_from_data(data: Mapping[str, Any]) -> Slot:
    """The slot that `slot_to_data` wrote."""
    return Slot(
        admin_id=int(data["admin_id"]),
        venue_id=None if data.get("venue_id") is None else int(data["venue_id"]),
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
    )


_HOLIDAY_CATEGORIES = ("public", "de_facto")
_ONE_DAY = timedelta(days=1)
# Windows are visited in (admin_id, venue_id) order, so a *stable* sort on starts_at alone
# yields the promised (starts_at, admin_id, venue_id) order without building tuple keys.
_BY_START = attrgetter("starts_at")
_NO_BLOCKS: tuple[list[float], list[float]] = ([], [])


@lru_cache(maxsize=32)
def _closed_days(year: int) -> frozenset[date]:
    """Swedish public holidays and de facto eves (midsommar-, jul-, nyårsafton) of one year."""
    # include_sundays=False is the library default, spelled out because Swedish law counts
    # every Sunday as a holiday; for us the weekly windows alone decide about Sundays.
    calendar = holidays.country_holidays(
        "SE", categories=_HOLIDAY_CATEGORIES, years=year, include_sundays=False
    )
    return frozenset(calendar.keys())


def is_closed_day(day: date) -> bool:
    """Return True if no meetings are offered on this local date (holiday or eve)."""
    return day in _closed_days(day.year)


def horizon_dates(now: datetime, rules: OfficeRules) -> tuple[date, date]:
    """Return the first and last bookable local dates: today through today + horizon_days."""
    today = _require_aware(now, "now").astimezone(STOCKHOLM).date()
    return today, today + timedelta(days=rules.horizon_days)


def free_slots(
    *,
    windows: Iterable[WeeklyWindow],
    busy: Iterable[Busy],
    absences: Iterable[AbsenceSpan],
    rules: OfficeRules,
    now: datetime,
    home_delivery_admins: Collection[int] = (),
    home_delivery: bool = False,
) -> list[Slot]:
    """Return every bookable slot, sorted by (starts_at, admin_id, venue_id), in aware UTC."""
    first_day, last_day = horizon_dates(now, rules)
    return _compute(
        windows=_eligible_windows(windows, home_delivery, home_delivery_admins),
        busy=busy,
        absences=absences,
        rules=rules,
        now=now,
        first_day=first_day,
        last_day=last_day,
        home_delivery=home_delivery,
    )


def slot_is_free(
    slot: Slot,
    *,
    windows: Iterable[WeeklyWindow],
    busy: Iterable[Busy],
    absences: Iterable[AbsenceSpan],
    rules: OfficeRules,
    now: datetime,
    home_delivery_admins: Collection[int] = (),
) -> bool:
    """Return True if free_slots would still offer exactly this slot (re-check before booking)."""
    first_day, last_day = horizon_dates(now, rules)
    day = _require_aware(slot.starts_at, "slot.starts_at").astimezone(STOCKHOLM).date()
    if not first_day <= day <= last_day:
        return False
    home_delivery = slot.venue_id is None
    # Same code path as free_slots narrowed to one admin and one day, so the two can never
    # disagree; the narrowing makes it one linear pass over the inputs plus a tiny sort.
    own_windows = [
        w
        for w in _eligible_windows(windows, home_delivery, home_delivery_admins)
        if w.admin_id == slot.admin_id and (home_delivery or w.venue_id == slot.venue_id)
    ]
    if not own_windows:
        return False
    candidates = _compute(
        windows=own_windows,
        busy=busy,
        absences=absences,
        rules=rules,
        now=now,
        first_day=day,
        last_day=day,
        home_delivery=home_delivery,
    )
    return slot in candidates


def _require_aware(moment: datetime, name: str) -> datetime:
    """Reject naive datetimes, which would silently be read in the host's time zone."""
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def _eligible_windows(
    windows: Iterable[WeeklyWindow], home_delivery: bool, home_delivery_admins: Collection[int]
) -> list[WeeklyWindow]:
    """Keep the windows that can produce slots in the requested mode."""
    if not home_delivery:
        return list(windows)
    admins = frozenset(home_delivery_admins)
    return [w for w in windows if w.admin_id in admins]


def _compute(
    *,
    windows: list[WeeklyWindow],
    busy: Iterable[Busy],
    absences: Iterable[AbsenceSpan],
    rules: OfficeRules,
    now: datetime,
    first_day: date,
    last_day: date,
    home_delivery: bool,
) -> list[Slot]:
    """Tile the windows over [first_day, last_day] and drop every slot that is not bookable."""
    if rules.slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    if not windows or last_day < first_day:
        return []
    by_weekday = _shapes_by_weekday(windows, home_delivery)
    admins = {w.admin_id for w in windows}
    buffer = timedelta(minutes=rules.buffer_minutes)
    # Only meetings that can touch a slot inside the day range matter; a day of padding on
    # each side covers the UTC/local offset, so no relevant meeting is ever dropped.
    lo = datetime.combine(first_day - _ONE_DAY, time(), tzinfo=UTC) - buffer
    hi = datetime.combine(last_day + 2 * _ONE_DAY, time(), tzinfo=UTC) + buffer
    blocked = _blocked_intervals(busy, admins, buffer, lo, hi)
    away = _absent_days(absences, admins, first_day, last_day)
    earliest = (now + rules.min_notice).timestamp()
    step = rules.slot_minutes * 60
    # Longest window in steps, plus the hour a window gains when the clocks go back.
    longest = max(int(w.end_s - w.start_s + 3600) // step for b in by_weekday for w in b)
    deltas = _step_offsets(step, longest + 1)

    out: list[Slot] = []
    day = first_day
    while day <= last_day:
        shapes = by_weekday[day.weekday()]
        if shapes and (plan := _day_plan(day)) is not None:
            out += _tile_day(day, plan, shapes, away, blocked, earliest, deltas, step)
        day += _ONE_DAY
    return _drop_repeats(out) if any(_may_repeat(shapes) for shapes in by_weekday) else out


class _Shape(NamedTuple):
    """A window reduced to what tiling needs; venue_id is None in home-delivery mode."""

    admin_id: int
    venue_id: int | None
    window: WeeklyWindow
    start: timedelta  # wall-clock time since local midnight
    start_s: float
    end_s: float


def _shapes_by_weekday(windows: Iterable[WeeklyWindow], home_delivery: bool) -> list[list[_Shape]]:
    """Bucket windows by weekday, each bucket in (admin_id, venue_id) order."""
    buckets: list[list[_Shape]] = [[] for _ in range(7)]
    for w in sorted(windows, key=attrgetter("admin_id", "venue_id")):
        if not 0 <= w.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {w.weekday}")
        start, start_s = _since_midnight(w.start)
        end_s = _since_midnight(w.end)[1]
        venue = None if home_delivery else w.venue_id
        buckets[w.weekday].append(_Shape(w.admin_id, venue, w, start, start_s, end_s))
    return buckets


@lru_cache(maxsize=1024)
def _since_midnight(moment: time) -> tuple[timedelta, float]:
    """Wall-clock time of day as a duration and in seconds (cached: few distinct values)."""
    start = timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )
    return start, start.total_seconds()


def _may_repeat(shapes: list[_Shape]) -> bool:
    """True if two windows of one weekday could yield the same slot (then dedupe is needed)."""
    keys = [(s.admin_id, s.venue_id) for s in shapes]
    return len(set(keys)) < len(keys)


class _DayPlan(NamedTuple):
    """Facts about one local date; midnight is None on the two DST-change days."""

    midnight: datetime | None  # local midnight as a UTC datetime
    midnight_ts: float


@lru_cache(maxsize=4096)
def _day_plan(day: date) -> _DayPlan | None:
    """None if the date is closed (holiday or eve), else how to place wall-clock times on it."""
    # Cached because every office scans the same few weeks: a nationwide scan then pays for
    # the zoneinfo and holiday lookups once per date instead of once per office and date.
    if is_closed_day(day):
        return None
    midnight = datetime.combine(day, time(), tzinfo=STOCKHOLM)
    following = datetime.combine(day + _ONE_DAY, time(), tzinfo=STOCKHOLM)
    # Stockholm changes offset at most once a day, so equal offsets at both midnights mean
    # no change in between and wall-clock times are plain offsets from midnight.
    if midnight.utcoffset() != following.utcoffset():
        return _DayPlan(None, 0.0)
    return _DayPlan(midnight.astimezone(UTC), midnight.timestamp())


def _dst_day_bounds(day: date, window: WeeklyWindow) -> tuple[float, float, datetime]:
    """Window start and end (epoch seconds, start also as UTC) on a DST-change day."""
    # Let zoneinfo resolve each wall-clock time, so a 16:00 window still starts at 16:00
    # local. (A time inside the spring gap resolves PEP 495 style, e.g. 02:30 becomes
    # 03:30; admins do not declare windows in the middle of the night anyway.)
    local_start = datetime.combine(day, window.start, tzinfo=STOCKHOLM)
    local_end = datetime.combine(day, window.end, tzinfo=STOCKHOLM)
    return local_start.timestamp(), local_end.timestamp(), local_start.astimezone(UTC)


@lru_cache(maxsize=64)
def _step_offsets(step: int, count: int) -> tuple[timedelta, ...]:
    """The durations 0, step, 2 * step, ... (count of them), shared by every call."""
    return tuple(timedelta(seconds=k * step) for k in range(count))


def _slot_setters() -> tuple[Callable[[Slot, Any], None], ...] | None:
    """Slot's field descriptors' setters in field order, or None if they must not be used."""
    # Writing the descriptors directly builds the very same object as Slot(...) but skips
    # the frozen dataclass __init__, which routes every field through object.__setattr__
    # and was a third of a nationwide scan (hundreds of thousands of slots). That is only
    # valid while Slot has exactly these fields and no __post_init__.
    names = tuple(f.name for f in fields(Slot))
    if names != ("admin_id", "venue_id", "starts_at", "ends_at") or hasattr(Slot, "__post_init__"):
        return None
    return tuple(getattr(Slot, name).__set__ for name in names)


_SETTERS = _slot_setters()


def _append_slots(
    out: list[Slot], admin_id: int, venue_id: int | None, bounds: list[datetime], lo: int, hi: int
) -> None:
    """Append Slot(admin_id, venue_id, bounds[k], bounds[k + 1]) for lo <= k < hi."""
    pairs = zip(bounds[lo:hi], bounds[lo + 1 : hi + 1], strict=True)
    if _SETTERS is None:
        out.extend(Slot(admin_id, venue_id, start, end) for start, end in pairs)
        return
    set_admin, set_venue, set_start, set_end = _SETTERS
    new = object.__new__
    append = out.append
    for start, end in pairs:  # the innermost loop of the whole module
        slot = new(Slot)
        set_admin(slot, admin_id)
        set_venue(slot, venue_id)
        set_start(slot, start)
        set_end(slot, end)
        append(slot)


def _tile_day(
    day: date,
    plan: _DayPlan,
    shapes: list[_Shape],
    away: dict[int, set[date]],
    blocked: dict[int, tuple[list[float], list[float]]],
    earliest: float,
    deltas: tuple[timedelta, ...],
    step: int,
) -> list[Slot]:
    """One open day's free slots, sorted; this is the hot path, kept lean on purpose."""
    todays: list[Slot] = []
    for shape in shapes:
        admin = shape.admin_id
        if day in away.get(admin, ()):
            continue
        if plan.midnight is not None:
            start_ts = plan.midnight_ts + shape.start_s
            end_ts = plan.midnight_ts + shape.end_s
            base = plan.midnight + shape.start
        else:
            start_ts, end_ts, base = _dst_day_bounds(day, shape.window)
        # Slots are tiled in real elapsed time from the window's start, so each lasts
        # exactly slot_minutes even on the night the clocks change.
        count = int((end_ts - start_ts) // step)
        first = 0 if start_ts >= earliest else -int((start_ts - earliest) // step)  # ceil
        if first >= count:
            continue
        # Boundaries are shared: a slot ends at the very datetime where the next one starts.
        marks = list(map(base.__add__, deltas[first : count + 1]))
        starts, ends = blocked.get(admin, _NO_BLOCKS)
        i = bisect_right(ends, start_ts + first * step)  # first interval ending after slot one
        if i == len(ends) or starts[i] >= start_ts + count * step:
            runs: Iterable[tuple[int, int]] = ((0, count - first),)  # nothing blocks
        else:
            runs = _free_runs(start_ts + first * step, step, count - first, starts, ends, i)
        for lo, hi in runs:
            _append_slots(todays, admin, shape.venue_id, marks, lo, hi)
    if len(shapes) > 1:
        # Each window's slots are one sorted run; sorting day by day merges only a few runs
        # at a time, far fewer comparisons than one sort over the whole horizon.
        todays.sort(key=_BY_START)
    return todays


def _free_runs(
    origin: float, step: int, count: int, starts: list[float], ends: list[float], i: int
) -> Iterator[tuple[int, int]]:
    """Yield [lo, hi) ranges of slots k < count, starting at origin + k * step, that are free."""
    # The merged intervals are sorted and disjoint and ends[i] is the first one to end after
    # slot 0 starts, so a forward walk visits each relevant meeting once:
    # O(slots + meetings), never O(slots x meetings).
    k = 0
    n = len(ends)
    while k < count and i < n:
        # Slots that end at or before this interval starts are free ...
        stop = min(count, int((starts[i] - origin) // step))
        if stop > k:
            yield k, stop
        # ... and the next candidate is the first slot starting at or after it ends.
        k = max(k, -int((origin - ends[i]) // step))
        i += 1
    if k < count:
        yield k, count


def _drop_repeats(slots: list[Slot]) -> list[Slot]:
    """Drop exact duplicates (adjacent after the sort) produced by overlapping windows."""
    unique = slots[:1]
    for slot in slots[1:]:
        if slot != unique[-1]:
            unique.append(slot)
    return unique


def _blocked_intervals(
    busy: Iterable[Busy], admins: set[int], buffer: timedelta, lo: datetime, hi: datetime
) -> dict[int, tuple[list[float], list[float]]]:
    """Per admin, the buffered busy times merged into disjoint sorted (starts, ends) lists."""
    raw: dict[int, list[tuple[float, float]]] = {admin: [] for admin in admins}
    lo_ts, hi_ts = lo.timestamp(), hi.timestamp()
    pad = buffer.total_seconds()
    for b in busy:
        intervals = raw.get(b.admin_id)
        if intervals is None:
            continue  # a meeting of an admin with no windows in this call
        starts_at, ends_at = b.starts_at, b.ends_at
        # A naive datetime would silently be read in the host's zone: refuse it.
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise ValueError("Busy.starts_at and Busy.ends_at must be timezone-aware")
        start = starts_at.timestamp() - pad
        end = ends_at.timestamp() + pad
        if start < hi_ts and end > lo_ts and end > start:
            intervals.append((start, end))
    return {admin: _merge(intervals) for admin, intervals in raw.items() if intervals}


def _merge(intervals: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Merge overlapping half-open intervals so both lists are sorted and disjoint."""
    intervals.sort()
    starts: list[float] = []
    ends: list[float] = []
    for start, end in intervals:
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _absent_days(
    absences: Iterable[AbsenceSpan], admins: set[int], first_day: date, last_day: date
) -> dict[int, set[date]]:
    """Per admin, the absent local dates, clipped to the range so long spans stay cheap."""
    away: dict[int, set[date]] = {}
    for a in absences:
        if a.admin_id not in admins:
            continue
        day = max(a.first_day, first_day)
        stop = min(a.last_day, last_day)
        while day <= stop:
            away.setdefault(a.admin_id, set()).add(day)
            day += _ONE_DAY
    return away
