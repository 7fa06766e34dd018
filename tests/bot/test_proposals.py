"""Proposals in Swedish words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.proposals import explain, not_understood
from bot.wish_parser import parse_wish
from scheduler.ranking import propose
from scheduler.slots import Slot
from scheduler.wording import format_slot_time

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # Saturday


def slot(moment: datetime) -> Slot:
    return Slot(admin_id=1, venue_id=1, starts_at=moment, ends_at=moment + timedelta(minutes=15))


def test_slot_time_reads_like_swedish() -> None:
    assert (
        format_slot_time(datetime(2026, 12, 3, 13, 0, tzinfo=UTC)) == "torsdag 3 december kl. 14:00"
    )
    # Summer time: 14:00 UTC is 16:00 in Stockholm.
    assert format_slot_time(datetime(2027, 6, 1, 14, 0, tzinfo=UTC)) == "tisdag 1 juni kl. 16:00"


def test_no_match_says_why_and_what_is_nearest() -> None:
    wednesday = slot(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    wish = parse_wish("tisdag", now=NOW)
    proposal = propose(wish, [wednesday])
    assert (
        explain(proposal, wish) == "Ingen tid på tisdag – närmaste är onsdag 2 december kl. 16:00."
    )
    both = parse_wish("tisdag eller torsdag", now=NOW)
    assert explain(propose(both, [wednesday]), both) == (
        "Ingen tid på tisdag eller på torsdag – närmaste är onsdag 2 december kl. 16:00."
    )


def test_a_met_wish_needs_no_explanation() -> None:
    wish = parse_wish("onsdag", now=NOW)
    assert explain(propose(wish, [slot(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))]), wish) is None


def test_not_understood_offers_the_next_step() -> None:
    assert "Skriv till exempel" in not_understood()


def test_a_nearest_time_on_the_wished_day_is_not_denied_the_day() -> None:
    # «i eftermiddag» on Tuesday 1 December: the day has a time, but only after the afternoon;
    # another day has an afternoon time. The answer names the time of day, not the day.
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    evening = slot(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 17:00 in Stockholm
    next_afternoon = slot(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    wish = parse_wish("i eftermiddag", now=now)
    text = explain(propose(wish, [evening, next_afternoon]), wish)
    assert text is not None and "Ingen tid den 1 december –" not in text
    assert text.startswith("Ingen tid den 1 december vid den tiden på dagen – närmaste är")


def test_extra_times_beside_a_met_wish_are_explained() -> None:
    # «den 3/12 kl 8»: one time fits; the others shown come from other days, and it says so.
    thursday_eight = slot(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    others = [slot(datetime(2026, 12, day, 15, 0, tzinfo=UTC)) for day in (1, 2, 4)]
    wish = parse_wish("den 3/12 kl 8", now=NOW)
    proposal = propose(wish, [thursday_eight, *others])
    assert proposal.matched and proposal.matched_count == 1 and len(proposal.slots) >= 3
    assert explain(proposal, wish) == (
        "Bara den första tiden passar din önskan; de andra är de närmaste lediga tiderna."
    )


def test_a_time_of_day_not_free_on_the_wished_day_names_the_day() -> None:
    # «den 3/12 kl 8» with only afternoon times: the day is named with the time of day.
    afternoons = [slot(datetime(2026, 12, day, 15, 0, tzinfo=UTC)) for day in (1, 3)]
    wish = parse_wish("den 3/12 kl 8", now=NOW)
    assert explain(propose(wish, afternoons), wish) == (
        "Ingen tid den 3 december vid den tiden på dagen – närmaste är tisdag 1 december kl. 16:00."
    )
