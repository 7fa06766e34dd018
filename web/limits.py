"""Request bodies capped per path: 413 once the declared or the received size passes the cap,
and nothing read beyond it.

The cap is checked when the app reads the body, not before: a route that refuses first (the
API's bearer token, Telegram's secret header) answers without reading anything, and a huge
body sent without credentials meets the refusal, not the cap. Uvicorn itself holds at most
64 KB of a body the app has not asked for, and discards what comes after the answer.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
MB = 1024 * KB
# Longest prefix first. The API takes JSON only: 1000 orders (a request's most) of the usual
# length are about 300 KB. A Telegram update may quote a whole other message (a text is up to
# 4096 characters, each up to 12 bytes escaped). Twilio's forms and the dashboard's are small.
LIMITS: tuple[tuple[str, int], ...] = (
    ("/api/", 1 * MB),
    ("/telegram/", 256 * KB),
    ("/twilio/", 64 * KB),
    ("/dashboard/", 64 * KB),
)
# Everything else takes no body at all; a little is let through, as a GET may carry one.
DEFAULT_LIMIT = 64 * KB


def limit_for(path: str) -> int:
    """The largest body a request to this path may send, in bytes."""
    return next((limit for prefix, limit in LIMITS if path.startswith(prefix)), DEFAULT_LIMIT)


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit // KB} KB"


class BodyTooLarge(HTTPException):
    """A body past its path's cap; answered 413 by the app's HTTP error handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {_size(limit)}, the limit here")


def _declared(scope: Scope) -> int | None:
    try:
        return int(Headers(scope=scope)["content-length"])
    except (KeyError, ValueError):
        return None


class BodyLimit:
    """ASGI middleware: each request's `receive` counts the body against its path's cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _declared(scope)
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, watched_send)
        except BodyTooLarge as error:
            # Raised outside a route (a middleware reading the body): answered here.
            if started:
                raise
            await JSONResponse({"detail": error.detail}, status_code=413)(scope, receive, send)
