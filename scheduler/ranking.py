"""Choosing the few slots to offer for a time wish: pure, no I/O, no human text.

Rules: offer up to `limit` slots that match the wish, earliest first, spread over different days
and venues; if fewer than `minimum` match, top up with the earliest other slots. When nothing
matches, offer the earliest slots overall (still spread) and say which wish parts blocked.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from scheduler.slots import Slot
from scheduler.wishes import TimeWish, WishPart, constrained_parts, matches, relax, to_local


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


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int  # position in the sorted input: identity (slots may repeat) and time order
    slot: Slot
    start: datetime  # local (Europe/Stockholm)

    @property
    def day(self) -> date:
        return self.start.date()


_Key = Callable[[_Candidate], Hashable]


def _day(c: _Candidate) -> Hashable:
    return c.day


def _venue(c: _Candidate) -> Hashable:
    return c.slot.venue_id


def _day_venue(c: _Candidate) -> Hashable:
    return (c.day, c.slot.venue_id)


def _venue_start(c: _Candidate) -> Hashable:
    return (c.slot.venue_id, c.slot.starts_at)


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
    for keys in passes:
        seen = [{key(c) for c in chosen.values()} for key in keys]
        for candidate in candidates:
            if len(chosen) >= count:
                break
            if candidate.index in chosen:
                continue
            values = [key(candidate) for key in keys]
            if all(value not in taken for value, taken in zip(values, seen, strict=True)):
                chosen[candidate.index] = candidate
                for value, taken in zip(values, seen, strict=True):
                    taken.add(value)
    return sorted(chosen.values(), key=lambda c: c.index)


def _unmet(wish: TimeWish, candidates: Sequence[_Candidate]) -> tuple[WishPart, ...]:
    """The wish parts whose removal alone would let some slot match."""
    if not candidates:
        return ()
    parts = constrained_parts(wish)
    blocking = tuple(
        part for part in parts if any(matches(relax(wish, part), c.start) for c in candidates)
    )
    return blocking or parts


def propose(wish: TimeWish, slots: Sequence[Slot], *, limit: int = 5, minimum: int = 3) -> Proposal:
    """The slots to offer for a wish: at most limit, at least min(minimum, len(slots))."""
    if limit < 1 or not 0 <= minimum <= limit:
        raise ValueError("need 1 <= limit and 0 <= minimum <= limit")
    ordered = sorted(slots, key=lambda s: s.starts_at)  # cheap when already sorted, as promised
    candidates = [_Candidate(i, s, to_local(s.starts_at)) for i, s in enumerate(ordered)]
    passes = _ASAP_PASSES if wish.asap else _SPREAD_PASSES
    hits = [c for c in candidates if matches(wish, c.start)]
    if not hits:
        offered = _spread(candidates, limit, passes)
        first = offered[0].slot if offered else None
        reason = NoMatch(unmet=_unmet(wish, candidates), first_alternative=first)
        return Proposal(tuple(c.slot for c in offered), False, 0, reason)
    chosen = _spread(hits, limit, passes)
    extra: list[_Candidate] = []
    if len(chosen) < minimum:
        hit_indexes = {c.index for c in hits}
        others = [c for c in candidates if c.index not in hit_indexes]
        extra = _spread(others, minimum - len(chosen), passes)
    offered_slots = tuple(c.slot for c in (*chosen, *extra))
    return Proposal(offered_slots, True, len(chosen))
