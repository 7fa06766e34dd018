"""The hash-chained audit log: every change appends one event in the same transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.types import UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same in every process.
_PG_AUDIT_LOCK = 0x4B4B_A0D1


class AuditEvent(SQLModel, table=True):
    """One thing that happened, chained to the event before it."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    actor_role: str = Field(max_length=20)
    actor_id: int | None = None
    action: str = Field(max_length=50, index=True)
    entity: str = Field(max_length=30)
    entity_id: int = Field(index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


def event_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor_role: str,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the event's canonical JSON (sorted keys, no spaces), the seq included."""
    canonical = json.dumps(
        {
            "seq": seq,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor_role": actor_role,
            "actor_id": actor_id,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "data": data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hash_of(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_role=event.actor_role,
        actor_id=event.actor_id,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        data=event.data,
        prev_hash=event.prev_hash,
    )


async def append(
    session: AsyncSession,
    *,
    actor_role: str,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append an event after the newest one. Ids and codes only in `data`, no personal data."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # Serialise appenders so that two transactions never chain onto the same event.
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK}
        )
    last = (
        await session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1))
    ).one_or_none()
    moment = now or utcnow()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        occurred_at=moment,
        actor_role=actor_role,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        data=data or {},
        prev_hash=last.hash if last else GENESIS_HASH,
        hash="",
    )
    event.hash = _hash_of(event)
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain stops holding, and how."""

    seq: int
    problem: str


async def verify_chain(session: AsyncSession) -> list[ChainBreak]:
    """Walk the log in order; report edited, missing and reordered events."""
    breaks: list[ChainBreak] = []
    expected_seq = 1
    expected_prev = GENESIS_HASH
    events = await session.stream_scalars(select(AuditEvent).order_by(col(AuditEvent.seq)))
    async for event in events:
        if event.seq != expected_seq:
            breaks.append(ChainBreak(expected_seq, "missing"))
        if event.prev_hash != expected_prev:
            breaks.append(ChainBreak(event.seq, "prev_hash_mismatch"))
        if _hash_of(event) != event.hash:
            breaks.append(ChainBreak(event.seq, "hash_mismatch"))
        expected_seq = event.seq + 1
        expected_prev = event.hash
    return breaks
