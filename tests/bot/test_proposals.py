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
