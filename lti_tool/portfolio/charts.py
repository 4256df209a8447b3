"""Small SVG bar charts drawn on the server (no scripts, no CDN, no inline styles: CSP)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 44, 48, 12


@dataclass(frozen=True)
class Bar:
    """A labelled value."""

    label: str
    value: float
    low: float | None = None  # a range drawn over the bar (min..max)
    high: float | None = None


def _nice_max(value: float) -> float:
    """The axis top: the value rounded up to 1, 2 or 5 times a power of ten (4 grid steps)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value / 4))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 10):
        step = factor * magnitude
        if step * 4 >= value:
            return step * 4
    return value


def bar_chart(bars: Sequence[Bar], *, title: str, y_label: str = "",
              css_class: str = "chart", whole: bool = False) -> Markup:
    """An accessible SVG bar chart (role=img, a <title>), sized by viewBox for phones.

    `whole`: the values are counts, so the axis shows whole numbers only.
    """
    highest = max([b.high if b.high is not None else b.value for b in bars] or [0])
    top = max(4.0, _nice_max(highest)) if whole else _nice_max(highest)
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    n = max(1, len(bars))
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.7)
    parts = [
        (f'<svg class="{escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
         f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'),
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = top * i / 4
        y = MARGIN_TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/>')
        label = f"{value:.0f}" if top >= 4 else f"{value:.1f}"
        parts.append(f'<text class="axis" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{label}</text>')
    every = max(1, math.ceil(n / 12))  # keep labels readable on narrow charts
    for i, bar in enumerate(bars):
        x = MARGIN_LEFT + i * slot + (slot - bar_w) / 2
        h = plot_h * (bar.value / top) if top else 0
        y = MARGIN_TOP + plot_h - h
        parts.append(f'<rect class="col" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}"><title>{escape(bar.label)}: {bar.value:g}</title></rect>')
        if bar.low is not None and bar.high is not None:
            y1 = MARGIN_TOP + plot_h - plot_h * (bar.low / top)
            y2 = MARGIN_TOP + plot_h - plot_h * (bar.high / top)
            cx = x + bar_w / 2
            parts.append(f'<line class="range" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y1:.1f}" '
                         f'y2="{y2:.1f}"/>')
        if bar.value:
            parts.append(f'<text class="value" x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" '
                         f'text-anchor="middle">{bar.value:g}</text>')
        if i % every == 0:
            parts.append(f'<text class="axis" x="{x + bar_w / 2:.1f}" '
                         f'y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="middle">'
                         f'{escape(bar.label[:14])}</text>')
    if y_label:
        parts.append(f'<text class="axis" x="4" y="{MARGIN_TOP - 2}">{escape(y_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def points_per_year_chart(totals, years: int, *, title: str) -> Markup:
    """A student's verified points per course year as bars, each with a line up to the points
    claimed (so what still waits for verification shows as the line above the bar)."""
    bars = []
    for year in range(1, years + 1):
        verified, claimed = totals.verified_for(None, year), totals.claimed_for(None, year)
        bars.append(Bar(str(year), verified, verified, max(claimed, verified)))
    return bar_chart(bars, title=title, css_class="chart chart-small", whole=True)
