"""Small charts as inline SVG, drawn on the server: no script, no library, no CDN.

Each chart has a <title> and a description for screen readers, and the page shows the
same figures as a table beside it, so nothing is only in the picture.
"""
from __future__ import annotations

from markupsafe import Markup, escape

# Two colours that keep a contrast above 4.5:1 on white, told apart by shape too (the
# second series is hatched with a lighter fill and labelled in the legend).
COLOURS = ["#1d4f91", "#b34700"]


def _scale(top: int) -> int:
    """The axis's top: four equal steps of 1, 2 or 5 times a power of ten, at or above `top`."""
    step, power = 1, 1
    while step * power * 4 < top:
        step = {1: 2, 2: 5, 5: 10}[step]
        if step == 10:
            step, power = 1, power * 10
    return step * power * 4


def columns(rows: list[dict], label: str, series: list[str], title: str, key: str = "daily") -> Markup:
    """Grouped columns: one group per row (a day), one column per series."""
    width, height, left, bottom, top_pad = 640, 240, 44, 36, 16
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    top = _scale(max([r[s] for r in rows for s in series] + [0]))
    group = plot_w / max(1, len(rows))
    bar = max(4.0, min(28.0, (group - 10) / len(series)))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="chart-{key}" preserveAspectRatio="xMinYMin meet">',
             f'<title id="chart-{key}">{escape(title)}</title>']
    for i in range(5):       # grid lines and axis labels
        value = top * i // 4
        y = top_pad + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    for g, row in enumerate(rows):
        x0 = left + g * group + (group - bar * len(series)) / 2
        for s, name in enumerate(series):
            h = plot_h * row[name] / top
            x, y = x0 + s * bar, top_pad + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[s % 2]}"><title>{escape(str(row[label]))}: '
                         f'{row[name]} {escape(name)}</title></rect>')
        text = str(row[label])[5:] if len(str(row[label])) == 10 else str(row[label])   # "MM-DD"
        parts.append(f'<text x="{left + g * group + group / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle">{escape(text)}</text>')
    for s, name in enumerate(series):     # legend
        x = left + 8 + s * 110
        parts.append(f'<rect x="{x}" y="{height - 14}" width="12" height="12" fill="{COLOURS[s % 2]}"/>')
        parts.append(f'<text x="{x + 18}" y="{height - 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(rows: list[tuple[str, int]], title: str, key: str = "bars") -> Markup:
    """Horizontal bars, largest first: a label and its count on each."""
    row_h, label_w, width = 26, 300, 640
    height = max(1, len(rows)) * row_h + 8
    top = max([n for _, n in rows] + [1])
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="chart-{key}" preserveAspectRatio="xMinYMin meet">',
             f'<title id="chart-{key}">{escape(title)}</title>']
    if not rows:
        parts.append(f'<text x="0" y="18">{escape("Nothing yet in this period.")}</text>')
    for i, (name, n) in enumerate(rows):
        y = 4 + i * row_h
        w = (width - label_w - 60) * n / top
        short = name if len(name) <= 40 else name[:39] + "\u2026"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{COLOURS[0]}"><title>{escape(name)}: {n}</title></rect>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
