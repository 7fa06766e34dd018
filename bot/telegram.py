"""The Telegram adapter: python-telegram-bot's Application around the dialogue engine.

Handlers stay thin: an update becomes an Incoming, the dialogue answers with Replies, and those
become messages. Conversation state is the dialogue's (in the database), never PTB's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiolimiter import AsyncLimiter
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackContext,
    ContextTypes,
    ExtBot,
    TypeHandler,
)

from bot.dialogue import Dialogue, Incoming, Reply
from models.i18n import DEFAULT_LOCALE, N_, translate

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_CONCURRENT_UPDATES = 8
SEND_ATTEMPTS = 4
SORRY = N_("Sorry, something went wrong on our side. Please try again in a moment, or write /meny.")
# What /-commands Telegram shows in its menu; administrators see theirs in /meny.
COMMANDS = (
    ("meny", N_("The menu")),
    ("status", N_("Where is my card?")),
    ("boka", N_("Book a time to pick up the card")),
    ("avboka", N_("Cancel or change your time")),
    ("hjalp", N_("Help")),
    ("language", N_("Svenska / English")),
)
T = TypeVar("T")


@dataclass
class BotData:
    """What handlers reach through the typed context: the dialogue engine."""

    dialogue: Dialogue | None = None


KortkontorContext = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


class ChatRateLimiter(AIORateLimiter):
    """Telegram's flood limits: 30 messages/s overall, and 1 message/s in each chat."""

    def __init__(self, *, overall_per_second: float = 30, max_retries: int = 3) -> None:
        super().__init__(
            overall_max_rate=overall_per_second, overall_time_period=1, max_retries=max_retries
        )
        self._chats: dict[int, AsyncLimiter] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the chat's own limiter before sending a new message to it."""
        chat_id = data.get("chat_id")
        if endpoint != "sendMessage" or chat_id is None:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        if len(self._chats) > 10_000:
            self._chats = {key: lim for key, lim in self._chats.items() if not lim.has_capacity()}
        limiter = self._chats.setdefault(int(chat_id), AsyncLimiter(1, 1))
        async with limiter:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )


class OneAtATimePerUser(BaseUpdateProcessor):
    """Updates run concurrently, but each user's one after another, in order."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handler under the sender's lock."""
        key = _sender(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked():
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _sender(update: object) -> int:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return 0


def to_incoming(update: Update) -> Incoming | None:
    """The dialogue's view of an update; None for what it does not handle (groups, edits)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return None
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_key": str(chat.id),
        "user_id": user.id,
        "update_id": update.update_id,
        "first_name": user.first_name,
    }
    if update.callback_query is not None:
        return Incoming(**common, button=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    if message.contact is not None:
        return Incoming(
            **common,
            contact_phone=message.contact.phone_number,
            contact_user_id=message.contact.user_id,
        )
    return Incoming(**common, text=message.text)


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Inline buttons, or the keyboard button that shares the user's own phone number."""
    if reply.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                for row in reply.buttons
            ]
        )
    if reply.contact_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_button, request_contact=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
    return None


def _chunks(text: str) -> list[str]:
    """Telegram takes at most 4,096 characters per message: split on lines where needed."""
    limit = MessageLimit.MAX_TEXT_LENGTH
    chunks: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            chunks.append(line[:limit])
            line = line[limit:]
        if chunks and len(chunks[-1]) + 1 + len(line) <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks or [""]


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Retry a Bot API call on network errors and 5xx, with exponential backoff."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            logger.info("Bot API call failed; retry %d", attempt + 1)
            await asyncio.sleep(0.25 * 2**attempt)
    raise AssertionError("unreachable")


async def send_reply(bot: ExtBot[Any], chat_id: int | str, reply: Reply) -> None:
    """Send one reply; the buttons go with its last part."""
    parts = _chunks(reply.text)
    for i, part in enumerate(parts):
        markup = reply_markup(reply) if i == len(parts) - 1 else None
        await with_retries(partial(bot.send_message, chat_id, part, reply_markup=markup))


async def _retire_buttons(query: CallbackQuery) -> None:
    """Answer the press, and take the buttons off the pressed message so it is not pressed
    twice; a message too old to edit keeps them, and the dialogue calls them stale."""
    await with_retries(query.answer)
    if query.message is not None:
        try:
            await query.edit_message_reply_markup(None)
        except TelegramError:
            logger.info("could not remove buttons from message %s", query.message.message_id)


async def on_update(update: Update, context: KortkontorContext) -> None:
    """Every update: into the dialogue, and its replies back out."""
    incoming = to_incoming(update)
    dialogue = context.bot_data.dialogue
    if incoming is None or dialogue is None:
        return
    if update.callback_query is not None:
        await _retire_buttons(update.callback_query)
    for reply in await dialogue.handle(incoming):
        try:
            await send_reply(context.bot, reply.chat_key or incoming.chat_key, reply)
        except Forbidden:
            logger.info("chat %s has blocked the bot", reply.chat_key or incoming.chat_key)


async def _locale_of(context: KortkontorContext, chat_key: str) -> str:
    """The chat's language; Swedish when even that cannot be read (the database is down)."""
    dialogue = context.bot_data.dialogue
    if dialogue is None:
        return DEFAULT_LOCALE
    try:
        return await dialogue.locale_of(CHANNEL, chat_key)
    except Exception:  # the apology must not fail too; the error itself is logged already
        logger.warning("could not read the language of a chat", exc_info=True)
        return DEFAULT_LOCALE


async def on_error(update: object, context: KortkontorContext) -> None:
    """Log without personal data, and answer the user politely."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error(
        "update %s failed: %s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
        extra={"update_id": update_id},
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        locale = await _locale_of(context, str(update.effective_chat.id))
        try:
            await context.bot.send_message(update.effective_chat.id, translate(SORRY, locale))
        except TelegramError:
            logger.warning("could not tell chat about the failed update %s", update_id)


async def register_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyCommands in Swedish; a failure is logged, and the bot works without the menu."""
    commands = [BotCommand(name, translate(text, "sv")) for name, text in COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError:
        logger.warning("setMyCommands failed; carrying on without the command menu", exc_info=True)


def build_application(
    *,
    token: str,
    base_url: str,
    dialogue: Dialogue,
    rate_limited: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot: PTB's Application with the dialogue, the limiter and one error handler."""
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(OneAtATimePerUser())
        .post_init(register_commands)
    )
    if rate_limited:
        builder = builder.rate_limiter(ChatRateLimiter())
    application = builder.build()
    application.bot_data.dialogue = dialogue
    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    return application


# A second poller's 409 is told again at most this often while it lasts.
CONFLICT_REPEAT_SECONDS = 600.0


class PollingErrors:
    """What polling does with getUpdates' errors (python-telegram-bot retries each, with a
    growing pause): a 409 Conflict, which means another process polls with this token, is one
    clear warning (again every CONFLICT_REPEAT_SECONDS while it lasts) rather than a traceback
    every few seconds; other errors are logged with their traceback, as the library does."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.conflicts = 0
        self._told: float | None = None

    def __call__(self, error: TelegramError) -> None:
        if not isinstance(error, Conflict):
            logger.error("polling Telegram failed; retrying", exc_info=error)
            return
        self.conflicts += 1
        now = self.clock()
        if self._told is not None and now - self._told < CONFLICT_REPEAT_SECONDS:
            return
        self._told = now
        logger.warning(
            "another process polls Telegram with this bot's token (409 Conflict, %d so far): "
            "Telegram gives each update to one poller only, so run one polling instance, or set "
            "PUBLIC_BASE_URL to take updates by webhook on every instance",
            self.conflicts,
        )


async def start_polling(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Initialise, start and poll; stop with `stop_polling`."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=10, error_callback=PollingErrors()
    )


async def stop_polling(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop polling and handling, letting running updates finish."""
    assert application.updater is not None
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


def bot_running(
    application: Application[Any, Any, Any, Any, Any, Any], *, polling: bool
) -> tuple[bool, str]:
    """Whether the bot handles updates, and polls when it polls (a readiness probe)."""
    if not application.running:
        return False, "the Telegram bot is stopped"
    if polling and (application.updater is None or not application.updater.running):
        return False, "the Telegram bot no longer polls"
    return True, ""


async def start_webhook(
    application: Application[Any, Any, Any, Any, Any, Any], *, url: str, secret_token: str
) -> None:
    """Initialise and start, then have Telegram post updates to `url`; stop with stop_webhook."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    # Every worker sets the same URL and secret: setting it again is harmless.
    await with_retries(
        partial(
            application.bot.set_webhook,
            url,
            secret_token=secret_token,
            allowed_updates=Update.ALL_TYPES,
        )
    )


async def feed_update(
    application: Application[Any, Any, Any, Any, Any, Any], data: dict[str, Any]
) -> None:
    """Handle one update posted to the webhook, and return once it is handled.

    It goes through the update processor, like a polled update: one at a time per user, in
    arrival order, within the concurrency limit. Awaiting the handling (rather than queueing it)
    means the webhook answers Telegram only afterwards, so Telegram holds back and redelivers
    what a crash interrupted; the dialogue ignores a redelivered update_id.
    """
    try:
        update = Update.de_json(data, application.bot)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise ValueError("not a Telegram update") from error
    await application.update_processor.process_update(update, application.process_update(update))


async def stop_webhook(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop handling, letting running updates finish; the webhook stays set for other workers."""
    if application.running:
        await application.stop()
    await application.shutdown()
