"""Asking the Bot API who the bot is (its username makes the t.me deep links)."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError

logger = logging.getLogger(__name__)


async def fetch_bot_username(token: str, base_url: str) -> str | None:
    """The bot's @username from getMe, or None when the Bot API cannot be reached."""
    try:
        async with Bot(token=token, base_url=base_url) as bot:
            return bot.username
    except (TelegramError, OSError):
        logger.warning("getMe failed; printing the bare /start command instead", exc_info=True)
        return None
