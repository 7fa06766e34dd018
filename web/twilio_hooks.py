"""Twilio's webhooks: delivery status callbacks, and incoming SMS handed to the SMS chat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.outbox import Notification
from models.types import utcnow
from scheduler.channels.sms import signature_is_valid
from scheduler.dispatch import fall_back_to_email
from web.deps import SessionDep, SettingsDep

logger = logging.getLogger(__name__)

UndeliverableHandler = Callable[[AsyncSession, Notification], Awaitable[None]]


async def _email_instead(session: AsyncSession, notification: Notification) -> None:
    """The same message by e-mail."""
    await fall_back_to_email(session, notification, now=utcnow())


# What happens to an SMS Twilio could not deliver; tests add their own observers.
UNDELIVERABLE_HANDLERS: list[UndeliverableHandler] = [_email_instead]

UNDELIVERABLE = frozenset({"failed", "undelivered"})
# Twilio may post callbacks out of order; a late "sent" must not overwrite "delivered".
FINAL_STATUSES = frozenset({"delivered", "read", "canceled", *UNDELIVERABLE})
DELIVERY_STATUS_MAX = 20  # Notification.delivery_status's column width

# Handles one inbound SMS (MessageSid, From, Body); returns the text to answer in the response
# (STOP and START), or None when any answer goes through the outbox. The composition root puts
# the SMS chat's handler into `app.state.sms_messages`, so that `web` never imports the bot.
SmsMessages = Callable[[str, str, str], Awaitable[str | None]]
MESSAGE_SID_MAX = 64  # InboundSms.message_sid's column width

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

router = APIRouter(prefix="/twilio", tags=["twilio"], include_in_schema=False)


def signed_url(request: Request, public_base_url: str | None) -> str:
    """The URL Twilio signed: behind a proxy the public one, else the one we were called at."""
    if not public_base_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_base_url.rstrip('/')}{request.url.path}{query}"


async def twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The webhook's form fields, once its X-Twilio-Signature is checked."""
    token = settings.twilio_auth_token
    if token is None or not token.get_secret_value():
        raise HTTPException(503, "TWILIO_AUTH_TOKEN is not set: Twilio webhooks are off")
    # Twilio posts url-encoded forms only, so no python-multipart is needed to read them.
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    signature = request.headers.get("X-Twilio-Signature", "")
    url = signed_url(request, settings.public_base_url)
    if not signature_is_valid(token.get_secret_value(), url, form, signature):
        logger.warning("rejected a Twilio webhook to %s: invalid signature", request.url.path)
        raise HTTPException(403, "invalid Twilio signature")
    return form


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]


def twiml(message: str | None = None) -> Response:
    """A TwiML answer: one SMS back, or none."""
    if message is None:
        return Response(XML_DECLARATION + "<Response/>", media_type="application/xml")
    reply = f"<Response><Message>{escape(message)}</Message></Response>"
    return Response(XML_DECLARATION + reply, media_type="application/xml")


async def _by_provider_id(session: AsyncSession, sid: str) -> Notification | None:
    """The notification Twilio knows by this message SID."""
    query = select(Notification).where(Notification.provider_message_id == sid)
    return (await session.exec(query)).first()


@router.post("/status", status_code=204)
async def status_callback(form: TwilioForm, session: SessionDep) -> None:
    """Record what became of an SMS; hand an undeliverable one to the fallbacks."""
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")[:DELIVERY_STATUS_MAX]
    notification = await _by_provider_id(session, sid) if sid and status else None
    if notification is None:
        # Still 2xx: Twilio retries errors, and retrying cannot make the SID known.
        logger.info("twilio status for unknown message %r", sid)
        return
    previous = notification.delivery_status
    if previous in FINAL_STATUSES and status not in FINAL_STATUSES:
        return
    notification.delivery_status = status
    session.add(notification)
    logger.info("notification %s: twilio status %s", notification.id, status)
    # Once per message: Twilio may repeat a callback, and failed may follow undelivered.
    if status in UNDELIVERABLE and previous not in UNDELIVERABLE:
        error = form.get("ErrorCode")
        logger.warning("notification %s undeliverable: twilio error %s", notification.id, error)
        for handler in tuple(UNDELIVERABLE_HANDLERS):
            await handler(session, notification)


@router.post("/inbound", response_class=Response)
async def inbound_sms(form: TwilioForm, request: Request) -> Response:
    """Hand an SMS to the chat and answer at once: with empty TwiML, since the chat's answer
    goes through the outbox; STOP and START are confirmed in the response itself."""
    handle: SmsMessages | None = request.app.state.sms_messages
    if handle is None:
        raise HTTPException(503, "the SMS chat does not run here")
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid or len(sid) > MESSAGE_SID_MAX:
        raise HTTPException(400, "MessageSid is missing or too long")
    return twiml(await handle(sid, form.get("From", ""), form.get("Body", "")))
