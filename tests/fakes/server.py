"""The life cycle the fake servers share: an aiohttp app on a free local port, served by an event
loop in a thread of its own, so that tests (sync or async) and child processes can call it over
real HTTP."""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from aiohttp import web

START_TIMEOUT = 5.0


class ThreadedServer:
    """Subclasses add their routes in `routes`; `start`/`stop` or `with` run the server."""

    def __init__(self) -> None:
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        """Add the fake's routes to `app`."""
        raise NotImplementedError

    def on_loop(self) -> None:
        """Runs in the server thread before it serves: make loop-bound objects here."""

    def before_stop(self) -> None:
        """Runs in the caller's thread before the server shuts down: release waiters here."""

    def start(self) -> Self:
        """Start serving on a free port; returns self."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError(f"{type(self).__name__} did not start within {START_TIMEOUT} s")
        return self

    def stop(self) -> None:
        """Shut the server down and join its thread."""
        self.before_stop()
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        """The server thread: bind a free port, then run the loop until `stop`."""
        asyncio.set_event_loop(self._loop)
        self.on_loop()
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()
