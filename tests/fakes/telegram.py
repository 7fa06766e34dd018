"""A fake Telegram Bot API over real HTTP, on a thread of its own (for sync and async tests).

Simulated users push updates (`send_text`, `press`, ...); the bot under test fetches them with
`getUpdates` and answers with `sendMessage` & co., which are recorded as `Sent` records.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from tests.fakes.server import ThreadedServer

JSON = dict[str, Any]
ChatId = int | str

# Parameters that arrive as strings but are numbers.
_INT_KEYS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "from_chat_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
    }
)
# Free-text parameters: never JSON-decoded, even when they look like JSON.
_TEXT_KEYS = frozenset({"text", "caption", "callback_query_id", "url", "title", "description"})
# Methods checked against the flood limits when `enforce_limits` is on.
_LIMITED = frozenset({"sendmessage", "editmessagetext"})
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass(frozen=True)
class Sent:
    """One successful bot API call (anything but getUpdates), as the fake understood it."""

    method: str
    chat_id: ChatId | None
    message_id: int | None
    text: str | None
    reply_markup: JSON | None
    params: JSON
    at: float


class ApiError(Exception):
    """An error answer: Telegram's `{"ok": false, ...}` with an HTTP status."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """The JSON body Telegram would send."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class _Fault:
    """An injected error for the next `times` calls of a method."""

    error: ApiError
    times: int


@dataclass
class _Pending:
    """An update waiting for confirmation; `held` ones ignore the offset until delivered."""

    update_id: int
    update: JSON
    held: bool = False


class _Bucket:
    """A token bucket: refills `rate` tokens a second, holds at most `capacity`."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def ready(self, now: float) -> bool:
        """Refill up to `now`; is a token available?"""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens >= 1


def _number(value: str) -> int | float | str:
    """'42' → 42, '1.5' → 1.5, anything else unchanged."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _decode(key: str, value: Any) -> Any:
    """Undo python-telegram-bot's form encoding of one parameter."""
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    if not isinstance(value, str) or key in _TEXT_KEYS:
        return value
    if key in _INT_KEYS:
        return _number(value)
    if value[:1] in ("{", "[") or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def _read_params(request: web.Request) -> JSON:
    """Merge query string and body (form, multipart or JSON) into decoded parameters."""
    raw: JSON = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise ApiError(400, "Bad Request: can't parse JSON object") from error
            raw.update(body if isinstance(body, dict) else {})
        else:
            for key, value in (await request.post()).items():
                raw[key] = value.filename if isinstance(value, web.FileField) else value
    return {key: _decode(key, value) for key, value in raw.items()}


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _inline(markup: Any) -> JSON | None:
    """The markup if it is an InlineKeyboardMarkup (the only kind echoed in a Message)."""
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _json_response(body: Any, status: int = 200) -> web.Response:
    """A compact JSON response."""
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


class FakeBotApi(ThreadedServer):
    """Serves `/bot<token>/<method>` like api.telegram.org; records what the bot does."""

    def __init__(
        self,
        *,
        username: str = "kortkontor_bot",
        token: str = "123456:TEST",
        enforce_limits: bool = False,
    ) -> None:
        super().__init__()
        self.username = username
        self.token = token
        self.enforce_limits = enforce_limits
        self.calls: list[str] = []
        self.answered_callbacks: list[str] = []
        self.edits: list[Sent] = []
        self.commands: list[JSON] = []
        self.confirmed_offset = 0
        self.too_many_requests = 0
        self._cond = threading.Condition(threading.Lock())
        self._sent: list[Sent] = []
        self._by_chat: dict[ChatId, list[Sent]] = {}
        self._stored: dict[tuple[ChatId, int], JSON] = {}
        self._latest: dict[ChatId, int] = {}
        self._message_ids: dict[ChatId, int] = {}
        self._names: dict[int, str] = {}
        self._channels: dict[str, int] = {}
        self._pending: deque[_Pending] = deque()
        self._held = 0
        self._next_update_id = 1
        self._callback_ids = itertools.count(1)
        self._faults: dict[str, deque[_Fault]] = {}
        self._global_bucket = _Bucket(30, 32)
        self._chat_buckets: dict[ChatId, _Bucket] = {}
        self._poll_waiters = 0
        self._closing = False
        self._arrived: asyncio.Event | None = None
        self._methods: dict[str, Callable[[JSON], Any]] = {
            "getme": lambda _: self.bot_user,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_text,
            "editmessagereplymarkup": self._edit_markup,
            "answercallbackquery": self._answer_callback,
            "deletemessage": self._delete_message,
            "setmycommands": self._set_commands,
            "getmycommands": lambda _: self.commands,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": lambda _: {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            },
        }

    # -- life cycle -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be (python-telegram-bot appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot's own User, as getMe returns it (id = the token's numeric prefix)."""
        prefix = self.token.split(":", 1)[0]
        return {
            "id": int(prefix) if prefix.isdigit() else 123456,
            "is_bot": True,
            "first_name": "Kortkontor",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def on_loop(self) -> None:
        """Long polls wait on this event, made in the server's loop."""
        self._arrived = asyncio.Event()

    def routes(self, app: web.Application) -> None:
        """Every Bot API method, by POST or GET."""
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)

    def before_stop(self) -> None:
        """Wake long polls so that they answer before the server closes."""
        with self._cond:
            self._closing = True
        self._loop.call_soon_threadsafe(self._wake)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        """Check the token, decode the parameters and answer the method."""
        if request.match_info["token"] != self.token:
            return _json_response(ApiError(401, "Unauthorized").body(), 401)
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self._call(method, params)
        except ApiError as error:
            return self._error(error)
        return _json_response({"ok": True, "result": result})

    def _error(self, error: ApiError) -> web.Response:
        """The error response, counting 429s."""
        if error.status == 429:
            with self._cond:
                self.too_many_requests += 1
        return _json_response(error.body(), error.status)

    def _call(self, method: str, params: JSON) -> Any:
        """Answer one bot method (not getUpdates) under the lock."""
        key = method.lower()
        with self._cond:
            self.calls.append(method)
            self._raise_fault(key)
            if self.enforce_limits and key in _LIMITED:
                self._check_limits(params.get("chat_id"))
            handler = self._methods.get(key)
            if handler is not None:
                result = handler(params)
            elif key.startswith("send") and key not in ("sendchataction", "sendmediagroup"):
                result = self._new_message(params, caption=params.get("caption"))
            else:
                result = True
            self._record(method, key, params, result)
            return result

    def _raise_fault(self, key: str) -> None:
        """Raise the next injected fault for this method, if any (lock held)."""
        faults = self._faults.get(key)
        if not faults:
            return
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.popleft()
        raise fault.error

    def _check_limits(self, chat_id: ChatId | None) -> None:
        """Take a token from the global and the chat's bucket, or raise 429 (lock held)."""
        now = time.monotonic()
        chat = self._chat_buckets.setdefault(chat_id if chat_id is not None else 0, _Bucket(1, 2))
        if not (self._global_bucket.ready(now) and chat.ready(now)):
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._global_bucket.tokens -= 1
        chat.tokens -= 1

    # -- fault injection ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with this error (429 carries retry_after)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = f"{HTTPStatus(status).phrase}: injected by FakeBotApi"
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        with self._cond:
            queue = self._faults.setdefault(method.lower(), deque())
            queue.append(_Fault(ApiError(status, description, retry_after), times))

    # -- getUpdates ---------------------------------------------------------------------------

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Confirm below `offset`, return pending updates; long-poll up to `timeout` seconds."""
        offset, limit = params.get("offset"), int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._cond:
            self.calls.append("getUpdates")
            self._raise_fault("getupdates")
        while True:
            with self._cond:
                batch = self._take_batch(offset, limit)
                remaining = deadline - time.monotonic()
                if batch or self._closing or remaining <= 0:
                    return batch
                self._poll_waiters += 1
            await self._await_arrival(remaining)

    async def _await_arrival(self, seconds: float) -> None:
        """Sleep until `_wake` runs (an update arrived or we are closing) or `seconds` pass."""
        assert self._arrived is not None
        try:
            await asyncio.wait_for(self._arrived.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            with self._cond:
                self._poll_waiters -= 1

    def _wake(self) -> None:
        """On the server loop: release every waiting long poll."""
        assert self._arrived is not None
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _take_batch(self, offset: int | None, limit: int) -> list[JSON]:
        """Confirm below `offset`, then the first `limit` pending updates (lock held)."""
        if offset is not None:
            self._confirm(offset)
        batch = list(itertools.islice(self._pending, max(1, min(limit, 100))))
        for pending in batch:
            if pending.held:
                pending.held = False
                self._held -= 1
        return [pending.update for pending in batch]

    def _confirm(self, offset: int) -> None:
        """Forget updates below `offset` (negative: keep only the last -offset)."""
        if offset < 0:
            while len(self._pending) > -offset:
                self._held -= self._pending.popleft().held
            return
        self.confirmed_offset = max(self.confirmed_offset, offset)
        if self._held:
            kept = (p for p in self._pending if p.held or p.update_id >= offset)
            self._pending = deque(kept)
            return
        while self._pending and self._pending[0].update_id < offset:
            self._pending.popleft()

    def _delete_webhook(self, params: JSON) -> bool:
        """True; drops the pending updates if asked to."""
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
            self._held = 0
        return True

    # -- simulated users ----------------------------------------------------------------------

    def enqueue(self, update: JSON) -> int:
        """Push a raw update as is (an update_id is added if missing); returns its update_id."""
        with self._cond:
            if "update_id" not in update:
                return self._push(update)
            update_id = int(update["update_id"])
            held = update_id < self.confirmed_offset
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._insert(_Pending(update_id, update, held))
            return update_id

    def send_text(self, user_id: int, text: str, *, first_name: str = "Test") -> int:
        """The user writes `text` in their private chat with the bot; returns the update_id."""
        with self._cond:
            self._names[user_id] = first_name
            message = self._user_message(user_id, text=text)
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                message["entities"] = [entity]
            return self._push({"message": message})

    def press(self, user_id: int, data: str, *, message_id: int | None = None) -> int:
        """The user presses an inline button on a bot message (default: the latest one)."""
        with self._cond:
            message = self._bot_message(user_id, message_id)
            query = {
                "id": str(next(self._callback_ids)),
                "from": self._user(user_id),
                "chat_instance": f"ci{user_id}",
                "data": data,
                "message": message,
            }
            return self._push({"callback_query": query})

    def share_contact(
        self, user_id: int, phone_number: str, *, contact_user_id: int | None = None
    ) -> int:
        """The user shares a contact (their own when contact_user_id == user_id)."""
        with self._cond:
            contact: JSON = {"phone_number": phone_number, "first_name": self._name(user_id)}
            if contact_user_id is not None:
                contact["user_id"] = contact_user_id
            return self._push({"message": self._user_message(user_id, contact=contact)})

    def send_sticker(self, user_id: int) -> int:
        """The user sends a regular sticker."""
        sticker = {
            "file_id": "sticker-file",
            "file_unique_id": "sticker-unique",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        with self._cond:
            return self._push({"message": self._user_message(user_id, sticker=sticker)})

    def send_photo(self, user_id: int) -> int:
        """The user sends a photo (two PhotoSizes)."""
        photo = [
            {
                "file_id": f"photo-{size}",
                "file_unique_id": f"p{size}",
                "width": size,
                "height": size,
            }
            for size in (90, 800)
        ]
        with self._cond:
            return self._push({"message": self._user_message(user_id, photo=photo)})

    def _push(self, body: JSON) -> int:
        """Give `body` the next update_id and queue it (lock held)."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._insert(_Pending(update_id, {"update_id": update_id, **body}))
        return update_id

    def _insert(self, pending: _Pending) -> None:
        """Queue in update_id order and wake long polls (lock held)."""
        if self._pending and pending.update_id < self._pending[-1].update_id:
            ordered = list(self._pending)
            bisect.insort(ordered, pending, key=lambda p: p.update_id)
            self._pending = deque(ordered)
        else:
            self._pending.append(pending)
        self._held += pending.held
        if self._poll_waiters:
            self._loop.call_soon_threadsafe(self._wake)

    def _name(self, user_id: int) -> str:
        """The user's first name, as last given to `send_text`."""
        return self._names.get(user_id, "Test")

    def _user(self, user_id: int) -> JSON:
        """A (human) User."""
        return {"id": user_id, "is_bot": False, "first_name": self._name(user_id)}

    def _user_message(self, user_id: int, **content: Any) -> JSON:
        """A message from the user in their private chat (lock held)."""
        return {
            "message_id": self._next_message_id(user_id),
            "from": self._user(user_id),
            "chat": self._chat(user_id),
            "date": int(time.time()),
            **content,
        }

    def _bot_message(self, chat_id: ChatId, message_id: int | None) -> JSON:
        """The stored bot message (latest in the chat when message_id is None)."""
        if message_id is None:
            message_id = self._latest.get(chat_id)
        stored = self._stored.get((chat_id, message_id)) if message_id is not None else None
        if stored is None:
            raise AssertionError(f"no bot message {message_id} in chat {chat_id}")
        return stored

    # -- bot methods (lock held) --------------------------------------------------------------

    def _chat(self, chat_id: ChatId) -> JSON:
        """A Chat for an id: users are private chats, negative ids groups, '@name' channels."""
        if isinstance(chat_id, str):
            numeric = self._channels.setdefault(chat_id, -1000000000001 - len(self._channels))
            return {"id": numeric, "type": "channel", "title": chat_id, "username": chat_id[1:]}
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": self._name(chat_id)}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def _next_message_id(self, chat_id: ChatId) -> int:
        """Message ids count up per chat, shared by the user's and the bot's messages."""
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        return message_id

    def _record(self, method: str, key: str, params: JSON, result: Any) -> None:
        """Keep a Sent record of a successful call; index messages and edits (lock held)."""
        markup = params.get("reply_markup")
        message = result if isinstance(result, dict) and "chat" in result else {}
        sent = Sent(
            method=method,
            chat_id=params.get("chat_id"),
            message_id=message.get("message_id", params.get("message_id")),
            text=params.get("text", params.get("caption")),
            reply_markup=markup if isinstance(markup, dict) else None,
            params=params,
            at=time.monotonic(),
        )
        self._sent.append(sent)
        if key == "sendmessage":
            self._by_chat.setdefault(params["chat_id"], []).append(sent)
            self._cond.notify_all()
        elif key in ("editmessagetext", "editmessagereplymarkup"):
            self.edits.append(sent)

    def _new_message(self, params: JSON, **content: Any) -> JSON:
        """Store a new bot message in params['chat_id'] and return its JSON."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        message_id = self._next_message_id(chat_id)
        message: JSON = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **{key: value for key, value in content.items() if value is not None},
        }
        if markup := _inline(params.get("reply_markup")):
            message["reply_markup"] = markup
        self._stored[(chat_id, message_id)] = message
        self._latest[chat_id] = message_id
        return message

    def _send_message(self, params: JSON) -> JSON:
        """A new text message; empty text is a 400 as on Telegram."""
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        return self._new_message(params, text=text)

    def _edit(self, params: JSON, changes: JSON) -> JSON | bool:
        """Apply `changes` to a stored message; its inline keyboard goes unless one is given."""
        if "inline_message_id" in params:
            return True
        key = (params.get("chat_id") or 0, params.get("message_id") or 0)
        old = self._stored.get(key)
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        new = {field: value for field, value in old.items() if field != "reply_markup"}
        new.update(changes, edit_date=int(time.time()))
        if markup := _inline(params.get("reply_markup")):
            new["reply_markup"] = markup
        if all(old.get(field) == new.get(field) for field in ("text", "caption", "reply_markup")):
            raise ApiError(400, _NOT_MODIFIED)
        self._stored[key] = new
        return new

    def _edit_text(self, params: JSON) -> JSON | bool:
        """editMessageText."""
        return self._edit(params, {"text": params.get("text")})

    def _edit_markup(self, params: JSON) -> JSON | bool:
        """editMessageReplyMarkup."""
        return self._edit(params, {})

    def _answer_callback(self, params: JSON) -> bool:
        """Remember the answered callback_query_id."""
        self.answered_callbacks.append(str(params.get("callback_query_id")))
        return True

    def _delete_message(self, params: JSON) -> bool:
        """Forget the stored message; always True."""
        self._stored.pop((params.get("chat_id") or 0, params.get("message_id") or 0), None)
        return True

    def _set_commands(self, params: JSON) -> bool:
        """Keep the command list."""
        self.commands = list(params.get("commands") or [])
        return True

    # -- assertions ---------------------------------------------------------------------------

    def messages(self, chat_id: ChatId) -> list[Sent]:
        """sendMessage records for `chat_id`, oldest first."""
        with self._cond:
            return list(self._by_chat.get(chat_id, ()))

    def all_sent(self) -> list[Sent]:
        """Every successful call except getUpdates, oldest first."""
        with self._cond:
            return list(self._sent)

    def message(self, chat_id: ChatId, message_id: int) -> JSON | None:
        """The bot message as it stands now (after edits), or None if unknown or deleted."""
        with self._cond:
            return self._stored.get((chat_id, message_id))

    async def wait_messages(
        self,
        chat_id: ChatId,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> list[Sent]:
        """Wait on the caller's loop until `count` messages reached `chat_id`; returns them all."""
        deadline = time.monotonic() + timeout
        while len(got := self.messages(chat_id)) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(self._shortfall(chat_id, count, got, timeout))
            await asyncio.sleep(0.005)
        return got

    def wait_messages_sync(self, chat_id: ChatId, count: int, timeout: float = 5.0) -> list[Sent]:
        """`wait_messages` for synchronous code (blocks this thread)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._by_chat.get(chat_id, ())) >= count, timeout)
        got = self.messages(chat_id)
        if len(got) < count:
            raise AssertionError(self._shortfall(chat_id, count, got, timeout))
        return got

    def _shortfall(self, chat_id: ChatId, count: int, got: list[Sent], timeout: float) -> str:
        """What a failed wait_messages reports."""
        with self._cond:
            recent = self.calls[-15:]
        return (
            f"expected {count} message(s) to chat {chat_id} within {timeout} s, got {len(got)}: "
            f"{[sent.text for sent in got]!r}; last calls: {recent}"
        )

    @staticmethod
    def buttons(sent: Sent) -> list[tuple[str, str]]:
        """(text, callback_data) of the keyboard in reading order; reply-keyboard data is ''."""
        return [(text, data) for text, data, _ in _keyboard(sent.reply_markup)]

    @staticmethod
    def requests_contact(sent: Sent) -> bool:
        """Does the message carry a reply-keyboard button asking for the user's phone number?"""
        return any(contact for _, _, contact in _keyboard(sent.reply_markup))


def _keyboard(markup: JSON | None) -> Iterator[tuple[str, str, bool]]:
    """(text, callback_data, request_contact) for every button of an inline or reply keyboard."""
    if not markup:
        return
    for row in markup.get("inline_keyboard", ()):
        for button in row:
            yield button.get("text", ""), button.get("callback_data", ""), False
    for row in markup.get("keyboard", ()):
        for button in row:
            if isinstance(button, str):
                yield button, "", False
            else:
                yield button.get("text", ""), "", bool(button.get("request_contact"))
