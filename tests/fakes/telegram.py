"""A fake Telegram Bot API over real HTTP, on a thread of its own (so sync tests can use it)."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from aiohttp import web


class FakeBotApi:
    """Serves `/bot<token>/<method>` like api.telegram.org; records the methods called."""

    def __init__(self, *, username: str = "kortkontor_bot", token: str = "123456:TEST") -> None:
        self.username = username
        self.token = token
        self.calls: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        self.calls.append(method)
        if method == "getMe":
            result: Any = {
                "id": 123456,
                "is_bot": True,
                "first_name": "Kortkontor",
                "username": self.username,
            }
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
