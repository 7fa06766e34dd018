"""The dashboard's charts: handouts per week and cards in custody by age, drawn by
payout.charts (shared with the issuer's report PDF)."""

from __future__ import annotations

from collections.abc import Sequence

from payout.charts import Bar, bar_chart
from web.dashboard.figures import AgeBucket, WeekCount
from web.dashboard.texts import TEXTS, tr


def handouts_chart(weeks: Sequence[WeekCount]) -> str:
    """Handouts per ISO week, «v. 48»; the current week, still running, stands out."""
    label = tr(TEXTS["week_label"])
    bars = [
        Bar(label.format(week=week.week), week.count, emphasis=index == len(weeks) - 1)
        for index, week in enumerate(weeks)
    ]
    return bar_chart(bars, title=tr(TEXTS["chart_handouts_title"]))


def custody_age_chart(buckets: Sequence[AgeBucket]) -> str:
    """Cards in custody per age bucket; the open-ended oldest bucket (stuck cards) stands out."""
    bars = [Bar(bucket.label, bucket.count, emphasis=bucket.high is None) for bucket in buckets]
    return bar_chart(bars, title=tr(TEXTS["chart_ages_title"]), width=360)
