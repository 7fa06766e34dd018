"""The issuer's monthly report as CSV: one row per office, one column per figure.

There is no total row, so that a spreadsheet may sum any column; the PDF shows the totals.
Order references name the stuck cards; nothing in the file names a person.
"""

from __future__ import annotations

import csv
import io

from models.meetings import FailureReason
from payout.report import AGE_RANGES, STUCK_DAYS, MonthReport

HEADER = (
    "month",
    "office_code",
    "office_name",
    "handouts",
    *(f"failed_{reason.value}" for reason in FailureReason),
    "failed_total",
    "extra_meetings",
    "attendance_confirmed",
    "attendance_not_confirmed",
    *(f"in_custody_{age_range.key}_days" for age_range in AGE_RANGES),
    f"stuck_{STUCK_DAYS}_days",
    "stuck_order_refs",
)


def render_report_csv(report: MonthReport) -> bytes:
    """UTF-8 CSV with a header row; stuck cards' order references are separated by spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for office in report.offices:
        writer.writerow(
            (
                report.month,
                office.code,
                office.name,
                office.handouts,
                *(office.failed.get(reason, 0) for reason in FailureReason),
                office.failed_total,
                office.extra_meetings,
                office.attendance_confirmed,
                office.attendance_not_confirmed,
                *office.custody_ages,
                len(office.stuck),
                " ".join(office.stuck),
            )
        )
    return buffer.getvalue().encode("utf-8")
