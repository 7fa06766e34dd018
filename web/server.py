"""Uvicorn inside the service's own event loop, started and stopped from code."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

# How long in-flight requests may take to finish at shutdown.
GRACEFUL_SHUTDOWN_SECONDS = 10


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handlers: the process's owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to the caller (`kortkontor serve` handles them)."""
        yield


class WebServer:
    """Serves an app on host:port; port 0 picks a free port, read from `port` after start."""

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            # The process configures logging once; uvicorn's records just propagate to it.
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving; returns once the socket listens (raises if it cannot bind)."""
        if self._task is not None:
            raise RuntimeError("the web server was already started")
        self._task = asyncio.create_task(self._serve(), name="web-server")
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.01)

    async def _serve(self) -> None:
        """Uvicorn's serve, with its start-up failure as an exception rather than an exit."""
        try:
            await self._server.serve()
        except SystemExit as exit_:
            # A SystemExit escaping a task would end the whole process.
            config = self._server.config
            raise RuntimeError(
                f"the web server could not start on {config.host}:{config.port}"
            ) from exit_

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if not self._server.started:
            raise RuntimeError("the web server is not running")
        port: int = self._server.servers[0].sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, and return when it is down."""
        task, self._task = self._task, None
        if task is None:
            return
        self._server.should_exit = True
        await task


async def run_web(app: FastAPI, *, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve the app until `stop` is set, then shut down cleanly."""
    server = WebServer(app, host=host, port=port)
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()
