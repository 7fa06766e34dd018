"""APScheduler 3's AsyncIOScheduler inside `kortkontor serve`: it wakes the dispatcher every
~10 s and exactly when the next row falls due, recovers rows a crashed process left `sending`,
expires unanswered requests, plans nudges and the admins' 07:00 agenda. Of several instances
on one database, only the holder of the leader lease (scheduler.lease) runs the periodic jobs;
every instance dispatches (claims are safe across processes). The database is the only source
of truth: jobs are deterministic ids over plain functions, recomputed at start and
never pickled. Each periodic run is recorded (models.job_runs) for `kortkontor status`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import job_runs
from models.db import transaction
from models.i18n import N_
from models.job_runs import JobRun
from models.zone import STOCKHOLM
from scheduler import booking, notice_end, notifications, outbox
from scheduler.dispatch import Dispatcher
from scheduler.lease import AlwaysLeader, Lease

logger = logging.getLogger(__name__)

TICK = timedelta(seconds=10)
POKE_JOB = "dispatch:poke"
NEXT_JOB = "dispatch:next"
POKE_DELAY = timedelta(seconds=1)
# Rows a crashed process left `sending` are looked for this often, not only at start.
RECOVER_EVERY = timedelta(seconds=60)
# A run this late still counts as on time: APScheduler runs it rather than skip it (a busy loop
# at 07:00 must not cost the admins their agenda), and `kortkontor status` calls a job late
# only when its run is overdue by more than this.
GRACE = timedelta(minutes=2)
CATCH_UP_JOB = "leader:catch-up"
# What `_attempt` answers for a leader-only job a follower skipped: nothing to record.
_SKIPPED = "skipped: not the leader"


Job = Callable[[], Awaitable[object]]


class _NotLeader(Exception):
    """A leader-only job met on a follower: skipped, not failed."""


@dataclass(frozen=True, slots=True)
class Periodic:
    """A periodic job, as the scheduler runs it and `kortkontor status` reports it."""

    job_id: str
    title: str  # what it does, for operators (a message id)
    trigger: Callable[[], BaseTrigger]  # a fresh trigger: an interval one starts when built
    at_start: bool = False  # also run once at once when the service starts
    # Run by every instance, not only the leader: the dispatch, whose claims are safe across
    # processes (FOR UPDATE SKIP LOCKED), so that each instance sends what its chats wrote.
    everywhere: bool = False

    def next_after(self, previous: datetime, *, now: datetime) -> datetime:
        """When the run that follows a run at `previous` is due (in the past if it is owed)."""
        return self.trigger().get_next_fire_time(previous, now)


def _every(interval: timedelta) -> Callable[[], BaseTrigger]:
    return lambda: IntervalTrigger(seconds=interval.total_seconds(), timezone=STOCKHOLM)


def _daily_or_hourly(**fields: int) -> Callable[[], BaseTrigger]:
    # A trigger object keeps its own zone (the scheduler's does not apply to it): without one
    # it would follow the machine's clock, and 07:00 would be 08:00 in Stockholm on a UTC host.
    return lambda: CronTrigger(timezone=STOCKHOLM, **fields)


def periodic_jobs(*, recover_every: timedelta | None = None) -> tuple[Periodic, ...]:
    """Every periodic job: the one table both `Jobs.start` and `kortkontor status` read."""
    return (
        Periodic(
            "dispatch:tick",
            N_("sends the notifications that are due"),
            _every(TICK),
            at_start=True,
            everywhere=True,
        ),
        Periodic(
            "dispatch:recover",
            N_("recovers notifications a stopped process left being sent"),
            _every(recover_every or RECOVER_EVERY),
        ),
        Periodic(
            "requests:expire",
            N_("expires booking requests unanswered for 24 hours"),
            _every(timedelta(minutes=5)),
            at_start=True,
        ),
        Periodic(
            "cards:nudges",
            N_("reminds card users whose card waits at the office"),
            _daily_or_hourly(minute=5),
        ),
        Periodic(
            "admins:agenda",
            N_("sends each administrator the day's meetings at 07:00"),
            _daily_or_hourly(hour=7, minute=0),
        ),
        Periodic(
            "admins:notice-end",
            N_("hands the meetings of administrators whose notice has ended to a colleague"),
            _daily_or_hourly(hour=0, minute=15),
            at_start=True,
        ),
    )


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One periodic job as `kortkontor status` shows it."""

    job: Periodic
    run: JobRun | None  # None: no service has ever scheduled it
    next_run: datetime | None
    late: bool


def job_statuses(
    runs: Mapping[str, JobRun], *, now: datetime, recover_every: timedelta | None = None
) -> list[JobStatus]:
    """Each periodic job's last and next run, and whether it is late: a job is late when the
    run owed after its last successful one (or, before any, after it was first scheduled) is
    more than GRACE overdue. A job no service ever scheduled is late too: nothing runs it."""
    statuses = []
    for job in periodic_jobs(recover_every=recover_every):
        run = runs.get(job.job_id)
        if run is None:
            statuses.append(JobStatus(job, None, None, late=True))
            continue
        owed = job.next_after(run.last_ok_at or run.scheduled_since, now=now)
        latest = max(run.scheduled_since, run.last_run_at or run.scheduled_since)
        next_run = job.next_after(latest, now=now)
        statuses.append(JobStatus(job, run, next_run, late=now > owed + GRACE))
    return statuses


class Jobs:
    """APScheduler 3's AsyncIOScheduler around the dispatcher and the periodic jobs."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        *,
        recover_every: timedelta | None = None,
        recover_after: timedelta = outbox.STALE_CLAIM,
        lease: Lease | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.lease: Lease = lease if lease is not None else AlwaysLeader()
        self.periodic = periodic_jobs(recover_every=recover_every)
        self.recover_after = recover_after
        self.scheduler = AsyncIOScheduler(timezone=STOCKHOLM)
        self._closing = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Pokes and the exact wake-ups share the dispatch but are not recorded: the periodic
        # tick records it, once every TICK, however busy the chat is.
        self.tick = self._guarded(POKE_JOB, self._dispatch, record=False)
        self._work: dict[str, Job] = {
            "dispatch:tick": self._dispatch,
            "dispatch:recover": self._recover,
            "requests:expire": self._in_transaction(self._expire),
            "cards:nudges": self._in_transaction(self._nudges),
            "admins:agenda": self._in_transaction(self._agenda),
            "admins:notice-end": self._in_transaction(self._notice_end),
        }

    async def start(self) -> None:
        """Schedule every periodic job on its trigger (the ones run at start at once too),
        note since when they are owed, and start."""
        now = self.dispatcher.clock()
        async with transaction(self.sessions) as session:
            await job_runs.mark_scheduled(
                session, job_ids=[job.job_id for job in self.periodic], now=now
            )
        for job in self.periodic:
            work = self._work[job.job_id]
            if not job.everywhere:
                work = self._leader_only(job.job_id, work)
            # APScheduler 3 reads an explicit next_run_time=None as «add paused»: only a job
            # wanted at once is given one; the others take their trigger's first time.
            first = {"next_run_time": now} if job.at_start else {}
            self.scheduler.add_job(
                self._guarded(job.job_id, work, record=True),
                job.trigger(),
                id=job.job_id,
                name=job.job_id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(GRACE.total_seconds()),
                replace_existing=True,
                **first,
            )
        self.lease.on_change = self._leadership_changed
        self.scheduler.start()

    def _leader_only(self, job_id: str, work: Job) -> Job:
        """Run the work only while this instance holds the lease, confirmed with the database
        just before (a leader that lost its session does not run it); otherwise a follower
        skips it, unrecorded."""

        async def run() -> None:
            if not await self.lease.confirm():
                raise _NotLeader
            logger.info("job %s runs on the leader", job_id)
            await work()

        return run

    def _leadership_changed(self, leader: bool) -> None:
        """A new leader runs at once what is owed: the at-start jobs and any run the old leader
        missed (an agenda due at 07:00 while nobody led)."""
        if leader and not self._closing and self.scheduler.running:
            self.scheduler.add_job(
                self._guarded(CATCH_UP_JOB, self._catch_up, record=False),
                DateTrigger(run_date=self.dispatcher.clock()),
                id=CATCH_UP_JOB,
                name=CATCH_UP_JOB,
                replace_existing=True,
            )

    async def _catch_up(self) -> None:
        now = self.dispatcher.clock()
        async with self.sessions() as session:
            runs = await job_runs.all_runs(session)
        for job in self.periodic:
            if job.everywhere:
                continue
            run = runs.get(job.job_id)
            since = None if run is None else run.last_ok_at or run.scheduled_since
            if job.at_start or since is None or job.next_after(since, now=now) <= now:
                logger.info("leader lease: running job %s now, as it is owed", job.job_id)
                self.scheduler.modify_job(job.job_id, next_run_time=now)

    def _guarded(self, job_id: str, work: Job, *, record: bool) -> Job:
        """A job: skipped while shutting down, counted while it runs, failures logged (the next
        run tries again), and its run recorded when `record`."""

        async def job() -> None:
            if self._closing:
                return
            self._running += 1
            self._idle.clear()
            try:
                started = self.dispatcher.clock()
                failure = await self._attempt(job_id, work)
                if failure is _SKIPPED:
                    return
                if record:
                    await self._record(job_id, started=started, failure=failure)
            finally:
                self._running -= 1
                if self._running == 0:
                    self._idle.set()

        # Tracebacks and APScheduler's own lines name the job, not `_guarded.<locals>.job`.
        job.__name__ = job.__qualname__ = job_id
        return job

    @staticmethod
    async def _attempt(job_id: str, work: Job) -> str | None:
        """Run the work; None when it went well, else the error's class."""
        try:
            await work()
        except _NotLeader:
            return _SKIPPED
        except Exception as error:
            logger.exception("job %s failed; the next run tries again", job_id)
            # The class only: a message may carry personal data, and the row is shown as is.
            return type(error).__name__
        return None

    async def _record(self, job_id: str, *, started: datetime, failure: str | None) -> None:
        try:
            async with transaction(self.sessions) as session:
                await job_runs.record_run(session, job_id=job_id, started=started, failure=failure)
        except Exception:
            logger.exception("the run of job %s could not be recorded", job_id)

    def running(self) -> tuple[bool, str]:
        """Whether the jobs run (a readiness probe): started, and neither paused nor stopping."""
        if self._closing or self.scheduler.state != STATE_RUNNING:
            return False, "the dispatcher and its jobs are stopped"
        return True, ""

    def poke(self) -> None:
        """Dispatch soon: something may just have been written to the outbox. Pokes within
        POKE_DELAY share one dispatch, so a busy chat does not run one per update."""
        if self.scheduler.get_job(POKE_JOB) is None:
            self.scheduler.add_job(
                self.tick,
                DateTrigger(run_date=self.dispatcher.clock() + POKE_DELAY),
                id=POKE_JOB,
                name=POKE_JOB,
            )

    def _at(self, moment: datetime) -> None:
        self.scheduler.add_job(
            self.tick,
            DateTrigger(run_date=moment),
            id=NEXT_JOB,
            name=NEXT_JOB,
            replace_existing=True,
        )

    async def _dispatch(self) -> None:
        """Send what is due, then wake again exactly when the next row falls due."""
        await self.dispatcher.run_due()
        upcoming = await self.dispatcher.next_due()
        if not self._closing and upcoming is not None and upcoming - self.dispatcher.clock() < TICK:
            self._at(max(upcoming, self.dispatcher.clock()))

    async def _recover(self) -> None:
        await self.dispatcher.recover(stale_after=self.recover_after)

    def _in_transaction(self, work: Callable[[AsyncSession, datetime], Awaitable[object]]) -> Job:
        async def run() -> None:
            async with transaction(self.sessions) as session:
                await work(session, self.dispatcher.clock())
            self.poke()

        return run

    @staticmethod
    async def _expire(session: AsyncSession, now: datetime) -> None:
        await booking.expire_requests(session, now=now)

    @staticmethod
    async def _nudges(session: AsyncSession, now: datetime) -> None:
        await notifications.plan_nudges(session, now=now)

    @staticmethod
    async def _agenda(session: AsyncSession, now: datetime) -> None:
        await notifications.plan_morning_agenda(session, now=now)

    @staticmethod
    async def _notice_end(session: AsyncSession, now: datetime) -> None:
        await notice_end.end_notices(session, now=now)

    async def shutdown(self) -> None:
        """Stop waking; let the batch in flight finish (APScheduler would cancel it midway and
        leave rows `sending`) and every running job end before the database closes."""
        if not self.scheduler.running:
            return
        self._closing = True
        self.scheduler.pause()
        await self.dispatcher.stop()
        await self._idle.wait()
        self.scheduler.shutdown(wait=False)
