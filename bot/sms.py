"""The SMS adapter: a text message from Twilio into the dialogue engine, its answer out as one
SMS through the outbox.

The webhook (`web/twilio_hooks.py`) checks Twilio's signature and hands over the fields; the
composition root puts `SmsChat.receive` into `app.state.sms_messages`, so that `web` never
imports the bot. Here a message is handled once (by its MessageSid), STOP and START are obeyed
in any state, a number gets at most so many answers an hour and a day, and the answer is
written to the outbox in the message's own transaction: it goes out if and only if what the
message did stands, after a crash too, in order with the number's other messages.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import SMS
from bot.dialogue import Conversation, Dialogue, Incoming
from bot.sms_text import render_sms
from models.db import transaction
from models.errors import InvalidInput
from models.i18n import N_, translate
from models.outbox import InboundSms
from models.types import utcnow
from models.validation import normalize_phone
from scheduler import notifications, outbox
from scheduler.channels.sms import opt_out_command

logger = logging.getLogger(__name__)

CHANNEL = SMS
# SMS texts longer than this are cut before anything reads them (Twilio joins up to 10 parts).
MAX_BODY = 1600

# Opt-outs come from Swedish numbers, perhaps before anyone has chosen a language: Swedish.
STOPPED_REPLY = N_(
    "You will get no more text messages from Kortkontor. Send START to get them again."
)
RESTARTED_REPLY = N_("You will get text messages from Kortkontor again.")
SORRY = N_("Sorry, something went wrong on our side. Please write again in a moment.")


class Outcome(StrEnum):
    """What became of an inbound SMS."""

    answered = "answered"  # the dialogue handled it (its answer, if any, is in the outbox)
    duplicate = "duplicate"  # its MessageSid was handled before
    stopped = "stopped"  # STOP: no more SMS to the number
    restarted = "restarted"  # START: SMS again
    opted_out = "opted_out"  # the number answered STOP before: not read
    limited = "limited"  # the number had its answers for the hour or the day: not read
    unanswerable = "unanswerable"  # the sender is not a phone number
    failed = "failed"  # handling it failed: nothing it did stands, and the sender is told


@dataclass(frozen=True, slots=True)
class Received:
    """The outcome, and the text to answer in the webhook's own response (STOP and START only:
    every other answer goes through the outbox)."""

    outcome: Outcome
    immediate: str | None = None


@dataclass(frozen=True, slots=True)
class SmsLimits:
    """How many answers one number gets: a cap on the cost, and the end of a loop with an
    auto-responder."""

    per_hour: int = 20
    per_day: int = 60


class _Duplicate(Exception):
    """The message was handled meanwhile: roll back what handling it again wrote."""


def update_number(sid: str) -> int:
    """The dialogue's update id for a MessageSid: 63 bits of its hash."""
    return int.from_bytes(hashlib.sha256(sid.encode()).digest()[:8], "big") >> 1


class SmsChat:
    """Inbound SMS through the dialogue, answers through the outbox."""

    def __init__(
        self,
        dialogue: Dialogue,
        *,
        limits: SmsLimits | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.dialogue = dialogue
        self.limits = limits or SmsLimits()
        self.clock = clock

    async def receive(self, *, sid: str, sender: str, body: str) -> Received:
        """Handle one inbound SMS, once per MessageSid."""
        try:
            phone = normalize_phone(sender, field="From")
        except InvalidInput:
            logger.warning("sms %s: the sender is not a phone number; not answered", sid)
            return Received(Outcome.unanswerable)
        command = opt_out_command(body)
        if command is not None:
            return await self._opt(sid, phone, opted_out=command)
        async with transaction(self.dialogue.sessions) as session:
            if await session.get(InboundSms, sid) is not None:
                return Received(Outcome.duplicate)
            unread = await self._unread(session, phone)
            if unread is not None:
                session.add(InboundSms(message_sid=sid, received_at=self.clock()))
                logger.info("sms %s not read: %s", sid, unread)
                return Received(unread)
        incoming = Incoming(
            channel=CHANNEL,
            chat_key=phone,
            user_id=0,
            update_id=update_number(sid),
            text=body[:MAX_BODY],
            numbered=True,
        )
        try:
            await self.dialogue.handle(incoming, within=partial(self._answer, sid=sid))
        except _Duplicate:
            return Received(Outcome.duplicate)
        except Exception as error:  # the sender hears of it; the error itself is logged
            logger.error("sms %s failed: %s", sid, type(error).__name__, exc_info=error)
            await self._apologise(sid, phone)
            return Received(Outcome.failed)
        return Received(Outcome.answered)

    async def webhook(self, sid: str, sender: str, body: str) -> str | None:
        """`receive` for the webhook: the text to answer in its response, if any."""
        return (await self.receive(sid=sid, sender=sender, body=body)).immediate

    async def _opt(self, sid: str, phone: str, *, opted_out: bool) -> Received:
        """STOP or START, once: a replayed STOP does not opt out again after a START."""
        async with transaction(self.dialogue.sessions) as session:
            if await session.get(InboundSms, sid) is not None:
                return Received(Outcome.duplicate)
            now = self.clock()
            session.add(InboundSms(message_sid=sid, received_at=now))
            await outbox.set_opt_out(session, phone=phone, opted_out=opted_out, now=now)
        logger.info("sms %s: opt-out %s", sid, "stored" if opted_out else "removed")
        if opted_out:
            return Received(Outcome.stopped, translate(STOPPED_REPLY, "sv"))
        return Received(Outcome.restarted, translate(RESTARTED_REPLY, "sv"))

    async def _apologise(self, sid: str, phone: str) -> None:
        """Tell the sender that their message could not be handled, once per message."""
        locale = await self.dialogue.locale_of(CHANNEL, phone)
        async with transaction(self.dialogue.sessions) as session:
            if await session.get(InboundSms, sid) is not None:
                return
            now = self.clock()
            session.add(InboundSms(message_sid=sid, received_at=now))
            await notifications.chat_reply(
                session, phone=phone, text=translate(SORRY, locale), key=f"sms:{sid}", now=now
            )

    async def _unread(self, session: AsyncSession, phone: str) -> Outcome | None:
        """Why the message is not read: the number opted out, or had its answers."""
        if await outbox.is_opted_out(session, phone=phone):
            return Outcome.opted_out
        now = self.clock()
        for window, limit in (
            (timedelta(hours=1), self.limits.per_hour),
            (
                timedelta(days=1),
                self.limits.per_day,
            ),
        ):
            if (
                await notifications.chat_replies_since(session, phone=phone, since=now - window)
                >= limit
            ):
                return Outcome.limited
        return None

    async def _answer(self, session: AsyncSession, conv: Conversation, *, sid: str) -> None:
        """In the message's transaction: remember it, and put its answer in the outbox."""
        if await session.get(InboundSms, sid) is not None:
            raise _Duplicate
        session.add(InboundSms(message_sid=sid, received_at=conv.now))
        own = conv.own_replies()
        if len(own) < len(conv.replies):
            logger.warning("sms %s: replies to other chats are not sent by SMS", sid)
        if not own:
            return
        sms = render_sms(own, conv.locale)
        await notifications.chat_reply(
            session, phone=conv.incoming.chat_key, text=sms.text, key=f"sms:{sid}", now=conv.now
        )
