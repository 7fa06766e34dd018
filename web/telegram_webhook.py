"""Telegram's webhook: updates posted by Telegram, checked by their secret token, handed to the bot.

The bot itself lives in `bot.telegram`; the composition root puts its update handler into
`app.state.telegram_updates`, so that `web` never imports python-telegram-bot.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from models.crypto import webhook_secret
from web.deps import SecretKeyDep

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
# Handles one update (Telegram's JSON object); raises ValueError when it is not an update.
TelegramUpdates = Callable[[dict[str, Any]], Awaitable[None]]

router = APIRouter(include_in_schema=False)


def webhook_url(public_base_url: str) -> str:
    """Where Telegram should post updates."""
    return public_base_url.rstrip("/") + WEBHOOK_PATH


async def telegram_update(request: Request, secret_key: SecretKeyDep) -> dict[str, Any]:
    """The posted update, once its secret token header is checked."""
    if secret_key is None:
        raise HTTPException(503, "KORTKONTOR_SECRET_KEY is not set: the Telegram webhook is off")
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, webhook_secret(secret_key).encode()):
        logger.warning("rejected a Telegram webhook call: wrong secret token")
        raise HTTPException(403, "wrong secret token")
    try:
        update = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(update, dict):
        raise HTTPException(400, "the body is not a Telegram update")
    return update


TelegramUpdate = Annotated[dict[str, Any], Depends(telegram_update)]


@router.post(WEBHOOK_PATH, status_code=204)
async def telegram_webhook(update: TelegramUpdate, request: Request) -> None:
    """Hand the update to the bot; answer once it is handled, so Telegram redelivers on a crash."""
    handle: TelegramUpdates | None = request.app.state.telegram_updates
    if handle is None:
        raise HTTPException(503, "the Telegram bot does not run in webhook mode here")
    try:
        await handle(update)
    except ValueError:
        logger.warning("Telegram webhook: update %s could not be read", update.get("update_id"))
        raise HTTPException(400, "not a Telegram update") from None
