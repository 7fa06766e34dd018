"""Choosing which slots to offer: spread, earliest first, alternatives when nothing matches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.zone import STOCKHOLM
from scheduler.ranking import NoMatch, Proposal, propose
from scheduler.slots import Slot
from scheduler.wishes import END_OF_DAY, TimeWish, WishPart, constrained_parts, matches, relax

MONDAY = date(2026, 11, 30)
TUESDAY_ONLY = TimeWish(weekdays=frozenset({1}))
AFTERNOON = ((time(12), time(17)),)


def slot(day: date, hour: int, minute: int = 0, *, venue: int | None = 1, admin: int = 1) -> Slot:
    """A 15-minute slot at a local time, stored in UTC as the scheduler does."""
    start = datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM).astimezone(UTC)
    return Slot(admin, venue, start, start + timedelta(minutes=15))


def afternoon_run(day: date, venue: int | None = 1, count: int = 8) -> list[Slot]:
    """Consecutive slots from 16:00 at one venue."""
    return [slot(day, 16 + i // 4, 15 * (i % 4), venue=venue) for i in range(count)]


def days_of(proposal: Proposal) -> list[date]:
    return [s.starts_at.astimezone(STOCKHOLM).date() for s in proposal.slots]


def test_no_slots() -> None:
    assert propose(TUESDAY_ONLY, []) == Proposal((), False, 0, NoMatch((), None))


def test_earliest_first_and_spread_over_days() -> None:
    slots = [s for i in range(5) for s in afternoon_run(MONDAY + timedelta(days=i))]
    proposal = propose(TimeWish(), slots)
    assert proposal.matched and proposal.matched_count == 5
    assert proposal.slots[0] == slots[0]
    assert days_of(proposal) == [MONDAY + timedelta(days=i) for i in range(5)]
    assert list(proposal.slots) == sorted(proposal.slots, key=lambda s: s.starts_at)


def test_one_day_one_venue_still_fills_up() -> None:
    slots = afternoon_run(MONDAY)
    proposal = propose(TimeWish(), slots)
    assert proposal.slots == tuple(slots[:5])


def test_venues_are_offered_when_they_exist() -> None:
    slots = sorted(
        [*afternoon_run(MONDAY, venue=1), *afternoon_run(MONDAY, venue=2)],
        key=lambda s: s.starts_at,
    )
    proposal = propose(TimeWish(), slots)
    assert {s.venue_id for s in proposal.slots} == {1, 2}
    assert proposal.slots[0] == slots[0]


def test_far_venue_is_offered_but_not_for_asap() -> None:
    near = [s for i in range(6) for s in afternoon_run(MONDAY + timedelta(days=i), count=2)]
    far = slot(MONDAY + timedelta(days=20), 10, venue=None)  # home delivery, late
    slots = [*near, far]
    assert far in propose(TimeWish(), slots).slots
    assert far not in propose(TimeWish(asap=True), slots).slots


def test_same_time_same_place_is_shown_once_when_possible() -> None:
    twins = [slot(MONDAY, 16, admin=1), slot(MONDAY, 16, admin=2)]
    later = [slot(MONDAY, 16, 15), slot(MONDAY, 16, 30)]
    proposal = propose(TimeWish(), [*twins, *later], limit=3)
    assert Counter(s.starts_at for s in proposal.slots).most_common(1)[0][1] == 1


def test_only_matching_slots_when_enough_match() -> None:
    slots = [s for i in range(14) for s in afternoon_run(MONDAY + timedelta(days=i), count=1)]
    proposal = propose(TUESDAY_ONLY, slots)
    assert proposal.matched and proposal.matched_count == 2
    assert days_of(proposal)[:2] == [date(2026, 12, 1), date(2026, 12, 8)]
    # only two Tuesdays: topped up to the minimum of three with the earliest other slot
    assert len(proposal.slots) == 3
    assert proposal.slots[2] == slots[0]


def test_no_match_gives_earliest_alternatives_and_reason() -> None:
    wednesday, thursday = date(2026, 12, 2), date(2026, 12, 3)
    slots = [*afternoon_run(wednesday), *afternoon_run(thursday)]
    proposal = propose(TUESDAY_ONLY, slots)
    assert not proposal.matched and proposal.matched_count == 0
    assert proposal.reason == NoMatch(unmet=(WishPart.WEEKDAYS,), first_alternative=slots[0])
    assert proposal.slots[0] == slots[0]
    assert set(days_of(proposal)) == {wednesday, thursday}
    assert len(proposal.slots) == 5


def test_no_match_names_each_part_that_alone_blocks() -> None:
    # Tuesday morning and Wednesday afternoon: dropping either part would give a match
    slots = [slot(date(2026, 12, 1), 9), slot(date(2026, 12, 2), 14)]
    wish = TimeWish(weekdays=frozenset({1}), time_ranges=AFTERNOON)
    reason = propose(wish, slots).reason
    assert reason is not None
    assert reason.unmet == (WishPart.WEEKDAYS, WishPart.TIME_RANGES)


def test_no_match_names_every_part_when_none_alone_blocks() -> None:
    slots = [slot(date(2026, 12, 2), 9)]  # Wednesday morning
    wish = TimeWish(weekdays=frozenset({1}), time_ranges=AFTERNOON)
    reason = propose(wish, slots).reason
    assert reason is not None
    assert reason.unmet == (WishPart.WEEKDAYS, WishPart.TIME_RANGES)


def test_no_match_on_an_exclusion() -> None:
    slots = afternoon_run(MONDAY)
    reason = propose(TimeWish(excluded_weekdays=frozenset({0})), slots).reason
    assert reason is not None and reason.unmet == (WishPart.EXCLUDED_WEEKDAYS,)


def test_unsorted_input_is_sorted() -> None:
    slots = afternoon_run(MONDAY)
    proposal = propose(TimeWish(), list(reversed(slots)), limit=3)
    assert proposal.slots == tuple(slots[:3])


@pytest.mark.parametrize(("limit", "minimum"), [(0, 0), (3, 4), (5, -1)])
def test_bad_limits_are_refused(limit: int, minimum: int) -> None:
    with pytest.raises(ValueError):
        propose(TimeWish(), [], limit=limit, minimum=minimum)


# ---------------------------------------------------------------- properties

_slots = st.lists(
    st.builds(
        slot,
        st.dates(min_value=MONDAY, max_value=MONDAY + timedelta(days=27)),
        st.integers(7, 20),
        st.sampled_from([0, 15, 30, 45]),
        venue=st.sampled_from([None, 1, 2, 3]),
        admin=st.integers(1, 3),
    ),
    max_size=40,
)


@st.composite
def _wishes(draw: st.DrawFn) -> TimeWish:
    hours = draw(st.lists(st.integers(0, 24), min_size=2, max_size=2, unique=True))
    start, end = sorted(hours)
    ranges = ((time(start), END_OF_DAY if end == 24 else time(end)),)
    return TimeWish(
        weekdays=draw(st.frozensets(st.integers(0, 6))),
        time_ranges=draw(st.sampled_from([(), ranges])),
        excluded_weekdays=draw(st.frozensets(st.integers(0, 6), max_size=2)),
        asap=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(_wishes(), _slots, st.integers(1, 7), st.data())
def test_proposal_properties(
    wish: TimeWish, slots: list[Slot], limit: int, data: st.DataObject
) -> None:
    minimum = data.draw(st.integers(0, limit))
    slots.sort(key=lambda s: s.starts_at)
    proposal = propose(wish, slots, limit=limit, minimum=minimum)
    offered = proposal.slots
    assert len(offered) <= limit
    assert len(offered) >= min(minimum, len(slots))
    assert not Counter(offered) - Counter(slots)  # a sub-multiset of the input
    matched = offered[: proposal.matched_count]
    assert all(matches(wish, s.starts_at) for s in matched)
    assert not any(matches(wish, s.starts_at) for s in offered[proposal.matched_count :])
    assert proposal.matched == (proposal.matched_count > 0)
    assert list(matched) == sorted(matched, key=lambda s: s.starts_at)
    if proposal.matched:
        earliest = next(s for s in slots if matches(wish, s.starts_at))
        assert matched[0].starts_at == earliest.starts_at
    else:
        assert proposal.reason is not None
        assert proposal.reason.first_alternative == (offered[0] if offered else None)


# ---------------------------------------------------------------- against a reference


def _reference_propose(wish: TimeWish, slots: list[Slot], limit: int, minimum: int) -> Proposal:
    """The module docstring's rules, spelled out plainly: every slot tested with matches."""
    ordered = sorted(slots, key=lambda s: s.starts_at)
    indexed = list(enumerate(ordered))
    Indexed = tuple[int, Slot]

    def day(c: Indexed) -> Hashable:
        return c[1].starts_at.astimezone(STOCKHOLM).date()

    def venue(c: Indexed) -> Hashable:
        return c[1].venue_id

    def day_venue(c: Indexed) -> Hashable:
        return (day(c), venue(c))

    def venue_start(c: Indexed) -> Hashable:
        return (venue(c), c[1].starts_at)

    passes: list[tuple[Callable[[Indexed], Hashable], ...]] = [
        (day, venue),
        (day,),
        (day_venue,),
        (venue_start,),
        (),
    ]
    if wish.asap:
        passes = passes[1:]

    def spread(candidates: Sequence[Indexed], count: int) -> list[Indexed]:
        chosen: list[Indexed] = []
        for keys in passes:
            for c in candidates:
                new = all(key(c) not in {key(o) for o in chosen} for key in keys)
                if len(chosen) < count and c not in chosen and new:
                    chosen.append(c)
        return sorted(chosen)

    hits = [c for c in indexed if matches(wish, c[1].starts_at)]
    if not hits:
        offered = spread(indexed, limit)
        parts = constrained_parts(wish)
        blocking = tuple(
            p for p in parts if any(matches(relax(wish, p), s.starts_at) for s in ordered)
        )
        reason = NoMatch(
            unmet=(blocking or parts) if ordered else (),
            first_alternative=offered[0][1] if offered else None,
        )
        return Proposal(tuple(s for _, s in offered), False, 0, reason)
    chosen = spread(hits, limit)
    extra = []
    if len(chosen) < minimum:
        extra = spread([c for c in indexed if c not in hits], minimum - len(chosen))
    return Proposal(tuple(s for _, s in (*chosen, *extra)), True, len(chosen))


@st.composite
def _rich_wishes(draw: st.DrawFn) -> TimeWish:
    """Wishes that constrain any mix of parts, so that no-match reasons vary."""
    first = draw(st.dates(min_value=MONDAY, max_value=MONDAY + timedelta(days=27)))
    last = first + timedelta(days=draw(st.integers(0, 10)))
    dates = ((first, last),)
    return TimeWish(
        date_ranges=draw(st.sampled_from([(), dates])),
        weekdays=draw(st.frozensets(st.integers(0, 6), max_size=3)),
        time_ranges=draw(st.sampled_from([(), AFTERNOON, ((time(8), time(10)),)])),
        excluded_date_ranges=draw(st.sampled_from([(), dates])),
        excluded_weekdays=draw(st.frozensets(st.integers(0, 6), max_size=2)),
        excluded_time_ranges=draw(st.sampled_from([(), ((time(12), time(13)),)])),
        asap=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(_wishes(), _rich_wishes()), _slots, st.integers(1, 7), st.data())
def test_propose_equals_the_reference(
    wish: TimeWish, slots: list[Slot], limit: int, data: st.DataObject
) -> None:
    minimum = data.draw(st.integers(0, limit))
    expected = _reference_propose(wish, slots, limit, minimum)
    assert propose(wish, slots, limit=limit, minimum=minimum) == expected
