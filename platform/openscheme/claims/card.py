"""The printable membership card: a PDF with one credit-card-sized card per person, each with a QR
code of the person's insurance number (the lookup page reads it back, typed or scanned).

fpdf2 writes the PDF, segno draws the QR code (both pure Python). Names and scheme titles
in any script are printed with DejaVu Sans when the system has it; otherwise with the PDF
core font, where characters outside Latin-1 become "?".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
WIDTH, HEIGHT = 85.6, 54.0  # ISO/IEC 7810 ID-1, mm


@dataclass
class CardData:
    number: str  # the insurance number (the person's uid): what the QR code holds
    name: str
    scheme_title: str
    operator: str
    household: str = ""
    birth_date: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    labels: dict | None = None  # interface words: number, household, born, valid


def qr_png(text: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=8, border=2)
    return out.getvalue()


def card_pdf(cards: list[CardData]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format=(HEIGHT, WIDTH))
    pdf.set_auto_page_break(False)
    pdf.set_margins(4, 4, 4)
    unicode = FONT.exists() and FONT_BOLD.exists()
    if unicode:
        pdf.add_font("card", "", str(FONT))
        pdf.add_font("card", "B", str(FONT_BOLD))
        family = "card"
    else:
        family = "helvetica"

    def t(value: str) -> str:
        return value if unicode else value.encode("latin-1", "replace").decode("latin-1")

    for c in cards:
        words = {"number": "Insurance number", "household": "Household", "born": "Born", "valid": "Valid"} | (c.labels or {})
        pdf.add_page()
        pdf.set_fill_color(11, 94, 107)
        pdf.rect(0, 0, WIDTH, 11, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(family, "B", 8.5)
        pdf.set_xy(3, 1.5)
        pdf.multi_cell(WIDTH - 6, 4, t(c.scheme_title), max_line_height=4)
        pdf.set_text_color(29, 35, 41)
        pdf.image(io.BytesIO(qr_png(c.number)), x=WIDTH - 31, y=15, w=28, h=28)
        pdf.set_xy(4, 14)
        pdf.set_font(family, "B", 10)
        pdf.multi_cell(WIDTH - 37, 5, t(c.name))
        pdf.set_font(family, "", 6.5)
        pdf.set_x(4)
        pdf.cell(WIDTH - 37, 3.5, t(words["number"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "B", 11)
        pdf.set_x(4)
        pdf.cell(WIDTH - 37, 5.5, c.number, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 7)
        for key, value in (("household", c.household), ("born", c.birth_date)):
            if value:
                pdf.set_x(4)
                pdf.cell(WIDTH - 37, 3.6, t(f"{words[key]}: {value}"), new_x="LMARGIN", new_y="NEXT")
        if c.valid_from or c.valid_until:
            span = f"{c.valid_from.isoformat() if c.valid_from else ''} – {c.valid_until.isoformat() if c.valid_until else ''}"
            pdf.set_x(4)
            pdf.cell(WIDTH - 37, 3.6, t(f"{words['valid']}: {span}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 6)
        pdf.set_xy(4, HEIGHT - 6)
        pdf.cell(WIDTH - 8, 3, t(c.operator))
    return bytes(pdf.output())
