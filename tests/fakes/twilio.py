"""A fake Twilio REST API (Messages) over real HTTP, on a thread of its own.

The code under test sends with twilio-python pointed at `base_url`; the fake checks each
request as Twilio would, records accepted messages as `SentSms`, and answers Twilio's JSON.
It also lists messages (newest first, filtered by `To`, `From` and `DateSent` by day, paged).
Delivery is simulated by the test: `set_status(sid, "delivered")`. No status callbacks are made.
Sends to a number can be held mid-request (`hold_sends`), to kill the sender while it waits.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import json
import operator
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from tests.fakes.server import ThreadedServer

JSON = dict[str, Any]

_API = "/2010-04-01/Accounts/{account_sid}"
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Twilio's error codes and messages for what the fake checks.
_MISSING = (
    ("To", 21604, "A 'To' phone number is required."),
    ("From", 21603, "A 'From' phone number is required."),
    ("Body", 21602, "Message body is required."),
)
_PAGE_SIZE, _MAX_PAGE_SIZE = 50, 1000
# DateSent filters compare days, as Twilio does: `DateSent>` is on or after, `DateSent<` on or
# before, `DateSent` on that day.
_DAY_FILTERS: dict[str, Callable[[date, date], bool]] = {
    "DateSent": operator.eq,
    "DateSent>": operator.ge,
    "DateSent<": operator.le,
}


@dataclass
class SentSms:
    """One message the fake accepted; `status` changes with `set_status`."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    status: str = "queued"
    error_code: int | None = None
    date_created: str = ""
    date_updated: str = ""
    # The fake hands a message on at once: it is sent when it is created.
    date_sent: str = ""
    # When the fake accepted it, on this process's monotonic clock (for latencies).
    accepted_at: float = field(default_factory=time.monotonic)

    def day_sent(self) -> date:
        """The UTC day the message was sent."""
        return email.utils.parsedate_to_datetime(self.date_sent).astimezone(UTC).date()


class TwilioError(Exception):
    """An error answer in Twilio's JSON shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        """The HTTP response Twilio would send."""
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return _json_response(body, self.status, headers)


@dataclass
class _Hold:
    """Sends to one number wait for `released`; `accept`: recorded at once (only the answer
    waits, and is lost if the client gives up) or never (answered 503 on release)."""

    accept: bool
    released: threading.Event


@dataclass
class _Fault:
    """An injected error for the next `times` requests."""

    error: TwilioError
    times: int


def _real_now() -> datetime:
    return datetime.now(UTC)


def _rfc2822(moment: datetime) -> str:
    """A time in RFC 2822, as Twilio writes dates."""
    return email.utils.format_datetime(moment.astimezone(UTC))


def _basic_auth(header: str) -> tuple[str, str] | None:
    """(user, password) of an HTTP Basic Authorization header, None if it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


def _paging(query: dict[str, str]) -> tuple[int, int]:
    """(PageSize, Page) of a list request, checked like Twilio."""
    try:
        size = int(query.get("PageSize", _PAGE_SIZE))
        number = int(query.get("Page", 0))
    except ValueError:
        raise TwilioError(400, 20001, "Invalid paging parameter") from None
    if not 1 <= size <= _MAX_PAGE_SIZE or number < 0:
        raise TwilioError(400, 20001, "Invalid paging parameter")
    return size, number


def _day(value: str) -> date:
    """The day of a DateSent filter: `YYYY-MM-DD`, or a timestamp of which the day counts."""
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid DateSent filter: {value}") from None


def _matches(sms: SentSms, query: dict[str, str], days: dict[str, date]) -> bool:
    """Whether a message passes a list request's To and From filters and its DateSent days."""
    if "To" in query and sms.to != query["To"]:
        return False
    if "From" in query and sms.from_ != query["From"]:
        return False
    return all(_DAY_FILTERS[name](sms.day_sent(), day) for name, day in days.items())


def _json_response(
    body: JSON, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact JSON response."""
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


class FakeTwilio(ThreadedServer):
    """Serves Twilio's Messages resource for one account; records what was sent."""

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0123456789abcdef" * 2,
        auth_token: str = "test-token",
        clock: Callable[[], datetime] = _real_now,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Twilio's clock: a service under test on a set clock (tests/clock.py) compares the
        # dates the fake writes with its own.
        self.clock = clock
        self.requests = 0
        # Mutated by tests, read by the server thread; set membership is atomic in CPython.
        self.numbers_opted_out: set[str] = set()
        self.undeliverable: set[str] = set()
        self._cond = threading.Condition(threading.Lock())
        self._messages: list[SentSms] = []
        self._by_sid: dict[str, SentSms] = {}
        self._faults: deque[_Fault] = deque()
        self._holds: dict[str, _Hold] = {}
        # Send requests that reached a hold, in order of arrival (their To numbers).
        self.held: list[str] = []
        # The query of every list request, in order.
        self.list_queries: list[dict[str, str]] = []
        # Seconds the next message to a number waits before it is accepted (`delay_first`).
        self._delays: dict[str, float] = {}

    # -- life cycle -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What TWILIO_API_BASE_URL should be."""
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        """The Messages resource: create, list and fetch."""
        app.router.add_post(_API + "/Messages.json", self._create)
        app.router.add_get(_API + "/Messages.json", self._list)
        app.router.add_get(_API + "/Messages/{sid}.json", self._fetch)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        """POST Messages.json: validate like Twilio, record, answer the new message."""
        try:
            self._admit(request)
            # parse_qsl on the raw body is several times faster than aiohttp's request.post().
            fields = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
            delay = self._delays.pop(fields.get("To", ""), 0.0)
            if delay:
                await asyncio.sleep(delay)
            hold = self._holds.get(fields.get("To", ""))
            if hold is not None:
                return await self._held(hold, fields)
            return _json_response(self._accept(fields), 201)
        except TwilioError as error:
            return error.response()

    async def _held(self, hold: _Hold, fields: dict[str, str]) -> web.Response:
        """A send that waits for `release_sends`; a message held unaccepted is never recorded."""
        resource = self._accept(fields) if hold.accept else None
        with self._cond:
            self.held.append(fields["To"])
            self._cond.notify_all()
        await asyncio.to_thread(hold.released.wait)
        if resource is None:
            raise TwilioError(503, 20503, "Service Unavailable")
        return _json_response(resource, 201)

    async def _fetch(self, request: web.Request) -> web.Response:
        """GET Messages/{sid}.json: the message as it stands, or 404."""
        try:
            self._admit(request)
            sid = request.match_info["sid"]
            with self._cond:
                sms = self._by_sid.get(sid)
                if sms is None:
                    raise TwilioError(
                        404, 20404, f"The requested resource {request.path} was not found"
                    )
                return _json_response(self._resource(sms))
        except TwilioError as error:
            return error.response()

    async def _list(self, request: web.Request) -> web.Response:
        """GET Messages.json: matching messages, newest first, one page of them."""
        try:
            self._admit(request)
            query = dict(request.query)
            days = {name: _day(query[name]) for name in _DAY_FILTERS if name in query}
            with self._cond:
                self.list_queries.append(query)
                matching = [sms for sms in reversed(self._messages) if _matches(sms, query, days)]
                return _json_response(self._page(request.path, query, matching))
        except TwilioError as error:
            return error.response()

    def _page(self, path: str, query: dict[str, str], matching: list[SentSms]) -> JSON:
        """One page of a list answer, with Twilio's paging fields (lock held)."""
        size, number = _paging(query)
        start = size * number
        records = matching[start : start + size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(page: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': page})}"

        more = start + size < len(matching)
        return {
            "messages": [self._resource(sms) for sms in records],
            "end": start + len(records) - 1 if records else start,
            "first_page_uri": uri(0),
            "next_page_uri": f"{uri(number + 1)}&PageToken=PA{number + 1}" if more else None,
            "previous_page_uri": uri(number - 1) if number > 0 else None,
            "page": number,
            "page_size": size,
            "start": start,
            "uri": uri(number),
        }

    def _admit(self, request: web.Request) -> None:
        """Count the request, check credentials and account, raise an injected fault."""
        with self._cond:
            self.requests += 1
        if _basic_auth(request.headers.get("Authorization", "")) != (
            self.account_sid,
            self.auth_token,
        ):
            raise TwilioError(401, 20003, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid:
            # Credentials of one account do not open another's resources.
            raise TwilioError(401, 20003, "Authenticate")
        with self._cond:
            self._raise_fault()

    def _raise_fault(self) -> None:
        """Raise the next injected error, if any (lock held)."""
        if not self._faults:
            return
        fault = self._faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self._faults.popleft()
        raise fault.error

    def _accept(self, fields: dict[str, str]) -> JSON:
        """Check the form like Twilio and record the message; returns its resource."""
        for key, code, message in _MISSING:
            if not fields.get(key):
                raise TwilioError(400, code, message)
        to = fields["To"]
        if not _E164.fullmatch(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if to in self.numbers_opted_out:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        if to in self.undeliverable:
            raise TwilioError(400, 21614, f"'To' number {to} is not a valid mobile number")
        stamp = _rfc2822(self.clock())
        sms = SentSms(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=fields["From"],
            body=fields["Body"],
            status_callback=fields.get("StatusCallback"),
            date_created=stamp,
            date_updated=stamp,
            date_sent=stamp,
        )
        with self._cond:
            self._messages.append(sms)
            self._by_sid[sms.sid] = sms
            self._cond.notify_all()
            return self._resource(sms)

    def _resource(self, sms: SentSms) -> JSON:
        """The Message resource JSON, as Twilio answers it (lock held)."""
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sms.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": sms.body,
            "date_created": sms.date_created,
            "date_sent": sms.date_sent or None,
            "date_updated": sms.date_updated,
            "direction": "outbound-api",
            "error_code": sms.error_code,
            "error_message": None,
            "from": sms.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sms.sid,
            "status": sms.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": sms.to,
            "uri": f"{uri}.json",
        }

    # -- control ------------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, code: int = 20429) -> None:
        """Answer the next `times` requests (any kind) with this error, e.g. 429 or 503."""
        message = "Too Many Requests" if status == 429 else HTTPStatus(status).phrase
        with self._cond:
            self._faults.append(_Fault(TwilioError(status, code, message), times))

    def delay_first(self, number: str, *, seconds: float) -> None:
        """Make the next message to `number` take this long to be accepted: a message sent
        after it without waiting for it is recorded first."""
        self._delays[number] = seconds

    def hold_sends(self, to: str, *, accept: bool) -> None:
        """Hold every send to `to` until `release_sends`: Twilio takes the message but its
        answer never comes (`accept`), or the request hangs and Twilio never takes it."""
        with self._cond:
            self._holds[to] = _Hold(accept, threading.Event())

    def release_sends(self, to: str | None = None) -> None:
        """End the hold on `to` (default: every hold): its held sends are answered, 201, or 503
        if never accepted."""
        with self._cond:
            numbers = list(self._holds) if to is None else [to]
            holds = [self._holds.pop(number) for number in numbers]
        for hold in holds:
            hold.released.set()

    def wait_held(self, count: int, timeout: float = 5.0) -> list[str]:
        """Wait until `count` sends reached a hold; returns their To numbers."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.held) >= count, timeout):
                raise AssertionError(f"{len(self.held)} held send(s), expected {count}")
            return list(self.held)

    def before_stop(self) -> None:
        """Release held sends, so that the server can shut down."""
        self.release_sends()

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """Move a message on, e.g. to "delivered" or "undelivered" (KeyError if unknown)."""
        with self._cond:
            sms = self._by_sid[sid]
            sms.status = status
            sms.error_code = error_code
            sms.date_updated = _rfc2822(self.clock())

    # -- assertions ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[SentSms]:
        """Every accepted message, oldest first (a snapshot)."""
        with self._cond:
            return list(self._messages)

    def sent_to(self, number: str) -> list[SentSms]:
        """The accepted messages to one number, oldest first."""
        with self._cond:
            return [sms for sms in self._messages if sms.to == number]

    def message(self, sid: str) -> SentSms | None:
        """The accepted message with this SID, if any."""
        with self._cond:
            return self._by_sid.get(sid)

    async def wait_messages(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> list[SentSms]:
        """Wait (on the caller's loop) until `count` messages were accepted; returns them all."""
        deadline = time.monotonic() + timeout
        while len(self._messages) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(self._shortfall(count, timeout))
            await asyncio.sleep(0.005)
        return self.messages

    def wait_messages_sync(self, count: int, timeout: float = 5.0) -> list[SentSms]:
        """`wait_messages` for synchronous code (blocks this thread)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(self._shortfall(count, timeout))
            return list(self._messages)

    def _shortfall(self, count: int, timeout: float) -> str:
        return (
            f"expected {count} message(s) within {timeout} s, got {len(self._messages)} "
            f"after {self.requests} request(s)"
        )
