"""The last run of each periodic job, so that `kortkontor status` can tell whether the jobs keep
their schedule. One row per job id, upserted by whichever process ran it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.types import UTCDateTime

REASON_LENGTH = 200


class JobOutcome(StrEnum):
    """How a run ended."""

    ok = "ok"
    failed = "failed"


class JobRun(SQLModel, table=True):
    """When a job was first scheduled, when it last ran and how that went."""

    __tablename__ = "job_run"

    job_id: str = Field(primary_key=True, max_length=50)
    # Since when a running service has owed this job's runs (a job never run before is late
    # only once its first run is overdue).
    scheduled_since: datetime = Field(sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: JobOutcome | None = Field(default=None, sa_column=Column(String(10)))
    # Why the last run failed: an exception's class, never its message (it may hold
    # personal data).
    reason: str | None = Field(default=None, max_length=REASON_LENGTH)


async def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
    dialect = (await session.connection()).dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(JobRun)


async def mark_scheduled(session: AsyncSession, *, job_ids: Iterable[str], now: datetime) -> None:
    """A service scheduled these jobs now; the first time counts, later starts change nothing."""
    insert = await _insert(session)
    for job_id in job_ids:
        await session.exec(
            insert.values(job_id=job_id, scheduled_since=now).on_conflict_do_nothing(
                index_elements=["job_id"]
            )
        )


async def record_run(
    session: AsyncSession, *, job_id: str, started: datetime, failure: str | None = None
) -> None:
    """One run of the job began at `started`; ok unless `failure` says why not."""
    outcome = JobOutcome.ok if failure is None else JobOutcome.failed
    values: dict[str, Any] = {
        "last_run_at": started,
        "outcome": outcome.value,
        "reason": None if failure is None else failure[:REASON_LENGTH],
    }
    if failure is None:
        values["last_ok_at"] = started
    insert = (await _insert(session)).values(job_id=job_id, scheduled_since=started, **values)
    await session.exec(insert.on_conflict_do_update(index_elements=["job_id"], set_=values))


async def all_runs(session: AsyncSession) -> dict[str, JobRun]:
    """Every job's row, by job id."""
    return {run.job_id: run for run in (await session.exec(select(JobRun))).all()}
