"""SMS through Twilio's REST API (the only module that imports twilio)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from scheduler.channels.base import ChannelError, DeliveryState, OutgoingMessage

logger = logging.getLogger(__name__)

TWILIO_API_BASE_URL = "https://api.twilio.com"

# Twilio error codes that no retry can fix: invalid or unreachable numbers, opted-out recipients.
PERMANENT_ERROR_CODES = frozenset({21211, 21214, 21408, 21610, 21612, 21614})

STOP_WORDS = frozenset(
    {"STOP", "STOPP", "AVSLUTA", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})

_STATES = {
    "queued": DeliveryState.queued,
    "accepted": DeliveryState.queued,
    "scheduled": DeliveryState.queued,
    "sending": DeliveryState.queued,
    "sent": DeliveryState.queued,
    "delivered": DeliveryState.delivered,
    "read": DeliveryState.delivered,
    "failed": DeliveryState.failed,
    "undelivered": DeliveryState.failed,
    "canceled": DeliveryState.failed,
}
# The SID goes into the URL path unquoted by twilio-python, so only well-formed ones are sent.
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
# Leading and trailing non-word characters: whitespace, punctuation, emoji.
_EDGE_NOISE = re.compile(r"^[\W_]+|[\W_]+$")
# Twilio's async client has no timeout of its own (None means "wait forever" to aiohttp).
_DEFAULT_TIMEOUT = 15.0
_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
_TWILIO_ERRORS = (TwilioRestException, TwilioServiceException)
# `find` looks this much further back than asked: our clock and Twilio's may disagree a little.
_FIND_SLACK = timedelta(minutes=1)
# Messages to one number within the window that `find` reads at most (newest first).
_FIND_LIMIT = 200


def rebase_url(url: str, base_url: str) -> str:
    """`url` with its Twilio API origin (api[.edge.region].twilio.com) replaced by `base_url`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    is_api = host == "api.twilio.com" or (host.startswith("api.") and host.endswith(".twilio.com"))
    if not is_api or base_url.rstrip("/") == TWILIO_API_BASE_URL:
        return url
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url.rstrip('/')}{parts.path}{query}"


class _RebasedHttpClient(AsyncTwilioHttpClient):
    """Twilio's aiohttp client, sending API requests to `base_url` and honouring its timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the signature twilio calls
        allow_redirects: bool = False,
    ) -> Response:
        """Send one request to the rebased URL."""
        if auth is not None:
            # aiohttp 3.14 deprecates the BasicAuth objects the base class would make of `auth`.
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        response: Response = await super().request(
            method,
            rebase_url(url, self.base_url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            # The base class ignores the timeout given to its constructor.
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )
        return response

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """Log method and path only: the query of a search names the recipient."""
        self.logger.info("twilio request: %s %s", kwargs["method"], urlsplit(kwargs["url"]).path)


class _Spacer:
    """Hands out send slots at least 1/rate seconds apart (no bursts)."""

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError("messages_per_second must be positive")
        self._interval = 1.0 / rate
        self._next = 0.0  # monotonic time of the next free slot

    async def wait(self) -> None:
        """Sleep until this caller's slot comes."""
        now = time.monotonic()
        slot = max(now, self._next)
        # Claimed before sleeping, without an await in between, so concurrent senders queue up.
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class TwilioSender:
    """Sends SMS through Twilio and asks it how they fared.

    The HTTP session is made on first use, on the running loop: aiohttp cannot make one
    outside a loop, and a session serves only the loop it was made on.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str = TWILIO_API_BASE_URL,
        messages_per_second: float = 10,
        timeout: float = _DEFAULT_TIMEOUT,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from_number = from_number
        self._base_url = base_url
        self._timeout = timeout
        self._spacer = _Spacer(messages_per_second)
        self._http: _RebasedHttpClient | None = None
        self._client: Any = None

    def _twilio(self) -> Any:
        """The Twilio client, made on first use (needs a running loop)."""
        if self._client is None:
            self._http = _RebasedHttpClient(self._base_url, self._timeout)
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def send(self, message: OutgoingMessage, *, idempotency_key: str) -> str | None:
        """Hand one SMS to Twilio; returns its message SID."""
        # Twilio's Messages API takes no idempotency key: the key only tags our logs.
        extra: dict[str, str] = {}
        if message.status_callback_url:
            extra["status_callback"] = message.status_callback_url
        await self._spacer.wait()
        asked = datetime.now(UTC)
        try:
            created = await self._twilio().messages.create_async(
                to=message.recipient, from_=self._from_number, body=message.text, **extra
            )
        except _TWILIO_ERRORS as error:
            raise _rejected(error, idempotency_key) from None
        except aiohttp.ClientConnectorError as error:
            raise _unreachable(error, idempotency_key) from None  # the request never left
        except _NETWORK_ERRORS as error:
            # Twilio may have taken the message and only its answer was lost (a timeout, a
            # dropped connection): a retry would send it twice, so Twilio is asked first.
            found = await self.find(message.recipient, message.text, asked)
            if found is None:
                raise _unreachable(error, idempotency_key) from None
            logger.info("sms %s reached twilio as %s; its answer was lost", idempotency_key, found)
            return found
        sid = str(created.sid)
        logger.info("sms %s handed to twilio as %s", idempotency_key, sid)
        return sid

    async def lookup(self, provider_message_id: str) -> DeliveryState:
        """Twilio's status of an earlier message; unknown if it has no such message."""
        if not _MESSAGE_SID.fullmatch(provider_message_id):
            logger.warning("lookup of a malformed twilio message sid")
            return DeliveryState.unknown
        try:
            fetched = await self._twilio().messages(provider_message_id).fetch_async()
        except _TWILIO_ERRORS as error:
            if error.status == 404:
                return DeliveryState.unknown
            raise _rejected(error, provider_message_id) from None
        except _NETWORK_ERRORS as error:
            raise _unreachable(error, provider_message_id) from None
        return _state(str(fetched.status), provider_message_id)

    async def find(self, recipient: str, text: str, since: datetime) -> str | None:
        """The SID of a message with exactly this text sent to `recipient` since then, if any."""
        after = since - _FIND_SLACK
        try:
            # Twilio filters DateSent by day; the exact bound is applied below.
            messages = await self._twilio().messages.list_async(
                to=recipient, date_sent_after=after, limit=_FIND_LIMIT
            )
        except TwilioException as error:
            raise _search_failed(error) from None
        except _NETWORK_ERRORS as error:
            raise _unreachable(error, "a search") from None
        for message in messages:
            created = message.date_created
            if message.body == text and (created is None or created >= after):
                return str(message.sid)
        return None

    async def close(self) -> None:
        """Close the HTTP session (a later send opens a new one)."""
        http, self._http, self._client = self._http, None, None
        session = getattr(http, "session", None)
        if session is not None:
            await session.close()


def _state(status: str, sid: str) -> DeliveryState:
    """Twilio's message status as a DeliveryState."""
    state = _STATES.get(status)
    if state is None:
        # Still in Twilio's hands as far as we know: reporting it failed could send it twice.
        logger.warning("twilio message %s has unexpected status %r", sid, status)
        return DeliveryState.queued
    return state


def _is_permanent(status: int, code: int | None) -> bool:
    """Can no retry of this request succeed?

    Any 4xx but 429 is permanent, 401 and 403 included: with wrong credentials or a suspended
    account every retry fails until an operator acts, and the recipient is better served by
    the fallback channel meanwhile (they are logged as errors so that the operator does act).
    """
    if code in PERMANENT_ERROR_CODES:
        return True
    return 400 <= status < 500 and status != 429


def _rejected(error: TwilioRestException | TwilioServiceException, ref: str) -> ChannelError:
    """A ChannelError for Twilio's error answer, without its message (which names the number)."""
    status, code = int(error.status), error.code
    permanent = _is_permanent(status, code)
    level = logging.ERROR if status in (401, 403) else logging.WARNING
    kind = "permanent" if permanent else "transient"
    logger.log(level, "twilio refused %s: HTTP %s, code %s (%s)", ref, status, code, kind)
    return ChannelError(f"twilio {code if code is not None else status}", permanent=permanent)


def _search_failed(error: TwilioException) -> ChannelError:
    """A transient ChannelError for a failed message search (Twilio's text is not kept)."""
    status = getattr(error, "status", None)
    if status is None and len(error.args) > 1:
        status = getattr(error.args[1], "status_code", None)
    level = logging.ERROR if status in (401, 403) else logging.WARNING
    logger.log(level, "twilio message search failed: HTTP %s", status)
    return ChannelError(f"twilio search failed: HTTP {status}", permanent=False)


def _unreachable(error: BaseException, ref: str) -> ChannelError:
    """A transient ChannelError for a network failure or timeout."""
    name = type(error).__name__
    logger.warning("twilio unreachable for %s: %s", ref, name)
    return ChannelError(f"twilio unreachable: {name}", permanent=False)


def signature_is_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str
) -> bool:
    """Did Twilio sign this webhook request (status callback, inbound SMS)?"""
    validator = RequestValidator(auth_token)
    return bool(validator.validate(url, dict(params), signature))


def opt_out_command(body: str) -> bool | None:
    """True if an inbound SMS opts out, False if it opts back in, None if it is neither."""
    word = _EDGE_NOISE.sub("", body).upper()
    if word in STOP_WORDS:
        return True
    if word in START_WORDS:
        return False
    return None
