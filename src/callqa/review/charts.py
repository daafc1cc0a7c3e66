"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, works offline.

A bar with an ``href`` is a link (SVG ``<a>``): the dashboard's bars drill down to the calls they count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup


@dataclass
class Bar:
    label: str
    value: float
    css_class: str = ""  # e.g. "bad" / "good": colours live in the stylesheet
    title: str = ""  # tooltip
    href: str = ""  # where clicking the bar goes: the calls behind it


def _linked(bar: Bar, inner: str) -> str:
    body = f'<g class="bar {escape(bar.css_class)}"><title>{escape(bar.title or bar.label)}</title>{inner}</g>'
    return f'<a class="drill" href="{escape(bar.href)}">{body}</a>' if bar.href else body


def score_bins(scores: Sequence[float], width: int = 10) -> list[Bar]:
    """Scores 0-100 in bins of ``width`` points; 100 joins the top bin."""
    edges = list(range(0, 100, width))
    counts = [0] * len(edges)
    for score in scores:
        counts[min(int(score // width), len(edges) - 1)] += 1
    bars = []
    for lo, count in zip(edges, counts):
        hi = lo + width
        label = f"{lo}-{hi}"
        css = "bad" if hi <= 60 else "warn" if hi <= 80 else "good"
        bars.append(Bar(label, count, css, f"{count} calls scored {lo}-{hi}{'' if hi < 100 else ' (incl. 100)'}"))
    return bars


def column_chart(bars: Sequence[Bar], *, title: str, height: int = 180, bar_width: int = 38) -> Markup:
    """A vertical bar chart (used for the score histogram)."""
    top, bottom, left = 18, 34, 30
    gap = 8
    plot_h = height - top - bottom
    width = left + len(bars) * (bar_width + gap) + gap
    peak = max((b.value for b in bars), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}"/>',
    ]
    for tick in (0, peak):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for i, bar in enumerate(bars):
        x = left + gap + i * (bar_width + gap)
        h = plot_h * bar.value / peak
        y = top + plot_h - h
        # a transparent full-height target, so an empty bin can be clicked too
        parts.append(_linked(bar,
            f'<rect class="hit" x="{x}" y="{top}" width="{bar_width}" height="{plot_h}"/>'
            f'<rect x="{x}" y="{y:.1f}" width="{bar_width}" height="{h:.1f}" rx="2"/>'
            f'<text class="value" x="{x + bar_width / 2}" y="{y - 4:.1f}" text-anchor="middle">'
            f'{bar.value:g}</text>'))
        parts.append(
            f'<text class="label" x="{x + bar_width / 2}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{escape(bar.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str = "", max_value: float | None = None,
              width: int = 420, row_height: int = 26) -> Markup:
    """Horizontal bars with their labels on the left (findings per check, pass rates)."""
    label_w, value_w = 140, 56
    plot_w = width - label_w - value_w
    height = row_height * len(bars) + 8
    peak = max_value if max_value is not None else (max((b.value for b in bars), default=0) or 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * row_height
        w = plot_w * (bar.value / peak if peak else 0)
        parts.append(_linked(bar,
            f'<text class="label" x="{label_w - 8}" y="{y + row_height / 2 + 4}" text-anchor="end">'
            f"{escape(bar.label)}</text>"
            f'<rect class="track" x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row_height - 8}" rx="3"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_height - 8}" rx="3"/>'
            f'<text class="value" x="{label_w + plot_w + 6}" y="{y + row_height / 2 + 4}">'
            f"{bar.value:g}{escape(unit)}</text>"))
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass
class Series:
    label: str
    points: list[float | None]  # one per x label; None: no value there (a gap in the line)
    css_class: str = ""


def line_chart(x_labels: Sequence[str], series: Sequence[Series], *, title: str, max_value: float = 100,
               unit: str = "", width: int = 560, height: int = 220) -> Markup:
    """Lines over a shared x axis (an agent's score per batch, pass rates per batch), 0..max_value."""
    top, bottom, left, right = 14, 40, 34, 110
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(x_labels) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + (i * step if len(x_labels) > 1 else plot_w / 2), top + plot_h * (1 - v / max_value)

    parts = [f'<svg class="chart line" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0, max_value / 2, max_value):
        y = top + plot_h * (1 - tick / max_value)
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}{escape(unit)}</text>')
    for i, label in enumerate(x_labels):
        x, _ = xy(i, 0)
        parts.append(f'<text class="label" x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    for n, s in enumerate(series):
        pts = [(xy(i, v), v) for i, v in enumerate(s.points) if v is not None]
        css = escape(s.css_class or f"s{n % 8}")
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for (x, y), _ in pts)
            parts.append(f'<polyline class="series {css}" points="{path}"/>')
        for (x, y), v in pts:
            parts.append(f'<circle class="series {css}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                         f'<title>{escape(s.label)}: {v:g}{escape(unit)}</title></circle>')
        if pts:
            (x, y), _ = pts[-1]
            parts.append(f'<text class="legend {css}" x="{left + plot_w + 8}" y="{y + 4:.1f}">{escape(s.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
