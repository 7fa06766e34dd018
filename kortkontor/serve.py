"""`kortkontor serve`: the bot (and later the dispatcher and the web app) in one process."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.dialogue import Dialogue
from bot.flows import converse
from bot.telegram import build_application, start_polling, stop_polling
from kortkontor.wiring import Services

logger = logging.getLogger(__name__)


async def serve(services: Services, *, stop: asyncio.Event | None = None) -> int:
    """Run until SIGTERM or SIGINT (or `stop`); a channel left unconfigured is simply off."""
    stopping = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    settings = services.settings
    dialogue = Dialogue(services.sessions, services.vault, converse)
    application = None
    running: list[str] = []
    if settings.telegram_bot_token is None:
        logger.warning("TELEGRAM_BOT_TOKEN is not set: the Telegram bot is off")
    else:
        application = build_application(
            token=settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_base_url,
            dialogue=dialogue,
        )
        await start_polling(application)
        running.append("telegram bot (polling)")
    logger.info("kortkontor ready: %s", ", ".join(running) or "no channel configured")
    await stopping.wait()
    logger.info("kortkontor stopping")
    if application is not None:
        await stop_polling(application)
    logger.info("kortkontor stopped")
    return 0
