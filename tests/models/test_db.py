"""The session helpers' promises on SQLite: a reading session never holds the write lock."""

from __future__ import annotations

import sqlite3

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.db import is_sqlite, reading
from models.job_runs import JobRun


async def test_a_long_read_does_not_hold_up_a_writer(services: Services, database_url: str) -> None:
    if not is_sqlite(services.engine):
        pytest.skip("SQLite's single writer lock; PostgreSQL readers never take one")
    async with reading(services.sessions) as session:
        assert (await session.exec(select(JobRun))).all() == []  # the read transaction is open
        # Another process writes meanwhile: with a write lock held by the reader, it would
        # wait out its busy timeout and fail with «database is locked».
        writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=1)
        with writer:
            writer.execute(
                "INSERT INTO job_run (job_id, scheduled_since) VALUES ('x', '2026-12-01 10:00')"
            )
        writer.close()
        # The reader keeps its snapshot until its transaction ends.
        assert (await session.exec(select(JobRun))).all() == []
    async with reading(services.sessions) as session:
        assert [run.job_id for run in (await session.exec(select(JobRun))).all()] == ["x"]
