"""The card user's side of the chat: where the card is, and booking, moving or cancelling the
meeting where it is handed out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot import card_user_answers as answers
from bot import clarify
from bot.accounts import SMS
from bot.dialogue import Button, Conversation
from bot.proposals import explain, not_understood
from bot.understanding import Context, Intent, Reading, Speaker, step_of, understand
from bot.understanding.home_delivery import asks_for_home_delivery
from bot.wish_parser import parse_wish
from models.cards import Card, CardStatus, CardUser
from models.errors import DomainError, InvalidInput
from models.i18n import N_, translate
from models.lifecycle import FINAL_CARD_STATES, Role
from models.meetings import Meeting, MeetingStatus, standing
from models.network import Admin, Office, Venue
from models.validation import normalize_home_address
from models.zone import STOCKHOLM
from scheduler import booking, notifications, relay
from scheduler.actions import (
    Action,
    BookProposal,
    Command,
    Name,
    QuickWish,
    SetLanguage,
    WishKey,
)
from scheduler.availability import load_availability
from scheduler.ranking import propose
from scheduler.slots import Slot, slot_from_data, slot_to_data
from scheduler.wishes import TimeWish
from scheduler.wording import (
    format_day,
    format_slot_time,
    place_of_meeting,
    place_of_slot,
    released_sentence,
    what_to_bring,
    what_to_bring_briefly,
)


class CardStep(StrEnum):
    """Where a card user's chat stands (DialogueState.step)."""

    idle = "idle"  # the menu, or an answer with the menu under it
    wish = "wish"  # asked when the user can come
    pick = "pick"  # free times offered
    summary = "summary"  # «Stämmer det här?» before booking
    cancel = "cancel"  # «Vill du avboka den här tiden?»
    write = "write"  # asked for the words to pass to the administrator
    write_confirm = "write_confirm"  # «Skicka till Anna: "…"?»
    address = "address"  # asked for the address of a home delivery


class CardOffer(StrEnum):
    """A card user's buttons for one object, kept with the chat's offers."""

    pick = "pick"  # a free time
    confirm = "confirm"  # «Bekräfta» under the summary of the chosen time
    cancel = "cancel"  # «Avboka» under «Vill du avboka den här tiden?»
    relay_send = "relay_send"  # «Ja» under «Skicka till Anna: "…"?»
    home = "home"  # «Hemleverans» among the ways to meet: ask for the address


# Menu words: the label's msgid, and the command its button (or the typed word) runs.
STATUS_LABEL = N_("Where is my card?")
BOOK_LABEL = N_("Book")
MOVE_LABEL = N_("Change time")
CANCEL_LABEL = N_("Cancel booking")
HELP_LABEL = N_("Help")
MENU_LABEL = N_("Menu")
CONFIRM_LABEL = N_("Confirm")
OTHER_TIMES_LABEL = N_("Other times")
KEEP_LABEL = N_("Keep the time")
YES_LABEL = N_("Yes")
NO_LABEL = N_("No")
HOME_DELIVERY_LABEL = N_("Home delivery")
WORDS = {
    STATUS_LABEL: Name.status,
    BOOK_LABEL: Name.book,
    MOVE_LABEL: Name.move,
    CANCEL_LABEL: Name.cancel,
    HELP_LABEL: Name.help,
    MENU_LABEL: Name.menu,
}
# Steps where the quick wish buttons are shown.
_CHOOSING = (CardStep.wish, CardStep.pick)
COMMANDS = {
    "status": Name.status,
    "boka": Name.book,
    "avboka": Name.cancel,
    "meny": Name.menu,
    "hjalp": Name.help,
}
# Quick wishes: the button's label and the words the parser reads for it.
QUICK_WISHES = (
    (WishKey.asap, N_("As soon as possible"), "snarast"),
    (WishKey.morning, N_("Morning"), "förmiddag"),
    (WishKey.afternoon, N_("Afternoon"), "eftermiddag"),
)
QUICK_DAYS = (
    (WishKey.mon, N_("Mon"), "måndag"),
    (WishKey.tue, N_("Tue"), "tisdag"),
    (WishKey.wed, N_("Wed"), "onsdag"),
    (WishKey.thu, N_("Thu"), "torsdag"),
    (WishKey.fri, N_("Fri"), "fredag"),
)
QUICK_TEXT = {key: words for key, _, words in (*QUICK_WISHES, *QUICK_DAYS)}
SHIPPING_WEEKS = (2, 4)
# A «ja» at the menu says «I am coming» to a confirmed time this close (the day-before reminder
# asks for it, and goes out at most 36 hours ahead: 20:00 the evening before a morning time).
ATTENDANCE_WINDOW = timedelta(hours=48)

STATUS_TEXTS = {
    CardStatus.ordered: N_(
        "Your SITHS card is ordered. It will be sent by registered mail (REK) to {office}."
    ),
    CardStatus.shipped: N_("Your SITHS card is on its way by registered mail (REK) to {office}."),
    CardStatus.notified: N_(
        "The notice (avi) for your SITHS card has reached {office}. The ID administrator "
        "collects the card at the postal agent, and then you can book a time."
    ),
    CardStatus.in_custody: N_(
        "Your SITHS card is at {office} and waits for you. Book a time to pick it up."
    ),
    CardStatus.booked: N_("Your SITHS card is at {office}, and you have a time to pick it up."),
    CardStatus.in_transfer: N_(
        "Your SITHS card is being handed over to another ID administrator. You can book a time "
        "as soon as it has arrived."
    ),
    CardStatus.handed_out: N_("Your SITHS card has been handed out to you. Nothing more to do."),
    CardStatus.returned: N_(
        "Your SITHS card was not collected and has gone back to the issuer. Contact the one "
        "who ordered it for a new card."
    ),
    CardStatus.revoked: N_(
        "Your SITHS card has been revoked. Contact the one who ordered it for a new card."
    ),
}


# In custody with a request waiting for the admin: nothing to book.
REQUESTED_TEXT = N_("Your SITHS card is at {office} and waits for you.")


def _words(conv: Conversation, text: str) -> Name | None:
    """The command a typed menu word means, in Swedish or the chat's language."""
    folded = text.strip().rstrip("?!.").casefold()
    for label, name in WORDS.items():
        for locale in {"sv", conv.locale}:
            if translate(label, locale).rstrip("?").casefold() == folded:
                return name
    return None


_Move = aliased(Meeting)


def _cards_query(*conditions: Any) -> Any:
    """Card users with each of their cards, its office, its standing meeting and a move of it
    waiting for the admin, newest card first."""
    waiting = and_(
        col(_Move.card_id) == Card.id,
        col(_Move.replaces_meeting_id) == Meeting.id,
        col(_Move.status) == MeetingStatus.requested,
    )
    return (
        select(CardUser, Card, Office, Meeting)
        .add_columns(_Move)
        .outerjoin(Card, col(Card.card_user_id) == CardUser.id)
        .outerjoin(Office, col(Office.id) == Card.office_id)
        .outerjoin(Meeting, and_(col(Meeting.card_id) == Card.id, standing()))
        .outerjoin(_Move, waiting)
        .where(*conditions)
        .order_by(col(Card.ordered_at).desc())
    )


# Built once with parameters: composing a statement costs more than running it from cache.
_LINKED_USER_CARDS = _cards_query(
    col(CardUser.id) == bindparam("card_user_id"),
    col(CardUser.telegram_user_id) == bindparam("telegram_user_id"),
)
_USER_CARDS = _cards_query(col(CardUser.id) == bindparam("card_user_id"))
_PHONE_USER_CARDS = _cards_query(
    col(CardUser.id) == bindparam("card_user_id"),
    col(CardUser.phone) == bindparam("phone"),
)


async def _load_cards(conv: Conversation, query: Any, **params: Any) -> CardUser | None:
    """Run a `_cards_query` for one card user; remember the cards, offices and meetings."""
    rows = (await conv.session.exec(query, params=params)).all()
    if not rows:
        return None
    user = rows[0][0]
    cards = [card for _, card, _, _, _ in rows if card is not None]
    conv.memo[("cards", user.id)] = cards
    for _, card, office, meeting, move in rows:
        if card is not None:
            conv.memo[("meeting", card.id)] = meeting
            conv.memo[("move", card.id)] = move
            # Kept here: the identity map holds objects only while something refers to them.
            conv.memo[("office", card.office_id)] = office
    return user


async def linked_user(conv: Conversation, card_user_id: int) -> CardUser | None:
    """The card user this chat's hint names, if still linked to the sender, with their cards:
    by the Telegram account, or by SMS the phone number.

    One query instead of two on every update from a card user: who writes, and their cards.
    """
    if conv.incoming.channel == SMS:
        return await _load_cards(
            conv, _PHONE_USER_CARDS, card_user_id=card_user_id, phone=conv.incoming.chat_key
        )
    return await _load_cards(
        conv,
        _LINKED_USER_CARDS,
        card_user_id=card_user_id,
        telegram_user_id=conv.incoming.user_id,
    )


async def _current_card(conv: Conversation, user: CardUser) -> Card | None:
    """The card the chat is about: the newest one still on its way, else the newest."""
    if ("cards", user.id) not in conv.memo:
        await _load_cards(conv, _USER_CARDS, card_user_id=user.id)
    cards: list[Card] = conv.memo.get(("cards", user.id), [])
    open_cards = [card for card in cards if card.status not in FINAL_CARD_STATES]
    candidates = open_cards or cards
    return candidates[0] if candidates else None


def _menu_buttons(conv: Conversation, card: Card | None, meeting: Meeting | None) -> list[Button]:
    buttons = [conv.command(conv._(STATUS_LABEL), Name.status)]
    if meeting is not None:
        buttons += [
            conv.command(conv._(MOVE_LABEL), Name.move),
            conv.command(conv._(CANCEL_LABEL), Name.cancel),
        ]
    elif card is not None and card.status == CardStatus.in_custody:
        buttons.append(conv.command(conv._(BOOK_LABEL), Name.book))
    return buttons


async def _menu(conv: Conversation, card: Card | None, text: str | None = None) -> None:
    """The choices that fit the card's state right now."""
    meeting = await _meeting(conv, card)
    conv.go(CardStep.idle)
    conv.say(
        text or conv._("What would you like to do?"),
        _menu_buttons(conv, card, meeting),
        [conv.command(conv._(HELP_LABEL), Name.help)],
    )


async def _meeting(conv: Conversation, card: Card | None) -> Meeting | None:
    """The card's standing meeting, read at most once per update until an action changes it."""
    if card is None or card.id is None:
        return None
    key = ("meeting", card.id)
    if key not in conv.memo:
        conv.memo[key] = await booking.active_meeting(conv.session, card_id=card.id)
    return conv.memo[key]


async def _pending_move(conv: Conversation, card: Card | None) -> Meeting | None:
    """The move of the card's confirmed meeting that waits for the admin, if any."""
    meeting = await _meeting(conv, card)
    if card is None or meeting is None:
        return None
    key = ("move", card.id)
    if key not in conv.memo:
        conv.memo[key] = await booking.pending_move_of(conv.session, meeting)
    return conv.memo[key]


async def _office(conv: Conversation, card: Card) -> Office:
    """The card's office, as `_current_card` loaded it (or read now)."""
    key = ("office", card.office_id)
    if key not in conv.memo:
        conv.memo[key] = await conv.session.get(Office, card.office_id)
    office: Office | None = conv.memo[key]
    assert office is not None
    return office


async def _status(conv: Conversation, card: Card | None, lead: str | None = None) -> None:
    """Where the card is, in plain words, and what happens next (after `lead`, if given)."""
    if card is None:
        await _menu(conv, card, conv._("There is no card order in your name right now."))
        return
    office = await _office(conv, card)
    meeting = await _meeting(conv, card)
    text = STATUS_TEXTS[card.status]
    if card.status == CardStatus.in_custody and meeting is not None:
        text = REQUESTED_TEXT
    parts = [lead] if lead else []
    parts.append(conv._(text).format(office=f"{office.name} ({office.city})"))
    if card.status in (CardStatus.ordered, CardStatus.shipped):
        parts.append(_expected(conv, card))
    if meeting is not None:
        parts.append(await _meeting_text(conv, meeting, await _pending_move(conv, card)))
    await _menu(conv, card, "\n\n".join(parts))


def _expected(conv: Conversation, card: Card) -> str:
    """Registered mail takes 2–4 weeks from shipping (or ordering)."""
    since = card.status_changed_at.astimezone(STOCKHOLM).date()
    first, last = (since + timedelta(weeks=w) for w in SHIPPING_WEEKS)
    return conv._(
        "It usually takes 2–4 weeks, so expect it between {first} and {last}. You will hear "
        "from us when it has arrived, and then you can book a time."
    ).format(
        first=format_day(first, conv.locale),
        last=format_day(last, conv.locale),
    )


async def _meeting_text(conv: Conversation, meeting: Meeting, move: Meeting | None) -> str:
    """The standing time, and the time it is to move to once the admin confirms."""
    place = await place_of_meeting(conv.session, meeting)
    if meeting.status == MeetingStatus.requested:
        heading = conv._("Your requested time (waiting for {name} to confirm):").format(
            name=place.admin.first_name
        )
    else:
        heading = conv._("Your time is booked:")
    lines = [heading, place.lines(conv.locale)]
    if move is not None:
        wish = await place_of_meeting(conv.session, move)
        lines += [
            "",
            conv._("You asked to move it to (waiting for {name} to confirm):").format(
                name=wish.admin.first_name
            ),
            wish.lines(conv.locale),
            "",
            conv._("Until then, your booked time stands."),
        ]
    return "\n".join((*lines, what_to_bring(conv.locale)))


async def _ask_wish(conv: Conversation, card: Card | None, *, move: Meeting | None) -> None:
    """Ask when the user can come: free text or quick buttons."""
    if card is None or (move is None and card.status != CardStatus.in_custody):
        await _status(conv, card)
        return
    if move is None and await _meeting(conv, card) is not None:
        await _menu(conv, card, conv._("You already have a time. Change it or cancel it here."))
        return
    moving = move.id if move is not None else None
    conv.go(CardStep.wish, move=moving)
    home = await _home_delivery_offered(conv, card)
    conv.say(
        conv._(
            "When would suit you? Write in your own words, for example «tuesday afternoon» or "
            "«after 16», or choose:"
        ),
        [conv.button(conv._(label), QuickWish(key)) for key, label, _ in QUICK_WISHES],
        [conv.button(conv._(label), QuickWish(key)) for key, label, _ in QUICK_DAYS],
        *([[conv.offer(conv._(HOME_DELIVERY_LABEL), CardOffer.home, move=moving)]] if home else []),
        [conv.command(conv._(MENU_LABEL), Name.menu)],
    )


async def _home_delivery_offered(conv: Conversation, card: Card) -> bool:
    """Whether an admin of the card's office offers home delivery."""
    query = select(Admin.id).where(Admin.office_id == card.office_id, col(Admin.home_delivery))
    return (await conv.session.exec(query)).first() is not None


async def _ask_address(conv: Conversation, card: Card | None, move: int | None) -> None:
    """«Hemleverans»: where to, as a Swedish street address."""
    if card is None or not await _home_delivery_offered(conv, card):
        office = await _office(conv, card) if card is not None else None
        text = conv._("{office} does not offer home delivery. Choose a time at a meeting place.")
        conv.say(text.format(office=office.name if office else ""))
        await _ask_wish(conv, card, move=await _meeting(conv, card) if move else None)
        return
    conv.go(CardStep.address, move=move)
    conv.say(
        conv._(
            "Which address should the card be brought to? Write the street and number, the "
            "postcode and the town, for example «Storgatan 12, 753 20 Uppsala». Only the ID "
            "administrator who comes sees it."
        ),
        [conv.command(conv._(MENU_LABEL), Name.menu)],
    )


async def _address(conv: Conversation, card: Card | None, text: str) -> bool:
    """The typed address: kept encrypted, and the free home-delivery times offered. False when
    the text reads as no address and holds no digit (another question, for the general
    reading)."""
    try:
        address = normalize_home_address(text)
    except InvalidInput as problem:
        if not any(ch.isdigit() for ch in text):
            return False
        conv.go(CardStep.address, move=conv.get("move"))
        conv.say(
            conv._("That address could not be read: it {problem}.").format(
                problem=problem.translated(conv.locale)
            ),
            [conv.command(conv._(MENU_LABEL), Name.menu)],
        )
        return True
    if card is None:
        await _menu(conv, card)
        return True
    office = await _office(conv, card)
    availability = await load_availability(conv.session, office, now=conv.now)
    free = availability.free(now=conv.now, home_delivery=True)
    proposal = propose(parse_wish("snarast", now=conv.now), free)
    if not proposal.slots:
        await _menu(conv, card, conv._("There are no free times for home delivery right now."))
        return True
    # The address is not said back: by SMS the answer would keep it in the outbox, in clear.
    intro = conv._("Home delivery to the address you gave. These times are free:")
    await _offer_slots(
        conv, proposal.slots, intro, move=conv.get("move"), home=conv.vault.encrypt(address)
    )
    return True


async def _offer_slots(
    conv: Conversation,
    slots: tuple[Slot, ...] | list[Slot],
    intro: str,
    *,
    move: int | None,
    home: str | None = None,
) -> None:
    """The slots as buttons, each labelled with its day and HH:MM time and venue; a home
    delivery's carry its address, encrypted."""
    venue_ids = {slot.venue_id for slot in slots if slot.venue_id is not None}
    venues = (await conv.session.exec(select(Venue).where(col(Venue.id).in_(venue_ids)))).all()
    venue_names = {venue.id: venue.name for venue in venues}
    buttons = []
    for slot in slots:
        label = format_slot_time(slot.starts_at, conv.locale)
        if name := venue_names.get(slot.venue_id):
            label = f"{label} · {name}"
        elif slot.venue_id is None:
            label = f"{label} · {conv._(HOME_DELIVERY_LABEL)}"
        where = {"home": home} if home is not None and slot.venue_id is None else {}
        buttons.append(
            [conv.offer(label, CardOffer.pick, move=move, **where, **slot_to_data(slot))]
        )
    conv.go(CardStep.pick, move=move)
    conv.say(intro, *buttons, [conv.command(conv._(MENU_LABEL), Name.menu)])


async def _propose(conv: Conversation, card: Card | None, text: str) -> None:
    """Read the wish, and offer 3–5 free times that fit it (or the nearest ones)."""
    await _propose_wish(conv, card, parse_wish(text, now=conv.now))


async def _propose_wish(
    conv: Conversation, card: Card | None, wish: TimeWish, *, intro: str | None = None
) -> None:
    """Offer 3–5 free times that fit a wish read already (or the nearest ones)."""
    if card is None:
        await _menu(conv, card)
        return
    move = conv.get("move")
    office = await _office(conv, card)
    availability = await load_availability(conv.session, office, now=conv.now)
    free = availability.free(now=conv.now)
    proposal = propose(wish, free)
    if not proposal.slots:
        await _menu(
            conv,
            card,
            conv._(
                "There are no free times at {office} in the coming weeks. Try again in a few "
                "days, when new times have been added."
            ).format(office=office.name),
        )
        return
    if intro is None and not wish.understood:
        intro = not_understood(conv.locale)
    elif intro is None:
        intro = explain(proposal, wish, conv.locale) or conv._("These times are free:")
    await _offer_slots(conv, proposal.slots, intro, move=move)


async def _summary(conv: Conversation, card: Card | None, offer: dict[str, Any]) -> None:
    """Everything about the chosen time, for the user to confirm, and what becomes of the time
    it replaces."""
    slot = slot_from_data(offer)
    place = await place_of_slot(conv.session, slot)
    lines = [conv._("Is this right?"), place.lines(conv.locale), what_to_bring(conv.locale)]
    at_once = place.admin.auto_confirm or offer.get("preapproved") == slot.admin_id
    if not at_once:
        lines.append(
            conv._("{name} confirms the time, and you will get the answer here.").format(
                name=place.admin.first_name
            )
        )
    meeting = await _meeting(conv, card) if offer.get("move") is not None else None
    if meeting is not None:
        old = format_slot_time(meeting.starts_at, conv.locale)
        if at_once or meeting.status == MeetingStatus.requested:
            lines.append(conv._("Your time {when} is released when you confirm.").format(when=old))
        else:
            lines.append(
                conv._("Your time {when} stands until {name} has confirmed the new one.").format(
                    when=old, name=place.admin.first_name
                )
            )
    conv.go(CardStep.summary, move=offer.get("move"))
    conv.say(
        "\n\n".join(lines),
        [conv.offer(conv._(CONFIRM_LABEL), CardOffer.confirm, **offer)],
        [
            conv.command(conv._(OTHER_TIMES_LABEL), Name.again),
            conv.command(conv._(MENU_LABEL), Name.menu),
        ],
    )


async def _book(conv: Conversation, user: CardUser, card: Card, offer: dict[str, Any]) -> None:
    """Request the slot (or move to it); a lost race offers times nearby."""
    assert card.id is not None and user.id is not None
    slot = slot_from_data(offer)
    move = offer.get("move")
    if move is None:
        result = await booking.request_booking(
            conv.session,
            card_id=card.id,
            card_user_id=user.id,
            slot=slot,
            home_address_encrypted=offer.get("home"),
            now=conv.now,
            preapproved_by=offer.get("preapproved"),
            extra_after=conv.tariffs.extra_meeting_reasons,
        )
    else:
        result = await booking.reschedule(
            conv.session,
            meeting_id=int(move),
            card_user_id=user.id,
            slot=slot,
            home_address_encrypted=offer.get("home"),
            now=conv.now,
            preapproved_by=offer.get("preapproved"),
            extra_after=conv.tariffs.extra_meeting_reasons,
        )
    conv.memo.clear()
    if isinstance(result, booking.SlotTaken):
        if not result.alternatives:
            await _menu(conv, card, conv._("Someone just took that time, and no other is free."))
            return
        await _offer_slots(
            conv,
            result.alternatives,
            conv._("Someone just took that time. These are free close to it:"),
            move=move,
        )
        return
    meeting = result.meeting
    place = await place_of_meeting(conv.session, meeting)
    if meeting.status == MeetingStatus.confirmed:
        heading = conv._("Done! Your time is booked.")
    else:
        heading = conv._(
            "Your request is sent. {name} confirms it, and you will get the answer here."
        ).format(name=place.admin.first_name)
    parts = [heading, place.lines(conv.locale)]
    parts += [released_sentence(old, conv.locale) for old in result.released]
    if meeting.replaces_meeting_id is not None:
        kept = await conv.session.get(Meeting, meeting.replaces_meeting_id)
        assert kept is not None
        parts.append(
            conv._("Your time {when} stands until {name} has confirmed the new one.").format(
                when=format_slot_time(kept.starts_at, conv.locale), name=place.admin.first_name
            )
        )
    await _menu(conv, card, "\n\n".join((*parts, what_to_bring(conv.locale))))


async def _ask_cancel(conv: Conversation, card: Card | None) -> None:
    meeting = await _meeting(conv, card)
    if meeting is None:
        await _menu(conv, card, conv._("You have no booked time to cancel."))
        return
    place = await place_of_meeting(conv.session, meeting)
    question = conv._("Do you want to cancel this time?") + "\n" + place.lines(conv.locale)
    move = await _pending_move(conv, card)
    if move is not None:
        question += "\n\n" + conv._("Your request to move it to {when} is withdrawn too.").format(
            when=format_slot_time(move.starts_at, conv.locale)
        )
    conv.go(CardStep.cancel)
    conv.say(
        question,
        [
            conv.offer(conv._(CANCEL_LABEL), CardOffer.cancel, meeting=meeting.id),
            conv.command(conv._(KEEP_LABEL), Name.menu),
        ],
    )


async def _cancel(conv: Conversation, user: CardUser, card: Card, meeting_id: int) -> None:
    assert user.id is not None
    await booking.cancel(
        conv.session,
        meeting_id=meeting_id,
        role=Role.card_user,
        actor_id=user.id,
        now=conv.now,
    )
    conv.memo.clear()
    office = await _office(conv, card)
    await _menu(
        conv,
        card,
        conv._(
            "Your time is cancelled. The card stays at {office}; book a new time when it suits you."
        ).format(office=office.name),
    )


async def _move(conv: Conversation, card: Card | None) -> None:
    meeting = await _meeting(conv, card)
    if meeting is None:
        await _ask_wish(conv, card, move=None)
        return
    if meeting.starts_at - booking.CANCEL_CUTOFF < conv.now:
        await _menu(
            conv,
            card,
            conv._(
                "Your time starts within {hours} hours and can no longer be changed in the chat."
            ).format(hours=int(booking.CANCEL_CUTOFF.total_seconds() // 3600)),
        )
        return
    await _ask_wish(conv, card, move=meeting)


def help_text(conv: Conversation) -> str:
    """The commands a card user has, and what to bring."""
    return "\n".join(
        (
            conv._("This is how I can help you with your SITHS card:"),
            conv._("/status – where your card is"),
            conv._("/boka – book a time to pick up the card"),
            conv._("/avboka – cancel or change your time"),
            conv._("/meny – the menu"),
            conv._("/language – Svenska or English"),
            conv._(
                "Or just write, for example «when is my time?», «tuesday afternoon» or «I want "
                "to cancel»."
            ),
            conv._(
                "Once you have a time, you can write to the ID administrator here, for example "
                "«tell the admin I am ten minutes late»."
            ),
            "",
            what_to_bring(conv.locale),
        )
    )


async def _show_status(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _status(conv, card)


async def _ask_book(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _ask_wish(conv, card, move=None)


async def _ask_move(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _move(conv, card)


async def _ask_to_cancel(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _ask_cancel(conv, card)


async def _show_menu(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _menu(conv, card)


async def _show_help(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _menu(conv, card, help_text(conv))


async def _other_times(conv: Conversation, user: CardUser, card: Card | None) -> None:
    """«Andra tider» at the summary: ask again, for a booking or for the move under way."""
    move = conv.get("move")
    meeting = await _meeting(conv, card)
    await _ask_wish(conv, card, move=meeting if move is not None else None)


async def _ask_to_write(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _ask_write(conv, user, card, None)


async def _not_sent(conv: Conversation, user: CardUser, card: Card | None) -> None:
    await _menu(conv, card, answers.not_sent(conv))


async def _attend_pressed(conv: Conversation, user: CardUser, card: Card | None) -> None:
    """«Jag kommer» under the day-before reminder (stale once the time is gone or moved far)."""
    meeting = await _attending(conv, card)
    if meeting is None:
        await _stale(conv, card)
        return
    await _attend(conv, user, card, meeting)


_Run = Callable[[Conversation, CardUser, Card | None], Awaitable[None]]
# What each of a card user's commands does; any other command is stale.
_COMMANDS: dict[Name, _Run] = {
    Name.write: _ask_to_write,
    Name.write_no: _not_sent,
    Name.status: _show_status,
    Name.book: _ask_book,
    Name.move: _ask_move,
    Name.cancel: _ask_to_cancel,
    Name.menu: _show_menu,
    Name.help: _show_help,
    Name.again: _other_times,
    Name.attend: _attend_pressed,
}


async def _run(conv: Conversation, user: CardUser, card: Card | None, action: Action) -> None:
    """Run a menu command, or a quick wish while a time is asked for."""
    if isinstance(action, QuickWish) and conv.step in _CHOOSING:
        await _propose(conv, card, QUICK_TEXT[action.key])
    elif isinstance(action, Command) and action.name in _COMMANDS:
        await _COMMANDS[action.name](conv, user, card)
    else:
        await _stale(conv, card)


async def _stale(conv: Conversation, card: Card | None) -> None:
    await _menu(conv, card, conv._("That button is no longer valid. Here are your choices now:"))


async def _proposed(conv: Conversation, user: CardUser, card: Card | None, meeting_id: int) -> None:
    """The time an admin proposed instead of the user's own: its summary, pre-approved."""
    assert user.id is not None
    proposal = None
    try:
        meeting = await booking.meeting_for_actor(
            conv.session, meeting_id=meeting_id, role=Role.card_user, actor_id=user.id
        )
    except DomainError:
        meeting = None
    if meeting is not None and card is not None and card.id == meeting.card_id:
        proposal = notifications.proposal_of(meeting)
    if proposal is None:
        await _stale(conv, card)
        return
    offer: dict[str, Any] = {**slot_to_data(proposal), "preapproved": proposal.admin_id}
    # The card has a time already (a declined move leaves it standing): the proposal moves it.
    if (standing := await _meeting(conv, card)) is not None:
        offer["move"] = standing.id
    await _summary(conv, card, offer)


async def _picked(conv: Conversation, user: CardUser, card: Card, offer: dict[str, Any]) -> None:
    await _summary(conv, card, offer)


async def _cancel_offered(
    conv: Conversation, user: CardUser, card: Card, offer: dict[str, Any]
) -> None:
    await _cancel(conv, user, card, int(offer["meeting"]))


async def _meant(conv: Conversation, user: CardUser, card: Card, offer: dict[str, Any]) -> None:
    """A «Menade du …?» button: the reading it stands for, carried out."""
    context = await _context(conv, card)
    reading = clarify.meant(offer, context, locale=conv.locale, now=conv.now)
    await _act(conv, user, card, reading)


async def _send_offered(
    conv: Conversation, user: CardUser, card: Card, offer: dict[str, Any]
) -> None:
    await _send_message(conv, user, card, str(offer.get("text", "")))


async def _home_offered(
    conv: Conversation, user: CardUser, card: Card, offer: dict[str, Any]
) -> None:
    await _ask_address(conv, card, offer.get("move"))


_Pressed = Callable[[Conversation, CardUser, Card, dict[str, Any]], Awaitable[None]]
# What each offered button does with the object it carries (a time, a meeting, a reading).
_OFFERS: dict[str, _Pressed] = {
    CardOffer.pick: _picked,
    CardOffer.confirm: _book,
    CardOffer.cancel: _cancel_offered,
    CardOffer.relay_send: _send_offered,
    CardOffer.home: _home_offered,
    clarify.MEANT: _meant,
}


async def _press(
    conv: Conversation, user: CardUser, card: Card | None, action: Action | None
) -> None:
    """A button: a command, or one of this chat's current offers (anything else is stale)."""
    if isinstance(action, (Command, QuickWish)):
        await _run(conv, user, card, action)
        return
    if isinstance(action, BookProposal):
        await _proposed(conv, user, card, action.meeting_id)
        return
    offer = conv.offered(action)
    pressed = _OFFERS.get(str(offer.pop("action"))) if offer is not None else None
    if offer is None or pressed is None or card is None:
        await _stale(conv, card)
        return
    await pressed(conv, user, card, offer)


def _offer_at(conv: Conversation, text: str) -> dict[str, Any] | None:
    """The one offered slot whose local time is the typed «HH:MM», if exactly one is."""
    wanted = text.strip().replace(".", ":")
    hits = [
        offer
        for offer in conv.current_offers()
        if offer.get("action") == CardOffer.pick
        and datetime.fromisoformat(offer["starts_at"]).astimezone(STOCKHOLM).strftime("%H:%M")
        == wanted
    ]
    return hits[0] if len(hits) == 1 else None


async def _text(conv: Conversation, user: CardUser, card: Card | None, text: str) -> None:
    """Typed text: a command, a menu word, a time from the offers, or whatever the
    understanding layer reads in it."""
    command = conv.incoming.command
    if command is not None:
        clarify.reset(conv)
        name = COMMANDS.get(command[0])
        if name is None:
            await _menu(conv, card, conv._("I do not know that command."))
        else:
            await _run(conv, user, card, Command(name))
        return
    word = _words(conv, text)
    # «Avboka» typed at «Vill du avboka den här tiden?» is that prompt's button: a yes.
    if word is not None and not (word is Name.cancel and conv.step == CardStep.cancel):
        clarify.reset(conv)
        await _run(conv, user, card, Command(word))
        return
    if conv.step == CardStep.write:
        clarify.reset(conv)
        await _send_message(conv, user, card, text)
        return
    if conv.step == CardStep.pick and (offer := _offer_at(conv, text)) is not None:
        clarify.reset(conv)
        offer.pop("action")
        await _summary(conv, card, offer)
        return
    if conv.step == CardStep.address and await _address(conv, card, text):
        clarify.reset(conv)
        return
    if asks_for_home_delivery(text) and card is not None:
        clarify.reset(conv)
        meeting = await _meeting(conv, card)
        if meeting is not None or card.status != CardStatus.in_custody:
            await _ask_wish(conv, card, move=meeting)  # explains, or offers «Hemleverans»
        else:
            await _ask_address(conv, card, None)
        return
    reading = understand(text, await _context(conv, card), locale=conv.locale, now=conv.now)
    # Asked for a language outright: that answer is enough, with no offer to switch after it.
    english = (
        reading.written_in == "en" and conv.locale != "en" and reading.intent is not Intent.language
    )
    if english:
        conv.locale = "en"  # this answer only; the offer below makes it stick
    await _understood(conv, user, card, reading, text)
    if english:
        conv.say(
            answers.switch_to_english(conv),
            [conv.button("English", SetLanguage("en")), conv.button("Svenska", SetLanguage("sv"))],
        )


async def _context(conv: Conversation, card: Card | None) -> Context:
    """The conversation as the understanding layer needs it."""
    meeting = await _meeting(conv, card)
    return Context(Speaker.card_user, step_of(conv.step), has_meeting=meeting is not None)


async def _understood(
    conv: Conversation, user: CardUser, card: Card | None, reading: Reading, text: str
) -> None:
    """Act on a reading; when unsure, ask «Menade du …?»; when lost, say so (never twice the
    same way) and offer the menu."""
    if clarify.is_miss(reading):
        await _missed(conv, card, text)
    elif reading.unsure:
        if clarify.missed(conv) > 1:
            await _lost(conv, card)
            return
        clarify.did_you_mean(conv, reading, text, [conv.command(conv._(MENU_LABEL), Name.menu)])
    else:
        clarify.reset(conv)
        await _act(conv, user, card, reading)


async def _missed(conv: Conversation, card: Card | None, text: str) -> None:
    """Nothing understood: a first miss where a time was asked for offers the next free
    times, else the menu with a hint; a second miss in a row offers the menu in other words."""
    misses = clarify.missed(conv)
    if misses % 2 == 0:
        await _lost(conv, card)
    elif conv.step in (CardStep.wish, CardStep.pick, CardStep.summary):
        await _propose(conv, card, text)
    else:
        await _menu(conv, card, clarify.not_understood_text(conv, misses))


async def _lost(conv: Conversation, card: Card | None) -> None:
    """The second miss in a row: the menu in other words, and a way to write to the
    administrator when there is a meeting to write about."""
    meeting = await _meeting(conv, card)
    conv.go(CardStep.idle)
    conv.say(
        clarify.still_not_understood(conv, can_write=meeting is not None),
        _menu_buttons(conv, card, meeting),
        clarify.write_admin_row(conv, can_write=meeting is not None),
        [conv.command(conv._(HELP_LABEL), Name.help)],
    )


async def _aside(conv: Conversation, card: Card | None, text: str) -> None:
    """An answer in passing: at the menu, with the menu; mid-booking, the booking's buttons
    stay valid."""
    if conv.step == CardStep.idle:
        await _menu(conv, card, text)
        return
    conv.keep_offers()
    conv.say(text, [conv.command(conv._(MENU_LABEL), Name.menu)])


async def _act(conv: Conversation, user: CardUser, card: Card | None, reading: Reading) -> None:
    """What the card user asked for, where the chat stands."""
    intent, wish = reading.intent, reading.slots.wish
    if intent in _ANSWERS:
        await _aside(conv, card, await _ANSWERS[intent](conv, user, card))
    elif intent is Intent.status:
        await _status(conv, card)
    elif intent is Intent.my_meeting:
        await _my_meeting(conv, card)
    elif intent is Intent.book and wish is not None:
        await _wished(conv, card, wish, move=False)
    elif intent is Intent.book:
        move = conv.get("move") if conv.step != CardStep.idle else None
        await _ask_wish(conv, card, move=await _meeting(conv, card) if move else None)
    elif intent is Intent.move and wish is not None:
        await _wished(conv, card, wish, move=True)
    elif intent is Intent.move:
        await _move(conv, card)
    elif intent is Intent.cancel:
        await _ask_cancel(conv, card)
    elif intent is Intent.cant_come:
        await _cant_come(conv, card)
    elif intent is Intent.confirm:
        await _confirmed(conv, user, card)
    elif intent in (Intent.decline, Intent.no):
        await _declined(conv, card)
    elif intent is Intent.yes:
        await _yes(conv, user, card)
    elif intent is Intent.language:
        await _language(conv, user, card, reading.slots.language)
    elif intent is Intent.write_admin:
        await _ask_write(conv, user, card, reading.slots.message)
    else:
        await _missed(conv, card, "")


async def _wished(conv: Conversation, card: Card | None, wish: TimeWish, *, move: bool) -> None:
    """A time wish: the times that fit it, to book, or to move the booked time to."""
    meeting = await _meeting(conv, card)
    if meeting is None or not move:
        if card is None or card.status != CardStatus.in_custody or meeting is not None:
            await _ask_wish(conv, card, move=None)  # explains why there is nothing to book
            return
        conv.go(CardStep.wish, move=None)
    else:
        if meeting.starts_at - booking.CANCEL_CUTOFF < conv.now:
            await _move(conv, card)  # explains that it is too late
            return
        conv.go(CardStep.wish, move=meeting.id)
    await _propose_wish(conv, card, wish)


async def _my_meeting(conv: Conversation, card: Card | None) -> None:
    """When and where the booked time is, with a map link."""
    meeting = await _meeting(conv, card)
    if meeting is None:
        await _status(conv, card, lead=conv._("You have no booked time."))
        return
    text = await _meeting_text(conv, meeting, await _pending_move(conv, card))
    venue = await conv.session.get(Venue, meeting.venue_id) if meeting.venue_id else None
    if venue is not None:
        text += "\n\n" + conv._("Map: {url}").format(url=answers.map_link(venue.address))
    await _menu(conv, card, text)


async def _where(conv: Conversation, user: CardUser, card: Card | None) -> str:
    """Where the booked time is, or the office's meeting places."""
    meeting = await _meeting(conv, card)
    if meeting is not None and meeting.venue_id is not None:
        venue = await conv.session.get(Venue, meeting.venue_id)
        if venue is not None:
            return conv._("You meet here:") + "\n" + answers.venue_lines(conv, venue)
    if meeting is not None:
        place = await place_of_meeting(conv.session, meeting)
        return place.lines(conv.locale)
    if card is None:
        return conv._("There is no card order in your name right now.")
    office = await _office(conv, card)
    query = select(Venue).where(Venue.office_id == office.id).order_by(col(Venue.id))
    venues = list((await conv.session.exec(query)).all())
    return answers.where_no_meeting(conv, office, venues)


async def _keep_time(conv: Conversation, user: CardUser, card: Card | None) -> str:
    office = await _office(conv, card) if card is not None else None
    unbooked = card if await _meeting(conv, card) is None else None  # no «book before» then
    return answers.keep_time(conv, unbooked, office)


async def _cant_come(conv: Conversation, card: Card | None) -> None:
    """What to do when one cannot come: change or cancel the time (each asks again)."""
    meeting = await _meeting(conv, card)
    if meeting is None:
        await _menu(conv, card, conv._("You have no booked time, so nothing needs to change."))
        return
    conv.go(CardStep.idle)
    conv.say(
        answers.cant_come(conv),
        [
            conv.command(conv._(MOVE_LABEL), Name.move),
            conv.command(conv._(CANCEL_LABEL), Name.cancel),
        ],
        [conv.command(conv._(MENU_LABEL), Name.menu)],
    )


async def _confirmed(conv: Conversation, user: CardUser, card: Card | None) -> None:
    """A yes to the open question: book the summary's time, or cancel the asked-about one."""
    questions: dict[str, CardOffer] = {
        CardStep.summary: CardOffer.confirm,
        CardStep.cancel: CardOffer.cancel,
        CardStep.write_confirm: CardOffer.relay_send,
    }
    wanted = questions.get(conv.step)
    found = [o for o in conv.current_offers() if wanted and o.get("action") == wanted]
    if not found or card is None:
        await _aside(conv, card, conv._("OK!"))
        return
    offer = found[0]
    offer.pop("action")
    if wanted is CardOffer.confirm:
        await _book(conv, user, card, offer)
    elif wanted is CardOffer.relay_send:
        await _send_message(conv, user, card, str(offer.get("text", "")))
    else:
        await _cancel(conv, user, card, int(offer["meeting"]))


async def _yes(conv: Conversation, user: CardUser, card: Card | None) -> None:
    """A yes with no question open: at the menu, with a confirmed time close ahead, the answer
    to the reminder («JA, jag kommer»); else it changes nothing."""
    meeting = await _attending(conv, card) if conv.step == CardStep.idle else None
    if meeting is None:
        await _aside(conv, card, conv._("OK!"))
        return
    await _attend(conv, user, card, meeting)


async def _attending(conv: Conversation, card: Card | None) -> Meeting | None:
    """The confirmed time a «Jag kommer» answers: one that starts within ATTENDANCE_WINDOW
    and has not ended."""
    meeting = await _meeting(conv, card)
    if meeting is None or meeting.status != MeetingStatus.confirmed:
        return None
    if meeting.ends_at <= conv.now or meeting.starts_at - conv.now > ATTENDANCE_WINDOW:
        return None
    return meeting


async def _attend(conv: Conversation, user: CardUser, card: Card | None, meeting: Meeting) -> None:
    """Record that the card user comes (once), and say when, where and what to bring."""
    assert user.id is not None
    await booking.confirm_attendance(conv.session, meeting, card_user_id=user.id, now=conv.now)
    place = await place_of_meeting(conv.session, meeting)
    where = place.place(conv.locale)
    thanks = conv._("Thank you! See you {when} at {place}.").format(
        when=format_slot_time(meeting.starts_at, conv.locale), place=where
    )
    await _menu(conv, card, f"{thanks} {what_to_bring_briefly(conv.locale)}")


async def _declined(conv: Conversation, card: Card | None) -> None:
    """A no: nothing is done, and the reply says what stands."""
    meeting = await _meeting(conv, card)
    if conv.step == CardStep.cancel and meeting is not None:
        text = conv._("OK, your time is not cancelled. It stands: {when}.").format(
            when=format_slot_time(meeting.starts_at, conv.locale)
        )
    elif conv.step == CardStep.write_confirm:
        text = answers.not_sent(conv)
    elif conv.step == CardStep.summary:
        text = conv._("OK, that time is not booked.")
        if meeting is not None:
            text += " " + conv._("Your time {when} stands.").format(
                when=format_slot_time(meeting.starts_at, conv.locale)
            )
    else:
        text = answers.nothing_changed(conv)
    await _menu(conv, card, text)


async def _language(
    conv: Conversation, user: CardUser, card: Card | None, code: str | None
) -> None:
    """Switch to the language asked for, or ask which."""
    if code not in ("sv", "en"):
        conv.go(CardStep.idle)
        conv.say(
            conv._("Choose language:"),
            [conv.button("Svenska", SetLanguage("sv")), conv.button("English", SetLanguage("en"))],
        )
        return
    user.locale = code
    conv.locale = code
    conv.session.add(user)
    await _menu(conv, card, conv._("Language changed."))


_Answer = Callable[[Conversation, CardUser, Card | None], Awaitable[str]]


async def _greeting(conv: Conversation, user: CardUser, card: Card | None) -> str:
    return answers.greeting(conv, user)


async def _thanks(conv: Conversation, user: CardUser, card: Card | None) -> str:
    return answers.thanks(conv)


async def _goodbye(conv: Conversation, user: CardUser, card: Card | None) -> str:
    return answers.goodbye(conv)


async def _help(conv: Conversation, user: CardUser, card: Card | None) -> str:
    return help_text(conv)


async def _bring(conv: Conversation, user: CardUser, card: Card | None) -> str:
    return what_to_bring(conv.locale)


# Questions answered in words, wherever the chat stands.
_ANSWERS: dict[Intent, _Answer] = {
    Intent.greet: _greeting,
    Intent.thanks: _thanks,
    Intent.goodbye: _goodbye,
    Intent.help: _help,
    Intent.what_to_bring: _bring,
    Intent.where: _where,
    Intent.keep_time: _keep_time,
}


async def handle(conv: Conversation, user: CardUser, *, command: Command | None = None) -> None:
    """One update from a linked card user (or a command on their behalf); domain refusals
    become a reply and the menu."""
    card = await _current_card(conv, user)
    incoming = conv.incoming
    if await conv.answer_refusal(user):
        return
    conv.on_refusal = _refused
    if command is not None:
        await _run(conv, user, card, command)
    elif incoming.button is not None:
        clarify.reset(conv)
        await _press(conv, user, card, incoming.action)
    elif incoming.text:
        await _text(conv, user, card, incoming.text)
    else:
        await _menu(conv, card, conv._("I can only read text and button presses. Choose below:"))


async def _refused(conv: Conversation, user: CardUser, refusal: DomainError) -> None:
    """A refused action (all it wrote is undone): why, and the menu."""
    clarify.reset(conv)  # it was understood
    await _menu(conv, await _current_card(conv, user), refusal.translated(conv.locale))


async def _ask_write(
    conv: Conversation, user: CardUser, card: Card | None, words: str | None
) -> None:
    """Write to the meeting's administrator: the words given, to confirm, or a question for
    them. Without a meeting there is nobody to write to yet."""
    meeting = await _meeting(conv, card)
    if card is None or meeting is None:
        await _menu(conv, card, answers.write_needs_a_meeting(conv, card))
        return
    assert user.id is not None
    await relay.check_limit(conv.session, card_user_id=user.id, now=conv.now)
    place = await place_of_meeting(conv.session, meeting)
    name = place.admin.first_name
    if not words:
        conv.go(CardStep.write)
        conv.say(
            conv._(
                "What would you like to write to {name} about your time {when}? Write your "
                "message, and I pass it on."
            ).format(name=name, when=format_slot_time(meeting.starts_at, conv.locale)),
            [conv.command(conv._(MENU_LABEL), Name.menu)],
        )
        return
    words = words[: relay.MAX_LENGTH]
    conv.go(CardStep.write_confirm)
    conv.say(
        conv._('Send to {name}: "{text}"?').format(name=name, text=words),
        [
            conv.offer(conv._(YES_LABEL), CardOffer.relay_send, text=words),
            conv.command(conv._(NO_LABEL), Name.write_no),
        ],
    )


async def _send_message(conv: Conversation, user: CardUser, card: Card | None, words: str) -> None:
    """Pass the words to the meeting's administrator, through the outbox."""
    meeting = await _meeting(conv, card)
    words = words.strip()
    if card is None or meeting is None:
        await _menu(conv, card, answers.write_needs_a_meeting(conv, card))
        return
    if not words:
        await _ask_write(conv, user, card, None)
        return
    await relay.write_to_admin(
        conv.session, user=user, card=card, meeting=meeting, text=words, now=conv.now
    )
    place = await place_of_meeting(conv.session, meeting)
    await _menu(conv, card, answers.sent(conv, place.admin.first_name))
