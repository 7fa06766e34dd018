"""The payroll file: one row per line, no personnummer and no card user's name."""

from __future__ import annotations

import csv
import io

from models.zone import STOCKHOLM
from payout.money import sek
from payout.store import MonthExport

HEADER = (
    "admin_id",
    "admin_email",
    "date",
    "order_ref",
    "kind",
    "amount_sek",
    "card_number_checked",
)
# A handout whose card's number was checked, or not (the order carried none); other lines: "".
CHECKED = {True: "yes", False: "no", None: ""}


def render_csv(export: MonthExport) -> bytes:
    """UTF-8 CSV with a header row; a month without lines gives the header alone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for statement in sorted(export.statements, key=lambda s: s.admin_id):
        payee = export.payees[statement.admin_id]
        for line in statement.lines:
            writer.writerow(
                (
                    statement.admin_id,
                    payee.email,
                    line.occurred_at.astimezone(STOCKHOLM).date().isoformat(),
                    line.order_ref or "",
                    line.kind.value,
                    sek(line.amount_ore),
                    CHECKED[line.card_number_checked],
                )
            )
    return buffer.getvalue().encode("utf-8")
