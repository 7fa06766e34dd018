"""`kortkontor serve`: the bot, the outbox dispatcher with its jobs, and the web app in one
process. A channel left unconfigured is off (Telegram) or printed to the console (SMS, e-mail).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from bot.dialogue import Dialogue
from bot.flows import converse
from bot.sms import SmsChat, SmsLimits
from bot.telegram import (
    bot_running,
    build_application,
    feed_update,
    start_polling,
    start_webhook,
    stop_polling,
    stop_webhook,
)
from bot.telegram_channel import TelegramSender
from kortkontor.settings import Settings
from kortkontor.wiring import Services
from models.crypto import webhook_secret
from models.db import is_sqlite
from models.outbox import Channel
from scheduler.channels.base import Sender
from scheduler.channels.console import ConsoleSender
from scheduler.channels.email import SmtpSender
from scheduler.channels.sms import TwilioSender
from scheduler.dispatch import Dispatcher
from scheduler.jobs import Jobs
from scheduler.lease import Lease, lease_for
from scheduler.outbox import STALE_CLAIM
from scheduler.rendering import RenderSettings
from web import readiness
from web.app import create_app
from web.calendar_feed import feed_url
from web.metrics import Metrics
from web.server import WebServer
from web.telegram_webhook import webhook_url

logger = logging.getLogger(__name__)


def sms_sender(settings: Settings) -> Sender:
    """Twilio when configured, else the console."""
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        return TwilioSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from,
            base_url=settings.twilio_api_base_url,
            messages_per_second=settings.twilio_messages_per_second,
        )
    logger.warning("Twilio is not configured: SMS go to the console")
    return ConsoleSender("sms")


def email_sender(settings: Settings) -> Sender:
    """SMTP when configured, else the console."""
    if settings.smtp_host:
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            from_address=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        )
    logger.warning("SMTP is not configured: e-mail goes to the console")
    return ConsoleSender("email")


def _calendar_url(settings: Settings) -> Callable[[str], str] | None:
    """A feed token's address, shown to its admin in the chat; none without a public address."""
    base = settings.public_base_url
    if not base:
        return None
    return partial(feed_url, base)


def _stale_after(settings: Settings, services: Services) -> timedelta:
    """How old a `sending` claim must be before start-up recovers it."""
    if settings.outbox_stale_claim_seconds is not None:
        return timedelta(seconds=settings.outbox_stale_claim_seconds)
    # One SQLite process is the only dispatcher: whatever it left `sending` is its own.
    return timedelta(0) if is_sqlite(services.engine) else STALE_CLAIM


def _recover_after(settings: Settings) -> timedelta:
    """How old a `sending` claim must be before the periodic recovery takes it: never younger
    than STALE_CLAIM, since this process's own batch in flight holds fresh claims."""
    configured = timedelta(seconds=settings.outbox_stale_claim_seconds or 0)
    return max(STALE_CLAIM, configured)


@dataclass
class Running:
    """What `serve` started, to stop in reverse order."""

    parts: list[str] = field(default_factory=list)
    application: Any = None
    webhook: bool = False
    jobs: Jobs | None = None
    lease: Lease | None = None
    web: WebServer | None = None
    senders: dict[Channel, Sender] = field(default_factory=dict)

    async def stop(self) -> None:
        """Stop taking work, then let what runs finish."""
        if self.web is not None:
            await self.web.stop()
        if self.jobs is not None:
            await self.jobs.shutdown()
        if self.lease is not None:
            await self.lease.stop()
        if self.application is not None:
            await (stop_webhook if self.webhook else stop_polling)(self.application)
        for sender in self.senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                await close()


async def start(services: Services) -> Running:
    """Bot, dispatcher and jobs, and the web app."""
    settings = services.settings
    running = Running()
    running.senders = {Channel.sms: sms_sender(settings), Channel.email: email_sender(settings)}
    dialogue = Dialogue(
        services.sessions,
        services.vault,
        converse,
        tariffs=settings.tariffs(),
        calendar_url=_calendar_url(settings),
    )
    app = create_app(services)
    metrics: Metrics = app.state.metrics
    dialogue.observe = metrics.chat_update
    app.state.sms_messages = SmsChat(
        dialogue,
        limits=SmsLimits(
            per_hour=settings.sms_replies_per_hour, per_day=settings.sms_replies_per_day
        ),
    ).webhook
    username = None
    if settings.telegram_bot_token is None:
        logger.warning("TELEGRAM_BOT_TOKEN is not set: the Telegram bot is off")
        running.senders[Channel.telegram] = ConsoleSender("telegram")
    else:
        running.application = build_application(
            token=settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_base_url,
            dialogue=dialogue,
        )
        if settings.public_base_url:
            # Behind a load balancer, every worker takes Telegram's posts on the web app.
            await start_webhook(
                running.application,
                url=webhook_url(settings.public_base_url),
                secret_token=webhook_secret(settings.secret_key()),
            )
            running.webhook = True
            app.state.telegram_updates = partial(feed_update, running.application)
        else:
            await start_polling(running.application)
        readiness.add_probe(
            app, "telegram", partial(bot_running, running.application, polling=not running.webhook)
        )
        username = running.application.bot.username
        running.senders[Channel.telegram] = TelegramSender(running.application.bot)
        mode = "webhook" if running.webhook else "polling"
        running.parts.append(f"telegram bot ({mode})")
    dispatcher = Dispatcher(
        services.sessions,
        running.senders,
        RenderSettings(
            bot_username=username,
            public_base_url=settings.public_base_url,
            organizer_email=settings.smtp_from,
        ),
    )
    dispatcher.on_result = metrics.sent
    await dispatcher.recover(stale_after=_stale_after(settings, services))
    # Of several instances on one PostgreSQL database, the lease's holder runs the periodic
    # jobs; every instance dispatches.
    running.lease = lease_for(services.engine)
    await running.lease.start()
    app.state.leader = running.lease.held
    running.jobs = Jobs(
        dispatcher,
        services.sessions,
        recover_every=settings.outbox_recover_every(),
        recover_after=_recover_after(settings),
        lease=running.lease,
    )
    await running.jobs.start()
    readiness.add_probe(app, "jobs", running.jobs.running)
    dialogue.after_commit = running.jobs.poke
    running.parts.append("dispatcher")
    if settings.cookie_secure and not (settings.public_base_url or "").startswith("https://"):
        logger.info("COOKIE_SECURE is on: the dashboard's login works only when served over https")
    running.web = WebServer(app, host=settings.web_host, port=settings.web_port)
    await running.web.start()
    running.parts.append(f"web on {settings.web_host}:{running.web.port}")
    return running


def settle_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    Modules and the ORM's, the bot's and the web app's objects live as long as the process.
    A full collection walked them all and paused the event loop for up to 100 ms or more:
    it was most of the chat's p99 (docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()


async def serve(services: Services, *, stop: asyncio.Event | None = None) -> int:
    """Run until SIGTERM or SIGINT (or `stop`)."""
    stopping = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    running = await start(services)
    settle_heap()
    logger.info("kortkontor ready: %s", ", ".join(running.parts))
    await stopping.wait()
    logger.info("kortkontor stopping")
    await running.stop()
    logger.info("kortkontor stopped")
    return 0
