"""The card user's questions answered in words: hello and thanks, where we meet (with a map
link built from the address), how long the card is kept, what happens if one cannot come."""

from __future__ import annotations

from urllib.parse import quote_plus

from bot.dialogue import Conversation
from models.cards import Card, CardStatus, CardUser
from models.network import Office, Venue
from models.zone import STOCKHOLM
from scheduler import booking
from scheduler.custody import UNCOLLECTED_AFTER
from scheduler.wording import format_day

MAPS_URL = "https://www.google.com/maps/search/?api=1&query="


def map_link(address: str) -> str:
    """A map search for the address, which opens in the phone's map app."""
    return MAPS_URL + quote_plus(address)


def venue_lines(conv: Conversation, venue: Venue) -> str:
    """«Café Linné, Svartbäcksgatan 22, 753 33 Uppsala» and its map link."""
    return "\n".join(
        (
            f"{venue.name}, {venue.address}",
            conv._("Map: {url}").format(url=map_link(venue.address)),
        )
    )


def greeting(conv: Conversation, user: CardUser) -> str:
    return conv._("Hello, {name}! Ask me about your SITHS card, or choose below.").format(
        name=user.given_name
    )


def thanks(conv: Conversation) -> str:
    return conv._("You are welcome!")


def goodbye(conv: Conversation) -> str:
    return conv._("Goodbye! Write here whenever you need me.")


def nothing_changed(conv: Conversation) -> str:
    return conv._("OK, nothing is changed.")


def write_needs_a_meeting(conv: Conversation, card: Card | None) -> str:
    """Nobody to write to before a time is booked: the meeting names the administrator."""
    text = conv._("You can write to the ID administrator once you have booked a time.")
    if card is not None and card.status == CardStatus.in_custody:
        text += " " + conv._("Your card is waiting for you: book a time here.")
    return text


def sent(conv: Conversation, name: str) -> str:
    return conv._("Sent to {name}. The answer comes here.").format(name=name)


def not_sent(conv: Conversation) -> str:
    return conv._("OK, the message was not sent.")


def keep_time(conv: Conversation, card: Card | None, office: Office | None) -> str:
    """How long the office keeps the card, and until when this card is kept."""
    days = UNCOLLECTED_AFTER.days
    text = conv._(
        "The office keeps your card for {days} days after it has arrived. A card that is not "
        "collected by then goes back to the issuer, and a new one has to be ordered."
    ).format(days=days)
    if card is not None and card.status == CardStatus.in_custody and office is not None:
        since = card.in_custody_since or card.status_changed_at
        last = (since + UNCOLLECTED_AFTER).astimezone(STOCKHOLM).date()
        text += "\n\n" + conv._("Your card is at {office}: book a time before {day}.").format(
            office=office.name, day=format_day(last, conv.locale)
        )
    return text


def cant_come(conv: Conversation) -> str:
    hours = int(booking.CANCEL_CUTOFF.total_seconds() // 3600)
    return conv._(
        "No problem. Change your time or cancel it here, so that the time is free for someone "
        "else. It can be done in the chat until {hours} hours before the time."
    ).format(hours=hours)


def where_no_meeting(conv: Conversation, office: Office, venues: list[Venue]) -> str:
    """The office's meeting places, when the card user has no time yet."""
    if not venues:
        return conv._("Your card is handed out by {office} in {city}.").format(
            office=office.name, city=office.city
        )
    lines = [
        conv._("{office} hands out cards at these places; your booking says which:").format(
            office=office.name
        )
    ]
    lines += [venue_lines(conv, venue) for venue in venues]
    return "\n\n".join(lines)


def switch_to_english(conv: Conversation) -> str:
    return conv._("You wrote in English. Would you like me to write in English from now on?")
