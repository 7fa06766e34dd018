"""The inline SVG charts: well-formed, scaled, labelled, escaped."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import pytest

from payout.charts import Bar, bar_chart
from web.dashboard.charts import custody_age_chart, handouts_chart
from web.dashboard.figures import WeekCount, age_buckets

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def rects(root: ElementTree.Element) -> list[ElementTree.Element]:
    return root.findall(f".//{SVG}rect")


def texts(root: ElementTree.Element) -> list[str]:
    return [node.text or "" for node in root.iter(f"{SVG}text")]


def test_a_bar_chart_is_one_svg_with_a_title_and_a_bar_per_value() -> None:
    root = parse(bar_chart([Bar("a", 1), Bar("b", 4), Bar("c", 0)], title="Antal"))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Antal"  # type: ignore[union-attr]
    heights = [float(rect.get("height", "")) for rect in rects(root)]
    assert heights[1] == max(heights) and heights[0] == pytest.approx(heights[1] / 4)
    assert heights[2] == 0
    assert texts(root) == ["1", "a", "4", "b", "0", "c"]
    # Every bar has its own tooltip.
    assert [g.find(f"{SVG}title").text for g in root.findall(f"{SVG}g")] == ["a: 1", "b: 4", "c: 0"]  # type: ignore[union-attr]


def test_bars_stay_inside_the_picture() -> None:
    root = parse(bar_chart([Bar(str(n), n * 7) for n in range(12)], title="x", width=300))
    for rect in rects(root):
        x, width = float(rect.get("x", "")), float(rect.get("width", ""))
        y, height = float(rect.get("y", "")), float(rect.get("height", ""))
        assert x >= 0 and x + width <= 300
        assert y >= 0 and y + height <= 220


def test_all_zero_or_no_bars_draw_nothing_tall() -> None:
    assert all(
        float(r.get("height", "")) == 0 for r in rects(parse(bar_chart([Bar("a", 0)], title="t")))
    )
    assert rects(parse(bar_chart([], title="t"))) == []


def test_texts_are_escaped() -> None:
    svg = bar_chart([Bar("<b>&", 1)], title='"<script>"')
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert "<b>&" in texts(root)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        bar_chart([Bar("a", -1)], title="t")


def test_the_emphasised_bar_has_its_own_colour() -> None:
    root = parse(bar_chart([Bar("a", 1), Bar("b", 1, emphasis=True)], title="t"))
    fills = [rect.get("fill") for rect in rects(root)]
    assert fills[0] != fills[1]


def test_handouts_chart_labels_weeks_in_swedish() -> None:
    weeks = [WeekCount(2026, 52, date(2026, 12, 21), 3), WeekCount(2026, 53, date(2026, 12, 28), 0)]
    root = parse(handouts_chart(weeks))
    assert root.find(f"{SVG}title").text == "Utlämnade kort per vecka"  # type: ignore[union-attr]
    assert texts(root) == ["3", "v. 52", "0", "v. 53"]


def test_custody_age_chart_marks_the_stuck_bucket() -> None:
    root = parse(custody_age_chart(age_buckets([1, 2, 40])))
    assert [t for t in texts(root) if not t.isdigit()] == ["0–7", "8–14", "15–30", ">30"]
    fills = [rect.get("fill") for rect in rects(root)]
    assert fills[:3] == [fills[0]] * 3 and fills[3] != fills[0]
