"""What every channel shares: a rendered message in, a provider id out, or a clear failure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CalendarAttachment:
    """An iCalendar file to attach: REQUEST for a booking, CANCEL for a cancellation."""

    content: bytes
    method: str  # "REQUEST" or "CANCEL"
    filename: str = "mote.ics"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered notification, ready for a channel."""

    recipient: str  # E.164 phone number, e-mail address, or chat id
    text: str
    subject: str | None = None
    html: str | None = None
    calendar: CalendarAttachment | None = None
    # Callbacks for the provider to report delivery (SMS status callback), when known.
    status_callback_url: str | None = None
    # Chat buttons as (label, callback data) rows; channels without buttons ignore them.
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()


class DeliveryState(StrEnum):
    """What a provider says about a message it was given."""

    unknown = "unknown"  # the provider has no such message
    queued = "queued"  # accepted, on its way
    delivered = "delivered"
    failed = "failed"  # undeliverable: fall back to another channel


class ChannelError(Exception):
    """Sending failed. `permanent` means retrying cannot help (bad number, opted out)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Sender(Protocol):
    """A channel's sending side."""

    async def send(self, message: OutgoingMessage, *, idempotency_key: str) -> str | None:
        """Send; return the provider's message id (None if the channel has none)."""
        ...

    async def lookup(self, provider_message_id: str) -> DeliveryState:
        """What the provider knows of a message sent earlier (for crash recovery)."""
        ...
