"""The statement as a table (CSV, XLSX) and as a printable PDF with the signature lines.

Signature lines follow the dual-training rules, 6.5: the head of department prepares and receives
the statements, the enterprise's mentor scores and hands them back certified by the organisation's
seal (6.5.3), the university teacher puts the scores on the portal (6.5.2).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path

from flask_babel import gettext as _, lazy_gettext as _l

from ..exports import printable
from ..i18n import number
from ..portfolio.pdf import PdfFontMissing
from ..settings import Settings
from .rules import ADMISSION_NOT_POSITIVE, EXAM_NOT_POSITIVE, NO_EXAM
from .service import StatementRow

REASONS = {
    ADMISSION_NOT_POSITIVE: _l("no final: admission rating below %(bound)s"),
    EXAM_NOT_POSITIVE: _l("no final: exam below %(bound)s"),
    NO_EXAM: _l("no final: no exam result yet"),
}
SIGNATURES = (
    _l("University teacher"),
    _l("Mentor of the enterprise"),
    _l("Head of department"),
)
_lock = threading.Lock()
_fonts: dict[str, tuple[str, str]] = {}


def headers() -> list[str]:
    """The statement's columns in the reader's language."""
    return [
        _("No."),
        _("Student"),
        _("RK-1"),
        _("RK-2"),
        _("Admission rating"),
        _("Exam"),
        _("Final"),
        _("Letter"),
        _("Points"),
        _("Traditional grade"),
        _("Note"),
    ]


def reason_text(reason: str, structure) -> str:
    """Why a student has no final, in the reader's language."""
    if not reason:
        return ""
    bound = (
        structure.positive_admission
        if reason == ADMISSION_NOT_POSITIVE
        else (structure.positive_exam)
    )
    return str(REASONS[reason]) % {"bound": f"{bound:g}"}


def statement_table(
    rows: Sequence[StatementRow], structure, locale: str, formatted: bool
) -> list[list]:
    """Header and one row per student; numbers as text in the reader's format when
    `formatted` (PDF), as numbers otherwise (CSV, XLSX)."""

    def show(value):
        if value is None:
            return "—" if formatted else ""
        return number(value) if formatted else float(value)

    table: list[list] = [headers()]
    for i, row in enumerate(rows, 1):
        r = row.result
        band = r.band
        table.append(
            [
                i,
                row.user.display_name,
                show(r.rk1),
                show(r.rk2),
                show(r.admission),
                show(r.exam),
                show(r.final),
                band.letter if band else "",
                (number(band.points) if formatted else float(band.points)) if band else "",
                band.traditional_name(locale) if band else "",
                reason_text(r.reason, structure),
            ]
        )
    return table


def _font_names(settings: Settings) -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = settings.portfolio.pdf_font, settings.portfolio.pdf_font_bold
    key = f"{regular}|{bold}"
    with _lock:
        if key not in _fonts:
            for path in (regular, bold):
                if not Path(path).is_file():
                    raise PdfFontMissing(detail=f"missing font file {path}")
            names = (f"ST{len(_fonts)}", f"ST{len(_fonts)}B")
            pdfmetrics.registerFont(TTFont(names[0], regular))
            pdfmetrics.registerFont(TTFont(names[1], bold))
            _fonts[key] = names
        return _fonts[key]


def _fit_header(widths: list[float], header: Sequence, font: str) -> list[float]:
    """Widths (763 pt in all: the page) in which every header word fits on a line: a narrow
    column grows to its longest word, the student and note columns give up what it takes."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    widths = list(widths)
    for i, value in enumerate(header):
        need = max((stringWidth(w, font, 8.5) for w in printable(value).split()), default=0) + 13
        if widths[i] < need:
            give = need - widths[i]
            widths[i] = need
            widths[1] -= give / 2
            widths[-1] -= give / 2
    return widths


def statement_pdf(
    table: list[list], *, title: str, heading_lines: Sequence[str], settings: Settings
) -> bytes:
    """The statement on landscape A4: heading, the table (header repeated on every page) and
    the signature lines with the place of the enterprise's seal."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _font_names(settings)
    h1 = ParagraphStyle("h1", fontName=bold, fontSize=14, leading=18, spaceAfter=4)
    p = ParagraphStyle("p", fontName=regular, fontSize=9.5, leading=12.5)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5)
    head = ParagraphStyle("head", fontName=bold, fontSize=8.5, leading=10.5)

    def text(value, style):
        return Paragraph(escape(printable(value)), style)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        title=title,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
    )
    story: list = [text(title, h1)] + [text(line, p) for line in heading_lines]
    story.append(Spacer(1, 6))
    widths = _fit_header([22, 150, 50, 50, 62, 56, 62, 50, 50, 90, 121], table[0], bold)
    cells = [[text(v, head if i == 0 else cell) for v in row] for i, row in enumerate(table)]
    grid = Table(cells, colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8a93a3")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ]
        )
    )
    story += [grid, Spacer(1, 16)]
    lines = [
        [
            text(role, p),
            text("_" * 28, p),
            text(_("(signature)"), p),
            text("_" * 34, p),
            text(_("(full name)"), p),
        ]
        for role in SIGNATURES
    ]
    lines.append([text(_("Seal of the enterprise"), p), text(_("S.P."), p), "", "", ""])
    lines.append([text(_("Date"), p), text("«____» ____________ 20___", p), "", "", ""])
    signatures = Table(lines, colWidths=[150, 150, 70, 180, 80], hAlign="LEFT")
    signatures.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)])
    )
    story.append(signatures)
    doc.build(story)
    return buffer.getvalue()
