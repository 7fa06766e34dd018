"""The issuer's monthly report as a PDF, in Swedish: a summary page, then a page per office.

The charts are the dashboard's bar charts (payout.charts), set as SVG in the document's own
typeface.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fpdf.fonts import FontFace

from models.i18n import N_, translate
from models.meetings import FailureReason
from payout.charts import Bar, bar_chart
from payout.export_pdf import DEJAVU, Document
from payout.report import AGE_RANGES, STUCK_DAYS, MonthReport, OfficeFigures
from payout.statements import month_bounds

# The admin's own words for each reason (scheduler.wording has them too; payout stands on models
# alone, and the same msgids share one translation).
FAILURE_LABELS = {
    FailureReason.no_valid_id: N_("No valid ID document"),
    FailureReason.wrong_person: N_("Wrong person"),
    FailureReason.no_pin_letter: N_("No PIN letter"),
    FailureReason.no_show: N_("Did not come"),
    FailureReason.other: N_("Something else"),
}
CHART_WIDTH_MM = 174  # the text width of A4 between 18 mm margins
BOLD = FontFace(emphasis="BOLD")


def _chart(doc: Document, bars: Sequence[Bar], *, title: str, width: int = 640) -> None:
    """A titled bar chart, drawn as the dashboard draws it; on a new page if it would not fit."""
    cleaned = [Bar(doc.face.clean(bar.label), bar.value, bar.emphasis) for bar in bars]
    svg = bar_chart(cleaned, title=title, width=width, font_family=doc.face.family, tooltips=False)
    width_mm = CHART_WIDTH_MM * width / 640
    height_mm = width_mm * 220 / width
    pdf = doc.pdf
    if pdf.will_page_break(height_mm + 12):
        pdf.add_page()
    doc.text(title, bold=True, gap=1)
    pdf.image(io.BytesIO(svg.encode("utf-8")), x=pdf.l_margin, w=width_mm)
    pdf.ln(4)


def _age_bars(ages: Sequence[int]) -> list[Bar]:
    return [
        Bar(age_range.label, count, emphasis=age_range.high is None)
        for age_range, count in zip(AGE_RANGES, ages, strict=True)
    ]


def _summary(doc: Document, report: MonthReport) -> None:
    pdf, _ = doc.pdf, doc._
    pdf.set_font(doc.face.family, "", 9)
    with pdf.table(
        col_widths=(40, 14, 14, 14, 14, 14),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=BOLD,
        line_height=pdf.font_size * 1.6,
    ) as table:
        heading = table.row()
        for title in (
            N_("Office"),
            N_("Handouts"),
            N_("Failed meetings"),
            N_("Extra meetings"),
            N_("In custody"),
            N_("Stuck"),
        ):
            heading.cell(_(title))
        total = report.total
        for office, style in (*((o, None) for o in report.offices), (total, BOLD)):
            row = table.row(style=style)
            row.cell(
                doc.face.clean(f"{office.name} ({office.code})")
                if office.code
                else _(N_("All offices"))
            )
            for value in (
                office.handouts,
                office.failed_total,
                office.extra_meetings,
                office.in_custody,
                len(office.stuck),
            ):
                row.cell(str(value))
    pdf.ln(5)
    _chart(
        doc,
        [Bar(office.code, office.handouts) for office in report.offices],
        title=_(N_("Cards handed out per office")),
    )
    _chart(
        doc,
        _age_bars(total.custody_ages),
        title=_(N_("Cards in custody by age in days, all offices")),
        width=360,
    )


def _office_page(doc: Document, report: MonthReport, office: OfficeFigures) -> None:
    pdf, _ = doc.pdf, doc._
    pdf.add_page()
    doc.text(doc.face.clean(f"{office.name} ({office.code})"), size=14, bold=True, gap=3)
    rows: list[tuple[str, int, bool]] = [
        (_(N_("Handouts")), office.handouts, True),
        (_(N_("Extra meetings")), office.extra_meetings, True),
        (_(N_("Failed meetings")), office.failed_total, True),
        *((_(FAILURE_LABELS[r]), office.failed.get(r, 0), False) for r in FailureReason),
        (_(N_("Attendance confirmed by the card user")), office.attendance_confirmed, True),
        (_(N_("Attendance not confirmed")), office.attendance_not_confirmed, True),
        (_(N_("Cards in custody")), office.in_custody, True),
        *(
            (_(N_("{days} days"), days=doc.face.clean(age_range.label)), count, False)
            for age_range, count in zip(AGE_RANGES, office.custody_ages, strict=True)
        ),
        (_(N_("Stuck: in custody {days} days or more"), days=STUCK_DAYS), len(office.stuck), True),
    ]
    pdf.set_font(doc.face.family, "", 9)
    with pdf.table(
        col_widths=(60, 15),
        text_align=("LEFT", "RIGHT"),
        width=110,
        align="LEFT",
        first_row_as_headings=False,
        line_height=pdf.font_size * 1.6,
    ) as table:
        for label, value, main in rows:
            row = table.row(style=None if main else FontFace(color=(90, 90, 90)))
            row.cell(label if main else f"    {label}")
            row.cell(str(value))
    pdf.ln(3)
    if office.stuck:
        doc.text(
            _(N_("Stuck cards: {order_refs}"), order_refs=", ".join(office.stuck)), size=9, gap=3
        )
    _chart(
        doc,
        _age_bars(office.custody_ages),
        title=_(N_("Cards in custody by age in days")),
        width=360,
    )
    _chart(
        doc,
        [Bar(_(FAILURE_LABELS[r]), office.failed.get(r, 0)) for r in FailureReason],
        title=_(N_("Failed meetings by reason")),
    )


def render_report_pdf(
    report: MonthReport,
    *,
    locale: str = "sv",
    unicode_font: Path | None = DEJAVU,
    compress: bool = True,
) -> bytes:
    """The month's report: totals and charts for all offices, then each office on its own."""
    doc = Document(locale=locale, unicode_font=unicode_font, compress=compress)
    title = translate(N_("Monthly report {month}"), locale).format(
        month=doc.month_name(report.month)
    )
    doc.pdf.set_title(doc.face.clean(title))
    # A fixed creation date: the same month's report, made again unchanged, is the same file.
    doc.pdf.set_creation_date(report.counted_at)
    doc.pdf.add_page()
    doc.text(doc.face.clean(title), size=16, bold=True, gap=3)
    doc.text(doc._(N_("Cards in custody as of {moment}."), moment=doc.moment(report.counted_at)))
    if report.counted_at < month_bounds(report.month)[1]:
        doc.text(doc._(N_("The month is not over yet: the figures may still change.")))
    doc.text(
        doc._(
            N_(
                "Meetings count in the month their outcome was recorded. Extra meetings are "
                "those paid to the administrators."
            )
        ),
        size=8,
        gap=4,
    )
    _summary(doc, report)
    for office in report.offices:
        _office_page(doc, report, office)
    return bytes(doc.pdf.output())
