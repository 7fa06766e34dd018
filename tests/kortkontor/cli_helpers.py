"""Running the real CLI in-process and reading the database it wrote."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from kortkontor.cli import main
from kortkontor.settings import Settings
from kortkontor.wiring import build_services
from models.db import transaction
from tests.conftest import TEST_SECRET_KEY

T = TypeVar("T")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one `kortkontor …` call."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, content: str) -> Path:
    """A file for the CLI to read."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def query(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one read in its own event loop (CLI tests are synchronous)."""

    async def _go() -> T:
        services = build_services(Settings(database_url=database_url), secret_key=TEST_SECRET_KEY)
        try:
            async with transaction(services.sessions) as session:
                return await work(session)
        finally:
            await services.close()

    return asyncio.run(_go())
