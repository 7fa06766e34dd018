"""The dispatcher: claims due outbox rows, renders them against the database
(`scheduler.rendering`), sends them on their channel, and records what happened
(`scheduler.jobs` wakes it).

Exactly once across crashes: a row is `sending` before it leaves, and the provider's id is
stored when it has left. A row found `sending` at start is looked up with the provider (by id,
or for SMS by recipient and text) before it is sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardUser
from models.db import reading, transaction
from models.outbox import Channel, Notification, NotificationStatus
from models.types import utcnow
from scheduler import notifications, outbox, rendering
from scheduler.channels.base import ChannelError, DeliveryState, OutgoingMessage, Sender

logger = logging.getLogger(__name__)

BATCH = 200
OPTED_OUT = "opted out"
QUIET = "quiet hours"
IN_FLIGHT = 50
SETTLED = (NotificationStatus.sent, NotificationStatus.failed, NotificationStatus.cancelled)


@runtime_checkable
class Finder(Protocol):
    """A channel that can find a message it was given without knowing its id (Twilio)."""

    async def find(self, recipient: str, text: str, since: datetime) -> str | None:
        """The provider's id of a message with this text sent to this recipient since then."""
        ...


@dataclass(frozen=True, slots=True)
class _Claim:
    """A row found `sending` after its dispatcher stopped, as the provider can be asked."""

    row_id: int
    claimed_at: datetime
    channel: Channel
    recipient: str
    provider_message_id: str | None
    text: str | None  # what was sent, for a provider that finds messages by text


@dataclass(frozen=True, slots=True)
class _Outcome:
    row_id: int
    provider_id: str | None = None
    error: ChannelError | None = None
    stale: str | None = None


class Dispatcher:
    """Sends what the outbox holds, once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[Channel, Sender],
        render_settings: rendering.RenderSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.render_settings = render_settings
        self.clock = clock
        self.batch = batch
        self._slots = asyncio.Semaphore(in_flight)
        self._running = asyncio.Lock()
        self._stopping = False
        # Told each settled attempt's channel and result once it is stored (the metrics).
        self.on_result: Callable[[str, str], None] | None = None

    async def recover(self, *, stale_after: timedelta = outbox.STALE_CLAIM) -> int:
        """Settle rows a crashed dispatcher left `sending`; returns how many there were.

        The providers are asked between two short transactions, not inside one: a search at
        Twilio takes a while per row, and on SQLite a transaction locks out every writer."""
        now = self.clock()
        async with transaction(self.sessions) as session:
            rows = await outbox.stale_claims(session, now=now + outbox.STALE_CLAIM - stale_after)
            claims = [await self._claim_of(session, row, now=now) for row in rows]
        answers = [await self._ask(claim) for claim in claims]
        async with transaction(self.sessions) as session:
            for claim, answer in zip(claims, answers, strict=True):
                if not isinstance(answer, ChannelError):
                    await outbox.settle_claim(
                        session,
                        row_id=claim.row_id,
                        claimed_at=claim.claimed_at,
                        provider_message_id=answer,
                        now=now,
                    )
        if rows:
            logger.info("recovered %d notifications left sending", len(rows))
        return len(rows)

    async def _claim_of(self, session: AsyncSession, row: Notification, *, now: datetime) -> _Claim:
        """What the provider can be asked about a stale claim: its id there, or the text sent."""
        assert row.id is not None and row.claimed_at is not None
        text: str | None = None
        if not row.provider_message_id and isinstance(self.senders.get(row.channel), Finder):
            try:
                text = (await rendering.render(session, row, self.render_settings, now=now)).text
            except rendering.Stale:
                text = None  # it will not be sent again either
        return _Claim(
            row.id,
            row.claimed_at,
            Channel(row.channel),
            row.recipient,
            row.provider_message_id,
            text,
        )

    async def _ask(self, claim: _Claim) -> str | ChannelError | None:
        """The provider's id if the message left, None if it did not (or cannot be found), or
        the error if the provider cannot be asked now (the row stays `sending` for next time)."""
        sender = self.senders.get(claim.channel)
        try:
            if sender is not None and claim.provider_message_id:
                state = await sender.lookup(claim.provider_message_id)
                return claim.provider_message_id if state != DeliveryState.unknown else None
            if isinstance(sender, Finder) and claim.text is not None:
                return await sender.find(claim.recipient, claim.text, claim.claimed_at)
        except ChannelError as error:
            logger.info("notification %s not settled yet: %s", claim.row_id, error.reason)
            return error
        return None

    async def run_due(self) -> int:
        """Send every row due now, batch after batch; returns how many were handled."""
        handled = 0
        async with self._running:
            while not self._stopping:
                count = await self._one_batch()
                handled += count
                if count < self.batch:
                    break
        return handled

    async def _one_batch(self) -> int:
        now = self.clock()
        async with transaction(self.sessions) as session:
            rows = await outbox.claim_due(session, now=now, limit=self.batch)
        if not rows:
            return 0
        async with reading(self.sessions) as session:
            loaded = await rendering.preload(session, rows)  # noqa: F841 (kept for the batch)
            opted_out = await outbox.opted_out_among(
                session, {row.recipient for row in rows if row.channel == Channel.sms}
            )
            prepared = [await self._prepare(session, row, opted_out, now=now) for row in rows]
        # Recipients in parallel, each one's messages in order: a chat's answers arrive in the
        # order they were written.
        queues: dict[tuple[str, str], list[tuple[Notification, OutgoingMessage | str]]] = {}
        for row, message in prepared:
            queues.setdefault((row.channel, row.recipient), []).append((row, message))
        sent = await asyncio.gather(*(self._send_in_order(queue) for queue in queues.values()))
        await self._record([outcome for outcomes in sent for outcome in outcomes], now=self.clock())
        return len(rows)

    async def _send_in_order(
        self, queue: list[tuple[Notification, OutgoingMessage | str]]
    ) -> list[_Outcome]:
        return [await self._send(row, message) for row, message in queue]

    async def _prepare(
        self, session: AsyncSession, row: Notification, opted_out: set[str], *, now: datetime
    ) -> tuple[Notification, OutgoingMessage | str]:
        """The message to send, or why not (stale, opted out)."""
        if row.channel == Channel.sms and row.recipient in opted_out:
            return row, OPTED_OUT
        if row.channel == Channel.sms and notifications.held_by_quiet_hours(row, now):
            return row, QUIET
        try:
            return row, await rendering.render(session, row, self.render_settings, now=now)
        except rendering.Stale as stale:
            return row, f"stale: {stale}"

    async def _send(self, row: Notification, message: OutgoingMessage | str) -> _Outcome:
        assert row.id is not None
        if isinstance(message, str):
            return _Outcome(row.id, stale=message)
        sender = self.senders.get(Channel(row.channel))
        if sender is None:
            return _Outcome(row.id, error=ChannelError("no such channel", permanent=True))
        async with self._slots:
            try:
                sent = await sender.send(message, idempotency_key=row.idempotency_key)
            except ChannelError as error:
                logger.info("notification %s not sent: %s", row.id, error.reason)
                return _Outcome(row.id, error=error)
        return _Outcome(row.id, provider_id=sent)

    async def _record(self, outcomes: list[_Outcome], *, now: datetime) -> None:
        """Mark every row of the batch in one transaction; undeliverable SMS fall back."""
        results: list[tuple[str, str, dict[str, int | None]]] = []
        async with transaction(self.sessions) as session:
            for outcome in outcomes:
                row = await session.get(Notification, outcome.row_id)
                assert row is not None
                if outcome.stale == OPTED_OUT:
                    outbox.mark_cancelled(row, reason=OPTED_OUT)
                    await fall_back_to_email(session, row, now=now)
                    result = "cancelled"
                elif outcome.stale == QUIET:
                    # A retry or a late claim reached the quiet hours: wait for the morning.
                    outbox.hold(row, until=notifications.sms_due(now, earlier=False))
                    result = "held"
                elif outcome.stale is not None:
                    outbox.mark_cancelled(row, reason=outcome.stale)
                    result = "cancelled"
                elif outcome.error is None:
                    outbox.mark_sent(row, provider_message_id=outcome.provider_id, now=now)
                    result = "sent"
                elif outcome.error.permanent:
                    outbox.mark_failed(row, reason=outcome.error.reason)
                    await fall_back_to_email(session, row, now=now)
                    result = "failed"
                else:
                    outbox.mark_retry(row, reason=outcome.error.reason, now=now)
                    # mark_retry gives up on a row past its last attempt.
                    result = "failed" if row.status == NotificationStatus.failed else "retry"
                if row.template in notifications.CARRIES_WORDS and row.status in SETTLED:
                    outbox.forget_words(row)
                session.add(row)
                ids = {
                    "notification_id": row.id,
                    "card_id": row.card_id,
                    "meeting_id": row.meeting_id,
                }
                results.append((str(row.channel), result, ids))
        for channel, result, ids in results:
            # After the commit, so the line says what the database holds; ids only.
            logger.info(
                "notification %s by %s: %s", ids["notification_id"], channel, result, extra=ids
            )
            if self.on_result is not None:
                self.on_result(channel, result)

    async def stop(self) -> None:
        """Finish the batch in flight (its rows are `sending`) and start no other."""
        self._stopping = True
        async with self._running:
            pass

    async def next_due(self) -> datetime | None:
        """When the next pending row falls due."""
        async with reading(self.sessions) as session:
            return await outbox.next_due(session)


async def fall_back_to_email(session: AsyncSession, row: Notification, *, now: datetime) -> None:
    """An SMS that cannot be delivered (or may not be) goes to the user's e-mail instead."""
    if row.channel != Channel.sms or row.card_id is None:
        return
    card = await session.get(Card, row.card_id)
    user = await session.get(CardUser, card.card_user_id) if card is not None else None
    if user is None:
        return
    await outbox.enqueue(
        session,
        channel=Channel.email,
        recipient=user.email,
        template=row.template,
        due_at=now,
        key=f"{row.idempotency_key}:fallback",
        payload=row.payload,
        card_id=row.card_id,
        meeting_id=row.meeting_id,
    )
