"""The issuer's monthly report: `kortkontor report` on a hand-computed December, its CSV and
the PDF's text read back, the month's boundaries, and bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.cards import CardStatus
from models.meetings import FailureReason, MeetingStatus
from payout.report import (
    AGE_RANGES,
    MeetingRow,
    OfficeRow,
    StatusChange,
    age_counts,
    held_at,
    month_report,
)
from payout.report_pdf import render_report_pdf
from payout.report_store import load_report
from tests.factories import ALL_TEST_PERSONNUMMER
from tests.kortkontor.cli_helpers import run_cli
from tests.payout.helpers import page_count, pdf_texts
from tests.payout.report_month import EXPECTED_CSV, MONTH, build_november

JANUARY_12 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


CARD_USERS = ("Maria", "Ahmed", "Lena", "Kim")


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`kortkontor …` in a thread of its own: the CLI runs its own event loop."""
    return await asyncio.to_thread(run_cli, capsys, *argv)


async def report_events(services: Services) -> list[AuditEvent]:
    async with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == "report.exported")
        return list((await session.exec(query)).all())


async def test_cli_writes_november_as_computed_by_hand(
    env: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_november(services)
    out = tmp_path / "rapport.csv"
    code, stdout, stderr = await cli(
        capsys, "report", "--month", MONTH, "--format", "csv", "--out", str(out)
    )
    assert (code, stderr) == (0, "")
    text = out.read_text(encoding="utf-8")
    assert text == EXPECTED_CSV
    assert not any(number in text for number in ALL_TEST_PERSONNUMMER)
    assert not any(name in text for name in CARD_USERS)
    assert (
        "Rapport 2026-11: 2 kontor, 2 utlämning(ar), 3 misslyckade möte(n), 1 kort som fastnat."
        in stdout
    )
    [event] = await report_events(services)
    assert event.data == {"month": MONTH, "format": "csv", "offices": 2}


async def test_cli_pdf_has_the_figures_and_the_charts(
    env: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await build_november(services)
    out = tmp_path / "rapport.pdf"
    code, _, stderr = await cli(
        capsys, "report", "--month", MONTH, "--format", "pdf", "--out", str(out)
    )
    assert (code, stderr) == (0, "")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) >= 3  # the summary, then an office a page


async def test_pdf_text_reads_back(services: Services) -> None:
    """Uncompressed and in the core font, so that the text can be read back."""
    await build_november(services)
    async with services.sessions() as session:
        report = await load_report(session, month=MONTH, now=JANUARY_12)
    pdf = render_report_pdf(report, unicode_font=None, compress=False)
    # The office's table indents the parts of a figure; its rows come before its charts'.
    texts = [text.strip() for text in pdf_texts(pdf)]
    assert page_count(pdf) == 3
    assert "Månadsrapport november 2026" in texts
    assert "Kort i förvaring den 1 december 2026 kl. 00:00." in texts
    # The summary: office, handouts, failed, extra meetings, in custody, stuck.
    for row in (
        ["Uppsala centrum (GBG1)", "1", "1", "0", "3", "1"],
        ["Uppsala centrum (UPS1)", "1", "2", "1", "3", "0"],
        ["Alla kontor", "2", "3", "1", "6", "1"],
    ):
        start = texts.index(row[0])
        assert texts[start : start + 6] == row
    # GBG1's page: its figures, its stuck card, and its charts' bars.
    gbg1 = texts[texts.index("Uppsala centrum (GBG1)", texts.index("Alla kontor")) :]
    assert gbg1[gbg1.index("Fel person") + 1] == "1"
    assert gbg1[gbg1.index("30+ dagar") + 1] == "1"
    assert gbg1[gbg1.index("15-29 dagar") + 1] == "1"
    assert gbg1[gbg1.index("Närvaro inte bekräftad") + 1] == "2"
    assert "Kort som fastnat: SE-22" in gbg1
    for label in ("0-7", "8-14", "15-29", "30+"):  # the age chart, as the core font sets it
        assert label in gbg1
    assert {"GBG1", "UPS1"} <= set(texts[: texts.index("Uppsala centrum (GBG1)", 20)])


def _pure_december() -> object:
    offices = [OfficeRow(1, "UPS1", "Uppsala centrum"), OfficeRow(2, "GBG1", "Göteborg centrum")]
    meetings = [
        MeetingRow(2, MeetingStatus.handed_out, utc(11, 30, 23, 30)),
        MeetingRow(1, MeetingStatus.failed, utc(12, 1, 15, 15), FailureReason.no_valid_id),
        MeetingRow(1, MeetingStatus.handed_out, utc(12, 2, 15, 15), None, utc(12, 1, 19)),
        MeetingRow(
            1, MeetingStatus.failed, utc(12, 14, 15, 15), FailureReason.no_show, utc(12, 13, 19)
        ),
        MeetingRow(1, MeetingStatus.handed_out, utc(12, 31, 23, 30)),  # January's
        MeetingRow(1, MeetingStatus.handed_out, utc(11, 30, 22, 59)),  # November's
    ]
    s, c, b, h = CardStatus.shipped, CardStatus.in_custody, CardStatus.booked, CardStatus.handed_out
    changes = [
        StatusChange(10, 2, "SE-3", utc(11, 30, 8), s, c),
        StatusChange(11, 1, "SE-2", utc(12, 10, 8), s, c),
        StatusChange(11, 1, "SE-2", utc(12, 11, 8), c, b),
        StatusChange(11, 1, "SE-2", utc(12, 14, 15), b, c),  # a failed meeting keeps the age
        StatusChange(11, 1, "SE-2", utc(12, 15, 8), c, b),
        StatusChange(12, 1, "SE-1", utc(11, 1, 8), s, c),
        StatusChange(12, 1, "SE-1", utc(12, 2, 15), c, h),
        StatusChange(13, 1, "SE-9", utc(12, 31, 23, 10), s, c),  # 00:10 on 1 January
    ]
    from models.payouts import PayoutKind
    from payout.report import PaidLine

    lines = [
        PaidLine(1, PayoutKind.extra_meeting, utc(12, 2, 15, 15)),
        PaidLine(1, PayoutKind.handout, utc(12, 2, 15, 15)),
    ]
    return month_report(
        "2026-12", offices=offices, meetings=meetings, changes=changes, lines=lines, now=JANUARY_12
    )


def test_month_report_by_hand() -> None:
    report = _pure_december()
    gbg, ups = report.offices  # type: ignore[attr-defined]
    assert (gbg.code, gbg.handouts, gbg.failed_total, gbg.stuck) == ("GBG1", 1, 0, ("SE-3",))
    assert gbg.custody_ages == (0, 0, 0, 1)
    assert (
        ups.handouts,
        ups.failed[FailureReason.no_valid_id],
        ups.failed[FailureReason.no_show],
    ) == (1, 1, 1)
    assert ups.extra_meetings == 1
    assert (ups.attendance_confirmed, ups.attendance_not_confirmed) == (2, 1)
    assert ups.custody_ages == (0, 0, 1, 0)  # SE-2: 21 days, counted from 10 December


def test_ages_at_the_range_edges() -> None:
    assert [r.label for r in AGE_RANGES] == ["0–7", "8–14", "15–29", "30+"]
    assert age_counts([0, 7, 8, 14, 15, 29, 30, 400]) == (2, 2, 2, 2)


def test_a_month_not_over_counts_custody_now() -> None:
    now = utc(12, 20, 12)
    changes = [
        StatusChange(
            1,
            1,
            "SE-1",
            now - timedelta(days=8, minutes=1),
            CardStatus.shipped,
            CardStatus.in_custody,
        )
    ]
    report = month_report(
        "2026-12",
        offices=[OfficeRow(1, "UPS1", "U")],
        meetings=[],
        changes=changes,
        lines=[],
        now=now,
    )
    assert report.counted_at == now
    assert report.offices[0].custody_ages == (0, 1, 0, 0)
    assert held_at(changes, now - timedelta(days=9)) == []


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (("--month", "2026-13", "--format", "csv"), "--month"),
        (("--month", "december", "--format", "csv"), "--month"),
        (("--month", "2026-12", "--format", "xlsx"), "--format"),
    ],
)
async def test_bad_input_exits_2_naming_the_field_and_writes_nothing(
    env: str,
    services: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    field: str,
) -> None:
    out = tmp_path / "rapport.csv"
    code, _, stderr = await cli(capsys, "report", *argv, "--out", str(out))
    assert code == 2
    assert stderr.startswith(field)
    assert not out.exists()
    assert await report_events(services) == []


async def test_a_missing_folder_exits_2(
    env: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "saknas" / "rapport.csv"
    code, _, stderr = await cli(
        capsys, "report", "--month", MONTH, "--format", "csv", "--out", str(out)
    )
    assert code == 2 and stderr.startswith("--out")
    assert await report_events(services) == []
