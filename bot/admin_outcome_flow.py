"""At the meeting: who the card holder is, the card's number, the identity check step by step,
and the outcome (`Utlämnat`, or `Ej utlämnat` with a reason)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from bot.dialogue import Conversation
from models.cards import Card, CardUser
from models.crypto import mask_personnummer
from models.i18n import N_
from models.lifecycle import Role
from models.meetings import (
    ID_CHECK_FAILURES,
    FailureReason,
    IdCheck,
    IdDocument,
    Meeting,
    MeetingStatus,
)
from models.network import Admin
from models.validation import birth_date
from scheduler import outcomes
from scheduler.actions import Name
from scheduler.booking import meeting_for_actor
from scheduler.wording import FAILURE_LABELS, ID_DOCUMENT_NAMES, format_day, format_slot_time


class OutcomeStep(StrEnum):
    """Where the admin chat stands at a meeting."""

    idle = "idle"  # the outcome is recorded, the admin chat at rest (the admin flow's idle)
    meeting = "meeting"  # the meeting shown, its checks under way
    card_number = "card_number"  # asked for the last four digits printed on the card


class OutcomeOffer(StrEnum):
    """The buttons at a meeting, each kept with the chat's offers with the meeting's id."""

    meeting = "meeting"  # show a meeting of today's agenda
    reveal = "reveal"  # the full personnummer
    handout = "handout"  # «Utlämnat»: the checks begin
    document = "document"  # the kind of ID document shown
    check = "check"  # a yes or a no to one of the checks
    fail = "fail"  # «Ej utlämnat»: ask why
    reason = "reason"  # why not


HANDED_OUT_LABEL = N_("Handed out")
NOT_HANDED_OUT_LABEL = N_("Not handed out")
YES, NO = N_("Yes"), N_("No")
# The checks after the kind of document, in order, one question each; a «No» ends the check
# with the step's failure reason (models.meetings.ID_CHECK_FAILURES).
CHECKS = (
    (IdCheck.physical, N_("Is it the physical document itself (not a digital ID or a copy)?")),
    (IdCheck.not_expired, N_("Is the document still valid (not expired)?")),
    (IdCheck.undamaged, N_("Is the document undamaged?")),
    (IdCheck.photo, N_("Is the person the one on the card (compare with the photo)?")),
    (IdCheck.pin_letter, N_("Has the person brought the PIN letter?")),
)
# Why the check stopped, said to the admin and kept on the meeting as `failed_check`.
FAILED_CHECK_TEXTS = {
    IdCheck.document: N_("No accepted ID document was shown."),
    IdCheck.physical: N_("The ID document was not a physical one: a digital ID is not enough."),
    IdCheck.not_expired: N_("The ID document has expired."),
    IdCheck.undamaged: N_("The ID document is damaged."),
    IdCheck.photo: N_("The person does not match the photo."),
    IdCheck.pin_letter: N_("The PIN letter is missing."),
}


def home_delivery_place(conv: Conversation, admin: Admin, meeting: Meeting) -> str:
    """«hemleverans, Storgatan 12, 753 20 Uppsala»: the address only for the meeting's own
    admin (it is personal data, and never logged)."""
    label = conv._("home delivery")
    if meeting.admin_id != admin.id or not meeting.home_address_encrypted:
        return label
    return f"{label}, {conv.vault.decrypt(meeting.home_address_encrypted)}"


async def _holder(conv: Conversation, meeting: Meeting) -> tuple[Card, CardUser, str]:
    card = await conv.session.get(Card, meeting.card_id)
    assert card is not None
    holder = await conv.session.get(CardUser, card.card_user_id)
    assert holder is not None
    return card, holder, conv.vault.decrypt(holder.personnummer_encrypted)


async def show(
    conv: Conversation, admin: Admin, meeting_id: int, notice: str | None = None
) -> None:
    """The meeting and its card holder (personnummer masked), with the outcome buttons."""
    assert admin.id is not None
    meeting = await meeting_for_actor(
        conv.session, meeting_id=meeting_id, role=Role.admin, actor_id=admin.id
    )
    card, holder, number = await _holder(conv, meeting)
    born = format_day(birth_date(number), conv.locale, year=True)
    lines = [notice + "\n"] if notice else []
    lines += [
        f"{format_slot_time(meeting.starts_at, conv.locale)} – {card.order_ref}",
        *(
            [_sentence_case(home_delivery_place(conv, admin, meeting))]
            if meeting.venue_id is None
            else []
        ),
        conv._("Card holder: {name}").format(name=f"{holder.given_name} {holder.family_name}"),
        conv._("Born: {date}").format(date=born),
        conv._("Personnummer: {number}").format(number=mask_personnummer(number)),
    ]
    rows = []
    if meeting.status == MeetingStatus.confirmed:
        rows.append(
            [
                conv.offer(
                    conv._("Show the full personnummer"), OutcomeOffer.reveal, meeting=meeting.id
                )
            ]
        )
        rows.append(
            [
                conv.offer(conv._(HANDED_OUT_LABEL), OutcomeOffer.handout, meeting=meeting.id),
                conv.offer(conv._(NOT_HANDED_OUT_LABEL), OutcomeOffer.fail, meeting=meeting.id),
            ]
        )
    conv.go(OutcomeStep.meeting, meeting=meeting.id)
    conv.say("\n".join(lines), *rows, [conv.command(conv._("Menu"), Name.menu)])


async def _shown(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await show(conv, admin, int(offer["meeting"]))


async def _reveal(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    meeting_id = int(offer["meeting"])
    number = await outcomes.reveal_personnummer(
        conv.session, conv.vault, admin_id=admin.id, meeting_id=meeting_id, now=conv.now
    )
    await show(conv, admin, meeting_id, conv._("Personnummer: {number}").format(number=number))


async def _handout(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    assert admin.id is not None
    meeting_id = int(offer["meeting"])
    meeting = await outcomes.meeting_to_record(
        conv.session, admin_id=admin.id, meeting_id=meeting_id, now=conv.now
    )
    card = await conv.session.get(Card, meeting.card_id)
    assert card is not None
    if card.card_number:
        _ask_card_number(conv, meeting_id, card)
    else:
        notice = conv._("The order has no card number, so it is not checked.")
        _ask_document(conv, meeting_id, card_checked=False, notice=notice)


def _ask_card_number(conv: Conversation, meeting_id: int, card: Card, lead: str = "") -> None:
    conv.go(OutcomeStep.card_number, meeting=meeting_id)
    question = conv._("Type the last four digits of the number printed on the card {card}.")
    conv.say(
        (lead + "\n\n" if lead else "") + question.format(card=card.order_ref),
        [conv.offer(conv._(NOT_HANDED_OUT_LABEL), OutcomeOffer.fail, meeting=meeting_id)],
        [conv.command(conv._("Menu"), Name.menu)],
    )


async def typed_card_number(conv: Conversation, admin: Admin, text: str) -> None:
    """The last four digits typed at the handout: on to the identity check if they match the
    order; else the card is not handed out, and the right card can be tried."""
    assert admin.id is not None
    meeting_id = int(conv.get("meeting"))
    meeting = await outcomes.meeting_to_record(
        conv.session, admin_id=admin.id, meeting_id=meeting_id, now=conv.now
    )
    card = await conv.session.get(Card, meeting.card_id)
    assert card is not None
    digits = "".join(text.split())
    if len(digits) != 4 or not digits.isdigit():
        _ask_card_number(conv, meeting_id, card, conv._("Four digits, please, for example 1234."))
        return
    if not await outcomes.check_card_number(
        conv.session, admin_id=admin.id, meeting_id=meeting_id, last_four=digits, now=conv.now
    ):
        wrong = conv._(
            "The number does not match: this is not the card ordered as {card}. Do not hand it "
            "out. Find the right card and try again."
        )
        _ask_card_number(conv, meeting_id, card, wrong.format(card=card.order_ref))
        return
    _ask_document(conv, meeting_id, card_checked=True, notice=conv._("The card number matches."))


async def _document_shown(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await _document(
        conv,
        admin,
        int(offer["meeting"]),
        IdDocument(offer["document"]),
        card_checked=bool(offer["card"]),
    )


async def _checked(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await _check(conv, admin, int(offer["meeting"]), offer)


async def _not_handed_out(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    _ask_reason(conv, int(offer["meeting"]))


async def _reason(conv: Conversation, admin: Admin, offer: dict[str, Any]) -> None:
    await _fail(conv, admin, int(offer["meeting"]), FailureReason(offer["reason"]))


Pressed = Callable[[Conversation, Admin, dict[str, Any]], Awaitable[None]]
# What each button at a meeting does: show it, reveal, the document type, a check, a reason.
OFFERS: dict[str, Pressed] = {
    OutcomeOffer.meeting: _shown,
    OutcomeOffer.reveal: _reveal,
    OutcomeOffer.handout: _handout,
    OutcomeOffer.document: _document_shown,
    OutcomeOffer.check: _checked,
    OutcomeOffer.fail: _not_handed_out,
    OutcomeOffer.reason: _reason,
}


def _sentence_case(name: str) -> str:
    """A capital first letter, the rest as written: «SIS-märkt id-kort», not «Sis-märkt»."""
    return name[:1].upper() + name[1:]


def _ask_document(
    conv: Conversation, meeting_id: int, *, card_checked: bool, notice: str | None = None
) -> None:
    """The first step of the identity check: which kind of document; «Annan» ends it."""
    rows = [
        [
            conv.offer(
                _sentence_case(conv._(ID_DOCUMENT_NAMES[doc])),
                OutcomeOffer.document,
                meeting=meeting_id,
                document=doc.value,
                card=card_checked,
            )
        ]
        for doc in IdDocument
    ]
    question = conv._("Which ID document did the person show?")
    conv.go(OutcomeStep.meeting, meeting=meeting_id)
    conv.say(f"{notice}\n\n{question}" if notice else question, *rows)


async def _document(
    conv: Conversation, admin: Admin, meeting_id: int, document: IdDocument, *, card_checked: bool
) -> None:
    if document == IdDocument.other:
        await _fail(conv, admin, meeting_id, FailureReason.no_valid_id, document, IdCheck.document)
        return
    _ask_check(conv, meeting_id, document, 0, card_checked=card_checked)


def _ask_check(
    conv: Conversation, meeting_id: int, document: IdDocument, index: int, *, card_checked: bool
) -> None:
    _, question = CHECKS[index]
    common = {
        "meeting": meeting_id,
        "document": document.value,
        "index": index,
        "card": card_checked,
    }
    conv.go(OutcomeStep.meeting, meeting=meeting_id)
    conv.say(
        conv._(question),
        [
            conv.offer(conv._(YES), OutcomeOffer.check, answer=True, **common),
            conv.offer(conv._(NO), OutcomeOffer.check, answer=False, **common),
        ],
    )


async def _check(conv: Conversation, admin: Admin, meeting_id: int, offer: dict[str, Any]) -> None:
    document, index = IdDocument(offer["document"]), int(offer["index"])
    card_checked = bool(offer["card"])
    if not offer["answer"]:
        step, _ = CHECKS[index]
        await _fail(conv, admin, meeting_id, ID_CHECK_FAILURES[step], document, step)
    elif index + 1 < len(CHECKS):
        _ask_check(conv, meeting_id, document, index + 1, card_checked=card_checked)
    else:
        assert admin.id is not None
        meeting = await outcomes.record_handout(
            conv.session,
            admin_id=admin.id,
            meeting_id=meeting_id,
            document=document,
            tariffs=conv.tariffs,
            now=conv.now,
            card_number_checked=card_checked,
        )
        card = await conv.session.get(Card, meeting.card_id)
        assert card is not None
        done = conv._("Handed out: {card}. Thank you! The handout is recorded for your payout.")
        conv.go(OutcomeStep.idle)
        conv.say(done.format(card=card.order_ref), [conv.command(conv._("Menu"), Name.menu)])


def _ask_reason(conv: Conversation, meeting_id: int) -> None:
    rows = [
        [
            conv.offer(
                conv._(FAILURE_LABELS[reason]),
                OutcomeOffer.reason,
                meeting=meeting_id,
                reason=reason.value,
            )
        ]
        for reason in FailureReason
    ]
    conv.go(OutcomeStep.meeting, meeting=meeting_id)
    conv.say(conv._("Why could the card not be handed out?"), *rows)


async def _fail(
    conv: Conversation,
    admin: Admin,
    meeting_id: int,
    reason: FailureReason,
    document: IdDocument | None = None,
    failed_check: IdCheck | None = None,
) -> None:
    assert admin.id is not None
    meeting = await outcomes.record_failure(
        conv.session,
        admin_id=admin.id,
        meeting_id=meeting_id,
        reason=reason,
        document=document,
        failed_check=failed_check,
        tariffs=conv.tariffs,
        now=conv.now,
    )
    card = await conv.session.get(Card, meeting.card_id)
    assert card is not None
    conv.go(OutcomeStep.idle)
    why = conv._(FAILED_CHECK_TEXTS[failed_check]) + "\n" if failed_check else ""
    conv.say(
        why
        + conv._(
            "Not handed out: {card} ({reason}). The card stays in your keeping, and the card "
            "user is asked to book a new time."
        ).format(card=card.order_ref, reason=conv._(FAILURE_LABELS[reason])),
        [conv.command(conv._("Menu"), Name.menu)],
    )
