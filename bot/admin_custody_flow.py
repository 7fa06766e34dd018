"""The admin's cards: the avi and the pickup at the postal agent (one card or a batch), the
cards kept with their age, the ones never collected, and the custody hand-over when an
administrator leaves (/kort)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from sqlmodel import col, select

from bot.dialogue import Button, Conversation
from models.admins import AdminState, admin_state
from models.i18n import N_
from models.lifecycle import Role
from models.network import Admin
from models.zone import local_day
from scheduler import custody, handover
from scheduler.actions import Name

PICKED_UP_LABEL = N_("Picked up")
NOTICE_LABEL = N_("Notice received")
MENU_LABEL = N_("Menu")
MAX_LISTED = 30


class CustodyStep(StrEnum):
    """Where the admin chat stands in /kort."""

    idle = "idle"  # the list of cards, the admin chat at rest (the admin flow's idle)
    pickup = "pickup"  # choosing the cards picked up, or whose avi arrived


class Mode(StrEnum):
    """What choosing cards records."""

    pickup = "pickup"  # the REKs picked up at the postal agent
    notice = "notice"  # the avi arrived


class CustodyOffer(StrEnum):
    """The custody buttons for one object (a card, the batch), kept with the chat's offers."""

    toggle = "toggle"  # select or unselect a card
    pickup_done = "pickup_done"  # record the selected cards
    returned = "return"  # an uncollected card went back to the issuer
    hand_over = "hand_over"  # a leaving admin's card handed to a colleague
    received = "received"  # the receiver confirms a card handed to them


async def cards(conv: Conversation, admin: Admin, notice: str | None = None) -> None:
    """/kort: the cards kept, oldest first, with their age; uncollected ones can be returned.
    `notice` (what was just done) comes first."""
    kept = await custody.kept_cards(conv.session, admin=admin)
    uncollected = {
        c.id
        for c in await custody.uncollected_cards(
            conv.session, now=conv.now, office_id=admin.office_id
        )
    }
    lines = [notice + "\n"] if notice else []
    lines.append(conv._("Cards in your keeping:") if kept else conv._("No cards in your keeping."))
    returns = []
    for row in kept[:MAX_LISTED]:
        since = row.card.in_custody_since or row.card.status_changed_at
        days = (conv.now - since).days
        line = conv._("{card} – {days} days").format(card=row.label, days=days)
        if row.card.status == "booked":
            line += " – " + conv._("booked")
        if row.card.id in uncollected:
            line += " – " + conv._("not collected in 30 days: send it back to the issuer")
            returns.append(
                [
                    conv.offer(
                        conv._("Returned: {card}").format(card=row.card.order_ref),
                        CustodyOffer.returned,
                        card=row.card.id,
                    )
                ]
            )
        lines.append(line)
    handover_lines, handover_rows = await _handover(conv, admin)
    lines += handover_lines
    conv.go(CustodyStep.idle)
    conv.say(
        "\n".join(lines),
        *returns,
        *handover_rows,
        [
            conv.command(conv._("Pick up cards (REK)"), Name.pickup),
            conv.command(conv._("Notice (avi) received"), Name.notice),
        ],
        [conv.command(conv._(MENU_LABEL), Name.menu)],
    )


async def choose(conv: Conversation, admin: Admin, mode: Mode, selected: list[int]) -> None:
    """The expected cards as toggles, to pick up (or log the avi for) one or several at once."""
    expected = await custody.expected_cards(conv.session, admin=admin)
    if mode is Mode.notice:
        expected = [row for row in expected if row.card.status == "shipped"]
    if not expected:
        await cards(conv, admin, conv._("No cards are on their way to your office right now."))
        return
    rows = [
        [
            conv.offer(
                ("☑ " if row.card.id in selected else "☐ ") + row.label,
                CustodyOffer.toggle,
                card=row.card.id,
            )
        ]
        for row in expected[:MAX_LISTED]
    ]
    label = PICKED_UP_LABEL if mode is Mode.pickup else NOTICE_LABEL
    done_label = conv._(label)
    conv.go(CustodyStep.pickup, mode=mode.value, selected=selected)
    conv.say(
        conv._(
            "Choose the cards, or write an order reference or a name. Then press «{done}»."
        ).format(done=done_label),
        *rows,
        [conv.offer(f"{done_label} ({len(selected)})", CustodyOffer.pickup_done)],
        [conv.command(conv._(MENU_LABEL), Name.menu)],
    )


async def _toggle(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    """Select a card, or unselect it."""
    selected, card_id = _selected(conv), int(offer["card"])
    selected = (
        [i for i in selected if i != card_id] if card_id in selected else [*selected, card_id]
    )
    await choose(conv, admin, _mode(conv), selected)


async def _done(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await _finish(conv, admin, _mode(conv), _selected(conv))


async def _return(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    card = await custody.mark_returned(
        conv.session, admin=admin, card_id=int(offer["card"]), now=conv.now
    )
    returned = conv._("{card} is marked as returned to the issuer.")
    await cards(conv, admin, returned.format(card=card.order_ref))


async def _handover(conv: Conversation, admin: Admin) -> tuple[list[str], list[list[Button]]]:
    """The hand-over part of /kort: cards handed to this admin (to confirm), and, once they
    have given notice, their own cards to hand to a colleague or send back."""
    assert admin.id is not None
    lines: list[str] = []
    rows: list[list[Button]] = []
    coming = await handover.cards_coming(conv.session, admin_id=admin.id)
    if coming:
        lines += ["", conv._("Handed over to you; press when you have the card:")]
        for row in coming[:MAX_LISTED]:
            lines.append(f"• {row.label}")
            label = conv._("Received: {card}").format(card=row.card.order_ref)
            rows.append([conv.offer(label, CustodyOffer.received, card=row.card.id)])
    state = admin_state(admin, today=local_day(conv.now))
    if state not in (AdminState.notice_given, AdminState.ended):
        return lines, rows
    held = await handover.cards_held(conv.session, admin_id=admin.id)
    if not held:
        return lines, rows
    colleagues = await _colleagues(conv, admin)
    lines += [
        "",
        conv._(
            "You have given notice: hand each card you keep to a colleague (they confirm it "
            "in their chat) or send it back to the issuer."
        ),
    ]
    for row in held[:MAX_LISTED]:
        lines.append(f"• {row.label}")
        if row.card.status == "booked":
            continue  # its meeting is settled first
        buttons = [
            conv.offer(
                conv._("{card} → {name}").format(card=row.card.order_ref, name=other.first_name),
                CustodyOffer.hand_over,
                card=row.card.id,
                to=other.id,
            )
            for other in colleagues
        ]
        buttons.append(
            conv.offer(
                conv._("Returned: {card}").format(card=row.card.order_ref),
                CustodyOffer.returned,
                card=row.card.id,
            )
        )
        rows.append(buttons)
    return lines, rows


async def _colleagues(conv: Conversation, admin: Admin) -> list[Admin]:
    """The office's other administrators who still hand out (at most three buttons a card)."""
    query = select(Admin).where(Admin.office_id == admin.office_id, Admin.id != admin.id)
    others = (await conv.session.exec(query.order_by(col(Admin.id)))).all()
    today = local_day(conv.now)
    return [
        other
        for other in others
        if admin_state(other, today=today) in (AdminState.active, AdminState.notice_given)
    ][:3]


async def _hand_over(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    card = await handover.hand_over(
        conv.session,
        card_id=int(offer["card"]),
        to_admin_id=int(offer["to"]),
        role=Role.admin,
        actor_id=admin.id,
        now=conv.now,
    )
    text = conv._("{card} is under hand-over until your colleague confirms it in their chat.")
    await cards(conv, admin, text.format(card=card.order_ref))


async def _received(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    card = await handover.confirm_received(
        conv.session, admin_id=admin.id, card_id=int(offer["card"]), now=conv.now
    )
    await cards(conv, admin, conv._("{card} is now in your keeping.").format(card=card.order_ref))


Pressed = Callable[[Conversation, Admin, dict[str, Any]], Awaitable[None]]
# What each custody button does: toggle a card, finish the batch, or return an uncollected card.
OFFERS: dict[str, Pressed] = {
    CustodyOffer.toggle: _toggle,
    CustodyOffer.pickup_done: _done,
    CustodyOffer.returned: _return,
    CustodyOffer.hand_over: _hand_over,
    CustodyOffer.received: _received,
}


def _mode(conv: Conversation) -> Mode:
    """What the cards being chosen are for (picked up, unless the avi was asked for)."""
    return Mode.notice if conv.get("mode") == Mode.notice else Mode.pickup


def _selected(conv: Conversation) -> list[int]:
    return [int(i) for i in conv.get("selected") or []]


async def _finish(conv: Conversation, admin: Admin, mode: Mode, selected: list[int]) -> None:
    if not selected:
        await choose(conv, admin, mode, selected)
        return
    if mode is Mode.pickup:
        done = await custody.pick_up(conv.session, admin=admin, card_ids=selected, now=conv.now)
        text = conv._("Picked up: {cards}. The card users are invited to book a time.").format(
            cards=", ".join(c.order_ref for c in done)
        )
    else:
        done = await custody.log_notice(conv.session, admin=admin, card_ids=selected, now=conv.now)
        text = conv._("Notice logged: {cards}.").format(cards=", ".join(c.order_ref for c in done))
    await cards(conv, admin, text)


async def typed(conv: Conversation, admin: Admin, text: str) -> None:
    """An order reference or a name while choosing: it selects the one expected card found."""
    mode, selected = _mode(conv), _selected(conv)
    found = [
        row
        for row in await custody.find_cards(conv.session, admin=admin, text=text)
        if row.card.status in custody.EXPECTED
    ]
    if len(found) == 1 and found[0].card.id is not None:
        if found[0].card.id not in selected:
            selected.append(found[0].card.id)
    elif not found:
        conv.say(conv._("No expected card matches «{text}».").format(text=text[:60]))
    await choose(conv, admin, mode, selected)
