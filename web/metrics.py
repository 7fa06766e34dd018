"""`/metrics` in Prometheus's text format: the one module that knows prometheus-client.

The process's own events (chat updates, sends) are counted as they happen, through the small
hooks `Metrics.chat_update` and `Metrics.sent` that the composition root hands to the dialogue
and the dispatcher. What the database already records (meetings, the outbox, the jobs' runs)
is read at scrape time, so the figures agree across restarts and processes. Each app has its
own registry: nothing is global, and tests do not see each other's counts.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import job_runs, meetings
from models.meetings import FailureReason, MeetingStatus
from models.outbox import NotificationStatus
from models.types import utcnow
from scheduler import outbox

logger = logging.getLogger(__name__)

# Chat updates take milliseconds; a slow database or a long flow, up to seconds.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Figures:
    """What the database says at one scrape."""

    meetings: dict[tuple[MeetingStatus, FailureReason | None], int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    oldest_due_age: float = 0.0
    jobs: dict[str, job_runs.JobRun] = field(default_factory=dict)


async def read_figures(session: AsyncSession, *, now: datetime) -> Figures:
    """The domain's counts, the outbox's backlog and the jobs' last runs."""
    oldest = await outbox.oldest_due(session, now=now)
    return Figures(
        meetings=await meetings.tally(session),
        outbox=await outbox.count_by_status(session),
        oldest_due_age=(now - oldest.due_at).total_seconds() if oldest is not None else 0.0,
        jobs=await job_runs.all_runs(session),
    )


class DatabaseCollector:
    """Yields the figures read just before the scrape as metric families."""

    def __init__(self) -> None:
        self.figures = Figures()

    def collect(self) -> Iterator[Metric]:
        """The families Prometheus reads from the database's figures."""
        figures = self.figures
        booked = sum(figures.meetings.values())
        yield CounterMetricFamily(
            "kortkontor_bookings",
            "Meetings booked: requests made by card users, moves included.",
            value=booked,
        )
        handed_out = sum(
            count
            for (status, _), count in figures.meetings.items()
            if status == MeetingStatus.handed_out
        )
        yield CounterMetricFamily(
            "kortkontor_handouts", "Cards handed out at a meeting.", value=handed_out
        )
        failed = CounterMetricFamily(
            "kortkontor_failed_meetings", "Meetings that failed, by reason.", labels=["reason"]
        )
        for reason in FailureReason:
            count = figures.meetings.get((MeetingStatus.failed, reason), 0)
            failed.add_metric([reason.value], count)
        yield failed
        backlog = GaugeMetricFamily(
            "kortkontor_outbox_notifications",
            "Notifications in the outbox, by state.",
            labels=["status"],
        )
        for status in NotificationStatus:
            backlog.add_metric([status.value], figures.outbox.get(status.value, 0))
        yield backlog
        yield GaugeMetricFamily(
            "kortkontor_outbox_oldest_due_age_seconds",
            "How long the oldest unsent notification has been due (0 when none is).",
            value=figures.oldest_due_age,
        )
        last_ok = GaugeMetricFamily(
            "kortkontor_job_last_success_timestamp_seconds",
            "When each periodic job last ran without failing (Unix time), by any instance.",
            labels=["job"],
        )
        last_failed = GaugeMetricFamily(
            "kortkontor_job_last_run_failed",
            "1 when a periodic job's last run failed, else 0.",
            labels=["job"],
        )
        for job_id, run in sorted(figures.jobs.items()):
            if run.last_ok_at is not None:
                last_ok.add_metric([job_id], run.last_ok_at.timestamp())
            failed_last = run.outcome == job_runs.JobOutcome.failed
            last_failed.add_metric([job_id], 1.0 if failed_last else 0.0)
        yield last_ok
        yield last_failed


class Metrics:
    """The app's registry: live counters for this process, database figures at scrape time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.registry = CollectorRegistry()
        self._updates = Counter(
            "kortkontor_chat_updates",
            "Chat updates handled by this process, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self._handling = Histogram(
            "kortkontor_chat_update_seconds",
            "How long this process took to handle a chat update, by channel.",
            ["channel"],
            buckets=HANDLING_BUCKETS,
            registry=self.registry,
        )
        self._sends = Counter(
            "kortkontor_sends",
            "Notifications this process tried to send, by channel and result "
            "(sent, retry, failed, cancelled, held).",
            ["channel", "result"],
            registry=self.registry,
        )
        leader = Gauge(
            "kortkontor_leader",
            "1 when this instance holds the leader lease and runs the periodic jobs.",
            registry=self.registry,
        )
        # Read at each scrape; `kortkontor serve` sets it to its lease's answer. Alone (or on
        # SQLite) an instance leads.
        self.leader: Callable[[], bool] = lambda: True
        leader.set_function(lambda: float(self.leader()))
        self._database = DatabaseCollector()
        self.registry.register(self._database)

    def chat_update(self, channel: str, seconds: float) -> None:
        """One chat update was handled in `seconds`."""
        self._updates.labels(channel).inc()
        self._handling.labels(channel).observe(seconds)

    def sent(self, channel: str, result: str) -> None:
        """The dispatcher settled one attempt to send on `channel`."""
        self._sends.labels(channel, result).inc()

    async def exposition(self) -> bytes:
        """The text Prometheus scrapes: the database read now, then every metric."""
        async with self.sessions() as session:
            figures = await read_figures(session, now=self.clock())
        # No await between setting and rendering: a concurrent scrape cannot interleave.
        self._database.figures = figures
        return generate_latest(self.registry)


def install(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Metrics:
    """Serve /metrics with a registry of this app's own; returns it for the hooks."""
    metrics = Metrics(sessions)
    app.state.metrics = metrics
    # Whether this instance leads (the composition root sets it; read at each scrape).
    app.state.leader = lambda: True
    metrics.leader = lambda: bool(app.state.leader())
    app.include_router(router)
    return metrics


def _local(request: Request) -> bool:
    """The request comes straight from this machine: a loopback peer, not relayed by a proxy."""
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _allowed(request: Request, token: SecretStr | None) -> bool:
    """With METRICS_TOKEN, its bearer only; without it, local clients only."""
    expected = token.get_secret_value() if token is not None else ""
    if not expected:
        return _local(request)
    given = request.headers.get("authorization", "")
    return secrets.compare_digest(given.encode(), f"Bearer {expected}".encode())


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    """The metrics, to a local client or to METRICS_TOKEN's bearer."""
    if not _allowed(request, request.app.state.services.settings.metrics_token):
        raise HTTPException(status_code=403, detail="metrics are served locally or to a token")
    metrics: Metrics = request.app.state.metrics
    return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
