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
    """Horizontal grouped bars; each bar ends with its value as text; series differ by pattern."""
    label_w, bar_w, row_h, bar_h = 220, 300, 18 * max(1, len(series)) + 14, 16
    height = 40 + row_h * max(1, len(labels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{chart_id}-title" '
             f'viewBox="0 0 {label_w + bar_w + 80} {height}" width="100%" class="chart">',
             f'<title id="{chart_id}-title">{escape(title)}</title>', PATTERNS.format(p=chart_id)]
    kinds = ["solid", "hatch"]
    x = label_w
    for i, (name, _) in enumerate(series):  # legend
        lx = x + i * 170
        parts.append(f'<rect x="{lx}" y="6" width="14" height="14" fill="url(#{chart_id}-{kinds[i % 2]})" '
                     f'stroke="#1b1f24"/><text x="{lx + 20}" y="18" font-size="12">{escape(name)}</text>')
    for r, label in enumerate(labels):
        y0 = 32 + r * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y0 + row_h / 2}" font-size="12" text-anchor="end">'
                     f'{escape(str(label))}</text>')
        for s, (_name, values) in enumerate(series):
            value = values[r]
            y = y0 + s * 18
            if value is None or value is SUPPRESSED:  # the same words as the table holding these numbers
                text = MARKER if value is SUPPRESSED else NO_DATA
                parts.append(f'<text x="{x + 4}" y="{y + 12}" font-size="11">{escape(text)}</text>')
                continue
            w = 0 if not maximum else max(1, bar_w * float(value) / maximum)
            parts.append(f'<rect x="{x}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="url(#{chart_id}-{kinds[s % 2]})" stroke="#1b1f24"/>'
                         f'<text x="{x + w + 4:.1f}" y="{y + 12}" font-size="11">{escape(str(value))}{unit}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_maximum(values) -> float:
    """The scale of a count chart: the largest value shown (held-back and empty values do not count), at least 1."""
    return max([v for v in values if isinstance(v, (int, float))] + [1])
