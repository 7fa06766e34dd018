"""The admin's statement as a PDF, in Swedish: one page (or more) per admin.

An administrator paid through frilansfinans gets the salary statement (gross, holiday pay
included); one paid as an own company gets an invoice basis: organisation number, period, the
lines and the total to invoice.

Text is set in DejaVu Sans when the system has it (any script an admin's name may use), else
in the PDF core font Helvetica, which covers Latin-1 (å, ä, ö, «, ») and nothing beyond it:
there dashes become hyphens and anything else outside Latin-1 a question mark.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from babel.dates import format_datetime
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from models.i18n import N_, format_month, translate
from models.network import Payee as PaidAs
from models.payouts import PayoutKind
from models.zone import STOCKHOLM
from payout.money import BABEL_LOCALES, kronor
from payout.statements import Line, Statement, month_bounds
from payout.store import MonthExport, Payee

logger = logging.getLogger(__name__)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NOT_CHECKED = N_("card number not checked")


def _note(doc: _Document, line: Line) -> str:
    """The line's note, and for a handout whose order had no card number, that it was not
    checked."""
    notes = [line.note] if line.note else []
    if line.card_number_checked is False:
        notes.append(doc._(NOT_CHECKED))
    return "; ".join(notes)


KIND_LABELS = {
    PayoutKind.handout: N_("Handout"),
    PayoutKind.extra_meeting: N_("Extra meeting"),
    PayoutKind.adjustment: N_("Adjustment"),
}
PAID_AS_NOTES = {
    PaidAs.frilansfinans: N_(
        "Paid as salary through frilansfinans: the amounts are gross and include holiday pay."
    ),
    PaidAs.company: N_("The basis for the company's invoice: the amounts below, for the period."),
    None: N_("Payee not set up: salary through frilansfinans or an own company is not recorded."),
}
# Date, order reference, kind, note, amount: fractions of the text width.
COLUMNS = (16, 20, 16, 32, 16)
ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT")
_LATIN1_STAND_INS = str.maketrans({"–": "-", "—": "-", "−": "-", "’": "'", "…": "..."})


@dataclass(frozen=True, slots=True)
class _Typeface:
    family: str
    unicode: bool

    def clean(self, text: str) -> str:
        """Text the font can set."""
        if self.unicode:
            return text
        return text.translate(_LATIN1_STAND_INS).encode("latin-1", "replace").decode("latin-1")


def _typeface(pdf: FPDF, unicode_font: Path | None) -> _Typeface:
    bold = unicode_font.with_name(f"{unicode_font.stem}-Bold.ttf") if unicode_font else None
    if unicode_font and unicode_font.is_file() and bold and bold.is_file():
        pdf.add_font("dejavu", "", str(unicode_font))
        pdf.add_font("dejavu", "B", str(bold))
        return _Typeface("dejavu", unicode=True)
    if unicode_font:
        logger.info("%s is missing: the PDF uses the Latin-1 core font", unicode_font)
    return _Typeface("helvetica", unicode=False)


class _Document:
    """An FPDF document with the statement's typeface and translations."""

    def __init__(self, *, locale: str, unicode_font: Path | None, compress: bool) -> None:
        self.locale = locale
        self.babel_locale = BABEL_LOCALES.get(locale, locale)
        self.pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        self.pdf.set_compression(compress)
        self.pdf.set_margins(18, 18, 18)
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.set_lang(locale)
        self.face = _typeface(self.pdf, unicode_font)

    def _(self, message: str, **params: object) -> str:
        return self.face.clean(translate(message, self.locale).format(**params))

    def text(self, text: str, *, size: float = 10, bold: bool = False, gap: float = 0) -> None:
        """One paragraph across the page."""
        self.pdf.set_font(self.face.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            self.pdf.ln(gap)

    def money(self, ore: int) -> str:
        return self.face.clean(kronor(ore, self.locale))

    def month_name(self, month: str) -> str:
        return format_month(month, self.babel_locale)

    def moment(self, value: datetime) -> str:
        return format_datetime(
            value, "d MMMM yyyy 'kl.' HH:mm", tzinfo=STOCKHOLM, locale=self.babel_locale
        )


# The issuer's report (payout/report_pdf.py) sets its pages in the same document.
Document = _Document


def _statement_page(
    doc: _Document, month: str, statement: Statement, payee: Payee, locked_at: datetime | None
) -> None:
    pdf, _ = doc.pdf, doc._
    company = payee.paid_as == PaidAs.company
    pdf.add_page()
    title = N_("Invoice basis {month}") if company else N_("Payout {month}")
    doc.text(_(title, month=doc.month_name(month)), size=16, bold=True, gap=3)
    if company:
        doc.text(_(N_("Organisation number: {org_number}"), org_number=payee.org_number or "–"))
        doc.text(_(N_("Approved for F-tax (F-skatt).")))
        start, end = month_bounds(month)
        last_day = (end - timedelta(days=1)).astimezone(STOCKHOLM).date()
        doc.text(
            _(
                N_("Period: {first} to {last}"),
                first=start.astimezone(STOCKHOLM).date().isoformat(),
                last=last_day.isoformat(),
            )
        )
    doc.text(_(N_("Office: {office}"), office=f"{payee.office_name} ({payee.office_code})"))
    doc.text(_(N_("ID administrator: {name}"), name=payee.name))
    doc.text(_(N_("E-mail: {email}"), email=payee.email))
    doc.text(_(PAID_AS_NOTES[payee.paid_as]))
    if locked_at is None:
        doc.text(_(N_("Not locked yet: the statement may still change.")), gap=4)
    else:
        doc.text(_(N_("Locked: {moment}"), moment=doc.moment(locked_at)), gap=4)

    pdf.set_font(doc.face.family, "", 9)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=COLUMNS, text_align=ALIGN, headings_style=bold, line_height=pdf.font_size * 1.6
    ) as table:
        heading = table.row()
        for title in (N_("Date"), N_("Order reference"), N_("Kind"), N_("Note"), N_("Amount")):
            heading.cell(_(title))
        for line in statement.lines:
            row = table.row()
            row.cell(line.occurred_at.astimezone(STOCKHOLM).date().isoformat())
            row.cell(doc.face.clean(line.order_ref or "–"))
            row.cell(_(KIND_LABELS[line.kind]))
            row.cell(doc.face.clean(_note(doc, line)))
            row.cell(doc.money(line.amount_ore))
    pdf.ln(5)

    with pdf.table(
        col_widths=(40, 20, 20), text_align=("LEFT", "RIGHT", "RIGHT"), width=110, align="LEFT"
    ) as totals:
        heading = totals.row()
        for title in (N_("Kind"), N_("Count"), N_("Amount")):
            heading.cell(_(title))
        for kind in PayoutKind:
            if statement.counts[kind]:
                row = totals.row()
                row.cell(_(KIND_LABELS[kind]))
                row.cell(str(statement.counts[kind]))
                row.cell(doc.money(statement.totals[kind]))
        row = totals.row(style=bold)
        row.cell(_(N_("Total to invoice") if company else N_("Total to pay")))
        row.cell(str(len(statement.lines)))
        row.cell(doc.money(statement.total_ore))
    pdf.ln(5)
    doc.text(
        _(
            N_(
                "Amounts in Swedish kronor. Corrections are made as adjustment lines in a later "
                "statement, never by changing this one."
            )
        ),
        size=8,
    )


def render_pdf(
    export: MonthExport,
    *,
    locale: str = "sv",
    unicode_font: Path | None = DEJAVU,
    compress: bool = True,
) -> bytes:
    """One document for the month: a statement per admin, or a page saying there is nothing."""
    doc = _Document(locale=locale, unicode_font=unicode_font, compress=compress)
    title = translate(N_("Payout {month}"), locale).format(month=doc.month_name(export.month))
    doc.pdf.set_title(doc.face.clean(title))
    # A fixed creation date (and so file id): exporting a locked month again gives the same file.
    doc.pdf.set_creation_date(
        max(export.locked_at.values(), default=None) or month_bounds(export.month)[1]
    )
    for statement in sorted(export.statements, key=lambda s: s.admin_id):
        _statement_page(
            doc,
            export.month,
            statement,
            export.payees[statement.admin_id],
            export.locked_at.get(statement.admin_id),
        )
    if not export.statements:
        doc.pdf.add_page()
        doc.text(doc.face.clean(title), size=16, bold=True, gap=3)
        doc.text(doc._(N_("There are no payouts for this month.")))
    return bytes(doc.pdf.output())
