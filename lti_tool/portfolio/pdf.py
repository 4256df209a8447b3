"""PDF exports (reportlab): a whole portfolio, and the tutor's summary with signature lines.

Kazakh and Russian need a Cyrillic font with the Kazakh letters (ә ғ қ ң ө ұ ү һ і): DejaVu
Sans from Debian's fonts-dejavu-core by default ([portfolio] pdf_font, pdf_font_bold).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path

from flask_babel import gettext as _, lazy_gettext as _l

from ..errors import ToolError
from .models import Entry, Portfolio, Summary
from .rubric import Rubric
from .service import Totals

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEFAULT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
_lock = threading.Lock()
_registered: dict[str, tuple[str, str]] = {}


class PdfFontMissing(ToolError):
    """The configured PDF font is not installed."""

    status = 500
    code = "pdf_font_missing"
    message = _l("PDF export is not available: the font it needs is not installed on the server.")


def _fonts(settings: dict) -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    options = settings.get("portfolio", {})
    regular = options.get("pdf_font") or DEFAULT_FONT
    bold = options.get("pdf_font_bold") or DEFAULT_BOLD
    key = f"{regular}|{bold}"
    with _lock:
        if key not in _registered:
            for path in (regular, bold):
                if not Path(path).is_file():
                    raise PdfFontMissing(detail=f"missing font file {path} (install "
                                                "fonts-dejavu-core or set portfolio.pdf_font)")
            names = (f"PF{len(_registered)}", f"PF{len(_registered)}B")
            pdfmetrics.registerFont(TTFont(names[0], regular))
            pdfmetrics.registerFont(TTFont(names[1], bold))
            _registered[key] = names
        return _registered[key]


def _doc(title: str, settings: dict):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    regular, bold = _fonts(settings)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=title, leftMargin=18 * mm,
                            rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm)
    styles = {
        "h1": ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=8),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12.5, leading=16, spaceBefore=10,
                             spaceAfter=4),
        "h3": ParagraphStyle("h3", fontName=bold, fontSize=10.5, leading=13, spaceBefore=6,
                             spaceAfter=2),
        "p": ParagraphStyle("p", fontName=regular, fontSize=9.5, leading=12.5, spaceAfter=4),
        "small": ParagraphStyle("small", fontName=regular, fontSize=8, leading=10,
                                textColor=colors.HexColor("#5b6478")),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5),
        "cellb": ParagraphStyle("cellb", fontName=bold, fontSize=8.5, leading=10.5),
    }
    return buffer, doc, styles


def _text(value) -> str:
    from xml.sax.saxutils import escape

    return escape(str(value if value is not None else "")).replace("\n", "<br/>")


def _table(rows: Sequence[Sequence], styles: dict, widths=None, header: bool = True):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [[Paragraph(_text(v), styles["cellb" if header and i == 0 else "cell"]) for v in row]
             for i, row in enumerate(rows)]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8c0cc")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7") if header else colors.white),
    ]))
    return table


def portfolio_pdf(portfolio: Portfolio, entries: Sequence[Entry], totals: Totals, rubric: Rubric,
                  summaries: Sequence[Summary], *, settings: dict, locale: str,
                  status_names: dict, level_names: dict, gpa: dict | None) -> bytes:
    """The whole portfolio as a PDF (Section I, totals, Sections II and III, summaries)."""
    from reportlab.platypus import Paragraph, Spacer

    buffer, doc, s = _doc(_("Portfolio"), settings)
    story = [Paragraph(_text(portfolio.full_name or portfolio.user.display_name), s["h1"]),
             Paragraph(_text(rubric.names.get(locale)), s["small"]), Spacer(1, 6)]
    story.append(Paragraph(_text(_("Section I. My portrait")), s["h2"]))
    profile = [
        (_("Full name"), portfolio.full_name), (_("Year of birth"), portfolio.birth_year or ""),
        (_("Year of admission"), portfolio.admission_year or ""),
        (_("Faculty"), portfolio.faculty), (_("Course year"), portfolio.course_year or ""),
        (_("Group"), portfolio.group_name), (_("Specialty"), portfolio.specialty)]
    story.append(_table(profile, s, widths=[120, None], header=False))
    for label, text in ((_("Essay: why did I choose medicine? Who do I want to become?"),
                         portfolio.essay), (_("My goals"), portfolio.goals),
                        (_("Analysis of what I achieved"), portfolio.analysis)):
        if text:
            story += [Paragraph(_text(label), s["h3"]), Paragraph(_text(text), s["p"])]
    story.append(Paragraph(_text(_("Points")), s["h2"]))
    years = range(1, rubric.course_years + 1)
    rows = [[_("Course year"), _("GPA"), _("Claimed"), _("Verified")]]
    for year in years:
        g = (gpa or {}).get(year)
        rows.append([year, "" if g is None or g.gpa is None else f"{g.gpa:.2f}",
                     totals.claimed_for(year=year), totals.verified_for(year=year)])
    rows.append([_("Total"), "", totals.claimed_total, totals.verified_total])
    story.append(_table(rows, s, widths=[80, 60, 80, 80]))
    for section in ("achievements", "chest"):
        chosen = [e for e in entries if e.section == section]
        story.append(Paragraph(_text(rubric.sections[section].get(locale)), s["h2"]))
        if not chosen:
            story.append(Paragraph(_text(_("No entries yet.")), s["p"]))
            continue
        rows = [[_("Year"), _("Entry"), _("Level and result"), _("Claimed"), _("Verified"),
                 _("Status")]]
        for e in chosen:
            entry_list = rubric.lists.get(e.list_key)
            item = entry_list.item(e.item_key) if entry_list else None
            what = [entry_list.names.get(locale) if entry_list else e.list_key, e.title]
            what += [f"{c.names.get(locale)}: {e.fields.get(c.key)}"
                     for c in (entry_list.columns if entry_list else ())
                     if c.key != "title" and e.fields.get(c.key)]
            level = rubric.levels(item).get(e.level) if item and e.level else None
            result = item.result(e.result) if item and e.result else None
            grade = ", ".join(x for x in (level.get(locale) if level else "",
                                          result.names.get(locale) if result else "",
                                          f"× {e.count}" if item and item.counted else "") if x)
            rows.append([e.course_year, "\n".join(str(x) for x in what if x), grade,
                         e.claimed_points, "" if e.verified_points is None else e.verified_points,
                         status_names.get(e.status, e.status)])
        story.append(_table(rows, s, widths=[28, 210, 100, 45, 45, 60]))
    for summary in summaries:
        story += summary_story(summary, portfolio, s, level_names)
    doc.build(story)
    return buffer.getvalue()


def summary_story(summary: Summary, portfolio: Portfolio, s: dict, level_names: dict) -> list:
    """The summary as flowables (used on its own and at the end of a portfolio)."""
    from reportlab.platypus import Paragraph, Spacer

    names = level_names
    rows = [
        (_("Student"), portfolio.full_name or portfolio.user.display_name),
        (_("Course and group"), f"{summary.course_year} / {summary.group_name}"),
        (_("Academic year"), summary.academic_year),
        (_("Academic achievement"), " ".join(x for x in (
            str(names.get(summary.academic_level, summary.academic_level)),
            f"(GPA {summary.gpa})" if summary.gpa else "") if x)),
        (_("Level of personal achievements"), " ".join(x for x in (
            str(names.get(summary.achievement_level, summary.achievement_level)),
            f"({summary.points})") if x)),
        (_("Activity in research, creative and sports work"), summary.activity),
        (_("Striving for self-development"), summary.self_development),
        (_("Areas of competence"), summary.competences),
        (_("Tutor's remarks"), summary.remarks),
        (_("Department"), summary.department),
        (_("Date"), summary.summary_date.isoformat() if summary.summary_date else ""),
    ]
    story = [Paragraph(_text(_("Tutor summary") + f" {summary.academic_year}"), s["h2"]),
             _table(rows, s, widths=[150, None], header=False), Spacer(1, 18)]
    for who, name in ((_("Tutor"), summary.tutor_name),
                      (_("Head of department"), summary.head_name)):
        story.append(Paragraph(_text(f"{who}: {name}    ______________________  "
                                     f"({_('signature')})"), s["p"]))
        story.append(Spacer(1, 10))
    return story


def summary_pdf(summary: Summary, portfolio: Portfolio, *, settings: dict,
                level_names: dict) -> bytes:
    """One tutor summary as a printable PDF with signature lines."""
    buffer, doc, s = _doc(_("Tutor summary"), settings)
    doc.build(summary_story(summary, portfolio, s, level_names))
    return buffer.getvalue()
