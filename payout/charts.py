"""Inline SVG bar charts, built as strings by pure functions: the dashboard inlines them in its
pages, and the issuer's report sets the same drawing in its PDF (fpdf2 reads SVG)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 220
# Room for the values above the bars and the labels below them.
TOP = 24
BOTTOM = 28
SIDE = 8
GAP = 0.25  # of each bar's slot
BAR_FILL = "#2f6f9f"
EMPHASIS_FILL = "#b8562b"
TEXT_FILL = "#333333"
AXIS_STROKE = "#999999"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label under it, its value, and whether it should stand out."""

    label: str
    value: int
    emphasis: bool = False


def _number(value: float) -> str:
    """Coordinates with at most one decimal, without trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    width: int = WIDTH,
    height: int = HEIGHT,
    font_family: str = "sans-serif",
    tooltips: bool = True,
) -> str:
    """A bar chart as an `<svg>` element; every text in it is escaped, so it can be inlined.

    A PDF names the font it has embedded as `font_family`, and leaves out the `<title>`
    tooltips, which paper cannot show.
    """
    if any(bar.value < 0 for bar in bars):
        raise ValueError("a bar chart shows counts, which are never negative")
    top = max((bar.value for bar in bars), default=0) or 1
    plot = height - TOP - BOTTOM
    slot = (width - 2 * SIDE) / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{escape(font_family)}" font-size="12">',
        f"<title>{escape(title)}</title>" if tooltips else "",
        f'<line x1="{SIDE}" y1="{height - BOTTOM}" x2="{width - SIDE}" y2="{height - BOTTOM}" '
        f'stroke="{AXIS_STROKE}" stroke-width="1"/>',
    ]
    for index, bar in enumerate(bars):
        bar_height = plot * bar.value / top
        x = SIDE + index * slot + slot * GAP / 2
        y = height - BOTTOM - bar_height
        middle = _number(SIDE + index * slot + slot / 2)
        label, fill = escape(bar.label), EMPHASIS_FILL if bar.emphasis else BAR_FILL
        parts.append(
            f'<g class="bar">{f"<title>{label}: {bar.value}</title>" if tooltips else ""}'
            f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(slot * (1 - GAP))}" '
            f'height="{_number(bar_height)}" fill="{fill}"/>'
            f'<text x="{middle}" y="{_number(y - 6)}" text-anchor="middle" '
            f'fill="{TEXT_FILL}">{bar.value}</text>'
            f'<text x="{middle}" y="{height - BOTTOM + 18}" text-anchor="middle" '
            f'fill="{TEXT_FILL}">{label}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
