"""The durable outbox: every message sent outside a chat reply is first a row here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from models.i18n import N_
from models.types import UTCDateTime, utcnow


class Channel(StrEnum):
    """How a notification travels."""

    sms = "sms"
    email = "email"
    telegram = "telegram"
    console = "console"


class NotificationStatus(StrEnum):
    """pending → sending → sent | failed | cancelled."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


# What operators read for each state (the CLI takes the contract names or these).
NOTIFICATION_STATUS_NAMES: dict[NotificationStatus, str] = {
    NotificationStatus.pending: N_("waiting"),
    NotificationStatus.sending: N_("being sent"),
    NotificationStatus.sent: N_("sent"),
    NotificationStatus.failed: N_("failed"),
    NotificationStatus.cancelled: N_("called off"),
}


class Notification(SQLModel, table=True):
    """One message to send at or after due_at, at most once per idempotency key."""

    __table_args__ = (
        Index("ix_notification_status_due", "status", "due_at"),
        # The SMS chat's limits count the replies to one number.
        Index("ix_notification_recipient_template", "recipient", "template", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_column=Column(String(20), nullable=False))
    recipient: str = Field(max_length=320)
    template: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due_at: datetime = Field(sa_type=UTCDateTime)
    idempotency_key: str = Field(max_length=200, unique=True)
    status: NotificationStatus = Field(
        default=NotificationStatus.pending, sa_column=Column(String(20), nullable=False)
    )
    attempts: int = 0
    # When a dispatcher took the row; a row left `sending` by a crash is recovered from it.
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provider_message_id: str | None = Field(default=None, max_length=100)
    # What the provider reported afterwards (Twilio's status callback).
    delivery_status: str | None = Field(default=None, max_length=20)
    last_error: str | None = Field(default=None, max_length=500)
    card_id: int | None = Field(default=None, foreign_key="card.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SmsOptOut(SQLModel, table=True):
    """A number that answered STOP: no more SMS to it until it answers START."""

    __tablename__ = "sms_opt_out"

    phone: str = Field(primary_key=True, max_length=20)
    opted_out_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboundSms(SQLModel, table=True):
    """An inbound SMS handled once: Twilio retries a webhook with the same MessageSid."""

    __tablename__ = "inbound_sms"

    message_sid: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
