"""The console sink: where notifications go when their channel is not configured (the demo)."""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from scheduler.channels.base import DeliveryState, OutgoingMessage


class ConsoleSender:
    """Prints each message to a stream instead of sending it."""

    def __init__(self, channel: str, stream: TextIO | None = None) -> None:
        self.channel = channel
        self.stream = stream
        self._ids = itertools.count(1)

    async def send(self, message: OutgoingMessage, *, idempotency_key: str) -> str | None:
        """Print the message; its id is a running number."""
        out = self.stream or sys.stdout
        heading = f"[{self.channel} → {message.recipient}]"
        if message.subject:
            heading += f" {message.subject}"
        out.write(f"{heading}\n{message.text}\n\n")
        out.flush()
        return f"console-{next(self._ids)}"

    async def lookup(self, provider_message_id: str) -> DeliveryState:
        """A printed message was delivered."""
        return DeliveryState.delivered
