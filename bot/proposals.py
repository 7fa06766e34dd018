"""Proposals in words: why a wish could not be met, and what to write instead."""

from __future__ import annotations

from datetime import date

from models.i18n import N_, translate
from scheduler.ranking import NoMatch, Proposal
from scheduler.slots import Slot
from scheduler.wishes import TimeWish, WishPart, to_local, unmet_at_clock, unmet_on_day
from scheduler.wording import format_day, format_slot_time, join_or

WEEKDAY_ON = (
    N_("on Monday"),
    N_("on Tuesday"),
    N_("on Wednesday"),
    N_("on Thursday"),
    N_("on Friday"),
    N_("on Saturday"),
    N_("on Sunday"),
)


def _day(day: date, locale: str) -> str:
    return translate("on {date}", locale).format(date=format_day(day, locale))


_DAY_PARTS = (WishPart.WEEKDAYS, WishPart.DATE_RANGES)


def _days(wish: TimeWish, parts: tuple[WishPart, ...], locale: str) -> str | None:
    """The wished days as words after «Ingen tid …», if one of `parts` names them."""
    if WishPart.WEEKDAYS in parts and wish.weekdays:
        return join_or([translate(WEEKDAY_ON[d], locale) for d in sorted(wish.weekdays)], locale)
    if WishPart.DATE_RANGES in parts and wish.date_ranges:
        first, last = wish.date_ranges[0]
        if first == last:
            return _day(first, locale)
        return translate("from {first} to {last}", locale).format(
            first=format_day(first, locale),
            last=format_day(last, locale),
        )
    return None


def _what(wish: TimeWish, reason: NoMatch, nearest: Slot, locale: str) -> str:
    """The part of the wish that could not be met, as words after «Ingen tid …».

    Only what the nearest time fails is named: when it is on a wished day, saying «no time
    on that day» would contradict it, so the day comes with «at that time of day».
    """
    local = to_local(nearest.starts_at)
    failed = set(unmet_on_day(wish, local.date()) + unmet_at_clock(wish, local.time()))
    parts = tuple(part for part in reason.unmet if part in failed) or reason.unmet
    on_a_wished_day = not failed & set(_DAY_PARTS)
    if WishPart.TIME_RANGES in failed and (WishPart.TIME_RANGES in parts or on_a_wished_day):
        # The time of day is what fails: on the wished days, if the wish names any.
        days = _days(wish, _DAY_PARTS, locale)
        if days is None:
            return translate("at that time of day", locale)
        return translate("{days} at that time of day", locale).format(days=days)
    days = _days(wish, parts, locale)
    if days is not None:
        return days
    return translate("that matches your wish", locale)


def explain(proposal: Proposal, wish: TimeWish, locale: str = "sv") -> str | None:
    """One sentence on why the proposals are not (all) what was asked for, or None when they
    are."""
    if proposal.matched:
        if proposal.matched_count >= len(proposal.slots):
            return None
        # Fewer times fit than are shown: the rest come from other days or hours; say so.
        if proposal.matched_count == 1:
            return translate(
                "Only the first time fits your wish; the others are the nearest free times.",
                locale,
            )
        return translate(
            "The first {count} times fit your wish; the others are the nearest free times.",
            locale,
        ).format(count=proposal.matched_count)
    if proposal.reason is None:
        return None
    nearest = proposal.reason.first_alternative
    if nearest is None:
        return translate("There are no free times in the coming weeks.", locale)
    return translate("No time {what} – the nearest is {when}.", locale).format(
        what=_what(wish, proposal.reason, nearest, locale),
        when=format_slot_time(nearest.starts_at, locale),
    )


def not_understood(locale: str = "sv") -> str:
    """The answer to a wish with nothing usable in it; the next free times follow it."""
    return translate(
        "I did not quite understand when you would like to meet. Write for example «tuesday "
        "afternoon» or «after 16», or pick one of the next free times:",
        locale,
    )
