"""`kortkontor status`: the jobs' last and next runs, the outbox backlog and its oldest due row;
exit 1 when a job is late or a row has waited past its retries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from models.job_runs import mark_scheduled, record_run
from models.outbox import NotificationStatus
from models.types import utcnow
from models.zone import STOCKHOLM
from scheduler.jobs import periodic_jobs
from scheduler.outbox import RETRY_SCHEDULE
from tests.factories import add, notification
from tests.kortkontor.cli_helpers import query, run_cli

JOB_IDS = [job.job_id for job in periodic_jobs()]


def jobs_ran(
    env: str, *, at: datetime, except_: str | None = None, failed: str | None = None
) -> None:
    """Every job ran well at `at` (scheduled a day before), but `except_`, which last ran
    well two days before; `failed` ran at `at` and failed."""

    async def work(session: AsyncSession) -> None:
        await mark_scheduled(session, job_ids=JOB_IDS, now=at - timedelta(days=3))
        for job_id in JOB_IDS:
            ok = at - timedelta(days=2) if job_id == except_ else at
            await record_run(session, job_id=job_id, started=ok)
            if job_id == failed:
                await record_run(session, job_id=job_id, started=at, failure="ConnectionError")

    query(env, work)


def add_row(
    env: str, *, due: datetime, status: NotificationStatus = NotificationStatus.pending
) -> int:
    """An outbox row in this state, due then."""

    async def work(session: AsyncSession) -> int:
        row = await add(session, notification(due, status=status))
        assert row.id is not None
        return row.id

    return query(env, work)


def local(moment: datetime) -> str:
    return f"{moment.astimezone(STOCKHOLM):%Y-%m-%d %H:%M:%S}"


def test_a_fresh_database_says_no_job_has_run(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "status")
    assert code == 1
    for job_id in JOB_IDS:
        [line] = [line for line in out.splitlines() if line.strip().startswith(job_id)]
        assert "har aldrig körts" in line and "FÖRSENAT" in line
    assert "Utkorgen: 0 väntar, 0 skickas nu, 0 skickade, 0 misslyckade, 0 avbrutna" in out
    assert "Ingen rad väntar på att skickas." in out
    assert "Ingen tjänst har kört jobben än: starta `kortkontor serve`." in err


def test_all_on_time_exits_0_and_shows_the_backlog(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = utcnow()
    jobs_ran(env, at=now)
    # Due a minute ago: still well within its retries.
    oldest = add_row(env, due=now - timedelta(minutes=1))
    add_row(env, due=now + timedelta(hours=1))
    add_row(env, due=now - timedelta(days=1), status=NotificationStatus.sent)
    add_row(env, due=now - timedelta(days=1), status=NotificationStatus.failed)
    code, out, err = run_cli(capsys, "status")
    assert (code, err) == (0, ""), out + err
    assert "Jobb (svensk tid):" in out
    [tick] = [line for line in out.splitlines() if line.strip().startswith("dispatch:tick")]
    assert f"senast {local(now)}: ok" in tick
    assert f"nästa {local(now + timedelta(seconds=10))}" in tick
    assert "skickar meddelanden som ska iväg" in out
    assert "Utkorgen: 2 väntar, 0 skickas nu, 1 skickade, 1 misslyckade, 0 avbrutna" in out
    due = local(now - timedelta(minutes=1))
    assert f"Äldsta förfallna rad: id {oldest}, skulle skickas {due} (väntar)" in out
    assert "Alla jobb går i tid och utkorgen hinner med." in out
    assert "+4670" not in out


def test_a_late_job_exits_1(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    now = utcnow()
    jobs_ran(env, at=now, except_="admins:agenda", failed="dispatch:tick")
    code, out, err = run_cli(capsys, "status")
    assert code == 1
    lines = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.strip().startswith(tuple(JOB_IDS))
    }
    assert "FÖRSENAT" in lines["admins:agenda"]
    assert f"senast {local(now - timedelta(days=2))}: ok" in lines["admins:agenda"]
    # A failed run is shown with its reason; the one before it went well just now.
    assert f"misslyckades (ConnectionError); senast ok {local(now)}" in lines["dispatch:tick"]
    assert "FÖRSENAT" not in lines["dispatch:tick"]
    assert "Försenade jobb: admins:agenda." in err


def test_a_row_past_its_retries_exits_1(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    now = utcnow()
    jobs_ran(env, at=now)
    add_row(env, due=now - timedelta(minutes=5))
    stuck = add_row(
        env, due=now - RETRY_SCHEDULE - timedelta(minutes=1), status=NotificationStatus.sending
    )
    code, out, err = run_cli(capsys, "status")
    assert code == 1
    assert f"Äldsta förfallna rad: id {stuck}," in out and "(skickas nu)" in out
    assert (
        "Den äldsta förfallna raden har väntat längre än alla dess försök tar (15 minuter)" in err
    )
    assert "FÖRSENAT" not in out
