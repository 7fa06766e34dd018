"""The periodic jobs in-process: each is scheduled on its trigger in Stockholm time, runs under
its own name, and records its runs; `job_statuses` tells which are late. (tests/kortkontor/
test_serve_jobs.py watches them fire in `kortkontor serve` on a set clock.)"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from kortkontor.wiring import Services
from models.db import transaction
from models.job_runs import JobOutcome, JobRun, all_runs, record_run
from models.outbox import Channel
from models.zone import STOCKHOLM
from scheduler.channels.console import ConsoleSender
from scheduler.dispatch import Dispatcher
from scheduler.jobs import GRACE, Jobs, job_statuses, periodic_jobs
from scheduler.lease import AlwaysLeader, Lease
from scheduler.rendering import RenderSettings

PERIODIC = {job.job_id for job in periodic_jobs()}


class Unreachable(Dispatcher):
    """A dispatcher whose database is gone, as far as sending goes."""

    async def run_due(self) -> int:
        raise ConnectionError("cannot reach +46701112233")  # a message with personal data


def dispatcher(services: Services, kind: type[Dispatcher] = Dispatcher) -> Dispatcher:
    """A dispatcher that prints every channel into a buffer."""
    senders = {channel: ConsoleSender(channel, io.StringIO()) for channel in Channel}
    return kind(services.sessions, senders, RenderSettings())


@pytest.fixture
async def make_jobs(services: Services) -> AsyncIterator[Callable[..., Jobs]]:
    """Builds Jobs around a console dispatcher; shuts every one down at the end."""
    built: list[Jobs] = []

    def make(kind: type[Dispatcher] = Dispatcher, lease: Lease | None = None) -> Jobs:
        jobs = Jobs(dispatcher(services, kind), services.sessions, lease=lease)
        built.append(jobs)
        return jobs

    yield make
    for jobs in built:
        await jobs.shutdown()
    await asyncio.sleep(0)  # the scheduler shuts down on the loop's next turn


async def runs_of(services: Services) -> dict[str, JobRun]:
    async with services.sessions() as session:
        return await all_runs(session)


async def wait_for_run(services: Services, job_id: str) -> JobRun:
    """The job's row once it records a run."""
    for _ in range(200):
        run = (await runs_of(services)).get(job_id)
        if run is not None and run.last_run_at is not None:
            return run
        await asyncio.sleep(0.02)
    raise AssertionError(f"{job_id} recorded no run")


async def test_every_periodic_job_is_scheduled_on_its_trigger(
    services: Services, make_jobs: Callable[..., Jobs]
) -> None:
    jobs = make_jobs()
    await jobs.start()
    scheduled = {job.id: job for job in jobs.scheduler.get_jobs()}
    assert set(scheduled) >= PERIODIC
    paused = [job_id for job_id in PERIODIC if scheduled[job_id].next_run_time is None]
    assert paused == []
    # The wall-clock jobs keep Stockholm's clock, whatever zone the machine is in.
    agenda = scheduled["admins:agenda"].next_run_time.astimezone(STOCKHOLM)
    assert (agenda.hour, agenda.minute) == (7, 0)
    assert scheduled["cards:nudges"].next_run_time.astimezone(STOCKHOLM).minute == 5
    # Owed since now: a fresh service's jobs are not late before their first time comes.
    since = {job_id: run.scheduled_since for job_id, run in (await runs_of(services)).items()}
    assert set(since) == PERIODIC


async def test_jobs_run_under_their_own_names(
    services: Services, make_jobs: Callable[..., Jobs], caplog: pytest.LogCaptureFixture
) -> None:
    jobs = make_jobs()
    await jobs.start()
    await wait_for_run(services, "dispatch:tick")
    jobs.poke()
    await asyncio.sleep(1.5)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")]
    assert any(line.startswith('Running job "dispatch:tick (trigger') for line in lines), lines
    assert any(line.startswith('Running job "dispatch:poke (trigger') for line in lines), lines
    assert not [line for line in lines if "<locals>" in line]


class Switch(AlwaysLeader):
    """A lease the test hands out and takes back."""

    def __init__(self, held: bool) -> None:
        super().__init__()
        self.leads = held

    def held(self) -> bool:
        return self.leads

    async def confirm(self) -> bool:
        return self.leads

    def hand_over(self) -> None:
        self.leads = True
        assert self.on_change is not None
        self.on_change(True)


async def test_a_follower_dispatches_but_runs_no_leader_job_until_it_leads(
    services: Services, make_jobs: Callable[..., Jobs], caplog: pytest.LogCaptureFixture
) -> None:
    lease = Switch(held=False)
    jobs = make_jobs(lease=lease)
    await jobs.start()
    await wait_for_run(services, "dispatch:tick")
    await asyncio.sleep(0.3)  # requests:expire was due at start too, and skipped
    assert (await runs_of(services))["requests:expire"].last_run_at is None
    assert "job requests:expire runs on the leader" not in caplog.text
    lease.hand_over()
    # The new leader runs at once what is owed: requests:expire runs at every start.
    assert (await wait_for_run(services, "requests:expire")).outcome == JobOutcome.ok
    assert "job requests:expire runs on the leader" in caplog.text
    # Not owed yet: the agenda and the nudges keep their times.
    runs = await runs_of(services)
    assert runs["admins:agenda"].last_run_at is None and runs["cards:nudges"].last_run_at is None


async def test_a_run_is_recorded_with_its_outcome_and_no_personal_data(
    services: Services, make_jobs: Callable[..., Jobs], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="scheduler.jobs")  # the traceback is expected
    await make_jobs(Unreachable).start()
    failed = await wait_for_run(services, "dispatch:tick")
    assert (failed.outcome, failed.reason, failed.last_ok_at) == (
        JobOutcome.failed,
        "ConnectionError",
        None,
    )
    expired = await wait_for_run(services, "requests:expire")
    assert expired.outcome == JobOutcome.ok and expired.last_ok_at == expired.last_run_at


# --- which jobs are late ------------------------------------------------------------------

MORNING = datetime(2026, 12, 2, 7, 1, tzinfo=STOCKHOLM)  # a Wednesday, just after the agenda


def run(
    job_id: str, *, since: datetime, ok: datetime | None = None, failed: datetime | None = None
) -> JobRun:
    last = max(filter(None, (ok, failed)), default=None)
    return JobRun(
        job_id=job_id,
        scheduled_since=since,
        last_run_at=last,
        last_ok_at=ok,
        outcome=None if last is None else JobOutcome.ok if last == ok else JobOutcome.failed,
    )


def late(runs: list[JobRun], now: datetime = MORNING) -> dict[str, bool]:
    statuses = job_statuses({r.job_id: r for r in runs}, now=now.astimezone(UTC))
    return {status.job.job_id: status.late for status in statuses}


def all_on_time(now: datetime = MORNING) -> list[JobRun]:
    """Every job ran when it should last have."""
    before = now - timedelta(days=2)
    return [
        run("dispatch:tick", since=before, ok=now - timedelta(seconds=5)),
        run("dispatch:recover", since=before, ok=now - timedelta(seconds=40)),
        run("requests:expire", since=before, ok=now - timedelta(minutes=3)),
        run("cards:nudges", since=before, ok=now.replace(hour=6, minute=5)),
        run("admins:agenda", since=before, ok=now.replace(hour=7, minute=0)),
        run("admins:notice-end", since=before, ok=now.replace(hour=0, minute=15)),
    ]


def test_no_job_is_late_when_each_ran_in_its_period() -> None:
    assert late(all_on_time()) == dict.fromkeys(PERIODIC, False)


def test_a_job_never_scheduled_is_late_and_has_no_next_run() -> None:
    [status] = [s for s in job_statuses({}, now=MORNING) if s.job.job_id == "admins:agenda"]
    assert (status.run, status.next_run, status.late) == (None, None, True)


def test_a_job_scheduled_but_not_due_yet_is_not_late() -> None:
    # serve started at 06:00: the tick is owed from 06:00:10, the agenda from 07:00.
    fresh = [run(job_id, since=MORNING.replace(hour=6, minute=0)) for job_id in PERIODIC]
    assert late(fresh, MORNING.replace(hour=6, minute=1)) == dict.fromkeys(PERIODIC, False)
    statuses = job_statuses({r.job_id: r for r in fresh}, now=MORNING)
    agenda = next(s for s in statuses if s.job.job_id == "admins:agenda")
    assert agenda.next_run == MORNING.replace(minute=0)
    assert late(fresh, MORNING.replace(hour=7, minute=0) + GRACE + timedelta(seconds=1)) == {
        "dispatch:tick": True,  # none ran in an hour
        "dispatch:recover": True,
        "requests:expire": True,
        "cards:nudges": True,
        "admins:agenda": True,
        "admins:notice-end": False,  # owed at 00:15 tomorrow
    }


@pytest.mark.parametrize(
    ("job_id", "last_ok", "now", "is_late"),
    [
        ("dispatch:tick", "07:00:45", "07:01:00", False),
        ("dispatch:tick", "06:58:49", "07:01:00", True),  # 10 s and two minutes' grace passed
        ("admins:agenda", "2026-12-01 07:00", "07:02:00", False),  # today's still in its grace
        ("admins:agenda", "2026-12-01 07:00", "07:02:01", True),  # today's never came
        ("cards:nudges", "06:05:00", "07:06:59", False),
        ("cards:nudges", "06:05:00", "07:07:01", True),
    ],
)
def test_a_job_is_late_when_its_owed_run_is_overdue_past_the_grace(
    job_id: str, last_ok: str, now: str, is_late: bool
) -> None:
    def moment(text: str) -> datetime:
        if " " not in text:
            text = f"2026-12-02 {text}"
        return datetime.fromisoformat(text).replace(tzinfo=STOCKHOLM)

    runs = [r for r in all_on_time(moment(now)) if r.job_id != job_id]
    since = moment(now) - timedelta(days=2)
    runs.append(run(job_id, since=since, ok=moment(last_ok)))
    assert late(runs, moment(now)) == {j: j == job_id and is_late for j in PERIODIC}


async def test_a_run_is_upserted_once_per_job(services: Services) -> None:
    at = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    async with transaction(services.sessions) as session:
        await record_run(session, job_id="cards:nudges", started=at)
        await record_run(
            session, job_id="cards:nudges", started=at + timedelta(hours=1), failure="x" * 500
        )
    [stored] = (await runs_of(services)).values()
    assert (stored.scheduled_since, stored.last_ok_at) == (at, at)
    assert stored.last_run_at == at + timedelta(hours=1) and stored.reason == "x" * 200
