"""APScheduler 3's AsyncIOScheduler inside `kortkontor serve`: it wakes the dispatcher every
~10 s and exactly when the next row falls due, expires unanswered requests, plans nudges and
the admins' 07:00 agenda. The database is the only source of truth: jobs are deterministic ids
over plain functions, recomputed at start and never pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
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
# Rows a crashed process left `sending` are looked for this often, not only at start.
RECOVER_EVERY = timedelta(seconds=60)


Job = Callable[[], Awaitable[object]]


class Jobs:
    """APScheduler 3's AsyncIOScheduler around the dispatcher and the periodic jobs."""

    def __init__(self, dispatcher: Dispatcher, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.scheduler = AsyncIOScheduler(timezone=STOCKHOLM)

    def start(self) -> None:
        """Schedule everything from the database's state, and start."""
        now = self.dispatcher.clock()
        add = self.scheduler.add_job
        add(
            self._recover,
            IntervalTrigger(seconds=RECOVER_EVERY.total_seconds()),
            id="dispatch:recover",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        add(
            self.tick,
            IntervalTrigger(seconds=TICK.total_seconds()),
            id="dispatch:tick",
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        add(
            self._in_transaction(self._expire),
            IntervalTrigger(minutes=5),
            id="requests:expire",
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        add(
            self._in_transaction(self._nudges),
            CronTrigger(minute=5),
            id="cards:nudges",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        add(
            self._in_transaction(self._agenda),
            CronTrigger(hour=7, minute=0),
            id="admins:agenda",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        self.scheduler.start()

    def poke(self) -> None:
        """Dispatch now: something was just written to the outbox."""
        self._at(self.dispatcher.clock())

    def _at(self, moment: datetime) -> None:
        self.scheduler.add_job(
            self.tick, DateTrigger(run_date=moment), id="dispatch:next", replace_existing=True
        )

    async def tick(self) -> None:
        """Send what is due, then wake again exactly when the next row falls due."""
        try:
            await self.dispatcher.run_due()
            upcoming = await self.dispatcher.next_due()
        except Exception:
            logger.exception("dispatch failed; the next tick tries again")
            return
        if upcoming is not None and upcoming - self.dispatcher.clock() < TICK:
            self._at(max(upcoming, self.dispatcher.clock()))

    def _in_transaction(self, work: Callable[[AsyncSession, datetime], Awaitable[object]]) -> Job:
        async def job() -> None:
            try:
                async with transaction(self.sessions) as session:
                    await work(session, self.dispatcher.clock())
            except Exception:
                logger.exception("job %s failed", work.__name__)
                return
            self.poke()

        return job

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
        """Stop waking, let a running dispatch finish (APScheduler would cancel it midway and
        leave rows `sending`), then stop."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        await self.dispatcher.idle()
        self.scheduler.shutdown(wait=False)

    async def _recover(self) -> None:
        """Settle rows another (crashed) dispatcher left `sending`."""
        try:
            await self.dispatcher.recover()
        except Exception:
            logger.exception("recovery failed; the next run tries again")
