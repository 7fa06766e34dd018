"""APScheduler 3's AsyncIOScheduler inside `kortkontor serve`: it wakes the dispatcher every
~10 s and exactly when the next row falls due, expires unanswered requests, plans nudges and
the admins' 07:00 agenda. The database is the only source of truth: jobs are deterministic ids
over plain functions, recomputed at start and never pickled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import transaction
from scheduler import booking, notifications
from scheduler.dispatch import Dispatcher
from scheduler.slots import STOCKHOLM

logger = logging.getLogger(__name__)

TICK = timedelta(seconds=10)
POKE_JOB = "dispatch:poke"
POKE_DELAY = timedelta(seconds=1)
# Rows a crashed process left `sending` are looked for this often, not only at start.
RECOVER_EVERY = timedelta(seconds=60)


Job = Callable[[], Awaitable[object]]


class Jobs:
    """APScheduler 3's AsyncIOScheduler around the dispatcher and the periodic jobs."""

    def __init__(self, dispatcher: Dispatcher, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.scheduler = AsyncIOScheduler(timezone=STOCKHOLM)
        self._closing = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.tick = self._guarded("dispatch", self._dispatch)

    def start(self) -> None:
        """Schedule everything from the database's state, and start."""
        now = self.dispatcher.clock()
        periodic: tuple[tuple[str, Job, BaseTrigger, datetime | None], ...] = (
            (
                "dispatch:recover",
                self._guarded("recovery", self.dispatcher.recover),
                IntervalTrigger(seconds=RECOVER_EVERY.total_seconds()),
                None,
            ),
            ("dispatch:tick", self.tick, IntervalTrigger(seconds=TICK.total_seconds()), now),
            (
                "requests:expire",
                self._in_transaction(self._expire),
                IntervalTrigger(minutes=5),
                now,
            ),
            ("cards:nudges", self._in_transaction(self._nudges), CronTrigger(minute=5), None),
            (
                "admins:agenda",
                self._in_transaction(self._agenda),
                CronTrigger(hour=7, minute=0),
                None,
            ),
        )
        for job_id, job, trigger, first in periodic:
            self.scheduler.add_job(
                job,
                trigger,
                id=job_id,
                next_run_time=first,
                max_instances=1,
                coalesce=True,
                replace_existing=True,
            )
        self.scheduler.start()

    def _guarded(self, name: str, work: Job) -> Job:
        """A job: skipped while shutting down, counted while it runs, failures logged (the next
        run tries again)."""

        async def job() -> None:
            if self._closing:
                return
            self._running += 1
            self._idle.clear()
            try:
                await work()
            except Exception:
                logger.exception("job %s failed; the next run tries again", name)
            finally:
                self._running -= 1
                if self._running == 0:
                    self._idle.set()

        return job

    def poke(self) -> None:
        """Dispatch soon: something may just have been written to the outbox. Pokes within
        POKE_DELAY share one dispatch, so a busy chat does not run one per update."""
        if self.scheduler.get_job(POKE_JOB) is None:
            self.scheduler.add_job(
                self.tick,
                DateTrigger(run_date=self.dispatcher.clock() + POKE_DELAY),
                id=POKE_JOB,
            )

    def _at(self, moment: datetime) -> None:
        self.scheduler.add_job(
            self.tick, DateTrigger(run_date=moment), id="dispatch:next", replace_existing=True
        )

    async def _dispatch(self) -> None:
        """Send what is due, then wake again exactly when the next row falls due."""
        await self.dispatcher.run_due()
        upcoming = await self.dispatcher.next_due()
        if not self._closing and upcoming is not None and upcoming - self.dispatcher.clock() < TICK:
            self._at(max(upcoming, self.dispatcher.clock()))

    def _in_transaction(self, work: Callable[[AsyncSession, datetime], Awaitable[object]]) -> Job:
        async def run() -> None:
            async with transaction(self.sessions) as session:
                await work(session, self.dispatcher.clock())
            self.poke()

        return self._guarded(work.__name__, run)

    @staticmethod
    async def _expire(session: AsyncSession, now: datetime) -> None:
        await booking.expire_requests(session, now=now)

    @staticmethod
    async def _nudges(session: AsyncSession, now: datetime) -> None:
        await notifications.plan_nudges(session, now=now)

    @staticmethod
    async def _agenda(session: AsyncSession, now: datetime) -> None:
        await notifications.plan_morning_agenda(session, now=now)

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
