"""The durable outbox: rows written in the transaction of the event that causes them, then
claimed, sent and marked by the dispatcher. Data access only; what to send is decided in
`notifications`, what it says in `rendering`, and how it goes in `dispatch`.

States: pending → sending → sent | failed | cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.outbox import Channel, Notification, NotificationStatus, SmsOptOut
from models.types import utcnow

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
# From a row's first due time to its last attempt when every attempt fails: the backoff after
# each attempt but the last. A row still unsent longer past its due time is stuck, not retrying.
RETRY_SCHEDULE = sum((FIRST_RETRY * 2 ** (n - 1) for n in range(1, MAX_ATTEMPTS)), timedelta())
UNSETTLED = (NotificationStatus.pending, NotificationStatus.sending)
# A row still `sending` this long after its claim was left by a crashed dispatcher.
STALE_CLAIM = timedelta(minutes=2)


async def enqueue(
    session: AsyncSession,
    *,
    channel: Channel,
    recipient: str,
    template: str,
    due_at: datetime,
    key: str,
    payload: dict[str, Any] | None = None,
    card_id: int | None = None,
    meeting_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Add a notification unless one with this idempotency key exists; True if added. `now`
    is when it was written (the caller's clock; the real time by default)."""
    exists = await session.exec(select(Notification.id).where(Notification.idempotency_key == key))
    if exists.first() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Notification(
                    channel=channel,
                    recipient=recipient,
                    template=template,
                    payload=payload or {},
                    due_at=due_at,
                    idempotency_key=key,
                    card_id=card_id,
                    meeting_id=meeting_id,
                    created_at=now or utcnow(),
                )
            )
            await session.flush()
    except IntegrityError:
        return False  # another transaction added the same key first
    return True


async def by_key(session: AsyncSession, key: str) -> Notification | None:
    """The row written under this idempotency key, if any."""
    query = select(Notification).where(Notification.idempotency_key == key)
    return (await session.exec(query)).first()


async def first_of(
    session: AsyncSession, *, card_id: int | None, template: str, channel: Channel
) -> Notification | None:
    """A card's first row of a template on a channel, if any."""
    query = (
        select(Notification)
        .where(
            Notification.card_id == card_id,
            Notification.template == template,
            Notification.channel == channel,
        )
        .order_by(col(Notification.id))
    )
    return (await session.exec(query)).first()


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Notification]:
    """Take up to `limit` due rows for sending; other dispatchers skip the rows taken here."""
    query = (
        select(Notification)
        .where(Notification.status == NotificationStatus.pending, Notification.due_at <= now)
        .order_by(col(Notification.due_at), col(Notification.id))
        .limit(limit)
    )
    if (await session.connection()).dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.status = NotificationStatus.sending
        row.claimed_at = now
        row.attempts += 1
        session.add(row)
    return rows


async def stale_claims(session: AsyncSession, *, now: datetime) -> list[Notification]:
    """Rows a crashed dispatcher left in `sending`, locked for recovery."""
    query = select(Notification).where(
        Notification.status == NotificationStatus.sending,
        col(Notification.claimed_at) <= now - STALE_CLAIM,
    )
    if (await session.connection()).dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list((await session.exec(query)).all())


def mark_sent(row: Notification, *, provider_message_id: str | None, now: datetime) -> None:
    """The provider took it."""
    row.status = NotificationStatus.sent
    row.provider_message_id = provider_message_id
    row.sent_at = now
    row.last_error = None


def mark_retry(row: Notification, *, reason: str, now: datetime) -> None:
    """Try again later, backing off exponentially; give up after MAX_ATTEMPTS."""
    row.last_error = reason[:500]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = NotificationStatus.failed
        return
    row.status = NotificationStatus.pending
    row.due_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)


def release(row: Notification) -> None:
    """A claim found not to have left (its dispatcher crashed first): send it again."""
    row.status = NotificationStatus.pending


async def settle_claim(
    session: AsyncSession,
    *,
    row_id: int,
    claimed_at: datetime,
    provider_message_id: str | None,
    now: datetime,
) -> bool:
    """Settle a claim a stopped dispatcher left: sent if the provider has the message, else
    pending again. False when the row is no longer that claim (another dispatcher settled it
    meanwhile, and perhaps claimed it anew)."""
    row = await session.get(Notification, row_id, with_for_update=True)
    if row is None or row.status != NotificationStatus.sending or row.claimed_at != claimed_at:
        return False
    if provider_message_id is None:
        release(row)
    else:
        mark_sent(row, provider_message_id=provider_message_id, now=now)
        forget_words(row)
    session.add(row)
    return True


def hold(row: Notification, *, until: datetime) -> None:
    """Not now after all (the SMS quiet hours): pending again until then, and the attempt it
    was claimed for does not count."""
    row.status = NotificationStatus.pending
    row.due_at = until
    row.attempts -= 1


def mark_failed(row: Notification, *, reason: str) -> None:
    """Retrying cannot help."""
    row.status = NotificationStatus.failed
    row.last_error = reason[:500]


def forget_words(row: Notification) -> None:
    """Drop someone's own words from a settled row: kept only as long as delivery needs them."""
    if "text" in row.payload:
        row.payload = {key: value for key, value in row.payload.items() if key != "text"}


def mark_cancelled(row: Notification, *, reason: str) -> None:
    """Nothing to send any more (the meeting moved, the card was picked up …)."""
    row.status = NotificationStatus.cancelled
    row.last_error = reason[:500]


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending row falls due."""
    query = select(func.min(Notification.due_at)).where(
        Notification.status == NotificationStatus.pending
    )
    return (await session.exec(query)).one()


async def cancel_pending(
    session: AsyncSession,
    *,
    meeting_id: int | None = None,
    card_id: int | None = None,
    templates: Iterable[str],
    reason: str,
) -> None:
    """Cancel pending rows of these templates for a meeting or a card."""
    conditions: list[ColumnElement[bool]] = [
        col(Notification.status) == NotificationStatus.pending,
        col(Notification.template).in_(list(templates)),
    ]
    if meeting_id is not None:
        conditions.append(col(Notification.meeting_id) == meeting_id)
    if card_id is not None:
        conditions.append(col(Notification.card_id) == card_id)
    await session.exec(
        update(Notification)
        .where(*conditions)
        .values(status=NotificationStatus.cancelled, last_error=reason)
    )


async def opted_out_among(session: AsyncSession, phones: Iterable[str]) -> set[str]:
    """Which of these numbers answered STOP: one query for a whole batch."""
    wanted = set(phones)
    if not wanted:
        return set()
    query = select(SmsOptOut.phone).where(col(SmsOptOut.phone).in_(wanted))
    return set((await session.exec(query)).all())


async def is_opted_out(session: AsyncSession, *, phone: str) -> bool:
    """Whether the number answered STOP."""
    return await session.get(SmsOptOut, phone) is not None


async def set_opt_out(session: AsyncSession, *, phone: str, opted_out: bool, now: datetime) -> None:
    """STOP stores the number; START removes it."""
    existing = await session.get(SmsOptOut, phone)
    if opted_out and existing is None:
        session.add(SmsOptOut(phone=phone, opted_out_at=now))
    elif not opted_out and existing is not None:
        await session.delete(existing)


async def count_to(session: AsyncSession, *, recipient: str, template: str, since: datetime) -> int:
    """How many rows of a template were written for a recipient since then."""
    query = select(func.count()).where(
        Notification.recipient == recipient,
        Notification.template == template,
        col(Notification.created_at) >= since,
    )
    return int((await session.exec(query)).one())


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many rows are in each state."""
    query = select(Notification.status, func.count()).group_by(Notification.status)
    return {str(status): count for status, count in (await session.exec(query)).all()}


async def oldest_due(session: AsyncSession, *, now: datetime) -> Notification | None:
    """The unsent row (pending or being sent) that fell due first, if one is due."""
    query = (
        select(Notification)
        .where(col(Notification.status).in_(UNSETTLED), Notification.due_at <= now)
        .order_by(col(Notification.due_at), col(Notification.id))
        .limit(1)
    )
    return (await session.exec(query)).first()


def past_its_retries(row: Notification, *, now: datetime) -> bool:
    """Whether an unsent row is due further back than its whole retry schedule: by now it
    should have been sent, or given up on."""
    return row.status in UNSETTLED and row.due_at < now - RETRY_SCHEDULE


async def listing(
    session: AsyncSession, *, status: NotificationStatus | None = None, limit: int = 200
) -> list[Notification]:
    """The newest rows, optionally of one state, for operators."""
    query = select(Notification).order_by(col(Notification.id).desc()).limit(limit)
    if status is not None:
        query = query.where(Notification.status == status)
    return list((await session.exec(query)).all())
