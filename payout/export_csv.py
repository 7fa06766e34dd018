"""The payroll file: one row per line, no personnummer and no card user's name.

The payees are kept apart: the rows of administrators paid as salary through frilansfinans come
first (their amounts are gross and include holiday pay), then those invoiced by an own company
(with its organisation number), then any whose payee is not set up (`payee` empty). The `payee`
and `org_number` columns come last, so that a reader of the first six columns reads on as before.
"""

from __future__ import annotations

import csv
import io

from models.network import Payee as PaidAs
from models.zone import STOCKHOLM
from payout.money import sek
from payout.statements import Statement
from payout.store import MonthExport

HEADER = (
    "admin_id",
    "admin_email",
    "date",
    "order_ref",
    "kind",
    "amount_sek",
    "card_number_checked",
    "payee",
    "org_number",
)
# A handout whose card's number was checked, or not (the order carried none); other lines: "".
CHECKED = {True: "yes", False: "no", None: ""}
PAYEE_ORDER = {PaidAs.frilansfinans: 0, PaidAs.company: 1, None: 2}


def render_csv(export: MonthExport) -> bytes:
    """UTF-8 CSV with a header row; a month without lines gives the header alone."""

    def order(statement: Statement) -> tuple[int, int]:
        return PAYEE_ORDER[export.payees[statement.admin_id].paid_as], statement.admin_id

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for statement in sorted(export.statements, key=order):
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
                    payee.paid_as.value if payee.paid_as else "",
                    payee.org_number or "",
                )
            )
    return buffer.getvalue().encode("utf-8")
