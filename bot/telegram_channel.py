"""Notifications to a linked Telegram chat: the outbox's Telegram channel."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.telegram import with_retries
from scheduler.channels.base import ChannelError, DeliveryState, OutgoingMessage


class TelegramSender:
    """Sends outbox messages with the bot; the chat id is the recipient."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: OutgoingMessage, *, idempotency_key: str) -> str | None:
        """Send the text with its buttons; the message id is the provider id."""
        markup: Any = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in message.buttons
                ]
            )
        try:
            sent = await with_retries(
                lambda: self.bot.send_message(
                    int(message.recipient), message.text, reply_markup=markup
                )
            )
        except (Forbidden, BadRequest) as error:
            raise ChannelError(f"telegram {type(error).__name__}", permanent=True) from None
        except (NetworkError, TelegramError) as error:
            raise ChannelError(f"telegram {type(error).__name__}") from None
        return str(sent.message_id)

    async def lookup(self, provider_message_id: str) -> DeliveryState:
        """The Bot API cannot be asked about a sent message."""
        return DeliveryState.unknown
