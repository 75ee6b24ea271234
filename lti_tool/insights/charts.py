"""Inline SVG charts rendered on the server: labelled values and patterns, readable without colour."""
from __future__ import annotations

from markupsafe import Markup, escape

from ..services.insights import MARKER, SUPPRESSED

NO_DATA = "no data"

PATTERNS = """<defs>
<pattern id="{p}-solid" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#0b5cad"/></pattern>
<pattern id="{p}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#1b1f24"/></pattern>
</defs>"""


def bar_chart(chart_id: str, title: str, labels: list[str], series: list[tuple[str, list]], maximum: float,
              unit: str = "") -> Markup:
    """Horizontal grouped bars; each group's label above its bars, each bar ends with its value as text;
    series differ by pattern. Drawn 400 units wide (shown at most 480 px wide, see app.css), so its text
    stays readable on a 390 px phone as on a desktop."""
    width, bar_w, bar_h, gap = 400, 300, 16, 4
    group_h = 18 + len(series) * (bar_h + gap) + 10
    legend_h = 22 * len(series) + 6
    height = legend_h + group_h * max(1, len(labels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{chart_id}-title" '
             f'viewBox="0 0 {width} {height}" class="chart">',
             f'<title id="{chart_id}-title">{escape(title)}</title>', PATTERNS.format(p=chart_id)]
    kinds = ["solid", "hatch"]
    for i, (name, _) in enumerate(series):  # legend, one line per series
        ly = 4 + i * 22
        parts.append(f'<rect x="0" y="{ly}" width="14" height="14" fill="url(#{chart_id}-{kinds[i % 2]})" '
                     f'stroke="#1b1f24"/><text x="20" y="{ly + 12}" font-size="13">{escape(name)}</text>')
    for r, label in enumerate(labels):
        y0 = legend_h + r * group_h
        parts.append(f'<text x="0" y="{y0 + 13}" font-size="13" font-weight="bold">{escape(str(label))}</text>')
        for s, (_name, values) in enumerate(series):
            value = values[r]
            y = y0 + 18 + s * (bar_h + gap)
            if not isinstance(value, (int, float)):  # the same words as the table holding these numbers
                text = MARKER if value is SUPPRESSED else NO_DATA if value is None else str(value)
                parts.append(f'<text x="4" y="{y + 12}" font-size="13">{escape(text)}</text>')
                continue
            w = 0 if not maximum else max(1, bar_w * float(value) / maximum)
            parts.append(f'<rect x="0" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="url(#{chart_id}-{kinds[s % 2]})" stroke="#1b1f24"/>'
                         f'<text x="{w + 4:.1f}" y="{y + 12}" font-size="13">{escape(str(value))}{unit}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_maximum(values) -> float:
    """The scale of a count chart: the largest value shown (held-back and empty values do not count), at least 1."""
    return max([v for v in values if isinstance(v, (int, float))] + [1])
