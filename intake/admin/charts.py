"""Presentation helpers for the dashboard: the funnel chart's geometry (drawn
as inline SVG by the template, no JavaScript) and short durations in words.
Pure: numbers in, numbers and strings out."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass
class Bar:
    label: str
    count: int
    percent: float
    y: int
    width: float
    value_x: float


def funnel_bars(funnel, *, width: int = 420, bar_height: int = 28, gap: int = 10) -> dict:
    """Geometry for a horizontal bar chart of ``funnel`` (steps with label,
    count and percent), longest bar ``width`` wide."""
    label_width = 150
    top = max((s.count for s in funnel), default=0)
    bars = []
    for i, step in enumerate(funnel):
        w = round((width * step.count / top) if top else 0, 1)
        bars.append(Bar(step.label, step.count, step.percent, i * (bar_height + gap), w, label_width + w + 6))
    return {
        "bars": bars,
        "label_x": label_width - 8,
        "bar_x": label_width,
        "bar_height": bar_height,
        "text_y": bar_height // 2 + 5,
        "width": label_width + width + 120,
        "height": len(funnel) * (bar_height + gap),
    }


def duration_words(value: timedelta | None) -> str:
    """ "2 d 3 h", "3 h 20 min", "12 min": short enough for a dashboard cell."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
