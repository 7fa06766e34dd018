"""A card user's message to their meeting's administrator, and the administrator's one answer,
passed on through the outbox so that neither side learns the other's number or chat account.
Rate-limited per card user; logged as ids, never words."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardUser
from models.errors import DomainError, Forbidden, InvalidInput, NotFound
from models.i18n import N_
from models.meetings import Meeting
from models.relay import RelayedMessage, last_sent, newest_unanswered, sent_since
from models.validation import hidden_character
from models.zone import STOCKHOLM, local_midnight
from scheduler import notifications

logger = logging.getLogger(__name__)

# At most this many messages per card user per day (Stockholm), and this long between two.
MAX_PER_DAY = 5
MIN_INTERVAL = timedelta(minutes=2)
# An admin's text that is nothing else, this soon after a message came, may be its answer.
ANSWER_BY_TEXT_WITHIN = timedelta(minutes=30)
# Longer messages are cut: a chat message to say one is late, not a letter.
MAX_LENGTH = 500


HIDDEN_IN_MESSAGE = N_(
    "Your message contains {character}, an invisible or control character that can make it "
    "read differently. Write it again without it."
)


def _plain(text: str) -> str:
    """The words, if they show what they say (no bidirectional override, control or
    zero-width character); InvalidInput for the chat to answer otherwise."""
    character = hidden_character(text, multiline=True)
    if character is not None:
        raise InvalidInput("text", HIDDEN_IN_MESSAGE, character=character)
    return text


class RateLimited(DomainError):
    """The card user has written too often, for now."""

    code = "rate_limited"


async def check_limit(session: AsyncSession, *, card_user_id: int, now: datetime) -> None:
    """Refuse a message over the day's limit, or too soon after the last one."""
    today = local_midnight(now.astimezone(STOCKHOLM).date())
    if await sent_since(session, card_user_id=card_user_id, since=today) >= MAX_PER_DAY:
        raise RateLimited(
            N_(
                "You have sent {count} messages to the ID administrator today, which is as many "
                "as one day allows. You can write again tomorrow; if you cannot come, change or "
                "cancel your time here."
            ),
            count=MAX_PER_DAY,
        )
    last = await last_sent(session, card_user_id=card_user_id)
    if last is not None and now - last < MIN_INTERVAL:
        wait = math.ceil((MIN_INTERVAL - (now - last)).total_seconds() / 60)
        raise RateLimited(
            N_("You just sent a message. Wait {minutes} min before you send the next one."),
            minutes=wait,
        )


async def write_to_admin(
    session: AsyncSession,
    *,
    user: CardUser,
    card: Card,
    meeting: Meeting,
    text: str,
    now: datetime,
) -> RelayedMessage:
    """Pass the card user's words to the meeting's administrator (RateLimited when over)."""
    assert user.id is not None and card.id is not None and meeting.id is not None
    if meeting.card_id != card.id or card.card_user_id != user.id:
        raise NotFound(N_("That meeting was not found."))
    text = _plain(text)
    await check_limit(session, card_user_id=user.id, now=now)
    relayed = RelayedMessage(
        card_user_id=user.id,
        admin_id=meeting.admin_id,
        card_id=card.id,
        meeting_id=meeting.id,
        sent_at=now,
    )
    session.add(relayed)
    await session.flush()
    await notifications.message_to_admin(session, relayed, text=text[:MAX_LENGTH], now=now)
    logger.info(
        "card user %s wrote to admin %s about meeting %s (message %s)",
        user.id,
        meeting.admin_id,
        meeting.id,
        relayed.id,
    )
    return relayed


async def answerable(session: AsyncSession, *, message_id: int, admin_id: int) -> RelayedMessage:
    """A message written to this admin and not yet answered; NotFound for anyone else's."""
    relayed = await session.get(RelayedMessage, message_id)
    if relayed is None or relayed.admin_id != admin_id:
        raise NotFound(N_("That message was not found."))
    if relayed.answered_at is not None:
        raise Forbidden(N_("You have already answered that message."))
    return relayed


async def recent_unanswered(
    session: AsyncSession, *, admin_id: int, now: datetime
) -> RelayedMessage | None:
    """The message to this admin that a typed text right after it may answer."""
    return await newest_unanswered(session, admin_id=admin_id, since=now - ANSWER_BY_TEXT_WITHIN)


async def answer(
    session: AsyncSession, *, message_id: int, admin_id: int, text: str, now: datetime
) -> RelayedMessage:
    """The admin's one answer, passed back to the card user."""
    text = _plain(text)
    relayed = await answerable(session, message_id=message_id, admin_id=admin_id)
    relayed.answered_at = now
    session.add(relayed)
    await notifications.answer_to_user(session, relayed, text=text[:MAX_LENGTH], now=now)
    logger.info("admin %s answered message %s", admin_id, relayed.id)
    return relayed
