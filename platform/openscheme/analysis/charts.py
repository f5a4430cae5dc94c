"""Charts as server-rendered SVG: no JavaScript, no chart library, no CDN.

Bars are drawn from plain (label, value) pairs; every label is escaped. The SVG is inline in
the page (it is markup, not script, so the CSP needs nothing), scales to the screen width,
and carries a <title> per bar for a tooltip and for screen readers.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from markupsafe import Markup

from ..formulas import show

COLOURS = ["#0b5e6b", "#3c8d99", "#7fb7be", "#d6a23a", "#b5523b", "#6a4c93", "#5b6670"]


def _num(value) -> float:
    return float(Decimal(value or 0))


def bars(items: list[tuple[str, object]], *, title: str = "", width: int = 560, colour: str = COLOURS[0],
         lang: str = "en") -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; numbers as `lang` writes them."""
    items = list(items)
    row, label_w, pad = 22, 150, 6
    height = max(1, len(items)) * row + 28
    top = max((_num(v) for _, v in items), default=0) or 1
    bar_w = width - label_w - 70
    out = [f'<svg class="an-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
           f'<text x="0" y="14" font-size="13" font-weight="600">{escape(title)}</text>']
    if not items:
        out.append('<text x="0" y="40" font-size="12" fill="#5b6670">0</text>')
    for i, (label, value) in enumerate(items):
        y = 24 + i * row
        w = max(0.0, _num(value) / top * bar_w)
        text = escape(str(label))
        short = text if len(str(label)) <= 22 else escape(str(label)[:21]) + "…"
        out.append(f'<text x="{label_w - pad}" y="{y + 14}" font-size="12" text-anchor="end">{short}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 7}" fill="{colour}">'
                   f'<title>{text}: {escape(show(Decimal(str(value or 0)), lang))}</title></rect>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="12">{escape(show(Decimal(str(value or 0)), lang))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def columns(items: list[tuple[str, object]], *, title: str = "", width: int = 560, height: int = 180,
            colour: str = COLOURS[1], lang: str = "en") -> Markup:
    """Vertical columns over time (months, cycles); numbers as `lang` writes them."""
    items = list(items)
    top = max((_num(v) for _, v in items), default=0) or 1
    base, left = height - 22, 4
    slot = (width - left) / max(1, len(items))
    out = [f'<svg class="an-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
           f'<text x="0" y="14" font-size="13" font-weight="600">{escape(title)}</text>']
    if not items:
        out.append(f'<text x="{left}" y="{base}" font-size="12" fill="#5b6670">0</text>')
    for i, (label, value) in enumerate(items):
        h = _num(value) / top * (base - 30)
        x = left + i * slot
        shown = escape(show(Decimal(str(value or 0)), lang))
        out.append(f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{max(1.0, slot - 4):.1f}" height="{h:.1f}" '
                   f'fill="{colour}"><title>{escape(str(label))}: {shown}</title></rect>')
        if len(items) <= 14:
            out.append(f'<text x="{x + slot / 2:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">'
                       f'{escape(str(label))}</text>')
    out.append("</svg>")
    return Markup("".join(out))
