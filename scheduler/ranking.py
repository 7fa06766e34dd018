"""Choosing the few slots to offer for a time wish: pure, no I/O, no human text.

Rules: offer up to `limit` slots that match the wish, earliest first, spread over different days
and venues; if fewer than `minimum` match, top up with the earliest other slots. When nothing
matches, offer the earliest slots overall (still spread) and say which wish parts blocked.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import NamedTuple

from scheduler.slots import Slot
from scheduler.wishes import (
    TimeWish,
    WishPart,
    constrained_parts,
    to_local,
    unmet_at_clock,
    unmet_on_day,
)


@dataclass(frozen=True, slots=True)
class NoMatch:
    """Why nothing matched, for the bot to explain.

    unmet: the wish parts that alone stand in the way (dropping any one of them would give a
    match); when no single part does, every constrained part; empty when there are no slots at
    all. first_alternative: the earliest slot offered instead, None when there are no slots.
    """

    unmet: tuple[WishPart, ...]
    first_alternative: Slot | None


@dataclass(frozen=True, slots=True)
class Proposal:
    """Slots to offer; slots[:matched_count] meet the wish, any after them are alternatives."""

    slots: tuple[Slot, ...]
    matched: bool
    matched_count: int
    reason: NoMatch | None = None


class _Candidate(NamedTuple):
    """A slot with what ranking asks about it, worked out once per proposal."""

    position: int  # in the sorted input: identity (slots may repeat) and time order
    slot: Slot
    day: date  # local (Europe/Stockholm) date of the start
    unmet: tuple[WishPart, ...]  # the wish parts the start fails; empty means it matches


_Key = Callable[[_Candidate], Hashable]

# attrgetter rather than small functions: _spread calls these for every candidate and pass.
_day: _Key = attrgetter("day")
_venue: _Key = attrgetter("slot.venue_id")
_day_venue: _Key = attrgetter("day", "slot.venue_id")
_venue_start: _Key = attrgetter("slot.venue_id", "slot.starts_at")
_BY_START = attrgetter("starts_at")


def _candidates(wish: TimeWish, ordered: Sequence[Slot]) -> list[_Candidate]:
    """The slots as candidates, each start converted to local time and tested only once."""
    # Day parts depend only on the local date and clock parts only on the local time, and a
    # horizon has far fewer distinct dates and times than slots: test each of those once.
    starts = [to_local(slot.starts_at) for slot in ordered]
    days = [start.date() for start in starts]
    clocks = [start.time() for start in starts]
    by_day = {day: unmet_on_day(wish, day) for day in set(days)}
    by_clock = {clock: unmet_at_clock(wish, clock) for clock in set(clocks)}
    return [
        _Candidate(position, slot, day, by_day[day] + by_clock[clock])
        for position, (slot, day, clock) in enumerate(zip(ordered, days, clocks, strict=True))
    ]


# Each pass walks the candidates earliest first and takes one whose keys are all new among the
# chosen ones. Earlier passes spread more; the last takes anything, so the result is always full.
_SPREAD_PASSES: tuple[tuple[_Key, ...], ...] = (
    (_day, _venue),  # a new day at a new venue: shows the user their choice of places
    (_day,),  # a new day
    (_day_venue,),  # a new venue on a day already offered
    (_venue_start,),  # avoid two buttons that look the same (same time, same place)
    (),
)
# As soon as possible: do not reach far ahead just to show another venue.
_ASAP_PASSES = _SPREAD_PASSES[1:]


def _spread(
    candidates: Sequence[_Candidate], count: int, passes: tuple[tuple[_Key, ...], ...]
) -> list[_Candidate]:
    """Up to count candidates, spread by the passes, returned in time order."""
    chosen: dict[int, _Candidate] = {}
    variety: dict[_Key, int] = {}  # how many different values a key takes, found on first use
    for keys in passes:
        if len(chosen) >= count:
            break
        for key in keys:
            if key not in variety:
                variety[key] = len(set(map(key, candidates)))
        seen = [{key(c) for c in chosen.values()} for key in keys]
        if _used_up(keys, seen, variety):
            continue
        for candidate in candidates:
            if candidate.position in chosen or any(
                key(candidate) in taken for key, taken in zip(keys, seen, strict=True)
            ):
                continue
            chosen[candidate.position] = candidate
            for key, taken in zip(keys, seen, strict=True):
                taken.add(key(candidate))
            if len(chosen) >= count or _used_up(keys, seen, variety):
                break
    return sorted(chosen.values(), key=attrgetter("position"))


def _used_up(keys: tuple[_Key, ...], seen: list[set[Hashable]], variety: dict[_Key, int]) -> bool:
    """Whether some key has no new value left, so that the pass can take nothing more."""
    # E.g. an office with one venue: without this check the first pass would walk every
    # remaining candidate only to reject each one.
    return any(len(taken) == variety[key] for key, taken in zip(keys, seen, strict=True))


def _unmet(wish: TimeWish, candidates: Sequence[_Candidate]) -> tuple[WishPart, ...]:
    """The wish parts whose removal alone would let some slot match (none matches as is)."""
    if not candidates:
        return ()
    parts = constrained_parts(wish)
    # Each test reads only its own part, so relax(wish, part) matches a slot exactly when
    # part is the only one the slot fails: no need to re-test every slot for every part.
    alone = {c.unmet[0] for c in candidates if len(c.unmet) == 1}
    blocking = tuple(part for part in parts if part in alone)
    return blocking or parts


def propose(wish: TimeWish, slots: Sequence[Slot], *, limit: int = 5, minimum: int = 3) -> Proposal:
    """The slots to offer for a wish: at most limit, at least min(minimum, len(slots))."""
    if limit < 1 or not 0 <= minimum <= limit:
        raise ValueError("need 1 <= limit and 0 <= minimum <= limit")
    ordered = sorted(slots, key=_BY_START)  # cheap when already sorted, as promised
    candidates = _candidates(wish, ordered)
    passes = _ASAP_PASSES if wish.asap else _SPREAD_PASSES
    hits = [c for c in candidates if not c.unmet]
    if not hits:
        offered = _spread(candidates, limit, passes)
        first = offered[0].slot if offered else None
        reason = NoMatch(unmet=_unmet(wish, candidates), first_alternative=first)
        return Proposal(tuple(c.slot for c in offered), False, 0, reason)
    chosen = _spread(hits, limit, passes)
    extra: list[_Candidate] = []
    if len(chosen) < minimum:
        others = [c for c in candidates if c.unmet]
        extra = _spread(others, minimum - len(chosen), passes)
    offered_slots = tuple(c.slot for c in (*chosen, *extra))
    return Proposal(offered_slots, True, len(chosen))
