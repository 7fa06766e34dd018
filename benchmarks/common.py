"""What the benchmarks that need a database share: the option naming it, and the services."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kortkontor.settings import Settings
from kortkontor.wiring import Services, build_services


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """--database-url: an empty database to run on (default: a fresh SQLite file)."""
    parser.add_argument(
        "--database-url", help="an empty database (default: a fresh SQLite file)", default=None
    )


@asynccontextmanager
async def bench_services(url: str | None) -> AsyncIterator[Services]:
    """The services on `url`, or on a fresh SQLite file that is gone afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=url or f"sqlite:///{folder}/bench.db")
        services = build_services(settings, secret_key="bench-" * 8)
        try:
            yield services
        finally:
            await services.close()
