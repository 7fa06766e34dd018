"""Proposals in words: why a wish could not be met, and what to write instead."""

from __future__ import annotations

from datetime import date

from models.i18n import N_, translate
from scheduler.ranking import NoMatch, Proposal
from scheduler.wishes import TimeWish, WishPart
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


def _what(wish: TimeWish, reason: NoMatch, locale: str) -> str:
    """The part of the wish that could not be met, as words after «Ingen tid …»."""
    if WishPart.WEEKDAYS in reason.unmet and wish.weekdays:
        return join_or([translate(WEEKDAY_ON[d], locale) for d in sorted(wish.weekdays)], locale)
    if WishPart.DATE_RANGES in reason.unmet and wish.date_ranges:
        first, last = wish.date_ranges[0]
        if first == last:
            return _day(first, locale)
        return translate("from {first} to {last}", locale).format(
            first=format_day(first, locale),
            last=format_day(last, locale),
        )
    if WishPart.TIME_RANGES in reason.unmet:
        return translate("at that time of day", locale)
    return translate("that matches your wish", locale)


def explain(proposal: Proposal, wish: TimeWish, locale: str = "sv") -> str | None:
    """One sentence on why the proposals are not what was asked for, or None when they are."""
    if proposal.matched or proposal.reason is None:
        return None
    nearest = proposal.reason.first_alternative
    if nearest is None:
        return translate("There are no free times in the coming weeks.", locale)
    return translate("No time {what} – the nearest is {when}.", locale).format(
        what=_what(wish, proposal.reason, locale), when=format_slot_time(nearest.starts_at, locale)
    )


def not_understood(locale: str = "sv") -> str:
    """The answer to a wish with nothing usable in it; the next free times follow it."""
    return translate(
        "I did not quite understand when you would like to meet. Write for example «tuesday "
        "afternoon» or «after 16», or pick one of the next free times:",
        locale,
    )
